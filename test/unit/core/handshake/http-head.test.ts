import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakeError } from '../../../../src/core/errors.ts'
import { DEFAULT_HTTP_HEAD_LIMITS, HttpHeadParser } from '../../../../src/core/handshake/http-head.ts'
import type { HttpHead } from '../../../../src/core/handshake/http-head.ts'
import { catchError, latin1, parseHead, parseRequest, parseResponse, plain, throwsHandshake, throwsInvalidArgument } from './helpers.ts'

const REQUEST =
  'GET /chat?room=1 HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'X-Multi: a\r\n' +
  'x-multi: b\r\n' +
  '\r\n'
const FRAME = '\x81\x05hello'

test('parses a request head (RFC 6455 §1.3 example)', () => {
  const head = parseRequest(REQUEST)
  assert.is(head.kind, 'request')
  assert.is(head.method, 'GET')
  assert.is(head.target, '/chat?room=1')
  assert.is(head.version, 'HTTP/1.1')
  assert.is(head.headers.size, 9)
  assert.equal(head.headers.fields[0], ['Host', 'server.example.com'])
  assert.is(head.headers.get('sec-websocket-key'), 'dGhlIHNhbXBsZSBub25jZQ==')
  assert.is(head.headers.get('SEC-WEBSOCKET-KEY'), 'dGhlIHNhbXBsZSBub25jZQ==')
  // RFC 9110 §5.3: repeated fields are combined in order with ", ".
  assert.is(head.headers.get('x-multi'), 'a, b')
  assert.equal(head.headers.getAll('X-Multi'), ['a', 'b'])
  assert.equal([...head.headers].map(([name]) => name).slice(-2), ['X-Multi', 'x-multi'])
})

test('parses a status line (RFC 6455 §1.3 example) and keeps the bytes after the head', () => {
  const parser = new HttpHeadParser({ kind: 'response' })
  const head = parser.push(latin1('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n' + FRAME))
  assert.ok(head)
  assert.is(head.kind, 'response')
  if (head.kind !== 'response') return
  assert.is(head.version, 'HTTP/1.1')
  assert.is(head.status, 101)
  assert.is(head.statusText, 'Switching Protocols')
  assert.is(head.headers.get('sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
  assert.equal(parser.rest, latin1(FRAME))
  assert.is(parser.head, head)
})

test('status lines with an empty or missing reason phrase, and other statuses', () => {
  const a = parseResponse('HTTP/1.1 101 \r\n\r\n')
  assert.is(a.statusText, '')
  const b = parseResponse('HTTP/1.1 101\r\n\r\n')
  assert.is(b.statusText, '')
  const c = parseResponse('HTTP/1.0 404 Not\tFound \xe9\r\n\r\n')
  assert.is(c.status, 404)
  assert.is(c.statusText, 'Not\tFound \xe9')
  assert.is(c.version, 'HTTP/1.0')
})

test('the same request split at every point, and one byte at a time, parses the same', () => {
  const bytes = latin1(REQUEST + FRAME)
  const expected = plain(parseHead(REQUEST, 'request'))
  for (let split = 0; split <= bytes.length; split++) {
    const parser = new HttpHeadParser({ kind: 'request' })
    let head: HttpHead | undefined = parser.push(bytes.subarray(0, split))
    let after: number[]
    if (head === undefined) {
      head = parser.push(bytes.subarray(split))
      after = [...parser.rest]
    } else {
      after = [...parser.rest, ...bytes.subarray(split)]
    }
    assert.equal(plain(head), expected, `split at ${split}`)
    assert.equal(after, [...latin1(FRAME)], `bytes after the head, split at ${split}`)
  }
  const parser = new HttpHeadParser({ kind: 'request' })
  const heads: (HttpHead | undefined)[] = []
  for (let i = 0; i < REQUEST.length; i++) heads.push(parser.push(bytes.subarray(i, i + 1)))
  assert.equal(plain(heads.at(-1)), expected)
  assert.ok(heads.slice(0, -1).every((h) => h === undefined))
  assert.is(parser.rest.length, 0)
})

test('a caller reusing its chunk buffer does not corrupt a pending line', () => {
  const parser = new HttpHeadParser({ kind: 'request' })
  const buffer = new Uint8Array(8)
  const bytes = latin1(REQUEST)
  let head: HttpHead | undefined
  for (let i = 0; i < bytes.length; i += 8) {
    const piece = bytes.subarray(i, i + 8)
    buffer.fill(0x21)
    buffer.set(piece)
    head = parser.push(buffer.subarray(0, piece.length))
  }
  assert.equal(plain(head), plain(parseHead(REQUEST, 'request')))
})

test('bare LF line endings are accepted (RFC 9112 §2.2), mixed with CRLF', () => {
  const head = parseRequest('GET / HTTP/1.1\nHost: a\r\nUpgrade: websocket\n\n')
  assert.is(head.headers.get('host'), 'a')
  assert.is(head.headers.get('upgrade'), 'websocket')
})

test('empty lines before the request line are ignored (RFC 9112 §2.2)', () => {
  const head = parseRequest('\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')
  assert.is(head.target, '/')
})

test('OWS around values is trimmed, inner whitespace kept, empty values allowed', () => {
  const head = parseRequest('GET / HTTP/1.1\r\nA:  \t x  y \t\r\nB:\r\nC:z\r\nD: \xe9\xff\r\n\r\n')
  assert.is(head.headers.get('a'), 'x  y')
  assert.is(head.headers.get('b'), '')
  assert.is(head.headers.get('c'), 'z')
  // Header bytes are latin1: each byte one char.
  assert.is(head.headers.get('d'), '\xe9\xff')
})

test('header names are case-insensitive but kept as sent; a "__proto__" field is an ordinary field', () => {
  const head = parseRequest('GET / HTTP/1.1\r\n__proto__: x\r\nContent-TYPE: y\r\n\r\n')
  assert.equal(head.headers.fields, [['__proto__', 'x'], ['Content-TYPE', 'y']])
  const record = head.headers.toRecord()
  assert.is(Object.getPrototypeOf(record), Object.prototype)
  assert.is(Object.keys(record).length, 2)
  assert.is(record['__proto__'], 'x')
  assert.is(record['content-type'], 'y')
  assert.ok(head.headers.has('CONTENT-type'))
  assert.not.ok(head.headers.has('x'))
  assert.is(head.headers.get('x'), undefined)
  assert.equal(head.headers.getAll('x'), [])
})

const MALFORMED: [label: string, head: string, kind?: 'request' | 'response'][] = [
  ['no spaces in request line', 'GET\r\n\r\n'],
  ['one space in request line', 'GET /\r\n\r\n'],
  ['empty method', ' / HTTP/1.1\r\n\r\n'],
  ['method not a token', 'G(T / HTTP/1.1\r\n\r\n'],
  ['two spaces between method and target', 'GET  / HTTP/1.1\r\n\r\n'],
  ['space inside the target', 'GET /a b HTTP/1.1\r\n\r\n'],
  ['control char in target', 'GET /a\x01 HTTP/1.1\r\n\r\n'],
  ['non-ASCII target', 'GET /\xe9 HTTP/1.1\r\n\r\n'],
  ['lower-case HTTP name', 'GET / http/1.1\r\n\r\n'],
  ['version with two digits', 'GET / HTTP/1.10\r\n\r\n'],
  ['version missing minor', 'GET / HTTP/1\r\n\r\n'],
  ['trailing space after version', 'GET / HTTP/1.1 \r\n\r\n'],
  ['bare CR in request line', 'GET /\r HTTP/1.1\r\n\r\n'],
  ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n'],
  ['whitespace-preceded first field (HTAB)', 'GET / HTTP/1.1\r\n\tA: b\r\n\r\n'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
  ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n'],
  ['empty field name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
  ['non-token field name', 'GET / HTTP/1.1\r\nHo(st: a\r\n\r\n'],
  ['NUL in value', 'GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n'],
  ['bare CR in value', 'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n'],
  ['CR CR LF', 'GET / HTTP/1.1\r\nA: b\r\r\n\r\n'],
  ['DEL in value', 'GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n'],
  ['control char in value', 'GET / HTTP/1.1\r\nA: \x1b[31m\r\n\r\n'],
  ['lone CR line', 'GET / HTTP/1.1\r\n\r\r\n'],
  ['status line without status', 'HTTP/1.1\r\n\r\n', 'response'],
  ['status with two digits', 'HTTP/1.1 10 x\r\n\r\n', 'response'],
  ['status with four digits', 'HTTP/1.1 1010 x\r\n\r\n', 'response'],
  ['status below 100', 'HTTP/1.1 099 x\r\n\r\n', 'response'],
  ['status above 599', 'HTTP/1.1 600 x\r\n\r\n', 'response'],
  ['bad version in status line', 'HTTP/1.x 101 x\r\n\r\n', 'response'],
  ['request line where a status line is expected', 'GET / HTTP/1.1\r\n\r\n', 'response'],
  ['control char in reason', 'HTTP/1.1 101 a\x00b\r\n\r\n', 'response'],
  ['DEL in reason', 'HTTP/1.1 101 a\x7f\r\n\r\n', 'response'],
  ['status line where a request line is expected', 'HTTP/1.1 101 OK\r\n\r\n'],
]

test('malformed heads throw HandshakeError 400 (WS_ERR_HANDSHAKE)', () => {
  for (const [label, text, kind = 'request'] of MALFORMED) {
    throwsHandshake(() => parseHead(text, kind), 400, 'WS_ERR_HANDSHAKE', {}, label)
    // The same error whatever the chunking.
    const parser = new HttpHeadParser({ kind })
    throwsHandshake(() => {
      for (const byte of latin1(text)) parser.push(new Uint8Array([byte]))
    }, 400, 'WS_ERR_HANDSHAKE', {}, `${label} (byte by byte)`)
  }
})

test('default limits: 8190-byte lines, 100 fields, 16 KiB', () => {
  assert.equal({ ...DEFAULT_HTTP_HEAD_LIMITS }, { maxLineLength: 8190, maxHeaders: 100, maxHeadSize: 16384 })
  const value = 'v'.repeat(8190 - 3)
  assert.ok(parseHead(`GET / HTTP/1.1\r\nA: ${value}\r\n\r\n`, 'request'))
  throwsHandshake(() => parseHead(`GET / HTTP/1.1\r\nA: ${value}v\r\n\r\n`, 'request'), 431, 'WS_ERR_HEADERS_TOO_LARGE')
  const fields = (n: number): string => Array.from({ length: n }, (_, i) => `h${i}: x\r\n`).join('')
  assert.ok(parseHead(`GET / HTTP/1.1\r\n${fields(100)}\r\n`, 'request'))
  throwsHandshake(() => parseHead(`GET / HTTP/1.1\r\n${fields(101)}\r\n`, 'request'), 431, 'WS_ERR_HEADERS_TOO_LARGE')
  const big = (n: number): string => Array.from({ length: n }, (_, i) => `h${i}: ${'x'.repeat(1000)}\r\n`).join('')
  throwsHandshake(() => parseHead(`GET / HTTP/1.1\r\n${big(17)}\r\n`, 'request'), 431, 'WS_ERR_HEADERS_TOO_LARGE')
})

test('each limit exceeded throws 431, at the exact boundary, whatever the chunking', () => {
  const limits = { maxLineLength: 20, maxHeaders: 3, maxHeadSize: 100 }
  const cases: [label: string, ok: string, tooLarge: string][] = [
    // "GET / HTTP/1.1" is 14 bytes; a line of 20 bytes passes, 21 fails (CRLF not counted).
    ['maxLineLength (field)', 'GET / HTTP/1.1\r\nA: 12345678901234567\r\n\r\n', 'GET / HTTP/1.1\r\nA: 123456789012345678\r\n\r\n'],
    ['maxLineLength (LF only)', 'GET / HTTP/1.1\nA: 12345678901234567\n\n', 'GET / HTTP/1.1\nA: 123456789012345678\n\n'],
    ['maxLineLength (request line)', 'GET /234567 HTTP/1.1\r\n\r\n', 'GET /2345678 HTTP/1.1\r\n\r\n'],
    ['maxHeaders', 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'],
  ]
  // maxHeadSize: exactly 100 bytes passes, 101 fails.
  const sized = (n: number): string => `GET / HTTP/1.1\r\nB: ${'x'.repeat(n - 23)}\r\n\r\n`
  const big = { maxLineLength: 1000, maxHeaders: 100, maxHeadSize: 100 }
  assert.is(sized(100).length, 100)
  assert.is(sized(101).length, 101)
  for (const [label, ok, tooLarge, options = limits] of [...cases, ['maxHeadSize', sized(100), sized(101), big] as const]) {
    assert.ok(new HttpHeadParser({ kind: 'request', ...options }).push(latin1(ok)), `${label}: at the limit`)
    for (const step of [1, 2, 7, 1000]) {
      const parser = new HttpHeadParser({ kind: 'request', ...options })
      const bytes = latin1(tooLarge)
      throwsHandshake(() => {
        for (let i = 0; i < bytes.length; i += step) parser.push(bytes.subarray(i, i + step))
      }, 431, 'WS_ERR_HEADERS_TOO_LARGE', {}, `${label}, chunks of ${step}`)
    }
  }
})

test('a line without LF fails as soon as it passes the limit, without waiting for its end', () => {
  const parser = new HttpHeadParser({ kind: 'request', maxLineLength: 10, maxHeadSize: 1000 })
  assert.is(parser.push(latin1('GET /12345')), undefined)
  assert.is(parser.push(latin1('\r')), undefined) // 10 bytes + a CR that may precede LF
  throwsHandshake(() => parser.push(latin1('x')), 431, 'WS_ERR_HEADERS_TOO_LARGE')
  const endless = new HttpHeadParser({ kind: 'request' })
  const chunk = new Uint8Array(1024).fill(0x61)
  const error = catchError(() => {
    for (let i = 0; i < 100; i++) endless.push(chunk)
  })
  assert.instance(error, HandshakeError)
  assert.is((error as HandshakeError).status, 431)
})

test('after an error every push throws the same error; after the head, push is a misuse', () => {
  const parser = new HttpHeadParser({ kind: 'request' })
  const first = catchError(() => parser.push(latin1('BAD\r\n')))
  assert.instance(first, HandshakeError)
  assert.is(catchError(() => parser.push(latin1('GET / HTTP/1.1\r\n\r\n'))), first)
  const done = new HttpHeadParser({ kind: 'request' })
  assert.ok(done.push(latin1('GET / HTTP/1.1\r\n\r\n')))
  throwsInvalidArgument(() => done.push(latin1('more')))
})

test('empty chunks and an incomplete head return undefined', () => {
  const parser = new HttpHeadParser({ kind: 'request' })
  assert.is(parser.push(new Uint8Array(0)), undefined)
  assert.is(parser.push(latin1('GET / HTTP/1.1\r\nHost: a\r\n')), undefined)
  assert.is(parser.head, undefined)
  assert.is(parser.rest.length, 0)
  assert.ok(parser.push(latin1('\r\n')))
})

test('invalid options are argument errors', () => {
  throwsInvalidArgument(() => new HttpHeadParser({ kind: 'other' as 'request' }))
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsInvalidArgument(() => new HttpHeadParser({ kind: 'request', maxLineLength: bad }), `maxLineLength ${bad}`)
    throwsInvalidArgument(() => new HttpHeadParser({ kind: 'request', maxHeaders: bad }), `maxHeaders ${bad}`)
    throwsInvalidArgument(() => new HttpHeadParser({ kind: 'request', maxHeadSize: bad }), `maxHeadSize ${bad}`)
  }
})

test('long lines are decoded in blocks (no argument-list overflow)', () => {
  const value = 'é'.repeat(100_000)
  const parser = new HttpHeadParser({ kind: 'request', maxLineLength: 200_000, maxHeadSize: 300_000 })
  const head = parser.push(latin1(`GET / HTTP/1.1\r\nA: ${value}\r\n\r\n`))
  assert.is(head?.headers.get('a'), value)
})

test.run()
