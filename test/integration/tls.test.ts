/**
 * wss:// over loopback with a self-signed certificate made at run time: wsflow ↔ wsflow and interop
 * with ws both ways; a client that does not trust the certificate must fail.
 */
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer } from 'ws'
import { ConnectError, connect, serve, type Server } from '../../src/index.ts'
import { openWsClient, wsflowPeer, wsPeer } from '../helpers/peers.ts'
import { hasOpenssl, makeCertificate, type TestCertificate } from '../helpers/tls.ts'
import { rejection, within } from '../helpers/timing.ts'

// node:crypto can make keys but not certificates: without openssl the TLS tests are skipped.
const opensslAvailable = await hasOpenssl()
if (!opensslAvailable) console.warn('tls.test.ts: SKIPPED: `openssl` is not installed, so no self-signed certificate can be made at run time')
const tlsTest = opensslAvailable ? test : test.skip

let certificate: TestCertificate | undefined
let server: Server | undefined

test.before(async () => {
  certificate = await makeCertificate()
  if (certificate === undefined) return
  server = await serve({ host: '127.0.0.1', port: 0, key: certificate.key, cert: certificate.cert, path: '/echo' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
})

test.after(async () => {
  if (server !== undefined) await within(server.close({ timeout: 500 }), 3000, 'server close')
  await certificate?.dispose()
})

tlsTest('wss: server.url says wss://', () => {
  if (server === undefined) return
  assert.is(server.url, `wss://127.0.0.1:${server.port}/echo`)
})

tlsTest('wss: a wsflow client with `ca` connects, and messages (1 MiB too) round-trip', async () => {
  if (server === undefined || certificate === undefined) return
  const ws = await connect(`wss://127.0.0.1:${server.port}/echo`, { ca: certificate.cert })
  const peer = wsflowPeer(ws)
  const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7)
  await peer.send('secure ✓')
  await peer.send(big)
  assert.is(new TextDecoder().decode((await peer.receive()).data), 'secure ✓')
  const echoed = await peer.receive(5000)
  assert.ok(Buffer.compare(echoed.data, big) === 0)
  // RFC 6455 §5.5.1: the server's echo carries the code and the reason back.
  assert.equal(await within(ws.close(1000, 'done'), 2000, 'close'), { code: 1000, reason: 'done', wasClean: true })
})

tlsTest('wss: the certificate is checked against `servername` (DNS:localhost) when given', async () => {
  if (server === undefined || certificate === undefined) return
  // localhost may resolve to ::1 while the server listens on 127.0.0.1 only: connect by IP, verify by name
  const ws = await connect(`wss://127.0.0.1:${server.port}/echo`, { ca: certificate.cert, servername: 'localhost' })
  const peer = wsflowPeer(ws)
  await peer.send('via servername')
  assert.is(new TextDecoder().decode((await peer.receive()).data), 'via servername')
  await within(ws.close(), 2000, 'close')
})

tlsTest('wss: a wsflow client without `ca` fails (rejectUnauthorized defaults to true)', async () => {
  if (server === undefined) return
  const error = await rejection(connect(`wss://127.0.0.1:${server.port}/echo`, { handshakeTimeout: 3000 }), 5000, 'untrusted')
  assert.instance(error, ConnectError, 'a TLS failure is a ConnectError')
  assert.is((error as ConnectError).code, 'WS_ERR_TLS')
  const code = (error as ConnectError).systemCode
  assert.ok(code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN', `unexpected error ${String(code)}: ${String(error)}`)
  assert.is(((error as ConnectError).cause as { code?: string }).code, code)
  assert.is(server.clients.size, 0)
})

tlsTest('wss: rejectUnauthorized: false lets an untrusting client through (explicit opt-out)', async () => {
  if (server === undefined) return
  const ws = await connect(`wss://127.0.0.1:${server.port}/echo`, { rejectUnauthorized: false })
  await within(ws.close(), 2000, 'close')
})

tlsTest('wss: a certificate for another name fails even with `ca`', async () => {
  if (server === undefined || certificate === undefined) return
  const error = await rejection(connect(`wss://127.0.0.1:${server.port}/echo`, { ca: certificate.cert, servername: 'other.example', handshakeTimeout: 3000 }), 5000, 'wrong name')
  assert.instance(error, ConnectError)
  assert.is((error as ConnectError).code, 'WS_ERR_TLS')
  assert.is((error as ConnectError).systemCode, 'ERR_TLS_CERT_ALTNAME_INVALID')
})

tlsTest('wss: a ws client trusting the certificate talks to the wsflow server', async () => {
  if (server === undefined || certificate === undefined) return
  const peer = wsPeer(await openWsClient(`wss://127.0.0.1:${server.port}/echo`, undefined, { ca: certificate.cert }), 'client')
  await peer.send('from ws')
  assert.is(new TextDecoder().decode((await peer.receive()).data), 'from ws')
  peer.close(1000)
  assert.is((await within(peer.closed, 2000, 'closed')).wasClean, true)
})

tlsTest('wss: a wsflow client talks to a ws server over https', async () => {
  if (certificate === undefined) return
  const https = createHttpsServer({ key: certificate.key, cert: certificate.cert })
  const wss = new WebSocketServer({ server: https })
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  try {
    const ws = await connect(`wss://127.0.0.1:${(https.address() as AddressInfo).port}/`, { ca: certificate.cert })
    const peer = wsflowPeer(ws)
    await peer.send(Uint8Array.of(1, 2, 3))
    assert.equal([...(await peer.receive()).data], [1, 2, 3])
    assert.is((await within(ws.close(), 2000, 'close')).wasClean, true)
  } finally {
    for (const c of wss.clients) c.terminate()
    await within(new Promise<void>((resolve) => wss.close(() => resolve())), 3000, 'wss close')
    https.closeAllConnections()
    await within(new Promise<void>((resolve) => https.close(() => resolve())), 3000, 'https close')
  }
})

test.run()
