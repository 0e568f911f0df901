import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  MAX_CLOSE_REASON_BYTES, buildClosePayload, isValidCloseCode, parseClosePayload,
} from '../../../src/core/close-payload.ts'
import {
  CloseCode, InvalidArgumentError, InvalidDataError, ProtocolError, WebSocketError,
} from '../../../src/core/errors.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const payloadOf = (code: number, reason: Uint8Array | string = new Uint8Array(0)): Uint8Array => {
  const r = typeof reason === 'string' ? utf8(reason) : reason
  const out = new Uint8Array(2 + r.length)
  out[0] = code >> 8
  out[1] = code & 0xff
  out.set(r, 2)
  return out
}

type ErrorClass = new (...args: never[]) => WebSocketError

/** Asserts class, code and close code (undefined for errors without one) together. */
function assertThrows(fn: () => unknown, cls: ErrorClass, code: string, closeCode: number | undefined, what: string): void {
  try {
    fn()
  } catch (error) {
    assert.instance(error, cls, what)
    assert.is((error as WebSocketError).code, code, what)
    assert.is((error as { closeCode?: number }).closeCode, closeCode, what)
    return
  }
  assert.unreachable(`expected ${cls.name} ${code}: ${what}`)
  throw new Error('unreachable')
}

/** The valid ranges, written out independently of the implementation. */
const expectedValid = (code: number): boolean =>
  [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code) ||
  (code >= 3000 && code <= 4999)

test('MAX_CLOSE_REASON_BYTES is 125 - 2', () => {
  assert.is(MAX_CLOSE_REASON_BYTES, 123)
})

test('isValidCloseCode: table of 0..5000 and beyond', () => {
  for (let code = 0; code <= 5000; code++) assert.is(isValidCloseCode(code), expectedValid(code), String(code))
  for (const code of [5001, 9999, 65535, 65536, -1, -1000, 1000.5, 3000.1, Number.NaN, Infinity, -Infinity]) {
    assert.not.ok(isValidCloseCode(code), String(code))
  }
  // Spot checks of the table's edges by name.
  for (const code of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) assert.not.ok(isValidCloseCode(code), String(code))
  for (const code of [1000, 1003, 1007, 1011, 1012, 1014, 3000, 3999, 4000, 4999]) assert.ok(isValidCloseCode(code), String(code))
  assert.not.ok(isValidCloseCode(CloseCode.NO_STATUS_RECEIVED))
  assert.not.ok(isValidCloseCode(CloseCode.ABNORMAL_CLOSURE))
  assert.not.ok(isValidCloseCode(CloseCode.TLS_HANDSHAKE))
})

test('parseClosePayload: empty payload is 1005 with no reason', () => {
  assert.equal(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: '' })
})

test('parseClosePayload: a 1-byte payload is a protocol error (1002)', () => {
  for (let b = 0; b < 256; b++) {
    assertThrows(() => parseClosePayload(Uint8Array.of(b)), ProtocolError, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002, `1 byte ${b}`)
  }
})

test('parseClosePayload: a payload over 125 bytes is a protocol error (1002)', () => {
  const ok = payloadOf(1000, 'a'.repeat(123))
  assert.is(ok.length, 125)
  assert.is(parseClosePayload(ok).reason, 'a'.repeat(123))
  assertThrows(() => parseClosePayload(payloadOf(1000, 'a'.repeat(124))), ProtocolError, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002, '126 bytes')
})

test('parseClosePayload: every 16-bit code, valid ones parsed, the rest a protocol error (1002)', () => {
  for (let code = 0; code <= 0xffff; code++) {
    const payload = payloadOf(code)
    if (expectedValid(code)) assert.equal(parseClosePayload(payload), { code, reason: '' }, String(code))
    else assertThrows(() => parseClosePayload(payload), ProtocolError, 'WS_ERR_INVALID_CLOSE_CODE', 1002, String(code))
  }
  // The code is checked before the reason: an invalid code with an invalid reason is 1002.
  assertThrows(() => parseClosePayload(payloadOf(1005, Uint8Array.of(0xff))), ProtocolError, 'WS_ERR_INVALID_CLOSE_CODE', 1002, '1005 + bad reason')
  // The class is exactly ProtocolError, not InvalidDataError.
  try {
    parseClosePayload(payloadOf(1006))
  } catch (error) {
    assert.not.instance(error, InvalidDataError)
  }
})

test('parseClosePayload: network byte order', () => {
  assert.equal(parseClosePayload(Uint8Array.of(0x03, 0xe8)), { code: 1000, reason: '' })
  assert.equal(parseClosePayload(Uint8Array.of(0x0f, 0xa0, 0x62, 0x79, 0x65)), { code: 4000, reason: 'bye' })
  // RFC 6455 §5.7 style bytes: 0x03 0xE9 = 1001.
  assert.equal(parseClosePayload(Uint8Array.of(0x03, 0xe9)).code, 1001)
})

test('parseClosePayload: a reason that is not valid UTF-8 is invalid data (1007)', () => {
  const bad: Array<[string, number[]]> = [
    ['lone continuation', [0x80]],
    ['overlong', [0xc0, 0xaf]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['truncated at end', [0x61, 0xe2, 0x82]],
    ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ['impossible byte', [0xff]],
  ]
  for (const [name, bytes] of bad) {
    assertThrows(() => parseClosePayload(payloadOf(1000, Uint8Array.from(bytes))), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007, name)
  }
})

test('parseClosePayload: reasons decode exactly, including a leading BOM and multi-byte text', () => {
  for (const reason of ['', 'bye', 'héllo wörld', '日本語', '😀🎉', '\uFEFFbom kept', '\u0000nul', 'é'.repeat(61) + 'a']) {
    assert.equal(parseClosePayload(payloadOf(3000, reason)), { code: 3000, reason }, JSON.stringify(reason))
  }
  // A view into a larger buffer.
  const backing = new Uint8Array(10)
  backing.set(payloadOf(1001, 'ok'), 3)
  assert.equal(parseClosePayload(backing.subarray(3, 7)), { code: 1001, reason: 'ok' })
})

test('buildClosePayload: no code gives an empty payload', () => {
  assert.equal(buildClosePayload(), new Uint8Array(0))
  assert.equal(buildClosePayload(undefined, ''), new Uint8Array(0))
})

test('buildClosePayload: a reason without a code is an invalid argument', () => {
  assertThrows(() => buildClosePayload(undefined, 'why'), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT', undefined, 'reason only')
})

test('buildClosePayload: every code 0..5000 is accepted exactly when valid to send', () => {
  for (let code = 0; code <= 5000; code++) {
    if (expectedValid(code)) assert.equal(buildClosePayload(code), payloadOf(code), String(code))
    else assertThrows(() => buildClosePayload(code), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT', undefined, String(code))
  }
  for (const code of [-1, 1000.5, Number.NaN, 65535, 70000, '1000' as unknown as number]) {
    assertThrows(() => buildClosePayload(code, 'x'), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT', undefined, String(code))
  }
})

test('buildClosePayload: reason limit is 123 UTF-8 bytes, counted in bytes not characters', () => {
  const cases: Array<[string, string]> = [
    ['123 ASCII', 'a'.repeat(123)],
    ['61 × 2-byte + 1', 'é'.repeat(61) + 'a'],
    ['41 × 3-byte', '€'.repeat(41)],
    ['30 × 4-byte + 3', '😀'.repeat(30) + 'abc'],
  ]
  for (const [name, reason] of cases) {
    assert.is(utf8(reason).length, 123, name)
    const payload = buildClosePayload(1000, reason)
    assert.is(payload.length, 125, name)
    assert.equal(parseClosePayload(payload), { code: 1000, reason }, name)
  }
  const tooLong: Array<[string, string]> = [
    ['124 ASCII', 'a'.repeat(124)],
    ['62 × 2-byte (62 chars, 124 bytes)', 'é'.repeat(62)],
    ['41 × 3-byte + 1', '€'.repeat(41) + 'a'],
    ['31 × 4-byte (62 UTF-16 units, 124 bytes)', '😀'.repeat(31)],
    ['122 ASCII + 2-byte', 'a'.repeat(122) + 'é'],
  ]
  for (const [name, reason] of tooLong) {
    assert.is(utf8(reason).length, 124, name)
    assertThrows(() => buildClosePayload(1000, reason), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT', undefined, name)
  }
})

test('buildClosePayload: a reason with a lone surrogate is an invalid argument', () => {
  for (const reason of ['\uD800', 'a\uDC00b', '😀'.slice(0, 1), 'x' + '😀'.slice(1)]) {
    assertThrows(() => buildClosePayload(1000, reason), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT', undefined, JSON.stringify(reason))
  }
  // A proper pair is fine.
  assert.equal(parseClosePayload(buildClosePayload(1000, '\uD83D\uDE00')).reason, '😀')
})

test('build then parse round-trips for every valid code and a few reasons', () => {
  for (let code = 0; code <= 0xffff; code++) {
    if (!isValidCloseCode(code)) continue
    for (const reason of ['', 'going away', 'ünïcödé ✓', '\uFEFF']) {
      const payload = buildClosePayload(code, reason)
      assert.is(payload[0], code >> 8)
      assert.is(payload[1], code & 0xff)
      assert.equal(parseClosePayload(payload), { code, reason })
    }
  }
  // And parse then build gives back the same bytes.
  const bytes = payloadOf(4321, 'état')
  const { code, reason } = parseClosePayload(bytes)
  assert.equal(buildClosePayload(code, reason), bytes)
})

test.run()
