/**
 * A connection's timers: the heartbeat (keep-alive after half the stall timeout of silence, a
 * stall after all of it) and the idle timeout (no data message either way). Both sit on a timer
 * wheel shared by every connection (src/timer-wheel.ts), re-armed lazily: traffic only records a
 * timestamp.
 * @module
 */
import { sharedWheel, WheelTimer, type TimerWheels } from '../internal/timer-wheel.ts'

/** What the heartbeat asks of its connection (one object whose methods are shared, not closures). */
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

const KEEP_ALIVE_SENT = 1
const STOPPED = 2

/** Heartbeat and idle timers of one connection; durations in milliseconds, 0 turns one off. */
export class Heartbeat extends WheelTimer {
  /** The stall timeout, in milliseconds (0: off). */
  readonly stallTimeout: number
  readonly #idleTimeout: number
  readonly #hooks: HeartbeatHooks
  #lastActivity: number
  #lastMessage: number
  // Booleans as bits of one field: KEEP_ALIVE_SENT, STOPPED.
  #flags = 0

  /** Starts the timers, on the wheel `wheels` gives for these durations (by default the shared one, on the real clock). */
  constructor(stallTimeout: number, idleTimeout: number, hooks: HeartbeatHooks, wheels: TimerWheels = sharedWheel) {
    const first = Math.min(stallTimeout > 0 ? stallTimeout / 2 : Infinity, idleTimeout > 0 ? idleTimeout : Infinity)
    super(wheels(first))
    this.stallTimeout = stallTimeout
    this.#idleTimeout = idleTimeout
    this.#hooks = hooks
    this.#lastActivity = this.#lastMessage = this.now()
    this.schedule(first)
  }

  /** Bytes arrived from the peer. */
  activity(): void {
    if (this.stallTimeout > 0) {
      this.#lastActivity = this.now()
      this.#flags &= ~KEEP_ALIVE_SENT
    }
  }

  /** A data message was sent or received. */
  message(): void {
    if (this.#idleTimeout > 0) this.#lastMessage = this.now()
  }

  /** Stops the timers for good. */
  stop(): void {
    this.#flags |= STOPPED
    this.cancel()
  }

  /** The wheel's call: checks for silence and idleness, and schedules the next check. */
  onWheel(now: number): void {
    const hooks = this.#hooks
    let next = Infinity
    const stall = this.stallTimeout
    if (hooks.isPaused()) this.#lastActivity = now
    if (stall > 0) {
      const silent = now - this.#lastActivity
      if (silent >= stall) {
        hooks.stalled()
        return
      }
      if (silent >= stall / 2 && (this.#flags & KEEP_ALIVE_SENT) === 0 && hooks.isOpen()) {
        this.#flags |= KEEP_ALIVE_SENT
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
    // Unless a hook stopped it (the connection closed), or it has nothing left to watch.
    if (next !== Infinity && (this.#flags & STOPPED) === 0) this.schedule(Math.max(1, next))
  }
}
