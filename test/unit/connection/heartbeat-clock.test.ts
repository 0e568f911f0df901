/**
 * The heartbeat and the close deadline on a clock of the test's own (the `timers` option): no
 * sleeps, the test moves time and the connection reacts, over a real socket to a raw peer.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, StallError } from '../../../src/index.ts'
import { TimerWheel } from '../../../src/internal/timer-wheel.ts'
import { rawServe } from '../../helpers/raw.ts'
import { rejection, within } from '../../helpers/timing.ts'

function fakeTimers(): { now: () => number; advance: (ms: number) => void; timers: () => TimerWheel } {
  let time = 1_000_000
  const wheel = new TimerWheel(8, () => time)
  return {
    now: () => time,
    advance: (ms) => {
      time += ms
      wheel.advance()
    },
    timers: () => wheel,
  }
}

test('stallTimeout on a fake clock: a ping after half of it in silence, a StallError after all of it', async () => {
  const raw = await rawServe()
  const clock = fakeTimers()
  try {
    const ws = await connect(`${raw.url}/`, { stallTimeout: 1000, timers: clock.timers })
    const peer = await raw.accepted()
    const reading = rejection(ws.recv(), 3000, 'the read')
    clock.advance(400)
    clock.advance(200) // 600 ms of silence: past half the stall timeout
    const ping = await peer.reader.next()
    assert.is(ping.opcode, 0x9, 'the keep-alive is a ping')
    clock.advance(500) // 1100 ms of silence, the ping unanswered
    const error = await reading
    assert.instance(error, StallError)
    const info = await within(ws.closed, 2000, 'closed')
    assert.is(info.code, 1006)
  } finally {
    await raw.close()
  }
})

test('the close deadline on a fake clock: a peer that never answers the close is cut after closeTimeout', async () => {
  const raw = await rawServe()
  const clock = fakeTimers()
  try {
    const ws = await connect(`${raw.url}/`, { closeTimeout: 300, timers: clock.timers })
    const peer = await raw.accepted()
    const closing = ws.close(1000, 'bye')
    const frame = await peer.reader.next()
    assert.is(frame.opcode, 0x8)
    clock.advance(100)
    assert.is(ws.readyState, 'closing', 'not cut before the deadline')
    clock.advance(250)
    const info = await within(closing, 2000, 'cut')
    assert.equal(info, { code: 1006, reason: '', wasClean: false })
  } finally {
    await raw.close()
  }
})

test.run()
