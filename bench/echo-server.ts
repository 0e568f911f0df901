/**
 * An echo server for bench/echo.ts, in a process of its own: `wsflow` (written the way users
 * write one), `ws` (with bufferutil/utf-8-validate when installed), or `raw`, a minimal framed
 * echo on node:net (the ceiling: it parses small masked frames and answers unmasked, nothing else).
 * Prints the port, then serves until stdin closes.
 * @module
 */
import { createServer } from 'node:net'
import { WebSocketServer } from 'ws'
import { serve } from '../src/index.ts'

const impl = process.argv[2]
let port = 0
let stop: () => Promise<unknown>
if (impl === 'wsflow') {
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  port = server.port
  stop = () => server.close({ timeout: 100 })
} else if (impl === 'ws') {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as { port: number }).port
  stop = () => new Promise((resolve) => server.close(resolve))
} else if (impl === 'raw') {
  // The ceiling: no handshake, frames with a 7-bit length only, unmasked in a byte loop.
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
      const out: Buffer[] = []
      let offset = 0
      while (data.length - offset >= 6) {
        const length = data[offset + 1]! & 0x7f
        if (data.length - offset < 6 + length) break
        const frame = Buffer.allocUnsafe(2 + length)
        frame[0] = data[offset]!
        frame[1] = length
        for (let i = 0; i < length; i++) frame[2 + i] = data[offset + 6 + i]! ^ data[offset + 2 + (i & 3)]!
        out.push(frame)
        offset += 6 + length
      }
      pending = data.subarray(offset)
      if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out))
    })
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  stop = () => new Promise((resolve) => server.close(resolve))
} else {
  throw new Error(`unknown server ${impl}`)
}
console.log(port)
process.stdin.resume()
process.stdin.once('end', () => void stop().then(() => process.exit(0)))
