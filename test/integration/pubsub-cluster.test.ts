/**
 * The node:cluster broker with real workers: this test is the primary (startClusterRelay), and
 * forks three workers (test/fixtures/pubsub-cluster-worker.ts), each a wsflow server on a port of
 * its own with a ClusterAdapter. Two wsflow clients per worker subscribe to `room`; each of the
 * six publishes 200 numbered messages; every client gets all 1,200 once, in order per
 * publisher. One client on the second worker also follows `quiet`, which a client of the first
 * publishes: the primary relays it to that worker only, and no worker gets its own publications
 * back (the workers' received counters say so). The workers are stopped by the test, and killed
 * if they do not exit.
 */
import cluster, { type Worker } from 'node:cluster'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, startClusterRelay, type PubSubStats, type WebSocket } from '../../src/index.ts'
import { nextMessage, stopWorker } from '../helpers/cluster.ts'
import { within } from '../helpers/timing.ts'

const WORKERS = 3
const CLIENTS_PER_WORKER = 2
const PER_PUBLISHER = 200
const QUIET = 50
const fixture = fileURLToPath(new URL('../fixtures/pubsub-cluster-worker.ts', import.meta.url))

test('three cluster workers: every client gets every publication once, in order per publisher; topics go only where they are followed', async () => {
  const subscriptions: (() => void)[] = []
  const relay = startClusterRelay({ onSubscription: () => subscriptions.forEach((check) => check()) })
  assert.throws(() => startClusterRelay(), (e: Error) => /a relay is running already/.test(e.message), 'one relay at a time')
  const until = (predicate: () => boolean, what: string): Promise<void> => within(new Promise<void>((resolve) => {
    const check = (): void => {
      if (predicate()) resolve()
    }
    subscriptions.push(check)
    check()
  }), 20_000, what)
  cluster.setupPrimary({ exec: fixture, execArgv: ['--import', 'tsx'], args: [] })
  const workers: Worker[] = []
  const clients: WebSocket[] = []
  try {
    const ports: number[] = []
    for (let w = 0; w < WORKERS; w++) {
      const worker = cluster.fork()
      workers.push(worker)
      ports.push((await nextMessage<{ port: number }>(worker, 'ready', `worker ${w} ready`)).port)
    }
    for (let w = 0; w < WORKERS; w++) {
      for (let k = 0; k < CLIENTS_PER_WORKER; k++) {
        const topics = w === 1 && k === 0 ? 'room,quiet' : 'room'
        clients.push(await within(connect(`ws://127.0.0.1:${ports[w]}/?topics=${topics}`), 5000, `client ${w}.${k}`))
      }
    }
    await until(() => relay.workersOf('room') === WORKERS && relay.workersOf('quiet') === 1, 'every worker subscribed at the primary')
    const total = clients.length * PER_PUBLISHER
    const collected = clients.map((client, c) => (async () => {
      const last = new Map<string, number>()
      let room = 0
      let quiet = 0
      const problems: string[] = []
      const wantQuiet = c === CLIENTS_PER_WORKER ? QUIET : 0
      while (room < total || quiet < wantQuiet) {
        const text = (await within(client.recv(), 20_000, `client ${c} at ${room} of ${total}, quiet ${quiet}`)).text()
        const [topic, publisher = '', seq = ''] = text.split(':')
        if (topic === 'quiet') {
          quiet++
          continue
        }
        room++
        const n = Number(seq)
        const previous = last.get(publisher) ?? -1
        if (n !== previous + 1) problems.push(`${publisher}: ${n} after ${previous}`)
        last.set(publisher, n)
      }
      return { room, quiet, publishers: last.size, problems }
    })())
    // Every client publishes, all at once.
    await Promise.all(clients.map(async (client, c) => {
      for (let i = 0; i < PER_PUBLISHER; i++) await client.send(`pub room room:p${c}:${i}`)
      if (c === 0) for (let i = 0; i < QUIET; i++) await client.send(`pub quiet quiet:p${c}:${i}`)
    }))
    const results = await Promise.all(collected)
    for (const [c, result] of results.entries()) {
      assert.equal(result.problems, [], `client ${c}: out of order or duplicated`)
      assert.is(result.room, total, `client ${c}: every room message`)
      assert.is(result.publishers, clients.length, `client ${c}: from every publisher`)
      assert.is(result.quiet, c === CLIENTS_PER_WORKER ? QUIET : 0, `client ${c}: quiet only where followed`)
    }
    // What each worker received through the primary: the others' publications to topics it follows, never its own.
    const fromOthers = (WORKERS - 1) * CLIENTS_PER_WORKER * PER_PUBLISHER
    for (let w = 0; w < WORKERS; w++) {
      workers[w]!.send({ fixture: 'stats' })
      const { stats } = await nextMessage<{ stats: PubSubStats }>(workers[w]!, 'stats', `worker ${w} stats`)
      assert.is(stats.received, fromOthers + (w === 1 ? QUIET : 0), `worker ${w} received`)
      assert.is(stats.published, CLIENTS_PER_WORKER * PER_PUBLISHER + (w === 0 ? QUIET : 0), `worker ${w} published`)
      assert.is(stats.dropped + stats.lost, 0, `worker ${w}: nothing dropped or lost`)
    }
    assert.is(relay.relayed, WORKERS * fromOthers + QUIET)
    // A worker that leaves is forgotten by the relay.
    for (const client of clients.splice(0, CLIENTS_PER_WORKER)) client.terminate()
    await stopWorker(workers[0]!)
    await until(() => relay.workersOf('room') === WORKERS - 1, 'the first worker forgotten')
  } finally {
    for (const client of clients) client.terminate()
    await Promise.all(workers.map(stopWorker))
    relay.close()
  }
})

test.run()
