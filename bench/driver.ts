/**
 * What the bench processes that drive load (bench/loadgen.ts, bench/client-driver.ts) share: the
 * jobs they take, one JSON line on stdin each, and the lines they answer on stdout:
 * `{"event":"start"}` when the measured interval starts (after the warm-up), `{"event":"stop"}`
 * when it ends, then the result, or `{"error": ...}`. The bench in between samples the server's CPU
 * time on each event, so that both sides' CPU use covers the same interval.
 * @module
 */
import { createInterface } from 'node:readline'
import { cpuPercent, cpuSample, type CpuSample } from './processes.ts'

/** Echo on `connections` connections, `window` messages of `size` bytes in flight on each. */
export interface EchoJob {
  readonly kind: 'echo'
  /** The server: a port on 127.0.0.1. */
  readonly port: number
  readonly connections: number
  readonly size: number
  /** 0x1 text or 0x2 binary. */
  readonly opcode: number
  readonly window: number
  readonly warmupMs: number
  readonly ms: number
}

/** Opening and closing handshakes, `loops` at a time, at most `max` in the warm-up and the measured interval together. */
export interface HandshakeJob {
  readonly kind: 'handshakes'
  readonly port: number
  readonly loops: number
  readonly max: number
  readonly warmupMs: number
  readonly ms: number
}

export type Job = EchoJob | HandshakeJob

/** What a driver measured: messages (or handshakes) and payload bytes echoed within `seconds`, its own CPU %. */
export interface JobResult {
  readonly messages: number
  readonly bytes: number
  readonly seconds: number
  /** The driver's CPU use over the interval, in % of one core. */
  readonly cpu: number
}

/** Bounds the time a job may take beyond its warm-up and interval (connecting, draining, closing). */
export const JOB_SLACK_MS = 30_000

/** The measured interval of a job: marks its start and end on stdout, with this process's CPU time. */
export class Interval {
  #from: CpuSample | undefined

  /** Starts the interval. */
  start(): void {
    this.#from = cpuSample()
    console.log('{"event":"start"}')
  }

  /** Ends the interval: its length in seconds and this process's CPU % over it. */
  stop(): { seconds: number; cpu: number } {
    const to = cpuSample()
    console.log('{"event":"stop"}')
    if (this.#from === undefined) throw new Error('bench: interval stopped before it started')
    return { seconds: (to.t - this.#from.t) / 1000, cpu: cpuPercent(this.#from, to) }
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Runs each job read from stdin, one at a time, printing its result; exits when stdin ends. */
export function serveJobs(run: (job: Job, interval: Interval) => Promise<JobResult>): void {
  let queue = Promise.resolve()
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      try {
        const result = await run(JSON.parse(line) as Job, new Interval())
        console.log(JSON.stringify(result))
      } catch (error) {
        console.log(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }))
      }
    })
  })
  lines.once('close', () => void queue.then(() => process.exit(0)))
}
