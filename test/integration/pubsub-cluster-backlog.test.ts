/**
 * The cluster relay's bound on a worker that falls behind, with real workers
 * (test/fixtures/pubsub-cluster-worker.ts): the subscriber blocks its event loop on a FIFO, so it
 * reads nothing from its IPC channel, while the publisher floods a topic it follows. The relay
 * keeps at most `maxBacklog` bytes queued for it and drops the rest, counted; once the subscriber
 * is released, it gets exactly what the relay sent it, and the publications after that.
 */
import { spawnSync } from 'node:child_process'
import cluster, { type Worker } from 'node:cluster'
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidArgumentError, startClusterRelay } from '../../src/index.ts'
import { Conditions } from '../helpers/conditions.ts'
import { nextMessage, stopWorker } from '../helpers/cluster.ts'

const fixture = fileURLToPath(new URL('../fixtures/pubsub-cluster-worker.ts', import.meta.url))
const MAX_BACKLOG = 512 * 1024
const FLOOD = 3000
const SIZE = 2048 // 2,732 bytes of base64 per publication: the flood is about 8 MiB on the wire

test('maxBacklog is validated', () => {
  assert.throws(() => startClusterRelay({ maxBacklog: -5 }), (e: Error) => e instanceof InvalidArgumentError && /maxBacklog must be a whole number/.test(e.message))
})

test('a worker that reads nothing: the relay queues at most maxBacklog for it and counts the rest dropped; released, it gets what was sent and what follows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-cluster-'))
  const fifo = join(dir, 'release')
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo')
  const conditions = new Conditions()
  let peak = 0
  const dropsFor = new Set<number>()
  let subscriber: Worker | undefined
  const relay = startClusterRelay({
    maxBacklog: MAX_BACKLOG,
    onSubscription: () => conditions.changed(),
    onDropped: (worker) => {
      dropsFor.add(worker.id)
      conditions.changed()
    },
  })
  const sample = (): void => {
    if (subscriber !== undefined) peak = Math.max(peak, relay.backlogOf(subscriber))
  }
  const onMessage = (): void => {
    sample()
    conditions.changed()
  }
  cluster.on('message', onMessage)
  cluster.setupPrimary({ exec: fixture, execArgv: ['--import', 'tsx'], args: [] })
  const workers: Worker[] = []
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    let fd: number
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK) // ENXIO if no worker has it open
    } catch {
      return
    }
    writeSync(fd, 'x')
    closeSync(fd)
  }
  try {
    const publisher = cluster.fork()
    subscriber = cluster.fork()
    workers.push(publisher, subscriber)
    // Both listened for at once: either may be ready first.
    await Promise.all([nextMessage(publisher, 'ready', 'publisher ready'), nextMessage(subscriber, 'ready', 'subscriber ready')])
    subscriber.send({ fixture: 'follow', topic: 'flood' })
    await nextMessage(subscriber, 'following', 'subscriber follows')
    await conditions.until(() => relay.workersOf('flood') === 1, 'the relay has the subscription')
    subscriber.send({ fixture: 'block', fifo })
    await nextMessage(subscriber, 'blocked', 'subscriber blocked')
    publisher.send({ fixture: 'flood', topic: 'flood', count: FLOOD, size: SIZE })
    await nextMessage(publisher, 'flooded', 'publisher flooded')
    // Everything the publisher sent has reached the relay: each publication was relayed or dropped.
    await conditions.until(() => relay.relayed + relay.dropped === FLOOD, `every publication relayed or dropped`, 30_000, () => `: relayed ${relay.relayed}, dropped ${relay.dropped} of ${FLOOD}`)
    sample()
    assert.ok(relay.dropped > 0, 'the blocked worker fell behind and publications were dropped')
    assert.equal([...dropsFor], [subscriber.id], 'onDropped names the worker that is behind')
    assert.ok(peak > 0 && peak <= MAX_BACKLOG, `queued for the blocked worker at most ${peak} B (bound ${MAX_BACKLOG})`)
    console.log(`  (relayed ${relay.relayed}, dropped ${relay.dropped}; at most ${(peak / 1024).toFixed(0)} KiB queued for the blocked worker)`)
    release()
    // Released, the subscriber reads its channel: it gets exactly what the relay sent it (a count
    // asked for comes after those publications on the same channel).
    const sent = relay.relayed
    let count = 0
    for (let i = 0; i < 40 && count < sent; i++) {
      subscriber.send({ fixture: 'count' })
      count = (await nextMessage<{ count: number }>(subscriber, 'count', 'subscriber count')).count
    }
    assert.is(count, sent, 'the subscriber got every publication the relay sent it')
    // And what follows goes through again.
    publisher.send({ fixture: 'flood', topic: 'flood', count: 10, size: 16 })
    await nextMessage(publisher, 'flooded', 'publisher sent ten more')
    await conditions.until(() => relay.relayed === sent + 10, 'ten more relayed', 20_000)
    for (let i = 0; i < 40 && count < sent + 10; i++) {
      subscriber.send({ fixture: 'count' })
      count = (await nextMessage<{ count: number }>(subscriber, 'count', 'subscriber count')).count
    }
    assert.is(count, sent + 10, 'publications after the release arrive')
  } finally {
    release()
    cluster.off('message', onMessage)
    await Promise.all(workers.map(stopWorker))
    relay.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
