/**
 * A connection's timers: the heartbeat (keep-alive after half the stall timeout of silence, a
 * stall after all of it) and the idle timeout (no data message either way). One timer per
 * connection serves both; it is re-armed lazily, so traffic only records a timestamp.
 * @module
 */

/** What the heartbeat asks of its connection. */
export interface HeartbeatHooks {
  /** Half the stall timeout passed in silence: send a keep-alive (a ping, or the application's). */
  keepAlive(): void
  /** The whole stall timeout passed in silence. */
  stalled(): void
  /** The idle timeout passed without a data message. */
  idle(): void
  /** Whether reads are paused for backpressure (the peer's bytes then wait in the socket: not silence). */
  isPaused(): boolean
  /** Whether the connection is still open (keep-alive and idle close only apply then). */
  isOpen(): boolean
}

/** Heartbeat and idle timers of one connection; durations in milliseconds, 0 turns one off. */
export class Heartbeat {
  readonly #stallTimeout: number
  readonly #idleTimeout: number
  readonly #hooks: HeartbeatHooks
  #timer: ReturnType<typeof setTimeout> | undefined = undefined
  #lastActivity: number
  #lastMessage: number
  #keepAliveSent = false
  #stopped = false

  /** Starts the timers. */
  constructor(stallTimeout: number, idleTimeout: number, hooks: HeartbeatHooks) {
    this.#stallTimeout = stallTimeout
    this.#idleTimeout = idleTimeout
    this.#hooks = hooks
    this.#lastActivity = this.#lastMessage = Date.now()
    this.#arm(Math.min(stallTimeout > 0 ? stallTimeout / 2 : Infinity, idleTimeout > 0 ? idleTimeout : Infinity))
  }

  /** Bytes arrived from the peer. */
  activity(): void {
    if (this.#stallTimeout > 0) {
      this.#lastActivity = Date.now()
      this.#keepAliveSent = false
    }
  }

  /** A data message was sent or received. */
  message(): void {
    if (this.#idleTimeout > 0) this.#lastMessage = Date.now()
  }

  /** Stops the timers for good. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #arm(delay: number): void {
    const timer = setTimeout(() => this.#check(), delay)
    timer.unref?.()
    this.#timer = timer
  }

  #check(): void {
    if (this.#stopped) return
    const now = Date.now()
    const hooks = this.#hooks
    let next = Infinity
    const stall = this.#stallTimeout
    if (hooks.isPaused()) this.#lastActivity = now
    if (stall > 0) {
      const silent = now - this.#lastActivity
      if (silent >= stall) {
        hooks.stalled()
        return
      }
      if (silent >= stall / 2 && !this.#keepAliveSent && hooks.isOpen()) {
        this.#keepAliveSent = true
        hooks.keepAlive()
      }
      next = silent >= stall / 2 ? stall - silent : stall / 2 - silent
    }
    const idle = this.#idleTimeout
    if (idle > 0 && hooks.isOpen()) {
      const quiet = now - this.#lastMessage
      if (quiet >= idle) hooks.idle()
      else next = Math.min(next, idle - quiet)
    }
    if (next !== Infinity) this.#arm(Math.max(1, next))
  }
}
