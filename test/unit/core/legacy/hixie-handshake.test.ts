/**
 * The hixie-75/76 handshakes on the drafts' own examples: draft-hixie-thewebsocketprotocol-76 §1.3
 * (the request with key1 "4 @1  46546xW%0l 1 5", key2 "12998 5 Y3 1  .P00", key3 "^n:ds[4U" and
 * its response ending "8jKS'y:G*Co,Wxa-"; the worked example whose answer is "fQJ,fN/4F4!~K~MH")
 * and draft-hixie-thewebsocketprotocol-75 §1.2 (the request and response of /demo).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HttpHeaders } from '../../../../src/core/handshake/headers.ts'
import { HttpHeadParser } from '../../../../src/core/handshake/http-head.ts'
import type { RequestHead } from '../../../../src/core/handshake/server.ts'
import {
  HIXIE_76_KEY3_LENGTH,
  HixieVersion,
  buildHixieResponse,
  computeHixie76Answer,
  hixieLocation,
  validateHixieRequest,
} from '../../../../src/core/legacy/hixie-handshake.ts'
import { latin1, throwsHandshake, throwsInvalidArgument } from '../handshake/helpers.ts'

const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes)

/** draft-hixie-thewebsocketprotocol-76 §1.3: the client's handshake, head and key3, as on the wire. */
const REQUEST_76 =
  'GET /demo HTTP/1.1\r\n' +
  'Host: example.com\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n' +
  'Sec-WebSocket-Protocol: sample\r\n' +
  'Upgrade: WebSocket\r\n' +
  'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n' +
  'Origin: http://example.com\r\n' +
  '\r\n' +
  '^n:ds[4U'

/** draft-hixie-thewebsocketprotocol-76 §1.3: the server's handshake. */
const RESPONSE_76 =
  'HTTP/1.1 101 WebSocket Protocol Handshake\r\n' +
  'Upgrade: WebSocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Origin: http://example.com\r\n' +
  'Sec-WebSocket-Location: ws://example.com/demo\r\n' +
  'Sec-WebSocket-Protocol: sample\r\n' +
  '\r\n' +
  "8jKS'y:G*Co,Wxa-"

/** draft-hixie-thewebsocketprotocol-75 §1.2: the client's handshake. */
const REQUEST_75 =
  'GET /demo HTTP/1.1\r\n' +
  'Upgrade: WebSocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Host: example.com\r\n' +
  'Origin: http://example.com\r\n' +
  'WebSocket-Protocol: sample\r\n' +
  '\r\n'

/** draft-hixie-thewebsocketprotocol-75 §1.2: the server's handshake. */
const RESPONSE_75 =
  'HTTP/1.1 101 Web Socket Protocol Handshake\r\n' +
  'Upgrade: WebSocket\r\n' +
  'Connection: Upgrade\r\n' +
  'WebSocket-Origin: http://example.com\r\n' +
  'WebSocket-Location: ws://example.com/demo\r\n' +
  'WebSocket-Protocol: sample\r\n' +
  '\r\n'

/** Parses a request as the server reads it: the head, then the bytes after it. */
function read(wire: string): { head: RequestHead; rest: Uint8Array } {
  const parser = new HttpHeadParser({ kind: 'request' })
  const head = parser.push(latin1(wire))
  if (head?.kind !== 'request') throw new Error('incomplete head in test')
  return { head, rest: parser.rest }
}

/** A request head from a list of fields. */
function head(fields: [string, string][], method = 'GET', target = '/demo', version = 'HTTP/1.1'): RequestHead {
  return { method, target, version, headers: new HttpHeaders(fields) }
}

const BASE_75: [string, string][] = [['Upgrade', 'WebSocket'], ['Connection', 'Upgrade'], ['Host', 'example.com'], ['Origin', 'http://example.com']]
const BASE_76: [string, string][] = [...BASE_75, ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5'], ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00']]

test('hixie-76: the draft example answered byte for byte', () => {
  const { head: h, rest } = read(REQUEST_76)
  assert.is(rest.length, HIXIE_76_KEY3_LENGTH)
  const request = validateHixieRequest(h)
  assert.is(request.version, HixieVersion.HIXIE_76)
  assert.is(request.path, '/demo')
  assert.is(request.host, 'example.com')
  assert.is(request.origin, 'http://example.com')
  assert.is(request.protocol, 'sample')
  const answer = computeHixie76Answer(request.key1!, request.key2!, rest)
  assert.is(text(answer), "8jKS'y:G*Co,Wxa-")
  const response = buildHixieResponse({ version: request.version, origin: request.origin, location: hixieLocation(request, false), protocol: request.protocol, answer })
  assert.is(text(response), RESPONSE_76)
})

test('hixie-76: the worked example of §1.3 (parts 155712099 and 173347027, answer "fQJ,fN/4F4!~K~MH")', () => {
  const key1 = '18x 6]8vM;54 *(5:  {   U1]8  z [  8'
  const key2 = '1_ tx7X d  <  nw  334J702) 7]o}` 0'
  const answer = computeHixie76Answer(key1, key2, latin1('Tm[K T2u'))
  assert.is(text(answer), 'fQJ,fN/4F4!~K~MH')
  // The same answer from the parts themselves: 1868545188 / 12 and 1733470270 / 10, as in the draft.
  assert.is(1868545188 / 12, 155712099)
  assert.is(1733470270 / 10, 173347027)
  assert.is(text(computeHixie76Answer('155712099 ', '173347027 ', latin1('Tm[K T2u'))), 'fQJ,fN/4F4!~K~MH')
})

test('hixie-75: the draft example answered byte for byte', () => {
  const { head: h, rest } = read(REQUEST_75)
  assert.is(rest.length, 0)
  const request = validateHixieRequest(h)
  assert.is(request.version, HixieVersion.HIXIE_75)
  assert.is(request.protocol, 'sample')
  assert.is(request.key1, undefined)
  const response = buildHixieResponse({ version: HixieVersion.HIXIE_75, origin: request.origin, location: hixieLocation(request, false), protocol: request.protocol })
  assert.is(text(response), RESPONSE_75)
})

test('responses without a subprotocol, over wss, with more headers', () => {
  const request = validateHixieRequest(head([...BASE_75.slice(0, 2), ['Host', 'example.com:8443'], ['Origin', 'https://example.com']], 'GET', '/chat?room=1'))
  assert.is(request.protocol, undefined)
  const location = hixieLocation(request, true)
  assert.is(location, 'wss://example.com:8443/chat?room=1')
  assert.is(
    text(buildHixieResponse({ version: HixieVersion.HIXIE_75, origin: request.origin, location, headers: { 'Set-Cookie': 'a=1' } })),
    'HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nWebSocket-Origin: https://example.com\r\n' +
      'WebSocket-Location: wss://example.com:8443/chat?room=1\r\nSet-Cookie: a=1\r\n\r\n',
  )
  const answer = new Uint8Array(16).fill(0xfe)
  const bytes = buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'null', location: 'ws://h/', answer })
  assert.is(text(bytes.subarray(0, bytes.length - 16)), 'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Origin: null\r\nSec-WebSocket-Location: ws://h/\r\n\r\n')
  assert.equal([...bytes.subarray(bytes.length - 16)], [...answer], 'the answer, binary, after the head')
  // A -76 request's subprotocol is Sec-WebSocket-Protocol; WebSocket-Protocol is -75's.
  assert.is(validateHixieRequest(head([...BASE_76, ['WebSocket-Protocol', 'x']])).protocol, undefined)
  assert.is(validateHixieRequest(head([...BASE_75, ['Sec-WebSocket-Protocol', 'x']])).protocol, undefined)
  // Upgrade and Connection compare ASCII case-insensitively, Connection as a list.
  assert.is(validateHixieRequest(head([['upgrade', 'websocket'], ['connection', 'keep-alive, upgrade'], ['host', 'h'], ['origin', 'o']])).version, HixieVersion.HIXIE_75)
})

test('invalid requests: the status of each', () => {
  throwsHandshake(() => validateHixieRequest(head(BASE_75, 'POST')), 405, 'WS_ERR_HANDSHAKE', { allow: 'GET' })
  const bad: [string, RequestHead][] = [
    ['HTTP/1.0', head(BASE_75, 'GET', '/demo', 'HTTP/1.0')],
    ['absolute target', head(BASE_75, 'GET', 'http://example.com/demo')],
    ['fragment', head(BASE_75, 'GET', '/demo#x')],
    ['no Upgrade', head(BASE_75.filter(([n]) => n !== 'Upgrade'))],
    ['two Upgrade', head([...BASE_75, ['Upgrade', 'WebSocket']])],
    ['Upgrade h2c', head([['Upgrade', 'h2c'], ...BASE_75.slice(1)])],
    ['no Connection', head(BASE_75.filter(([n]) => n !== 'Connection'))],
    ['no Host', head(BASE_75.filter(([n]) => n !== 'Host'))],
    ['empty Host', head([...BASE_75.filter(([n]) => n !== 'Host'), ['Host', '']])],
    ['Host with a space', head([...BASE_75.filter(([n]) => n !== 'Host'), ['Host', 'a b']])],
    ['Host with a slash', head([...BASE_75.filter(([n]) => n !== 'Host'), ['Host', 'a/b']])],
    ['Host with a control character', head([...BASE_75.filter(([n]) => n !== 'Host'), ['Host', 'a\u0001']])],
    ['two Host', head([...BASE_75, ['Host', 'other']])],
    ['no Origin', head(BASE_75.filter(([n]) => n !== 'Origin'))],
    ['Origin with a control character', head([...BASE_75.filter(([n]) => n !== 'Origin'), ['Origin', 'a\u0000']])],
    ['Key1 only', head([...BASE_75, ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5']])],
    ['Key2 only', head([...BASE_75, ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00']])],
    ['two Key1', head([...BASE_76, ['Sec-WebSocket-Key1', '1 2']])],
    // -76 §5.2: a key without spaces, without digits, over 2^32, or not a multiple of its spaces.
    ['Key1 without a space', head([...BASE_75, ['Sec-WebSocket-Key1', '12345'], ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00']])],
    ['Key2 without a digit', head([...BASE_75, ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5'], ['Sec-WebSocket-Key2', 'a b c']])],
    ['Key1 over 2^32', head([...BASE_75, ['Sec-WebSocket-Key1', '4294967296 '], ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00']])],
    ['Key1 of 11 digits', head([...BASE_75, ['Sec-WebSocket-Key1', '00000000001 '], ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00']])],
    ['Key2 not a multiple', head([...BASE_75, ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5'], ['Sec-WebSocket-Key2', '7  ']])],
    ['empty subprotocol', head([...BASE_75, ['WebSocket-Protocol', '']])],
    ['non-ASCII subprotocol', head([...BASE_76, ['Sec-WebSocket-Protocol', 'caf\u00e9']])],
    ['two subprotocols', head([...BASE_76, ['Sec-WebSocket-Protocol', 'a'], ['Sec-WebSocket-Protocol', 'b']])],
  ]
  for (const [label, h] of bad) throwsHandshake(() => validateHixieRequest(h), 400, 'WS_ERR_HANDSHAKE', undefined, label)
  // The largest key the client can send: 4294967295 with one space.
  assert.is(validateHixieRequest(head([...BASE_75, ['Sec-WebSocket-Key1', '4294967295 '], ['Sec-WebSocket-Key2', '0 ']])).key1, '4294967295 ')
})

test('the answer needs 8 bytes of key3 and valid keys; the response refuses what could inject headers', () => {
  throwsInvalidArgument(() => computeHixie76Answer('1 ', '1 ', new Uint8Array(7)), 'key3 of 7 bytes')
  throwsInvalidArgument(() => computeHixie76Answer('1 ', '1 ', new Uint8Array(9)), 'key3 of 9 bytes')
  throwsHandshake(() => computeHixie76Answer('1', '1 ', new Uint8Array(8)), 400, 'WS_ERR_HANDSHAKE', undefined, 'key1 without a space')
  const location = 'ws://example.com/'
  const answer = new Uint8Array(16)
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'a\r\nX: y', location, answer }), 'origin')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'o', location: 'ws://a\n', answer }), 'location')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'o', location, protocol: 'p\r\n', answer }), 'protocol')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'o', location, answer, headers: { 'Sec-WebSocket-Origin': 'x' } }), 'reserved header')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'o', location }), 'no answer')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_76, origin: 'o', location, answer: new Uint8Array(15) }), 'short answer')
  throwsInvalidArgument(() => buildHixieResponse({ version: HixieVersion.HIXIE_75, origin: 'o', location, answer }), 'an answer in -75')
})

test.run()
