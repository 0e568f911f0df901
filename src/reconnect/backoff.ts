/**
 * Exponential backoff with full jitter: the delay before retry `n` is a uniformly random time
 * between 0 and `min(maxDelay, initialDelay × factor^(n-1))` ms, so that many clients dropped at
 * once by a restarting server come back spread over the window instead of all at the same
 * instant. A clock that can be replaced (`now`, `sleep`) keeps the delays testable without waiting.
 * @module
 */
import { AbortError, InvalidArgumentError } from '../core/errors.ts'

/** The backoff's defaults: 500 ms, doubling, at most 30 s; a connection up for 5 s resets it. */
export const BACKOFF_DEFAULTS = {
  /** The upper bound of the first retry's delay, in ms. */
  initialDelay: 500,
  /** How much the upper bound grows per retry. */
  factor: 2,
  /** The largest upper bound, in ms. */
  maxDelay: 30_000,
  /** A connection that stayed open this long (ms) resets the backoff to its first step. */
  resetAfter: 5_000,
} as const

/** The backoff's parameters (milliseconds). */
export interface BackoffOptions {
  /** The upper bound of the first retry's delay (default 500 ms). */
  initialDelay?: number | undefined
  /** The growth of the upper bound per retry (default 2; at least 1). */
  factor?: number | undefined
  /** The largest upper bound of a delay (default 30,000 ms). */
  maxDelay?: number | undefined
}

/** Time as the reconnecting client reads and waits for it; tests pass a fake one. */
export interface ReconnectClock {
  /** The current time, in milliseconds. */
  now(): number
  /** Resolves after `ms` milliseconds; rejects with an `AbortError` when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** The real clock: `Date.now` and `setTimeout`. */
export const realClock: ReconnectClock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason))
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(new AbortError(signal?.reason))
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  },
}

/**
 * The delay before retry `attempt` (1 for the first retry) in ms: `random() × min(maxDelay,
 * initialDelay × factor^(attempt-1))`, with `random` returning a number in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelay ?? BACKOFF_DEFAULTS.initialDelay
  const factor = options.factor ?? BACKOFF_DEFAULTS.factor
  const max = options.maxDelay ?? BACKOFF_DEFAULTS.maxDelay
  const ceiling = Math.min(max, initial * factor ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

/** Throws an {@link InvalidArgumentError} for a factor that is not a finite number ≥ 1. */
export function checkFactor(where: string, factor: unknown): void {
  if (factor !== undefined && !(typeof factor === 'number' && Number.isFinite(factor) && factor >= 1)) {
    throw new InvalidArgumentError(`${where}: factor must be a finite number, 1 or more, not ${String(factor)}`)
  }
}

/**
 * The wait a refusal asks for, in ms: the `Retry-After` header of a `HandshakeError` (RFC 9110
 * §10.2.3: seconds, or an HTTP date), or 0 when there is none or it cannot be read.
 */
export function retryAfter(reason: unknown, now: number): number {
  const headers = (reason as { headers?: unknown } | null | undefined)?.headers
  if (typeof headers !== 'object' || headers === null) return 0
  const value = (headers as Record<string, unknown>)['retry-after']
  if (typeof value !== 'string') return 0
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP date is the IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return 0
  const date = Date.parse(text)
  return Number.isNaN(date) ? 0 : Math.max(0, date - now)
}
