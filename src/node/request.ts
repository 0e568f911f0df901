import type { IncomingMessage } from 'node:http'
import type { PeerCertificateInfo, RequestInfo } from '../core/transport.ts'
import { HttpHeaders, type HeaderField } from '../core/handshake/headers.ts'
import type { RequestHead } from '../core/handshake/server.ts'

/** Turns Node's parsed request into the head the core's handshake validates. */
export function toRequestHead(request: IncomingMessage): RequestHead {
  return { method: request.method ?? 'GET', target: request.url ?? '/', version: `HTTP/${request.httpVersion}`, headers: toHttpHeaders(request.rawHeaders) }
}

/** Node's `rawHeaders` ([name, value, name, value...]) as header fields. */
function toHttpHeaders(raw: readonly string[]): HttpHeaders {
  const fields: HeaderField[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) fields.push([raw[i]!, raw[i + 1]!])
  return new HttpHeaders(fields)
}

/** What the request info reads of its socket (a `net.Socket` or a `tls.TLSSocket`). */
interface SocketLike {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  readonly encrypted?: boolean
  readonly authorized?: boolean
  readonly authorizationError?: unknown
  getPeerCertificate?(): PeerCertificateInfo | undefined | null
}

/**
 * What a connection keeps of its opening request: the URL, the peer's address, and the header
 * fields, turned into the `headers` record when first read (most connections never read it).
 */
class NodeRequestInfo implements RequestInfo {
  readonly url: string
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  // Until first read: the header fields as one string, names and values joined by "\n" (no field
  // can hold one). Node's rawHeaders array and its strings cost an idle connection some 500 B, the
  // joined string a third of that (bench/memory.ts). Then the record.
  #raw: string | undefined
  #headers: Readonly<Record<string, string>> | undefined = undefined
  // The socket, for what is read rarely (local address, TLS details): one field, not one per value.
  readonly #socket: SocketLike

  constructor(url: string, raw: string, socket: SocketLike) {
    this.url = url
    this.#raw = raw
    this.#socket = socket
    this.remoteAddress = socket.remoteAddress
    this.remotePort = socket.remotePort
  }

  /** The local address the connection came in on. */
  get localAddress(): string | undefined {
    return this.#socket.localAddress
  }

  /** The local port the connection came in on. */
  get localPort(): number | undefined {
    return this.#socket.localPort
  }

  /** Whether the connection is over TLS. */
  get secure(): boolean {
    return this.#socket.encrypted === true
  }

  /** TLS: whether the client's certificate was verified (mutual TLS). */
  get authorized(): boolean | undefined {
    return this.secure ? this.#socket.authorized === true : undefined
  }

  /** TLS: why the client's certificate was not verified. */
  get authorizationError(): string | undefined {
    const error = this.#socket.authorizationError
    return error === undefined || error === null ? undefined : String(error)
  }

  /** TLS: the client's certificate, or undefined when it sent none. */
  peerCertificate(): PeerCertificateInfo | undefined {
    const certificate = this.secure ? this.#socket.getPeerCertificate?.() : undefined
    // Node gives an empty object when the peer sent no certificate.
    return certificate === undefined || certificate === null || Object.keys(certificate).length === 0 ? undefined : certificate
  }

  /** Request headers, lower-case names; repeated headers joined with ", ". */
  get headers(): Readonly<Record<string, string>> {
    if (this.#headers === undefined) {
      this.#headers = toHttpHeaders(this.#raw === undefined || this.#raw === '' ? [] : this.#raw.split('\n')).toRecord()
      this.#raw = undefined
    }
    return this.#headers
  }

  /** The plain-object view, for logs and `JSON.stringify`. */
  toJSON(): RequestInfo {
    return { url: this.url, headers: this.headers, remoteAddress: this.remoteAddress, remotePort: this.remotePort, localAddress: this.localAddress, localPort: this.localPort, secure: this.secure }
  }
}

/** What a connection keeps of its opening request. */
export function toRequestInfo(request: IncomingMessage): RequestInfo {
  return new NodeRequestInfo(request.url ?? '/', joinFields(request.rawHeaders), request.socket as SocketLike)
}

/**
 * Node's rawHeaders joined by "\n". Its parser ends a field's line at a line feed, so no name or
 * value holds one; a field that did would be dropped rather than split wrongly.
 */
function joinFields(raw: readonly string[]): string {
  if (!raw.some((field) => field.includes('\n'))) return raw.join('\n')
  const kept: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.includes('\n') && !raw[i + 1]!.includes('\n')) kept.push(raw[i]!, raw[i + 1]!)
  return kept.join('\n')
}
