/**
 * Every close path of a connection: either side first (1000, 4xxx, no code), a peer that never
 * answers a close, TCP dropped mid-frame, a FIN without a close frame, terminate, send/ping after
 * close. The server's shutdown (server.close()) is in shutdown.test.ts.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, InvalidArgumentError, connect, serve, type WebSocket } from '../../src/index.ts'
import { PAIRS, directions, withPair, type PeerEnd, type Received } from '../helpers/peers.ts'
import { closePayload, encodeRawFrame, rawConnect, rawServe, socketClosed } from '../helpers/raw.ts'
import { rejection, sleep, within } from '../helpers/timing.ts'

const text = (r: Received | PeerEnd): string => ('end' in r ? `<end ${String(r.error)}>` : new TextDecoder().decode(r.data))

function assertClosedError(error: unknown, closeCode: number, label: string): void {
  assert.instance(error, ConnectionClosedError, `${label}: expected ConnectionClosedError, got ${String(error)}`)
  assert.is((error as ConnectionClosedError).closeCode, closeCode, `${label}: closeCode`)
  assert.is((error as ConnectionClosedError).code, 'WS_ERR_CONNECTION_CLOSED', label)
}

for (const kind of PAIRS) {
  test(`[${kind.name}] either side closes first with 1000 and a reason: clean on both sides, iteration ends normally`, async () => {
    for (const first of ['client', 'server'] as const) {
      await withPair(kind, {}, async (pair) => {
        const [closer, other] = first === 'client' ? [pair.client, pair.server] : [pair.server, pair.client]
        const label = `${closer.impl} ${first} closes first`
        await closer.send('last words')
        closer.close(1000, 'bye ✓ 😀')
        const [a, b] = await within(Promise.all([closer.closed, other.closed]), 3000, 'both closed')
        assert.is(b.code, 1000, `${label}: receiver code`)
        assert.is(b.reason, 'bye ✓ 😀', `${label}: receiver reason`)
        assert.is(b.wasClean, true, `${label}: receiver wasClean`)
        assert.is(a.code, 1000, `${label}: closer code (the echo)`)
        assert.is(a.wasClean, true, `${label}: closer wasClean`)
        // The receiver still gets what was sent before the close, then a normal end.
        assert.is(text(await other.receiveOrEnd()), 'last words', label)
        assert.equal(await other.receiveOrEnd(), { end: true, error: undefined }, `${label}: receiver ends normally`)
        assert.equal(await closer.receiveOrEnd(), { end: true, error: undefined }, `${label}: closer ends normally`)
      })
    }
  })

  test(`[${kind.name}] a 4xxx close code reaches the other side; its wsflow iterator throws, the closer's ends`, async () => {
    for (const first of ['client', 'server'] as const) {
      await withPair(kind, {}, async (pair) => {
        const [closer, other] = first === 'client' ? [pair.client, pair.server] : [pair.server, pair.client]
        const label = `${closer.impl} ${first} closes with 4321`
        closer.close(4321, 'custom reason')
        const [a, b] = await within(Promise.all([closer.closed, other.closed]), 3000, 'both closed')
        assert.equal(b, { code: 4321, reason: 'custom reason', wasClean: true }, `${label}: receiver`)
        assert.is(a.code, 4321, `${label}: closer`)
        assert.is(a.wasClean, true, `${label}: closer`)
        const end = await other.receiveOrEnd()
        assert.ok('end' in end, label)
        if (other.impl === 'wsflow') {
          assertClosedError((end as PeerEnd).error, 4321, label)
          assert.is(((end as PeerEnd).error as ConnectionClosedError).wasClean, true, label)
        }
        if (closer.impl === 'wsflow') assert.equal(await closer.receiveOrEnd(), { end: true, error: undefined }, `${label}: closer ends normally`)
      })
    }
  })

  test(`[${kind.name}] messages sent before a close all arrive before the end`, async () => {
    await withPair(kind, {}, async (pair) => {
      const [from, to, label] = directions(pair)[pair.client.impl === 'wsflow' ? 0 : 1]!
      for (let i = 0; i < 50; i++) void from.send(`m${i}`)
      from.close(1000)
      for (let i = 0; i < 50; i++) assert.is(text(await to.receiveOrEnd()), `m${i}`, label)
      assert.equal(await to.receiveOrEnd(), { end: true, error: undefined }, label)
    })
  })

  test(`[${kind.name}] terminate(): the other side sees 1006, not clean, and its wsflow iterator throws`, async () => {
    for (const first of ['client', 'server'] as const) {
      await withPair(kind, {}, async (pair) => {
        const [killer, other] = first === 'client' ? [pair.client, pair.server] : [pair.server, pair.client]
        const label = `${killer.impl} ${first} terminates`
        killer.terminate()
        const info = await within(other.closed, 3000, 'other closed')
        assert.equal(info.code, 1006, label)
        assert.is(info.wasClean, false, label)
        const end = await other.receiveOrEnd()
        assert.ok('end' in end, label)
        if (other.impl === 'wsflow') assertClosedError((end as PeerEnd).error, 1006, label)
      })
    }
  })
}

test('[ws client ↔ wsflow server] ws close() without a code: wsflow sees 1005 and ends normally', async () => {
  const kind = PAIRS.find((k) => k.client === 'ws')!
  await withPair(kind, {}, async (pair) => {
    pair.client.close()
    const info = await within(pair.server.closed, 3000, 'server closed')
    assert.equal(info, { code: 1005, reason: '', wasClean: true })
    assert.equal(await pair.server.receiveOrEnd(), { end: true, error: undefined })
    const clientInfo = await within(pair.client.closed, 3000, 'client closed')
    assert.is(clientInfo.code, 1005)
  })
})

test('wsflow: a literal for-await loop ends without throwing on a 1000 close from the peer, both sides', async () => {
  const kind = PAIRS[0]!
  for (const closer of ['client', 'server'] as const) {
    await withPair(kind, {}, async (pair) => {
      const reader = closer === 'client' ? pair.server.wsflow! : pair.client.wsflow!
      const seen: string[] = []
      const loop = (async () => {
        for await (const message of reader) seen.push(message.text())
        return 'ended'
      })()
      const writer = closer === 'client' ? pair.client : pair.server
      await writer.send('one')
      await writer.send('two')
      writer.close(1000, 'done')
      assert.is(await within(loop, 3000, 'for await ends'), 'ended')
      assert.equal(seen, ['one', 'two'])
    })
  }
})

test('wsflow: send, ping and pong after close reject (or throw) with ConnectionClosedError, on both sides', async () => {
  const kind = PAIRS[0]!
  await withPair(kind, {}, async (pair) => {
    const client = pair.client.wsflow!
    const server = pair.server.wsflow!
    const closing = client.close(1000)
    assert.is(client.readyState, 'closing')
    assertClosedError(await rejection(client.send('x'), 1000, 'send while closing'), 1000, 'client send while closing')
    await within(closing, 3000, 'client closed')
    await within(server.closed, 3000, 'server closed')
    for (const [ws, label] of [[client, 'client'], [server, 'server']] as const) {
      assert.is(ws.readyState, 'closed', label)
      const error = await rejection(ws.send('late'), 1000, 'send after close')
      assert.instance(error, ConnectionClosedError, `${label}: send`)
      assert.instance(await rejection(ws.send(new Uint8Array(3)), 1000, 'send after close'), ConnectionClosedError, `${label}: send bytes`)
      assert.instance(await rejection(ws.ping(), 1000, 'ping after close'), ConnectionClosedError, `${label}: ping`)
      assert.throws(() => ws.pong(), (e: unknown) => e instanceof ConnectionClosedError, `${label}: pong`)
      // close() again just returns how it ended
      assert.equal(await within(ws.close(4000), 1000, 'close again'), await ws.closed, label)
    }
  })
})

test('wsflow: close() rejects (never throws) codes and reasons that may not be sent, and the connection stays open', async () => {
  const kind = PAIRS[0]!
  await withPair(kind, {}, async (pair) => {
    const ws = pair.client.wsflow!
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
      let result: Promise<unknown> | undefined
      assert.not.throws(() => (result = ws.close(code)), `code ${code}: no synchronous throw`)
      assert.instance(await rejection(result!, 1000, `code ${code}`), InvalidArgumentError)
    }
    assert.instance(await rejection(ws.close(1000, 'x'.repeat(124)), 1000, 'reason of 124 bytes'), InvalidArgumentError)
    assert.is(ws.readyState, 'open')
    await ws.send('still open')
    assert.is(text(await pair.server.receiveOrEnd()), 'still open')
    const reason = '€'.repeat(41) // 123 bytes: the largest reason
    void ws.close(1000, reason)
    assert.equal(await within(pair.server.closed, 3000, 'closed'), { code: 1000, reason, wasClean: true })
  })
})

test('wsflow client: a peer that never answers the close → closed after closeTimeout with 1006, not clean', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`, { closeTimeout: 300 })
    const peer = await raw.accepted()
    const next = rejection(ws[Symbol.asyncIterator]().next(), 3000, 'iterator')
    const started = Date.now()
    const info = await within(ws.close(1000, 'bye'), 3000, 'close gives up')
    const elapsed = Date.now() - started
    assert.equal(info, { code: 1006, reason: '', wasClean: false })
    assert.ok(elapsed >= 250, `gave up too early: ${elapsed} ms`)
    const close = await peer.reader.nextClose()
    assert.equal([close.code, close.reason, close.masked], [1000, 'bye', true], 'the raw peer got our close frame')
    await socketClosed(peer.socket)
    assertClosedError(await next, 1006, 'client iterator')
  } finally {
    await raw.close()
  }
})

test('wsflow server: a client that never answers the close → closed after closeTimeout with 1006, not clean', async () => {
  let serverSide: WebSocket | undefined
  const server = await serve({ host: '127.0.0.1', port: 0, closeTimeout: 300 }, async (ws) => {
    serverSide = ws
    await ws.close(4000, 'go away')
  })
  try {
    const client = await rawConnect({ port: server.port }, '/')
    try {
      const close = await client.reader.nextClose()
      assert.equal([close.code, close.reason, close.masked], [4000, 'go away', false])
      await socketClosed(client.socket, 3000)
      assert.ok(serverSide !== undefined)
      assert.equal(await within(serverSide.closed, 1000, 'server side closed'), { code: 1006, reason: '', wasClean: false })
    } finally {
      await client.destroy()
    }
  } finally {
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow client: TCP dropped mid-frame → the iterator throws ConnectionClosedError 1006', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    const whole = encodeRawFrame({ opcode: 0x2, payload: new Uint8Array(100).fill(9) })
    peer.send({ opcode: 0x1, payload: new TextEncoder().encode('first') })
    peer.socket.write(whole.subarray(0, 2 + 50)) // header + half the payload
    await sleep(50)
    peer.socket.destroy()
    const seen: string[] = []
    let caught: unknown
    try {
      for await (const message of ws) seen.push(message.text())
    } catch (error) {
      caught = error
    }
    assert.equal(seen, ['first'])
    assertClosedError(caught, 1006, 'client')
    assert.is((caught as ConnectionClosedError).wasClean, false)
    assert.equal(await within(ws.closed, 1000, 'closed'), { code: 1006, reason: '', wasClean: false })
  } finally {
    await raw.close()
  }
})

test('wsflow server: TCP dropped mid-frame → the handler iterator throws ConnectionClosedError 1006, the server lives on', async () => {
  const outcomes: unknown[] = []
  const errors: unknown[] = []
  const server = await serve({ host: '127.0.0.1', port: 0, onError: (error) => errors.push(error) }, async (ws) => {
    try {
      for await (const message of ws) await ws.send(message)
      outcomes.push('ended')
    } catch (error) {
      outcomes.push(error)
      throw error
    }
  })
  try {
    const client = await rawConnect({ port: server.port }, '/')
    const frame = encodeRawFrame({ opcode: 0x2, payload: new Uint8Array(1000), mask: true })
    client.socket.write(frame.subarray(0, 500))
    await sleep(50)
    await client.destroy()
    for (let i = 0; i < 100 && outcomes.length === 0; i++) await sleep(10)
    assert.is(outcomes.length, 1)
    assertClosedError(outcomes[0], 1006, 'server handler')
    // the error went to onError, not into the process; the server still serves
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(10)
    assert.is(errors.length, 1)
    const ws = await connect(`ws://127.0.0.1:${server.port}/`)
    await ws.send('alive')
    const iterator = ws[Symbol.asyncIterator]()
    const echoed = await within(iterator.next(), 2000, 'echo')
    assert.is(echoed.value?.text(), 'alive')
    await within(ws.close(), 2000, 'close')
  } finally {
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow client: a FIN without a close frame → 1006 and the iterator throws', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    peer.socket.end()
    const error = await rejection(ws[Symbol.asyncIterator]().next(), 2000, 'iterator')
    assertClosedError(error, 1006, 'client')
    assert.equal(await within(ws.closed, 1000, 'closed'), { code: 1006, reason: '', wasClean: false })
  } finally {
    await raw.close()
  }
})

test('wsflow: a pending ping is rejected when the connection closes before its pong', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    const ping = ws.ping('never answered')
    const frame = await peer.reader.next()
    assert.equal([frame.opcode, new TextDecoder().decode(frame.payload)], [0x9, 'never answered'])
    peer.socket.destroy()
    assert.instance(await rejection(ping, 2000, 'ping'), ConnectionClosedError)
  } finally {
    await raw.close()
  }
})

test('wsflow: a close frame answered by a raw peer completes a clean close with its code', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    peer.send({ opcode: 0x8, payload: closePayload(4100, 'raw says bye') })
    const echo = await peer.reader.nextClose()
    assert.equal([echo.code, echo.masked], [4100, true], 'the client echoes the code, masked')
    peer.socket.end() // the server closes TCP first (RFC 6455 §7.1.1)
    assert.equal(await within(ws.closed, 2000, 'closed'), { code: 4100, reason: 'raw says bye', wasClean: true })
  } finally {
    await raw.close()
  }
})

test('wsflow client: a server that answers the close but keeps TCP open is cut after closeTimeout; still clean', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`, { closeTimeout: 300 })
    const peer = await raw.accepted()
    const closing = ws.close(1000, 'bye')
    const close = await peer.reader.nextClose()
    peer.send({ opcode: 0x8, payload: closePayload(close.code) }) // echo, but never end TCP
    const started = Date.now()
    assert.equal(await within(closing, 3000, 'closed'), { code: 1000, reason: '', wasClean: true })
    assert.ok(Date.now() - started >= 200, 'the client waits for the server to close TCP first (RFC 6455 §7.1.1)')
    await socketClosed(peer.socket)
  } finally {
    await raw.close()
  }
})

test('[wsflow client ↔ ws server] registered and private close codes travel as they are', async () => {
  for (const code of [1001, 1003, 1008, 1011, 1012, 1013, 1014, 3000, 4999]) {
    await withPair(PAIRS[1]!, {}, async (pair) => {
      pair.client.close(code, `code ${code}`)
      assert.equal(await within(pair.server.closed, 2000, 'ws closed'), { code, reason: `code ${code}`, wasClean: true }, `client → ws: ${code}`)
      assert.is((await within(pair.client.closed, 2000, 'closed')).code, code)
    })
  }
})

test('wsflow client: data frames the server sends after our close frame are still delivered', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    const closing = ws.close(1000)
    await peer.reader.nextClose()
    // RFC 6455 §5.5.1: the peer may still send data until it sends its own close frame
    peer.send({ opcode: 0x1, payload: new TextEncoder().encode('late 1') })
    peer.send({ opcode: 0x1, payload: new TextEncoder().encode('late 2') })
    peer.send({ opcode: 0x8, payload: closePayload(1000) })
    peer.socket.end()
    const seen: string[] = []
    for await (const message of ws) seen.push(message.text())
    assert.equal(seen, ['late 1', 'late 2'])
    assert.equal(await within(closing, 2000, 'closed'), { code: 1000, reason: '', wasClean: true })
  } finally {
    await raw.close()
  }
})

test.run()
