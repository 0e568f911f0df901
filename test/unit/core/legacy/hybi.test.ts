/**
 * hybi-07/08 on the drafts' own bytes: the opening handshake of
 * draft-ietf-hybi-thewebsocketprotocol-08 §1.3 (and -07's, the same with version 7), answered byte
 * for byte with src/core/handshake's buildResponse; the framing examples of -08 §4.7, read by the
 * RFC 6455 decoder unchanged.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteQueue } from '../../../../src/core/byte-queue.ts'
import { NEED_MORE } from '../../../../src/core/constants.ts'
import { parseFrames } from '../../../../src/core/decoder.ts'
import type { Frame } from '../../../../src/core/frame.ts'
import { HttpHeaders } from '../../../../src/core/handshake/headers.ts'
import { buildResponse, selectSubprotocol, type RequestHead } from '../../../../src/core/handshake/server.ts'
import { validateHybiRequest } from '../../../../src/core/legacy/hybi-handshake.ts'
import { bytes, concat } from '../../../helpers/bytes.ts'
import { parseRequest, throwsHandshake } from '../handshake/helpers.ts'

/** draft-ietf-hybi-thewebsocketprotocol-08 §1.3: the handshake from the client (-07: version 7). */
const request = (version: string): string =>
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  `Sec-WebSocket-Version: ${version}\r\n` +
  '\r\n'

/** draft-ietf-hybi-thewebsocketprotocol-08 §1.3: the handshake from the server. */
const RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  '\r\n'

test('hybi-08 and hybi-07: the draft example answered byte for byte', () => {
  for (const version of ['8', '7'] as const) {
    const head = parseRequest(request(version))
    const hybi = validateHybiRequest(head)
    assert.is(hybi.version, Number(version))
    assert.is(hybi.key, 'dGhlIHNhbXBsZSBub25jZQ==')
    assert.is(hybi.origin, 'http://example.com', 'the origin from Sec-WebSocket-Origin')
    assert.equal(hybi.protocols, ['chat', 'superchat'])
    assert.is(hybi.path, '/chat')
    assert.is(hybi.host, 'server.example.com')
    assert.is(hybi.headers, head.headers, 'the request headers as received')
    assert.is(hybi.headers.get('sec-websocket-version'), version)
    const protocol = selectSubprotocol(hybi.protocols, ['chat'])
    assert.is(buildResponse({ key: hybi.key, protocol }), RESPONSE)
  }
})

function head(fields: [string, string][]): RequestHead {
  return { method: 'GET', target: '/chat', version: 'HTTP/1.1', headers: new HttpHeaders(fields) }
}
const BASE: [string, string][] = [['Host', 'h'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']]

test('origin: Sec-WebSocket-Origin, else Origin, else none; two Sec-WebSocket-Origin are refused', () => {
  assert.is(validateHybiRequest(head([...BASE, ['Sec-WebSocket-Version', '8']])).origin, undefined)
  assert.not.ok('origin' in validateHybiRequest(head([...BASE, ['Sec-WebSocket-Version', '8']])))
  assert.is(validateHybiRequest(head([...BASE, ['Sec-WebSocket-Version', '8'], ['Origin', 'http://o']])).origin, 'http://o')
  assert.is(validateHybiRequest(head([...BASE, ['Sec-WebSocket-Version', '7'], ['Origin', 'http://o'], ['Sec-WebSocket-Origin', 'http://s']])).origin, 'http://s')
  throwsHandshake(() => validateHybiRequest(head([...BASE, ['Sec-WebSocket-Version', '8'], ['Sec-WebSocket-Origin', 'a'], ['Sec-WebSocket-Origin', 'b']])), 400)
})

test('versions other than 7 and 8 get 426 listing 13, 8, 7; the RFC 6455 checks still apply', () => {
  const listed = { 'sec-websocket-version': '13, 8, 7' }
  for (const versions of [[], ['13'], ['6'], ['08'], ['8', '8'], ['8, 7']]) {
    throwsHandshake(() => validateHybiRequest(head([...BASE, ...versions.map((v): [string, string] => ['Sec-WebSocket-Version', v])])), 426, 'WS_ERR_UNSUPPORTED_VERSION', listed, `versions ${JSON.stringify(versions)}`)
  }
  throwsHandshake(() => validateHybiRequest(head([...BASE.slice(0, 3), ['Sec-WebSocket-Version', '8']])), 400, 'WS_ERR_HANDSHAKE', undefined, 'no key')
  throwsHandshake(() => validateHybiRequest(head([...BASE.slice(1), ['Sec-WebSocket-Version', '8']])), 400, 'WS_ERR_HANDSHAKE', undefined, 'no Host')
  throwsHandshake(() => validateHybiRequest({ ...head([...BASE, ['Sec-WebSocket-Version', '8']]), method: 'POST' }), 405, 'WS_ERR_HANDSHAKE', { allow: 'GET' })
})

/** Every frame the RFC 6455 decoder reads from these bytes. */
function decodeAll(data: Uint8Array, role: 'client' | 'server'): Frame[] {
  const queue = new ByteQueue()
  queue.push(data)
  const out: Frame[] = []
  const parser = parseFrames(queue, { role })
  for (let r = parser.next(); r.value !== NEED_MORE; r = parser.next()) out.push(r.value)
  return out
}

const summary = (f: Frame): [number, boolean, number[]] => [f.opcode, f.fin, f.payload.length > 16 ? [f.payload.length] : [...f.payload]]
const HELLO = [0x48, 0x65, 0x6c, 0x6c, 0x6f]

test('the framing examples of draft-ietf-hybi-thewebsocketprotocol-08 §4.7, read by the RFC 6455 decoder', () => {
  // A single-frame unmasked text message, as a server sends it.
  assert.equal(decodeAll(bytes(0x81, 0x05, ...HELLO), 'client').map(summary), [[1, true, HELLO]])
  // A single-frame masked text message, as a client sends it.
  assert.equal(decodeAll(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58), 'server').map(summary), [[1, true, HELLO]])
  // A fragmented unmasked text message.
  assert.equal(decodeAll(bytes(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f), 'client').map(summary), [[1, false, [0x48, 0x65, 0x6c]], [0, true, [0x6c, 0x6f]]])
  // An unmasked ping, and a masked pong answering it.
  assert.equal(decodeAll(bytes(0x89, 0x05, ...HELLO), 'client').map(summary), [[9, true, HELLO]])
  assert.equal(decodeAll(bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58), 'server').map(summary), [[10, true, HELLO]])
  // 256 bytes of binary in a single unmasked frame; 64 KiB with the 64-bit length.
  assert.equal(decodeAll(concat(bytes(0x82, 0x7e, 0x01, 0x00), new Uint8Array(256)), 'client').map(summary), [[2, true, [256]]])
  assert.equal(decodeAll(concat(bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00), new Uint8Array(65536)), 'client').map(summary), [[2, true, [65536]]])
})

test.run()
