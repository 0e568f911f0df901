/**
 * The reconnecting client on Node: `reconnecting()` and `persistent()` over this client's `connect`. The
 * implementation is in `reconnect/`, which runs in browsers too.
 * @module
 */
import type { WebSocket } from '../connection/websocket.ts'
import { reconnectingWith, type ReconnectOptions } from '../reconnect/reconnecting.ts'
import { ReconnectingWebSocket, type PersistentOptions } from '../reconnect/persistent.ts'
import { connect, type ConnectOptions } from './connect.ts'

/** Options of {@link reconnecting}: those of `connect` (each attempt gets them) and of the backoff. */
export type ReconnectingOptions = ConnectOptions & ReconnectOptions

/**
 * Yields a newly opened connection each time round, reconnecting with exponential backoff and
 * full jitter (up to 500 ms, doubling, at most 30 s) when the connection could not be opened or
 * closed for a reason worth retrying (network errors, 1006, 1011, 1012, 1013, HTTP 429 and 5xx;
 * not a 401 nor an application's 4000-4999 close). Aborting `options.signal` ends it.
 *
 * ```ts
 * for await (const ws of reconnecting('ws://127.0.0.1:8080/feed', { signal })) {
 *   try {
 *     for await (const message of ws) console.log(message.text())
 *   } catch (error) {
 *     if (!(error instanceof ConnectionClosedError)) throw error   // dropped: go round again
 *   }
 * }
 * ```
 * @category Reconnecting
 */
export function reconnecting(url: string | URL, options: ReconnectingOptions = {}): AsyncGenerator<WebSocket, void, undefined> {
  return reconnectingWith(connect, url, options)
}

/** Options of {@link persistent}: those of {@link reconnecting} and the queue's and `onOpen`. */
export type PersistentConnectOptions = ConnectOptions & PersistentOptions<WebSocket>

/**
 * One logical connection across reconnects: `send()` at any time (queued while down: at most
 * 1,024 messages and 1 MiB by default, a send past that rejects with a `QueueFullError`),
 * `onOpen(ws)` on each new connection before the queue flows, and `for await` over the messages
 * of every connection in turn. Delivery is at most once per message.
 *
 * ```ts
 * const feed = persistent('ws://127.0.0.1:8080/feed', {
 *   onOpen: async (ws) => { await ws.send(JSON.stringify({ subscribe: 'prices' })) },
 * })
 * await feed.send('hello')                 // queued if the connection is down
 * for await (const message of feed) console.log(message.text())
 * ```
 * @category Reconnecting
 */
export function persistent(url: string | URL, options: PersistentConnectOptions = {}): ReconnectingWebSocket<WebSocket> {
  return new ReconnectingWebSocket<WebSocket>(connect, url, options)
}
