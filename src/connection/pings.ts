/**
 * The pings a connection sent and waits for: each resolves with its round trip when its pong
 * comes back. Made at a connection's first ping.
 * @module
 */
import { TimeoutError } from '../core/errors.ts'

interface PendingPing {
  readonly key: string
  readonly start: number
  resolve: (rtt: number) => void
  reject: (error: unknown) => void
}

let pingCounter = 0

/** A ping payload of its own for each ping sent without one (`wsflow-<n>`). */
export function nextPingPayload(): Uint8Array {
  return new TextEncoder().encode(`wsflow-${++pingCounter}`)
}

/** The payload as a key to match pongs with (payloads are at most 125 bytes). */
function keyOf(data: Uint8Array): string {
  let key = ''
  for (let i = 0; i < data.length; i++) key += String.fromCharCode(data[i]!)
  return key
}

/** Pings in flight, in the order sent. */
export class Pings {
  readonly #pending: PendingPing[] = []

  /**
   * Waits for the pong of a ping just sent with `payload`: resolves with the round trip in
   * milliseconds; rejects with a {@link TimeoutError} after `timeout` ms when given.
   */
  expect(payload: Uint8Array, timeout: number | undefined): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const pending: PendingPing = { key: keyOf(payload), start: performance.now(), resolve, reject }
      this.#pending.push(pending)
      if (timeout === undefined || timeout === Infinity) return
      const timer = setTimeout(() => {
        const index = this.#pending.indexOf(pending)
        if (index >= 0) this.#pending.splice(index, 1)
        reject(new TimeoutError(`no pong within ${timeout} ms`, timeout))
      }, timeout)
      pending.resolve = (rtt) => {
        clearTimeout(timer)
        resolve(rtt)
      }
      pending.reject = (error) => {
        clearTimeout(timer)
        reject(error)
      }
    })
  }

  /** A pong arrived: it answers its ping and every ping sent before it (RFC 6455 §5.5.3: unsolicited ones answer none). */
  answer(payload: Uint8Array): void {
    const key = keyOf(payload)
    const index = this.#pending.findIndex((p) => p.key === key)
    if (index < 0) return
    const answered = this.#pending.splice(0, index + 1)
    const now = performance.now()
    for (const p of answered) p.resolve(now - p.start)
  }

  /** The connection closed: every ping still waiting rejects with `error`. */
  rejectAll(error: () => unknown): void {
    const pending = this.#pending.splice(0)
    for (const p of pending) p.reject(error())
  }
}
