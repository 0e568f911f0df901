/**
 * What a connection keeps and lets go of over its life, seen from outside: the server forgets a
 * client that nobody asked `closed` of, `request` outlives the socket, a reader waiting when the
 * connection ends is done for good, the socket is ended once, and a close handshake's deadline
 * leaves the shared timer wheel when the handshake completes.
 */
import { Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, connect, serve, type WebSocket } from '../../src/index.ts'
import { rejection, waitFor, within } from '../helpers/timing.ts'
import { sharedWheel } from '../../src/internal/timer-wheel.ts'

test('the server forgets connections whose closed promise nobody read', async () => {
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(server.url)))
    await waitFor(() => server.clients.size === 5, 2000, 'five clients accepted')
    for (const client of clients) await client.close()
    await waitFor(() => server.clients.size === 0, 2000, 'every client forgotten')
  } finally {
    await server.close({ timeout: 100 })
  }
})

test('request keeps its url, address and headers (made on first read) after the connection closed', async () => {
  let seen: WebSocket | undefined
  const server = await serve({ port: 0, host: '127.0.0.1' }, (ws) => {
    seen = ws
  })
  try {
    const client = await connect(`${server.url}/room?id=7`, { headers: { 'x-trace': 'abc', 'X-Multi': 'one' } })
    await within(client.closed, 2000, 'the handler returned and the server closed')
    await waitFor(() => seen?.readyState === 'closed', 2000, 'the server side closed')
    const request = seen!.request!
    assert.is(request.url, '/room?id=7')
    assert.is(request.remoteAddress, '127.0.0.1')
    assert.type(request.remotePort, 'number')
    assert.is(request.headers['x-trace'], 'abc')
    assert.is(request.headers['x-multi'], 'one')
    assert.is(request.headers, request.headers, 'the record is made once')
    const json = JSON.parse(JSON.stringify(request)) as { url: string; headers: Record<string, string> }
    assert.is(json.url, '/room?id=7')
    assert.is(json.headers['x-trace'], 'abc')
  } finally {
    await server.close({ timeout: 100 })
  }
})

test('a reader waiting when the connection breaks gets the error once, then done', async () => {
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    await new Promise((resolve) => setTimeout(resolve, 50))
    ws.terminate()
  })
  try {
    const client = await connect(server.url)
    const iterator = client[Symbol.asyncIterator]()
    const error = await rejection(iterator.next(), 2000, 'the waiting read')
    assert.instance(error, ConnectionClosedError)
    assert.equal(await iterator.next(), { value: undefined, done: true })
    assert.equal(await client.closed, { code: 1006, reason: '', wasClean: false })
  } finally {
    await server.close({ timeout: 100 })
  }
})

test('the server ends its socket once, even when the peer ends its side after the close handshake', async () => {
  let ends = 0
  const end = Socket.prototype.end
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const client = await connect(server.url)
    await waitFor(() => server.clients.size === 1, 2000, 'accepted')
    const [serverSide] = [...server.clients]
    Socket.prototype.end = function (this: Socket, ...args: unknown[]) {
      if (this.localPort === server.port) ends++
      return (end as (...a: unknown[]) => Socket).apply(this, args)
    } as typeof Socket.prototype.end
    assert.equal(await client.close(), { code: 1000, reason: '', wasClean: true })
    await within(serverSide!.closed, 2000, 'the server side closed')
    assert.is(ends, 1, 'socket.end() on the server side')
  } finally {
    Socket.prototype.end = end
    await server.close({ timeout: 100 })
  }
})

test('a handler returning a thenable that is not a native Promise is waited for, as await would', async () => {
  const errors: unknown[] = []
  let release: (() => void) | undefined
  const server = await serve({ port: 0, host: '127.0.0.1', onError: (error) => errors.push(error) }, (ws) => {
    const fail = new URL(ws.request!.url, 'http://x').searchParams.has('fail')
    // A minimal thenable, as some promise libraries return.
    return {
      then(resolve: () => void, reject: (error: unknown) => void) {
        release = fail ? () => reject(new Error('handler failed')) : resolve
      },
    }
  })
  try {
    const client = await connect(server.url)
    await waitFor(() => release !== undefined, 2000, 'the handler ran')
    await client.send('still open')
    assert.is(client.readyState, 'open', 'open while the thenable is pending')
    release!()
    assert.equal(await within(client.closed, 2000, 'closed after the thenable settled'), { code: 1000, reason: '', wasClean: true })
    release = undefined
    const failing = await connect(`${server.url}/?fail`)
    await waitFor(() => release !== undefined, 2000, 'the failing handler ran')
    release!()
    const info = await within(failing.closed, 2000, 'closed after the thenable rejected')
    assert.is(info.code, 1011)
    assert.is((errors[0] as Error).message, 'handler failed')
  } finally {
    await server.close({ timeout: 100 })
  }
})

test('a close deadline is on the shared wheel while the close handshake runs, and off it once it completes', async () => {
  const wheel = sharedWheel(4000) // closeTimeout 4000 on both sides: without a cancel, the deadlines would stay 4 s
  const before = wheel.size
  const server = await serve({ port: 0, host: '127.0.0.1', closeTimeout: 4000 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(server.url, { closeTimeout: 4000 })))
    await waitFor(() => server.clients.size === 10, 2000, 'ten clients accepted')
    const closing = clients.map((client) => client.close())
    assert.ok(wheel.size >= before + 10, `${wheel.size - before} deadlines while closing`)
    await within(Promise.all(closing), 3000, 'the close handshakes')
    await waitFor(() => server.clients.size === 0 && wheel.size === before, 2000, 'every deadline cancelled')
    assert.ok(clients.every((client) => client.readyState === 'closed'))
  } finally {
    await server.close({ timeout: 100 })
  }
})

test.run()
