/**
 * ReconnectingWebSocket (persistent()): the bounded queue while down, onOpen before the queue
 * flows, the order of what the server receives, messages across connections, states and
 * events, close(), and the reasons that end it. Real wsflow servers on 127.0.0.1; the backoff
 * waits on a fake clock.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, HandshakeError, InvalidArgumentError, serve, type Server, type ServerOptions, type WebSocket } from '../../../src/index.ts'
import { persistent } from '../../../src/client/reconnecting.ts'
import { QueueFullError } from '../../../src/reconnect/queue.ts'
import type { ReconnectingWebSocket } from '../../../src/reconnect/persistent.ts'
import { closedPort, FakeClock } from './fake-clock.ts'
import { rejection, within } from '../../helpers/timing.ts'

const half = (): number => 0.5

/** A server recording every text message it receives, in order. */
async function recorder(options: ServerOptions = {}, onConnection?: (ws: WebSocket, index: number) => unknown): Promise<{ server: Server; received: string[]; closes: number[]; closed(count: number): Promise<number[]> }> {
  const received: string[] = []
  const closes: number[] = []
  const waiters: Array<() => void> = []
  let index = 0
  const server = await serve({ ...options, host: '127.0.0.1', port: 0 }, async (ws) => {
    const mine = index++
    const extra = onConnection?.(ws, mine)
    try {
      for await (const message of ws) received.push(message.text())
    } catch {
      // closed abnormally
    }
    closes.push((await ws.closed).code)
    for (const wake of waiters.splice(0)) wake()
    await extra
  })
  /** Resolves with the close codes once `count` connections closed (within 2 s). */
  const closed = async (count: number): Promise<number[]> => {
    while (closes.length < count) await within(new Promise<void>((resolve) => waiters.push(resolve)), 2000, `${count} closes on the server`)
    return closes
  }
  return { server, received, closes, closed }
}

function once(target: EventTarget, type: string): Promise<void> {
  return within(new Promise<void>((resolve) => target.addEventListener(type, () => resolve(), { once: true })), 5000, `event ${type}`)
}

test('while down, sends queue up to maxQueuedMessages; the next rejects with a QueueFullError; close() rejects the queued', async () => {
  const port = await closedPort()
  const clock = new FakeClock()
  const rws = persistent(`ws://127.0.0.1:${port}`, { clock, random: half, maxQueuedMessages: 3 })
  try {
    const queued = ['a', 'b', 'c'].map((text) => rws.send(text))
    for (const promise of queued) promise.catch(() => {})
    const refused = await rejection(rws.send('d'), 1000, 'the fourth send')
    assert.instance(refused, QueueFullError)
    assert.is((refused as QueueFullError).code, 'WS_ERR_QUEUE_FULL')
    assert.is((refused as QueueFullError).limit, 'messages')
    assert.is(rws.queuedMessages, 3)
    assert.is(rws.queuedBytes, 3)
    await clock.nextSleep()
    assert.is(rws.state, 'connecting')
    assert.is(rws.attempt, 1)
    await rws.close()
    for (const promise of queued) assert.instance(await rejection(promise, 1000, 'a queued send'), ConnectionClosedError)
    assert.is(rws.state, 'closed')
    assert.is(rws.queuedMessages, 0)
    assert.instance(await rejection(rws.send('e'), 1000, 'a send after close'), ConnectionClosedError)
  } finally {
    await rws.close()
  }
})

test('the byte limit counts UTF-8 payload bytes; a message that does not fit is refused, smaller ones still queue', async () => {
  const port = await closedPort()
  const rws = persistent(`ws://127.0.0.1:${port}`, { clock: new FakeClock(), maxQueuedBytes: 10 })
  try {
    const first = rws.send('ééé') // 6 bytes
    first.catch(() => {})
    const refused = await rejection(rws.send(new Uint8Array(5)), 1000, 'five more bytes')
    assert.instance(refused, QueueFullError)
    assert.is((refused as QueueFullError).limit, 'bytes')
    const fits = rws.send(new Uint8Array(4))
    fits.catch(() => {})
    assert.is(rws.queuedBytes, 10)
    assert.is(rws.queuedMessages, 2)
  } finally {
    await rws.close()
  }
})

test('onOpen runs before the queue flows; the server receives its messages, then the queued ones in order, then live sends', async () => {
  let connected: () => void = () => {}
  let verifying: () => void = () => {}
  const verified = new Promise<void>((resolve) => (verifying = resolve))
  const { server, received } = await recorder({ verify: () => new Promise<boolean>((resolve) => ((connected = () => resolve(true)), verifying())) })
  const rws = persistent(server.url, {
    clock: new FakeClock(),
    onOpen: async (ws) => {
      await ws.send('auth')
      await ws.send('subscribe')
    },
  })
  try {
    const queued = [rws.send('q1'), rws.send(new TextEncoder().encode('q2')), rws.send('q3')]
    assert.is(rws.state, 'connecting')
    const opened = once(rws, 'open')
    await within(verified, 2000, 'the handshake waits for verify')
    assert.is(rws.state, 'connecting')
    connected()
    await opened
    await within(Promise.all(queued), 2000, 'the queued sends went out')
    assert.is(rws.state, 'open')
    assert.is(rws.queuedMessages, 0)
    await rws.send('live')
    await rws.close()
    assert.equal(received, ['auth', 'subscribe', 'q1', 'q2', 'q3', 'live'])
    assert.is(rws.connections, 1)
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('messages of every connection in turn: the iterator goes on past a drop (1012) and ends at close()', async () => {
  const { server } = await recorder({}, async (ws, index) => {
    await ws.send(`from ${index}`)
    if (index === 0) await ws.close(1012, 'restart')
  })
  const clock = new FakeClock()
  const rws = persistent(server.url, { clock, random: half })
  const states: string[] = []
  for (const type of ['connecting', 'open', 'closed']) rws.addEventListener(type, () => states.push(type))
  try {
    const texts: string[] = []
    void clock.nextSleep().then(() => clock.advance())
    for await (const message of rws) {
      texts.push(message.text())
      if (texts.length === 2) void rws.close()
    }
    assert.equal(texts, ['from 0', 'from 1'])
    assert.equal(states, ['open', 'connecting', 'open', 'closed'])
    assert.equal(clock.delays, [250])
    assert.is(rws.connections, 2)
    assert.is(rws.error, undefined)
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('a 401 ends it at once: state closed, error the HandshakeError, queued sends reject with it, the iterator throws it', async () => {
  const { server } = await recorder({ verify: () => ({ status: 401 }) })
  const rws = persistent(server.url, { clock: new FakeClock() })
  try {
    const queued = rws.send('never')
    const error = await rejection(queued, 2000, 'the queued send')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 401)
    await within(rws.closed, 2000, 'closed')
    assert.is(rws.state, 'closed')
    assert.is(rws.error, error)
    const thrown = await rejection((async () => {
      for await (const _message of rws) assert.unreachable('no message')
    })(), 1000, 'the iterator')
    assert.is(thrown, error)
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('onOpen throwing an application error closes that connection with 1011 and ends it with the error', async () => {
  const { server, closed } = await recorder()
  const failure = new Error('not authorised')
  const rws: ReconnectingWebSocket<WebSocket> = persistent(server.url, { clock: new FakeClock(), onOpen: () => Promise.reject(failure) })
  try {
    await within(rws.closed, 2000, 'closed')
    assert.is(rws.error, failure)
    assert.is(rws.connections, 1)
    assert.equal(await closed(1), [1011])
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('onOpen failing because the connection dropped (1006) is retried; the next connection flows', async () => {
  const { server, received } = await recorder({}, (ws, index) => {
    if (index === 0) ws.terminate() // gone before the welcome
    else void ws.send('welcome')
  })
  const clock = new FakeClock()
  const welcomes: string[] = []
  const rws = persistent(server.url, {
    clock, random: half,
    onOpen: async (ws) => {
      welcomes.push((await ws.recv()).text()) // the first connection's recv rejects with 1006
    },
  })
  try {
    const queued = rws.send('after the welcome')
    await clock.nextSleep()
    clock.advance()
    await within(queued, 2000, 'the queued send on the second connection')
    assert.equal(welcomes, ['welcome'])
    assert.is(rws.connections, 2)
    await rws.close()
    assert.equal(received, ['after the welcome'])
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('close(code, reason) closes the open connection with them', async () => {
  const { server, closed, received } = await recorder()
  const rws = persistent(server.url, { clock: new FakeClock() })
  try {
    await once(rws, 'open')
    await rws.send('x')
    await rws.close(4000, 'done')
    assert.is(rws.state, 'closed')
    assert.is(rws.socket, undefined)
    assert.equal(await closed(1), [4000])
    assert.equal(received, ['x'])
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test("the caller's signal stops it: the open connection is closed with 1001, state closed, no error", async () => {
  const { server, closed } = await recorder()
  const controller = new AbortController()
  const rws = persistent(server.url, { clock: new FakeClock(), signal: controller.signal })
  try {
    await once(rws, 'open')
    controller.abort()
    await within(rws.closed, 2000, 'closed')
    assert.is(rws.state, 'closed')
    assert.is(rws.error, undefined)
    assert.equal(await closed(1), [1001])
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('a send made while the connection is closing waits for the next connection instead of failing', async () => {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  const { server, received } = await recorder({}, async (ws, index) => {
    if (index === 0) {
      await held
      await ws.close(1012, 'restart')
    }
  })
  const clock = new FakeClock()
  const rws = persistent(server.url, { clock, random: half })
  try {
    await once(rws, 'open')
    await rws.send('first')
    const socket = rws.socket!
    release()
    // The server's close frame arrives: the connection is closing, not yet closed.
    await within(new Promise<void>((resolve) => {
      const check = (): void => (socket.readyState === 'open' ? void setImmediate(check) : resolve())
      check()
    }), 2000, 'the first connection closing')
    const late = rws.send('second')
    void clock.nextSleep().then(() => clock.advance())
    await within(late, 2000, 'the late send went out on the next connection')
    assert.is(rws.connections, 2)
    await rws.close()
    assert.equal(received, ['first', 'second'])
  } finally {
    await rws.close()
    await server.close({ timeout: 200 })
  }
})

test('bad options are refused with an InvalidArgumentError', () => {
  for (const options of [{ maxQueuedMessages: -1 }, { maxQueuedBytes: 1.5 }, { onOpen: 'hello' }, { initialDelay: -5 }]) {
    assert.throws(() => persistent('ws://127.0.0.1:1', options as never), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(Object.keys(options)[0]!))
  }
})

test.run()
