/**
 * createWebSocketStream (toDuplex): a Node Duplex over a wsflow client connection, against a
 * wsflow echo server on 127.0.0.1: 32 MiB through `stream.pipeline` into a slow Writable (every
 * byte in order, the source held back), object mode keeping text and binary, text mode decoding
 * UTF-8 across chunks, and the close codes each way.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, connect, InvalidDataError, Message, serve, type Server, type WebSocket } from '../../src/index.ts'
import { createWebSocketStream, toDuplex } from '../../src/node/websocket-stream.ts'
import { rejection, within } from '../helpers/timing.ts'

const CHUNK = 64 * 1024

/** The byte at offset `i` of the test stream. */
const byteAt = (i: number): number => (i * 31 + (i >>> 16)) & 0xff

/** The most bytes the echo server's connections had waiting to be written, sampled at each send. */
let serverBuffered = 0

async function withEcho(body: (server: Server, closes: Promise<number>[]) => Promise<void>, handler?: (ws: WebSocket) => Promise<void>): Promise<void> {
  const closes: Promise<number>[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    closes.push(ws.closed.then((info) => info.code))
    if (handler !== undefined) return handler(ws)
    try {
      for await (const message of ws) {
        const sent = ws.send(message)
        serverBuffered = Math.max(serverBuffered, ws.bufferedAmount)
        await sent
      }
    } catch {
      // the client failed the connection: the close code tells how
    }
  })
  try {
    await body(server, closes)
  } finally {
    await server.close({ timeout: 200 })
  }
}

test('pipeline: 32 MiB through the echo into a Writable that waits per chunk: every byte in order, the source held back', async () => {
  const total = 32 * 1024 * 1024
  await withEcho(async (server) => {
    const ws = await connect(server.url)
    let produced = 0
    let consumed = 0
    let maxAhead = 0
    serverBuffered = 0
    const source = Readable.from((function* () {
      for (let offset = 0; offset < total; offset += CHUNK) {
        const chunk = new Uint8Array(CHUNK)
        for (let i = 0; i < CHUNK; i++) chunk[i] = byteAt(offset + i)
        produced += CHUNK
        maxAhead = Math.max(maxAhead, produced - consumed)
        yield chunk
      }
    })())
    let mismatch: string | undefined
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (let i = 0; i < chunk.length && mismatch === undefined; i += 4099) {
          if (chunk[i] !== byteAt(consumed + i)) mismatch = `byte ${consumed + i}: ${chunk[i]} instead of ${byteAt(consumed + i)}`
        }
        consumed += chunk.length
        if (consumed === total) {
          void ws.close() // everything came back: the readable side then ends
        }
        setImmediate(callback) // a consumer slower than the socket: one turn of the loop per chunk
      },
    })
    await within(pipeline(source, createWebSocketStream(ws), slow), 60_000, 'the pipeline')
    assert.is(mismatch, undefined)
    assert.is(consumed, total)
    console.log(`  32 MiB: the source ran at most ${(maxAhead / 1024 / 1024).toFixed(1)} MiB ahead of the slow consumer; the echo server's bufferedAmount at most ${(serverBuffered / 1024).toFixed(0)} KiB`)
    // Without backpressure the (synchronous) source would be all 32 MiB ahead at once; what it
    // may be ahead is the buffers on the way (streams, inboxes at 1 MiB, the kernel's both ways).
    assert.ok(maxAhead < total * 0.75, `the source was held back (${maxAhead} bytes ahead at most)`)
    // The echo server awaits each send: what waits in its connection is one message and the socket's share.
    assert.ok(serverBuffered <= 2 * 1024 * 1024, `the server's buffer stayed bounded (${serverBuffered} bytes)`)
  })
})

test('object mode: Message objects both ways, text and binary kept; toDuplex is the same', async () => {
  await withEcho(async (server) => {
    const ws = await connect(server.url)
    const duplex = toDuplex(ws, { objectMode: true })
    const got: Message[] = []
    const collect = new Writable({
      objectMode: true,
      write(message: Message, _encoding, callback) {
        got.push(message)
        if (got.length === 3) void ws.close()
        callback()
      },
    })
    await within(pipeline(Readable.from(['one', new Uint8Array([1, 2, 3]), Message.text('three')]), duplex, collect), 5000, 'the object pipeline')
    assert.equal(got.map((m) => m.type), ['text', 'binary', 'text'])
    assert.equal(got.map((m) => (m.type === 'text' ? m.text() : [...m.data].join(','))), ['one', '1,2,3', 'three'])
  })
})

test('text mode: byte chunks are sent as text, a character split between chunks whole', async () => {
  const received: Message[] = []
  await withEcho(async (server) => {
    const ws = await connect(server.url)
    const duplex = createWebSocketStream(ws, { text: true, objectMode: false })
    const reading = (async () => {
      for await (const _chunk of duplex) assert.unreachable('the server sends nothing')
    })()
    const bytes = new TextEncoder().encode('aé€b')
    duplex.write(bytes.subarray(0, 2)) // 'a' and the first byte of 'é'
    duplex.write(bytes.subarray(2, 5)) // the rest of 'é' and two bytes of '€'
    duplex.write(bytes.subarray(5))
    duplex.write('plain')
    await new Promise<void>((resolve) => duplex.end(resolve))
    await within(reading, 5000, 'the readable side ends after the close')
    assert.equal(received.map((m) => `${m.type} ${m.text()}`), ['text a', 'text é', 'text €b', 'text plain'])
    assert.is((await ws.closed).code, 1000)
  }, async (ws) => {
    for await (const message of ws) received.push(message)
  })
})

test('text mode: bytes that are not UTF-8 destroy the stream with an InvalidDataError, and the peer sees 1011', async () => {
  await withEcho(async (server, closes) => {
    const duplex = createWebSocketStream(await connect(server.url), { text: true })
    const failed = new Promise<Error>((resolve) => duplex.on('error', resolve))
    duplex.write(new Uint8Array([0x61, 0xff]))
    const error = await within(failed, 2000, 'the error')
    assert.instance(error, InvalidDataError)
    assert.is((error as InvalidDataError).code, 'WS_ERR_INVALID_UTF8')
    assert.equal(await within(Promise.all(closes), 2000, 'the close'), [1011])
  })
})

test('destroy(error) closes the connection with 1011; destroy() with 1000; end() with 1000', async () => {
  await withEcho(async (server, closes) => {
    const first = createWebSocketStream(await connect(server.url))
    first.on('error', () => {})
    first.destroy(new Error('the consumer failed'))
    const second = createWebSocketStream(await connect(server.url))
    second.destroy()
    const third = createWebSocketStream(await connect(server.url))
    third.resume()
    third.end()
    await within(new Promise((resolve) => third.on('close', resolve)), 2000, 'the third closed')
    assert.equal(await within(Promise.all(closes), 2000, 'the server saw three closes'), [1011, 1000, 1000])
  })
})

test('the peer closing with 4001 destroys the stream with a ConnectionClosedError 4001; a clean close ends the readable', async () => {
  let code = 4001
  await withEcho(async (server) => {
    const failing = createWebSocketStream(await connect(server.url))
    const error = await rejection(pipeline(failing, new Writable({ write: (_c, _e, cb) => cb() })), 2000, 'the 4001')
    assert.instance(error, ConnectionClosedError)
    assert.is((error as ConnectionClosedError).closeCode, 4001)

    code = 1000
    const clean = createWebSocketStream(await connect(server.url))
    const chunks: Buffer[] = []
    await within(pipeline(clean, new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) })), 2000, 'the clean close ends it')
    assert.is(Buffer.concat(chunks).toString(), 'before the close')
  }, async (ws) => {
    await ws.send('before the close')
    await ws.close(code, 'bye')
  })
})

test('a connection failing while nobody reads destroys the stream (the next write would not tell)', async () => {
  await withEcho(async (server) => {
    const duplex = createWebSocketStream(await connect(server.url))
    const error = await within(new Promise<Error>((resolve) => duplex.on('error', resolve)), 2000, 'the error event')
    assert.instance(error, ConnectionClosedError)
    assert.is((error as ConnectionClosedError).closeCode, 1006)
  }, async (ws) => {
    ws.terminate()
  })
})

test.run()
