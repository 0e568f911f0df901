/** Bounded waiting for integration tests: every wait has a timeout. */

/** Resolves or rejects like `promise`, or rejects with a clear message after `ms` milliseconds. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `predicate` every `interval` ms until it is true; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, ms: number, what: string, interval = 10): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`)
    await sleep(interval)
  }
}

/** Settles `promise` and returns the rejection reason, or undefined if it resolved; bounded by `ms`. */
export async function rejection(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  const settled = promise.then(() => ({ error: undefined }), (error: unknown) => ({ error }))
  return (await within(settled, ms, what)).error
}
