/**
 * The slow-consumer policy on a real server: one subscriber never reads (a `ws` client whose
 * socket is paused) while 10,000 messages of 4 KiB are published to its topic. Its bytes waiting
 * on the server stay within the budget (`maxBackpressure` plus one frame header) all along; the
 * policy applies ('drop': counted in its `droppedMessages`, the connection open, a ping still
 * answered; 'close': closed with 1013 once, behind what it was sent); the other subscribers (a
 * wsflow client and a ws client, both reading) get all 10,000, in order.
 *
 * The publisher waits, after each batch of 25, for the two readers to have them (so the test is
 * paced by events, not by time), which lets the slow one fall as far behind as it will.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { WebSocket as WsSocket } from 'ws'
import { connect, serve as start, type Server, type ServerOptions, type WebSocket } from '../../src/index.ts'
import { openWsClient } from '../helpers/peers.ts'
import { stop } from '../helpers/servers.ts'
import { within } from '../helpers/timing.ts'

const COUNT = 10_000
const BATCH = 25 // 100 KiB a batch: a batch published in one tick fits in the budget of a reader that keeps up
const SIZE = 4096
const BUDGET = 256 * 1024
const HEADER = 4 // a 4 KiB frame's header (126-length form)

function numbered(i: number): Uint8Array {
  const data = new Uint8Array(SIZE)
  new DataView(data.buffer).setUint32(0, i)
  return data
}

const seqOf = (data: Uint8Array): number => new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)

/** A reader's progress: how many it got, whether in order, and a wait for the n-th. */
class Progress {
  count = 0
  outOfOrder = 0
  #waiter: { n: number; resolve: () => void } | undefined
  got(seq: number): void {
    if (seq !== this.count) this.outOfOrder++
    this.count++
    if (this.#waiter !== undefined && this.count >= this.#waiter.n) {
      const { resolve } = this.#waiter
      this.#waiter = undefined
      resolve()
    }
  }
  reached(n: number, what: string): Promise<void> {
    if (this.count >= n) return Promise.resolve()
    return within(new Promise<void>((resolve) => (this.#waiter = { n, resolve })), 10_000, `${what} reached ${n} (at ${this.count})`)
  }
}

interface Setup {
  server: Server
  slowServerSide: WebSocket
  slow: WsSocket
  wsflowReader: WebSocket
  wsReader: WsSocket
  readers: [Progress, Progress]
  maxBuffered: number
}

/** Starts the server and the three subscribers, and publishes the 10,000 messages. */
async function publishToSlowSubscriber(options: ServerOptions, run: (setup: Setup) => Promise<void>): Promise<void> {
  const accepted: WebSocket[] = []
  const server = await serve(options, accepted)
  const clients: { terminate(): void }[] = []
  try {
    const slow = await openWsClient(`${server.url}/`, undefined)
    clients.push(slow)
    slow.pause() // never reads: TCP fills, then the server's buffer
    const slowServerSide = await waitAccepted(accepted, 0)
    const wsflowReader = await connect(`${server.url}/`)
    clients.push(wsflowReader)
    const wsReader = await openWsClient(`${server.url}/`, undefined)
    clients.push(wsReader)
    await waitAccepted(accepted, 2)
    assert.is(server.subscriberCount('t'), 3)
    const readers: [Progress, Progress] = [new Progress(), new Progress()]
    void (async () => {
      for await (const message of wsflowReader) readers[0].got(seqOf(message.data))
    })().catch(() => undefined)
    wsReader.on('message', (data: Buffer) => readers[1].got(seqOf(data)))
    let maxBuffered = 0
    for (let i = 0; i < COUNT;) {
      for (const end = i + BATCH; i < end; i++) {
        server.publish('t', numbered(i))
        maxBuffered = Math.max(maxBuffered, slowServerSide.bufferedAmount)
      }
      await readers[0].reached(i, 'wsflow reader')
      await readers[1].reached(i, 'ws reader')
    }
    await run({ server, slowServerSide, slow, wsflowReader, wsReader, readers, maxBuffered })
  } finally {
    for (const client of clients) client.terminate()
    await stop(server)
  }
}

function serve(options: ServerOptions, accepted: WebSocket[]): Promise<Server> {
  return start({ host: '127.0.0.1', port: 0, ...options }, async (ws) => {
    ws.subscribe('t')
    accepted.push(ws)
    await ws.closed
  })
}

async function waitAccepted(accepted: WebSocket[], index: number): Promise<WebSocket> {
  for (let i = 0; i < 300 && accepted[index] === undefined; i++) await new Promise((resolve) => setImmediate(resolve))
  const ws = accepted[index]
  if (ws === undefined) throw new Error(`connection ${index} was not accepted`)
  return ws
}

test("'drop': the silent subscriber's buffer stays within the budget, its losses are counted, a ping still goes through; the readers get all 10,000 in order", async () => {
  await publishToSlowSubscriber({ pubsub: { maxBackpressure: BUDGET } }, async ({ server, slowServerSide, slow, readers, maxBuffered }) => {
    assert.ok(maxBuffered <= BUDGET + HEADER, `bufferedAmount peaked at ${maxBuffered}, budget ${BUDGET}`)
    assert.ok(maxBuffered > BUDGET - SIZE - HEADER - 1, `the budget was reached (${maxBuffered})`)
    for (const [i, reader] of readers.entries()) {
      assert.is(reader.count, COUNT, `reader ${i}`)
      assert.is(reader.outOfOrder, 0, `reader ${i} in order`)
    }
    const dropped = slowServerSide.droppedMessages
    assert.ok(dropped > 0 && dropped < COUNT, `dropped ${dropped}`)
    assert.is(server.pubsub.stats.dropped, dropped, 'the hub counts the same drops')
    assert.is(slowServerSide.readyState, 'open', 'dropping keeps the connection')
    // A ping is not a publication: it is queued behind the backlog, never dropped.
    const ping = slowServerSide.ping()
    // The slow one reads again: what it was sent arrives in order, with gaps where it was dropped.
    let received = 0
    let last = -1
    let ordered = true
    slow.on('message', (data: Buffer) => {
      const seq = seqOf(data)
      if (seq <= last) ordered = false
      last = seq
      received++
    })
    slow.resume()
    await within(ping, 10_000, 'the pong from the slow subscriber')
    assert.ok(ordered, 'what the slow subscriber got is in order')
    assert.is(received + dropped, COUNT, `received ${received} + dropped ${dropped}`)
  })
})

test("'close': the silent subscriber is closed once with 1013 behind what it was sent; the readers get all 10,000 in order", async () => {
  await publishToSlowSubscriber({ pubsub: { maxBackpressure: BUDGET, slowConsumer: 'close' }, closeTimeout: 30_000 }, async ({ server, slowServerSide, slow, readers, maxBuffered }) => {
    assert.ok(maxBuffered <= BUDGET + HEADER, `bufferedAmount peaked at ${maxBuffered}`)
    for (const [i, reader] of readers.entries()) {
      assert.is(reader.count, COUNT, `reader ${i}`)
      assert.is(reader.outOfOrder, 0, `reader ${i} in order`)
    }
    assert.is(server.pubsub.stats.closedSlow, 1, 'closed once')
    assert.is(slowServerSide.droppedMessages, 1, 'the message that found it over budget')
    assert.is(slowServerSide.readyState, 'closing')
    let received = 0
    slow.on('message', () => received++)
    const closed = new Promise<[number, string]>((resolve) => slow.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])))
    slow.resume()
    assert.equal(await within(closed, 10_000, 'the slow subscriber closed'), [1013, 'slow consumer'])
    assert.ok(received > 0 && received < COUNT, `it got what was sent before the close (${received})`)
    const info = await within(slowServerSide.closed, 10_000, 'server side closed')
    assert.is(info.code, 1013)
    assert.is(server.subscriberCount('t'), 2, 'it left the topic')
  })
})

test.run()
