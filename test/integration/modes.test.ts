// Server modes (attached to an existing http server, noServer with handleUpgrade) and the client's
// HTTP proxy (CONNECT).
import { createServer as createHttpServer, get as httpGet, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, HandshakeError, Server, serve, type WebSocket } from '../../src/index.ts'
import { stop, stopHttp } from '../helpers/servers.ts'
import { rejection, within } from '../helpers/timing.ts'

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return (http.address() as AddressInfo).port
}

async function echo(ws: WebSocket): Promise<void> {
  for await (const message of ws) await ws.send(message)
}

async function roundTrip(url: string, text: string, options = {}): Promise<string> {
  const ws = await connect(url, options)
  try {
    await ws.send(text)
    const reply = await within(ws[Symbol.asyncIterator]().next(), 3000, 'echo')
    assert.not.ok(reply.done)
    return reply.done ? '' : reply.value.text()
  } finally {
    await ws.close()
  }
}

function getStatus(port: number, path: string): Promise<{ status: number; body: string }> {
  return within(new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path }, (response: IncomingMessage) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    }).on('error', reject)
  }), 3000, 'http get')
}

test('attached to an existing http server: plain requests pass through, upgrades are routed by path', async () => {
  const http = createHttpServer((_request, response) => response.end('hello from http'))
  const port = await listen(http)
  const chat = await serve({ server: http, path: '/chat' }, echo)
  const feed = await serve({ server: http, path: '/feed' }, async (ws) => {
    await ws.send('feed item')
  })
  try {
    assert.equal(await getStatus(port, '/'), { status: 200, body: 'hello from http' })
    assert.is(await roundTrip(`ws://127.0.0.1:${port}/chat`, 'to chat'), 'to chat')
    const ws = await connect(`ws://127.0.0.1:${port}/feed`)
    const first = await within(ws[Symbol.asyncIterator]().next(), 3000, 'feed')
    assert.is(first.done ? '' : first.value.text(), 'feed item')
    await ws.closed
  } finally {
    await stop(chat)
    await stop(feed)
    await stopHttp(http)
  }
})

test('attached: an upgrade on a path no server claims gets 404', async () => {
  const http = createHttpServer((_request, response) => response.end('x'))
  const port = await listen(http)
  const only = await serve({ server: http, path: '/only' }, echo)
  try {
    const error = await rejection(connect(`ws://127.0.0.1:${port}/elsewhere`), 3000, 'wrong path')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 404)
  } finally {
    await stop(only)
    await stopHttp(http)
  }
})

test('attached: with two servers on one http server, an upgrade on a path neither claims gets one 404', async () => {
  const http = createHttpServer((_request, response) => response.end('x'))
  const port = await listen(http)
  const a = await serve({ server: http, path: '/a' }, echo)
  const b = await serve({ server: http, path: '/b' }, echo)
  try {
    const error = await rejection(connect(`ws://127.0.0.1:${port}/c`, { handshakeTimeout: 2000 }), 3000, 'unclaimed path')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 404)
    assert.is(await roundTrip(`ws://127.0.0.1:${port}/b`, 'to b'), 'to b')
    assert.is(await roundTrip(`ws://127.0.0.1:${port}/a`, 'to a'), 'to a')
  } finally {
    await stop(a)
    await stop(b)
    await stopHttp(http)
  }
})

test('noServer: the application hands upgrades to handleUpgrade', async () => {
  const wss = new Server({ noServer: true }, echo)
  const http = createHttpServer((_request, response) => response.end('x'))
  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (request.headers['x-token'] === 'let-me-in') wss.handleUpgrade(request, socket, head)
    else socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
  const port = await listen(http)
  try {
    assert.is(await roundTrip(`ws://127.0.0.1:${port}/`, 'via handleUpgrade', { headers: { 'x-token': 'let-me-in' } }), 'via handleUpgrade')
    const error = await rejection(connect(`ws://127.0.0.1:${port}/`), 3000, 'no token')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 401)
    assert.is(wss.httpServer, undefined)
  } finally {
    await stop(wss)
    await stopHttp(http)
  }
})

/** A minimal HTTP proxy that tunnels CONNECT to 127.0.0.1 only; `refuse` answers 403 instead. */
async function startProxy(refuse = false): Promise<{ http: HttpServer; port: number; tunnels: string[] }> {
  const tunnels: string[] = []
  const http = createHttpServer((_request, response) => response.writeHead(405).end())
  http.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '')
    client.on('error', () => undefined)
    const [host, port] = (request.url ?? '').split(':')
    if (refuse || host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = netConnect({ host: '127.0.0.1', port: Number(port) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  const port = await listen(http)
  return { http, port, tunnels }
}

test('proxy: connect tunnels through an HTTP proxy with CONNECT', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, echo)
  const proxy = await startProxy()
  try {
    assert.is(await roundTrip(server.url, 'through the proxy', { proxy: `http://127.0.0.1:${proxy.port}` }), 'through the proxy')
    assert.equal(proxy.tunnels, [`127.0.0.1:${server.port}`])
  } finally {
    await stop(server)
    await stopHttp(proxy.http)
  }
})

test('proxy: a refused tunnel is a HandshakeError with the proxy\'s status', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, echo)
  const proxy = await startProxy(true)
  try {
    const error = await rejection(connect(server.url, { proxy: `http://127.0.0.1:${proxy.port}` }), 3000, 'refused tunnel')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 403)
  } finally {
    await stop(server)
    await stopHttp(proxy.http)
  }
})

test.run()
