/**
 * The client's side of the opening handshake (RFC 6455 §4.1): building the request and
 * validating the server's response.
 * @module
 */

import { HandshakeError, InvalidArgumentError } from '../errors.ts'
import type { Sha1Function } from './accept.ts'
import { computeAccept } from './accept.ts'
import { decodeBase64 } from './base64.ts'
import type { ExtensionOffer } from './extensions.ts'
import { parseExtensions } from './extensions.ts'
import type { HttpHeaders } from './headers.ts'
import type { HttpResponseHead } from './http-head.ts'
import { assertFieldValue, formatHeaderLines, hasListToken, isToken, isVisibleAscii, trimWhitespace } from './syntax.ts'

/** Options of {@link buildRequest}: where to connect and what to offer. */
export interface BuildRequestOptions {
  /** The Host header field: host, plus ":port" when not the default (RFC 6455 §4.1 item 4). */
  host: string
  /** The resource name: path and query, starting with "/" and percent-encoded (RFC 6455 §3). */
  path: string
  /** The Sec-WebSocket-Key: 16 random bytes in base64, see generateKey (RFC 6455 §4.1 item 7). */
  key: string
  /** The subprotocols to offer, in order of preference; tokens, unique (RFC 6455 §4.1 item 10). */
  protocols?: readonly string[] | undefined
  /** The Sec-WebSocket-Extensions value to offer (see formatExtensions), if any. */
  extensions?: string | undefined
  /** The Origin header field, if any (RFC 6455 §4.1 item 8). */
  origin?: string | undefined
  /** More header fields, e.g. Authorization; the handshake's own fields cannot be overridden. */
  headers?: Readonly<Record<string, string>> | undefined
}

const RESERVED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'origin',
])

/**
 * Builds the client's opening handshake (RFC 6455 §4.1) as a string of latin1 characters ending
 * with the empty line. Throws InvalidArgumentError on a host, path, key, subprotocol or header that
 * is invalid or could inject header fields.
 */
export function buildRequest(options: BuildRequestOptions): string {
  const { host, path, key, protocols = [], extensions, origin } = options
  if (typeof host !== 'string' || host === '' || !isVisibleAscii(host) || host.includes('/')) {
    throw new InvalidArgumentError(`invalid host ${JSON.stringify(host)}`)
  }
  // RFC 6455 §3: the resource name is "/" plus path and query; fragments MUST NOT be used.
  if (typeof path !== 'string' || !path.startsWith('/') || !isVisibleAscii(path) || path.includes('#')) {
    throw new InvalidArgumentError(`invalid path ${JSON.stringify(path)}: it must start with "/" and be percent-encoded`)
  }
  // RFC 6455 §4.1 item 7: the key MUST be a nonce of 16 bytes, base64-encoded.
  if (typeof key !== 'string' || decodeBase64(key)?.length !== 16) throw new InvalidArgumentError('key must be 16 bytes in base64 (see generateKey)')
  // RFC 6455 §4.1 item 1-6: GET, HTTP/1.1, Host, Upgrade: websocket, Connection: Upgrade, version 13.
  let request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`
  if (origin !== undefined) {
    assertFieldValue('origin', origin)
    request += `Origin: ${origin}\r\n`
  }
  if (protocols.length > 0) {
    // RFC 6455 §4.1 item 10: the subprotocols MUST be tokens and MUST all be unique.
    protocols.forEach((protocol, index) => {
      if (typeof protocol !== 'string' || !isToken(protocol)) throw new InvalidArgumentError(`invalid subprotocol ${JSON.stringify(protocol)}: not a token`)
      if (protocols.indexOf(protocol) !== index) throw new InvalidArgumentError(`duplicate subprotocol ${protocol}`)
    })
    request += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`
  }
  if (extensions !== undefined && extensions !== '') {
    assertFieldValue('Sec-WebSocket-Extensions value', extensions)
    request += `Sec-WebSocket-Extensions: ${extensions}\r\n`
  }
  return `${request}${formatHeaderLines(Object.entries(options.headers ?? {}), RESERVED_REQUEST_HEADERS)}\r\n`
}

/** The parts of a response head that {@link validateResponse} reads (what HttpHeadParser returns). */
export type ResponseHead = Pick<HttpResponseHead, 'version' | 'status' | 'headers'>

/** Options of {@link validateResponse}: what the client sent. */
export interface ValidateResponseOptions {
  /** The Sec-WebSocket-Key sent. */
  key: string
  /** The subprotocols offered, if any. */
  protocols?: readonly string[] | undefined
  /** The extensions offered: the Sec-WebSocket-Extensions value sent, or the offers. */
  extensions?: string | readonly ExtensionOffer[] | undefined
  /** The SHA-1 to compute the expected accept value with (default: the portable one). */
  hash?: Sha1Function | undefined
}

/** A server's opening handshake that passed {@link validateResponse}. */
export interface HandshakeResponse {
  /** The subprotocol in use, or "" when the server selected none (as WebSocket#protocol). */
  protocol: string
  /** The extensions in use, in the order the server listed them (RFC 6455 §9.1: order matters). */
  extensions: ExtensionOffer[]
  /** All the response's header fields. */
  headers: HttpHeaders
}

const HTTP_1_1_OR_HIGHER = /^HTTP\/1\.[1-9]$/

/**
 * Validates the server's opening handshake (RFC 6455 §4.1, after "the client MUST validate the
 * server's response") and returns what was negotiated. Throws HandshakeError (WS_ERR_HANDSHAKE)
 * carrying the status and the header fields received: for a status other than 101 (so that the
 * caller can see a 401, a redirect...) and for every invalid field.
 */
export function validateResponse(head: ResponseHead, options: ValidateResponseOptions): HandshakeResponse {
  const { headers, status } = head
  const fail = (message: string, cause?: unknown): HandshakeError =>
    new HandshakeError(message, status, headers.toRecord(), 'WS_ERR_HANDSHAKE', cause === undefined ? undefined : { cause })

  // RFC 6455 §4.1: if the status code received from the server is not 101, the client handles
  // the response per HTTP procedures; the WebSocket connection is not established.
  if (status !== 101) throw fail(`unexpected HTTP status ${status}: expected 101 Switching Protocols`)
  // RFC 9110 §15.2.2: 101 belongs to HTTP/1.1; an HTTP/1.0 server cannot switch protocols.
  if (!HTTP_1_1_OR_HIGHER.test(head.version)) throw fail(`unexpected ${head.version} response: expected HTTP/1.1`)
  // RFC 6455 §4.1 item 2: the client MUST fail the connection if the Upgrade header field is
  // missing or not an ASCII case-insensitive match for "websocket".
  if (trimWhitespace(headers.get('upgrade') ?? '').toLowerCase() !== 'websocket') throw fail('missing or invalid Upgrade header: expected websocket')
  // RFC 6455 §4.1 item 3: the client MUST fail the connection if the Connection header field is
  // missing or holds no ASCII case-insensitive match for the token "Upgrade".
  if (!hasListToken(headers.get('connection') ?? '', 'upgrade')) throw fail('missing or invalid Connection header: expected Upgrade')
  // RFC 6455 §4.1 item 4: the client MUST fail the connection if Sec-WebSocket-Accept is missing
  // or is not base64(SHA-1(key + GUID)) (trimmed of leading and trailing whitespace).
  const accepts = headers.getAll('sec-websocket-accept')
  if (accepts.length === 0) throw fail('missing Sec-WebSocket-Accept header')
  if (accepts.length > 1 || accepts[0] !== computeAccept(options.key, options.hash)) throw fail('invalid Sec-WebSocket-Accept header')

  // RFC 6455 §4.1 item 5: the client MUST fail the connection if the server indicates an
  // extension that was not present in the client's handshake.
  let extensions: ExtensionOffer[]
  try {
    extensions = parseExtensions(headers.get('sec-websocket-extensions') ?? '')
  } catch (error) {
    throw fail((error as Error).message, error)
  }
  const offered = typeof options.extensions === 'string' ? parseOffered(options.extensions) : options.extensions ?? []
  const seen = new Set<string>()
  for (const { name } of extensions) {
    if (!offered.some((offer) => offer.name === name)) throw fail(`the server accepted extension ${name}, which was not offered`)
    // RFC 6455 §9.1: the server accepts one of the offers of an extension; naming one twice is
    // a response no extension can interpret.
    if (seen.has(name)) throw fail(`the server accepted extension ${name} more than once`)
    seen.add(name)
  }

  // RFC 6455 §4.1 item 6: the client MUST fail the connection if the server selects a subprotocol
  // that was not present in the client's handshake. §11.3.4: the field MUST NOT appear more than
  // once in a response.
  const protocolFields = headers.getAll('sec-websocket-protocol')
  let protocol = ''
  if (protocolFields.length > 1) throw fail('more than one Sec-WebSocket-Protocol header')
  if (protocolFields[0] !== undefined) {
    protocol = protocolFields[0]
    if (!(options.protocols ?? []).includes(protocol)) throw fail(`the server selected subprotocol ${JSON.stringify(protocol)}, which was not offered`)
  }
  return { protocol, extensions, headers }
}

/** Parses the extensions the client offered; a value the client itself built is a programming error if invalid. */
function parseOffered(value: string): ExtensionOffer[] {
  try {
    return parseExtensions(value)
  } catch (error) {
    throw new InvalidArgumentError(`invalid extensions option: ${(error as Error).message}`, { cause: error })
  }
}
