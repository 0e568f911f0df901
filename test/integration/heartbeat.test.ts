/**
 * Heartbeats and stall detection: a silent peer that never answers pings fails with StallError;
 * well-behaved peers (wsflow and ws answer pings on their own) stay connected; keepAlive hooks.
 * Times are bounds generous enough for a loaded machine, never exact assertions.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StallError, connect, serve, type WebSocket } from '../../src/index.ts'
import { openWsClient, withPair, PAIRS, wsflowPeer, wsPeer } from '../helpers/peers.ts'
import { rawConnect, rawServe, socketClosed } from '../helpers/raw.ts'
import { rejection, sleep, within } from '../helpers/timing.ts'
import { sharedWheel } from '../../src/internal/timer-wheel.ts'

test('stallTimeout: a raw client that goes silent fails with StallError; other clients keep working', async () => {
  const outcomes = new Map<string, { error: unknown; at: number }>()
  const errors: unknown[] = []
  const server = await serve({ host: '127.0.0.1', port: 0, stallTimeout: 300, onError: (error) => errors.push(error) }, async (ws: WebSocket) => {
    const name = ws.request?.url ?? '?'
    try {
      for await (const message of ws) await ws.send(message)
      outcomes.set(name, { error: undefined, at: Date.now() })
    } catch (error) {
      outcomes.set(name, { error, at: Date.now() })
      throw error
    }
  })
  const chatty = await connect(`ws://127.0.0.1:${server.port}/chatty`)
  const quietWsflow = await connect(`ws://127.0.0.1:${server.port}/quiet-wsflow`)
  const quietWs = wsPeer(await openWsClient(`ws://127.0.0.1:${server.port}/quiet-ws`, undefined), 'client')
  let pingsSeenByWs = 0
  quietWs.ws!.on('ping', () => pingsSeenByWs++)
  const started = Date.now()
  const silent = await rawConnect({ port: server.port }, '/silent')
  try {
    // the silent client is pinged (keep-alive at stallTimeout / 2), never answers, and is cut off
    const ping = await silent.reader.next(2000)
    assert.is(ping.opcode, 0x9, 'the server pings a silent peer')
    await socketClosed(silent.socket, 3000)
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250, `stalled too early: ${elapsed} ms`)
    assert.ok(elapsed < 2500, `stalled too late: ${elapsed} ms`)
    for (let i = 0; i < 100 && !outcomes.has('/silent'); i++) await sleep(10)
    const outcome = outcomes.get('/silent')
    assert.instance(outcome?.error, StallError, `the handler's iterator threw ${String(outcome?.error)}`)
    assert.is((outcome!.error as StallError).code, 'WS_ERR_STALL')
    assert.is((outcome!.error as StallError).timeout, 300)
    assert.ok(errors.some((e) => e instanceof StallError), 'the StallError reached onError')

    // meanwhile and afterwards, the chatty client exchanges messages...
    const peer = wsflowPeer(chatty)
    for (let i = 0; i < 8; i++) {
      await peer.send(`tick ${i}`)
      assert.is(new TextDecoder().decode((await peer.receive(2000)).data), `tick ${i}`)
      await sleep(100)
    }
    // ...and the quiet ones, which only answer pings, are still open after 3+ stall periods
    await sleep(Math.max(0, 1000 - (Date.now() - started)))
    assert.is(chatty.readyState, 'open')
    assert.is(quietWsflow.readyState, 'open', 'a wsflow client answers keep-alive pings')
    assert.is(quietWs.ws!.readyState, 1, 'a ws client answers keep-alive pings')
    assert.ok(pingsSeenByWs >= 1, 'the quiet ws client was pinged')
    assert.ok(!outcomes.has('/chatty') && !outcomes.has('/quiet-wsflow') && !outcomes.has('/quiet-ws'))
    assert.is(server.clients.size, 3)
  } finally {
    await silent.destroy()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
    quietWs.terminate()
  }
})

test('stallTimeout on a wsflow client: a silent raw server → the iterator throws StallError, closed is 1006', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`, { stallTimeout: 300 })
    const peer = await raw.accepted()
    const next = rejection(ws[Symbol.asyncIterator]().next(), 3000, 'iterator')
    const ping = await peer.reader.next(2000)
    assert.equal([ping.opcode, ping.masked], [0x9, true], 'the client pings with a masked frame')
    const error = await next
    assert.instance(error, StallError)
    assert.equal(await within(ws.closed, 1000, 'closed'), { code: 1006, reason: '', wasClean: false })
    await socketClosed(peer.socket, 2000)
  } finally {
    await raw.close()
  }
})

test('stallTimeout: a peer whose data keeps arriving is never pinged nor stalled', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`, { stallTimeout: 300 })
    const peer = await raw.accepted()
    const iterator = ws[Symbol.asyncIterator]()
    for (let i = 0; i < 10; i++) {
      peer.send({ opcode: 0x1, payload: new TextEncoder().encode(`n${i}`) })
      assert.is((await within(iterator.next(), 1000, 'message')).value?.text(), `n${i}`)
      await sleep(80)
    }
    assert.is(ws.readyState, 'open')
    assert.is(peer.reader.received, 0, 'no ping was needed')
    void ws.close()
    const close = await peer.reader.nextClose()
    assert.is(close.code, 1000)
  } finally {
    await raw.close()
  }
})

test('keepAlive: a custom hook replaces the ping (an application message the peer echoes)', async () => {
  await withPair(PAIRS[0]!, { client: { stallTimeout: 300, keepAlive: (ws) => ws.send('heartbeat') } }, async (pair) => {
    // the server echoes heartbeats, which counts as activity for the client
    const echo = (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await pair.server.receiveOrEnd(2000)
        if ('end' in r) return
        await pair.server.send(r.data.length === 9 ? 'heartbeat' : 'other')
      }
    })()
    let heartbeats = 0
    const started = Date.now()
    while (Date.now() - started < 1000) {
      const r = await pair.client.receiveOrEnd(1000)
      if ('end' in r) assert.unreachable(`the client stalled: ${String(r.error)}`)
      else if (new TextDecoder().decode(r.data) === 'heartbeat') heartbeats++
    }
    assert.ok(heartbeats >= 2, `expected several heartbeats, got ${heartbeats}`)
    assert.is(pair.client.wsflow!.readyState, 'open')
    pair.client.close(1000)
    await within(echo, 3000, 'echo loop')
  })
})

test('stallTimeout on a wsflow client against a ws server: ws answers the keep-alive pings', async () => {
  await withPair(PAIRS[1]!, { client: { stallTimeout: 200 } }, async (pair) => {
    let pings = 0
    pair.server.ws!.on('ping', () => pings++)
    await sleep(900)
    assert.is(pair.client.wsflow!.readyState, 'open')
    assert.ok(pings >= 2, `ws saw ${pings} pings`)
    await pair.client.send('still here')
    assert.is(new TextDecoder().decode((await pair.server.receive()).data), 'still here')
  })
})

test('stallTimeout: a slow consumer (paused socket) does not make a healthy sender look stalled', async () => {
  const count = 200
  let received = 0
  let failure: unknown
  const server = await serve({ host: '127.0.0.1', port: 0, stallTimeout: 300, onError: () => undefined }, async (ws) => {
    await sleep(1000) // a busy handler: the socket is paused once 16 messages are buffered
    try {
      for await (const message of ws) {
        void message
        if (++received === count) break
      }
    } catch (error) {
      failure = error
    }
  })
  const client = await connect(`ws://127.0.0.1:${server.port}/`)
  try {
    for (let i = 0; i < count; i++) await within(client.send(new Uint8Array(64 * 1024)), 5000, `send ${i}`)
    for (let i = 0; i < 300 && received < count && failure === undefined; i++) await sleep(10)
    assert.is(failure, undefined, `the server side failed: ${String(failure)}`)
    assert.is(received, count)
  } finally {
    client.terminate()
    await within(server.close({ timeout: 200 }), 3000, 'server close')
  }
})

test('heartbeats share one timer wheel: each open connection is one entry, and a closed one leaves it', async () => {
  const wheel = sharedWheel(150) // stallTimeout 300: the first check at 150 ms
  const before = wheel.size
  const server = await serve({ host: '127.0.0.1', port: 0, stallTimeout: 300 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  const clients: WebSocket[] = []
  try {
    for (let i = 0; i < 20; i++) clients.push(await connect(`ws://127.0.0.1:${server.port}/`, { stallTimeout: 300 }))
    for (let i = 0; i < 100 && server.clients.size < 20; i++) await sleep(10)
    assert.is(server.clients.size, 20)
    assert.is(wheel.size, before + 40, 'one entry per connection, on both sides')
    // Checks come round and re-arm (the quiet connections are pinged and answer): still one each.
    await sleep(700)
    assert.is(wheel.size, before + 40)
    assert.ok(clients.every((ws) => ws.readyState === 'open'))
    await Promise.all(clients.slice(0, 10).map((ws) => within(ws.close(), 3000, 'close')))
    await Promise.all(clients.slice(10).map((ws) => (ws.terminate(), ws.closed)))
    for (let i = 0; i < 100 && (server.clients.size > 0 || wheel.size > before); i++) await sleep(10)
    assert.is(server.clients.size, 0)
    assert.is(wheel.size, before, 'closed connections are off the wheel (nothing keeps them alive)')
  } finally {
    for (const ws of clients) ws.terminate()
    await within(server.close({ timeout: 200 }), 3000, 'server close')
  }
})

test.run()
