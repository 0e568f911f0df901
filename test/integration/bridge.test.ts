// bridge(ws, socket) and the it-pipe byte duplexes on loopback: backpressure both ways (a TCP
// side that does not read stops the WebSocket being read, and a WebSocket side that does not
// read stops the TCP side being read), the ends mapped, and what the result reports.
import { createHash, randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Server as NetServer, type Socket } from 'node:net'
import { pipe } from 'it-pipe'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, serve, type Server, type WebSocket } from '../../src/index.ts'
import { bridge, streamDuplex, webSocketBytes, type BridgeResult } from '../../src/bridge/index.ts'
import { sleep, within } from '../helpers/timing.ts'

const MiB = 1024 * 1024
const sha256 = (chunks: readonly Uint8Array[]): string => {
  const hash = createHash('sha256')
  for (const chunk of chunks) hash.update(chunk)
  return hash.digest('hex')
}

/** A TCP target whose connections go to `onSocket`. */
async function target(onSocket: (socket: Socket) => void): Promise<{ server: NetServer; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'target close')
    },
  }
}

/** A wsflow server bridging each connection to the target; results are collected. */
async function bridgeServer(port: number): Promise<{ server: Server; results: Promise<BridgeResult>[] }> {
  const results: Promise<BridgeResult>[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, (ws) => {
    const result = bridge(ws, netConnect({ port, host: '127.0.0.1', allowHalfOpen: true }))
    results.push(result)
    return result
  })
  return { server, results }
}

/**
 * Resolves once `progress()` has not moved for `quiet` ms (checked every `quiet` ms), bounded
 * by `ms`: how a test sees that a producer is held back, which no event announces.
 */
async function stalled(progress: () => number, quiet: number, ms: number, what: string): Promise<number> {
  const deadline = Date.now() + ms
  let last = progress()
  for (let checks = 0; checks < 1000; checks++) {
    await sleep(quiet)
    const now = progress()
    if (now === last && now > 0) return now
    last = now
    if (Date.now() > deadline) break
  }
  throw new Error(`${what}: still moving after ${ms} ms (at ${last})`)
}

test('a TCP side that does not read stops the WebSocket from being read: the sender is held back, then all arrives', async () => {
  const received: Buffer[] = []
  let targetSocket: Socket | undefined
  let receivedAll: () => void = () => undefined
  const all = new Promise<void>((resolve) => (receivedAll = resolve))
  const total = 96 * MiB
  let receivedBytes = 0
  const tcp = await target((socket) => {
    targetSocket = socket
    socket.pause() // reads nothing until told
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      receivedBytes += chunk.length
      if (receivedBytes >= total) receivedAll()
    })
  })
  const { server } = await bridgeServer(tcp.port)
  const ws = await connect(server.url)
  try {
    const chunk = randomBytes(MiB)
    let sent = 0
    const sending = (async () => {
      for (let i = 0; i < total / MiB; i++) {
        await ws.send(chunk)
        sent += MiB
      }
    })()
    const held = await stalled(() => sent, 300, 20_000, 'the sender')
    assert.ok(held < 48 * MiB, `the sender was held back after ${held / MiB} MiB of ${total / MiB} MiB`)
    assert.is(receivedBytes, 0)
    targetSocket!.resume()
    await within(sending, 30_000, 'all sent')
    await within(all, 30_000, 'all received')
    assert.is(receivedBytes, total)
    assert.is(sha256(received), sha256(Array.from({ length: total / MiB }, () => chunk)))
  } finally {
    ws.terminate()
    await server.close({ timeout: 500 })
    await tcp.close()
  }
})

test('a WebSocket side that does not read stops the TCP side from being read: the TCP writer is held back, then all arrives', async () => {
  const total = 96 * MiB
  const chunk = randomBytes(MiB)
  let flushed = 0
  let writing: Promise<void> | undefined
  const tcp = await target((socket) => {
    writing = (async () => {
      for (let i = 0; i < total / MiB; i++) {
        if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve))
        flushed = socket.bytesWritten - socket.writableLength
      }
      socket.end()
    })()
  })
  const { server, results } = await bridgeServer(tcp.port)
  const ws: WebSocket = await connect(server.url) // not read until the writer is held back
  try {
    const held = await stalled(() => flushed, 300, 20_000, 'the TCP writer')
    assert.ok(held < 48 * MiB, `the TCP writer was held back after ${held / MiB} MiB of ${total / MiB} MiB`)
    const hash = createHash('sha256')
    let length = 0
    for await (const message of ws) {
      hash.update(message.data)
      length += message.data.length
    }
    assert.is(length, total)
    assert.is(hash.digest('hex'), sha256(Array.from({ length: total / MiB }, () => chunk)))
    await within(writing!, 5000, 'the writer done')
    const result = await within(results[0]!, 5000, 'bridge result')
    assert.is(result.streamEnded, true, 'the FIN ended it')
    assert.is(result.close.code, 1000)
    assert.is(result.bytesToWebSocket, total)
  } finally {
    ws.terminate()
    await server.close({ timeout: 500 })
    await tcp.close()
  }
})

test('ends: a clean WebSocket close ends the TCP side (FIN); a reset closes with 1011; the result says what happened', async () => {
  const ends: string[] = []
  const tcp = await target((socket) => {
    socket.on('data', (chunk: Buffer) => {
      if (String(chunk) === 'reset') socket.resetAndDestroy()
      else socket.write(chunk)
    })
    socket.on('end', () => {
      ends.push('FIN')
      socket.end()
    })
  })
  const { server, results } = await bridgeServer(tcp.port)
  try {
    const ws = await connect(server.url)
    await ws.send('ping over tcp')
    assert.is((await ws.recv({ timeout: 5000 })).text(), 'ping over tcp')
    await ws.close(1000)
    const clean = await within(results[0]!, 5000, 'result')
    assert.equal(ends, ['FIN'])
    assert.equal([clean.close.code, clean.close.wasClean, clean.bytesToStream, clean.bytesToWebSocket, clean.streamEnded], [1000, true, 13, 13, true])
    assert.is(clean.streamError, undefined)

    const other = await connect(server.url)
    await other.send('reset')
    const info = await within(other.closed, 5000, 'closed after the reset')
    assert.is(info.code, 1011)
    const reset = await within(results[1]!, 5000, 'result')
    assert.is((reset.streamError as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')
  } finally {
    await server.close({ timeout: 500 })
    await tcp.close()
  }
})

test('it-pipe: pipe(webSocketBytes(ws), streamDuplex(socket), webSocketBytes(ws)) bridges the same way', async () => {
  const tcp = await target((socket) => socket.pipe(socket))
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    const socket = netConnect({ port: tcp.port, host: '127.0.0.1', allowHalfOpen: true })
    const bytes = webSocketBytes(ws)
    await pipe(bytes, streamDuplex(socket), bytes)
  })
  try {
    const ws = await connect(server.url)
    const payload = randomBytes(3 * MiB)
    await ws.send(payload)
    const back: Uint8Array[] = []
    let length = 0
    for (let reads = 0; reads < 10_000 && length < payload.length; reads++) {
      const message = await ws.recv({ timeout: 5000 })
      back.push(message.data)
      length += message.data.length
    }
    assert.is(sha256(back), sha256([payload]))
    await ws.close()
  } finally {
    await server.close({ timeout: 500 })
    await tcp.close()
  }
})

test.run()
