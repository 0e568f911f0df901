// The page's side of the browser-only cases (test/browser/client.test.ts): backpressure both ways,
// what the browser cannot do, the reconnecting client. Bundled with the browser client by esbuild;
// connections are kept by key between the test's page.evaluate calls.
import { connect, persistent, reconnecting, type BrowserConnectOptions, type BrowserWebSocket } from '../../../src/browser/index.ts'

const connections = new Map<string, BrowserWebSocket>()
const pendingSends = new Map<string, Promise<void>>()

interface ErrorView {
  name: string | undefined
  code: string | undefined
  closeCode: number | undefined
  status: number | undefined
  feature: string | undefined
  message: string
}

function view(error: unknown): ErrorView {
  const e = error as { name?: string; code?: string; closeCode?: number; status?: number; feature?: string; message?: string }
  return { name: e.name, code: e.code, closeCode: e.closeCode, status: e.status, feature: e.feature, message: String(e.message) }
}

async function errorOf(run: () => unknown): Promise<ErrorView | undefined> {
  try {
    await run()
  } catch (error) {
    return view(error)
  }
  return undefined
}

/** Opens a connection kept under `key`. */
export async function open(key: string, url: string, options: BrowserConnectOptions): Promise<string> {
  connections.set(key, await connect(url, options))
  return connections.get(key)!.readyState
}

/** Reads until the end: the messages' 4-byte indexes, and the error the loop threw, if any. */
export async function readToEnd(key: string): Promise<{ count: number; inOrder: boolean; bytes: number; error: ErrorView | undefined; closed: unknown }> {
  const ws = connections.get(key)!
  let count = 0
  let inOrder = true
  let bytes = 0
  let error: ErrorView | undefined
  try {
    for await (const message of ws) {
      const index = new DataView(message.data.buffer, message.data.byteOffset, 4).getUint32(0)
      if (index !== count) inOrder = false
      count++
      bytes += message.data.length
    }
  } catch (e) {
    error = view(e)
  }
  return { count, inOrder, bytes, error, closed: await ws.closed }
}

/** Waits for the connection's end without reading. */
export async function whenClosed(key: string): Promise<unknown> {
  return connections.get(key)!.closed
}

/**
 * Sends messages of `size` bytes until a send does not resolve at once (checked against a
 * zero-delay timer: a task later), at most `max`; the waiting send is kept for {@link finishSends}.
 */
export async function sendUntilWaiting(key: string, size: number, max: number): Promise<{ sent: number; waited: boolean; bufferedAmount: number }> {
  const ws = connections.get(key)!
  const chunk = new Uint8Array(size).fill(7)
  for (let i = 0; i < max; i++) {
    const sent = ws.send(chunk)
    const waiting = await Promise.race([sent.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 0))])
    if (waiting) {
      pendingSends.set(key, sent)
      return { sent: i + 1, waited: true, bufferedAmount: ws.bufferedAmount }
    }
  }
  return { sent: max, waited: false, bufferedAmount: ws.bufferedAmount }
}

/** Awaits the waiting send, sends 'end' and waits for the server's close. */
export async function finishSends(key: string): Promise<unknown> {
  const ws = connections.get(key)!
  await pendingSends.get(key)
  await ws.send('end')
  return ws.closed
}

/** What the browser cannot do, each tried: the errors seen. */
export async function unsupported(url: string, options: BrowserConnectOptions): Promise<Record<string, unknown>> {
  const ws = await connect(url, options)
  const result: Record<string, unknown> = {
    ping: await errorOf(() => ws.ping()),
    pong: await errorOf(() => ws.pong()),
    response: await errorOf(() => ws.response),
    streams: await errorOf(() => ws.streams()),
    fragments: await errorOf(() => ws.send(['one ', 'message'])),
    compress: await errorOf(() => ws.send('x', { compress: false })),
    close1005: await errorOf(() => ws.close(1005)),
    headers: await errorOf(() => connect(url, { ...options, headers: { authorization: 'Bearer x' } })),
    perMessageDeflate: await errorOf(() => connect(url, { ...options, perMessageDeflate: { serverNoContextTakeover: true } })),
    stallTimeout: await errorOf(() => connect(url, { ...options, stallTimeout: 1000 })),
    badHighWaterMark: await errorOf(() => connect(url, { ...options, highWaterMark: -1 })),
    refused: await errorOf(() => connect(url.replace(/\/[^/]*$/, '/no-such-path'), options)),
    openAfter: ws.readyState,
    hasWebSocketStream: typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream,
  }
  // A browser without WebSocketStream (Firefox, Safari): the default falls back to WebSocket; asking for it fails.
  const global = globalThis as { WebSocketStream?: unknown }
  const saved = global.WebSocketStream
  delete global.WebSocketStream
  try {
    result.noStreamAsked = await errorOf(() => connect(url, { webSocketStream: true }))
    const fallback = await connect(url)
    await fallback.send('over WebSocket')
    result.noStreamEcho = (await fallback.recv({ timeout: 5000 })).text()
    await fallback.close()
  } finally {
    global.WebSocketStream = saved
  }
  // close(1001) goes as 1000, close(1011) as 4011 (a browser may send neither)
  result.closed = await ws.close(1001, 'going')
  const other = await connect(url, options)
  result.closed1011 = await other.close(1011, 'failed')
  return result
}

/**
 * The reconnecting client in the page: the server drops the first connection (1006) and greets
 * the second; returns what the loop saw.
 */
export async function reconnect(url: string, options: BrowserConnectOptions): Promise<{ seen: string[]; connections: number }> {
  const seen: string[] = []
  let count = 0
  for await (const ws of reconnecting(url, { ...options, initialDelay: 10, maxRetries: 3 })) {
    count++
    try {
      for await (const message of ws) {
        seen.push(message.text())
        if (message.text() === 'second') break
      }
    } catch (error) {
      seen.push(`dropped ${(error as { closeCode?: number }).closeCode}`)
    }
    if (seen.includes('second') || count >= 4) break
  }
  return { seen, connections: count }
}

/** The connection's state (and a round trip to the page). */
export async function readyState(key: string): Promise<string> {
  return connections.get(key)!.readyState
}

/**
 * The persistent connection in the page: a message sent before it is open is queued and sent on
 * the first connection; `onOpen` runs on each one; the server drops the first after echoing, and
 * the loop goes on over the second. Returns what it saw.
 */
export async function persist(url: string, options: BrowserConnectOptions): Promise<{ seen: string[]; opens: number; connections: number; queuedAtFirst: number }> {
  let opens = 0
  const rws = persistent(url, { ...options, initialDelay: 10, maxRetries: 3, onOpen: () => void opens++ })
  const queued = rws.send('queued before open')
  const queuedAtFirst = rws.queuedMessages
  await queued
  const seen: string[] = []
  for await (const message of rws) {
    seen.push(message.text())
    if (seen.length >= 3) break
  }
  await rws.close()
  return { seen, opens, connections: rws.connections, queuedAtFirst }
}

/** Closes a connection whose server never answers: how it ended, and what a read then throws. */
export async function closeUnanswered(url: string, options: BrowserConnectOptions): Promise<{ closed: unknown; error: ErrorView | undefined; readyState: string }> {
  const ws = await connect(url, options)
  const closed = await ws.close(4000, 'bye')
  return { closed, error: await errorOf(() => ws.recv()), readyState: ws.readyState }
}

/** Reads until the loop ends or throws (a server that breaks the protocol). */
export async function loopError(url: string, options: BrowserConnectOptions): Promise<{ seen: string[]; error: ErrorView | undefined }> {
  const ws = await connect(url, options)
  const seen: string[] = []
  const error = await errorOf(async () => {
    for await (const message of ws) seen.push(message.text())
  })
  return { seen, error }
}

/** A message over maxMessageSize comes back: what the loop throws and how the connection closed. */
export async function tooBig(url: string, options: BrowserConnectOptions): Promise<{ error: ErrorView | undefined; cause: ErrorView | undefined; closed: unknown; seen: number }> {
  const ws = await connect(url, { ...options, maxMessageSize: 1000 })
  await ws.send(new Uint8Array(1000))
  await ws.send(new Uint8Array(2000))
  let seen = 0
  let caught: unknown
  try {
    for await (const _ of ws) seen++
  } catch (error) {
    caught = error
  }
  return { error: caught === undefined ? undefined : view(caught), cause: caught === undefined ? undefined : view((caught as { cause?: unknown }).cause), closed: await ws.closed, seen }
}
