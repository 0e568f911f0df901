/**
 * Backpressure both ways, over loopback: a consumer that stops reading makes TCP push back on the
 * producer, whose `send` then waits; memory stays bounded by the high-water marks; when the
 * consumer resumes, every message arrives, in order.
 *
 * Memory is read with `process.memoryUsage().arrayBuffers` after a forced GC (both ends live in
 * this process, so the bound covers both). The bounds are loose on purpose: they separate "bounded
 * by the high-water marks" (a few MiB) from "buffers everything" (over 100 MiB), nothing finer.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, serve, type WebSocket } from '../../src/index.ts'
import { PAIRS, withPair, type Pair } from '../helpers/peers.ts'
import { sleep, waitFor, within } from '../helpers/timing.ts'

const MiB = 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function arrayBufferBytes(): number {
  gc()
  gc()
  return process.memoryUsage().arrayBuffers
}

function numbered(i: number, size: number): Uint8Array {
  const data = new Uint8Array(size)
  new DataView(data.buffer).setUint32(0, i)
  data[size - 1] = i & 0xff
  return data
}

const seqOf = (data: Uint8Array): number => new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)

/**
 * A producer loop that records how far it got, and a sampler of `bufferedAmount` (every few ms,
 * also while `send` is waiting) that records the largest value seen.
 */
function produce(ws: WebSocket, count: number, size: number): { sent: () => number; maxBuffered: () => number; done: Promise<void> } {
  let sent = 0
  let maxBuffered = 0
  const sample = (): void => {
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount)
  }
  const sampler = setInterval(sample, 2)
  const done = (async () => {
    try {
      for (let i = 0; i < count; i++) {
        const sending = ws.send(numbered(i, size))
        sample()
        await sending
        sent++
      }
    } finally {
      clearInterval(sampler)
    }
  })()
  return { sent: () => sent, maxBuffered: () => maxBuffered, done }
}

/** Waits until the producer's count stops moving for `quiet` ms (it is blocked on `send`). */
async function waitUntilStalled(sent: () => number, quiet: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  let last = -1
  let since = Date.now()
  while (Date.now() < deadline) {
    const now = sent()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quiet) {
      return now
    }
    await sleep(20)
  }
  throw new Error(`the producer never stalled (sent ${sent()})`)
}

const COUNT = 2000
const SIZE = 64 * 1024

for (const kind of [PAIRS[0]!, PAIRS[2]!]) {
  test(`[${kind.name}] server sends ${COUNT} × 64 KiB to a client that does not read: send waits, memory stays bounded, all arrive in order`, async () => {
    await withPair(kind, {}, async (pair: Pair) => {
      const server = pair.server.wsflow!
      if (pair.client.ws !== undefined) pair.client.ws.pause() // ws: stop reading the socket
      const before = arrayBufferBytes()
      const producer = produce(server, COUNT, SIZE)
      const stalledAt = await waitUntilStalled(producer.sent, 200, 10_000)
      const grown = arrayBufferBytes() - before
      assert.ok(stalledAt < COUNT, `the producer never waited: it sent all ${COUNT} messages`)
      assert.ok(stalledAt * SIZE < 64 * MiB, `${stalledAt} messages were accepted before send waited`)
      assert.ok(producer.maxBuffered() < 8 * MiB, `server bufferedAmount reached ${producer.maxBuffered()} bytes`)
      assert.ok(server.bufferedAmount > 0, 'data is waiting on the server side')
      assert.ok(grown < 8 * MiB, `memory grew by ${(grown / MiB).toFixed(1)} MiB while the client did not read`)

      // the client reads everything, in order
      if (pair.client.ws !== undefined) pair.client.ws.resume()
      for (let i = 0; i < COUNT; i++) {
        const message = await pair.client.receive(5000)
        if (message.data.length !== SIZE || seqOf(message.data) !== i || message.data[SIZE - 1] !== (i & 0xff)) {
          assert.unreachable(`message ${i}: got #${seqOf(message.data)} of ${message.data.length} bytes`)
        }
      }
      await within(producer.done, 5000, 'producer done')
      assert.ok(producer.maxBuffered() < 8 * MiB, `server bufferedAmount reached ${producer.maxBuffered()} bytes`)
      assert.is(pair.client.wsflow?.droppedMessages ?? 0, 0)
    })
  })
}

test(`a server handler that does not iterate: a wsflow client sending 5000 × 16 KiB is pushed back by TCP, then everything arrives`, async () => {
  const count = 5000
  const size = 16 * 1024
  let openGate: () => void = () => undefined
  const gate = new Promise<void>((resolve) => {
    openGate = resolve
  })
  const received: number[] = []
  let bad = 0
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    await gate
    for await (const message of ws) {
      if (message.data.length !== size || seqOf(message.data) !== received.length) bad++
      received.push(seqOf(message.data))
    }
  })
  const client = await connect(`ws://127.0.0.1:${server.port}/`)
  try {
    const before = arrayBufferBytes()
    const producer = produce(client, count, size)
    const stalledAt = await waitUntilStalled(producer.sent, 200, 10_000)
    const grown = arrayBufferBytes() - before
    assert.ok(stalledAt < count, `the client never waited: it sent all ${count} messages`)
    assert.ok(client.bufferedAmount > 0, 'data waits on the client side: TCP pushes back')
    assert.ok(producer.maxBuffered() < 8 * MiB, `client bufferedAmount reached ${producer.maxBuffered()} bytes`)
    assert.ok(grown < 8 * MiB, `memory grew by ${(grown / MiB).toFixed(1)} MiB while the server did not read`)

    openGate()
    await within(producer.done, 15_000, 'producer done')
    await waitFor(() => received.length === count, 10_000, `all messages received (${received.length})`)
    assert.is(bad, 0, 'every message arrived whole and in order')
    assert.is(received[count - 1], count - 1)
    assert.equal(await within(client.close(1000), 3000, 'close'), { code: 1000, reason: '', wasClean: true })
  } finally {
    client.terminate()
    openGate()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('a wsflow client that stops reading makes a ws server wait (ws send callbacks stop completing)', async () => {
  await withPair(PAIRS[1]!, {}, async (pair) => {
    const ws = pair.server.ws!
    const total = 1000
    let completed = 0
    const payload = (i: number): Buffer => Buffer.from(numbered(i, SIZE))
    // ws buffers what it cannot write; its bufferedAmount shows that the socket is not draining
    for (let i = 0; i < total; i++) ws.send(payload(i), () => completed++)
    await sleep(400)
    assert.ok(ws.bufferedAmount > 16 * MiB, `ws bufferedAmount ${ws.bufferedAmount}: the client did not push back`)
    for (let i = 0; i < total; i++) {
      const message = await pair.client.receive(5000)
      if (seqOf(message.data) !== i) assert.unreachable(`message ${i}: got #${seqOf(message.data)}`)
    }
    await waitFor(() => completed === total, 5000, 'ws callbacks')
  })
})

test('a server that left its loop early loses nothing: reading stops at the high-water mark and a later loop gets every message (no silent drop)', async () => {
  let serverSide: WebSocket | undefined
  let resume: (() => void) | undefined
  const secondLoop = new Promise<void>((resolve) => (resume = resolve))
  const received: string[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    serverSide = ws
    for await (const message of ws) {
      received.push(message.text())
      break
    }
    await secondLoop
    for await (const message of ws) {
      received.push(message.text())
      if (received.length === 2000) break
    }
    await ws.close(1000)
  })
  const client = await connect(`ws://127.0.0.1:${server.port}/`, { closeTimeout: 1000 })
  try {
    // Far more than the server's high-water marks: with nobody reading, TCP pushes back.
    for (let i = 0; i < 2000; i++) void client.send(`message ${i} ${'x'.repeat(1000)}`)
    // The client's socket buffer fills once the server stops reading: its bufferedAmount grows.
    await waitFor(() => client.bufferedAmount > 256 * 1024, 5000, 'the server stopped reading')
    assert.is(serverSide!.droppedMessages, 0, 'nothing dropped')
    resume!()
    assert.equal(await within(client.closed, 10_000, 'close'), { code: 1000, reason: '', wasClean: true })
    assert.is(received.length, 2000, 'every message reached the application')
    for (let i = 0; i < 2000; i++) assert.ok(received[i]!.startsWith(`message ${i} `), `message ${i} in order`)
  } finally {
    client.terminate()
    await within(server.close({ timeout: 200 }), 3000, 'server close')
  }
})

test.run()
