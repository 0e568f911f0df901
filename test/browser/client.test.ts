// The browser client in Chromium, beyond the shared suite: backpressure when the page stops
// reading (over WebSocketStream the server's send waits; over the platform WebSocket, which
// cannot stop reading, the connection is closed with 4008 past maxUnreadBytes), the page's send
// waiting on bufferedAmount while the server does not read, what the browser cannot do, and the
// reconnecting client. The options checks also run in Node, where there is no platform WebSocket.
// The Chromium rows are skipped (with a message) where /usr/bin/chromium is not installed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chromium, type Browser, type Page } from 'playwright-core'
import { connect as browserConnect, NotSupportedError } from '../../src/browser/index.ts'
import type { CloseInfo, WebSocket } from '../../src/index.ts'
import { rawServe } from '../helpers/raw.ts'
import { browserMissing, bundle, CHROMIUM, modulePage, startTestServer, type TestServer } from './shared/server.ts'

const missing = browserMissing()
if (missing !== undefined) console.log(`  (Chromium rows of the browser client's tests skipped: ${missing})`)
const inBrowser = missing === undefined ? test : test.skip

let server: TestServer | undefined
let browser: Browser | undefined
let page: Page | undefined

const MESSAGE = 64 * 1024

/** The server's side of a flood: how far it got, and when a send stayed waiting. */
interface Flood {
  sent: number
  stalledAt: number | undefined
  stalled: Promise<number>
  done: Promise<void>
  closed: Promise<CloseInfo> | undefined
}
const floods = new Map<string, Flood>()

/** The server's side of a hold: it reads nothing until released, then counts what came. */
interface Hold {
  release(): void
  bytes: number
  messages: number
  done: Promise<void>
}
const holds = new Map<string, Hold>()

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Whether `promise` is still pending after `turns` turns of the event loop (each one polls I/O). */
async function pendingAfter(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false
  promise.then(() => (settled = true), () => (settled = true))
  for (let i = 0; i < turns && !settled; i++) await new Promise((resolve) => setImmediate(resolve))
  return !settled
}

/**
 * /flood?id=&count=[&wait=1]: sends `count` binary messages of 64 KiB, each starting with its
 * index, then closes with 1000; with `wait=1` it leaves the close to the page instead (a close of
 * its own could reach the browser, and be answered there, before the page has read the messages
 * ahead of it).
 */
async function flood(ws: WebSocket, query: URLSearchParams): Promise<void> {
  const key = query.get('id')!
  const count = Number(query.get('count'))
  const stalled = deferred<number>()
  const done = deferred<void>()
  const state: Flood = { sent: 0, stalledAt: undefined, stalled: stalled.promise, done: done.promise, closed: ws.closed }
  floods.set(key, state)
  try {
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(MESSAGE)
      new DataView(data.buffer).setUint32(0, i)
      const sent = ws.send(data)
      // A send still waiting after 200 turns of the event loop: the socket's buffer is full (the peer does not read).
      if (state.stalledAt === undefined && (await pendingAfter(sent, 200))) {
        state.stalledAt = i
        stalled.resolve(i)
      }
      await sent
      state.sent = i + 1
    }
    if (query.get('wait') === '1') await ws.closed
    else await ws.close(1000, 'flood done')
  } catch {
    // the page closed first (4008): `closed` says how
  } finally {
    done.resolve()
  }
}

/** /hold?id=: reads nothing until released, then counts bytes and messages up to 'end'. */
async function hold(ws: WebSocket, query: URLSearchParams): Promise<void> {
  const released = deferred<void>()
  const done = deferred<void>()
  const state: Hold = { release: () => released.resolve(), bytes: 0, messages: 0, done: done.promise }
  holds.set(query.get('id')!, state)
  await released.promise
  try {
    for await (const message of ws) {
      if (message.type === 'text' && message.text() === 'end') break
      state.messages++
      state.bytes += message.data.length
    }
    await ws.close(1000, 'held')
  } finally {
    done.resolve()
  }
}

/** /drop-first?id=: the first connection for an id gets 'first' and is dropped (1006); later ones get 'second'. */
const dropped = new Set<string>()
async function dropFirst(ws: WebSocket, query: URLSearchParams): Promise<void> {
  const key = query.get('id')!
  if (!dropped.has(key)) {
    dropped.add(key)
    await ws.send('first')
    await new Promise((resolve) => setTimeout(resolve, 0)) // the message is written before the socket is destroyed
    ws.terminate()
    return
  }
  await ws.send('second')
  for await (const _ of ws) {
    // until the page closes
  }
}

/** /persist?id=: connection n sends 'hello n' and echoes; the first is dropped (1006) after its first echo. */
const persisted = new Map<string, number>()
async function persist(ws: WebSocket, query: URLSearchParams): Promise<void> {
  const key = query.get('id')!
  const n = (persisted.get(key) ?? 0) + 1
  persisted.set(key, n)
  await ws.send(`hello ${n}`)
  for await (const message of ws) {
    await ws.send(message)
    if (n === 1) {
      await new Promise((resolve) => setTimeout(resolve, 0)) // the echo is written before the socket is destroyed
      ws.terminate()
      return
    }
  }
}

test.before(async () => {
  server = await startTestServer()
  server.route('/flood', flood)
  server.route('/hold', hold)
  server.route('/drop-first', dropFirst)
  server.route('/persist', persist)
  if (missing !== undefined) return
  for (const [path, file] of await bundle({ client: 'test/browser/shared/client-page.ts' })) server.addFile(path, file)
  server.addFile('/', { type: 'text/html; charset=utf-8', body: modulePage({ client: '/bundle/client.js' }) })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 })
  page = await browser.newPage()
  page.setDefaultTimeout(60_000)
  await page.goto(server.origin + '/')
  await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
})

test.after(async () => {
  await browser?.close()
  await server?.close()
})

type PageApi = Record<string, (...args: never[]) => Promise<unknown>>
/** Calls the page's function `name` (./shared/client-page.ts) with JSON arguments. */
function call<T>(name: string, ...args: unknown[]): Promise<T> {
  return page!.evaluate(([n, a]) => ((globalThis as unknown as { client: PageApi }).client[n as string] as (...x: unknown[]) => Promise<unknown>)(...(a as unknown[])), [name, args] as const) as Promise<T>
}

let ids = 0
const id = (): string => `c${++ids}`

test('node: an option the browser cannot honour throws NotSupportedError naming it, before anything is opened', async () => {
  for (const [name, value] of [['headers', { authorization: 'x' }], ['origin', 'https://example.org'], ['perMessageDeflate', false], ['stallTimeout', 1000], ['proxy', 'http://127.0.0.1:1'], ['tls', {}]] as const) {
    try {
      await browserConnect('ws://127.0.0.1:1/', { [name]: value })
      assert.unreachable(`${name} should throw`)
    } catch (error) {
      assert.instance(error, NotSupportedError, name)
      assert.is((error as NotSupportedError).code, 'WS_ERR_NOT_SUPPORTED')
      assert.is((error as NotSupportedError).feature, `the ${name} option`)
      assert.match((error as Error).message, `the ${name} option is not supported`)
    }
  }
})

test('node: bad options and URLs are InvalidArgumentErrors; no platform WebSocket is a NotSupportedError', async () => {
  for (const [url, options, expected] of [
    ['ws://127.0.0.1:1/', { highWaterMark: 0 }, /highWaterMark must be/],
    ['ws://127.0.0.1:1/', { writeHighWaterMark: -1 }, /writeHighWaterMark must be/],
    ['ftp://127.0.0.1/', {}, /unsupported URL scheme ftp:/],
    ['ws://127.0.0.1:1/#x', {}, /fragment/],
  ] as const) {
    try {
      await browserConnect(url, options)
      assert.unreachable(`${url} ${JSON.stringify(options)} should throw`)
    } catch (error) {
      assert.is((error as { code?: string }).code, 'WS_ERR_INVALID_ARGUMENT')
      assert.match((error as Error).message, expected)
    }
  }
  const platform = (globalThis as { WebSocket?: unknown }).WebSocket
  if (platform === undefined) {
    try {
      await browserConnect('ws://127.0.0.1:1/', { webSocketStream: false })
      assert.unreachable('connect without a platform WebSocket should throw')
    } catch (error) {
      assert.instance(error, NotSupportedError)
    }
  }
})

inBrowser('chromium: a page that stops reading over WebSocketStream stops the server: its send waits; reading again delivers every message in order', async () => {
  const key = id()
  const count = 1024 // 64 MiB, far more than the socket buffers on both sides hold (5-10 MiB measured)
  await call('open', key, server!.wsUrl(`/flood?id=${key}&count=${count}`), { webSocketStream: true })
  const state = await waitFor(() => floods.get(key))
  const stalledAt = await state.stalled
  assert.ok(stalledAt < count, 'the server stalled before it had sent everything')
  // A stall that lasts: the count stays the same over 50 round trips to the page in a row (at most
  // 1,000). Over the platform WebSocket with no bound the same flood only pauses, and then ends.
  let plateau = state.sent
  for (let trips = 0, same = 0; trips < 1000 && same < 50; trips++) {
    await call('readyState', key)
    if (state.sent === plateau) same++
    else {
      same = 0
      plateau = state.sent
    }
  }
  const inFlight = plateau * MESSAGE
  assert.ok(inFlight < (count * MESSAGE) / 2, `at most half the flood in flight (${(inFlight / 2 ** 20).toFixed(1)} MiB)`)
  const read = await call<{ count: number; inOrder: boolean; error: unknown; closed: CloseInfo }>('readToEnd', key)
  await state.done
  assert.is(read.count, count)
  assert.ok(read.inOrder, 'in order')
  assert.is(read.error, undefined)
  assert.equal(read.closed, { code: 1000, reason: 'flood done', wasClean: true })
  if (process.env.WSFLOW_BROWSER_LOG) console.log(`  stalled after ${stalledAt} messages, stayed at ${plateau} (${(inFlight / 2 ** 20).toFixed(1)} MiB in flight)`)
})

inBrowser('chromium: a page that stops reading over the platform WebSocket is closed with 4008 past maxUnreadBytes; the loop gets what was kept, then throws', async () => {
  const key = id()
  const count = 1024 // 64 MiB: more than the socket and browser buffers hold, so the flood cannot end before the page overflows
  await call('open', key, server!.wsUrl(`/flood?id=${key}&count=${count}&wait=1`), { webSocketStream: false, highWaterMarkBytes: 256 * 1024, maxUnreadBytes: 1024 * 1024, closeTimeout: 30_000 })
  const closed = await call<CloseInfo>('whenClosed', key)
  assert.equal(closed, { code: 4008, reason: 'unread messages over the limit', wasClean: true }, `the page's close: ${JSON.stringify(closed)}`)
  const state = await waitFor(() => floods.get(key))
  await state.done
  assert.equal(await state.closed, closed, 'the server saw the same close')
  const read = await call<{ count: number; inOrder: boolean; bytes: number; error: { code: string; closeCode: number; message: string } }>('readToEnd', key)
  assert.ok(read.inOrder, `the kept messages are the first ones, in order (${JSON.stringify(read)})`)
  // Kept: up to the high-water mark (256 KiB, or 16 messages) plus maxUnreadBytes (1 MiB).
  assert.ok(read.bytes >= 256 * 1024 && read.bytes <= 256 * 1024 + 1024 * 1024 + MESSAGE, `kept ${read.bytes} bytes`)
  assert.is(read.error.code, 'WS_ERR_CONNECTION_CLOSED', JSON.stringify(read.error))
  assert.is(read.error.closeCode, 4008)
  assert.match(read.error.message, 'maxUnreadBytes')
})

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: the page's send waits while the server does not read, and resolves once it does`, async () => {
    const key = id()
    await call('open', key, server!.wsUrl(`/hold?id=${key}`), { webSocketStream })
    const state = await waitFor(() => holds.get(key))
    const result = await call<{ sent: number; waited: boolean; bufferedAmount: number }>('sendUntilWaiting', key, 1024 * 1024, 256)
    assert.ok(result.waited, `a send waited (after ${result.sent} MiB)`)
    assert.ok(result.sent < 256, 'before 256 MiB were sent')
    assert.ok(result.bufferedAmount > 1024 * 1024, `bufferedAmount ${result.bufferedAmount} above the write mark (1 MiB)`)
    state.release()
    const closed = await call<CloseInfo>('finishSends', key)
    await state.done
    assert.is(state.messages, result.sent)
    assert.is(state.bytes, result.sent * 1024 * 1024)
    assert.equal(closed, { code: 1000, reason: 'held', wasClean: true })
  })
}

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: what the browser cannot do fails with NotSupportedError or InvalidArgumentError, and the connection stays usable`, async () => {
    const r = await call<Record<string, { name: string; code: string; feature?: string; status?: number; message: string } | string | CloseInfo>>('unsupported', server!.wsUrl('/echo'), { webSocketStream })
    const error = (name: string): { name: string; code: string; feature?: string; status?: number; message: string } => r[name] as never
    for (const [name, feature] of [['ping', 'ping()'], ['pong', 'pong()'], ['response', 'ws.response'], ['streams', 'streams()'], ['headers', 'the headers option'], ['perMessageDeflate', 'the perMessageDeflate option'], ['stallTimeout', 'the stallTimeout option'], ['fragments', 'sending a message as fragments'], ['compress', 'the compress option of send()']]) {
      assert.is(error(name!).name, 'NotSupportedError', name)
      assert.is(error(name!).code, 'WS_ERR_NOT_SUPPORTED', name)
      assert.is(error(name!).feature, feature, name)
    }
    assert.is(error('close1005').code, 'WS_ERR_INVALID_ARGUMENT')
    assert.match(error('close1005').message, 'close code 1005 cannot be sent')
    assert.is(error('badHighWaterMark').code, 'WS_ERR_INVALID_ARGUMENT')
    assert.is(error('refused').name, 'HandshakeError')
    assert.is(error('refused').status, 0, 'the browser exposes no status')
    assert.is(r.openAfter, 'open')
    assert.is(r.hasWebSocketStream, 'function')
    assert.is(error('noStreamAsked').name, 'NotSupportedError', 'webSocketStream: true where there is none')
    assert.is(error('noStreamAsked').feature, 'the webSocketStream option')
    assert.is(r.noStreamEcho, 'over WebSocket', 'the default falls back to WebSocket')
    assert.equal(r.closed, { code: 1000, reason: 'going', wasClean: true }, 'close(1001) is sent as 1000')
    assert.equal(r.closed1011, { code: 4011, reason: 'failed', wasClean: true }, 'close(1011) is sent as 4011')
  })
}

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: the reconnecting client comes back after the server drops the connection`, async () => {
    const key = id()
    const result = await call<{ seen: string[]; connections: number }>('reconnect', server!.wsUrl(`/drop-first?id=${key}`), { webSocketStream })
    assert.equal(result.seen, ['first', 'dropped 1006', 'second'])
    assert.is(result.connections, 2)
  })
}

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: persistent() queues a send made before it is open, runs onOpen on each connection and reads across a drop`, async () => {
    const key = id()
    const result = await call<{ seen: string[]; opens: number; connections: number; queuedAtFirst: number }>('persist', server!.wsUrl(`/persist?id=${key}`), { webSocketStream })
    assert.is(result.queuedAtFirst, 1, 'queued while connecting')
    assert.equal(result.seen, ['hello 1', 'queued before open', 'hello 2'])
    assert.is(result.opens, 2)
    assert.is(result.connections, 2)
  })
}

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: a close the server never answers ends as 1006 after closeTimeout; a server breaking the protocol makes the loop throw`, async () => {
    const raw = await rawServe()
    try {
      const closing = call<{ closed: CloseInfo; error: { code: string; closeCode: number }; readyState: string }>('closeUnanswered', raw.url + '/', { webSocketStream, closeTimeout: 300 })
      const connection = await raw.accepted(10_000)
      const frame = await connection.reader.next(10_000)
      assert.is(frame.opcode, 0x8, 'the close frame reached the server')
      assert.is(new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint16(0), 4000)
      const result = await closing
      assert.equal(result.closed, { code: 1006, reason: '', wasClean: false })
      assert.is(result.error.code, 'WS_ERR_CONNECTION_CLOSED')
      assert.is(result.error.closeCode, 1006)
      assert.is(result.readyState, 'closed')
      // A text frame that is not UTF-8: the browser fails the connection; the loop throws after the good message.
      const reading = call<{ seen: string[]; error: { code: string; closeCode: number; wasClean?: boolean } }>('loopError', raw.url + '/', { webSocketStream })
      const second = await raw.accepted(10_000)
      second.send({ opcode: 0x1, payload: new TextEncoder().encode('fine') })
      second.send({ opcode: 0x1, payload: new Uint8Array([0x66, 0xff, 0xfe]) })
      const broken = await reading
      assert.equal(broken.seen, ['fine'])
      assert.is(broken.error.code, 'WS_ERR_CONNECTION_CLOSED')
      assert.is(broken.error.closeCode, 1006)
    } finally {
      await raw.close()
    }
  })
}

for (const webSocketStream of [false, true]) {
  inBrowser(`chromium over ${webSocketStream ? 'WebSocketStream' : 'WebSocket'}: a message over maxMessageSize closes with 4009 and the loop throws, caused by a MessageTooBigError`, async () => {
    const r = await call<{ error: { code: string; closeCode: number }; cause: { name: string; code: string }; closed: CloseInfo; seen: number }>('tooBig', server!.wsUrl('/echo'), { webSocketStream })
    assert.is(r.seen, 1, 'the message at the limit is delivered')
    assert.is(r.error.code, 'WS_ERR_CONNECTION_CLOSED')
    assert.is(r.error.closeCode, 4009)
    assert.is(r.cause.name, 'MessageTooBigError')
    assert.is(r.cause.code, 'WS_ERR_MESSAGE_TOO_BIG')
    assert.equal(r.closed, { code: 4009, reason: 'message too big', wasClean: true })
  })
}

/** The server's state for a key, once its handler has started (bounded: 1,000 turns of the event loop). */
async function waitFor<T>(get: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = get()
    if (value !== undefined) return value
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('the server never saw the connection')
}

test.run()
