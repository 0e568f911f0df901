// Streaming mode (messages as streams of chunks) and the idle timeout.
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, connect, InvalidArgumentError, serve, type MessageStream, type WebSocket } from '../../src/index.ts'
import { closePayload, encodeRawFrame, rawConnect } from '../helpers/raw.ts'
import { within } from '../helpers/timing.ts'

const MiB = 1024 * 1024
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

test('streams(): a 48 MiB message arrives chunk by chunk, never held whole', async () => {
  const report: { type: string; bytes: number; chunks: number; rssGrowth: number }[] = []
  const server = await serve({ host: '127.0.0.1', port: 0, streaming: true }, async (ws) => {
    for await (const stream of ws.streams()) {
      gc()
      const before = process.memoryUsage().arrayBuffers
      let bytes = 0
      let chunks = 0
      let peak = 0
      for await (const chunk of stream) {
        bytes += chunk.length
        chunks++
        if (chunk[0] !== 7 || chunk[chunk.length - 1] !== 7) throw new Error(`wrong data at ${bytes}`)
        if (chunks % 8 === 0) {
          gc() // what is retained, not garbage not yet collected
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)
        }
      }
      report.push({ type: stream.type, bytes, chunks, rssGrowth: peak })
      await ws.send(`${bytes}`)
    }
  })
  // A raw client writes 48 frames of 1 MiB from three pre-built buffers, so that the only memory
  // that can grow in this process is the server's.
  const client = await rawConnect({ port: server.port })
  try {
    const payload = new Uint8Array(MiB).fill(7)
    const key = Uint8Array.of(1, 2, 3, 4)
    const first = encodeRawFrame({ opcode: 0x2, fin: false, payload, mask: key })
    const middle = encodeRawFrame({ opcode: 0x0, fin: false, payload, mask: key })
    const last = encodeRawFrame({ opcode: 0x0, fin: true, payload, mask: key })
    client.socket.write(first)
    for (let i = 0; i < 46; i++) client.socket.write(middle)
    client.socket.write(last)
    const reply = await client.reader.next(15_000)
    assert.is(new TextDecoder().decode(reply.payload), String(48 * MiB))
    console.log(`  (server held at most ${(report[0]!.rssGrowth / MiB).toFixed(1)} MiB of the 48 MiB message at once)`)
    assert.is(report[0]!.type, 'binary')
    assert.ok(report[0]!.chunks >= 48, 'at least a chunk per frame (long frames come in pieces)')
    assert.ok(report[0]!.rssGrowth < 24 * MiB, `server held up to ${(report[0]!.rssGrowth / MiB).toFixed(1)} MiB of a 48 MiB message`)
  } finally {
    await client.destroy()
    await server.close({ timeout: 500 })
  }
})

test('streams(): one 1 GiB frame goes through in pieces, in bounded memory (maxFrameSize follows maxMessageSize: none in streaming mode)', async () => {
  const GiB = 1024 * MiB
  let result: { bytes: number; chunks: number; peak: number } | undefined
  const server = await serve({ host: '127.0.0.1', port: 0, streaming: true }, async (ws) => {
    for await (const stream of ws.streams()) {
      gc()
      const before = process.memoryUsage().arrayBuffers
      let bytes = 0
      let chunks = 0
      let peak = 0
      for await (const chunk of stream) {
        bytes += chunk.length
        if (chunks++ % 256 === 0) {
          gc()
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)
        }
      }
      result = { bytes, chunks, peak }
      await ws.send(`${bytes}`)
    }
  })
  const client = await rawConnect({ port: server.port })
  try {
    // The header of one masked frame of 1 GiB (zero key: the payload is as written), then 1,024 writes of the same MiB.
    const header = encodeRawFrame({ opcode: 0x2, payload: new Uint8Array(0), mask: new Uint8Array(4), declaredLength: GiB })
    const piece = new Uint8Array(MiB).fill(9)
    client.socket.write(header)
    for (let i = 0; i < 1024 && !client.socket.destroyed; i++) {
      if (!client.socket.write(piece)) await new Promise((resolve) => client.socket.once('drain', resolve))
    }
    const reply = await client.reader.next(120_000)
    assert.is(new TextDecoder().decode(reply.payload), String(GiB))
    console.log(`  (server held at most ${(result!.peak / MiB).toFixed(1)} MiB of the 1 GiB frame at once, in ${result!.chunks} pieces)`)
    assert.ok(result!.chunks > 1024, 'handed on in pieces')
    assert.ok(result!.peak < 64 * MiB, `server held up to ${(result!.peak / MiB).toFixed(1)} MiB`)
  } finally {
    await client.destroy()
    await server.close({ timeout: 500 })
  }
})

test('streaming mode: text streams collect with text(); plain iteration still yields whole messages', async () => {
  const seen: string[] = []
  const server = await serve({ host: '127.0.0.1', port: 0, streaming: true }, async (ws) => {
    const streams = ws.streams()[Symbol.asyncIterator]()
    const first = await streams.next()
    if (!first.done) seen.push(`${first.value.type}:${await first.value.text()}`)
    await streams.return?.()
    for await (const message of ws) seen.push(`${message.type}:${message.text()}`)
  })
  const ws = await connect(server.url, { fragmentSize: 3 })
  try {
    await ws.send('ünïcödé split into 3-byte fragments')
    await ws.send('second')
    await ws.send(new TextEncoder().encode('bytes'))
    await ws.close()
    await within((async () => {
      while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 10))
    })(), 3000, 'messages')
    assert.equal(seen, ['text:ünïcödé split into 3-byte fragments', 'text:second', 'binary:bytes'])
  } finally {
    await server.close({ timeout: 500 })
  }
})

test('streaming mode: moving on drops the rest of a message; bytes() pipes chunks into a file', async () => {
  const file = join(tmpdir(), `wsflow-stream-${process.pid}.bin`)
  let skipped: MessageStream | undefined
  let written!: () => void
  const done = new Promise<void>((resolve) => (written = resolve))
  const server = await serve({ host: '127.0.0.1', port: 0, streaming: true }, async (ws) => {
    const streams = ws.streams()[Symbol.asyncIterator]()
    const first = await streams.next() // a big message the handler does not want
    if (!first.done) skipped = first.value
    await streams.return?.()
    await pipeline(ws.bytes(), createWriteStream(file))
    written()
  })
  const ws = await connect(server.url, { fragmentSize: 64 * 1024 })
  try {
    await ws.send(new Uint8Array(4 * MiB).fill(1))
    await ws.send(new Uint8Array(300_000).fill(2))
    await ws.send(new Uint8Array(200_000).fill(3))
    await ws.close()
    await within(done, 5000, 'file written')
    await within(server.close({ timeout: 2000 }), 5000, 'server close')
    assert.ok(skipped !== undefined)
    assert.is(statSync(file).size, 500_000)
    let ones = 0
    for await (const chunk of createReadStream(file)) for (const byte of chunk as Buffer) if (byte === 1) ones++
    assert.is(ones, 0, 'nothing of the dropped message reached the file')
  } finally {
    rmSync(file, { force: true })
  }
})

test('streaming mode: a message cut by a clean close fails its stream with ConnectionClosedError, after the chunks that came', async () => {
  let failure: unknown
  let received = 0
  let ended!: () => void
  const done = new Promise<void>((resolve) => (ended = resolve))
  const server = await serve({ host: '127.0.0.1', port: 0, streaming: true }, async (ws) => {
    try {
      for await (const stream of ws.streams()) for await (const chunk of stream) received += chunk.length
    } catch (error) {
      failure = error
    } finally {
      ended()
    }
  })
  const client = await rawConnect({ port: server.port })
  try {
    const key = Uint8Array.of(9, 8, 7, 6)
    client.socket.write(encodeRawFrame({ opcode: 0x2, fin: false, payload: new Uint8Array(1000).fill(5), mask: key }))
    client.socket.write(encodeRawFrame({ opcode: 0x8, fin: true, payload: closePayload(1000), mask: key }))
    const echo = await client.reader.next(5000)
    assert.is(echo.opcode, 0x8, 'the close is answered')
    await within(done, 5000, 'the handler ended')
    assert.is(received, 1000, 'the chunk that came was handed on')
    assert.instance(failure, ConnectionClosedError)
    assert.is((failure as ConnectionClosedError).closeCode, 1000)
    assert.ok((failure as ConnectionClosedError).wasClean)
    assert.match((failure as Error).message, /in the middle of a message/)
  } finally {
    await client.destroy()
    await server.close({ timeout: 500 })
  }
})

test('streams() needs the streaming option', async () => {
  let error: unknown
  const server = await serve({ host: '127.0.0.1', port: 0 }, (ws: WebSocket) => {
    try {
      ws.streams()
    } catch (e) {
      error = e
    }
  })
  const ws = await connect(server.url)
  await ws.closed
  await server.close()
  assert.instance(error, InvalidArgumentError)
})

test('idleTimeout closes a connection without data messages with 1001; pings do not count', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, idleTimeout: 300 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  const ws = await connect(server.url)
  try {
    const started = Date.now()
    await ws.send('one')
    const timer = setInterval(() => void ws.ping().catch(() => undefined), 50)
    let closed: Awaited<typeof ws.closed>
    try {
      closed = await within(ws.closed, 3000, 'idle close')
    } finally {
      clearInterval(timer) // also when the wait fails: a running interval would keep the test process alive
    }
    assert.equal(closed, { code: 1001, reason: 'idle timeout', wasClean: true })
    assert.ok(Date.now() - started >= 250, 'not before the idle timeout')
  } finally {
    await server.close({ timeout: 500 })
  }
})

test.run()
