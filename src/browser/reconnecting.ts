/**
 * The reconnecting client in the browser: `reconnecting()` and `persistent()` over the browser's
 * `connect`, the same implementation as on Node (`reconnect/`). A refused handshake is a
 * `HandshakeError` with status 0 in the browser (no status is exposed), which is retried like a
 * network error; the browser's own failure codes (4008, 4009) are in the application's range and
 * are not.
 * @module
 */
import { reconnectingWith, type ReconnectOptions } from '../reconnect/reconnecting.ts'
import { ReconnectingWebSocket, type PersistentOptions } from '../reconnect/persistent.ts'
import { connect, type BrowserConnectOptions } from './connect.ts'
import type { BrowserWebSocket } from './websocket.ts'

/** Options of {@link reconnecting}: those of `connect` (each attempt gets them) and of the backoff. */
export type BrowserReconnectingOptions = BrowserConnectOptions & ReconnectOptions

/**
 * Yields a newly opened connection each time round, reconnecting with exponential backoff and
 * full jitter (up to 500 ms, doubling, at most 30 s) when the connection could not be opened or
 * closed for a reason worth retrying. Aborting `options.signal` ends it.
 *
 * ```ts
 * for await (const ws of reconnecting('wss://example.org/feed', { signal })) {
 *   try {
 *     for await (const message of ws) console.log(message.text())
 *   } catch (error) {
 *     if (!(error instanceof ConnectionClosedError)) throw error   // dropped: go round again
 *   }
 * }
 * ```
 */
export function reconnecting(url: string | URL, options: BrowserReconnectingOptions = {}): AsyncGenerator<BrowserWebSocket, void, undefined> {
  return reconnectingWith(connect, url, options)
}

/** Options of {@link persistent}: those of {@link reconnecting} and the queue's and `onOpen`. */
export type BrowserPersistentOptions = BrowserConnectOptions & PersistentOptions<BrowserWebSocket>

/**
 * One logical connection across reconnects: `send()` at any time (queued while down, bounded),
 * `onOpen(ws)` on each new connection before the queue flows, and `for await` over the messages
 * of every connection in turn (see the Node client's `persistent`).
 */
export function persistent(url: string | URL, options: BrowserPersistentOptions = {}): ReconnectingWebSocket<BrowserWebSocket> {
  return new ReconnectingWebSocket<BrowserWebSocket>(connect, url, options)
}
