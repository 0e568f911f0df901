/** The backoff's delays and the retry rule, as tables. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, HandshakeError, InvalidArgumentError, ProtocolError, StallError, TimeoutError } from '../../../src/core/errors.ts'
import { BACKOFF_DEFAULTS, backoffDelay, checkFactor, realClock, retryAfter } from '../../../src/reconnect/backoff.ts'
import { isRetryable, isRetryableCloseCode, isRetryableStatus } from '../../../src/reconnect/retry.ts'

test('the ceiling doubles from 500 ms up to 30 s; full jitter spreads the delay over [0, ceiling)', () => {
  const top = (): number => 1 - Number.EPSILON
  const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((attempt) => backoffDelay(attempt, {}, top))
  assert.equal(ceilings, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999])
  assert.is(backoffDelay(1, {}, () => 0), 0)
  assert.is(backoffDelay(3, {}, () => 0.5), 1000)
  assert.equal(BACKOFF_DEFAULTS, { initialDelay: 500, factor: 2, maxDelay: 30_000, resetAfter: 5_000 })
})

test('initialDelay, factor and maxDelay change the ceiling', () => {
  const half = (): number => 0.5
  assert.equal([1, 2, 3, 4].map((n) => backoffDelay(n, { initialDelay: 100, factor: 3, maxDelay: 1000 }, half)), [50, 150, 450, 500])
  assert.equal([1, 2, 3].map((n) => backoffDelay(n, { initialDelay: 200, factor: 1 }, half)), [100, 100, 100])
  assert.throws(() => checkFactor('reconnecting', 0.5), (e: unknown) => e instanceof InvalidArgumentError && /factor/.test(e.message))
  assert.throws(() => checkFactor('reconnecting', Number.NaN), (e: unknown) => e instanceof InvalidArgumentError)
  checkFactor('reconnecting', 1.5)
})

test('Retry-After: seconds, an HTTP date against the clock, nothing for anything else', () => {
  const refusal = (value: string): HandshakeError => new HandshakeError('busy', 503, { 'retry-after': value })
  assert.is(retryAfter(refusal('120'), 0), 120_000)
  assert.is(retryAfter(refusal(' 5 '), 0), 5000)
  assert.is(retryAfter(refusal(new Date(60_000).toUTCString()), 30_000), 30_000)
  assert.is(retryAfter(refusal(new Date(0).toUTCString()), 30_000), 0)
  assert.is(retryAfter(refusal('soon'), 0), 0)
  assert.is(retryAfter(refusal('-1'), 0), 0)
  assert.is(retryAfter(new HandshakeError('busy', 503), 0), 0)
  assert.is(retryAfter(new Error('x'), 0), 0)
  assert.is(retryAfter(undefined, 0), 0)
})

test('the real clock sleeps and stops at an abort with an AbortError', async () => {
  const started = Date.now()
  await realClock.sleep(5)
  assert.ok(realClock.now() >= started)
  const controller = new AbortController()
  const sleeping = realClock.sleep(60_000, controller.signal)
  controller.abort()
  const error = await sleeping.then(() => undefined, (e: unknown) => e)
  assert.is((error as { code?: string }).code, 'WS_ERR_ABORTED')
  const before = await realClock.sleep(1, controller.signal).then(() => undefined, (e: unknown) => e)
  assert.is((before as { code?: string }).code, 'WS_ERR_ABORTED')
})

test('close codes: 1000, 1001, 1005, 1006, 1011-1014 are retried; protocol, policy and 3000-4999 codes are not', () => {
  const retried = [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014]
  const terminal = [1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 3003, 4000, 4001, 4999]
  for (const code of retried) assert.ok(isRetryableCloseCode(code), `${code} retried`)
  for (const code of terminal) assert.not.ok(isRetryableCloseCode(code), `${code} terminal`)
  assert.ok(isRetryable({ code: 1012, reason: 'restart', wasClean: true }))
  assert.not.ok(isRetryable({ code: 4001, reason: 'banned', wasClean: true }))
  assert.ok(isRetryable(new ConnectionClosedError(1006, '', false)))
  assert.not.ok(isRetryable(new ConnectionClosedError(1008, 'policy', true)))
})

test('HTTP refusals: no answer, 408, 425, 429 and 5xx are retried; 401, 403, 404 and a 3xx are not', () => {
  for (const status of [0, 408, 425, 429, 500, 502, 503, 504, 599]) {
    assert.ok(isRetryableStatus(status), `${status}`)
    assert.ok(isRetryable(new HandshakeError('refused', status)), `HandshakeError ${status}`)
  }
  for (const status of [301, 400, 401, 403, 404, 426]) {
    assert.not.ok(isRetryableStatus(status), `${status}`)
    assert.not.ok(isRetryable(new HandshakeError('refused', status)), `HandshakeError ${status}`)
  }
})

test('network errors, stalls and timeouts are retried; protocol errors, bugs and non-errors are not', () => {
  const system = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code, syscall: 'connect' })
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ENOENT']) assert.ok(isRetryable(system(code)), code)
  assert.ok(isRetryable(new StallError(1000)))
  assert.ok(isRetryable(new TimeoutError('slow', 100)))
  assert.not.ok(isRetryable(system('CERT_HAS_EXPIRED')))
  assert.ok(isRetryable({ code: 'WS_ERR_CONNECT', systemCode: 'ECONNREFUSED' }))
  assert.ok(isRetryable({ code: 'WS_ERR_HANDSHAKE_TIMEOUT' }))
  assert.not.ok(isRetryable({ code: 'WS_ERR_TLS', systemCode: 'CERT_HAS_EXPIRED' }))
  assert.not.ok(isRetryable(new ProtocolError('WS_ERR_PROTOCOL', 'bad accept')))
  assert.not.ok(isRetryable(new InvalidArgumentError('bad')))
  assert.not.ok(isRetryable(new TypeError('a bug')))
  assert.not.ok(isRetryable(undefined))
  assert.not.ok(isRetryable('ECONNREFUSED'))
})

test.run()
