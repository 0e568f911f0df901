/**
 * The types around a connection, from `core/`: its transport, codec, request and end.
 * @module
 */
export type { CloseInfo, MessageCodec, RequestInfo, ResponseInfo, Transport, TransportHandlers } from '../core/transport.ts'
export type { ReadyState } from '../core/protocol.ts'
