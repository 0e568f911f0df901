/**
 * wsflow: WebSocket (RFC 6455) for Node.js, where a connection is an async iterable of messages
 * and an async sink for outgoing data, built on a sans-I/O core and public it-pipe transforms.
 * @module wsflow
 */
export * from './core/index.ts'
export * from './transforms/index.ts'
export { WebSocket, type MessageCodec, type CloseInfo, type ConnectionInit, type ConnectionOptions, type ReadyState, type RequestInfo, type Transport, type TransportHandlers } from './connection.ts'
export { MessageStream, type MessageStreamController, type MessageStreamPair } from './message-stream.ts'
export { SocketTransport } from './node/transport.ts'
export { PerMessageDeflate, getZlibActivity, setZlibConcurrency, type PerMessageDeflateCodecOptions, type PerMessageDeflateConfig, type ZlibActivity } from './node/deflate.ts'
export { connect, type ConnectOptions } from './client/connect.ts'
export { Server, serve, type ConnectionHandler, type ServerCloseOptions, type ServerOptions, type VerifyRefusal } from './server/server.ts'
