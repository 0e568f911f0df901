/**
 * Waiting for a condition on something that records events: `until(condition)` resolves once
 * the condition holds, checked again at every `changed()`; it rejects after a bound.
 */
export class Conditions {
  readonly #waiters = new Set<() => void>()

  /** Tells the waiters that something was recorded. */
  changed(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }

  /** Resolves once `condition()` holds; rejects after `timeout` ms with `what` and `detail()`. */
  until(condition: () => boolean, what: string, timeout = 10_000, detail: () => string = () => ''): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}${detail()}`))
      }, timeout)
      this.#waiters.add(check)
    })
  }
}
