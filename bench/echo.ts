/**
 * Echo throughput of small messages: the same lean load generator (pre-built masked frames, a
 * window of messages in flight) against wsflow's, ws's and a raw framed echo server, each in its
 * own process, pinned to its own core where `taskset` exists. Reports msg/s and ratios.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { formatRate, formatSpread, median, summarize } from './harness.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 5
const ROUND_MS = quick ? 1000 : 2000
const WINDOW = 128
const SIZE = 64
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0

function startServer(impl: string): Promise<{ child: ChildProcess; port: number }> {
  const file = fileURLToPath(new URL('echo-server.ts', import.meta.url))
  const args = ['--import', 'tsx', file, impl]
  const child = hasTaskset ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${impl} server did not start`)), 20_000)
    child.stdout!.once('data', (data: Buffer) => {
      clearTimeout(timer)
      resolve({ child, port: Number(data.toString().trim()) })
    })
  })
}

function frame(opcode: number): Buffer {
  const key = randomBytes(4)
  const out = Buffer.alloc(6 + SIZE)
  out[0] = 0x80 | opcode
  out[1] = 0x80 | SIZE
  key.copy(out, 2)
  for (let i = 0; i < SIZE; i++) out[6 + i] = (i & 0x3f) ^ key[i & 3]!
  return out
}

async function open(port: number, handshake: boolean): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  if (!handshake) return socket
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  let head = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData)
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head))
        else resolve()
      }
    }
    socket.on('data', onData)
  })
  return socket
}

/** Runs `ms` of echo on one connection with WINDOW messages in flight; returns messages per second. */
async function round(port: number, handshake: boolean, opcode: number, ms: number): Promise<number> {
  const socket = await open(port, handshake)
  const one = frame(opcode)
  const batch = Buffer.concat(Array.from({ length: WINDOW }, () => one))
  const echoSize = 2 + SIZE
  let received = 0
  let leftover = 0
  let counting = false
  let counted = 0
  const start = { t: 0 }
  socket.on('data', (chunk: Buffer) => {
    const bytes = leftover + chunk.length
    const messages = Math.floor(bytes / echoSize)
    leftover = bytes - messages * echoSize
    received += messages
    if (counting) counted += messages
    if (messages > 0) socket.write(messages === WINDOW ? batch : batch.subarray(0, messages * one.length))
  })
  socket.write(batch)
  await new Promise((resolve) => setTimeout(resolve, 200)) // warm-up
  counting = true
  start.t = performance.now()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const rate = counted / ((performance.now() - start.t) / 1000)
  socket.destroy()
  if (received === 0) throw new Error('no echo received')
  return rate
}

const results: Record<string, { text: number[]; binary: number[] }> = {}
const servers: Record<string, { child: ChildProcess; port: number }> = {}
for (const impl of ['wsflow', 'ws', 'raw']) {
  servers[impl] = await startServer(impl)
  results[impl] = { text: [], binary: [] }
}
for (let r = 0; r < ROUNDS; r++) {
  for (const impl of r % 2 === 0 ? ['wsflow', 'ws', 'raw'] : ['raw', 'ws', 'wsflow']) {
    const { port } = servers[impl]!
    results[impl]!.binary.push(await round(port, impl !== 'raw', 0x2, ROUND_MS))
    if (impl !== 'raw') results[impl]!.text.push(await round(port, true, 0x1, ROUND_MS))
  }
}
for (const { child } of Object.values(servers)) child.stdin!.end()

console.log(`echo, 1 connection, ${SIZE} B messages, ${WINDOW} in flight${hasTaskset ? ', server on core 1' : ''}; medians of ${ROUNDS} rounds of ${ROUND_MS} ms`)
console.log('workload              wsflow (msg/s)       ws (msg/s)      raw (msg/s)   vs ws   vs raw')
for (const kind of ['binary', 'text'] as const) {
  const w = median(results.wsflow![kind])
  const s = median(results.ws![kind])
  const raw = median(results.raw!.binary)
  const cell = (values: number[]) => `${formatRate(median(values))} ${formatSpread(summarize('', values))}`.padStart(16)
  console.log(`64 B ${kind.padEnd(6)}   ${cell(results.wsflow![kind])} ${cell(results.ws![kind])} ${cell(results.raw!.binary)}   ${(w / s).toFixed(2)}x   ${((w / raw) * 100).toFixed(0)}%`)
}
