import type { IncomingMessage } from 'node:http'
import type { RequestInfo } from '../connection.ts'
import { HttpHeaders, type HeaderField } from '../core/handshake/headers.ts'
import type { RequestHead } from '../core/handshake/server.ts'

/** Turns Node's parsed request into the head the core's handshake validates. */
export function toRequestHead(request: IncomingMessage): RequestHead {
  const raw = request.rawHeaders
  const fields: HeaderField[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) fields.push([raw[i]!, raw[i + 1]!])
  return { method: request.method ?? 'GET', target: request.url ?? '/', version: `HTTP/${request.httpVersion}`, headers: new HttpHeaders(fields) }
}

/** What a connection keeps of its opening request. */
export function toRequestInfo(request: IncomingMessage, headers: HttpHeaders): RequestInfo {
  return {
    url: request.url ?? '/',
    headers: headers.toRecord(),
    remoteAddress: request.socket.remoteAddress,
    remotePort: request.socket.remotePort,
  }
}
