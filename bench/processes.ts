/**
 * Child processes for the throughput benches: each server and each load generator runs in a
 * process of its own, pinned to a core of its own with `taskset` where it works (servers on core 1,
 * load generators and clients on core 0), and speaks a line protocol on stdin/stdout. Every process
 * started here is ended by its PID: `stop()` closes its stdin and kills it after a grace period, and
 * whatever is still running when this process exits is killed.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Whether `taskset -c 0 true` works here (pinning is skipped otherwise). */
export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0

/** The core that servers run on, and the one that load generators and clients run on. */
export const SERVER_CORE = 1
export const CLIENT_CORE = 0

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1)) // so that 'exit' runs

/** A bench process that answers lines on stdin with lines on stdout (stderr is passed through). */
export class LineProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly #waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = []
  readonly #unclaimed: string[] = [] // lines printed while nobody waited
  readonly #exited: Promise<void>
  #exitCode: number | null | undefined

  /** Starts `node --import tsx bench/<file> ...args`, pinned to `core` where taskset works. */
  constructor(name: string, file: string, args: readonly string[], core: number) {
    this.name = name
    const path = fileURLToPath(new URL(file, import.meta.url))
    const argv = ['--import', 'tsx', path, ...args]
    const stdio: ['pipe', 'pipe', 'inherit'] = ['pipe', 'pipe', 'inherit']
    this.child = hasTaskset ? spawn('taskset', ['-c', String(core), process.execPath, ...argv], { stdio }) : spawn(process.execPath, argv, { stdio })
    running.add(this.child)
    this.#exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.#exitCode = code
        running.delete(this.child)
        for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error(`bench: ${name} exited (code ${code})`))
        resolve()
      })
    })
    this.child.stdin!.on('error', () => undefined) // reported as the exit instead
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const waiter = this.#waiting.shift()
      if (waiter !== undefined) waiter.resolve(line)
      else if (this.#unclaimed.length < 1000) this.#unclaimed.push(line)
    })
  }

  /** The next line the process prints (in order); rejects after `ms` milliseconds or if the process exits. */
  next(ms: number, what: string): Promise<string> {
    const line = this.#unclaimed.shift()
    if (line !== undefined) return Promise.resolve(line)
    if (this.#exitCode !== undefined) return Promise.reject(new Error(`bench: ${this.name} has exited`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(waiter)
        if (i >= 0) this.#waiting.splice(i, 1)
        reject(new Error(`bench: ${this.name} did not answer ${what} within ${ms} ms`))
      }, ms)
      const waiter = {
        resolve: (line: string) => {
          clearTimeout(timer)
          resolve(line)
        },
        reject: (error: Error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      this.#waiting.push(waiter)
    })
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`)
  }

  /** Writes a JSON line and parses the JSON line answered; rethrows an `{ error }` answer. */
  async request<T>(message: unknown, ms: number): Promise<T> {
    const answer = this.next(ms, JSON.stringify(message).slice(0, 80))
    this.send(JSON.stringify(message))
    const result = JSON.parse(await answer) as { error?: string }
    if (typeof result.error === 'string') throw new Error(`bench: ${this.name}: ${result.error}`)
    return result as T
  }

  /** Closes stdin (the process then exits); kills it by PID if it has not exited within `ms`. */
  async stop(ms = 3000): Promise<void> {
    if (this.#exitCode !== undefined) return
    this.child.stdin!.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms)
    await this.#exited
    clearTimeout(timer)
  }
}

/** Stops every process given, whatever happens to the others. */
export async function stopAll(processes: readonly (LineProcess | undefined)[]): Promise<void> {
  await Promise.allSettled(processes.map((p) => p?.stop()))
}

/** CPU time a process reports about itself: microseconds of user+system time at `t` (ms, its own clock). */
export interface CpuSample {
  readonly cpu: number
  readonly t: number
}

/** Takes a CPU sample of this process. */
export function cpuSample(): CpuSample {
  const usage = process.cpuUsage()
  return { cpu: usage.user + usage.system, t: performance.now() }
}

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(from: CpuSample, to: CpuSample): number {
  return ((to.cpu - from.cpu) / 1000 / (to.t - from.t)) * 100
}
