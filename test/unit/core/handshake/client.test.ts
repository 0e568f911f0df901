import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakeError, InvalidArgumentError } from '../../../../src/core/errors.ts'
import { computeAccept } from '../../../../src/core/handshake/accept.ts'
import { buildRequest, validateResponse } from '../../../../src/core/handshake/client.ts'
import { catchError, parseRequest, parseResponse, throwsHandshake, throwsInvalidArgument } from './helpers.ts'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

/** The RFC 6455 §1.3 response, with header lines replaced or removed (`null`) by name. */
function response(changes: Record<string, string | null> = {}, statusLine = 'HTTP/1.1 101 Switching Protocols', extra = ''): string {
  const fields: Record<string, string> = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': ACCEPT,
    'Sec-WebSocket-Protocol': 'chat',
  }
  let text = `${statusLine}\r\n`
  for (const [name, value] of Object.entries(fields)) {
    const change = changes[name]
    if (change === null) continue
    text += `${name}: ${change ?? value}\r\n`
  }
  return `${text}${extra}\r\n`
}

const OFFER = { key: KEY, protocols: ['chat', 'superchat'] }

test('buildRequest: the RFC 6455 §1.3 request', () => {
  assert.is(buildRequest({ host: 'server.example.com', path: '/chat', key: KEY, origin: 'http://example.com', protocols: ['chat', 'superchat'] }),
    'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n` +
    'Sec-WebSocket-Protocol: chat, superchat\r\n\r\n')
  assert.is(buildRequest({ host: '[::1]:8080', path: '/?a=%20', key: KEY, protocols: [], extensions: 'permessage-deflate; client_max_window_bits', headers: { Authorization: 'Bearer x' } }),
    'GET /?a=%20 HTTP/1.1\r\nHost: [::1]:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nAuthorization: Bearer x\r\n\r\n')
  const minimal = buildRequest({ host: 'h', path: '/', key: KEY, extensions: '', protocols: undefined, origin: undefined, headers: undefined })
  assert.not.ok(minimal.includes('Sec-WebSocket-Extensions'))
  assert.not.ok(minimal.includes('Sec-WebSocket-Protocol'))
  assert.is(parseRequest(minimal).headers.get('sec-websocket-version'), '13')
})

test('buildRequest rejects invalid arguments and header injection', () => {
  const base = { host: 'h', path: '/', key: KEY }
  const cases: [string, Record<string, unknown>][] = [
    ['empty host', { host: '' }],
    ['host with CRLF', { host: 'h\r\nX: y' }],
    ['host with a space', { host: 'h x' }],
    ['host with a path', { host: 'h/x' }],
    ['host not a string', { host: 1 }],
    ['relative path', { path: 'chat' }],
    ['empty path', { path: '' }],
    ['path with a space', { path: '/a b' }],
    ['path with CRLF', { path: '/\r\nX: y' }],
    ['path with a fragment', { path: '/#x' }],
    ['non-ASCII path', { path: '/é' }],
    ['path not a string', { path: undefined }],
    ['short key', { key: 'AAAA' }],
    ['key with CRLF', { key: `${KEY}\r\n` }],
    ['key not a string', { key: 16 }],
    ['subprotocol not a token', { protocols: ['a b'] }],
    ['empty subprotocol', { protocols: [''] }],
    ['subprotocol not a string', { protocols: [1] }],
    ['duplicate subprotocol', { protocols: ['a', 'a'] }],
    ['origin with CRLF', { origin: 'http://a\r\nX: y' }],
    ['extensions with CRLF', { extensions: 'x\r\nX: y' }],
    ['header value with CRLF', { headers: { 'X-A': 'b\r\nX: y' } }],
    ['header name not a token', { headers: { 'X A': 'b' } }],
    ['reserved header', { headers: { 'Sec-WebSocket-Key': KEY } }],
    ['reserved header Host', { headers: { host: 'other' } }],
  ]
  for (const [label, change] of cases) throwsInvalidArgument(() => buildRequest({ ...base, ...change } as typeof base), label)
})

test('validates the RFC 6455 §1.3 response', () => {
  const head = parseResponse(response())
  const result = validateResponse(head, OFFER)
  assert.is(result.protocol, 'chat')
  assert.equal(result.extensions, [])
  assert.is(result.headers, head.headers)
})

test('no subprotocol selected gives ""; case and whitespace rules of §4.1', () => {
  const result = validateResponse(parseResponse(response({ 'Sec-WebSocket-Protocol': null, Upgrade: 'WebSocket', Connection: 'keep-alive, upgrade' })), { key: KEY })
  assert.is(result.protocol, '')
  // A higher minor version is accepted (RFC 9110 §6.2).
  assert.ok(validateResponse(parseResponse(response({}, 'HTTP/1.2 101 Switching Protocols')), OFFER))
})

test('a platform hash can compute the expected accept value', () => {
  const nodeSha1 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(data).digest())
  assert.is(validateResponse(parseResponse(response()), { ...OFFER, hash: nodeSha1 }).protocol, 'chat')
})

test('extensions: only offered ones, in the server order', () => {
  const offered = 'permessage-deflate; client_max_window_bits, permessage-deflate, x-foo'
  const extra = 'Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n'
  const result = validateResponse(parseResponse(response({}, undefined, extra)), { ...OFFER, extensions: offered })
  assert.equal(result.extensions, [{ name: 'x-foo', params: [] }, { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] }])
  const asOffers = validateResponse(parseResponse(response({}, undefined, 'Sec-WebSocket-Extensions: x-foo\r\n')), { ...OFFER, extensions: [{ name: 'x-foo', params: [] }] })
  assert.equal(asOffers.extensions, [{ name: 'x-foo', params: [] }])
})

test('a status other than 101 is a HandshakeError carrying the status and headers received', () => {
  const error = throwsHandshake(() => validateResponse(parseResponse('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nX-A: 1\r\nx-a: 2\r\n\r\n'), OFFER), 401)
  assert.equal({ ...error.headers }, { 'www-authenticate': 'Basic', 'x-a': '1, 2' })
  throwsHandshake(() => validateResponse(parseResponse('HTTP/1.1 200 OK\r\n\r\n'), OFFER), 200, 'WS_ERR_HANDSHAKE', {})
  throwsHandshake(() => validateResponse(parseResponse('HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n'), OFFER), 302, 'WS_ERR_HANDSHAKE', { location: '/x' })
})

const ACCEPT_FOR_OTHER_KEY = computeAccept('AAAAAAAAAAAAAAAAAAAAAA==')
const INVALID: [label: string, text: string, options?: Parameters<typeof validateResponse>[1]][] = [
  ['HTTP/1.0', response({}, 'HTTP/1.0 101 Switching Protocols')],
  ['HTTP/2.0', response({}, 'HTTP/2.0 101 Switching Protocols')],
  ['no Upgrade', response({ Upgrade: null })],
  ['Upgrade not websocket', response({ Upgrade: 'h2c' })],
  ['Upgrade list', response({ Upgrade: 'websocket, h2c' })],
  ['two Upgrade fields', response({}, undefined, 'Upgrade: websocket\r\n')],
  ['no Connection', response({ Connection: null })],
  ['Connection without upgrade', response({ Connection: 'keep-alive' })],
  ['no accept', response({ 'Sec-WebSocket-Accept': null })],
  ['wrong accept', response({ 'Sec-WebSocket-Accept': ACCEPT_FOR_OTHER_KEY })],
  ['accept in another case', response({ 'Sec-WebSocket-Accept': ACCEPT.toLowerCase() })],
  ['empty accept', response({ 'Sec-WebSocket-Accept': '' })],
  ['the key echoed as accept', response({ 'Sec-WebSocket-Accept': KEY })],
  ['two accept fields', response({}, undefined, `Sec-WebSocket-Accept: ${ACCEPT}\r\n`)],
  ['subprotocol not offered', response({ 'Sec-WebSocket-Protocol': 'other' })],
  ['subprotocol in another case', response({ 'Sec-WebSocket-Protocol': 'Chat' })],
  ['subprotocol list', response({ 'Sec-WebSocket-Protocol': 'chat, superchat' })],
  ['empty subprotocol', response({ 'Sec-WebSocket-Protocol': '' })],
  ['two subprotocol fields', response({}, undefined, 'Sec-WebSocket-Protocol: superchat\r\n')],
  ['subprotocol when none offered', response(), { key: KEY }],
  ['subprotocol when an empty list was offered', response(), { key: KEY, protocols: [] }],
  ['extension not offered', response({}, undefined, 'Sec-WebSocket-Extensions: x-bar\r\n'), { ...OFFER, extensions: 'x-foo' }],
  ['extension when none offered', response({}, undefined, 'Sec-WebSocket-Extensions: x-foo\r\n'), OFFER],
  ['extension accepted twice', response({}, undefined, 'Sec-WebSocket-Extensions: x-foo, x-foo\r\n'), { ...OFFER, extensions: 'x-foo, x-foo; a' }],
  ['extension syntax', response({}, undefined, 'Sec-WebSocket-Extensions: x-foo;\r\n'), { ...OFFER, extensions: 'x-foo' }],
]

test('every wrong field of a 101 response is a HandshakeError with status 101 and the headers received', () => {
  for (const [label, text, options = OFFER] of INVALID) {
    const head = parseResponse(text)
    const error = throwsHandshake(() => validateResponse(head, options), 101, 'WS_ERR_HANDSHAKE', undefined, label)
    assert.equal({ ...error.headers }, { ...head.headers.toRecord() }, label)
  }
})

test('an extension syntax error keeps the parse error as cause', () => {
  const error = catchError(() => validateResponse(parseResponse(response({}, undefined, 'Sec-WebSocket-Extensions: ;\r\n')), { ...OFFER, extensions: 'x' })) as HandshakeError
  assert.is(error.status, 101)
  assert.instance(error.cause, HandshakeError)
})

test('an invalid extensions option is an argument error', () => {
  const error = catchError(() => validateResponse(parseResponse(response()), { ...OFFER, extensions: 'a;;' }))
  assert.instance(error, InvalidArgumentError)
})

test.run()
