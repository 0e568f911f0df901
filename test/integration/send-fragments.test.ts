/**
 * Sending a message in pieces (ws.send with an iterable of chunks: one message, fragmented as
 * RFC 6455 §5.4 draws it, a chunk behind so that the last carries FIN), and the per-message
 * `compress` flag under permessage-deflate, read frame by frame by a raw client.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsClient } from 'ws'
import { InvalidArgumentError, serve, type Server, type WebSocket } from '../../src/index.ts'
import { rawConnect, type ReadFrame } from '../helpers/raw.ts'
import { rejection, within } from '../helpers/timing.ts'

type Script = (ws: WebSocket) => Promise<unknown>

async function withServer(script: Script, options: Parameters<typeof serve>[0] = {}): Promise<{ server: Server; result: Promise<unknown> }> {
  let resolve!: (value: unknown) => void
  const result = new Promise<unknown>((r) => {
    resolve = r
  })
  const server = await serve({ host: '127.0.0.1', port: 0, ...options }, async (ws) => {
    resolve(await script(ws).catch((error: unknown) => error))
    for await (const _ of ws) {
      // read until the peer closes
    }
  })
  return { server, result }
}

async function frames(reader: { next(ms?: number): Promise<ReadFrame> }, count: number): Promise<ReadFrame[]> {
  const out: ReadFrame[] = []
  for (let i = 0; i < count; i++) out.push(await reader.next(3000))
  return out
}

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((resolve) => setImmediate(resolve))
    yield item
  }
}

test('an async iterable of bytes is one binary message in fragments; a send made meanwhile follows it', async () => {
  const { server, result } = await withServer(async (ws) => {
    const fragmented = ws.send(slowly([Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)]))
    const after = ws.send('after')
    await Promise.all([fragmented, after])
    return 'sent'
  })
  try {
    const client = await rawConnect({ port: server.port })
    const got = await frames(client.reader, 4)
    assert.equal(got.map((f) => [f.opcode, f.fin, [...f.payload]]), [
      [0x2, false, [1, 2]],
      [0x0, false, [3]],
      [0x0, true, [4, 5, 6]],
      [0x1, true, [...Buffer.from('after')]],
    ])
    assert.is(await within(result, 3000, 'sends'), 'sent')
    await client.destroy()
  } finally {
    await server.close({ timeout: 500 })
  }
})

test('an iterable of strings is one text message; ws (the peer) reads it whole', async () => {
  const { server, result } = await withServer((ws) => ws.send(['Hel', 'lo, ', 'wörld']).then(() => 'sent'))
  try {
    const client = new WsClient(`ws://127.0.0.1:${server.port}/`)
    const message = await within(new Promise<{ data: string; binary: boolean }>((resolve, reject) => {
      client.once('message', (data, binary) => resolve({ data: String(data), binary }))
      client.once('error', reject)
    }), 3000, 'ws message')
    assert.equal(message, { data: 'Hello, wörld', binary: false })
    assert.is(await result, 'sent')
    client.close()
  } finally {
    await server.close({ timeout: 500 })
  }
})

test('a fragment of the other type rejects with InvalidArgumentError and fails the connection with 1011', async () => {
  const { server, result } = await withServer((ws) => ws.send(slowly<string | Uint8Array>(['te', 'xt', Uint8Array.of(1)])))
  try {
    const client = await rawConnect({ port: server.port })
    const first = await client.reader.next(3000)
    assert.is(first.opcode, 0x1)
    const { code } = await client.reader.nextClose(3000)
    assert.is(code, 1011)
    const error = await within(result, 3000, 'send result')
    assert.instance(error, InvalidArgumentError)
    await client.destroy()
  } finally {
    await server.close({ timeout: 500 })
  }
})

test('an empty iterable sends nothing; a non-chunk item rejects', async () => {
  const { server, result } = await withServer(async (ws) => {
    await ws.send([])
    const bad = await rejection(ws.send([5 as unknown as string]), 1000, 'a number as a fragment')
    return bad
  })
  try {
    const client = await rawConnect({ port: server.port })
    const error = await within(result, 3000, 'send result')
    assert.instance(error, InvalidArgumentError)
    client.socket.write(Uint8Array.of(0x89, 0x80, 0, 0, 0, 0)) // a ping: its pong is the first thing back
    const pong = await client.reader.next(3000)
    assert.is(pong.opcode, 0xa, 'nothing was written before the pong (no fragment, no close)')
    await client.destroy()
  } finally {
    await server.close({ timeout: 500 })
  }
})

test('compress: true compresses a message under the threshold, false sends a large one plain (permessage-deflate)', async () => {
  const big = 'x'.repeat(4096)
  const { server, result } = await withServer(async (ws) => {
    await ws.send('small')
    await ws.send('small', { compress: true })
    await ws.send(big)
    await ws.send(big, { compress: false })
    return ws.extensions.map((e) => e.name)
  }, { perMessageDeflate: true })
  try {
    const client = await rawConnect({ port: server.port }, '/', { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' })
    assert.match(client.headers['sec-websocket-extensions'] ?? '', 'permessage-deflate')
    const got = await frames(client.reader, 4)
    assert.equal(got.map((f) => f.rsv1), [false, true, true, false])
    assert.is(Buffer.from(got[3]!.payload).toString(), big)
    assert.equal(await result, ['permessage-deflate'])
    await client.destroy()
  } finally {
    await server.close({ timeout: 500 })
  }
})

test.run()
