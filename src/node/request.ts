import type { IncomingMessage } from 'node:http'
import type { RequestInfo } from '../core/transport.ts'
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

  constructor(url: string, raw: string, remoteAddress: string | undefined, remotePort: number | undefined) {
    this.url = url
    this.#raw = raw
    this.remoteAddress = remoteAddress
    this.remotePort = remotePort
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
    return { url: this.url, headers: this.headers, remoteAddress: this.remoteAddress, remotePort: this.remotePort }
  }
}

/** What a connection keeps of its opening request. */
export function toRequestInfo(request: IncomingMessage): RequestInfo {
  const socket = request.socket
  return new NodeRequestInfo(request.url ?? '/', joinFields(request.rawHeaders), socket.remoteAddress, socket.remotePort)
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
