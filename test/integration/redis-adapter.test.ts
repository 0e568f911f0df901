/**
 * The Redis adapter against a real redis-server (Debian's, started on a free loopback port by
 * the test), driven directly through a recording AdapterHost: several adapters in this process
 * stand for several processes (each has its own connections and origin id). Fan-out exactly once
 * and in per-publisher order, text and binary byte for byte, own publications not handed back,
 * one SUBSCRIBE per topic, Redis killed and restarted (degraded, counted loss, restored after a
 * verified resubscription) and a client that reconnects without resubscribing (the probe catches
 * it). Skips with a printed reason if redis-server is missing.
 */
import { Buffer } from 'node:buffer'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import { RedisAdapter, type RedisBufferListener, type RedisClientEvent, type RedisSubscriberClient } from '../../src/pubsub/redis.ts'
import { createRedisAdapter, REDIS_MISSING } from '../../src/pubsub/redis-create.ts'
import { InvalidArgumentError } from '../../src/core/errors.ts'
import { RecordingHost } from '../helpers/redis-host.ts'
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis-server.ts'

const encoder = new TextEncoder()
const execFileAsync = promisify(execFile)

function text(topic: string, value: string) {
  return { topic, data: encoder.encode(value), text: true }
}

interface Node {
  readonly adapter: RedisAdapter
  readonly host: RecordingHost
}

async function nodes(url: string, count: number, topics: string[], options: { probeTimeout?: number } = {}): Promise<Node[]> {
  const out: Node[] = []
  for (let i = 0; i < count; i++) {
    const host = new RecordingHost()
    const adapter = await createRedisAdapter({ url, maxReconnectDelay: 100, ...options })
    await adapter.attach(host)
    for (const topic of topics) {
      host.subscribed.add(topic)
      adapter.subscribe(topic)
    }
    out.push({ adapter, host })
  }
  return out
}

async function numsub(url: string, channel: string): Promise<number> {
  const admin = createClient({ url })
  await admin.connect()
  try {
    const reply = (await admin.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number]
    return Number(reply[1])
  } finally {
    await admin.close()
  }
}

/** Waits until Redis counts `expected` subscribers of `channel` (subscriptions are acknowledged asynchronously); bounded. */
async function untilNumsub(url: string, channel: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000
  for (let i = 0; i < 1000; i++) {
    if ((await numsub(url, channel)) === expected) return
    if (Date.now() > deadline) break
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.unreachable(`PUBSUB NUMSUB ${channel} never reached ${expected} (now ${await numsub(url, channel)})`)
}

async function withRedis(body: (redis: RedisServer) => Promise<void>): Promise<void> {
  const redis = await startRedis()
  try {
    await body(redis)
  } finally {
    await redis.stop()
  }
}

async function closeAll(list: Node[]): Promise<void> {
  await Promise.all(list.map((node) => node.adapter.close()))
}

if (redisSkipReason !== undefined) {
  test('redis adapter (skipped)', () => {
    console.log(`skipped: ${redisSkipReason}`)
  })
} else {
  test('three adapters: every publication reaches the others exactly once, in per-publisher order, never its own', () =>
    withRedis(async (redis) => {
      const list = await nodes(redis.url, 3, ['room'])
      try {
        await untilNumsub(redis.url, 'wsflow:room', 3)
        const perPublisher = 200
        for (let i = 0; i < perPublisher; i++) list.forEach((node, p) => node.adapter.publish(text('room', `${p}:${i}`)))
        for (const [index, node] of list.entries()) await node.host.until(() => node.host.delivered.length >= 2 * perPublisher, `node ${index}'s deliveries`)
        // One more round trip through Redis for each, so that a duplicate would have arrived.
        for (const node of list) node.adapter.publish(text('room', 'end'))
        for (const node of list) await node.host.until(() => node.host.texts().filter((t) => t === 'end').length === 2, 'the end markers')
        for (const [p, node] of list.entries()) {
          const got = node.host.texts().filter((t) => t !== 'end')
          assert.is(got.length, 2 * perPublisher, `node ${p} got each publication once`)
          assert.not.ok(got.some((t) => t.startsWith(`${p}:`)), `node ${p} got none of its own`)
          for (const q of [0, 1, 2].filter((q) => q !== p)) {
            assert.equal(got.filter((t) => t.startsWith(`${q}:`)), Array.from({ length: perPublisher }, (_, i) => `${q}:${i}`), `node ${p} got ${q}'s in order`)
          }
        }
        assert.equal(list.map((node) => node.host.lost()), [0, 0, 0])
      } finally {
        await closeAll(list)
      }
    }))

  test('text and binary payloads arrive byte for byte with their type; topics with any characters', () =>
    withRedis(async (redis) => {
      const topic = 'émoji 🎉 / * ? [x] \u0000'
      const [a, b] = await nodes(redis.url, 2, [topic])
      try {
        await untilNumsub(redis.url, `wsflow:${topic}`, 2)
        const binary = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff)
        a!.adapter.publish({ topic, data: binary, text: false })
        a!.adapter.publish(text(topic, 'héllo 🌍'))
        a!.adapter.publish({ topic, data: new Uint8Array(0), text: false })
        await b!.host.until(() => b!.host.delivered.length === 3, 'three deliveries')
        const [first, second, third] = b!.host.delivered
        assert.equal([first!.topic, first!.text, Buffer.from(first!.data).equals(Buffer.from(binary))], [topic, false, true])
        assert.equal([second!.text, new TextDecoder().decode(second!.data)], [true, 'héllo 🌍'])
        assert.equal([third!.text, third!.data.byteLength], [false, 0])
        assert.is(a!.host.delivered.length, 0)
      } finally {
        await closeAll([a!, b!])
      }
    }))

  test('one SUBSCRIBE per topic per process, idempotent; unsubscribe stops delivery', () =>
    withRedis(async (redis) => {
      const [a, b] = await nodes(redis.url, 2, [])
      try {
        b!.host.subscribed.add('t')
        for (let i = 0; i < 5; i++) b!.adapter.subscribe('t')
        await untilNumsub(redis.url, 'wsflow:t', 1)
        a!.host.subscribed.add('u')
        a!.adapter.subscribe('u')
        await untilNumsub(redis.url, 'wsflow:u', 1)
        a!.adapter.publish(text('t', 'one'))
        await b!.host.until(() => b!.host.delivered.length === 1, 'the first delivery')
        b!.host.subscribed.delete('t')
        b!.adapter.unsubscribe('t')
        b!.adapter.unsubscribe('t')
        await untilNumsub(redis.url, 'wsflow:t', 0)
        a!.adapter.publish(text('t', 'two'))
        // b publishes on a topic a has: once a got it, b's unsubscribe was long acknowledged.
        b!.adapter.publish(text('u', 'sync'))
        await a!.host.until(() => a!.host.delivered.length === 1, 'the sync message')
        assert.equal(b!.host.texts(), ['one'])
      } finally {
        await closeAll([a!, b!])
      }
    }))

  test('Redis killed and restarted: degraded, the loss counted exactly, restored after resubscribing, then flowing again', () =>
    withRedis(async (redis) => {
      const [a, b] = await nodes(redis.url, 2, ['room', 'other'])
      try {
        await untilNumsub(redis.url, 'wsflow:room', 2)
        a!.adapter.publish(text('room', 'before'))
        await b!.host.until(() => b!.host.texts().includes('before'), 'the message before the outage')
        await redis.kill()
        for (const node of [a!, b!]) await node.host.until(() => node.host.states().includes('degraded'), 'degraded')
        assert.ok(a!.adapter.degraded)
        const duringOutage = 25
        for (let i = 0; i < duringOutage; i++) assert.not.throws(() => a!.adapter.publish(text('room', `lost ${i}`)))
        await a!.host.until(() => a!.host.lost() === duringOutage, `${duringOutage} lost`)
        // A topic subscribed during the outage is subscribed once Redis is back.
        b!.host.subscribed.add('late')
        b!.adapter.subscribe('late')
        // And one unsubscribed during the outage is not subscribed again.
        b!.host.subscribed.delete('other')
        b!.adapter.unsubscribe('other')
        await redis.restart()
        for (const node of [a!, b!]) await node.host.until(() => node.host.states().at(-1) === 'restored', 'restored')
        assert.equal(a!.host.states(), ['degraded', 'restored'])
        const restored = b!.host.events.find((e) => e.type === 'restored')
        assert.equal(restored, { type: 'restored', resubscribed: 2 })
        assert.is(await numsub(redis.url, 'wsflow:room'), 2)
        assert.is(await numsub(redis.url, 'wsflow:other'), 1, 'only a resubscribed other')
        assert.is(await numsub(redis.url, 'wsflow:late'), 1)
        a!.adapter.publish(text('room', 'after'))
        a!.adapter.publish(text('late', 'late too'))
        b!.adapter.publish(text('room', 'back'))
        await b!.host.until(() => b!.host.texts().includes('late too'), 'the message after the restart')
        await a!.host.until(() => a!.host.texts().includes('back'), 'the other way')
        assert.equal(b!.host.texts(), ['before', 'after', 'late too'])
        assert.is(a!.host.lost(), duringOutage)
        assert.is(b!.host.lost(), 0)
      } finally {
        await closeAll([a!, b!])
      }
    }))

  test('a client that reconnects without resubscribing is caught by the probe and subscribed again', () =>
    withRedis(async (redis) => {
      // The subscriber forgets its subscriptions on reconnect, and lies once that a SUBSCRIBE succeeded.
      const real = createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } })
      const forgetful = new ForgetfulSubscriber(real)
      const publisher = createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } })
      const host = new RecordingHost()
      const adapter = new RedisAdapter({ publisher, subscriber: forgetful, probeTimeout: 200 })
      const [other] = await nodes(redis.url, 1, [])
      try {
        await adapter.attach(host)
        host.subscribed.add('room')
        adapter.subscribe('room')
        await untilNumsub(redis.url, 'wsflow:room', 1)
        await redis.kill()
        await host.until(() => host.states().includes('degraded'), 'degraded')
        forgetful.forgetOnReady = true
        await redis.restart()
        await host.until(() => host.states().at(-1) === 'restored', 'restored', 15_000)
        assert.ok(forgetful.lied, 'the subscriber lied once')
        assert.is(await numsub(redis.url, 'wsflow:room'), 1)
        other!.adapter.publish(text('room', 'after'))
        await host.until(() => host.texts().includes('after'), 'delivery after the restart')
      } finally {
        await adapter.close()
        await closeAll([other!])
        await Promise.all([real.close().catch(() => real.destroy()), publisher.close().catch(() => publisher.destroy())])
      }
    }))

  test('Redis down when the adapter attaches: attach resolves degraded, publications counted lost, restored once Redis starts', () =>
    withRedis(async (redis) => {
      await redis.kill()
      const host = new RecordingHost()
      host.subscribed.add('room')
      const adapter = await createRedisAdapter({ url: redis.url, maxReconnectDelay: 100 })
      let peer: Node | undefined = undefined
      try {
        await adapter.attach(host)
        assert.equal(host.states(), ['degraded'])
        adapter.subscribe('room')
        for (let i = 0; i < 3; i++) adapter.publish(text('room', `early ${i}`))
        await host.until(() => host.lost() === 3, 'three lost')
        await redis.restart()
        await host.until(() => host.states().at(-1) === 'restored', 'restored')
        ;[peer] = await nodes(redis.url, 1, [])
        peer!.adapter.publish(text('room', 'hello'))
        await host.until(() => host.texts().includes('hello'), 'delivery once Redis is up')
      } finally {
        await adapter.close()
        if (peer) await closeAll([peer])
      }
    }))

  test('Redis stalled (CLIENT PAUSE): at most maxPendingPublishes in flight, the rest dropped and counted, the in-flight ones delivered after', () =>
    withRedis(async (redis) => {
      const [b] = await nodes(redis.url, 1, ['room'])
      const host = new RecordingHost()
      const adapter = await createRedisAdapter({ url: redis.url, maxPendingPublishes: 10 })
      const admin = createClient({ url: redis.url })
      await admin.connect()
      try {
        await adapter.attach(host)
        await untilNumsub(redis.url, 'wsflow:room', 1)
        await admin.sendCommand(['CLIENT', 'PAUSE', '500', 'ALL'])
        for (let i = 0; i < 50; i++) adapter.publish(text('room', `m${i}`))
        await host.until(() => host.lost() === 40, '40 lost')
        await b!.host.until(() => b!.host.delivered.length === 10, 'the ten in flight, after the pause')
        assert.equal(b!.host.texts(), Array.from({ length: 10 }, (_, i) => `m${i}`))
        assert.equal(host.states(), [], 'a stall is not an outage')
      } finally {
        await admin.close()
        await adapter.close()
        await closeAll([b!])
      }
    }))

  test('foreign messages on a topic channel (not an envelope) are counted lost inbound, never delivered, nothing breaks', () =>
    withRedis(async (redis) => {
      const [a, b] = await nodes(redis.url, 2, ['room'])
      const admin = createClient({ url: redis.url })
      await admin.connect()
      try {
        await untilNumsub(redis.url, 'wsflow:room', 2)
        await admin.publish('wsflow:room', 'hello from a plain redis-cli')
        await admin.publish('wsflow:room', Buffer.alloc(3))
        a!.adapter.publish(text('room', 'real'))
        await b!.host.until(() => b!.host.delivered.length === 1, 'the real one')
        await b!.host.until(() => b!.host.lost('in') === 2, 'two foreign messages counted')
        assert.equal(b!.host.texts(), ['real'])
        assert.equal(b!.host.states(), [])
      } finally {
        await admin.close()
        await closeAll([a!, b!])
      }
    }))

  test('createRedisAdapter without the redis package installed rejects with REDIS_MISSING', async () => {
    // wsflow's sources copied where no node_modules can be found, run in a child process.
    const dir = mkdtempSync(join(tmpdir(), 'wsflow-no-redis-'))
    try {
      cpSync(fileURLToPath(new URL('../../src', import.meta.url)), join(dir, 'src'), { recursive: true })
      const script = join(dir, 'probe.ts')
      writeFileSync(script, "import { createRedisAdapter } from './src/pubsub/redis-create.ts'\ncreateRedisAdapter({ url: 'redis://127.0.0.1:1' }).then(() => console.log('resolved'), (e) => console.log(String(e.message)))\n")
      const tsx = pathToFileURL(fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))).href
      const { stdout } = await execFileAsync(process.execPath, ['--import', tsx, script], { cwd: dir, timeout: 30_000 })
      assert.is(stdout.trim(), REDIS_MISSING)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('bad arguments get InvalidArgumentError; a missing client is refused', async () => {
    assert.throws(() => new RedisAdapter({} as never), (e: unknown) => e instanceof InvalidArgumentError)
    const client = createClient()
    assert.throws(() => new RedisAdapter({ publisher: client, subscriber: client }), (e: unknown) => e instanceof InvalidArgumentError && /two connections/.test(e.message))
    assert.throws(() => new RedisAdapter({ publisher: client, subscriber: client.duplicate(), maxPendingPublishes: 0 }), (e: unknown) => e instanceof InvalidArgumentError)
    try {
      await createRedisAdapter({ url: 'http://x' })
      assert.unreachable('should reject')
    } catch (e) {
      assert.instance(e, InvalidArgumentError)
    }
  })
}

/** Wraps a real node-redis subscriber as a client library with socket.io #4845's bug: after a reconnect it has forgotten every subscription, and its next SUBSCRIBE resolves without being sent. */
class ForgetfulSubscriber implements RedisSubscriberClient {
  forgetOnReady = false
  lied = false
  #lieNext = false
  readonly #real: ReturnType<typeof createClient>
  readonly #wrapped = new Map<(...args: never[]) => void, () => void>()

  constructor(real: ReturnType<typeof createClient>) {
    this.#real = real
  }

  get isOpen(): boolean {
    return this.#real.isOpen
  }
  get isReady(): boolean {
    return this.#real.isReady
  }
  connect(): Promise<unknown> {
    return this.#real.connect()
  }
  on(event: RedisClientEvent, listener: (...args: any[]) => void): unknown {
    if (event !== 'ready') return this.#real.on(event, listener)
    const wrapped = (): void => {
      if (!this.forgetOnReady) return (listener as () => void)()
      this.forgetOnReady = false
      this.#lieNext = true
      void this.#real.unsubscribe().then(() => (listener as () => void)())
    }
    this.#wrapped.set(listener, wrapped)
    return this.#real.on('ready', wrapped)
  }
  off(event: RedisClientEvent, listener: (...args: any[]) => void): unknown {
    return this.#real.off(event, event === 'ready' ? (this.#wrapped.get(listener) ?? listener) : listener)
  }
  subscribe(channels: string[], listener: RedisBufferListener, bufferMode: true): Promise<unknown> {
    if (this.#lieNext) {
      this.#lieNext = false
      this.lied = true
      return Promise.resolve()
    }
    return this.#real.subscribe(channels, listener, bufferMode)
  }
  unsubscribe(channels: string[], listener: RedisBufferListener, bufferMode: true): Promise<unknown> {
    return this.#real.unsubscribe(channels, listener, bufferMode)
  }
}

test.run()
