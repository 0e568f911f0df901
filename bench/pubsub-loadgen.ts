/**
 * The subscribers of bench/pubsub.ts, in a process of their own: plain node:net sockets with a
 * hand-written handshake, each parsing what it receives: the 64-byte binary frames of the
 * publications (header and payload bytes checked, counted) and the server's pings (answered with a
 * masked pong, as a real client does: wsflow's server pings a silent peer after half its
 * `stallTimeout`); anything else fails the run. Lines on stdin, JSON lines on stdout:
 *
 * - `{"cmd":"open","port":p,"connections":n}`: opens n connections (256 at a time); `{"open":n}`;
 * - `{"cmd":"expect","frames":f,"timeout":ms}`: answers `{"done":true}` once every connection has
 *   received f frames in all (or `{"error":...}` after ms milliseconds).
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { handshake, openSocket } from './frames.ts'

const PAYLOAD_LENGTH = 64
const PAYLOAD_BYTE = 0x61
const OPEN_BATCH = 256
const MASK = randomBytes(4)

interface Subscriber {
  readonly socket: Socket
  frames: number
  rest: Buffer | undefined // the start of a frame cut by the end of a chunk
}

/** Parses the frames of a chunk: counts publications, answers pings; throws on anything else. */
function parse(subscriber: Subscriber, chunk: Buffer): void {
  const data = subscriber.rest === undefined ? chunk : Buffer.concat([subscriber.rest, chunk])
  let offset = 0
  while (offset + 2 <= data.length) {
    const b0 = data[offset]!
    const length = data[offset + 1]!
    if (length > 125) throw new Error(`bench: unexpected frame length byte 0x${length.toString(16)}`)
    if (offset + 2 + length > data.length) break
    if (b0 === 0x82 && length === PAYLOAD_LENGTH) {
      if (data[offset + 2] !== PAYLOAD_BYTE || data[offset + 1 + length] !== PAYLOAD_BYTE) throw new Error('bench: a publication\'s payload differs')
      subscriber.frames++
    } else if (b0 === 0x89) {
      const pong = Buffer.alloc(6 + length)
      pong[0] = 0x8a
      pong[1] = 0x80 | length
      MASK.copy(pong, 2)
      for (let i = 0; i < length; i++) pong[6 + i] = data[offset + 2 + i]! ^ MASK[i & 3]!
      subscriber.socket.write(pong)
    } else {
      throw new Error(`bench: unexpected frame 0x${b0.toString(16)} of ${length} bytes`)
    }
    offset += 2 + length
  }
  subscriber.rest = offset < data.length ? Buffer.from(data.subarray(offset)) : undefined
}

const subscribers: Subscriber[] = []
let target = 0 // frames every connection must reach
let behind = 0 // connections below target
let waiting: ((line: string) => void) | undefined

function onFrames(subscriber: Subscriber, before: number): void {
  if (before < target && subscriber.frames >= target) {
    behind--
    if (behind === 0 && waiting !== undefined) {
      const reply = waiting
      waiting = undefined
      reply(JSON.stringify({ done: true }))
    }
  }
}

async function open(port: number): Promise<Subscriber> {
  const socket = await openSocket(port)
  const rest = await handshake(socket, port)
  const subscriber: Subscriber = { socket, frames: 0, rest: undefined }
  const feed = (chunk: Buffer): void => {
    const before = subscriber.frames
    parse(subscriber, chunk)
    onFrames(subscriber, before)
  }
  if (rest.length > 0) feed(rest)
  socket.on('data', feed)
  socket.on('error', () => undefined)
  return subscriber
}

const print = (line: string): void => void process.stdout.write(`${line}\n`)

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; port?: number; connections?: number; frames?: number; timeout?: number }
  if (command.cmd === 'open') {
    void (async () => {
      for (let i = 0; i < command.connections!; i += OPEN_BATCH) {
        const batch = Math.min(OPEN_BATCH, command.connections! - i)
        subscribers.push(...(await Promise.all(Array.from({ length: batch }, () => open(command.port!)))))
      }
      print(JSON.stringify({ open: subscribers.length }))
    })().catch((error: unknown) => print(JSON.stringify({ error: String(error) })))
  } else if (command.cmd === 'expect') {
    const frames = command.frames!
    target = frames
    behind = 0
    for (const s of subscribers) if (s.frames < target) behind++
    const timer = setTimeout(() => {
      if (waiting === undefined) return
      waiting = undefined
      print(JSON.stringify({ error: `${behind} of ${subscribers.length} connections short of ${frames} frames` }))
    }, command.timeout ?? 60_000)
    waiting = (reply) => {
      clearTimeout(timer)
      print(reply)
    }
    if (behind === 0) waiting(JSON.stringify({ done: true }))
  }
}).on('close', () => {
  for (const s of subscribers) s.socket.destroy()
  process.exit(0)
})
