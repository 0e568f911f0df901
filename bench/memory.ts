/**
 * Server memory per idle open connection, wsflow against ws: plain, with permessage-deflate, and
 * with a heartbeat (wsflow's `stallTimeout: 30_000`; for ws, the heartbeat its README shows: one
 * interval pinging every client, an `isAlive` flag and a 'pong' listener per connection).
 *
 * Each server runs in a process of its own (bench/memory-server.ts, with --expose-gc, pinned to core
 * 1 where `taskset` exists) and measures itself after two full GCs when asked. The clients are plain
 * sockets in this process with a hand-written handshake (offering `permessage-deflate;
 * client_max_window_bits` in the compression runs), so that nothing of the client side is counted.
 *
 * Per implementation and compression setting: a warm-up (some connections open, one message each,
 * all closed), the baseline, N connections opened in batches → "idle, no message yet"; then one 2 KiB
 * compressible text message each way on every connection (masked, deflated with zlib when the
 * extension was negotiated, the echo read and checked) → "idle after one message". Reported: rss,
 * heapUsed and external (which includes arrayBuffers) above the baseline, divided by N.
 *
 * wsflow runs as users run it: compiled by tsc (tsconfig.build.json, without type checking) into a
 * temporary directory. `--source` runs src/ through tsx instead, as the other benches do; beware that
 * tsx compiles with esbuild's keepNames, which gives every arrow function assigned to a name (most
 * per-connection closures in src/) a `name` property of its own, some 250 B each.
 *
 * `--baseline=<git rev>`: that revision's src/ (bench/baseline.ts) runs as a third server,
 * `wsflow@<short sha>`, built the same way (tsc, or tsx with `--source`), next to wsflow and ws in
 * every setting; a second table compares the two wsflow builds (wsflow/base).
 *
 * `--quick`: 1,000 connections instead of 5,000. `--snapshot`: also writes V8 heap snapshots of both
 * servers (baseline, no message yet, after one message) to a temporary directory and prints, per
 * connection, what the heap gained by constructor name (`--keep-snapshots` keeps the files).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'
import { wsflowBuilds, type WsflowBuilds } from './baseline.ts'
import { renderTable } from './harness.ts'

const quick = process.argv.includes('--quick')
const snapshots = process.argv.includes('--snapshot')
const WANTED = quick ? 1000 : 5000
const WARMUP = 100
const BATCH = 200 // connections opened (or messages exchanged) at once
const SIZE = 2048
const STEP_MS = 90_000 // bound on opening all connections, or on exchanging all messages
const SOCKET_MS = 10_000 // bound on one handshake or one echo
const hasTaskset = spawnSync('taskset', ['-c', '1', 'true']).status === 0
// The floor (deflate off only): bench/raw-echo.ts, a minimal echo on node:net that keeps nothing
// per connection but its socket and a few numbers. What it uses, any Node.js WebSocket server pays.
/** A server of memory-server.ts: `wsflow`, `ws` or `raw`. */
type Kind = 'wsflow' | 'ws' | 'raw'
/** A contender: its name in the tables (`wsflow@<sha>` for a baseline), its kind, wsflow's module. */
interface Impl {
  readonly name: string
  readonly kind: Kind
  readonly module?: string | undefined
}
/** off: no extension, no heartbeat; on: permessage-deflate; heartbeat: no extension, a heartbeat. */
type Setting = 'off' | 'on' | 'heartbeat'
const SETTINGS: readonly Setting[] = ['off', 'on', 'heartbeat']

// ---------------------------------------------------------------------------------------------
// How many connections: each process holds one descriptor per connection, plus its own few.

const fdLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim())
const FD_RESERVE = 200
let N = WANTED
if (Number.isFinite(fdLimit) && fdLimit - FD_RESERVE < N) {
  N = Math.max(100, fdLimit - FD_RESERVE)
  console.log(`note: ulimit -n is ${fdLimit}; measuring ${N} connections instead of ${WANTED} (no limit is raised)`)
}

// ---------------------------------------------------------------------------------------------
// The message: compressible text, and its raw deflate stream as a fresh client compressor sends it.

const TEXT = Buffer.from(
  Array.from({ length: 64 }, (_, i) => `{"id":${i},"user":"user-${i % 7}","event":"tick","ok":true}`).join('\n'),
).subarray(0, SIZE)
if (TEXT.length !== SIZE) throw new Error('bench: the message text is too short')
const DEFLATED = (() => {
  const out = deflateRawSync(TEXT, { finishFlush: constants.Z_SYNC_FLUSH })
  // RFC 7692 §7.2.1: the sender removes the 0x00 0x00 0xff 0xff the sync flush ends with.
  if (out.subarray(-4).toString('hex') !== '0000ffff') throw new Error('bench: unexpected deflate trailer')
  return out.subarray(0, out.length - 4)
})()
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff])

/** One masked text frame (RSV1 set when compressed), with a masking key of its own. */
function frame(payload: Buffer, compressed: boolean): Buffer {
  if (payload.length < 126 || payload.length > 0xffff) throw new Error('bench: frame sizes are 16-bit here')
  const key = randomBytes(4)
  const out = Buffer.allocUnsafe(8 + payload.length)
  out[0] = 0x81 | (compressed ? 0x40 : 0)
  out[1] = 0x80 | 126
  out.writeUInt16BE(payload.length, 2)
  key.copy(out, 4)
  for (let i = 0; i < payload.length; i++) out[8 + i] = payload[i]! ^ key[i & 3]!
  return out
}

// ---------------------------------------------------------------------------------------------
// The server process

interface Usage {
  rss: number
  heapTotal: number
  heapUsed: number
  /** The V8 heap's pages written to (part of rss). */
  heapPhysical: number
  external: number
  arrayBuffers: number
  connections: number
}

class ServerProcess {
  readonly child: ChildProcess
  readonly port: Promise<number>
  readonly #waiting: ((line: string) => void)[] = []
  readonly #exited: Promise<void>

  constructor(impl: Impl, setting: Setting) {
    const file = fileURLToPath(new URL('memory-server.ts', import.meta.url))
    const args = ['--expose-gc', '--import', 'tsx', file, impl.kind, setting, ...(impl.kind === 'wsflow' && impl.module !== undefined ? [impl.module] : [])]
    const stdio: ['pipe', 'pipe', 'inherit'] = ['pipe', 'pipe', 'inherit']
    this.child = hasTaskset ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio }) : spawn(process.execPath, args, { stdio })
    running.add(this.child)
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
    void this.#exited.then(() => running.delete(this.child))
    const lines = createInterface({ input: this.child.stdout! })
    lines.on('line', (line) => this.#waiting.shift()?.(line))
    this.port = this.#next(20_000, 'start').then(Number)
  }

  #next(ms: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: the server did not answer ${what} within ${ms} ms`)), ms)
      this.#waiting.push((line) => {
        clearTimeout(timer)
        resolve(line)
      })
    })
  }

  async command(line: string): Promise<Record<string, unknown>> {
    const answer = this.#next(60_000, line)
    this.child.stdin!.write(`${line}\n`)
    const result = JSON.parse(await answer) as Record<string, unknown>
    if (typeof result.error === 'string') throw new Error(`bench: server: ${result.error}`)
    return result
  }

  measure(): Promise<Usage> {
    return this.command('gc+measure') as Promise<unknown> as Promise<Usage>
  }

  /** Measures until the server counts `count` open connections (bounded: 50 tries, 100 ms apart). */
  async measureWhen(count: number): Promise<Usage> {
    for (let i = 0; ; i++) {
      const usage = await this.measure()
      if (usage.connections === count) return usage
      if (i === 50) throw new Error(`bench: the server has ${usage.connections} connections open, expected ${count}`)
      await sleep(100)
    }
  }

  /** Closes stdin (the server closes and exits); kills the process if it has not exited within 5 s. */
  async stop(): Promise<void> {
    this.child.stdin!.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await this.#exited
    clearTimeout(timer)
  }
}

/** Server processes still running, killed by PID if this process exits early. */
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------------------------------------
// The clients: raw sockets

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} took more than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Opens a connection and completes the opening handshake; checks that deflate was agreed iff offered. */
async function open(port: number, deflate: boolean, sockets: Socket[]): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket) // closed at the end whatever happens
  socket.setNoDelay(true)
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const extension = deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : ''
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extension}\r\n`)
  const head = await new Promise<string>((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData).off('error', reject)
      if (end + 4 !== text.length) reject(new Error('bench: bytes after the handshake response'))
      else resolve(text)
    }
    socket.on('data', onData).once('error', reject)
  })
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`bench: handshake refused: ${head.split('\r\n')[0]}`)
  const agreed = /^sec-websocket-extensions:\s*permessage-deflate/im.test(head)
  if (agreed !== deflate) throw new Error(`bench: permessage-deflate ${agreed ? 'agreed' : 'not agreed'} with it ${deflate ? '' : 'not '}offered`)
  socket.on('error', () => undefined) // reported as a missing echo or a closed connection instead
  return socket
}

/** Sends one 2 KiB text message and reads its echo: one unmasked frame, compressed iff `deflate`. */
async function exchange(socket: Socket, deflate: boolean): Promise<void> {
  let received: Buffer = Buffer.alloc(0)
  const reply = new Promise<Buffer>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
      if (received.length < 2) return
      let length = received[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (received.length < 4) return
        length = received.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        reject(new Error('bench: an echo over 64 KiB'))
        return
      }
      if (received.length < offset + length) return
      socket.off('data', onData).off('close', onClose)
      if (received.length !== offset + length) reject(new Error('bench: more than one frame in reply'))
      else resolve(received)
    }
    const onClose = (): void => reject(new Error('bench: the connection closed before the echo'))
    socket.on('data', onData).once('close', onClose)
  })
  socket.write(frame(deflate ? DEFLATED : TEXT, deflate))
  const echo = await reply
  if ((echo[0]! & 0x0f) !== 0x1 || (echo[0]! & 0x80) === 0) throw new Error(`bench: unexpected echo frame 0x${echo[0]!.toString(16)}`)
  const compressed = (echo[0]! & 0x40) !== 0
  if (compressed !== deflate) throw new Error(`bench: the echo is ${compressed ? '' : 'not '}compressed`)
  const payload = echo.subarray(echo[1] === 126 ? 4 : 2)
  const data = compressed ? inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: constants.Z_SYNC_FLUSH }) : payload
  if (!data.equals(TEXT)) throw new Error('bench: the echo differs from the message')
}

/** Runs `task` for items 0..count-1, BATCH at a time, all within STEP_MS. */
async function inBatches(count: number, what: string, task: (i: number) => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + STEP_MS
  for (let start = 0; start < count; start += BATCH) {
    const left = deadline - performance.now()
    if (left <= 0) throw new Error(`bench: ${what} took more than ${STEP_MS} ms`)
    const batch = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => withTimeout(task(start + k), Math.min(SOCKET_MS, left), what))
    await Promise.all(batch)
  }
}

function closeAll(sockets: Socket[]): void {
  for (const socket of sockets) socket.destroy()
  sockets.length = 0
}

// ---------------------------------------------------------------------------------------------
// One configuration

interface Result {
  impl: string
  setting: Setting
  base: Usage
  open: Usage
  message: Usage
  snapshots: string[]
}

async function run(impl: Impl, setting: Setting, dir: string | undefined): Promise<Result> {
  const deflate = setting === 'on'
  const server = new ServerProcess(impl, setting)
  const sockets: Socket[] = []
  const warm: Socket[] = []
  try {
    const port = await server.port
    await sleep(300) // settle

    // Warm-up: the code paths of a connection and of a message, the lazily loaded modules.
    await inBatches(WARMUP, 'warm-up', async () => {
      const socket = await open(port, deflate, warm)
      await exchange(socket, deflate)
    })
    closeAll(warm)
    const base = await server.measureWhen(0)
    const files: string[] = []
    const snapshot = async (name: string): Promise<void> => {
      if (dir === undefined) return
      const answer = await server.command(`snapshot ${join(dir, `${impl.name}-${setting}-${name}.heapsnapshot`)}`)
      files.push(answer.file as string)
    }
    await snapshot('0-base')

    const clients: Socket[] = []
    await inBatches(N, 'opening connections', async () => clients.push(await open(port, deflate, sockets)))
    await sleep(200)
    const open_ = await server.measureWhen(N)
    await snapshot('1-open')

    await inBatches(N, 'the messages', (i) => exchange(clients[i]!, deflate))
    await sleep(200)
    const message = await server.measureWhen(N)
    await snapshot('2-message')
    return { impl: impl.name, setting, base, open: open_, message, snapshots: files }
  } finally {
    closeAll(warm)
    closeAll(sockets)
    await server.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Heap snapshots: self sizes by constructor name

/** Self size and count per node name (the constructor for objects) in a .heapsnapshot file. */
async function heapByName(file: string): Promise<Map<string, { size: number; count: number }>> {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = json.snapshot.meta.node_fields
  const types = json.snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const byName = new Map<string, { size: number; count: number }>()
  const nodes = json.nodes
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!
    let name = json.strings[nodes[i + nameAt]!]!
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)'
    else if (type === 'code') name = '(code)'
    else if (type !== 'object' && type !== 'native' && type !== 'closure') name = `(${type}) ${name}`.slice(0, 60)
    else if (type === 'closure') name = '(closure)'
    const entry = byName.get(name)
    if (entry === undefined) byName.set(name, { size: nodes[i + sizeAt]!, count: 1 })
    else {
      entry.size += nodes[i + sizeAt]!
      entry.count++
    }
  }
  return byName
}

const LABELS: Record<Setting, string> = { off: '', on: ' + deflate', heartbeat: ' + heartbeat' }

async function printHeapDiff(result: Result): Promise<void> {
  const [base, open_, message] = await Promise.all(result.snapshots.map(heapByName))
  for (const [label, after] of [['no message yet', open_!], ['after one message', message!]] as const) {
    const rows = [...after].map(([name, { size, count }]) => {
      const before = base!.get(name) ?? { size: 0, count: 0 }
      return { name, size: (size - before.size) / N, count: (count - before.count) / N }
    })
    rows.sort((a, b) => b.size - a.size)
    const total = rows.reduce((sum, row) => sum + row.size, 0)
    console.log('')
    console.log(`${result.impl}${LABELS[result.setting]}, ${label}: heap snapshot, ${total.toFixed(0)} B per connection above the baseline; largest by constructor`)
    console.log(renderTable([
      ['constructor', 'B/conn', 'objects/conn'],
      ...rows.slice(0, 16).map((row) => [row.name, row.size.toFixed(0), row.count.toFixed(2)]),
    ]))
  }
}

// ---------------------------------------------------------------------------------------------
// The run

const cpu = cpus()
const wsVersion = (JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/ws/package.json', import.meta.url)), 'utf8')) as { version: string }).version
console.log(`memory per idle connection: node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ulimit -n ${fdLimit}, ws ${wsVersion}${hasTaskset ? ', server on core 1' : ''}`)

let builds: WsflowBuilds | undefined
const dir = snapshots ? mkdtempSync(join(tmpdir(), 'wsflow-memory-')) : undefined
const results: Result[] = []
try {
  builds = wsflowBuilds()
  const baseline = builds.baseline
  console.log(`${builds.description}${builds.fromSource ? ' (esbuild keepNames: about 250 B more per named closure)' : ''}`)
  const impls: Impl[] = [
    { name: 'wsflow', kind: 'wsflow', module: builds.fromSource ? undefined : builds.current },
    ...(baseline === undefined ? [] : [{ name: baseline.name, kind: 'wsflow' as const, module: builds.baselineIndex }]),
    { name: 'ws', kind: 'ws' },
  ]
  for (const setting of SETTINGS) {
    for (const impl of impls) results.push(await run(impl, setting, dir))
  }
  results.push(await run({ name: 'raw', kind: 'raw' }, 'off', dir))

  const perConnection = (result: Result, state: 'open' | 'message', key: 'rss' | 'heapPhysical' | 'heapUsed' | 'external'): number => (result[state][key] - result.base[key]) / N
  const find = (impl: string, setting: Setting): Result => results.find((r) => r.impl === impl && r.setting === setting)!
  const kib = (bytes: number): string => {
    const k = bytes / 1024
    return Math.abs(k) >= 100 ? k.toFixed(0) : Math.abs(k) >= 10 ? k.toFixed(1) : k.toFixed(2)
  }
  const ratio = (a: number, b: number): string => (b < 256 ? '-' : `${(a / b).toFixed(2)}x`)
  const rows: string[][] = [
    ['', 'rss (KiB)', '', '', 'heapUsed (KiB)', '', '', 'external (KiB)', '', ''],
    ['state, deflate', 'wsflow', 'ws', 'ratio', 'wsflow', 'ws', 'ratio', 'wsflow', 'ws', 'ratio'],
  ]
  for (const setting of SETTINGS) {
    for (const state of ['open', 'message'] as const) {
      const row = [`${state === 'open' ? 'idle, no message yet' : 'idle after one message'}, ${setting === 'heartbeat' ? 'off, heartbeat' : setting}`]
      for (const key of ['rss', 'heapUsed', 'external'] as const) {
        const w = perConnection(find('wsflow', setting), state, key)
        const s = perConnection(find('ws', setting), state, key)
        row.push(kib(w), kib(s), ratio(w, s))
      }
      rows.push(row)
    }
  }
  console.log(`${N} connections per server, one ${SIZE} B text message each way; per connection, above the baseline, after 2 x gc()`)
  console.log('ratio = wsflow/ws ("-" where ws is under 256 B); external includes arrayBuffers')
  console.log(renderTable(rows))
  if (baseline !== undefined) {
    // The two builds of wsflow side by side (base = the baseline revision).
    const name = baseline.name
    const baseRows: string[][] = [
      ['', 'rss (KiB)', '', '', 'heapUsed (KiB)', '', '', 'external (KiB)', '', ''],
      ['state, deflate', 'wsflow', 'base', 'ratio', 'wsflow', 'base', 'ratio', 'wsflow', 'base', 'ratio'],
    ]
    for (const setting of SETTINGS) {
      for (const state of ['open', 'message'] as const) {
        const row = [`${state === 'open' ? 'idle, no message yet' : 'idle after one message'}, ${setting === 'heartbeat' ? 'off, heartbeat' : setting}`]
        for (const key of ['rss', 'heapUsed', 'external'] as const) {
          const w = perConnection(find('wsflow', setting), state, key)
          const b = perConnection(find(name, setting), state, key)
          row.push(kib(w), kib(b), ratio(w, b))
        }
        baseRows.push(row)
      }
    }
    console.log('')
    console.log(`wsflow (the working tree) against base = ${name}; ratio = wsflow/base (below 1: the working tree uses less; "-" where base is under 256 B)`)
    console.log(renderTable(baseRows))
  }
  const floor = find('raw', 'off')
  const floorCells = (['open', 'message'] as const).map((state) => `${state === 'open' ? 'no message yet' : 'after one message'}: rss ${kib(perConnection(floor, state, 'rss'))}, heapUsed ${kib(perConnection(floor, state, 'heapUsed'))}`)
  console.log(`floor, the raw echo (node:net socket and a few numbers per connection, no WebSocket object), KiB per connection: ${floorCells.join('; ')}`)
  // For bench/index.ts's summary: per idle connection, no message yet, no compression.
  if (process.env.BENCH_RESULTS) {
    for (const key of ['rss', 'heapUsed'] as const) {
      const values = Object.fromEntries([...impls.map((impl) => impl.name), 'raw'].map((impl) => [impl, { median: perConnection(find(impl, 'off'), 'open', key) / 1024, spread: '' }]))
      appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ bench: 'memory', workload: `memory per idle conn (${N} conns), ${key}`, unit: 'KiB/conn', values })}\n`)
    }
  }
  if (dir !== undefined) console.log('(with --snapshot, rss also holds what writing the snapshots left behind: use a run without it for rss)')
  // Where rss comes from: the V8 heap's pages (live objects, and room the heap keeps for garbage) and the rest (malloc: zlib, socket buffers...).
  console.log('')
  console.log('rss split (KiB per connection): v8 heap = physical size of the V8 heap (live objects and free room), native = rss - v8 heap; baselines in MiB')
  const split: string[][] = [['server, deflate', 'no message: v8 heap', 'native', 'after one: v8 heap', 'native', 'baseline rss', 'v8 heap', 'heapUsed', 'external']]
  for (const r of results) {
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
    const cells = (['open', 'message'] as const).flatMap((state) => {
      const total = perConnection(r, state, 'heapPhysical')
      return [kib(total), kib(perConnection(r, state, 'rss') - total)]
    })
    split.push([`${r.impl}, ${r.setting}`, ...cells, mib(r.base.rss), mib(r.base.heapPhysical), mib(r.base.heapUsed), mib(r.base.external)])
  }
  console.log(renderTable(split))
  if (dir !== undefined) {
    for (const result of results) await printHeapDiff(result)
    if (process.argv.includes('--keep-snapshots')) console.log(`\nheap snapshots kept in ${dir}`)
  }
} finally {
  for (const child of running) child.kill('SIGKILL')
  if (dir !== undefined && !process.argv.includes('--keep-snapshots')) rmSync(dir, { recursive: true, force: true })
  builds?.remove()
}
