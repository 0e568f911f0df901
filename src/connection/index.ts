/**
 * The connection layer: a WebSocket over any byte transport, its inbox, outbox, heartbeat and
 * options.
 * @module
 */
export { WebSocket, type ConnectionInit, type ConnectionObserver } from './websocket.ts'
export type { ConnectionOptions, KeepAliveTarget } from './options.ts'
export type { CloseInfo, MessageCodec, ReadyState, RequestInfo, Transport, TransportHandlers } from './types.ts'
export { MessageStream, type MessageStreamController, type MessageStreamPair } from './message-stream.ts'
export type { RecvOptions } from './inbox.ts'
