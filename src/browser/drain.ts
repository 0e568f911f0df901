/**
 * Waiting for the platform WebSocket's send buffer to drain. The platform `WebSocket` has no
 * drain event: `bufferedAmount` is the only signal, and it changes only between tasks. So it is
 * polled, on a bounded schedule: a first check at once (a zero-delay timer), then after 1, 2, 4,
 * 8 and 16 ms, staying at 16 ms (about a frame) while the buffer does not shrink, and back to a
 * zero delay after a poll that saw it shrink. One timer per connection, however many sends wait.
 *
 * What it costs: a waiting send resolves at most about 16 ms after the buffer fell below the mark
 * (plus the browser's timer clamping: 4 ms once timers nest, and 1 s or more in a background tab,
 * where a page's timers are throttled). Nothing is polled while no send waits.
 * @module
 */

/** The longest delay between two polls, in milliseconds. */
export const MAX_POLL_DELAY = 16

interface Waiter {
  resolve(): void
  reject(error: unknown): void
}

/** Resolves waiting sends once `bufferedAmount()` is at or below `highWaterMark` bytes. */
export class DrainPoller {
  readonly #bufferedAmount: () => number
  readonly #highWaterMark: number
  #waiters: Waiter[] = []
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #delay = 0
  #last = 0

  /** A poller of `bufferedAmount` (bytes) against `highWaterMark` (bytes). */
  constructor(bufferedAmount: () => number, highWaterMark: number) {
    this.#bufferedAmount = bufferedAmount
    this.#highWaterMark = highWaterMark
  }

  /** Whether the buffer is at or below the mark now (a send need not wait). */
  get writable(): boolean {
    return this.#bufferedAmount() <= this.#highWaterMark
  }

  /** A promise that resolves once the buffer is at or below the mark. */
  wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      if (this.#timer === undefined) {
        this.#delay = 0
        this.#last = this.#bufferedAmount()
        this.#timer = setTimeout(this.#poll, 0)
      }
    })
  }

  /** Rejects every waiting send with `error` and stops polling. */
  fail(error: unknown): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(error)
  }

  readonly #poll = (): void => {
    this.#timer = undefined
    const amount = this.#bufferedAmount()
    if (amount <= this.#highWaterMark) {
      const waiters = this.#waiters
      this.#waiters = []
      for (const w of waiters) w.resolve()
      return
    }
    // Progress since the last poll: look again at once; none: back off, up to MAX_POLL_DELAY.
    this.#delay = amount < this.#last ? 0 : Math.min(MAX_POLL_DELAY, Math.max(1, this.#delay * 2))
    this.#last = amount
    this.#timer = setTimeout(this.#poll, this.#delay)
  }
}
