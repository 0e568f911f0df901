/**
 * The server's side of the opening handshake (RFC 6455 §4.2): validating the client's request,
 * choosing a subprotocol, and building the 101 response or an error response.
 * @module
 */

import { HandshakeError, InvalidArgumentError } from '../errors.ts'
import { computeAccept } from './accept.ts'
import { decodeBase64 } from './base64.ts'
import type { ExtensionOffer } from './extensions.ts'
import { parseExtensions } from './extensions.ts'
import type { HttpHeaders } from './headers.ts'
import type { HttpRequestHead } from './http-head.ts'
import { assertFieldValue, formatHeaderLines, hasListToken, isToken, isVisibleAscii, splitList } from './syntax.ts'

/**
 * The parts of a request head that {@link validateRequest} reads: what {@link HttpHeadParser}
 * returns, or what the Node layer builds from an `http.IncomingMessage` (with
 * `version: 'HTTP/' + req.httpVersion` and `new HttpHeaders(pairs of req.rawHeaders)`).
 */
export type RequestHead = Pick<HttpRequestHead, 'method' | 'target' | 'version' | 'headers'>

/** A client's opening handshake that passed {@link validateRequest}. */
export interface HandshakeRequest {
  /** The Sec-WebSocket-Key, as received (RFC 6455 §4.2.1 item 5). */
  key: string
  /** The resource name: path and query, e.g. `/chat?room=1`, even if the request-target was absolute. */
  path: string
  /** The request-target as received. */
  target: string
  /** The Host header field: the server's authority (RFC 6455 §4.2.1 item 2). */
  host: string
  /** The Origin header field, if sent (RFC 6455 §4.2.1 item 7, §10.2). */
  origin?: string
  /** The subprotocols offered, in the client's order of preference (RFC 6455 §4.2.1 item 8). */
  protocols: string[]
  /** The extensions offered, in the client's order of preference (RFC 6455 §4.2.1 item 9). */
  extensions: ExtensionOffer[]
  /** All the request's header fields. */
  headers: HttpHeaders
}

/** RFC 6455 §4.1: the only version of the protocol that this library speaks. */
const WEBSOCKET_VERSION = '13'
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/
const HTTP_VERSION = /^HTTP\/([0-9])\.([0-9])$/

function badRequest(message: string): HandshakeError {
  return new HandshakeError(message, 400)
}

/**
 * Validates a client's opening handshake (RFC 6455 §4.2.1) and returns what it asks for; throws
 * HandshakeError with the status to answer: 405 (with `allow: GET`) for another method, 505 for an
 * HTTP version other than 1.x with x ≥ 1, 426 (WS_ERR_UNSUPPORTED_VERSION, with
 * `sec-websocket-version: 13`) for a missing or other Sec-WebSocket-Version, 400 otherwise.
 */
export function validateRequest(head: RequestHead): HandshakeRequest {
  const { headers } = head
  // RFC 6455 §4.2.1 item 1: the request MUST be an HTTP/1.1 or higher GET request.
  // RFC 9110 §15.5.6: a 405 response MUST carry an Allow header field.
  if (head.method !== 'GET') throw new HandshakeError(`method ${head.method} not allowed: the opening handshake is a GET request`, 405, { allow: 'GET' })
  const version = HTTP_VERSION.exec(head.version)
  if (version === null) throw badRequest('malformed HTTP-version')
  // RFC 9110 §15.6.6: 505 for an HTTP major version the server does not support; HTTP/1.0 is
  // below the HTTP/1.1 that RFC 6455 §4.2.1 requires.
  if (version[1] !== '1' || version[2] === '0') throw new HandshakeError(`${head.version} not supported: the opening handshake needs HTTP/1.1`, 505)

  const target = head.target
  const path = resourceName(target)

  // RFC 6455 §4.2.1 item 2: the request MUST contain a Host header field. RFC 9112 §3.2: a server
  // MUST answer 400 to a request with no Host, several, or an invalid one.
  const hosts = headers.getAll('host')
  const host = hosts[0]
  if (host === undefined) throw badRequest('missing Host header')
  if (hosts.length > 1) throw badRequest('more than one Host header')
  if (host === '' || !isVisibleAscii(host) || host.includes(',') || host.includes('/')) throw badRequest('invalid Host header')

  // RFC 6455 §4.2.1 item 3: an Upgrade header field whose value MUST include the "websocket"
  // keyword (ASCII case-insensitive).
  if (!hasListToken(headers.get('upgrade') ?? '', 'websocket')) throw badRequest('missing or invalid Upgrade header: expected websocket')
  // RFC 6455 §4.2.1 item 4: a Connection header field whose value MUST include the "Upgrade" token.
  if (!hasListToken(headers.get('connection') ?? '', 'upgrade')) throw badRequest('missing or invalid Connection header: expected Upgrade')

  // RFC 6455 §4.2.1 item 6: a Sec-WebSocket-Version header field with value 13. §4.2.2 item 4: if
  // not, the server MUST answer with an error (such as 426) and a Sec-WebSocket-Version header
  // field giving the version(s) it understands. §11.3.5: it MUST NOT appear more than once.
  const versions = headers.getAll('sec-websocket-version')
  if (versions.length !== 1 || versions[0] !== WEBSOCKET_VERSION) {
    throw new HandshakeError('unsupported or missing Sec-WebSocket-Version: expected 13', 426, { 'sec-websocket-version': WEBSOCKET_VERSION }, 'WS_ERR_UNSUPPORTED_VERSION')
  }

  // RFC 6455 §4.2.1 item 5: a Sec-WebSocket-Key header field with a base64-encoded value that,
  // when decoded, is 16 bytes in length. §11.3.1: it MUST NOT appear more than once.
  const keys = headers.getAll('sec-websocket-key')
  const key = keys[0]
  if (key === undefined) throw badRequest('missing Sec-WebSocket-Key header')
  if (keys.length > 1) throw badRequest('more than one Sec-WebSocket-Key header')
  if (decodeBase64(key)?.length !== 16) throw badRequest('invalid Sec-WebSocket-Key header: not 16 bytes in base64')

  // RFC 6454 §7.3: a user agent MUST NOT send more than one Origin header field.
  const origins = headers.getAll('origin')
  if (origins.length > 1) throw badRequest('more than one Origin header')

  const request: HandshakeRequest = {
    key,
    path,
    target,
    host,
    protocols: parseProtocols(headers.getAll('sec-websocket-protocol')),
    // RFC 6455 §4.2.1 item 9, §9.1: Sec-WebSocket-Extensions, possibly in several header fields.
    extensions: parseExtensions(headers.get('sec-websocket-extensions') ?? ''),
    headers,
  }
  if (origins[0] !== undefined) request.origin = origins[0]
  return request
}

/** Returns the resource name (path and query) of a request-target in origin-form or absolute-form. */
function resourceName(target: string): string {
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs and MUST NOT be used;
  // RFC 9112 §3.2: no form of request-target holds a "#".
  if (target.includes('#')) throw badRequest('invalid request-target: fragment')
  // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
  if (target.startsWith('/')) return target
  // RFC 9112 §3.2.2: a server MUST accept the absolute-form in requests.
  const authority = ABSOLUTE_FORM.exec(target)
  if (authority === null) throw badRequest('invalid request-target')
  const rest = target.slice(authority[0].length)
  return rest.startsWith('/') ? rest : `/${rest}`
}

/**
 * Parses the Sec-WebSocket-Protocol header fields of a request. RFC 6455 §4.1: the elements MUST
 * be tokens and MUST all be unique.
 */
function parseProtocols(fields: readonly string[]): string[] {
  const protocols: string[] = []
  for (const field of fields) {
    for (const protocol of splitList(field)) {
      if (!isToken(protocol)) throw badRequest('invalid Sec-WebSocket-Protocol header: not a token')
      if (protocols.includes(protocol)) throw badRequest('invalid Sec-WebSocket-Protocol header: duplicate subprotocol')
      protocols.push(protocol)
    }
  }
  return protocols
}

/**
 * Chooses the subprotocol to answer with (RFC 6455 §4.2.2 item 5.4), or `undefined` for none.
 *
 * With a list, the server's order of preference wins: the first of `select` that the client
 * offered. With a function, its answer, which must be one of `offered` or `undefined`
 * (InvalidArgumentError otherwise). Never returns a value that was not offered, as
 * RFC 6455 §4.1 makes the client fail the connection on one.
 */
export function selectSubprotocol(
  offered: readonly string[],
  select: readonly string[] | ((offered: readonly string[]) => string | undefined),
): string | undefined {
  if (typeof select === 'function') {
    const chosen = select(offered)
    if (chosen === undefined) return undefined
    if (!offered.includes(chosen)) throw new InvalidArgumentError(`selected subprotocol ${JSON.stringify(chosen)} was not offered by the client`)
    return chosen
  }
  return select.find((protocol) => offered.includes(protocol))
}

/** Options of {@link buildResponse}: the client's key (or the accept value already computed), and what was negotiated. */
export type BuildResponseOptions = (
  | {
    /** The client's Sec-WebSocket-Key; the accept value is computed with the portable SHA-1. */
    key: string
    /** Not with `key`. */
    accept?: never
  }
  | {
    /** The Sec-WebSocket-Accept value, already computed (e.g. with Node's crypto module, see computeAccept). */
    accept: string
    /** Not with `accept`. */
    key?: never
  }
) & {
  /** The subprotocol selected, if any (see {@link selectSubprotocol}). */
  protocol?: string | undefined
  /** The Sec-WebSocket-Extensions value agreed, if any (see formatExtensions). */
  extensions?: string | undefined
  /** More header fields, e.g. Set-Cookie; the handshake's own fields cannot be overridden. */
  headers?: Readonly<Record<string, string>> | undefined
}

const RESERVED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions',
])

/**
 * Builds the server's 101 response to a valid opening handshake (RFC 6455 §4.2.2 item 5), as a
 * string of latin1 characters ending with the empty line. Throws InvalidArgumentError on a
 * subprotocol that is not a token, an accept value that is not 20 bytes in base64, or a header
 * name or value that could inject header fields.
 */
export function buildResponse(options: BuildResponseOptions): string {
  const accept = options.key !== undefined ? computeAccept(options.key) : options.accept
  if (typeof accept !== 'string' || decodeBase64(accept)?.length !== 20) throw new InvalidArgumentError('accept must be 20 bytes in base64')
  // RFC 6455 §4.2.2 item 5.1-5.4: status 101, Upgrade: websocket, Connection: Upgrade,
  // Sec-WebSocket-Accept, then the selected subprotocol and extensions, if any.
  let response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`
  const { protocol, extensions } = options
  if (protocol !== undefined && protocol !== '') {
    if (!isToken(protocol)) throw new InvalidArgumentError(`invalid subprotocol ${JSON.stringify(protocol)}: not a token`)
    response += `Sec-WebSocket-Protocol: ${protocol}\r\n`
  }
  if (extensions !== undefined && extensions !== '') {
    assertFieldValue('Sec-WebSocket-Extensions value', extensions)
    response += `Sec-WebSocket-Extensions: ${extensions}\r\n`
  }
  return `${response}${formatHeaderLines(Object.entries(options.headers ?? {}), RESERVED_RESPONSE_HEADERS)}\r\n`
}

/** Reason phrases of the statuses a failed handshake is likely to be answered with (RFC 9110 §15). */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 410: 'Gone', 413: 'Content Too Large', 414: 'URI Too Long', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
}

const FRAMING_HEADERS: ReadonlySet<string> = new Set(['connection', 'content-type', 'content-length'])

/**
 * Builds a small plain-text HTTP response for a failed handshake: the error's status, its headers,
 * `Connection: close`, and the error's message as an ASCII body with its Content-Length. Returns a
 * string of ASCII characters ending with the body. Throws InvalidArgumentError on a status outside
 * 200-599 or headers that could inject header fields.
 */
export function buildErrorResponse(error: HandshakeError): string {
  const { status } = error
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new InvalidArgumentError(`invalid HTTP status ${status} for an error response`)
  const headers = Object.entries(error.headers).filter(([name]) => !FRAMING_HEADERS.has(name.toLowerCase()))
  // RFC 9110 §15.5.22: a server MUST send an Upgrade header field in a 426 response.
  if (status === 426 && !headers.some(([name]) => name.toLowerCase() === 'upgrade')) headers.push(['upgrade', 'websocket'])
  const body = `${toAscii(error.message)}\n`
  const reason = REASON_PHRASES[status] ?? 'Error'
  return `HTTP/1.1 ${status} ${reason}\r\n${formatHeaderLines(headers, new Set())}Connection: close\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`
}

/** Replaces every character outside printable ASCII with "?", so that length in chars is length in bytes. */
function toAscii(text: string): string {
  let ascii = ''
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    ascii += code >= 0x20 && code < 0x7f ? text.charAt(i) : '?'
  }
  return ascii
}
