/**
 * The echo server of bench/profile-echo.ts, in a process of its own, and the handle the bench
 * holds on it. The server is written as bench/echo-server.ts writes wsflow's (`for await (const
 * message of ws) await ws.send(message)`) over the wsflow module given (an index.ts: the working
 * tree's or a baseline's), and answers commands over an IPC channel: its CPU time, collections and
 * young generation's size (`cpu`), a fixed piece of work timed (`calibrate`), a V8 CPU profile
 * started and stopped by node:inspector (`profile-start`, `profile-stop`, so that a profile covers a
 * measured interval only), and the source maps of the scripts tsx compiled (`source-maps`). A
 * command may carry a mark, written to its stdout first: under --trace, stdout is the file that
 * V8's --trace-opt and --trace-deopt lines go to, and the marks place them in time.
 *
 * Usage (by the bench): node --import tsx bench/profile-server.ts <wsflow index.ts>
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { Session } from 'node:inspector'
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { getHeapSpaceStatistics } from 'node:v8'
import { REPO } from './baseline.ts'
import { cpuSample, hasTaskset, SERVER_CORE, type CpuSample } from './processes.ts'

/** A command to the server; `mark` is written to its stdout first (the --trace file), to place V8's trace lines in time. */
export type Command = ({ cmd: 'cpu' } | { cmd: 'calibrate' } | { cmd: 'profile-start'; interval: number } | { cmd: 'profile-stop'; file: string } | { cmd: 'source-maps'; file: string }) & { mark?: string }

/** What the server reports with each CPU sample: its CPU time, its garbage collections so far, the young generation's size. */
export interface ServerSample {
  readonly cpu: CpuSample
  /** Scavenges (minor GCs) and mark-compacts (major) so far, and their pause time in ms. */
  readonly gc: { minor: number; major: number; ms: number }
  /** The new space's size (both semi-spaces), in bytes. */
  readonly newSpace: number
}

const gcCounts = { minor: 0, major: 0, ms: 0 }
/** How a mark line starts in a server's stdout (the --trace file). */
export const MARK = '### '

const calibrationBytes = new Uint8Array(4 * 2 ** 20).map((_, i) => (i * 131) & 0xff)

/**
 * A fixed piece of work, timed in CPU time (µs): an FNV-1a hash over 4 MiB, twice, then 20,000
 * small objects made and dropped. It does not depend on wsflow, so a change in its time between
 * rounds is the machine's (another tenant on the core, its caches, its clock), not the code's.
 */
function calibrate(): number {
  const from = process.cpuUsage()
  let hash = 0x811c9dc5
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < calibrationBytes.length; i++) hash = Math.imul(hash ^ calibrationBytes[i]!, 0x01000193)
  }
  let keep: { a: number; b: Uint8Array } | undefined
  for (let i = 0; i < 20_000; i++) keep = { a: i ^ hash, b: calibrationBytes.subarray(i, i + 64) }
  const used = process.cpuUsage(from)
  if (keep === undefined) throw new Error('unreachable')
  return used.user + used.system
}

function serverSample(): ServerSample {
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0
  return { cpu: cpuSample(), gc: { ...gcCounts }, newSpace }
}

/** The server's side: serves the echo on wsflow's `module`, answers commands over IPC, exits when the channel closes. */
async function serveEcho(module: string): Promise<void> {
  // Counts the collections (perf_hooks 'gc' entries: kind 1 is a scavenge, 2, 4 and 8 the others).
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (entry.detail?.kind === 1) gcCounts.minor++
      else gcCounts.major++
      gcCounts.ms += entry.duration
    }
  }).observe({ entryTypes: ['gc'] })
  const { serve } = (await import(pathToFileURL(module).href)) as typeof import('../src/index.ts')
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))))
  await post('Profiler.enable')
  const run = async (command: Command): Promise<Record<string, unknown>> => {
    if (command.mark !== undefined) writeSync(1, `${MARK}${command.mark}\n`)
    if (command.cmd === 'cpu') return { sample: serverSample() }
    if (command.cmd === 'calibrate') {
      const times = [calibrate(), calibrate(), calibrate()].sort((a, b) => a - b)
      return { sample: serverSample(), calibration: times[1] }
    }
    if (command.cmd === 'profile-start') {
      await post('Profiler.setSamplingInterval', { interval: command.interval })
      await post('Profiler.start')
      return { sample: serverSample() }
    }
    if (command.cmd === 'profile-stop') {
      const before = serverSample() // before the profile is serialised
      const { profile } = (await post('Profiler.stop')) as { profile: unknown }
      writeFileSync(command.file, JSON.stringify(profile))
      return { sample: before }
    }
    // After the last round only (the debugger may change what V8 does): the source maps of the
    // scripts tsx compiled (inline, as data: URLs), so that profile positions map to source lines.
    const maps: Record<string, string> = {}
    session.on('Debugger.scriptParsed', ({ params }) => {
      if (params.url.startsWith('file://') && params.sourceMapURL?.startsWith('data:') === true) maps[params.url] = params.sourceMapURL
    })
    await post('Debugger.enable')
    await post('Debugger.disable')
    writeFileSync(command.file, JSON.stringify(maps))
    return { sample: serverSample() }
  }
  process.on('message', (command: Command) => {
    run(command).then(
      (reply) => process.send!(reply),
      (error: unknown) => process.send!({ error: String(error) }),
    )
  })
  process.once('disconnect', () => {
    setTimeout(() => process.exit(0), 1000).unref()
    void server.close({ timeout: 100 }).finally(() => process.exit(0))
  })
  process.send!({ port: server.port })
}

/** A server process started by {@link ServerChild.constructor} and its IPC replies, in order. */
export class ServerChild {
  readonly child: ChildProcess
  readonly #replies: ((message: Record<string, unknown>) => void)[] = []
  readonly #exited: Promise<void>

  /** Starts the server on wsflow's `module` (an index.ts), its stdout into `traceFile` (with V8's --trace-opt and --trace-deopt) when given. */
  constructor(module: string, traceFile: string | undefined, extraFlags: readonly string[]) {
    const file = fileURLToPath(import.meta.url)
    const v8Flags = [...extraFlags, ...(traceFile === undefined ? [] : ['--trace-opt', '--trace-deopt'])]
    const execArgv = ['--import', 'tsx', ...v8Flags]
    const out = traceFile === undefined ? 'ignore' : openSync(traceFile, 'w')
    // In front of node: taskset (pinning), and under --trace stdbuf -oL, so that V8's trace lines
    // (C stdio, fully buffered into a file otherwise) land in the file in order with the marks.
    const prefix = [...(hasTaskset ? ['taskset', '-c', String(SERVER_CORE)] : []), ...(traceFile === undefined ? [] : ['stdbuf', '-oL'])]
    const options = { stdio: ['ignore', out, 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc' | number)[], execArgv, cwd: REPO }
    this.child = prefix.length > 0
      ? fork(file, [module], { ...options, execPath: prefix[0]!, execArgv: [...prefix.slice(1), process.execPath, ...execArgv] })
      : fork(file, [module], options)
    if (typeof out === 'number') closeSync(out)
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
    this.child.on('message', (message: Record<string, unknown>) => this.#replies.shift()?.(message))
  }

  /** The next IPC message (bounded by `ms`); rejects on an `{ error }` reply. */
  next(ms: number, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: the server did not answer ${what} within ${ms} ms`)), ms)
      this.#replies.push((message) => {
        clearTimeout(timer)
        if (typeof message.error === 'string') reject(new Error(`bench: server: ${message.error}`))
        else resolve(message)
      })
    })
  }

  /** Sends a command; resolves with the sample in its reply. */
  async command(command: Command, ms = 10_000): Promise<ServerSample> {
    return (await this.request(command, ms)).sample as ServerSample
  }

  /** Sends a command; resolves with its whole reply. */
  async request(command: Command, ms = 10_000): Promise<Record<string, unknown>> {
    const reply = this.next(ms, command.cmd)
    this.child.send(command)
    return await reply
  }

  /** Disconnects (the server closes and exits); kills it by PID if it has not exited within 3 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    if (this.child.connected) this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await this.#exited
    clearTimeout(timer)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await serveEcho(process.argv[2]!)
