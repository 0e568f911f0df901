/**
 * A sans-I/O parser for the head of an HTTP/1.1 message (RFC 9112 §2-§5): the request line or
 * status line and the header fields, up to the empty line. Fed chunk by chunk, it scans each byte
 * once, copies only the bytes of a line that straddles chunks, and enforces size limits before it
 * buffers anything.
 * @module
 */

import { HandshakeError, InvalidArgumentError } from '../errors.ts'
import { HttpHeaders } from './headers.ts'
import { isFieldValue, isToken, isVisibleAscii, isWhitespace, trimWhitespace } from './syntax.ts'

/** Limits on an HTTP head, in bytes and fields; exceeding one is a HandshakeError 431. */
export interface HttpHeadLimits {
  /** The longest line, in bytes, not counting CRLF (default 8190). */
  maxLineLength?: number
  /** The most header fields (default 100). */
  maxHeaders?: number
  /** The largest head, in bytes, from the first byte to the empty line included (default 16 KiB). */
  maxHeadSize?: number
}

/** Options of {@link HttpHeadParser}: what to parse, and limits. */
export interface HttpHeadParserOptions extends HttpHeadLimits {
  /** `'request'` to parse a request line (server side), `'response'` a status line (client side). */
  kind: 'request' | 'response'
}

/** The default limits of an HTTP head: 8190-byte lines, 100 header fields, 16 KiB in all. */
export const DEFAULT_HTTP_HEAD_LIMITS: Readonly<Required<HttpHeadLimits>> = {
  maxLineLength: 8190,
  maxHeaders: 100,
  maxHeadSize: 16 * 1024,
}

/** The head of an HTTP request: request line (RFC 9112 §3) and header fields. */
export interface HttpRequestHead {
  /** Discriminant: a request. */
  readonly kind: 'request'
  /** The method, case-sensitive (RFC 9110 §9.1), e.g. `GET`. */
  readonly method: string
  /** The request-target as sent, e.g. `/chat?room=1` (RFC 9112 §3.2). */
  readonly target: string
  /** The HTTP-version as sent, e.g. `HTTP/1.1` (RFC 9112 §2.3). */
  readonly version: string
  /** The header fields. */
  readonly headers: HttpHeaders
}

/** The head of an HTTP response: status line (RFC 9112 §4) and header fields. */
export interface HttpResponseHead {
  /** Discriminant: a response. */
  readonly kind: 'response'
  /** The HTTP-version as sent, e.g. `HTTP/1.1` (RFC 9112 §2.3). */
  readonly version: string
  /** The status code, 100 to 599. */
  readonly status: number
  /** The reason phrase, possibly empty. */
  readonly statusText: string
  /** The header fields. */
  readonly headers: HttpHeaders
}

/** The head of an HTTP request or response. */
export type HttpHead = HttpRequestHead | HttpResponseHead

/** RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name case-sensitive. */
const HTTP_VERSION = /^HTTP\/[0-9]\.[0-9]$/
/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; the last SP is tolerated missing. */
const STATUS_LINE = /^(HTTP\/[0-9]\.[0-9]) ([0-9]{3})(?: (.*))?$/

const LF = 0x0a
const CR = 0x0d

/** Decodes bytes as latin1 (ISO-8859-1: each byte one char), in blocks to keep argument lists small. */
function decodeLatin1(bytes: Uint8Array, length: number): string {
  let text = ''
  for (let i = 0; i < length; i += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(length, i + 4096)) as unknown as number[])
  }
  return text
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`)
  return value
}

function headersTooLarge(message: string): HandshakeError {
  return new HandshakeError(message, 431, {}, 'WS_ERR_HEADERS_TOO_LARGE')
}

/**
 * Parses the head of an HTTP/1.1 request or response from chunks of bytes.
 *
 * Call {@link HttpHeadParser.push} with each chunk received: it returns `undefined` while the head
 * is incomplete and the parsed head once the empty line arrives; the bytes that followed the head
 * in that chunk (e.g. the first WebSocket frames) are then in {@link HttpHeadParser.rest}.
 * Malformed input throws HandshakeError 400; a limit exceeded throws HandshakeError 431
 * (WS_ERR_HEADERS_TOO_LARGE). After an error every push throws the same error.
 *
 * Lines end with CRLF, or a bare LF (RFC 9112 §2.2: a recipient MAY accept it). Bytes are read as
 * latin1. Empty lines before the start line are ignored (RFC 9112 §2.2).
 */
export class HttpHeadParser {
  readonly #kind: 'request' | 'response'
  readonly #maxLineLength: number
  readonly #maxHeaders: number
  readonly #maxHeadSize: number
  /** Pieces of the current line received in earlier chunks (copies), and their total length. */
  #lineParts: Uint8Array[] = []
  #lineLength = 0
  #headSize = 0
  #startLine: string[] | undefined
  readonly #headers = new HttpHeaders()
  #head: HttpHead | undefined
  #rest: Uint8Array = new Uint8Array(0)
  #error: unknown

  /** Creates a parser for a request head or a response head, with limits (safe defaults). */
  constructor(options: HttpHeadParserOptions) {
    if (options.kind !== 'request' && options.kind !== 'response') {
      throw new InvalidArgumentError(`kind must be 'request' or 'response'`)
    }
    this.#kind = options.kind
    this.#maxLineLength = checkLimit('maxLineLength', options.maxLineLength, DEFAULT_HTTP_HEAD_LIMITS.maxLineLength)
    this.#maxHeaders = checkLimit('maxHeaders', options.maxHeaders, DEFAULT_HTTP_HEAD_LIMITS.maxHeaders)
    this.#maxHeadSize = checkLimit('maxHeadSize', options.maxHeadSize, DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize)
  }

  /** The parsed head, once complete; `undefined` before. */
  get head(): HttpHead | undefined {
    return this.#head
  }

  /**
   * The bytes that followed the head in the chunk that completed it: a view of that chunk, empty
   * until the head is complete.
   */
  get rest(): Uint8Array {
    return this.#rest
  }

  /**
   * Feeds the next chunk: returns the head once complete, `undefined` when more bytes are needed.
   * Throws HandshakeError on malformed input (400) or a limit exceeded (431), and
   * InvalidArgumentError when called again after the head was complete.
   */
  push(chunk: Uint8Array): HttpHead | undefined {
    if (this.#error !== undefined) throw this.#error
    if (this.#head !== undefined) throw new InvalidArgumentError('the head is already complete; the bytes after it are in rest')
    try {
      return this.#parse(chunk)
    } catch (error) {
      this.#error = error
      throw error
    }
  }

  #parse(chunk: Uint8Array): HttpHead | undefined {
    let position = 0
    while (position < chunk.length) {
      const lf = chunk.indexOf(LF, position)
      const end = lf === -1 ? chunk.length : lf + 1
      this.#headSize += end - position
      if (this.#headSize > this.#maxHeadSize) throw headersTooLarge(`HTTP head larger than ${this.#maxHeadSize} bytes`)
      if (lf === -1) {
        // Keep a copy of the partial line: the caller may reuse its chunk.
        this.#lineParts.push(chunk.slice(position))
        this.#lineLength += chunk.length - position
        // +1: the line's CR may be the last byte received.
        if (this.#lineLength > this.#maxLineLength + 1) throw this.#lineTooLong()
        return undefined
      }
      let line = chunk.subarray(position, lf)
      if (this.#lineParts.length > 0) line = this.#joinLine(line)
      position = lf + 1
      if (this.#onLine(line)) {
        this.#rest = chunk.subarray(position)
        return this.#head
      }
    }
    return undefined
  }

  /** Joins the pieces of a line that straddled chunks: one copy of the line's bytes. */
  #joinLine(last: Uint8Array): Uint8Array {
    const line = new Uint8Array(this.#lineLength + last.length)
    let offset = 0
    for (const part of this.#lineParts) {
      line.set(part, offset)
      offset += part.length
    }
    line.set(last, offset)
    this.#lineParts = []
    this.#lineLength = 0
    return line
  }

  #lineTooLong(): HandshakeError {
    return headersTooLarge(`HTTP head line longer than ${this.#maxLineLength} bytes`)
  }

  /** Handles one line without its LF; returns true when it was the empty line ending the head. */
  #onLine(bytes: Uint8Array): boolean {
    // RFC 9112 §2.2: a line ends with CRLF; a recipient MAY accept a bare LF.
    const length = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length
    if (length > this.#maxLineLength) throw this.#lineTooLong()
    const line = decodeLatin1(bytes, length)
    if (this.#startLine === undefined) {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request-line.
      if (line === '') return false
      this.#startLine = this.#kind === 'request' ? parseRequestLine(line) : parseStatusLine(line)
      return false
    }
    if (line === '') {
      this.#head = this.#buildHead(this.#startLine)
      return true
    }
    // RFC 9112 §5: no limit on field count in the RFC; ours bounds memory and work.
    if (this.#headers.size >= this.#maxHeaders) throw headersTooLarge(`more than ${this.#maxHeaders} header fields`)
    const [name, value] = parseFieldLine(line)
    this.#headers.append(name, value)
    return false
  }

  #buildHead(startLine: string[]): HttpHead {
    const [a = '', b = '', c = ''] = startLine
    if (this.#kind === 'request') return { kind: 'request', method: a, target: b, version: c, headers: this.#headers }
    return { kind: 'response', version: a, status: Number(b), statusText: c, headers: this.#headers }
  }
}

function malformed(message: string): HandshakeError {
  return new HandshakeError(message, 400)
}

/** Parses `method SP request-target SP HTTP-version` (RFC 9112 §3) into [method, target, version]. */
function parseRequestLine(line: string): string[] {
  const first = line.indexOf(' ')
  const second = line.indexOf(' ', first + 1)
  if (first === -1 || second === -1) throw malformed('malformed request line')
  const method = line.slice(0, first)
  const target = line.slice(first + 1, second)
  const version = line.slice(second + 1)
  // RFC 9112 §3.1: method = token.
  if (!isToken(method)) throw malformed('malformed request line: invalid method')
  // RFC 9112 §3.2: the request-target is a URI form; it holds no whitespace or control characters.
  if (target === '' || !isVisibleAscii(target)) throw malformed('malformed request line: invalid request-target')
  // RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT.
  if (!HTTP_VERSION.test(version)) throw malformed('malformed request line: invalid HTTP-version')
  return [method, target, version]
}

/** Parses `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4) into [version, status, reason]. */
function parseStatusLine(line: string): string[] {
  const match = STATUS_LINE.exec(line)
  if (match === null) throw malformed('malformed status line')
  const [, version = '', status = '', reason = ''] = match
  // RFC 9110 §15: status codes are in the range 100 to 599.
  if (status < '100' || status > '599') throw malformed('malformed status line: invalid status code')
  // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
  if (!isFieldValue(reason)) throw malformed('malformed status line: invalid reason phrase')
  return [version, status, reason]
}

/** Parses `field-name ":" OWS field-value OWS` (RFC 9112 §5) into [name, value]. */
function parseFieldLine(line: string): [string, string] {
  // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) is obsolete; a server MUST reject it
  // with 400 or replace it, and we reject it on both sides. Same for whitespace after the start line (§2.2).
  if (isWhitespace(line.charCodeAt(0))) throw malformed('obsolete line folding in header field')
  const colon = line.indexOf(':')
  const name = colon === -1 ? '' : line.slice(0, colon)
  // RFC 9110 §5.1: field-name = token. RFC 9112 §5.1: no whitespace is allowed between the
  // field name and the colon; a server MUST reject such a request with 400.
  if (!isToken(name)) throw malformed('malformed header field name')
  const value = trimWhitespace(line.slice(colon + 1))
  // RFC 9110 §5.5: a field value containing CR, LF or NUL is invalid and dangerous; a recipient
  // MUST reject it or replace those characters. We reject it, and other control characters too.
  if (!isFieldValue(value)) throw malformed(`invalid characters in header field ${name}`)
  return [name, value]
}
