/**
 * Servers for handshake tests: a wsflow server that records each request and closes at once,
 * bounded shutdowns, and a check that a promise rejects with a HandshakeError.
 */
import type { Server as HttpServer } from 'node:http'
import * as assert from 'uvu/assert'
import { HandshakeError, serve, type RequestInfo, type Server, type ServerOptions, type WebSocket } from '../../src/index.ts'
import { rejection, within } from './timing.ts'

/** Starts a wsflow server on 127.0.0.1:0 whose handler records the request and returns (closing with 1000). */
export async function recordingServer(options: ServerOptions = {}): Promise<{ server: Server; requests: RequestInfo[]; protocols: string[] }> {
  const requests: RequestInfo[] = []
  const protocols: string[] = []
  const server = await serve({ ...options, host: '127.0.0.1', port: 0 }, (ws: WebSocket) => {
    if (ws.request !== undefined) requests.push(ws.request)
    protocols.push(ws.protocol)
  })
  return { server, requests, protocols }
}

/** Closes a wsflow server, bounded. */
export async function stop(server: Server): Promise<void> {
  await within(server.close({ timeout: 500 }), 3000, 'server close')
}

/** Closes a plain HTTP server and its connections, bounded. */
export async function stopHttp(server: HttpServer): Promise<void> {
  server.closeAllConnections()
  await within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'http close')
}

/** Asserts that `promise` rejects (within 5 s) with a HandshakeError, and returns it. */
export async function handshakeError(promise: Promise<unknown>, what: string): Promise<HandshakeError> {
  const error = await rejection(promise, 5000, what)
  assert.instance(error, HandshakeError, `${what}: expected HandshakeError, got ${String(error)}`)
  return error as HandshakeError
}
