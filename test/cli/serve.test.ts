// `wsflow serve` as a subprocess, driven by `ws` clients, plain HTTP, raw TCP and TLS sockets:
// echo, broadcast, exec, static files on the same port, wss://, one port for everything
// (--sniff), and shutdown on SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket, type ClientOptions } from 'ws'
import { makeCertificate } from '../helpers/tls.ts'
import { within } from '../helpers/timing.ts'
import { runCli, spawnListening } from './helpers.ts'

/** A ws client that collects messages and its close. */
async function wsClient(url: string, options: ClientOptions = {}) {
  const ws = new WsSocket(url, options)
  const messages: string[] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data, isBinary) => {
    messages.push(isBinary ? `binary:${(data as Buffer).toString('hex')}` : String(data))
    for (const wake of waiters.splice(0)) wake()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
  await within(new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  }), 10_000, `open ${url}`)
  const count = (n: number): Promise<string[]> => within((async () => {
    for (let i = 0; i < 10_000 && messages.length < n; i++) await new Promise<void>((resolve) => waiters.push(resolve))
    return messages
  })(), 10_000, `${n} messages (got ${JSON.stringify(messages)})`)
  return { ws, messages, closed, count }
}

/** GETs a URL over http or https (no certificate check for the test's self-signed one). */
function fetchText(url: string): Promise<{ status: number; body: string }> {
  return within(new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet
    get(url, { rejectUnauthorized: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    }).on('error', reject)
  }), 10_000, `GET ${url}`)
}

/** Sends `data` over a raw socket and resolves with the first `length` bytes that come back. */
function rawExchange(socket: NodeJS.ReadWriteStream & { destroy(): void }, data: string, length: number): Promise<string> {
  return within(new Promise((resolve, reject) => {
    let got = ''
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString()
      if (got.length >= length) {
        socket.destroy()
        resolve(got)
      }
    })
    socket.on('error', reject)
    socket.write(data)
  }), 10_000, `raw exchange of ${JSON.stringify(data)}`)
}

test('echo by default (text and binary, ws client); SIGTERM closes clients with 1001 and exits 0', async () => {
  const { cli, address } = await spawnListening(['serve', '0', '--path', '/echo'])
  assert.match(address, /^ws:\/\/127\.0\.0\.1:\d+\/echo$/)
  const client = await wsClient(address)
  client.ws.send('hi')
  client.ws.send(Buffer.from([1, 2, 3]))
  assert.equal(await client.count(2), ['hi', 'binary:010203'])
  assert.is(await cli.stop(), 0)
  assert.is((await within(client.closed, 5000, 'client close')).code, 1001)
})

test('--broadcast sends each message to every client, the sender too', async () => {
  const { cli, address } = await spawnListening(['serve', '0', '--broadcast'])
  try {
    const a = await wsClient(address)
    const b = await wsClient(address)
    a.ws.send('from a')
    assert.equal(await a.count(1), ['from a'])
    assert.equal(await b.count(1), ['from a'])
    b.ws.send('from b')
    assert.equal(await a.count(2), ['from a', 'from b'])
    a.ws.close()
    b.ws.close()
  } finally {
    assert.is(await cli.stop(), 0)
  }
})

test('--exec wires each connection to a child process (lines); its exit status decides the close code', async () => {
  const loop = await spawnListening(['serve', '0', '--exec', 'while read -r line; do echo "got $line from $REMOTE_ADDR"; done'])
  const once = await spawnListening(['serve', '0', '--exec', 'read -r line; echo "last $line"; exit 3'])
  try {
    const client = await wsClient(loop.address)
    client.ws.send('one')
    client.ws.send('two')
    assert.equal(await client.count(2), ['got one from 127.0.0.1', 'got two from 127.0.0.1'])
    client.ws.close(1000)
    assert.is((await within(client.closed, 5000, 'close')).code, 1000)
    const failing = await wsClient(once.address)
    failing.ws.send('x')
    assert.equal(await failing.count(1), ['last x'])
    const close = await within(failing.closed, 5000, 'close after the exit')
    assert.is(close.code, 1011)
    assert.match(close.reason, /exited with 3/)
  } finally {
    assert.is(await loop.cli.stop(), 0)
    assert.is(await once.cli.stop(), 0)
  }
})

test('--static serves files on the WebSocket\'s port (and nothing outside DIR)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-static-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>')
  const { cli, address } = await spawnListening(['serve', '0', '--static', dir, '--path', '/ws'])
  try {
    const http = address.replace('ws://', 'http://').replace(/\/ws$/, '')
    const page = await fetchText(`${http}/`)
    assert.is(page.status, 200)
    assert.is(page.body, '<!doctype html><title>page</title>')
    assert.is((await fetchText(`${http}/missing.txt`)).status, 404)
    assert.is((await fetchText(`${http}/..%2f..%2fetc%2fpasswd`)).status, 403)
    const client = await wsClient(address)
    client.ws.send('same origin')
    assert.equal(await client.count(1), ['same origin'])
    client.ws.close()
  } finally {
    assert.is(await cli.stop(), 0)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--sniff: raw TCP, HTTP and WebSocket on one port; with --cert/--key each of them under TLS too', async () => {
  const certificate = await makeCertificate()
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-static-'))
  writeFileSync(join(dir, 'hello.txt'), 'hello file\n')
  const plain = await spawnListening(['serve', '0', '--sniff', '--static', dir])
  try {
    const port = Number(new URL(plain.address).port)
    assert.is(await rawExchange(netConnect(port, '127.0.0.1'), 'raw bytes, not HTTP\n', 20), 'raw bytes, not HTTP\n')
    // Redis-style inline command: a method name, but no HTTP version: raw.
    assert.is(await rawExchange(netConnect(port, '127.0.0.1'), 'GET key\r\n', 9), 'GET key\r\n')
    assert.is((await fetchText(`http://127.0.0.1:${port}/hello.txt`)).body, 'hello file\n')
    const client = await wsClient(plain.address)
    client.ws.send('over websocket')
    assert.equal(await client.count(1), ['over websocket'])
    client.ws.close()
  } finally {
    assert.is(await plain.cli.stop(), 0)
  }
  if (certificate === undefined) {
    console.log('  (TLS part skipped: openssl is not installed)')
    rmSync(dir, { recursive: true, force: true })
    return
  }
  writeFileSync(join(dir, 'key.pem'), certificate.key)
  writeFileSync(join(dir, 'cert.pem'), certificate.cert)
  const secure = await spawnListening(['serve', '0', '--sniff', '--static', dir, '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')])
  try {
    assert.match(secure.address, /^wss:/)
    const port = Number(new URL(secure.address).port)
    const tlsRaw = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false })
    assert.is(await rawExchange(tlsRaw, 'raw inside TLS\n', 15), 'raw inside TLS\n')
    assert.is((await fetchText(`https://127.0.0.1:${port}/hello.txt`)).body, 'hello file\n')
    assert.is(await rawExchange(netConnect(port, '127.0.0.1'), 'plain raw\n', 10), 'plain raw\n')
    const client = await wsClient(secure.address, { rejectUnauthorized: false })
    client.ws.send('over wss')
    assert.equal(await client.count(1), ['over wss'])
    client.ws.close()
  } finally {
    assert.is(await secure.cli.stop(), 0)
    rmSync(dir, { recursive: true, force: true })
    await certificate.dispose()
  }
})

test('serve: bad usage exits 2 with one line', async () => {
  for (const args of [['serve'], ['serve', '99999'], ['serve', '0', '--exec', 'cat', '--broadcast'], ['serve', '0', '--silent', 'maybe', '--sniff']]) {
    const result = await runCli(args)
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.is(result.stderr.trim().split('\n').length, 1, result.stderr)
  }
})

test.run()
