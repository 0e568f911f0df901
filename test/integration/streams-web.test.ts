/**
 * toWebStreams: a connection as a WHATWG `{ readable, writable }` pair, over the Node client,
 * against a wsflow server on 127.0.0.1: 32 MiB piped out and back with `pipeTo` into a slow
 * WritableStream (every byte in order, the server's sending held back), the three read modes,
 * and the close codes each way.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, connect, Message, serve, type Server, type WebSocket } from '../../src/index.ts'
import { toWebStreams } from '../../src/streams/web.ts'
import { rejection, within } from '../helpers/timing.ts'

const CHUNK = 64 * 1024
const byteAt = (i: number): number => (i * 31 + (i >>> 16)) & 0xff

async function withServer(handler: (ws: WebSocket) => Promise<void>, body: (server: Server, closes: Promise<number>[]) => Promise<void>): Promise<void> {
  const closes: Promise<number>[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    closes.push(ws.closed.then((info) => info.code))
    try {
      await handler(ws)
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

test('pipeTo: 32 MiB written, echoed, and read into a WritableStream that waits per chunk; the echo is held back', async () => {
  const total = 32 * 1024 * 1024
  let sent = 0
  let maxAhead = 0
  let consumed = 0
  let serverBuffered = 0
  await withServer(async (ws) => {
    for await (const message of ws) {
      const sending = ws.send(message)
      sent += message.data.length
      maxAhead = Math.max(maxAhead, sent - consumed)
      serverBuffered = Math.max(serverBuffered, ws.bufferedAmount)
      await sending
    }
  }, async (server) => {
    const ws = await connect(server.url)
    const { readable, writable } = toWebStreams(ws, { readAs: 'bytes' })
    let offset = 0
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= total) {
          controller.close()
          return
        }
        const chunk = new Uint8Array(CHUNK)
        for (let i = 0; i < CHUNK; i++) chunk[i] = byteAt(offset + i)
        offset += CHUNK
        controller.enqueue(chunk)
      },
    }, { highWaterMark: 1 })
    let mismatch: string | undefined
    const slow = new WritableStream<Uint8Array>({
      async write(chunk) {
        for (let i = 0; i < chunk.length && mismatch === undefined; i += 4099) {
          if (chunk[i] !== byteAt(consumed + i)) mismatch = `byte ${consumed + i}`
        }
        consumed += chunk.length
        if (consumed === total) void ws.close()
        await new Promise((resolve) => setImmediate(resolve))
      },
    })
    const writing = source.pipeTo(writable, { preventClose: true })
    await within(Promise.all([writing, readable.pipeTo(slow)]), 60_000, 'both pipes')
    assert.is(mismatch, undefined)
    assert.is(consumed, total)
    console.log(`  32 MiB: the echo ran at most ${(maxAhead / 1024 / 1024).toFixed(1)} MiB ahead of the slow WritableStream; the server's bufferedAmount at most ${(serverBuffered / 1024).toFixed(0)} KiB`)
    assert.ok(maxAhead < total * 0.75, `the server was held back (${maxAhead} bytes ahead at most)`)
    assert.ok(serverBuffered <= 2 * 1024 * 1024, `the server's buffer stayed bounded (${serverBuffered} bytes)`)
  })
})

test("readAs: 'message' keeps Message objects, 'data' gives strings and Uint8Arrays as WebSocketStream, 'bytes' payloads", async () => {
  await withServer(async (ws) => {
    await ws.send('text')
    await ws.send(new Uint8Array([7, 8]))
    await ws.close()
  }, async (server) => {
    const read = async (readAs: 'message' | 'data' | 'bytes'): Promise<unknown[]> => {
      const chunks: unknown[] = []
      const { readable } = toWebStreams(await connect(server.url), { readAs })
      for await (const chunk of readable as unknown as AsyncIterable<unknown>) chunks.push(chunk)
      return chunks
    }
    const messages = (await read('message')) as Message[]
    assert.equal(messages.map((m) => `${m.type}:${m.text()}`), ['text:text', `binary:${String.fromCharCode(7, 8)}`])
    const data = await read('data')
    assert.is(data[0], 'text')
    assert.instance(data[1], Uint8Array)
    assert.equal([...(data[1] as Uint8Array)], [7, 8])
    const bytes = (await read('bytes')) as Uint8Array[]
    assert.equal(bytes.map((b) => [...b]), [[116, 101, 120, 116], [7, 8]])
  })
})

test('reading pulls only when the consumer reads: with nobody reading, the connection keeps the messages', async () => {
  let sentAll: () => void = () => {}
  const allSent = new Promise<void>((resolve) => (sentAll = resolve))
  await withServer(async (ws) => {
    for (let i = 0; i < 5; i++) await ws.send(`m${i}`)
    sentAll()
    await ws.closed
  }, async (server) => {
    const ws = await connect(server.url)
    const { readable } = toWebStreams(ws)
    await within(allSent, 2000, 'the server sent five')
    const reader = readable.getReader()
    const first = await reader.read()
    assert.is((first.value as Message).text(), 'm0')
    // The other four are still the connection's: a recv() takes the next one.
    assert.is((await ws.recv()).text(), 'm1')
    assert.is(((await reader.read()).value as Message).text(), 'm2')
    reader.releaseLock()
    await ws.close()
  })
})

test('abort(error) closes 1011, cancel() 1000, writable.close() 1000, abort with a ConnectionClosedError its code', async () => {
  await withServer(async (ws) => {
    for await (const _message of ws) {
      // read until closed
    }
  }, async (server, closes) => {
    await toWebStreams(await connect(server.url)).writable.abort(new Error('the producer failed'))
    await toWebStreams(await connect(server.url)).readable.cancel()
    await toWebStreams(await connect(server.url)).writable.close()
    await toWebStreams(await connect(server.url)).writable.abort(new ConnectionClosedError(4002, 'app', true))
    assert.equal(await within(Promise.all(closes), 2000, 'four closes on the server'), [1011, 1000, 1000, 4002])
  })
})

test('the peer closing with 4001 errors both sides with a ConnectionClosedError 4001; a clean close ends the readable', async () => {
  let code = 4001
  await withServer(async (ws) => {
    await ws.send('first')
    await ws.close(code, 'bye')
  }, async (server) => {
    const ws = await connect(server.url)
    const { readable, writable } = toWebStreams(ws)
    const reader = readable.getReader()
    assert.is(((await reader.read()).value as Message).text(), 'first')
    const error = await rejection(reader.read(), 2000, 'the read after the 4001')
    assert.instance(error, ConnectionClosedError)
    assert.is((error as ConnectionClosedError).closeCode, 4001)
    const writeError = await rejection(writable.getWriter().write('late'), 2000, 'a write after the 4001')
    assert.instance(writeError, ConnectionClosedError)
    assert.is((writeError as ConnectionClosedError).closeCode, 4001)

    code = 1000
    const clean = toWebStreams(await connect(server.url)).readable.getReader()
    assert.is(((await clean.read()).value as Message).text(), 'first')
    assert.equal(await within(clean.read(), 2000, 'the end'), { done: true, value: undefined })
  })
})

test.run()
