// Peers that would make the server hold or read without bound, each next to a good client that
// keeps being echoed: a ping flood that reads none of the pongs (only the latest ping is
// answered, then the connection is cut with 1008), and a peer that streams on after its close
// frame (cut after DEFAULTS.maxDiscard bytes, long before the close timeout).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deflateRawSync, constants as zlibConstants } from 'node:zlib'
import { connect, DEFAULT_INFLATE_MEMORY_LIMIT, getZlibActivity, ProtocolError, serve, setInflateMemoryLimit, type Server, type WebSocket } from '../../src/index.ts'
import { DEFAULTS } from '../../src/core/defaults.ts'
import { closePayload, encodeRawFrame, rawConnect, socketClosed } from '../helpers/raw.ts'
import { within } from '../helpers/timing.ts'

let server: Server
const errors: unknown[] = []
const sides = new Map<string, WebSocket>()
const peaks = new Map<string, number>()

test.before(async () => {
  server = await serve({ host: '127.0.0.1', port: 0, closeTimeout: 60_000, onError: (error) => errors.push(error) }, async (ws) => {
    const role = new URL(ws.request!.url, 'http://x').searchParams.get('role') ?? ''
    sides.set(role, ws)
    for await (const message of ws) await ws.send(message)
  })
})

test.after(async () => {
  await server.close({ timeout: 500 })
})

/** A good client echoing `rounds` messages; resolves with how many came back right. */
async function goodClient(rounds: number, whileRunning: Promise<unknown>): Promise<number> {
  const good = await connect(`${server.url}?role=good`)
  let echoed = 0
  let done = false
  void whileRunning.finally(() => {
    done = true
  })
  for (let i = 0; i < rounds && !done; i++) {
    await good.send(`hello ${i}`)
    const reply = await within(good.recv(), 5000, 'echo to the good client')
    if (reply.text() === `hello ${i}`) echoed++
  }
  await good.close()
  return echoed
}

test('a peer that floods pings and reads no pong is cut with 1008; only one pong is ever owed', async () => {
  const hostile = await rawConnect({ port: server.port }, '/?role=pinger')
  hostile.socket.pause() // reads nothing from here on
  const ping = encodeRawFrame({ opcode: 0x9, payload: new Uint8Array(125).fill(7), mask: true })
  const batch = new Uint8Array(ping.length * 1000)
  for (let i = 0; i < 1000; i++) batch.set(ping, i * ping.length)
  const flood = (async () => {
    // At most 100 MB of pings: the kernel's buffers fill with some 10 MB of pongs, then pongs are owed.
    for (let i = 0; i < 800 && !hostile.socket.destroyed; i++) {
      if (!hostile.socket.write(batch)) {
        await new Promise<void>((resolve) => {
          hostile.socket.once('drain', resolve)
          hostile.socket.once('close', resolve)
        })
      }
      const side = sides.get('pinger')
      if (side !== undefined) peaks.set('pinger', Math.max(peaks.get('pinger') ?? 0, side.bufferedAmount))
    }
  })()
  const side = await within((async () => {
    while (!sides.has('pinger')) await new Promise((resolve) => setImmediate(resolve))
    return sides.get('pinger')!
  })(), 3000, 'the server side')
  const echoed = goodClient(200, side.closed)
  await within(side.closed, 30_000, 'the flooding connection closed')
  await within(flood, 10_000, 'the flood stopped')
  hostile.socket.destroy()
  await socketClosed(hostile.socket)
  const failure = errors.find((e) => e instanceof Error && (e as { cause?: unknown }).cause instanceof ProtocolError) as { cause: ProtocolError } | undefined
  const cause = failure?.cause ?? errors.find((e) => e instanceof ProtocolError)
  assert.ok(cause instanceof ProtocolError, `a ProtocolError reached onError (got ${errors.map(String).join('; ')})`)
  assert.is((cause as ProtocolError).code, 'WS_ERR_TOO_MANY_PINGS')
  assert.is((cause as ProtocolError).closeCode, 1008)
  // What waited at the server for the pinger stayed around the write high-water mark, not 1 GiB.
  assert.ok((peaks.get('pinger') ?? 0) < 4 * DEFAULTS.writeHighWaterMark, `peak bufferedAmount ${peaks.get('pinger')}`)
  assert.ok((await echoed) > 0, 'the good client was echoed meanwhile')
})

test("a peer that streams on after its close frame is cut after maxDiscard bytes, not at the close timeout", async () => {
  errors.length = 0
  const hostile = await rawConnect({ port: server.port }, '/?role=after-close')
  // A half-open socket: the server's FIN after its close echo does not end this side's writing.
  hostile.socket.allowHalfOpen = true
  hostile.send({ opcode: 0x8, payload: closePayload(1000) })
  const junk = new Uint8Array(64 * 1024).fill(0x55)
  let written = 0
  const stream = (async () => {
    // Up to 64 MiB: the server must cut the connection after 1 MiB of it.
    for (let i = 0; i < 1024 && !hostile.socket.destroyed; i++) {
      written += junk.length
      if (!hostile.socket.write(junk)) {
        await new Promise<void>((resolve) => {
          hostile.socket.once('drain', resolve)
          hostile.socket.once('close', resolve)
        })
      }
    }
  })()
  const side = await within((async () => {
    while (!sides.has('after-close')) await new Promise((resolve) => setImmediate(resolve))
    return sides.get('after-close')!
  })(), 3000, 'the server side')
  const echoed = goodClient(50, side.closed)
  // closeTimeout is 60 s here: only the discard bound can end it within the wait.
  await within(side.closed, 20_000, 'the server cut the connection')
  await within(socketClosed(hostile.socket, 20_000), 20_000, 'the socket closed')
  await stream
  assert.ok(written < 64 * 1024 * 1024, `the stream was cut (${written} bytes written)`)
  assert.ok((await echoed) > 0, 'the good client was echoed meanwhile')
})

test('zip bombs on many connections at once: the inflated bytes held stay under the process limit, the others get 1013', async () => {
  const limit = 8 * 1024 * 1024
  setInflateMemoryLimit(limit)
  const deflating = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    // The first fragment of a message: 1 MiB of zeros in about 1 KiB, never finished.
    const bomb = deflateRawSync(new Uint8Array(1024 * 1024), { finishFlush: zlibConstants.Z_SYNC_FLUSH })
    const fragment = bomb.subarray(0, bomb.length - 4) // without the 00 00 ff ff the receiver puts back
    const clients = await Promise.all(Array.from({ length: 24 }, () => rawConnect({ port: deflating.port }, '/', { 'Sec-WebSocket-Extensions': 'permessage-deflate' })))
    let peak = 0
    const watch = setInterval(() => {
      peak = Math.max(peak, getZlibActivity().inflating)
    }, 1)
    let codes: number[]
    try {
      for (const client of clients) client.send({ opcode: 0x2, fin: false, rsv1: true, payload: fragment })
      // Some bombs are held (8 of 1 MiB fit), the ones past the limit are closed with 1013.
      codes = await Promise.all(clients.map((client) => client.reader.nextClose(2000).then(({ code }) => code, () => 0)))
      // The good client's small compressed message passes while the bombs hold the memory.
      const good = await connect(`ws://127.0.0.1:${deflating.port}/`)
      await good.send('still here')
      assert.is((await within(good.recv(), 5000, 'the good client echoed')).text(), 'still here')
      await good.close()
    } finally {
      clearInterval(watch)
    }
    const refused = codes.filter((code) => code === 1013).length
    assert.ok(refused >= 24 - limit / (1024 * 1024), `${refused} of 24 closed with 1013 (codes ${codes.join(',')})`)
    assert.ok(peak <= limit + 2 * 64 * 1024, `peak inflated bytes held ${peak}`)
    await Promise.all(clients.map((client) => client.destroy()))
  } finally {
    setInflateMemoryLimit(DEFAULT_INFLATE_MEMORY_LIMIT)
    await deflating.close({ timeout: 500 })
  }
})

test.run()
