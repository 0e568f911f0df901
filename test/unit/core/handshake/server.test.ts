import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakeError } from '../../../../src/core/errors.ts'
import { computeAccept } from '../../../../src/core/handshake/accept.ts'
import { HttpHeaders } from '../../../../src/core/handshake/headers.ts'
import { buildErrorResponse, buildResponse, selectSubprotocol, validateRequest } from '../../../../src/core/handshake/server.ts'
import { catchError, parseRequest, parseResponse, throwsHandshake, throwsInvalidArgument } from './helpers.ts'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

/** The RFC 6455 §1.3 request, with header lines replaced or removed (`null`) by name. */
function request(changes: Record<string, string | null> = {}, requestLine = 'GET /chat HTTP/1.1', extra = ''): string {
  const fields: Record<string, string> = {
    Host: 'server.example.com',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    Origin: 'http://example.com',
    'Sec-WebSocket-Protocol': 'chat, superchat',
    'Sec-WebSocket-Version': '13',
  }
  let text = `${requestLine}\r\n`
  for (const [name, value] of Object.entries(fields)) {
    const change = changes[name]
    if (change === null) continue
    text += `${name}: ${change ?? value}\r\n`
  }
  return `${text}${extra}\r\n`
}

test('validates the RFC 6455 §1.3 request', () => {
  const head = parseRequest(request())
  const result = validateRequest(head)
  assert.is(result.key, KEY)
  assert.is(result.path, '/chat')
  assert.is(result.target, '/chat')
  assert.is(result.host, 'server.example.com')
  assert.is(result.origin, 'http://example.com')
  assert.equal(result.protocols, ['chat', 'superchat'])
  assert.equal(result.extensions, [])
  assert.is(result.headers, head.headers)
})

test('lenient where the RFCs say so: case, lists, empty elements, several fields, higher minor version', () => {
  const result = validateRequest(parseRequest(request({
    Upgrade: 'h2c, WebSocket',
    Connection: 'keep-alive, Upgrade',
    Origin: null,
    'Sec-WebSocket-Protocol': ' a ,, b',
  }, 'GET /a?b=c HTTP/1.2', 'sec-websocket-protocol: c\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
    'Sec-WebSocket-Extensions: x-foo\r\n')))
  assert.equal(result.protocols, ['a', 'b', 'c'])
  assert.is(result.origin, undefined)
  assert.not.ok('origin' in result)
  assert.is(result.path, '/a?b=c')
  assert.equal(result.extensions, [
    { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    { name: 'x-foo', params: [] },
  ])
  const noProtocols = validateRequest(parseRequest(request({ 'Sec-WebSocket-Protocol': null, Connection: 'upgrade' })))
  assert.equal(noProtocols.protocols, [])
})

test('absolute-form request-targets give the resource name (RFC 9112 §3.2.2)', () => {
  const cases: [string, string][] = [
    ['ws://server.example.com/chat?x=1', '/chat?x=1'],
    ['http://server.example.com:8080', '/'],
    ['wss://server.example.com?x', '/?x'],
    ['HTTP://a/b', '/b'],
  ]
  for (const [target, path] of cases) {
    const result = validateRequest(parseRequest(request({}, `GET ${target} HTTP/1.1`)))
    assert.is(result.path, path, target)
    assert.is(result.target, target)
  }
})

test('accepts a head built by the Node layer from rawHeaders', () => {
  const headers = new HttpHeaders([['host', 'h'], ['upgrade', 'websocket'], ['connection', 'Upgrade'], ['sec-websocket-key', KEY], ['sec-websocket-version', '13']])
  const result = validateRequest({ method: 'GET', target: '/', version: 'HTTP/1.1', headers })
  assert.is(result.host, 'h')
})

const VERSION_HEADERS = { 'sec-websocket-version': '13' }
const INVALID: [label: string, text: string, status: number, code?: string, headers?: Record<string, string>][] = [
  ['POST', request({}, 'POST /chat HTTP/1.1'), 405, 'WS_ERR_HANDSHAKE', { allow: 'GET' }],
  ['lower-case get', request({}, 'get /chat HTTP/1.1'), 405, 'WS_ERR_HANDSHAKE', { allow: 'GET' }],
  ['HTTP/1.0', request({}, 'GET /chat HTTP/1.0'), 505],
  ['HTTP/2.0', request({}, 'GET /chat HTTP/2.0'), 505],
  ['HTTP/0.9', request({}, 'GET /chat HTTP/0.9'), 505],
  ['asterisk-form', request({}, 'GET * HTTP/1.1'), 400],
  ['authority-form', request({}, 'GET server.example.com:80 HTTP/1.1'), 400],
  ['fragment', request({}, 'GET /chat#x HTTP/1.1'), 400],
  ['no Host', request({ Host: null }), 400],
  ['empty Host', request({ Host: '' }), 400],
  ['Host list', request({ Host: 'a, b' }), 400],
  ['Host with a path', request({ Host: 'a/b' }), 400],
  ['Host with a space', request({ Host: 'a b' }), 400],
  ['two Host fields', request({}, undefined, 'Host: other\r\n'), 400],
  ['no Upgrade', request({ Upgrade: null }), 400],
  ['Upgrade without websocket', request({ Upgrade: 'h2c' }), 400],
  ['Upgrade with websocket as a substring', request({ Upgrade: 'websockets' }), 400],
  ['no Connection', request({ Connection: null }), 400],
  ['Connection without upgrade', request({ Connection: 'keep-alive' }), 400],
  ['Connection with upgrade as a substring', request({ Connection: 'upgrades' }), 400],
  ['no version', request({ 'Sec-WebSocket-Version': null }), 426, 'WS_ERR_UNSUPPORTED_VERSION', VERSION_HEADERS],
  ['version 8', request({ 'Sec-WebSocket-Version': '8' }), 426, 'WS_ERR_UNSUPPORTED_VERSION', VERSION_HEADERS],
  ['version 14', request({ 'Sec-WebSocket-Version': '14' }), 426, 'WS_ERR_UNSUPPORTED_VERSION', VERSION_HEADERS],
  ['version list', request({ 'Sec-WebSocket-Version': '13, 8' }), 426, 'WS_ERR_UNSUPPORTED_VERSION', VERSION_HEADERS],
  ['two version fields', request({}, undefined, 'Sec-WebSocket-Version: 13\r\n'), 426, 'WS_ERR_UNSUPPORTED_VERSION', VERSION_HEADERS],
  ['no key', request({ 'Sec-WebSocket-Key': null }), 400],
  ['empty key', request({ 'Sec-WebSocket-Key': '' }), 400],
  ['key of 15 bytes', request({ 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' }), 400],
  ['key of 17 bytes', request({ 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAAA=' }), 400],
  ['key not base64', request({ 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ!=' }), 400],
  ['two key fields', request({}, undefined, `Sec-WebSocket-Key: ${KEY}\r\n`), 400],
  ['two Origin fields', request({}, undefined, 'Origin: http://evil.example\r\n'), 400],
  ['subprotocol not a token', request({ 'Sec-WebSocket-Protocol': 'chat, super chat' }), 400],
  ['subprotocol with a separator', request({ 'Sec-WebSocket-Protocol': 'a/b' }), 400],
  ['duplicate subprotocol', request({ 'Sec-WebSocket-Protocol': 'chat, chat' }), 400],
  ['bad extensions', request({}, undefined, 'Sec-WebSocket-Extensions: a;;\r\n'), 400],
]

test('invalid requests throw HandshakeError with the status to answer', () => {
  for (const [label, text, status, code = 'WS_ERR_HANDSHAKE', headers = {}] of INVALID) {
    throwsHandshake(() => validateRequest(parseRequest(text)), status, code, headers, label)
  }
})

test('a malformed HTTP-version from another head source is 400', () => {
  const headers = new HttpHeaders([['host', 'h']])
  throwsHandshake(() => validateRequest({ method: 'GET', target: '/', version: '1.1', headers }), 400)
})

test('selectSubprotocol: the server preference order wins, never an unoffered value', () => {
  assert.is(selectSubprotocol(['chat', 'superchat'], ['superchat', 'chat']), 'superchat')
  assert.is(selectSubprotocol(['chat', 'superchat'], ['x', 'chat']), 'chat')
  assert.is(selectSubprotocol(['chat'], ['x', 'y']), undefined)
  assert.is(selectSubprotocol([], ['chat']), undefined)
  assert.is(selectSubprotocol(['chat'], []), undefined)
  assert.is(selectSubprotocol(['Chat'], ['chat']), undefined) // case-sensitive
  assert.is(selectSubprotocol(['a', 'b'], (offered) => offered[1]), 'b')
  assert.is(selectSubprotocol(['a', 'b'], () => undefined), undefined)
  throwsInvalidArgument(() => selectSubprotocol(['a', 'b'], () => 'c'))
  throwsInvalidArgument(() => selectSubprotocol([], () => ''))
  // Exhaustive over small sets: the result is always offered, and the first preferred offered one.
  const names = ['a', 'b', 'c', 'd']
  const subsets = (list: string[]): string[][] => list.reduce<string[][]>((acc, x) => acc.concat(acc.map((s) => [...s, x])), [[]])
  for (const offered of subsets(names)) {
    for (const preferred of subsets([...names].reverse())) {
      const chosen = selectSubprotocol(offered, preferred)
      assert.is(chosen, preferred.find((p) => offered.includes(p)))
      if (chosen !== undefined) assert.ok(offered.includes(chosen))
    }
  }
})

test('buildResponse: the RFC 6455 §1.3 response', () => {
  assert.is(buildResponse({ key: KEY }),
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`)
  assert.is(buildResponse({ accept: ACCEPT, protocol: 'chat', extensions: 'permessage-deflate', headers: { 'Set-Cookie': 'a=b; Path=/', 'X-Empty': '' } }),
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n` +
    'Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSet-Cookie: a=b; Path=/\r\nX-Empty: \r\n\r\n')
  assert.is(buildResponse({ key: KEY, protocol: '', extensions: '', headers: {} }), buildResponse({ key: KEY }))
  assert.is(buildResponse({ key: KEY, protocol: undefined, extensions: undefined, headers: undefined }), buildResponse({ key: KEY }))
  const parsed = parseResponse(buildResponse({ key: KEY, protocol: 'chat' }))
  assert.is(parsed.status, 101)
  assert.is(parsed.headers.get('sec-websocket-accept'), computeAccept(KEY))
})

test('buildResponse rejects header injection and invalid values', () => {
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A': 'b\r\nInjected: 1' } }), 'CRLF in value')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A': 'b\nc' } }), 'LF in value')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A': 'b\x00' } }), 'NUL in value')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A': '\u2028' } }), 'non-latin1 value')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A': 1 as unknown as string } }), 'non-string value')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X A': 'b' } }), 'bad name')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'X-A\r\nInjected': 'b' } }), 'CRLF in name')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { 'Sec-WebSocket-Accept': ACCEPT } }), 'reserved name')
  throwsInvalidArgument(() => buildResponse({ key: KEY, headers: { connection: 'close' } }), 'reserved name, lower case')
  throwsInvalidArgument(() => buildResponse({ key: KEY, protocol: 'a b' }), 'protocol not a token')
  throwsInvalidArgument(() => buildResponse({ key: KEY, protocol: 'a\r\nX: y' }), 'protocol with CRLF')
  throwsInvalidArgument(() => buildResponse({ key: KEY, extensions: 'a\r\nX: y' }), 'extensions with CRLF')
  throwsInvalidArgument(() => buildResponse({ accept: 'short' }), 'accept not 20 bytes')
  throwsInvalidArgument(() => buildResponse({ accept: `${ACCEPT}\r\nX: y` }), 'accept with CRLF')
  throwsInvalidArgument(() => buildResponse({} as { key: string }), 'neither key nor accept')
})

test('buildErrorResponse: status, headers, Connection: close, text body with Content-Length', () => {
  const error = catchError(() => validateRequest(parseRequest(request({ 'Sec-WebSocket-Version': '8' })))) as HandshakeError
  const text = buildErrorResponse(error)
  const parser = parseResponse(text)
  assert.is(parser.status, 426)
  assert.is(parser.statusText, 'Upgrade Required')
  assert.is(parser.headers.get('sec-websocket-version'), '13')
  // RFC 9110 §15.5.22: a 426 response MUST carry Upgrade.
  assert.is(parser.headers.get('upgrade'), 'websocket')
  assert.is(parser.headers.get('connection'), 'close')
  assert.is(parser.headers.get('content-type'), 'text/plain; charset=utf-8')
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  assert.is(body, `${error.message}\n`)
  assert.is(Number(parser.headers.get('content-length')), body.length)
  assert.ok(text.startsWith('HTTP/1.1 426 Upgrade Required\r\n'))
})

test('buildErrorResponse: 405 with Allow, unknown statuses, non-ASCII messages, framing headers overridden', () => {
  const notAllowed = buildErrorResponse(catchError(() => validateRequest(parseRequest(request({}, 'PUT / HTTP/1.1')))) as HandshakeError)
  assert.ok(notAllowed.startsWith('HTTP/1.1 405 Method Not Allowed\r\nallow: GET\r\nConnection: close\r\n'))
  const custom = new HandshakeError('café \u2603\r\nX: y', 418, { 'Content-Length': '999', connection: 'keep-alive', 'X-Reason': 'tea' })
  const text = buildErrorResponse(custom)
  const head = parseResponse(text)
  assert.is(head.status, 418)
  assert.is(head.statusText, 'Error')
  assert.equal(head.headers.getAll('content-length'), ['13'])
  assert.equal(head.headers.getAll('connection'), ['close'])
  assert.is(head.headers.get('x-reason'), 'tea')
  assert.ok(text.endsWith('\r\n\r\ncaf? ???X: y\n'))
  const upgrade = parseResponse(buildErrorResponse(new HandshakeError('x', 426, { Upgrade: 'websocket' })))
  assert.equal(upgrade.headers.getAll('upgrade'), ['websocket'])
})

test('buildErrorResponse rejects statuses that are not errors and injected headers', () => {
  for (const status of [101, 199, 600, 4000, 40.5, Number.NaN]) {
    throwsInvalidArgument(() => buildErrorResponse(new HandshakeError('x', status)), `status ${status}`)
  }
  throwsInvalidArgument(() => buildErrorResponse(new HandshakeError('x', 400, { 'x-a': 'b\r\nc: d' })))
  assert.ok(buildErrorResponse(new HandshakeError('x', 200)).startsWith('HTTP/1.1 200 Error\r\n'))
})

test.run()
