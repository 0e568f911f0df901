/**
 * A self-check of the raw echo (bench/raw-echo.ts), which the benches trust as their ceiling: frames
 * of every length class (7-, 16- and 64-bit, up to 1 MiB + 3 bytes, empty included) sent in
 * random pieces so that headers, masking keys and payloads straddle chunks, must come back
 * unmasked and whole; a ping must come back as a pong, a close as the same close and the end of
 * the socket; and wsflow's client and ws's client must connect and get their echoes. Runs in about
 * a second; bench/index.ts runs it first. Fails (exit status 1) on any difference.
 *
 * Usage: node --import tsx bench/raw-echo-check.ts
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto'
import { WebSocket as WsWebSocket } from 'ws'
import { connect } from '../src/index.ts'
import { CLOSE_FRAME, handshake, maskedFrame, openSocket, withTimeout } from './frames.ts'
import { frameHeader, nativeMask, startRawEcho } from './raw-echo.ts'

const LENGTHS = [0, 1, 5, 125, 126, 127, 200, 65535, 65536, 70001, (1 << 20) + 3]

const server = await startRawEcho()
const port = (server.address() as { port: number }).port
try {
  // Frames in random pieces, then a ping and a close.
  const socket = await openSocket(port)
  await handshake(socket, port)
  const frames = LENGTHS.map((length) => ({ opcode: length % 2 === 0 ? 0x2 : 0x1, data: randomBytes(length) }))
  const sent = Buffer.concat([...frames.map((f) => maskedFrame(f.opcode, f.data)), maskedFrame(0x9, Buffer.from('ping')), CLOSE_FRAME])
  const expected = Buffer.concat([...frames.flatMap((f) => [frameHeader(0x80 | f.opcode, f.data.length), f.data]), frameHeader(0x8a, 4), Buffer.from('ping'), frameHeader(0x88, 2), Buffer.from([0x03, 0xe8])])
  const received: Buffer[] = []
  const ended = new Promise<void>((resolve, reject) => socket.on('data', (chunk: Buffer) => received.push(chunk)).once('end', resolve).once('error', reject))
  for (let at = 0; at < sent.length; ) {
    const size = Math.min(sent.length - at, randomInt(1, at < 64 ? 8 : 100_000))
    socket.write(sent.subarray(at, at + size))
    at += size
    await new Promise((resolve) => setImmediate(resolve)) // separate chunks on the server
  }
  await withTimeout(ended, 10_000, 'the raw echo of the frames')
  socket.destroy()
  const echo = Buffer.concat(received)
  if (!echo.equals(expected)) throw new Error(`bench: the raw echo differs (got ${echo.length} bytes, expected ${expected.length})`)

  // Real clients.
  const client = await connect(`ws://127.0.0.1:${port}/`)
  await client.send('hello')
  for await (const message of client) {
    if (message.type !== 'text' || message.text() !== 'hello') throw new Error('bench: wsflow client: wrong echo')
    break
  }
  await withTimeout(client.close(), 5000, 'closing the wsflow client')
  const ws = new WsWebSocket(`ws://127.0.0.1:${port}/`)
  const reply = new Promise<string>((resolve, reject) => ws.once('message', (data: Buffer) => resolve(data.toString())).once('error', reject))
  ws.once('open', () => ws.send('hello'))
  if ((await withTimeout(reply, 5000, 'the ws client echo')) !== 'hello') throw new Error('bench: ws client: wrong echo')
  ws.close()
  console.log(`raw echo check: ${LENGTHS.length} frames (0 B to 1 MiB + 3) in random pieces, ping, close, wsflow and ws clients: ok (${nativeMask ? 'bufferutil mask' : '32-bit word loop'})`)
} finally {
  server.close()
}
process.exit(0)
