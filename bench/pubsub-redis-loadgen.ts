/**
 * The subscribers of bench/pubsub-redis.ts, in a process of their own: `ws` clients (the same
 * client for both contenders), to wsflow's path or to socket.io's WebSocket transport
 * (`/socket.io/?EIO=4&transport=websocket`, the engine.io open, the socket.io CONNECT to `/`, pings
 * answered). Each message's publish time (written in it by the server) gives its latency. Lines
 * on stdin, JSON lines on stdout:
 *
 * - `{"cmd":"open","ports":[a,b],"connections":n,"protocol":"wsflow"|"socket.io"}`: n connections
 *   to each port; `{"open":total}` once all are connected (socket.io: CONNECT acknowledged);
 * - `{"cmd":"expect","messages":m,"timeout":ms}`: answers once every connection has received m
 *   more messages, with `{"p50":ms,"p99":ms,"count":k}` over them (an `{"error"}` if a connection
 *   got more than m, or after ms milliseconds).
 * @module
 */
import { createInterface } from 'node:readline'
import WebSocket from 'ws'

const now = (): number => performance.timeOrigin + performance.now()
const OPEN_BATCH = 32

interface Subscriber {
  readonly ws: WebSocket
  count: number
}

const subscribers: Subscriber[] = []
let target = 0
let behind = 0
let latencies = new Float64Array(0)
let recorded = 0
let waiting: ((line: string) => void) | undefined
let failure: string | undefined

function record(subscriber: Subscriber, text: string, offset: number): void {
  const bar = text.indexOf('|', offset)
  const end = text.indexOf('|', bar + 1)
  const sent = Number(text.slice(bar + 1, end))
  if (recorded < latencies.length) latencies[recorded++] = now() - sent
  subscriber.count++
  if (subscriber.count === target) {
    behind--
    if (behind === 0) finish()
  } else if (subscriber.count > target && failure === undefined) {
    failure = `a connection got ${subscriber.count} messages, expected ${target}`
  }
}

function finish(): void {
  const reply = waiting
  waiting = undefined
  if (reply === undefined) return
  if (failure !== undefined) return reply(JSON.stringify({ error: failure }))
  const sorted = latencies.subarray(0, recorded).sort()
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  reply(JSON.stringify({ p50: at(0.5), p99: at(0.99), count: recorded }))
}

function open(port: number, protocol: string): Promise<Subscriber> {
  const url = protocol === 'socket.io' ? `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket` : `ws://127.0.0.1:${port}/`
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const subscriber: Subscriber = { ws, count: 0 }
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    if (protocol === 'socket.io') {
      ws.on('message', (data: Buffer) => {
        const text = data.toString()
        if (text.startsWith('42')) record(subscriber, text, 7)
        else if (text === '2') ws.send('3') // engine.io ping -> pong
        else if (text.startsWith('0')) ws.send('40') // engine.io open -> socket.io CONNECT to '/'
        else if (text.startsWith('40')) resolve(subscriber)
      })
    } else {
      ws.on('message', (data: Buffer) => record(subscriber, data.toString(), 0))
      ws.once('open', () => resolve(subscriber))
    }
  })
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; ports: number[]; connections: number; protocol: string; messages: number; timeout: number }
  const reply = (value: unknown): boolean => process.stdout.write(`${JSON.stringify(value)}\n`)
  if (command.cmd === 'open') {
    void (async () => {
      for (const port of command.ports) {
        for (let opened = 0; opened < command.connections; opened += OPEN_BATCH) {
          const batch = Math.min(OPEN_BATCH, command.connections - opened)
          subscribers.push(...(await Promise.all(Array.from({ length: batch }, () => open(port, command.protocol)))))
        }
      }
      reply({ open: subscribers.length })
    })().catch((error: unknown) => reply({ error: String(error) }))
  } else if (command.cmd === 'expect') {
    target += command.messages
    behind = subscribers.filter((s) => s.count < target).length
    latencies = new Float64Array(subscribers.length * command.messages)
    recorded = 0
    failure = undefined
    const timer = setTimeout(() => {
      if (waiting === undefined) return
      waiting = undefined
      reply({ error: `timed out: ${behind} of ${subscribers.length} connections below ${target} messages` })
    }, command.timeout)
    waiting = (answer) => {
      clearTimeout(timer)
      process.stdout.write(`${answer}\n`)
    }
    if (behind === 0) finish()
  } else {
    reply({ error: `unknown command ${command.cmd}` })
  }
}).on('close', () => process.exit(0))
