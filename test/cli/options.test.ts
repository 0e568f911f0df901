// `wsflow connect` and `serve` flags against real peers: TLS (`serve --cert/--key`, `connect
// --ca`, `-k`, and an untrusted certificate refused), an HTTP proxy (CONNECT), the message size
// limit (1009), and `serve --compress` seen by a ws client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket, WebSocketServer } from 'ws'
import { acceptFor } from '../helpers/raw.ts'
import { makeCertificate } from '../helpers/tls.ts'
import { within } from '../helpers/timing.ts'
import { runCli, spawnCli, spawnListening } from './helpers.ts'

test('TLS: serve --cert/--key; connect --ca trusts it, -k skips the check, and without either it is refused (exit 1)', async () => {
  const certificate = await makeCertificate()
  if (certificate === undefined) {
    console.log('  (skipped: openssl is not installed)')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-cli-tls-'))
  writeFileSync(join(dir, 'key.pem'), certificate.key)
  writeFileSync(join(dir, 'cert.pem'), certificate.cert)
  const { cli, address } = await spawnListening(['serve', '0', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')])
  try {
    assert.match(address, /^wss:\/\/127\.0\.0\.1:\d+$/)
    const trusted = await runCli(['connect', '--ca', join(dir, 'cert.pem'), '-x', 'secure hello', address])
    assert.is(trusted.stdout, 'secure hello\n')
    assert.is(trusted.code, 0, trusted.stderr)
    const insecure = await runCli(['connect', '-k', '-x', 'insecure hello', address])
    assert.is(insecure.stdout, 'insecure hello\n')
    assert.is(insecure.code, 0, insecure.stderr)
    const refused = await runCli(['connect', '-x', 'nobody hears this', address])
    assert.is(refused.code, 1)
    assert.is(refused.stdout, '')
    assert.is(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    assert.match(refused.stderr, /certificate/i)
    const missing = await runCli(['connect', '--ca', join(dir, 'nope.pem'), address])
    assert.is(missing.code, 2)
    assert.match(missing.stderr, /cannot read/)
  } finally {
    assert.is(await cli.stop(), 0)
    rmSync(dir, { recursive: true, force: true })
    await certificate.dispose()
  }
})

test('--proxy tunnels through an HTTP proxy with CONNECT', async () => {
  const tunnels: string[] = []
  const sockets = new Set<Socket>()
  const proxy = createHttpServer()
  proxy.on('connect', (request, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    const [host, port] = (request.url ?? '').split(':')
    const upstream = netConnect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.once('close', () => sockets.delete(socket))
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { cli, address } = await spawnListening(['serve', '0'])
  try {
    const result = await runCli(['connect', '--proxy', `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, '-x', 'via the proxy', address])
    assert.is(result.stdout, 'via the proxy\n')
    assert.is(result.code, 0, result.stderr)
    assert.equal(tunnels, [address.replace('ws://', '')])
  } finally {
    assert.is(await cli.stop(), 0)
    for (const socket of sockets) socket.destroy()
    await within(new Promise<void>((resolve) => proxy.close(() => resolve())), 3000, 'proxy close')
  }
})

test('--max-message-size: a larger message fails the connection with 1009 (exit 1)', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  server.on('connection', (ws) => ws.send('x'.repeat(2048)))
  await new Promise<void>((resolve) => server.once('listening', resolve))
  try {
    const cli = spawnCli(['connect', '--max-message-size', '1KiB', `ws://127.0.0.1:${(server.address() as { port: number }).port}`])
    assert.is(await cli.exit(), 1)
    cli.child.stdin.destroy()
    assert.is(cli.stdout.text, '')
    assert.match(cli.stderr.text, /1009/)
  } finally {
    for (const client of server.clients) client.terminate()
    await within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'ws server close')
  }
})

test('--stall-timeout: a server that completes the handshake and then says nothing (no pong) fails the connection (exit 1)', async () => {
  const sockets = new Set<Socket>()
  const silent = createHttpServer()
  silent.on('upgrade', (request, socket: Socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    const key = String(request.headers['sec-websocket-key'])
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`)
    socket.resume() // reads the pings, answers none
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  try {
    const cli = spawnCli(['connect', '--stall-timeout', '400ms', `ws://127.0.0.1:${(silent.address() as { port: number }).port}/`])
    assert.is(await cli.exit(), 1)
    cli.child.stdin.destroy()
    const lines = cli.stderr.text.split('\n').filter((line) => line !== '' && !line.includes('connected to'))
    assert.is(lines.length, 1, cli.stderr.text)
    assert.match(lines[0]!, /stalled: no data from the peer for 400 ms/)
  } finally {
    for (const socket of sockets) socket.destroy()
    await within(new Promise<void>((resolve) => silent.close(() => resolve())), 3000, 'silent server close')
  }
})

test('serve --compress accepts permessage-deflate (a ws client sees it); without it, none', async () => {
  const compressing = await spawnListening(['serve', '0', '--compress'])
  const plain = await spawnListening(['serve', '0'])
  const extensionsOf = (url: string): Promise<string> => within(new Promise((resolve, reject) => {
    const ws = new WsSocket(url, { perMessageDeflate: true })
    ws.once('open', () => {
      const extensions = ws.extensions
      ws.send('a compressible message '.repeat(100))
      ws.once('message', (data) => {
        assert.is(String(data), 'a compressible message '.repeat(100))
        ws.close()
        resolve(extensions)
      })
    })
    ws.once('error', reject)
  }), 5000, 'ws client')
  try {
    assert.match(await extensionsOf(compressing.address), /^permessage-deflate/)
    assert.is(await extensionsOf(plain.address), '')
  } finally {
    assert.is(await compressing.cli.stop(), 0)
    assert.is(await plain.cli.stop(), 0)
  }
})

test.run()
