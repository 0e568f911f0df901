/**
 * The server's side of the hixie-75 and hixie-76 opening handshakes
 * (draft-hixie-thewebsocketprotocol-75 §4.2 and -76 §5.1-§5.2): validating the request, the MD5
 * answer of -76 and the 101 response, byte for byte as the drafts' examples show:
 *
 * | draft     | request fields                                 | response status line                         | response fields                                                |
 * | --------- | ---------------------------------------------- | -------------------------------------------- | -------------------------------------------------------------- |
 * | hixie-75  | Upgrade, Connection, Host, Origin, WebSocket-Protocol? | `HTTP/1.1 101 Web Socket Protocol Handshake` | WebSocket-Origin, WebSocket-Location, WebSocket-Protocol?       |
 * | hixie-76  | the same, Sec-WebSocket-Key1/Key2, Sec-WebSocket-Protocol?, then 8 bytes (key3) | `HTTP/1.1 101 WebSocket Protocol Handshake` | Sec-WebSocket-Origin, Sec-WebSocket-Location, Sec-WebSocket-Protocol?, then the 16-byte answer |
 *
 * Neither draft has extensions or binary messages. Their framing is in hixie-framing.ts.
 * @module
 */

import { HandshakeError, InvalidArgumentError } from '../errors.ts'
import type { HttpHeaders } from '../handshake/headers.ts'
import type { RequestHead } from '../handshake/server.ts'
import { assertFieldValue, formatHeaderLines, hasListToken, isFieldValue } from '../handshake/syntax.ts'
import { md5 } from './md5.ts'

/** The two hixie drafts, by name. */
export const HixieVersion = {
  /** draft-hixie-thewebsocketprotocol-75: no keys, `WebSocket-Origin` / `WebSocket-Location`. */
  HIXIE_75: 'hixie-75',
  /** draft-hixie-thewebsocketprotocol-76: Sec-WebSocket-Key1/Key2, an 8-byte key3, the MD5 answer. */
  HIXIE_76: 'hixie-76',
} as const

/** A hixie draft name. */
export type HixieVersion = (typeof HixieVersion)[keyof typeof HixieVersion]

/** draft-hixie-thewebsocketprotocol-76 §4.1 step 29: the client sends 8 random bytes (key3) after the head. */
export const HIXIE_76_KEY3_LENGTH = 8

/** A hixie request that passed {@link validateHixieRequest}. */
export interface HixieHandshakeRequest {
  /** The draft it speaks: hixie-76 when it has Sec-WebSocket-Key1 and Key2, hixie-75 otherwise. */
  version: HixieVersion
  /** The resource name, e.g. `/demo`. */
  path: string
  /** The Host header field, as received (with the port when the client gave one). */
  host: string
  /** The Origin header field. */
  origin: string
  /** The subprotocol asked for (WebSocket-Protocol in -75, Sec-WebSocket-Protocol in -76), if any. */
  protocol?: string
  /** hixie-76: the Sec-WebSocket-Key1 and Key2 values, for {@link computeHixie76Answer}. */
  key1?: string
  /** hixie-76: the Sec-WebSocket-Key2 value. */
  key2?: string
  /** All the request's header fields. */
  headers: HttpHeaders
}

function badRequest(message: string): HandshakeError {
  return new HandshakeError(message, 400)
}

/** The one value of a field that must appear once at most; throws a 400 when it is repeated. */
function single(headers: HttpHeaders, name: string): string | undefined {
  const values = headers.getAll(name)
  if (values.length > 1) throw badRequest(`more than one ${name} header`)
  return values[0]
}

/**
 * Validates a hixie-75 or hixie-76 request head (the draft is chosen by the presence of
 * Sec-WebSocket-Key1 and Key2) and returns what it asks for; throws HandshakeError 405 for another
 * method, 400 otherwise. For hixie-76 the caller then reads the 8 bytes of key3 that follow the
 * head and calls {@link computeHixie76Answer}.
 */
export function validateHixieRequest(head: RequestHead): HixieHandshakeRequest {
  const { headers } = head
  // -75 §4.2 / -76 §5.1: the first line is a GET request for the resource name, HTTP/1.1.
  if (head.method !== 'GET') throw new HandshakeError(`method ${head.method} not allowed: the opening handshake is a GET request`, 405, { allow: 'GET' })
  if (head.version !== 'HTTP/1.1') throw badRequest(`${head.version}: the hixie handshake is an HTTP/1.1 request`)
  // -76 §5.1: the resource name is an absolute path (with its query), never a fragment.
  if (!head.target.startsWith('/') || head.target.includes('#')) throw badRequest('invalid request-target')
  // -75 §4.2 / -76 §5.1: the |Upgrade| field is "WebSocket" and the |Connection| field "Upgrade".
  if (!hasListToken(single(headers, 'upgrade') ?? '', 'websocket')) throw badRequest('missing or invalid Upgrade header: expected WebSocket')
  if (!hasListToken(headers.get('connection') ?? '', 'upgrade')) throw badRequest('missing or invalid Connection header: expected Upgrade')
  // -76 §5.1: the |Host| field gives the host the client connected to (part of the location).
  const host = single(headers, 'host')
  if (host === undefined || host === '' || !isFieldValue(host) || host.includes(' ') || host.includes('/')) throw badRequest('missing or invalid Host header')
  // -75 §4.2 / -76 §5.2: the response echoes the |Origin| field, which the client always sends.
  const origin = single(headers, 'origin')
  if (origin === undefined || !isFieldValue(origin)) throw badRequest('missing or invalid Origin header')

  const key1 = single(headers, 'sec-websocket-key1')
  const key2 = single(headers, 'sec-websocket-key2')
  const version = key1 !== undefined || key2 !== undefined ? HixieVersion.HIXIE_76 : HixieVersion.HIXIE_75
  const request: HixieHandshakeRequest = { version, path: head.target, host, origin, headers }
  if (version === HixieVersion.HIXIE_76) {
    // -76 §5.2: both keys, each of which must give a part (checked again with the answer).
    if (key1 === undefined || key2 === undefined) throw badRequest('Sec-WebSocket-Key1 without Sec-WebSocket-Key2, or the reverse')
    keyPart(key1, 'Sec-WebSocket-Key1')
    keyPart(key2, 'Sec-WebSocket-Key2')
    request.key1 = key1
    request.key2 = key2
  }
  const protocol = single(headers, version === HixieVersion.HIXIE_76 ? 'sec-websocket-protocol' : 'websocket-protocol')
  if (protocol !== undefined) {
    // -76 §4.1 step 8: the subprotocol is characters U+0020 to U+007E, echoed as it is.
    if (protocol === '' || !/^[\x20-\x7e]+$/.test(protocol)) throw badRequest('invalid subprotocol')
    request.protocol = protocol
  }
  return request
}

/**
 * draft-hixie-thewebsocketprotocol-76 §5.2 steps 4-7 for one key: its digits read as a base-10
 * number, divided by its number of spaces. Throws HandshakeError 400 when the key has no space or
 * no digit, when the number is not a multiple of the spaces, or when it is over 4294967295 (the
 * client's product is at most that, §4.1 step 18).
 */
function keyPart(key: string, name: string): number {
  let digits = ''
  let spaces = 0
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x30 && c <= 0x39) digits += key.charAt(i)
    else if (c === 0x20) spaces++
  }
  // -76 §5.2 step 6: if either spaces count is zero, abort (a symptom of a cross-protocol attack).
  if (spaces === 0) throw badRequest(`invalid ${name}: no space`)
  const number = digits === '' || digits.length > 10 ? NaN : Number(digits)
  if (!(number <= 0xffffffff)) throw badRequest(`invalid ${name}: no number below 2^32`)
  // -76 §5.2 step 7: if the key number is not an integral multiple of the spaces, abort.
  if (number % spaces !== 0) throw badRequest(`invalid ${name}: the number is not a multiple of the spaces`)
  return number / spaces
}

/**
 * Computes the hixie-76 answer (draft-hixie-thewebsocketprotocol-76 §5.2 steps 8-9): the MD5 of
 * part 1 and part 2 as big-endian 32-bit integers followed by the 8 bytes of key3, 16 bytes.
 * Throws HandshakeError 400 on an invalid key (see {@link validateHixieRequest}) and
 * InvalidArgumentError unless key3 is 8 bytes.
 */
export function computeHixie76Answer(key1: string, key2: string, key3: Uint8Array): Uint8Array {
  if (key3.length !== HIXIE_76_KEY3_LENGTH) throw new InvalidArgumentError(`key3 must be ${HIXIE_76_KEY3_LENGTH} bytes, not ${key3.length}`)
  const challenge = new Uint8Array(16)
  const view = new DataView(challenge.buffer)
  view.setUint32(0, keyPart(key1, 'Sec-WebSocket-Key1'))
  view.setUint32(4, keyPart(key2, 'Sec-WebSocket-Key2'))
  challenge.set(key3, 8)
  return md5(challenge)
}

/**
 * The WebSocket URL a hixie response names in its location field (-76 §5.2: scheme, host, resource
 * name): `ws://` or, when `secure`, `wss://`, then the request's Host field as received and its
 * resource name, e.g. `ws://example.com/demo`.
 */
export function hixieLocation(request: Pick<HixieHandshakeRequest, 'host' | 'path'>, secure: boolean): string {
  return `${secure ? 'wss' : 'ws'}://${request.host}${request.path}`
}

/** Options of {@link buildHixieResponse}. */
export interface HixieResponseOptions {
  /** The draft to answer in. */
  version: HixieVersion
  /** The request's Origin, echoed in (Sec-)WebSocket-Origin. */
  origin: string
  /** The URL of the WebSocket, in (Sec-)WebSocket-Location (see {@link hixieLocation}). */
  location: string
  /** The subprotocol accepted: the request's value, as it was (or none). */
  protocol?: string | undefined
  /** hixie-76: the 16-byte answer of {@link computeHixie76Answer}, sent after the head. */
  answer?: Uint8Array | undefined
  /** More header fields; the handshake's own cannot be overridden. */
  headers?: Readonly<Record<string, string>> | undefined
}

const RESERVED: ReadonlySet<string> = new Set([
  'upgrade', 'connection', 'websocket-origin', 'websocket-location', 'websocket-protocol',
  'sec-websocket-origin', 'sec-websocket-location', 'sec-websocket-protocol',
])

/**
 * Builds the server's 101 response to a valid hixie request, as bytes: the head of
 * draft-hixie-thewebsocketprotocol-75 §4.2 or -76 §5.2 (status line, Upgrade, Connection, origin,
 * location, subprotocol if any, more headers, the empty line), then for -76 the 16-byte answer.
 * Throws InvalidArgumentError on a value with CR, LF or other control characters, and on a -76
 * answer that is not 16 bytes (or a -75 one at all).
 */
export function buildHixieResponse(options: HixieResponseOptions): Uint8Array {
  const v76 = options.version === HixieVersion.HIXIE_76
  const prefix = v76 ? 'Sec-WebSocket-' : 'WebSocket-'
  assertFieldValue('origin', options.origin)
  assertFieldValue('location', options.location)
  let head = `HTTP/1.1 101 ${v76 ? 'WebSocket' : 'Web Socket'} Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n` +
    `${prefix}Origin: ${options.origin}\r\n${prefix}Location: ${options.location}\r\n`
  if (options.protocol !== undefined) {
    assertFieldValue('subprotocol', options.protocol)
    head += `${prefix}Protocol: ${options.protocol}\r\n`
  }
  head += `${formatHeaderLines(Object.entries(options.headers ?? {}), RESERVED)}\r\n`
  const answer = options.answer
  if (v76 ? answer?.length !== 16 : answer !== undefined) throw new InvalidArgumentError(v76 ? 'a hixie-76 response needs the 16-byte answer' : 'a hixie-75 response has no answer')
  const bytes = new Uint8Array(head.length + (answer?.length ?? 0))
  for (let i = 0; i < head.length; i++) bytes[i] = head.charCodeAt(i)
  if (answer !== undefined) bytes.set(answer, head.length)
  return bytes
}
