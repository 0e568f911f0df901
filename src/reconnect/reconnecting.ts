/**
 * The reconnecting client: `for await (const ws of reconnecting(url, options))` yields a freshly
 * opened connection each time round, in the manner of python websockets' `async for websocket in
 * connect(...)`. It waits with exponential backoff and full jitter between attempts, retries only
 * what is worth retrying (`retry.ts`), and stops when its `AbortSignal` aborts.
 * @module
 */
import { CloseCode, ConnectionClosedError, InvalidArgumentError } from '../core/errors.ts'
import type { CloseInfo } from '../core/transport.ts'
import { validateOptions, type OptionRules } from '../core/validate.ts'
import { BACKOFF_DEFAULTS, backoffDelay, checkFactor, realClock, retryAfter, type BackoffOptions, type ReconnectClock } from './backoff.ts'
import { isCloseInfo, isRetryable } from './retry.ts'
import type { ConnectFunction, ReconnectableSocket } from './types.ts'

/** What a retry is about to wait for, given to {@link ReconnectOptions.onRetry}. */
export interface RetryEvent {
  /** The retry's number since the backoff last reset (1 for the first). */
  readonly attempt: number
  /** How long the client waits before it, in ms. */
  readonly delay: number
  /** Why: the error `connect` threw, or how the last connection closed. */
  readonly reason: unknown
}

/** Options of the reconnecting client (durations in ms), besides those given to `connect`. */
export interface ReconnectOptions extends BackoffOptions {
  /** A connection that stayed open this long resets the backoff to its first step (default 5,000 ms). */
  resetAfter?: number | undefined
  /** Most retries in a row (since the backoff last reset) before the last reason is thrown (default Infinity). */
  maxRetries?: number | undefined
  /**
   * Decides whether to retry after `reason` (the error `connect` threw, or the {@link CloseInfo}
   * of the connection that closed); `attempt` is the number of the retry it would be (1 for the
   * first since the backoff reset). The default is {@link isRetryable}. Returning false ends the
   * iteration by throwing: the error itself, or a {@link ConnectionClosedError} for a close.
   */
  shouldReconnect?: ((reason: unknown, attempt: number) => boolean) | undefined
  /** Called before each wait, e.g. to log it. */
  onRetry?: ((event: RetryEvent) => void) | undefined
  /** Stops reconnecting: the iteration ends and the open connection is closed with 1001. */
  signal?: AbortSignal | undefined
  /** The clock the backoff waits on (default: the real one); tests pass a fake. */
  clock?: ReconnectClock | undefined
  /** Random numbers in [0, 1) for the jitter (default `Math.random`). */
  random?: (() => number) | undefined
}

const RECONNECT_OPTION_RULES: OptionRules = {
  initialDelay: 'duration',
  maxDelay: 'duration',
  resetAfter: 'duration',
  maxRetries: 'size',
  shouldReconnect: 'function',
  onRetry: 'function',
  signal: 'object',
  clock: 'object',
  random: 'function',
}

const OWN_OPTIONS = new Set(['initialDelay', 'factor', 'maxDelay', 'resetAfter', 'maxRetries', 'shouldReconnect', 'onRetry', 'clock', 'random'])

/** Checks the reconnecting options; throws an {@link InvalidArgumentError} naming a bad one. */
export function validateReconnectOptions(where: string, options: ReconnectOptions): void {
  validateOptions(where, options, RECONNECT_OPTION_RULES)
  checkFactor(where, options.factor)
}

/** The options meant for `connect`: all but the reconnecting client's own. */
export function connectOptionsOf<O extends object>(options: O): O {
  const rest: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options)) if (!OWN_OPTIONS.has(name)) rest[name] = value
  return rest as O
}

/**
 * Yields a newly opened connection each time round, opened with `connect(url, options)`:
 *
 * - The first attempt is made at once; every later one after a backoff delay (full jitter, see
 *   `backoff.ts`: up to 500 ms, then 1 s, 2 s, ... at most 30 s), or longer when a refusal's
 *   `Retry-After` asks for it (at most `maxDelay`). A connection that stayed open `resetAfter`
 *   ms (5 s) resets the backoff.
 * - When the loop's body finishes with the connection still open, it is closed (1000) before the
 *   next one is opened; leaving the loop (`break`, `return`, a throw) closes it too.
 * - A failed attempt or a closed connection is retried when `shouldReconnect(reason, attempt)`
 *   (by default {@link isRetryable}) says so; otherwise the iteration throws the error (for a
 *   close: a {@link ConnectionClosedError} with its code). A 401 is thrown at the first attempt.
 * - Aborting `signal` ends the iteration (without an error) and closes the open connection with 1001.
 */
export async function* reconnectingWith<W extends ReconnectableSocket, O extends object>(
  connect: ConnectFunction<W, O>,
  url: string | URL,
  options: O & ReconnectOptions,
): AsyncGenerator<W, void, undefined> {
  if (typeof connect !== 'function') throw new InvalidArgumentError('reconnecting: connect must be a function')
  validateReconnectOptions('reconnecting', options)
  const { signal, shouldReconnect = isRetryable, onRetry, clock = realClock, random = Math.random } = options
  const maxRetries = options.maxRetries ?? Infinity
  const resetAfter = options.resetAfter ?? BACKOFF_DEFAULTS.resetAfter
  const connectOptions = connectOptionsOf(options)
  const aborted = (): boolean => signal?.aborted === true
  let attempt = 0 // retries since the backoff last reset
  let reason: unknown
  for (let first = true; ; first = false) {
    if (aborted()) return
    if (!first) {
      attempt++
      if (attempt > maxRetries || !shouldReconnect(reason, attempt)) throw asError(reason)
      // A 429 or 503 that says when to come back is not asked again sooner (up to maxDelay).
      const delay = Math.max(backoffDelay(attempt, options, random), Math.min(retryAfter(reason, clock.now()), options.maxDelay ?? BACKOFF_DEFAULTS.maxDelay))
      onRetry?.({ attempt, delay, reason })
      try {
        await clock.sleep(delay, signal)
      } catch (error) {
        if (aborted()) return
        throw error
      }
    }
    let ws: W
    try {
      ws = await connect(url, connectOptions)
    } catch (error) {
      if (aborted()) return
      reason = error
      continue
    }
    if (aborted()) {
      // Aborted as it opened: the signal's listener would never run.
      await ws.close(CloseCode.GOING_AWAY).catch(noop)
      return
    }
    const openedAt = clock.now()
    const onAbort = (): void => void ws.close(CloseCode.GOING_AWAY).catch(noop)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      yield ws
    } finally {
      signal?.removeEventListener('abort', onAbort)
      if (ws.readyState === 'open' || ws.readyState === 'connecting') await ws.close(aborted() ? CloseCode.GOING_AWAY : CloseCode.NORMAL).catch(noop)
    }
    reason = await ws.closed
    if (clock.now() - openedAt >= resetAfter) attempt = 0
  }
}

/** The error the iteration ends with: the reason itself, or a ConnectionClosedError for a close. */
function asError(reason: unknown): unknown {
  if (!isCloseInfo(reason)) return reason
  const info: CloseInfo = reason
  return new ConnectionClosedError(info.code, info.reason, info.wasClean, undefined, `the connection closed with ${info.code}${info.reason === '' ? '' : ` ${info.reason}`}, which is not retried`)
}

function noop(): void {}
