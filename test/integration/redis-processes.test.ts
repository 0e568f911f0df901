/**
 * The Redis broker end to end: three wsflow server processes (real child processes running
 * test/helpers/redis-node.ts, each with its PubSub hub over the Redis adapter) sharing one real
 * redis-server, wsflow clients on each. Publications from each process reach every subscriber
 * exactly once (a process's own subscribers included, once) and in per-publisher order; binary
 * and text keep their type and bytes; Redis killed and restarted on the same port: no crash,
 * local delivery goes on, degraded then restored, the loss counted exactly, and messages cross
 * processes again afterwards (the subscriptions were restored). Skips if redis-server is missing.
 */
import { Buffer } from 'node:buffer'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { connect, type Message, type WebSocket } from '../../src/index.ts'
import { NodeProcess } from '../helpers/redis-processes.ts'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis-server.ts'
import { Conditions } from '../helpers/conditions.ts'

/** A wsflow client that records what it receives. */
class Client {
  readonly received: Message[] = []
  readonly #conditions = new Conditions()
  readonly ws: WebSocket

  private constructor(ws: WebSocket) {
    this.ws = ws
    void (async () => {
      try {
        for await (const message of ws) {
          this.received.push(message)
          this.#conditions.changed()
        }
      } catch {
        // closed abnormally at the end of a test
      }
    })()
  }

  static async open(port: number, topics: string[]): Promise<Client> {
    const client = new Client(await connect(`ws://127.0.0.1:${port}/`))
    for (const topic of topics) {
      await client.ws.send(`sub ${topic}`)
      await client.until(() => client.texts().includes(`subscribed ${topic}`), `subscribed ${topic}`)
    }
    return client
  }

  texts(): string[] {
    return this.received.filter((m) => m.type === 'text').map((m) => m.text())
  }

  /** The texts that are publications (not the subscription acknowledgements). */
  published(): string[] {
    return this.texts().filter((t) => !t.startsWith('subscribed '))
  }

  until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
    return this.#conditions.until(condition, what, timeout, () => ` (got ${this.received.length})`)
  }
}

async function untilNumsub(url: string, channel: string, expected: number): Promise<void> {
  const admin = createClient({ url })
  await admin.connect()
  try {
    const deadline = Date.now() + 10_000
    for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
      const reply = (await admin.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number]
      if (Number(reply[1]) === expected) return
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.unreachable(`PUBSUB NUMSUB ${channel} never reached ${expected}`)
  } finally {
    await admin.close()
  }
}

/** Runs `body` with Redis, `count` server processes and clients; everything is ended afterwards, even on failure. */
async function withCluster(count: number, body: (redis: RedisServer, nodes: NodeProcess[], clients: Client[]) => Promise<void>): Promise<void> {
  const redis = await startRedis()
  const nodes: NodeProcess[] = []
  const clients: Client[] = []
  try {
    for (let i = 0; i < count; i++) nodes.push(await NodeProcess.start(redis.url))
    await body(redis, nodes, clients)
  } finally {
    for (const client of clients) client.ws.terminate()
    await Promise.all(nodes.map((node) => node.kill()))
    await redis.stop()
  }
}

if (redisSkipReason !== undefined) {
  test('redis broker across processes (skipped)', () => {
    console.log(`skipped: ${redisSkipReason}`)
  })
} else {
  test('three processes, two subscribers each: every publication once at every subscriber, in per-publisher order', () =>
    withCluster(3, async (redis, nodes, clients) => {
      for (const node of nodes) for (let i = 0; i < 2; i++) clients.push(await Client.open(node.port!, ['room']))
      const publishers = await Promise.all(nodes.map((node) => Client.open(node.port!, [])))
      clients.push(...publishers)
      await untilNumsub(redis.url, 'wsflow:room', 3)
      const perPublisher = 100
      for (let i = 0; i < perPublisher; i++) for (const [p, publisher] of publishers.entries()) void publisher.ws.send(`pub room ${p}:${i}`)
      const subscribers = clients.slice(0, 6)
      for (const [s, subscriber] of subscribers.entries()) await subscriber.until(() => subscriber.published().length >= 3 * perPublisher, `subscriber ${s}'s messages`)
      // One more message through each process, so that a late duplicate would have arrived first.
      for (const [p, publisher] of publishers.entries()) void publisher.ws.send(`pub room end${p}`)
      for (const subscriber of subscribers) await subscriber.until(() => subscriber.published().filter((t) => t.startsWith('end')).length === 3, 'the end markers')
      for (const [s, subscriber] of subscribers.entries()) {
        const got = subscriber.published().filter((t) => !t.startsWith('end'))
        assert.is(got.length, 3 * perPublisher, `subscriber ${s}: each publication once`)
        for (let p = 0; p < 3; p++) {
          assert.equal(got.filter((t) => t.startsWith(`${p}:`)), Array.from({ length: perPublisher }, (_, i) => `${p}:${i}`), `subscriber ${s}: process ${p}'s in order`)
        }
      }
      for (const node of nodes) assert.equal(node.events, [], 'no degraded, no loss')
    }))

  test('binary and text publications keep their type and bytes across processes', () =>
    withCluster(2, async (redis, nodes, clients) => {
      const a = await Client.open(nodes[0]!.port!, ['bin', 'room'])
      const b = await Client.open(nodes[1]!.port!, ['bin', 'room'])
      clients.push(a, b)
      await untilNumsub(redis.url, 'wsflow:bin', 2)
      await untilNumsub(redis.url, 'wsflow:room', 2)
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)
      await a.ws.send(bytes)
      await a.ws.send('pub room héllo 🌍')
      for (const client of [a, b]) await client.until(() => client.received.length === 4, 'two publications')
      for (const client of [a, b]) {
        const [binary, text] = client.received.slice(2)
        assert.is(binary!.type, 'binary')
        assert.ok(Buffer.from(binary!.data).equals(Buffer.from(bytes)))
        assert.is(text!.type, 'text')
        assert.is(text!.text(), 'héllo 🌍')
      }
    }))

  test('Redis killed and restarted: local delivery goes on, degraded, the loss counted, restored, across processes again', () =>
    withCluster(2, async (redis, nodes, clients) => {
      const [n0, n1] = nodes as [NodeProcess, NodeProcess]
      const local = await Client.open(n0.port!, ['room'])
      const remote = await Client.open(n1.port!, ['room'])
      const publisher = await Client.open(n0.port!, [])
      const publisher1 = await Client.open(n1.port!, [])
      clients.push(local, remote, publisher, publisher1)
      await untilNumsub(redis.url, 'wsflow:room', 2)
      await publisher.ws.send('pub room before')
      await remote.until(() => remote.published().includes('before'), 'the message before the outage')
      await redis.kill()
      for (const node of nodes) await node.until(() => node.events.some((e) => e.type === 'degraded'), 'degraded')
      const duringOutage = 20
      for (let i = 0; i < duringOutage; i++) await publisher.ws.send(`pub room during ${i}`)
      await local.until(() => local.published().includes(`during ${duringOutage - 1}`), 'local delivery during the outage')
      await n0.until(() => n0.lost() === duringOutage, `${duringOutage} lost`)
      await redis.restart()
      for (const node of nodes) await node.until(() => node.events.at(-1)?.type === 'restored', 'restored', 15_000)
      await publisher.ws.send('pub room after')
      await publisher1.ws.send('pub room back')
      await remote.until(() => remote.published().includes('after'), 'a message across processes after the restart')
      await local.until(() => local.published().includes('back'), 'the other way')
      // In order per publisher; 'after' (through Redis) and 'back' (local at n1) come from two publishers.
      assert.equal(local.published().filter((t) => t !== 'back'), ['before', ...Array.from({ length: duringOutage }, (_, i) => `during ${i}`), 'after'])
      assert.equal(remote.published().sort(), ['after', 'back', 'before'])
      for (const node of nodes) assert.equal(node.events.filter((e) => e.type !== 'lost').map((e) => e.type), ['degraded', 'restored'])
      assert.is(n0.lost(), duringOutage)
      assert.is(n1.lost(), 0)
      assert.is(n0.events.find((e) => e.type === 'restored')?.resubscribed, 1)
    }))
}

test.run()
