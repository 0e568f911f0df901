/**
 * wsflow in the browser: `connect(url, options)` with the Node client's signature and the Node
 * connection's API (`for await` over {@link Message}s, `send` with backpressure, `sink`/`source`,
 * `close`, `closed`), over the platform `WebSocket` or `WebSocketStream`; the same messages,
 * errors and close codes. This is what the package's `browser` condition resolves `wsflow` to;
 * the sans-I/O core and the it-pipe stages are under `wsflow/core` and `wsflow/transforms`, in
 * the same browser build.
 *
 * ```ts
 * import { connect } from 'wsflow'
 *
 * const ws = await connect('wss://example.org/echo')
 * await ws.send('hello')
 * for await (const message of ws) console.log(message.text())
 * ```
 * @module wsflow/browser
 */
export { BROWSER_WRITE_HIGH_WATER_MARK, connect, UNSUPPORTED_OPTIONS, type BrowserConnectOptions } from './connect.ts'
export { BrowserCloseCode, BrowserWebSocket, BrowserWebSocket as WebSocket } from './websocket.ts'
export { MAX_POLL_DELAY } from './drain.ts'
export type { RecvOptions } from '../connection/inbox.ts'
export type { CloseInfo } from '../core/transport.ts'
export type { ReadyState } from '../core/protocol.ts'
export type { ExtensionOffer } from '../core/handshake/extensions.ts'
export { Message, toMessage, type MessageType, type Outgoing } from '../core/message.ts'
export {
  AbortError, CloseCode, ConnectionClosedError, HandshakeError, InvalidArgumentError, InvalidDataError, MessageTooBigError, NotSupportedError,
  ProtocolError, StallError, TimeoutError, WebSocketError, isWebSocketError, type ErrorCode,
} from '../core/errors.ts'
export { persistent, reconnecting, type BrowserPersistentOptions, type BrowserReconnectingOptions } from './reconnecting.ts'
export { ReconnectingWebSocket, type PersistentOptions, type PersistentState } from '../reconnect/persistent.ts'
export { isRetryable, isRetryableCloseCode, isRetryableStatus } from '../reconnect/retry.ts'
export type { ReconnectOptions, RetryEvent } from '../reconnect/reconnecting.ts'
export type { BackoffOptions, ReconnectClock } from '../reconnect/backoff.ts'
export { QueueFullError } from '../reconnect/queue.ts'
export type { ConnectFunction, ReconnectableSocket } from '../reconnect/types.ts'
export { toWebStreams, type ReadAs, type ReadChunk, type WebStreamPair, type WebStreamSocket, type WebStreamsOptions } from '../streams/web.ts'
