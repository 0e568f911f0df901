// The one-port server (src/server/sniff.ts) on loopback: HTTP (pipelined, with bodies),
// WebSocket (wsflow and ws clients), raw TCP with the first bytes given back, silent clients
// (raw or closed after the stated timeout), a FIN before the decision, TLS sniffed first, and
// shutdown.
import { request as httpRequest } from 'node:http'
import { connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket } from 'ws'
import { connect, type CloseInfo } from '../../src/index.ts'
import { serveOnePort, type OnePortOptions, type OnePortServer, type RawConnectionInfo } from '../../src/server/sniff.ts'
import { makeCertificate } from '../helpers/tls.ts'
import { within } from '../helpers/timing.ts'

/** A one-port server whose raw handler echoes after a greeting for silent clients, recording each raw connection. */
async function start(options: Partial<OnePortOptions> = {}): Promise<{ server: OnePortServer; raws: RawConnectionInfo[] }> {
  const raws: RawConnectionInfo[] = []
  const server = await serveOnePort({
    host: '127.0.0.1', port: 0,
    onRequest: (request, response) => {
      let length = 0
      request.on('data', (chunk: Buffer) => (length += chunk.length))
      request.on('end', () => response.end(`${request.method} ${request.url} ${length}`))
    },
    onRaw: (stream: Duplex, info) => {
      raws.push(info)
      if (info.silent) stream.write('220 the server speaks first\r\n')
      stream.pipe(stream)
    },
    ...options,
  }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  return { server, raws }
}

/** Writes `data` (then FIN when `end`) on a raw socket and collects everything until the peer ends. */
function exchange(socket: Socket | ReturnType<typeof tlsConnect>, data: string, options: { end?: boolean; until?: string } = {}): Promise<string> {
  return within(new Promise((resolve, reject) => {
    let got = ''
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString()
      if (options.until !== undefined && got.includes(options.until)) {
        socket.destroy()
        resolve(got)
      }
    })
    socket.on('end', () => resolve(got))
    socket.on('error', reject)
    if (data !== '') socket.write(data)
    if (options.end === true) socket.end()
  }), 10_000, `exchange ${JSON.stringify(data)}`)
}

const tcp = (server: OnePortServer): Socket => netConnect(server.port, '127.0.0.1')

test('HTTP: two pipelined requests in one write, and a 1 MiB request body', async () => {
  const { server, raws } = await start()
  try {
    const both = await exchange(tcp(server), 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.match(both, /HTTP\/1\.1 200 OK[\s\S]*GET \/a 0[\s\S]*HTTP\/1\.1 200 OK[\s\S]*GET \/b 0/)
    const body = Buffer.alloc(1024 * 1024, 7)
    const answer = await within(new Promise<string>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/upload' }, (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => (text += chunk.toString()))
        response.on('end', () => resolve(text))
      })
      request.on('error', reject)
      request.end(body)
    }), 10_000, 'POST')
    assert.is(answer, `POST /upload ${body.length}`)
    assert.is(raws.length, 0)
  } finally {
    await server.close()
  }
})

test('WebSocket on the same port: a wsflow client and a ws client', async () => {
  const { server } = await start({ perMessageDeflate: true })
  try {
    const ws = await connect(`ws://127.0.0.1:${server.port}/`)
    assert.is(ws.extensions[0]?.name, 'permessage-deflate')
    await ws.send('wsflow here '.repeat(200))
    assert.is((await ws.recv({ timeout: 5000 })).text(), 'wsflow here '.repeat(200))
    assert.is((await ws.close()).code, 1000)
    const other = new WsSocket(`ws://127.0.0.1:${server.port}/`)
    const echoed = await within(new Promise<string>((resolve, reject) => {
      other.once('open', () => other.send('ws here'))
      other.once('message', (data) => resolve(String(data)))
      other.once('error', reject)
    }), 5000, 'ws echo')
    assert.is(echoed, 'ws here')
    other.close()
  } finally {
    await server.close()
  }
})

test('raw TCP: the bytes read to decide are given back first; the raw handler sees FIN as usual', async () => {
  const { server, raws } = await start()
  try {
    assert.is(await exchange(tcp(server), 'GET key\r\nSET key value\r\n', { end: true }), 'GET key\r\nSET key value\r\n')
    assert.is(await exchange(tcp(server), '\x00\x01binary', { end: true }), '\x00\x01binary')
    assert.equal(raws.map((r) => [r.secure, r.silent]), [[false, false], [false, false]])
    assert.is(raws[0]!.remoteAddress, '127.0.0.1')
  } finally {
    await server.close()
  }
})

test('a FIN before the bytes decide: the raw handler still gets them (and the end)', async () => {
  const { server, raws } = await start()
  try {
    // "GE" could become "GET ": the FIN decides it is raw.
    assert.is(await exchange(tcp(server), 'GE', { end: true }), 'GE')
    assert.is(raws.length, 1)
  } finally {
    await server.close()
  }
})

test('a silent client is handed to the raw handler after firstBytesTimeout (the server speaks first), or closed', async () => {
  const speaking = await start({ firstBytesTimeout: 100 })
  const closing = await start({ firstBytesTimeout: 100, onSilence: 'close' })
  try {
    const greeting = await exchange(tcp(speaking.server), '', { until: '\r\n' })
    assert.is(greeting, '220 the server speaks first\r\n')
    assert.is(speaking.raws[0]?.silent, true)
    assert.is(await exchange(tcp(closing.server), ''), '', 'closed with nothing said')
    assert.is(closing.raws.length, 0)
  } finally {
    await speaking.server.close()
    await closing.server.close()
  }
})

test('TLS sniffed first: wss://, https and raw inside TLS, and plain raw beside them; requireTls closes plain ones', async () => {
  const certificate = await makeCertificate()
  if (certificate === undefined) {
    console.log('  (skipped: openssl is not installed)')
    return
  }
  const { server, raws } = await start({ key: certificate.key, cert: certificate.cert })
  const strict = await start({ key: certificate.key, cert: certificate.cert, requireTls: true })
  try {
    const ws = await connect(`wss://127.0.0.1:${server.port}/`, { ca: certificate.cert })
    await ws.send('secure')
    assert.is((await ws.recv({ timeout: 5000 })).text(), 'secure')
    await ws.close()
    const secureRaw = tlsConnect({ host: '127.0.0.1', port: server.port, ca: certificate.cert, servername: 'localhost' })
    assert.is(await exchange(secureRaw, 'raw over tls', { until: 'tls' }), 'raw over tls')
    const https = tlsConnect({ host: '127.0.0.1', port: server.port, ca: certificate.cert, servername: 'localhost' })
    assert.match(await exchange(https, 'GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /200 OK[\s\S]*GET \/s 0/)
    assert.is(await exchange(tcp(server), 'plain', { end: true }), 'plain')
    assert.equal(raws.map((r) => r.secure), [true, false])
    assert.is(await exchange(tcp(strict.server), 'plain', { end: true }), '')
    assert.is(strict.raws.length, 0)
  } finally {
    await server.close()
    await strict.server.close()
    await certificate.dispose()
  }
})

test('close(): WebSocket clients get 1001, raw connections are ended', async () => {
  const { server } = await start()
  const ws = await connect(`ws://127.0.0.1:${server.port}/`)
  const raw = tcp(server)
  const rawDone = exchange(raw, 'hello', { until: 'never' }).catch(() => 'closed')
  await within(new Promise((resolve) => raw.once('data', resolve)), 5000, 'the raw echo')
  await server.close({ timeout: 1000 })
  const info: CloseInfo = await within(ws.closed, 5000, 'ws closed')
  assert.is(info.code, 1001)
  assert.is(await rawDone, 'hello', 'the raw connection ended by the server (FIN), after its echo')
})

test.run()
