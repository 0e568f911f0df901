/**
 * The state a connection needs only at times, in one record made when first written, and the
 * close handshake's deadline.
 * @module
 */
import type { Outgoing } from '../core/message.ts'
import type { Protocol } from '../core/protocol.ts'
import type { CloseInfo, Transport } from '../core/transport.ts'
import { sharedWheel, WheelTimer, type TimerWheels } from '../internal/timer-wheel.ts'
import type { SendChain } from './outbox.ts'
import type { Pings } from './pings.ts'

/**
 * The close handshake's deadline: a close frame still waiting for the application is written
 * (and the wait starts again), otherwise the transport is cut. On the shared timer wheel: a
 * closing connection holds this small entry, not a Timeout and a closure (bench/memory.ts).
 */
export class CloseDeadline extends WheelTimer {
  readonly #transport: Transport
  readonly #protocol: Protocol
  readonly #timeout: number

  constructor(transport: Transport, protocol: Protocol, timeout: number, wheels: TimerWheels = sharedWheel) {
    super(wheels(timeout))
    this.#transport = transport
    this.#protocol = protocol
    this.#timeout = timeout
    this.schedule(timeout)
  }

  onWheel(): void {
    if (this.#protocol.closePending) {
      this.#protocol.flushClose()
      this.schedule(this.#timeout)
    } else {
      this.#transport.destroy()
    }
  }
}

/**
 * The state a connection needs only at times (compressed messages in flight, pings, the close,
 * the end): in one record made when first written, so that an idle open connection holds one
 * field for it (bench/memory.ts). Until then the connection reads the shared frozen `NO_COLD`.
 */
export class ColdState {
  sendChain: SendChain | undefined = undefined
  receiveChain: Promise<void> | undefined = undefined
  inflating = false
  dropped = 0
  flushScheduled = false
  pongScheduled = false
  closing: { code: number; reason: string } | undefined = undefined
  end: { info: CloseInfo; error: Error | undefined } | undefined = undefined
  failure: Error | undefined = undefined
  closed: Promise<CloseInfo> | undefined = undefined
  resolveClosed: ((info: CloseInfo) => void) | undefined = undefined
  closeDeadline: CloseDeadline | undefined = undefined
  pings: Pings | undefined = undefined
  sink: ((source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void>) | undefined = undefined
}

export const NO_COLD: ColdState = Object.freeze(new ColdState())

