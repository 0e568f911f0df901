/**
 * The opening handshake over loopback: subprotocol negotiation (both directions of interop),
 * request info on the server, verify and origin refusals, 404/426/431/503, timeouts, abort.
 * Redirects are in redirects.test.ts.
 */
import { createServer as createHttpServer, get as httpGet, type IncomingMessage } from 'node:http'
import { createConnection as createNetConnection, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket, WebSocketServer } from 'ws'
import { AbortError, ConnectError, HandshakeError, connect, serve, type RequestInfo } from '../../src/index.ts'
import { PAIRS, openWsClient, withPair } from '../helpers/peers.ts'
import { rawConnect, rawServe } from '../helpers/raw.ts'
import { handshakeError, recordingServer, stop, stopHttp } from '../helpers/servers.ts'
import { rejection, sleep, within } from '../helpers/timing.ts'

const wsflowPair = PAIRS[0]!
const wsClientPair = PAIRS[2]!
const wsServerPair = PAIRS[1]!

/** The ws client's view of a refused handshake: status and headers. */
function wsRefusal(url: string, options: ConstructorParameters<typeof WsSocket>[2] = {}): Promise<{ status: number; headers: IncomingMessage['headers'] }> {
  return within(new Promise((resolve, reject) => {
    const ws = new WsSocket(url, options)
    ws.on('error', () => undefined)
    ws.once('open', () => {
      ws.terminate()
      reject(new Error('the handshake was accepted'))
    })
    ws.once('unexpected-response', (request, response) => {
      resolve({ status: response.statusCode ?? 0, headers: response.headers })
      request.destroy()
    })
  }), 3000, 'ws refusal')
}

// ---- subprotocols ----

for (const kind of [wsflowPair, wsClientPair]) {
  test(`[${kind.name}] server protocols as a list: the server's preference among those offered`, async () => {
    await withPair(kind, { server: { protocols: ['chat.v3', 'chat.v2', 'chat.v1'] }, client: { protocols: ['chat.v1', 'chat.v2'] } }, async (pair) => {
      assert.is(pair.server.protocol, 'chat.v2')
      assert.is(pair.client.protocol, 'chat.v2')
    })
  })

  test(`[${kind.name}] server protocols as a function: sees every offer in order, with the request`, async () => {
    const calls: [string[], string][] = []
    const protocols = (offered: readonly string[], request: RequestInfo): string | undefined => {
      calls.push([[...offered], request.url])
      return offered[offered.length - 1]
    }
    await withPair(kind, { server: { protocols }, client: { protocols: ['a', 'b', 'c'] }, path: '/echo?q=1' }, async (pair) => {
      assert.is(pair.server.protocol, 'c')
      assert.is(pair.client.protocol, 'c')
      assert.equal(calls, [[['a', 'b', 'c'], '/echo?q=1']])
    })
  })
}

test('[wsflow client ↔ wsflow server] no protocol in common: the connection opens with protocol ""', async () => {
  await withPair(wsflowPair, { server: { protocols: ['x', 'y'] }, client: { protocols: ['a', 'b'] } }, async (pair) => {
    assert.is(pair.client.protocol, '')
    assert.is(pair.server.protocol, '')
    await pair.client.send('works')
    assert.is(new TextDecoder().decode((await pair.server.receive()).data), 'works')
  })
  await withPair(wsflowPair, { server: { protocols: () => undefined }, client: { protocols: ['a'] } }, async (pair) => {
    assert.is(pair.client.protocol, '')
    assert.is(pair.server.protocol, '')
  })
  await withPair(wsflowPair, { client: { protocols: ['a'] } }, async (pair) => {
    assert.is(pair.server.protocol, '', 'a server without `protocols` selects none')
  })
})

test('wsflow server: with no protocol in common the 101 has no Sec-WebSocket-Protocol header', async () => {
  const { server } = await recordingServer({ protocols: ['x'] })
  try {
    const raw = await rawConnect({ port: server.port }, '/', { 'Sec-WebSocket-Protocol': 'a, b' })
    assert.is(raw.headers['sec-websocket-protocol'], undefined)
    await raw.destroy()
    const raw2 = await rawConnect({ port: server.port }, '/', { 'Sec-WebSocket-Protocol': 'a, x' })
    assert.is(raw2.headers['sec-websocket-protocol'], 'x')
    await raw2.destroy()
  } finally {
    await stop(server)
  }
})

test('[wsflow client ↔ ws server] a client offering several: ws handleProtocols picks one, or none', async () => {
  const seen: string[][] = []
  await withPair(wsServerPair, { client: { protocols: ['one', 'two', 'three'] }, wsServer: { handleProtocols: (set) => (seen.push([...set]), 'two') } }, async (pair) => {
    assert.equal(seen, [['one', 'two', 'three']])
    assert.is(pair.client.protocol, 'two')
    assert.is(pair.server.protocol, 'two')
  })
  await withPair(wsServerPair, { client: { protocols: ['one'] }, wsServer: { handleProtocols: () => false } }, async (pair) => {
    assert.is(pair.client.protocol, '')
  })
})

test('wsflow client: a server selecting a subprotocol that was not offered fails the handshake', async () => {
  const raw = await rawServe({ protocol: 'zzz' })
  try {
    await handshakeError(connect(`${raw.url}/`, { protocols: ['a', 'b'], handshakeTimeout: 2000 }), 'not offered')
    await handshakeError(connect(`${raw.url}/`, { handshakeTimeout: 2000 }), 'none offered')
  } finally {
    await raw.close()
  }
})

// ---- request info ----

test('[wsflow client ↔ wsflow server] request info: url with query, headers, remote address and port', async () => {
  await withPair(wsflowPair, { path: '/echo?room=1&x=%20y', client: { headers: { 'X-Custom': 'value 1', Authorization: 'Bearer t0ken' }, origin: 'https://app.example' } }, async (pair) => {
    const request = pair.server.wsflow!.request!
    assert.ok(request !== undefined)
    assert.is(request.url, '/echo?room=1&x=%20y')
    assert.is(request.headers['x-custom'], 'value 1')
    assert.is(request.headers.authorization, 'Bearer t0ken')
    assert.is(request.headers.origin, 'https://app.example')
    assert.is(request.headers.host, `127.0.0.1:${pair.wsflowServer!.port}`)
    assert.is(request.headers.upgrade?.toLowerCase(), 'websocket')
    assert.is(request.remoteAddress, '127.0.0.1')
    assert.type(request.remotePort, 'number')
    assert.ok(request.remotePort! > 0)
    assert.is(pair.client.wsflow!.request, undefined, 'the client side has no request info')
  })
})

test('[ws client ↔ wsflow server] request info from a ws client', async () => {
  await withPair(wsClientPair, { path: '/echo/sub?a=b', wsClient: { headers: { 'x-from': 'ws' } } }, async (pair) => {
    const request = pair.server.wsflow!.request!
    assert.is(request.url, '/echo/sub?a=b')
    assert.is(request.headers['x-from'], 'ws')
    assert.is(request.headers['sec-websocket-version'], '13')
    assert.is(request.remoteAddress, '127.0.0.1')
  })
})

test('wsflow server: repeated request headers are joined with ", "', async () => {
  const { server, requests } = await recordingServer()
  try {
    const raw = await rawConnect({ port: server.port }, '/multi', { 'X-Multi': 'a', 'x-multi': 'b' })
    await raw.reader.nextClose() // the handler returned: closed with 1000
    await raw.destroy()
    assert.is(requests.length, 1)
    assert.is(requests[0]!.url, '/multi')
    assert.is(requests[0]!.headers['x-multi'], 'a, b')
  } finally {
    await stop(server)
  }
})

// ---- refusals ----

test('verify returning { status: 403, headers }: connect rejects with HandshakeError 403 and the headers', async () => {
  const { server, requests } = await recordingServer({ verify: () => ({ status: 403, headers: { 'x-why': 'no' } }) })
  try {
    const error = await handshakeError(connect(`ws://127.0.0.1:${server.port}/`), 'verify 403')
    assert.is(error.status, 403)
    assert.is(error.headers['x-why'], 'no')
    const ws = await wsRefusal(`ws://127.0.0.1:${server.port}/`)
    assert.is(ws.status, 403, 'ws client')
    assert.is(ws.headers['x-why'], 'no', 'ws client')
    assert.is(requests.length, 0, 'no connection reached the handler')
    assert.is(server.clients.size, 0)
  } finally {
    await stop(server)
  }
})

test('verify: false gives 401; an async verify sees the request headers; a throwing verify gives 500', async () => {
  const errors: unknown[] = []
  const { server, requests } = await recordingServer({
    onError: (error) => errors.push(error),
    verify: async (request) => {
      await sleep(5)
      if (request.headers.authorization === 'Bearer boom') throw new Error('verify failed')
      return request.headers.authorization === 'Bearer good'
    },
  })
  try {
    const url = `ws://127.0.0.1:${server.port}/`
    assert.is((await handshakeError(connect(url), 'no credentials')).status, 401)
    assert.is((await handshakeError(connect(url, { headers: { Authorization: 'Bearer bad' } }), 'bad credentials')).status, 401)
    assert.is((await handshakeError(connect(url, { headers: { Authorization: 'Bearer boom' } }), 'throwing verify')).status, 500)
    assert.is(errors.length, 1, 'the thrown error went to onError')
    const ws = await connect(url, { headers: { Authorization: 'Bearer good' } })
    await within(ws.closed, 2000, 'closed after the handler returns')
    assert.is(requests.length, 1)
  } finally {
    await stop(server)
  }
})

test('origins: a foreign Origin gets 403; the allowed one and none pass', async () => {
  const { server, requests } = await recordingServer({ origins: ['https://ok.example'] })
  try {
    const url = `ws://127.0.0.1:${server.port}/`
    assert.is((await handshakeError(connect(url, { origin: 'https://evil.example' }), 'evil origin')).status, 403)
    assert.is((await wsRefusal(url, { origin: 'https://evil.example' })).status, 403, 'ws client')
    const ok = await connect(url, { origin: 'https://ok.example' })
    await within(ok.closed, 2000, 'ok closed')
    const none = await connect(url)
    await within(none.closed, 2000, 'none closed')
    const viaWs = await openWsClient(url, undefined, { origin: 'https://ok.example' })
    await within(new Promise((resolve) => viaWs.once('close', resolve)), 2000, 'ws closed')
    assert.is(requests.length, 3)
  } finally {
    await stop(server)
  }
})

test('path: a mismatch gets 404; the path matches without its query string', async () => {
  const { server, requests } = await recordingServer({ path: ['/echo', '/chat'] })
  try {
    const base = `ws://127.0.0.1:${server.port}`
    assert.is((await handshakeError(connect(`${base}/nope`), 'wrong path')).status, 404)
    assert.is((await handshakeError(connect(`${base}/echo/deeper`), 'deeper path')).status, 404)
    assert.is((await wsRefusal(`${base}/nope`)).status, 404, 'ws client')
    for (const path of ['/echo', '/chat', '/echo?token=1']) {
      const ws = await connect(`${base}${path}`)
      await within(ws.closed, 2000, 'closed')
    }
    assert.equal(requests.map((r) => r.url), ['/echo', '/chat', '/echo?token=1'])
    assert.is(server.url, `ws://127.0.0.1:${server.port}/echo`)
  } finally {
    await stop(server)
  }
})

test('a plain HTTP GET gets 426 Upgrade Required', async () => {
  const { server } = await recordingServer()
  try {
    const response = await within(new Promise<IncomingMessage>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port: server.port, path: '/' }, resolve).on('error', reject)
    }), 3000, 'http get')
    let body = ''
    for await (const chunk of response) body += String(chunk)
    assert.is(response.statusCode, 426)
    assert.is(response.headers.upgrade, 'websocket')
    assert.ok(body.length > 0)
  } finally {
    await stop(server)
  }
})

test('an unsupported Sec-WebSocket-Version gets 426 with Sec-WebSocket-Version: 13', async () => {
  const { server } = await recordingServer()
  try {
    const error = await handshakeError(new Promise((resolve, reject) => {
      // ws can speak version 8; the server must refuse it and name the version it speaks
      const ws = new WsSocket(`ws://127.0.0.1:${server.port}/`, { protocolVersion: 8 })
      ws.on('error', () => undefined)
      ws.once('open', () => resolve(ws.terminate()))
      ws.once('unexpected-response', (request, response) => {
        reject(new HandshakeError('refused', response.statusCode ?? 0, { ...response.headers } as Record<string, string>))
        request.destroy()
      })
    }), 'version 8')
    assert.is(error.status, 426)
    assert.is(error.headers['sec-websocket-version'], '13')
  } finally {
    await stop(server)
  }
})

// ---- timeouts and abort ----

/** A TCP server that accepts connections and never says anything. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

test('connect: handshakeTimeout against a silent server rejects with HandshakeError', async () => {
  const silent = await silentServer()
  try {
    const started = Date.now()
    const timedOut = await handshakeError(connect(`ws://127.0.0.1:${silent.port}/`, { handshakeTimeout: 200 }), 'timeout')
    assert.is(timedOut.code, 'WS_ERR_HANDSHAKE_TIMEOUT')
    assert.is(timedOut.status, 0)
    assert.ok(Date.now() - started >= 150)
  } finally {
    await silent.close()
  }
})

test('connect: an AbortSignal cancels a pending handshake with an AbortError whose cause is its reason', async () => {
  const silent = await silentServer()
  try {
    const controller = new AbortController()
    const pending = rejection(connect(`ws://127.0.0.1:${silent.port}/`, { signal: controller.signal, handshakeTimeout: 5000 }), 3000, 'abort')
    await sleep(50)
    const reason = new Error('changed my mind')
    controller.abort(reason)
    const aborted = await pending
    assert.instance(aborted, AbortError)
    assert.is((aborted as AbortError).code, 'WS_ERR_ABORTED')
    assert.is((aborted as AbortError).cause, reason)
    const early = await rejection(connect(`ws://127.0.0.1:${silent.port}/`, { signal: AbortSignal.abort(reason) }), 1000, 'pre-aborted')
    assert.instance(early, AbortError)
    assert.is((early as AbortError).cause, reason)
  } finally {
    await silent.close()
  }
})

test('connect: a refused TCP connection rejects (nothing listening)', async () => {
  const silent = await silentServer()
  const port = silent.port
  await silent.close()
  const error = await rejection(connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 2000 }), 3000, 'refused')
  assert.instance(error, ConnectError)
  assert.is((error as ConnectError).code, 'WS_ERR_CONNECT')
  assert.is((error as ConnectError).systemCode, 'ECONNREFUSED')
  assert.is(((error as ConnectError).cause as { code?: string }).code, 'ECONNREFUSED')
})

/** Writes `text` on a plain socket and resolves with everything the server sent once it closed the socket. */
function rawRequest(port: number, text: string): Promise<string> {
  const socket = createNetConnection({ host: '127.0.0.1', port })
  socket.on('error', () => undefined)
  let received = ''
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1')
  })
  socket.write(text)
  return new Promise((resolve) => socket.once('close', () => resolve(received)))
}

test('server: handshakeTimeout cuts a client that never finishes its request', async () => {
  const { server } = await recordingServer({ handshakeTimeout: 300 })
  try {
    const received = await within(rawRequest(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'), 5000, 'server gives up') // and nothing more
    assert.ok(received === '' || /^HTTP\/1\.1 408/.test(received), `unexpected answer: ${received}`)
  } finally {
    await stop(server)
  }
})

test('server: a verify hook slower than handshakeTimeout gets 408, and the handshake no longer counts against maxConnections', async () => {
  let slow = true
  const server = await serve({ host: '127.0.0.1', port: 0, handshakeTimeout: 300, maxConnections: 1, verify: () => (slow ? sleep(1500).then(() => true) : true) }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const started = Date.now()
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`
    const received = await within(rawRequest(server.port, request), 5000, 'server gives up')
    const elapsed = Date.now() - started
    assert.match(received, /^HTTP\/1\.1 408 /)
    assert.ok(elapsed >= 250 && elapsed < 1400, `408 after ${elapsed} ms (timeout 300, verify 1500)`)
    slow = false
    const ws = await within(connect(server.url), 3000, 'the next handshake')
    await ws.send('after')
    assert.is((await ws[Symbol.asyncIterator]().next()).value?.text(), 'after')
    await ws.close()
  } finally {
    await stop(server)
  }
})

test('a ws server refusing (verify) is seen by the wsflow client as HandshakeError with the status', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, done) => done(false, 418, 'teapot', { 'x-ws': 'refused' }) })
  await within(new Promise<void>((resolve) => wss.once('listening', resolve)), 3000, 'listening')
  try {
    const error = await handshakeError(connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`), 'ws refuses')
    assert.is(error.status, 418)
    assert.is(error.headers['x-ws'], 'refused')
  } finally {
    await within(new Promise<void>((resolve) => wss.close(() => resolve())), 3000, 'wss close')
  }
})

// ---- server limits ----

test('maxConnections: past the limit a handshake gets 503 with Retry-After; a slot frees up on close', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, maxConnections: 2 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  const url = `ws://127.0.0.1:${server.port}/`
  const a = await connect(url)
  const b = await connect(url)
  try {
    const error = await handshakeError(connect(url), 'third connection')
    assert.is(error.status, 503)
    assert.ok(error.headers['retry-after'] !== undefined, 'a 503 says when to retry')
    await within(a.close(), 2000, 'close a')
    for (let i = 0; i < 50 && server.clients.size > 1; i++) await sleep(10)
    const c = await connect(url)
    await within(c.close(), 2000, 'close c')
  } finally {
    a.terminate()
    b.terminate()
    await stop(server)
  }
})

test('maxConnectionsPerAddress: past it an address gets 429 with Retry-After, another address is still served, and a slot frees up on close', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, maxConnectionsPerAddress: 2 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  const url = `ws://127.0.0.1:${server.port}/`
  const a = await connect(url)
  const b = await connect(url)
  try {
    const error = await handshakeError(connect(url), 'third connection from 127.0.0.1')
    assert.is(error.status, 429)
    assert.ok(error.headers['retry-after'] !== undefined)
    // Linux routes 127.0.0.0/8 to loopback: 127.0.0.2 is another remote address for the server.
    const other = await connect(url, { localAddress: '127.0.0.2' })
    await other.send('still served')
    assert.is((await within(other.recv(), 2000, 'echo')).text(), 'still served')
    await within(a.close(), 2000, 'close a')
    for (let i = 0; i < 100 && server.clients.size > 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    const c = await connect(url)
    await within(c.close(), 2000, 'close c')
    await within(other.close(), 2000, 'close other')
  } finally {
    a.terminate()
    b.terminate()
    await stop(server)
  }
})

test('maxHeaderSize: a request head over the limit gets 431', async () => {
  const { server, requests } = await recordingServer({ maxHeaderSize: 2048 })
  try {
    const url = `ws://127.0.0.1:${server.port}/`
    const error = await handshakeError(connect(url, { headers: { 'x-big': 'a'.repeat(4096) } }), 'big head')
    assert.is(error.status, 431)
    const ws = await connect(url, { headers: { 'x-small': 'a'.repeat(512) } })
    await within(ws.closed, 2000, 'closed')
    assert.is(requests.length, 1)
  } finally {
    await stop(server)
  }
})

test('connect: maxHeaderSize on the client refuses a huge response head', async () => {
  const http = createHttpServer()
  const upgraded = new Set<Socket>()
  http.on('upgrade', (_request: IncomingMessage, socket: Socket) => {
    upgraded.add(socket)
    socket.on('error', () => undefined)
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nX-Junk: ${'j'.repeat(8192)}\r\n`)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const error = await rejection(connect(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, { maxHeaderSize: 1024, handshakeTimeout: 2000 }), 3000, 'huge head')
    assert.instance(error, HandshakeError, String(error))
    assert.is((error as HandshakeError).code, 'WS_ERR_HEADERS_TOO_LARGE')
  } finally {
    for (const socket of upgraded) socket.destroy()
    await stopHttp(http)
  }
})

test.run()
