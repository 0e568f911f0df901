/**
 * The order of outgoing messages when some take a detour: a compressed message is deflated
 * asynchronously, and what is sent after it waits for it, so messages reach the wire in the order
 * `send` was called. Made for a connection at its first compressed send; plain sends on an idle
 * chain go straight to the protocol.
 * @module
 */

const RESOLVED = Promise.resolve()
const noop = (): void => undefined

/** Who hears of a step that failed (the connection, which then fails): a method, not a closure. */
export interface SendChainOwner {
  /** A write of the chain threw. */
  sendFailed(error: unknown): void
}

/** Steps run one after the other, each after the previous one's write. */
export class SendChain {
  #tail: Promise<void> = RESOLVED
  #length = 0
  readonly #owner: SendChainOwner

  /** A chain whose failing steps are reported to `owner`. */
  constructor(owner: SendChainOwner) {
    this.#owner = owner
  }

  /** Whether no step waits: a write may go out at once and still keep the order. */
  get idle(): boolean {
    return this.#length === 0
  }

  /**
   * Runs `write` after every step before it; the promise returned then follows `after` (drain).
   * When `write` fails, the chain goes on and the promise rejects with `failed()` (or the error).
   * Its rejection is handled: nobody has to await it.
   */
  then(write: () => unknown, after: () => unknown, failed?: () => Error): Promise<void> {
    this.#length++
    const written = this.#tail.then(write)
    this.#tail = written.then(
      () => {
        this.#length--
      },
      (error: unknown) => {
        this.#length--
        this.#owner.sendFailed(error)
      },
    )
    const result = written.then(
      () => after() as Promise<void> | void,
      (error: unknown) => {
        throw failed === undefined ? error : failed()
      },
    )
    result.catch(noop)
    return result
  }
}
