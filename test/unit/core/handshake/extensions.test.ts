import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatExtensions, parseExtensions } from '../../../../src/core/handshake/extensions.ts'
import type { ExtensionOffer } from '../../../../src/core/handshake/extensions.ts'
import { throwsHandshake, throwsInvalidArgument } from './helpers.ts'

const VALID: [value: string, offers: ExtensionOffer[]][] = [
  ['', []],
  ['  ', []],
  [',', []],
  ['permessage-deflate', [{ name: 'permessage-deflate', params: [] }]],
  ['permessage-deflate; client_max_window_bits', [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]],
  // RFC 7692 §7.1 style: several offers of one extension, in preference order.
  ['permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"', [
    { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
  ]],
  ['permessage-deflate;server_no_context_takeover;client_max_window_bits=15', [
    { name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['client_max_window_bits', '15']] },
  ]],
  // OWS around ";", "," and "=".
  [' foo \t;\ta = 1 ; b\t= "2" , bar ;c ', [
    { name: 'foo', params: [['a', '1'], ['b', '2']] },
    { name: 'bar', params: [['c', true]] },
  ]],
  // Duplicate parameters are kept, in order.
  ['x; a=1; a=2; a', [{ name: 'x', params: [['a', '1'], ['a', '2'], ['a', true]] }]],
  // Backslash escapes in quoted strings; the unescaped value must be a token.
  ['x; a="\\1\\0"', [{ name: 'x', params: [['a', '10']] }]],
  ['x; a="tok~en!"', [{ name: 'x', params: [['a', 'tok~en!']] }]],
  // Empty list elements are ignored (RFC 9110 §5.6.1), as when several header fields are joined.
  ['a, , b,', [{ name: 'a', params: [] }, { name: 'b', params: [] }]],
  [', a', [{ name: 'a', params: [] }]],
  ['mux; max-channels=4; flow-control, deflate-stream', [
    { name: 'mux', params: [['max-channels', '4'], ['flow-control', true]] },
    { name: 'deflate-stream', params: [] },
  ]],
]

test('valid Sec-WebSocket-Extensions values (RFC 6455 §9.1)', () => {
  for (const [value, offers] of VALID) assert.equal(parseExtensions(value), offers, JSON.stringify(value))
})

const INVALID: string[] = [
  ';',
  'a;',
  'a; ',
  'a;;b',
  'a b',
  'a; b c',
  'a=1',
  'a; =1',
  'a; b=',
  'a; b= ,',
  'a; b==1',
  'a; b="1',
  'a; b="1\\',
  'a; b=""',
  'a; b="1 2"',
  'a; b="x,y"',
  'a; b="\\"x"',
  'a; b="a"b',
  'a; b="\x00"',
  'a; b="\\\x00"',
  'a; b="é"',
  'a; b=1 2',
  '"a"',
  'a(b)',
  'a; b(c)',
  'é',
  'a\x00',
  'a, b c',
]

test('invalid Sec-WebSocket-Extensions values throw HandshakeError 400', () => {
  for (const value of INVALID) throwsHandshake(() => parseExtensions(value), 400, 'WS_ERR_HANDSHAKE', {}, JSON.stringify(value))
})

test('formatExtensions serialises offers, and parse(format(x)) is x', () => {
  const offers: ExtensionOffer[] = [
    { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
    { name: 'permessage-deflate', params: [] },
  ]
  const text = formatExtensions(offers)
  assert.is(text, 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate')
  assert.equal(parseExtensions(text), offers)
  assert.is(formatExtensions([]), '')
  for (const [value, parsed] of VALID) assert.equal(parseExtensions(formatExtensions(parsed)), parsed, JSON.stringify(value))
})

test('formatExtensions quotes values that are not tokens, escaping " and \\', () => {
  assert.is(formatExtensions([{ name: 'x', params: [['a', 'b c'], ['d', 'q"\\'], ['e', ''], ['f', '\té']] }]),
    'x; a="b c"; d="q\\"\\\\"; e=""; f="\té"')
})

test('formatExtensions rejects names that are not tokens and values with control characters', () => {
  throwsInvalidArgument(() => formatExtensions([{ name: 'a b', params: [] }]))
  throwsInvalidArgument(() => formatExtensions([{ name: '', params: [] }]))
  throwsInvalidArgument(() => formatExtensions([{ name: 'a', params: [['b c', true]] }]))
  throwsInvalidArgument(() => formatExtensions([{ name: 'a', params: [['b', 'x\r\nInjected: 1']] }]))
  throwsInvalidArgument(() => formatExtensions([{ name: 'a', params: [['b', '\x00']] }]))
  throwsInvalidArgument(() => formatExtensions([{ name: 'a', params: [['b', '\u0100']] }]))
})

test.run()
