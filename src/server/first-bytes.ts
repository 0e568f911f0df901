/**
 * What the first bytes of a connection say it speaks: TLS, HTTP/1.x or something else (raw).
 * Pure functions on bytes, for the one-port server (`sniff.ts`).
 * @module
 */

/** What a connection speaks, judged from its first bytes. */
export const FirstBytesKind = {
  /** A TLS record carrying a handshake (a ClientHello): content type 22, version major 3. */
  TLS: 'tls',
  /** An HTTP/1.x request line (an upgrade to WebSocket among them). */
  HTTP: 'http',
  /** Anything else: handed to the raw handler with the bytes given back. */
  RAW: 'raw',
} as const

/** One of {@link FirstBytesKind}. */
export type FirstBytesKind = (typeof FirstBytesKind)[keyof typeof FirstBytesKind]

/** Options of {@link classifyFirstBytes}. Sizes in bytes. */
export interface ClassifyOptions {
  /** Whether TLS is recognised (the server has a certificate); otherwise 0x16 is raw. */
  tls: boolean
  /**
   * How many bytes to look at, at most, for the end of an HTTP request line (default 8192): a
   * line that starts with a method and a space and is longer than this is judged HTTP, so that
   * the HTTP server answers it (414) instead of a raw handler.
   */
  maxBytes?: number | undefined
  /** No more bytes will come soon (the first-bytes timeout passed, or the peer sent FIN): decide now. */
  final?: boolean | undefined
}

/** The request methods of RFC 9110 §9 and PATCH (RFC 5789), each followed by the space of the request line (RFC 9112 §3). */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']

const METHOD_PREFIXES: readonly Uint8Array[] = HTTP_METHODS.map((method) => new TextEncoder().encode(`${method} `))
const DEFAULT_MAX_BYTES = 8192
const LF = 0x0a
const CR = 0x0d

/** The index of the first line feed in `bytes` before `limit`, or -1. */
function indexOfLf(bytes: Uint8Array, limit: number): number {
  const end = Math.min(bytes.length, limit)
  for (let i = 0; i < end; i++) if (bytes[i] === LF) return i
  return -1
}

/** Whether `bytes[0..end)` ends with ` HTTP/1.0` or ` HTTP/1.1` (RFC 9112 §2.3: HTTP-version). */
function endsWithHttpVersion(bytes: Uint8Array, end: number): boolean {
  const version = ' HTTP/1.'
  const start = end - version.length - 1
  if (start < 0) return false
  for (let i = 0; i < version.length; i++) if (bytes[start + i] !== version.charCodeAt(i)) return false
  const minor = bytes[end - 1]
  return minor === 0x30 || minor === 0x31
}

/**
 * Classifies the first bytes of a connection, or returns undefined when more bytes are needed
 * to decide (never with `final`). The rules:
 *
 * - TLS: byte 0 is 22 (handshake) and byte 1 is 3 (RFC 8446 §5.1 and RFC 5246 §6.2.1: the
 *   record's content type and legacy version major), when `tls` is on.
 * - HTTP: the bytes start with a known method and a space, and the first line ends with
 *   ` HTTP/1.0` or ` HTTP/1.1` (RFC 9112 §3: request-line = method SP request-target SP
 *   HTTP-version); or that line is still unfinished after `maxBytes`, or when `final`. Text
 *   protocols whose commands look like methods ("GET key" in Redis) are told apart by the version.
 * - Raw: anything else, as soon as the bytes can no longer become TLS or HTTP; with `final`, a
 *   partial method too.
 */
export function classifyFirstBytes(bytes: Uint8Array, options: ClassifyOptions): FirstBytesKind | undefined {
  const final = options.final === true
  if (bytes.length === 0) return final ? FirstBytesKind.RAW : undefined
  if (options.tls && bytes[0] === 0x16) {
    if (bytes.length < 2) return final ? FirstBytesKind.RAW : undefined
    if (bytes[1] === 0x03) return FirstBytesKind.TLS
    return FirstBytesKind.RAW
  }
  let method: Uint8Array | undefined
  let partial = false
  for (const prefix of METHOD_PREFIXES) {
    const n = Math.min(prefix.length, bytes.length)
    let i = 0
    while (i < n && bytes[i] === prefix[i]) i++
    if (i < n) continue
    if (bytes.length >= prefix.length) method = prefix
    else partial = true
  }
  if (method === undefined) return partial && !final ? undefined : FirstBytesKind.RAW
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  const lf = indexOfLf(bytes, maxBytes)
  if (lf >= 0) return endsWithHttpVersion(bytes, lf > 0 && bytes[lf - 1] === CR ? lf - 1 : lf) ? FirstBytesKind.HTTP : FirstBytesKind.RAW
  if (bytes.length >= maxBytes || final) return FirstBytesKind.HTTP
  return undefined
}
