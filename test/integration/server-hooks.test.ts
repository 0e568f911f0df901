/**
 * What a server reaches for in the upgrade: data handed from `verify` to the connection
 * (`ws.data`), headers on the 101 response (cookies), `handleUpgrade` giving the connection back,
 * the socket's addresses, and the client's certificate under mutual TLS.
 */
import { createServer as createHttpServer } from 'node:http'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, HandshakeError, InvalidArgumentError, serve, Server, type WebSocket } from '../../src/index.ts'
import { stop, stopHttp } from '../helpers/servers.ts'
import { rejection, within } from '../helpers/timing.ts'
import { hasOpenssl, makeCertificate } from '../helpers/tls.ts'

test('verify hands data to the connection (ws.data) and headers to the 101 response', async () => {
  const seen: unknown[] = []
  const server = await serve({
    host: '127.0.0.1',
    port: 0,
    verify: (request, context) => {
      if (request.headers.authorization !== 'Bearer alice-token') return false
      context.data = { user: 'alice' }
      context.headers['set-cookie'] = 'sid=42; HttpOnly'
      return true
    },
  }, (ws: WebSocket) => {
    seen.push(ws.data)
  })
  try {
    const ws = await connect(`ws://127.0.0.1:${server.port}/`, { headers: { authorization: 'Bearer alice-token' } })
    assert.is(ws.response!.headers['set-cookie'], 'sid=42; HttpOnly')
    assert.is(ws.data, undefined) // the client's own data slot starts empty
    await ws.closed
    assert.equal(seen, [{ user: 'alice' }])
    const refused = await rejection(connect(`ws://127.0.0.1:${server.port}/`), 3000, 'no token')
    assert.instance(refused, HandshakeError)
    assert.is((refused as HandshakeError).status, 401)
  } finally {
    await stop(server)
  }
})

test('the headers option adds to every 101 (a function of the request); a header that would break the response is refused with 500', async () => {
  const errors: unknown[] = []
  const server = await serve({
    host: '127.0.0.1',
    port: 0,
    headers: (request) => (request.url === '/bad' ? { 'x-bad': 'a\r\ninjected: yes' } : { 'x-served-by': 'wsflow', 'x-path': request.url }),
    onError: (error) => errors.push(error),
  }, () => undefined)
  try {
    const ws = await connect(`ws://127.0.0.1:${server.port}/here`)
    assert.is(ws.response!.headers['x-served-by'], 'wsflow')
    assert.is(ws.response!.headers['x-path'], '/here')
    assert.is(ws.response!.headers.injected, undefined)
    await ws.closed
    const bad = await rejection(connect(`ws://127.0.0.1:${server.port}/bad`), 3000, 'bad header')
    assert.instance(bad, HandshakeError)
    assert.is((bad as HandshakeError).status, 500)
    assert.is((bad as HandshakeError).headers.injected, undefined)
    assert.instance(errors[0], InvalidArgumentError)
  } finally {
    await stop(server)
  }
  const refusal = await rejection(serve({ port: 0, headers: 'x-a: b' as never }), 1000, 'headers as a string')
  assert.instance(refusal, InvalidArgumentError)
})

test('handleUpgrade resolves with the connection, or with undefined when it refuses; the request has the socket addresses', async () => {
  const wss = new Server({ noServer: true, verify: (request) => request.url !== '/no' })
  const results: (WebSocket | undefined)[] = []
  const addresses: unknown[] = []
  const http = createHttpServer()
  http.on('upgrade', (request, socket, head) => {
    void wss.handleUpgrade(request, socket, head).then((ws) => {
      results.push(ws)
      if (ws === undefined) return
      addresses.push(ws.request!.localAddress, ws.request!.localPort) // read from the socket: while it is open
      void ws.close(1000)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as { port: number }).port
  try {
    const ws = await connect(`ws://127.0.0.1:${port}/yes`)
    await ws.closed
    const refused = await rejection(connect(`ws://127.0.0.1:${port}/no`), 3000, 'refused')
    assert.is((refused as HandshakeError).status, 401)
    await within((async () => {
      while (results.length < 2) await new Promise((resolve) => setImmediate(resolve))
    })(), 3000, 'both upgrades settled')
    const [accepted, none] = results
    assert.ok(accepted !== undefined)
    assert.is(accepted!.url, '/yes')
    assert.equal(addresses, ['127.0.0.1', port])
    assert.is(accepted!.request!.secure, false)
    assert.is(accepted!.request!.authorized, undefined)
    assert.is(accepted!.request!.peerCertificate!(), undefined)
    assert.is(none, undefined)
  } finally {
    await wss.close({ timeout: 500 })
    await stopHttp(http)
  }
})

const tls = (await hasOpenssl()) ? test : test.skip
tls('mutual TLS: the request tells whether the client certificate was verified and gives it', async () => {
  const serverCert = await makeCertificate()
  const clientCert = await makeCertificate()
  if (serverCert === undefined || clientCert === undefined) throw new Error('openssl made no certificate')
  const seen: { authorized: boolean | undefined; error: string | undefined; cn: unknown; fingerprint: unknown; secure: boolean | undefined }[] = []
  const server = await serve({
    host: '127.0.0.1',
    port: 0,
    key: serverCert.key,
    cert: serverCert.cert,
    tls: { requestCert: true, rejectUnauthorized: false, ca: [clientCert.cert] },
  }, (ws: WebSocket) => {
    const request = ws.request!
    const certificate = request.peerCertificate!()
    seen.push({ authorized: request.authorized, error: request.authorizationError, cn: certificate?.subject.CN, fingerprint: certificate?.fingerprint256, secure: request.secure })
  })
  try {
    const withCert = await connect(`wss://127.0.0.1:${server.port}/`, { ca: serverCert.cert, cert: clientCert.cert, key: clientCert.key })
    await withCert.closed
    const without = await connect(`wss://127.0.0.1:${server.port}/`, { ca: serverCert.cert })
    await without.closed
    assert.is(seen.length, 2)
    assert.is(seen[0]!.authorized, true)
    assert.is(seen[0]!.secure, true)
    assert.is(seen[0]!.cn, 'localhost')
    assert.match(String(seen[0]!.fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    assert.is(seen[1]!.authorized, false)
    assert.type(seen[1]!.error, 'string')
    assert.is(seen[1]!.cn, undefined)
  } finally {
    await stop(server)
    await serverCert.dispose()
    await clientCert.dispose()
  }
})

test.run()
