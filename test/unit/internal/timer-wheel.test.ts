import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { sharedWheel, TimerWheel, type WheelEntry } from '../../../src/internal/timer-wheel.ts'

/** An entry that records when it was called back. */
class Probe implements WheelEntry {
  readonly fired: number[] = []
  deadline = 0
  wheelDeadline = 0
  wheelSlot = -1
  wheelIndex = 0
  onCall: ((now: number) => void) | undefined

  onWheel(now: number): void {
    this.fired.push(now)
    this.onCall?.(now)
  }
}

/** A wheel on a clock the test moves. */
function fakeWheel(resolution: number, start = 1_000_000): { wheel: TimerWheel; clock: { now: number } } {
  const clock = { now: start }
  return { wheel: new TimerWheel(resolution, () => clock.now), clock }
}

/** A small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
}

test('every entry is called back once, at or after its deadline and less than two ticks late, across turns', () => {
  for (const seed of [1, 2, 3]) {
    const next = random(seed)
    const { wheel, clock } = fakeWheel(10)
    const probes = Array.from({ length: 200 }, () => new Probe())
    for (const probe of probes) {
      const delay = 1 + Math.floor(next() * 3000) // up to almost five turns of 64 ticks
      probe.deadline = clock.now + delay
      wheel.schedule(probe, delay)
    }
    assert.is(wheel.size, 200)
    for (let step = 0; step < 2000 && wheel.size > 0; step++) {
      clock.now += 1 + Math.floor(next() * 15)
      wheel.advance()
    }
    assert.is(wheel.size, 0, `seed ${seed}: entries left`)
    for (const probe of probes) {
      assert.is(probe.fired.length, 1, `seed ${seed}: called back ${probe.fired.length} times`)
      const at = probe.fired[0]!
      assert.ok(at >= probe.deadline, `seed ${seed}: at ${at}, before its deadline ${probe.deadline}`)
      assert.ok(at < probe.deadline + 2 * wheel.resolution + 15, `seed ${seed}: at ${at}, late for ${probe.deadline}`)
    }
  }
})

test('a cancelled entry is never called back, also when another callback of its slot cancels it', () => {
  const { wheel, clock } = fakeWheel(10)
  const a = new Probe()
  const b = new Probe()
  const c = new Probe()
  const d = new Probe()
  for (const probe of [a, b, c, d]) wheel.schedule(probe, 25) // one slot
  wheel.cancel(b)
  wheel.cancel(b) // twice: nothing
  // Whichever of c and d is called back first cancels the other.
  c.onCall = () => wheel.cancel(d)
  d.onCall = () => wheel.cancel(c)
  clock.now += 40
  wheel.advance()
  assert.equal(a.fired.length, 1)
  assert.equal(b.fired.length, 0)
  assert.is(c.fired.length + d.fired.length, 1)
  assert.is(wheel.size, 0)
})

test('a callback may schedule its entry again (a periodic check); schedule moves a scheduled entry', () => {
  const { wheel, clock } = fakeWheel(4)
  const periodic = new Probe()
  periodic.onCall = () => {
    if (periodic.fired.length < 5) wheel.schedule(periodic, 100)
  }
  wheel.schedule(periodic, 100)
  const moved = new Probe()
  wheel.schedule(moved, 50)
  wheel.schedule(moved, 1000)
  assert.is(wheel.size, 2)
  const start = clock.now
  for (let step = 0; step < 400 && periodic.fired.length < 5; step++) {
    clock.now += 3
    wheel.advance()
  }
  assert.is(periodic.fired.length, 5)
  periodic.fired.forEach((at, i) => assert.ok(at >= start + 100 * (i + 1), `call ${i} at ${at - start} ms`))
  assert.is(moved.fired.length, 0, 'not at its first deadline')
  clock.now = start + 1000
  wheel.advance()
  assert.is(moved.fired.length, 1)
  assert.is(wheel.size, 0)
})

test('after the clock jumps many turns (a held-up event loop), one advance calls back what is due and keeps the rest', () => {
  const { wheel, clock } = fakeWheel(10)
  const due = Array.from({ length: 64 * 3 }, (_, i) => {
    const probe = new Probe()
    wheel.schedule(probe, 1 + i * 7)
    return probe
  })
  const later = new Probe()
  wheel.schedule(later, 20_000)
  clock.now += 10 * 64 * 10 // ten turns
  wheel.advance()
  assert.ok(due.every((probe) => probe.fired.length === 1))
  assert.is(later.fired.length, 0)
  assert.is(wheel.size, 1)
  clock.now += 20_000
  wheel.advance()
  assert.is(later.fired.length, 1)
})

test('sharedWheel: one wheel per resolution, the power of two at most a sixteenth of the delay, 1 to 1024 ms', () => {
  assert.is(sharedWheel(15_000).resolution, 512)
  assert.is(sharedWheel(100).resolution, 4)
  assert.is(sharedWheel(1).resolution, 1)
  assert.is(sharedWheel(10 ** 9).resolution, 1024)
  assert.is(sharedWheel(15_000), sharedWheel(9_000))
  assert.is.not(sharedWheel(15_000), sharedWheel(100))
})

test('on the real clock: the interval calls back, and stops with the wheel empty', async () => {
  const wheel = new TimerWheel(2)
  const probe = new Probe()
  const fired = new Promise<number>((resolve) => (probe.onCall = resolve))
  const start = Date.now()
  wheel.schedule(probe, 20)
  const at = await Promise.race([fired, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 2000))])
  assert.ok(at >= start + 20, `called back at ${at - start} ms`)
  assert.is(wheel.size, 0)
})

test.run()
