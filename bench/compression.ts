/**
 * permessage-deflate on small messages: 1,000 chat-like JSON messages (50-300 bytes: chat
 * messages, typing notices, presence, read receipts) echoed one at a time, wsflow against ws in the
 * same run, both with context takeover in both directions (`serverNoContextTakeover: false` on
 * wsflow's server, whose default is to reset; ws keeps its context by default).
 *
 * Reported per side, as the median of interleaved rounds (each round a fresh connection, so each
 * starts with an empty window):
 *  - the compression ratio of each direction: bytes on the wire (frame headers, masks and payloads;
 *    the opening handshake excluded) over the payload bytes sent, read from the server's socket
 *    (`bytesRead` for client to server, `bytesWritten` for server to client);
 *  - CPU per message round trip: `process.cpuUsage()` (user + system, all threads, so zlib's work on
 *    libuv's thread pool counts) around the loop of 1,000 round trips, divided by 1,000. Each round
 *    trip is one message each way: the client compresses, the server inflates, compresses the echo,
 *    and the client inflates it.
 *
 * Both ends run in this one process, on 127.0.0.1 (a server in a child would hide half the CPU, and
 * the two ends of one library are what its users run). The same rows without compression are the
 * floor: what the round trips cost without zlib. A last row runs wsflow's server with its default
 * `server_no_context_takeover`, where the threshold (1 KiB) still applies to what the server sends;
 * and one more compresses every message without context takeover in either direction (threshold 0),
 * to show what the threshold saves there.
 *
 * `node --import tsx bench/compression.ts [--quick]` (about 15 s; `--quick`: 3 rounds).
 * @module
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket as WsSocket, WebSocketServer } from 'ws'
import { connect, serve, type PerMessageDeflateConfig } from '../src/index.ts'
import { isQuick, median, renderTable } from './harness.ts'

const MESSAGES = 1000
const ROUNDS = isQuick() ? 3 : 11
const ROUND_MS = 20_000 // bound on one round's 1,000 round trips

// ---------------------------------------------------------------------------------------------
// The messages: deterministic, chat-like JSON of 50 to 300 bytes

/** xorshift32: the same messages in every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x1_0000_0000
  }
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj']
const ROOMS = ['general', 'random', 'dev-backend', 'support', 'release-2.4']
const WORDS = ('the build is green again after the flaky test was fixed i will deploy to staging in ten minutes can someone review my pull ' +
  'request please thanks looks good to me ship it lunch anyone the meeting moved to three o clock did you see the new dashboard numbers ' +
  'latency went down since yesterday we should write that down somewhere ok sounds good').split(' ')

/** 1,000 messages as a chat client sends and receives them, each 50 to 300 bytes of UTF-8. */
export function chatMessages(count = MESSAGES, seed = 42): string[] {
  const next = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  const out: string[] = []
  let ts = 1_718_000_000_000
  for (let i = 0; i < count; i++) {
    ts += 200 + Math.floor(next() * 5000)
    const user = pick(USERS)
    const room = pick(ROOMS)
    const kind = next()
    let message: string
    if (kind < 0.65) {
      const words: string[] = []
      const want = 20 + Math.floor(next() * 160) // text length in characters
      while (words.join(' ').length < want) words.push(pick(WORDS))
      const reply = next() < 0.2 ? `"m-${(i - 1 - Math.floor(next() * 20)).toString().padStart(6, '0')}"` : 'null'
      message = `{"type":"message","id":"m-${i.toString().padStart(6, '0')}","room":"${room}","from":{"id":"u-${USERS.indexOf(user) + 1000}","name":"${user}"},"text":"${words.join(' ')}","replyTo":${reply},"ts":${ts}}`
    } else if (kind < 0.8) {
      message = `{"type":"typing","room":"${room}","user":"${user}","active":${next() < 0.8},"ts":${ts}}`
    } else if (kind < 0.9) {
      message = `{"type":"presence","user":"${user}","status":"${pick(['online', 'away', 'busy', 'offline'])}","ts":${ts}}`
    } else {
      message = `{"type":"read","room":"${room}","user":"${user}","upTo":"m-${Math.max(0, i - Math.floor(next() * 10)).toString().padStart(6, '0')}","ts":${ts}}`
    }
    if (message.length > 300) message = message.slice(0, 280) + '"}'
    out.push(message)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// One round: a fresh connection, 1,000 round trips

interface RoundResult {
  /** Wire bytes client to server over payload bytes. */
  up: number
  /** Wire bytes server to client over payload bytes. */
  down: number
  /** CPU microseconds per round trip. */
  cpu: number
}

interface Side {
  readonly name: string
  /** Opens a connection, runs the round trips, closes; returns the measures. */
  run(messages: readonly string[], payloadBytes: number): Promise<RoundResult>
  close(): Promise<void>
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} took more than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** An HTTP server on 127.0.0.1, port 0, that remembers its latest socket (one connection per round). */
async function httpServer(): Promise<{ server: HttpServer; port: number; latest: () => Socket }> {
  const server = createServer()
  let latest: Socket | undefined
  server.on('connection', (socket) => {
    latest = socket
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    latest: () => {
      if (latest === undefined) throw new Error('bench: no connection')
      return latest
    },
  }
}

function closeHttp(server: HttpServer): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

function measureLoop(socket: Socket, payloadBytes: number, start: { read: number; written: number; cpu: NodeJS.CpuUsage }): RoundResult {
  const cpu = process.cpuUsage(start.cpu)
  return {
    up: (socket.bytesRead - start.read) / payloadBytes,
    down: (socket.bytesWritten - start.written) / payloadBytes,
    cpu: (cpu.user + cpu.system) / MESSAGES,
  }
}

async function wsflowSide(name: string, deflate: PerMessageDeflateConfig | false, clientDeflate: PerMessageDeflateConfig | boolean = deflate !== false): Promise<Side> {
  const http = await httpServer()
  let opened: (() => void) | undefined
  const wss = await serve({ server: http.server, perMessageDeflate: deflate }, async (ws) => {
    opened?.()
    for await (const message of ws) await ws.send(message)
  })
  return {
    name,
    async run(messages, payloadBytes) {
      const serverOpen = new Promise<void>((resolve) => (opened = resolve))
      const ws = await connect(`ws://127.0.0.1:${http.port}/`, { perMessageDeflate: clientDeflate })
      await serverOpen
      if ((deflate === false) !== (ws.extensions.length === 0)) throw new Error(`bench: ${name}: extensions ${JSON.stringify(ws.extensions)}`)
      const socket = http.latest()
      const iterator = ws[Symbol.asyncIterator]()
      const start = { read: socket.bytesRead, written: socket.bytesWritten, cpu: process.cpuUsage() }
      await within((async () => {
        for (const message of messages) {
          await ws.send(message)
          const echo = await iterator.next()
          if (echo.done === true || echo.value.text() !== message) throw new Error(`bench: ${name}: wrong echo`)
        }
      })(), ROUND_MS, `${name}: ${MESSAGES} round trips`)
      const result = measureLoop(socket, payloadBytes, start)
      await ws.close(1000)
      await within(ws.closed, 5000, `${name}: close`)
      return result
    },
    async close() {
      await wss.close()
      await closeHttp(http.server)
    },
  }
}

async function wsSide(name: string, deflate: boolean): Promise<Side> {
  const http = await httpServer()
  const wss = new WebSocketServer({ server: http.server, perMessageDeflate: deflate })
  let opened: (() => void) | undefined
  wss.on('connection', (ws) => {
    opened?.()
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  })
  return {
    name,
    async run(messages, payloadBytes) {
      const serverOpen = new Promise<void>((resolve) => (opened = resolve))
      const ws = new WsSocket(`ws://127.0.0.1:${http.port}/`, { perMessageDeflate: deflate })
      await within(new Promise<void>((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      }), 5000, `${name}: open`)
      await serverOpen
      if (deflate !== ws.extensions.includes('permessage-deflate')) throw new Error(`bench: ${name}: extensions ${ws.extensions}`)
      const socket = http.latest()
      let waiting: ((text: string) => void) | undefined
      ws.on('message', (data: Buffer) => waiting?.(data.toString()))
      const start = { read: socket.bytesRead, written: socket.bytesWritten, cpu: process.cpuUsage() }
      await within((async () => {
        for (const message of messages) {
          const echo = new Promise<string>((resolve) => (waiting = resolve))
          ws.send(message)
          if ((await echo) !== message) throw new Error(`bench: ${name}: wrong echo`)
        }
      })(), ROUND_MS, `${name}: ${MESSAGES} round trips`)
      const result = measureLoop(socket, payloadBytes, start)
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
      ws.close(1000)
      await within(closed, 5000, `${name}: close`)
      return result
    },
    async close() {
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await closeHttp(http.server)
    },
  }
}

// ---------------------------------------------------------------------------------------------

const messages = chatMessages()
const payloadBytes = messages.reduce((sum, m) => sum + Buffer.byteLength(m), 0)
const sizes = messages.map((m) => Buffer.byteLength(m))
console.log(`${MESSAGES} messages, ${Math.min(...sizes)}-${Math.max(...sizes)} bytes (median ${median(sizes)}), ${payloadBytes} payload bytes each way; ${ROUNDS} rounds, both ends in this process`)

const NO_TAKEOVER = { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 }
const sides: Side[] = [
  await wsflowSide('wsflow', { serverNoContextTakeover: false }),
  await wsSide('ws', true),
  await wsflowSide('wsflow, no compression', false),
  await wsSide('ws, no compression', false),
  await wsflowSide('wsflow, server defaults', {}),
  await wsflowSide('wsflow, no context takeover, threshold 0', NO_TAKEOVER, NO_TAKEOVER),
]
const results: RoundResult[][] = sides.map(() => [])
try {
  for (const side of sides) await side.run(messages.slice(0, 100), messages.slice(0, 100).reduce((s, m) => s + Buffer.byteLength(m), 0)) // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < sides.length; k++) {
      const index = r % 2 === 0 ? k : sides.length - 1 - k
      results[index]!.push(await sides[index]!.run(messages, payloadBytes))
    }
  }
} finally {
  for (const side of sides) await side.close()
}

const cell = (values: number[], digits: number): string => {
  const m = median(values)
  const half = ((Math.max(...values) - Math.min(...values)) / 2 / m) * 100
  return `${m.toFixed(digits)} ±${half.toFixed(half < 10 ? 1 : 0)}%`
}
const rows = [['', 'wire/payload client→server', 'wire/payload server→client', 'CPU µs per round trip']]
sides.forEach((side, i) => {
  const r = results[i]!
  rows.push([side.name, median(r.map((x) => x.up)).toFixed(3), median(r.map((x) => x.down)).toFixed(3), cell(r.map((x) => x.cpu), 1)])
})
console.log(renderTable(rows))
const cpuOf = (i: number): number => median(results[i]!.map((x) => x.cpu))
console.log(`CPU wsflow/ws with compression: ${(cpuOf(0) / cpuOf(1)).toFixed(2)}x; without: ${(cpuOf(2) / cpuOf(3)).toFixed(2)}x`)
