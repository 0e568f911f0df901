/**
 * The subscribers of bench/pubsub.ts, in a process of their own: plain node:net sockets with a
 * hand-written handshake, each checking the stream of identical 64-byte binary frames it receives
 * (every header byte, the first payloads byte for byte: bench/frames.ts's EchoChecker). Lines on
 * stdin, JSON lines on stdout:
 *
 * - `{"cmd":"open","port":p,"connections":n}`: opens n connections (64 at a time); `{"open":n}`;
 * - `{"cmd":"expect","frames":f,"timeout":ms}`: answers `{"done":true}` once every connection has
 *   received f frames in all (or `{"error":...}` after ms milliseconds).
 * @module
 */
import type { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { EchoChecker, handshake, openSocket } from './frames.ts'

const payload = Buffer.alloc(64, 0x61)
const OPEN_BATCH = 64

interface Subscriber {
  readonly socket: Socket
  readonly checker: EchoChecker
}

const subscribers: Subscriber[] = []
let target = 0 // frames every connection must reach
let behind = 0 // connections below target
let waiting: ((line: string) => void) | undefined

function onFrames(subscriber: Subscriber, before: number): void {
  if (before < target && subscriber.checker.frames >= target) {
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
  const subscriber: Subscriber = { socket, checker: new EchoChecker(0x2, payload, 4) }
  const feed = (chunk: Buffer): void => {
    const before = subscriber.checker.frames
    subscriber.checker.feed(chunk)
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
    for (const s of subscribers) if (s.checker.frames < target) behind++
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
