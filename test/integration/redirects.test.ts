/**
 * Redirects during the opening handshake: opt-in following (absolute ws:, http: and relative
 * Locations), HandshakeError 3xx without the option, credentials dropped across origins and kept
 * within one, and a bounded number of hops.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Server, connect, type RequestInfo } from '../../src/index.ts'
import { handshakeError, recordingServer, stop, stopHttp } from '../helpers/servers.ts'
import { within } from '../helpers/timing.ts'

/** A plain HTTP server answering every request with `status` and `location`. */
async function redirector(location: (port: number) => string, status = 302): Promise<{ server: HttpServer; port: number; hits: number }> {
  const state = { server: createHttpServer(), port: 0, hits: 0 }
  state.server.on('request', (_request, response) => {
    state.hits++
    response.writeHead(status, { location: location(state.port) })
    response.end()
  })
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve))
  state.port = (state.server.address() as AddressInfo).port
  return state
}

test('redirects: followRedirects reaches the server; without it HandshakeError 302 with the location', async () => {
  const { server: target, requests } = await recordingServer({ path: '/final' })
  const hop = await redirector(() => `ws://127.0.0.1:${target.port}/final?from=redirect`)
  try {
    const url = `ws://127.0.0.1:${hop.port}/start`
    const error = await handshakeError(connect(url), 'no follow')
    assert.is(error.status, 302)
    assert.is(error.headers.location, `ws://127.0.0.1:${target.port}/final?from=redirect`)
    const ws = await within(connect(url, { followRedirects: true }), 3000, 'follow')
    await within(ws.closed, 2000, 'closed')
    assert.equal(requests.map((r) => r.url), ['/final?from=redirect'])
  } finally {
    await stopHttp(hop.server)
    await stop(target)
  }
})

test('redirects: an http:// Location and a relative Location are followed', async () => {
  const { server: target, requests } = await recordingServer({ path: '/final' })
  const absoluteHttp = await redirector(() => `http://127.0.0.1:${target.port}/final`, 301)
  try {
    const ws = await within(connect(`ws://127.0.0.1:${absoluteHttp.port}/`, { followRedirects: true }), 3000, 'http location')
    await within(ws.closed, 2000, 'closed')
  } finally {
    await stopHttp(absoluteHttp.server)
  }
  // relative: the same server redirects /old to /final
  const http = createHttpServer()
  http.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    if (request.url !== '/old') return
    socket.end('HTTP/1.1 307 Temporary Redirect\r\nLocation: /final\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
  })
  const attached = new Server({ server: http, path: '/final' }, (w) => {
    requests.push(w.request!)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const port = (http.address() as AddressInfo).port
    const ws = await within(connect(`ws://127.0.0.1:${port}/old`, { followRedirects: true }), 3000, 'relative location')
    await within(ws.closed, 2000, 'closed')
    assert.equal(requests.map((r) => r.url), ['/final', '/final'])
  } finally {
    await within(attached.close({ timeout: 200 }), 3000, 'attached close')
    await stopHttp(http)
    await stop(target)
  }
})

test('redirects: credentials are dropped across origins and kept within one', async () => {
  // cross-origin: another port is another origin
  const { server: target, requests } = await recordingServer({ path: '/final' })
  const hop = await redirector(() => `ws://127.0.0.1:${target.port}/final`)
  const headers = { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Trace': 'kept' }
  try {
    const ws = await within(connect(`ws://127.0.0.1:${hop.port}/`, { followRedirects: true, headers }), 3000, 'cross-origin')
    await within(ws.closed, 2000, 'closed')
    assert.is(requests.length, 1)
    assert.is(requests[0]!.headers.authorization, undefined, 'Authorization must not cross origins')
    assert.is(requests[0]!.headers.cookie, undefined, 'Cookie must not cross origins')
    assert.is(requests[0]!.headers['x-trace'], 'kept')
  } finally {
    await stopHttp(hop.server)
    await stop(target)
  }
  // same origin: one HTTP server redirects /old to /final, which wsflow serves
  const seen: RequestInfo[] = []
  const http = createHttpServer()
  http.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    if (request.url !== '/old') return
    socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${(http.address() as AddressInfo).port}/final\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  })
  const attached = new Server({ server: http, path: '/final' }, (w) => {
    seen.push(w.request!)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const port = (http.address() as AddressInfo).port
    const ws = await within(connect(`ws://127.0.0.1:${port}/old`, { followRedirects: true, headers }), 3000, 'same origin')
    await within(ws.closed, 2000, 'closed')
    assert.is(seen.length, 1)
    assert.is(seen[0]!.headers.authorization, 'Bearer secret', 'Authorization is kept within one origin')
    assert.is(seen[0]!.headers.cookie, 'session=1')
  } finally {
    await within(attached.close({ timeout: 200 }), 3000, 'attached close')
    await stopHttp(http)
  }
})

test('redirects: a loop ends after maxRedirects with HandshakeError 302', async () => {
  const loop = await redirector((port) => `ws://127.0.0.1:${port}/again`)
  try {
    const error = await handshakeError(connect(`ws://127.0.0.1:${loop.port}/`, { followRedirects: true, maxRedirects: 3 }), 'loop')
    assert.is(error.status, 302)
    assert.is(loop.hits, 4, 'the first request plus three redirects')
  } finally {
    await stopHttp(loop.server)
  }
})

test.run()
