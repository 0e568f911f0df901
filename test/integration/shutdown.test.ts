/**
 * The server's side of closing: server.close() says 1001 (or a chosen code) to every client, waits
 * for them up to its timeout and stops accepting; a failing handler costs only its own connection.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, HandshakeError, connect, serve, type WebSocket } from '../../src/index.ts'
import { openWsClient, wsPeer } from '../helpers/peers.ts'
import { rawConnect, socketClosed } from '../helpers/raw.ts'
import { rejection, sleep, within } from '../helpers/timing.ts'

function assertClosedError(error: unknown, closeCode: number, label: string): void {
  assert.instance(error, ConnectionClosedError, `${label}: expected ConnectionClosedError, got ${String(error)}`)
  assert.is((error as ConnectionClosedError).closeCode, closeCode, `${label}: closeCode`)
}

test('server.close() sends 1001 to every client, waits for them, and stops accepting', async () => {
  const handlerEnds: string[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
    handlerEnds.push('ended')
  })
  const url = `ws://127.0.0.1:${server.port}/`
  const a = await connect(url)
  const b = await connect(url)
  const c = wsPeer(await openWsClient(url, undefined), 'client')
  try {
    for (const ws of [a, b]) {
      await ws.send('hi')
      const echoed = await within(ws[Symbol.asyncIterator]().next(), 2000, 'echo')
      assert.is(echoed.value?.text(), 'hi')
    }
    assert.is(server.clients.size, 3)
    const loops = [a, b].map(async (ws) => {
      for await (const message of ws) void message
      return 'ended'
    })
    await within(server.close(), 5000, 'server.close()')
    assert.ok(a.readyState === 'closed' && b.readyState === 'closed', 'server.close() resolved before its clients were closed')
    for (const ws of [a, b]) assert.equal(await within(ws.closed, 100, 'closed'), { code: 1001, reason: 'server shutting down', wasClean: true })
    assert.equal(await within(c.closed, 2000, 'ws client closed'), { code: 1001, reason: 'server shutting down', wasClean: true })
    assert.equal(await within(Promise.all(loops), 1000, 'client loops'), ['ended', 'ended'], 'for await ends normally on 1001')
    assert.is(server.clients.size, 0)
    for (let i = 0; i < 50 && handlerEnds.length < 3; i++) await sleep(10)
    assert.equal(handlerEnds, ['ended', 'ended', 'ended'])
    const refused = await rejection(connect(url, { handshakeTimeout: 2000 }), 3000, 'connect after close')
    assert.ok(refused instanceof Error, 'a connection after close must fail')
  } finally {
    a.terminate()
    b.terminate()
    c.terminate()
  }
})

test('server.close({ code, reason }) with a code other than 1000/1001: the clients\' iterators throw it', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    await ws.closed
  })
  const ws = await connect(`ws://127.0.0.1:${server.port}/`)
  try {
    const next = rejection(ws[Symbol.asyncIterator]().next(), 3000, 'iterator')
    await within(server.close({ code: 1012, reason: 'restarting' }), 3000, 'server.close')
    assert.equal(await within(ws.closed, 1000, 'closed'), { code: 1012, reason: 'restarting', wasClean: true })
    assertClosedError(await next, 1012, 'client')
  } finally {
    ws.terminate()
  }
})

test('server.close({ timeout }) cuts off a client that never answers the close', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    await ws.closed
  })
  const client = await rawConnect({ port: server.port }, '/')
  try {
    await sleep(20)
    const started = Date.now()
    await within(server.close({ timeout: 300 }), 3000, 'server.close')
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250, `did not wait for the client: ${elapsed} ms`)
    const close = await client.reader.nextClose()
    assert.is(close.code, 1001)
    await socketClosed(client.socket, 2000)
  } finally {
    await client.destroy()
  }
})

test('a handler that throws: its client sees 1011, onError gets the error and the connection, others are unaffected', async () => {
  const reported: [unknown, WebSocket | undefined][] = []
  const server = await serve({ host: '127.0.0.1', port: 0, onError: (error, ws) => reported.push([error, ws]) }, async (ws) => {
    for await (const message of ws) {
      if (message.text() === 'boom') throw new Error('handler bug')
      await ws.send(message)
    }
  })
  const url = `ws://127.0.0.1:${server.port}/`
  const victim = await connect(url)
  const bystander = await connect(url)
  try {
    await victim.send('boom')
    const info = await within(victim.closed, 3000, 'victim closed')
    assert.equal([info.code, info.wasClean], [1011, true])
    for (let i = 0; i < 50 && reported.length === 0; i++) await sleep(10)
    assert.is(reported.length, 1)
    assert.is((reported[0]![0] as Error).message, 'handler bug')
    assert.ok(reported[0]![1] !== undefined, 'onError gets the connection')
    await bystander.send('fine')
    const echoed = await within(bystander[Symbol.asyncIterator]().next(), 2000, 'echo')
    assert.is(echoed.value?.text(), 'fine')
  } finally {
    victim.terminate()
    bystander.terminate()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('a server without a handler: iterating it yields connections and ends when it closes', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 })
  const accepted: WebSocket[] = []
  const loop = (async () => {
    for await (const ws of server) accepted.push(ws)
    return 'ended'
  })()
  const a = await connect(`ws://127.0.0.1:${server.port}/`)
  const b = await connect(`ws://127.0.0.1:${server.port}/`)
  try {
    for (let i = 0; i < 50 && accepted.length < 2; i++) await sleep(10)
    assert.is(accepted.length, 2)
    await within(server.close(), 3000, 'server close')
    assert.is(await within(loop, 1000, 'server iteration ends'), 'ended')
    assert.is((await within(a.closed, 1000, 'a closed')).code, 1001)
    assert.is((await within(b.closed, 1000, 'b closed')).code, 1001)
  } finally {
    a.terminate()
    b.terminate()
  }
})

test('server.close() during a pending async verify: the late connection is refused or closed, close() resolves', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, verify: () => sleep(300).then(() => true) }, async (ws) => {
    await ws.closed
  })
  let client: WebSocket | undefined
  const connecting = connect(`ws://127.0.0.1:${server.port}/`).then((ws) => {
    client = ws
    return ws
  }, (error: unknown) => error)
  try {
    await sleep(50) // the handshake is now waiting for verify
    const closing = server.close({ timeout: 500 })
    const settled = await within(connecting, 3000, 'connect settles')
    if (settled instanceof Error) {
      assert.instance(settled, HandshakeError, String(settled))
    } else {
      const info = await within((settled as WebSocket).closed, 2000, 'the late connection is closed')
      assert.is(info.code, 1001)
    }
    await within(closing, 2000, 'server.close() resolves')
    assert.is(server.clients.size, 0)
  } finally {
    client?.terminate()
    await within(server.close({ timeout: 100 }), 3000, 'server close').catch(() => undefined)
  }
})

test('server.close() called twice: the second call also waits for the shutdown', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    await ws.closed
  })
  const client = await rawConnect({ port: server.port }, '/') // never answers the close
  try {
    await sleep(20)
    const first = server.close({ timeout: 400 })
    const second = server.close({ timeout: 400 })
    const started = Date.now()
    await within(second, 3000, 'second close')
    assert.ok(Date.now() - started >= 300, `the second close() resolved after ${Date.now() - started} ms, before the shutdown`)
    await within(first, 3000, 'first close')
  } finally {
    await client.destroy()
  }
})

test.run()
