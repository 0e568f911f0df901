/**
 * What the reconnect tests share: a clock for the reconnecting client that moves only when the
 * test says so (each `sleep` is recorded and waits until `advance()`; `nextSleep()` resolves when
 * the client starts one), a port nobody listens on, and the code of a refused connection.
 */
import { createServer } from 'node:net'
import { AbortError } from '../../../src/core/errors.ts'
import type { ReconnectClock } from '../../../src/reconnect/backoff.ts'

interface Sleeper {
  readonly ms: number
  resolve(): void
}

/** A fake {@link ReconnectClock}: time starts at 0 and moves by `advance`. */
export class FakeClock implements ReconnectClock {
  time = 0
  /** Every delay asked for, in order. */
  readonly delays: number[] = []
  #sleeper: Sleeper | undefined
  #onSleep: (() => void) | undefined

  now(): number {
    return this.time
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason))
    this.delays.push(ms)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#sleeper = undefined
        reject(new AbortError(signal?.reason))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#sleeper = {
        ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.#onSleep?.()
    })
  }

  /** Resolves with the delay of the next sleep (at once if one is pending); rejects after 5 s of real time. */
  nextSleep(): Promise<number> {
    if (this.#sleeper !== undefined) return Promise.resolve(this.#sleeper.ms)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no sleep within 5 s')), 5000)
      this.#onSleep = () => {
        clearTimeout(timer)
        this.#onSleep = undefined
        resolve(this.#sleeper!.ms)
      }
    })
  }

  /** Whether a sleep is pending. */
  get sleeping(): boolean {
    return this.#sleeper !== undefined
  }

  /** Ends the pending sleep, moving the time by its delay. */
  advance(): void {
    const sleeper = this.#sleeper
    if (sleeper === undefined) throw new Error('no sleep to advance')
    this.#sleeper = undefined
    this.time += sleeper.ms
    sleeper.resolve()
  }
}

/** The platform's code of a failed connection: the error's own (`ECONNREFUSED`) or the one a wsflow ConnectError carries. */
export function refusedCode(error: unknown): string | undefined {
  const { code, systemCode } = (error ?? {}) as { code?: string; systemCode?: string }
  return code === 'WS_ERR_CONNECT' ? systemCode : code
}

/** A port that was free a moment ago and that nobody listens on. */
export async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}
