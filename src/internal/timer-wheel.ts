/**
 * Timers shared by many connections (heartbeats, idle timeouts): a hashed timing wheel per
 * resolution, driven by one unref'd interval that runs only while the wheel holds entries. A
 * scheduled entry costs a slot in an array, where a timer of its own costs a Node `Timeout` and a
 * closure (bench/memory.ts, the heartbeat rows).
 * @module
 */

/**
 * Something a {@link TimerWheel} calls back. The `wheel*` fields belong to the wheel: start them
 * at `wheelSlot = -1` (not scheduled) and leave them alone.
 */
export interface WheelEntry {
  /** Called once per schedule, at or after its deadline (less than two resolutions late), with the time. */
  onWheel(now: number): void
  /** The time it is due at (the wheel's). */
  wheelDeadline: number
  /** Its slot in the wheel, -1 while not scheduled. */
  wheelSlot: number
  /** Its place in that slot. */
  wheelIndex: number
}

/** Slots in a turn of the wheel (a power of two). */
const SLOTS = 64

/**
 * A hashed timing wheel: entries sit in the slot of the tick (time / resolution) they are due
 * in; each tick visits one slot and calls back the entries whose deadline has passed. Deadlines
 * more than a turn ahead stay in their slot for the later turn. Scheduling and cancelling are
 * O(1) (a cancelled entry's place is taken by its slot's last).
 */
export class TimerWheel {
  /** Milliseconds per tick. */
  readonly resolution: number
  readonly #slots: WheelEntry[][] = Array.from({ length: SLOTS }, () => [])
  readonly #now: () => number
  #size = 0
  #tick = 0 // the last tick visited
  #interval: ReturnType<typeof setInterval> | undefined = undefined

  /** A wheel of `resolution` ms per tick; `now` is its clock (`Date.now` by default). */
  constructor(resolution: number, now: () => number = Date.now) {
    this.resolution = resolution
    this.#now = now
  }

  /** The wheel's clock, in milliseconds. */
  now(): number {
    return this.#now()
  }

  /** Entries scheduled and not yet called back nor cancelled. */
  get size(): number {
    return this.#size
  }

  /** Calls `entry.onWheel` once `delay` ms have passed (rescheduling it if it was scheduled). */
  schedule(entry: WheelEntry, delay: number): void {
    if (entry.wheelSlot >= 0) this.cancel(entry)
    const now = this.#now()
    if (this.#size === 0) {
      this.#tick = Math.floor(now / this.resolution)
      const interval = setInterval(() => this.advance(), this.resolution)
      ;(interval as { unref?: () => void }).unref?.()
      this.#interval = interval
    }
    const deadline = now + delay
    // The first tick that starts at or after the deadline, and never one already visited.
    const tick = Math.max(Math.ceil(deadline / this.resolution), this.#tick + 1)
    const slot = tick & (SLOTS - 1)
    entry.wheelDeadline = deadline
    entry.wheelSlot = slot
    entry.wheelIndex = this.#slots[slot]!.push(entry) - 1
    this.#size++
  }

  /** Unschedules `entry` (nothing if it is not scheduled). */
  cancel(entry: WheelEntry): void {
    const slot = entry.wheelSlot
    if (slot < 0) return
    const list = this.#slots[slot]!
    const last = list.pop()!
    if (last !== entry) {
      list[entry.wheelIndex] = last
      last.wheelIndex = entry.wheelIndex
    }
    entry.wheelSlot = -1
    if (--this.#size === 0) {
      clearInterval(this.#interval)
      this.#interval = undefined
    }
  }

  /**
   * Visits the ticks up to now and calls back the entries that are due. The interval calls it;
   * tests call it with their own clock.
   */
  advance(): void {
    const now = this.#now()
    const target = Math.floor(now / this.resolution)
    // After the event loop was held up for more than a turn, one turn visits every slot.
    let tick = Math.max(this.#tick, target - SLOTS)
    while (tick < target && this.#size > 0) {
      tick++
      this.#tick = tick // what the callbacks schedule goes after this tick
      const list = this.#slots[tick & (SLOTS - 1)]!
      // Backwards: a cancel moves the slot's last entry into the gap, and that one is behind us
      // (or new, and not due before a later tick).
      for (let i = list.length - 1; i >= 0; i--) {
        const entry = list[i]
        if (entry === undefined || entry.wheelDeadline > now) continue
        this.cancel(entry)
        entry.onWheel(now)
      }
    }
    if (this.#size > 0) this.#tick = Math.max(this.#tick, target)
  }
}

/**
 * A {@link WheelEntry} with its fields started and its wheel kept: a subclass says what happens
 * when it is due.
 */
export abstract class WheelTimer implements WheelEntry {
  wheelDeadline = 0
  wheelSlot = -1
  wheelIndex = 0
  readonly #wheel: TimerWheel

  /** A timer on `wheel`, not scheduled yet. */
  constructor(wheel: TimerWheel) {
    this.#wheel = wheel
  }

  /** Calls {@link WheelTimer.onWheel} once `delay` ms have passed (rescheduling it if it was scheduled). */
  schedule(delay: number): void {
    this.#wheel.schedule(this, delay)
  }

  /** Unschedules it (nothing if it is not scheduled). */
  cancel(): void {
    this.#wheel.cancel(this)
  }

  /** The time on its wheel's clock, in milliseconds. */
  protected now(): number {
    return this.#wheel.now()
  }

  /** What happens when it is due; `now` is the wheel's time. */
  abstract onWheel(now: number): void
}

const wheels = new Map<number, TimerWheel>()

/**
 * The shared wheel for timers whose shortest delay is `shortest` ms: its resolution is the power
 * of two at most a sixteenth of that (1 ms to 1024 ms), so a timer fires less than an eighth of
 * its delay late. At most 11 wheels exist.
 */
export function sharedWheel(shortest: number): TimerWheel {
  const resolution = 2 ** Math.min(10, Math.max(0, Math.floor(Math.log2(shortest / 16))))
  let wheel = wheels.get(resolution)
  if (wheel === undefined) wheels.set(resolution, (wheel = new TimerWheel(resolution)))
  return wheel
}

/** Where a connection's timers go: the wheel for timers whose shortest delay is `shortest` ms. */
export type TimerWheels = (shortest: number) => TimerWheel
