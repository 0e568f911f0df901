/**
 * wsflow: WebSocket (RFC 6455) for Node.js, where a connection is an async iterable of messages
 * and an async sink for outgoing data. This is what applications need; the sans-I/O protocol
 * core is under `wsflow/core` and the it-pipe stages under `wsflow/transforms`.
 *
 * ```ts
 * import { connect, serve } from 'wsflow'
 *
 * const server = await serve({ port: 8080 }, async (ws) => {
 *   for await (const message of ws) await ws.send(message)
 * })
 * const ws = await connect('ws://127.0.0.1:8080')
 * await ws.send('hello')
 * for await (const message of ws) console.log(message.text())
 * ```
 * @module wsflow
 */
export { connect, type ConnectOptions } from './client/connect.ts'
export { Server, serve, type ConnectionHandler, type HandshakeContext, type LegacyHandshakes, type LegacyUpgradeContext, type ServerCloseOptions, type ServerOptions, type VerifyRefusal } from './server/server.ts'
export { WebSocket, type ConnectionInit, type ConnectionObserver, type TopicRegistry } from './connection/websocket.ts'
export type { Fragments, SendOptions } from './connection/fragments.ts'
export type { ConnectionOptions, KeepAliveTarget } from './connection/options.ts'
export type { RecvOptions } from './connection/inbox.ts'
export { MessageStream, type MessageStreamController, type MessageStreamPair } from './connection/message-stream.ts'
export type { CloseInfo, MessageCodec, PeerCertificateInfo, RequestInfo, ResponseInfo, Transport, TransportHandlers } from './core/transport.ts'
export type { ReadyState } from './core/protocol.ts'
export { Message, toMessage, type MessageType, type Outgoing } from './core/message.ts'
export { PreparedMessage, prepareMessage } from './core/prepared.ts'
export {
  AbortError, CloseCode, ConnectError, ConnectionClosedError, HandshakeError, InvalidArgumentError, InvalidDataError, MessageTooBigError, NotSupportedError, ProtocolError, StallError,
  TimeoutError, WebSocketError, isWebSocketError, type ErrorCode,
} from './core/errors.ts'
export type { ExtensionOffer } from './core/handshake/extensions.ts'
export { SocketTransport } from './node/transport.ts'
export { DEFAULT_INFLATE_MEMORY_LIMIT, PerMessageDeflate, getZlibActivity, setInflateMemoryLimit, setZlibConcurrency, type PerMessageDeflateCodecOptions, type PerMessageDeflateConfig, type ZlibActivity } from './node/deflate.ts'
export { bridge, streamDuplex, webSocketBytes, type BridgeOptions, type BridgeResult, type ByteDuplex } from './bridge/index.ts'
export { OnePortServer, serveOnePort, type OnePortOptions, type RawConnectionInfo, type RawHandler } from './server/sniff.ts'
export { classifyFirstBytes, FirstBytesKind, HTTP_METHODS, type ClassifyOptions } from './server/first-bytes.ts'
export { TimerWheel, sharedWheel, type TimerWheels, type WheelEntry } from './internal/timer-wheel.ts'
export { DEFAULT_MAX_BACKPRESSURE, PubSub, type PubSubOptions, type PubSubStats, type PublishOptions, type SlowConsumerPolicy, type SubscribeOptions, type TopicPolicy } from './pubsub/hub.ts'
export { TopicSubscription, type SubscriptionOwner } from './pubsub/subscription.ts'
export { ClusterAdapter, CLUSTER_CHANNEL, DEFAULT_CLUSTER_BACKLOG, startClusterRelay, type ClusterAdapterOptions, type ClusterRelay, type ClusterRelayOptions, type IpcChannel } from './pubsub/cluster.ts'
export { MAX_TOPIC_LENGTH, type AdapterEvent, type AdapterHost, type PubSubAdapter, type Publication } from './pubsub/adapter.ts'
export { RedisAdapter, type RedisAdapterOptions, type RedisBufferListener, type RedisClientEvent, type RedisConnection, type RedisPublisherClient, type RedisSubscriberClient } from './pubsub/redis.ts'
export { createRedisAdapter, REDIS_MISSING, type CreateRedisAdapterOptions } from './pubsub/redis-create.ts'
export { persistent, reconnecting, type PersistentConnectOptions, type ReconnectingOptions } from './client/reconnecting.ts'
export { ReconnectingWebSocket, type PersistentOptions, type PersistentState } from './reconnect/persistent.ts'
export { isRetryable, isRetryableCloseCode, isRetryableStatus } from './reconnect/retry.ts'
export { BACKOFF_DEFAULTS, backoffDelay, type BackoffOptions, type ReconnectClock } from './reconnect/backoff.ts'
export type { ReconnectOptions, RetryEvent } from './reconnect/reconnecting.ts'
export type { ConnectFunction, ReconnectableSocket } from './reconnect/types.ts'
export { QUEUE_DEFAULTS, QueueFullError } from './reconnect/queue.ts'
export { createWebSocketStream, toDuplex, type StreamableSocket, type WebSocketStreamOptions } from './node/websocket-stream.ts'
export { toWebStreams, type ReadAs, type ReadChunk, type WebStreamPair, type WebStreamSocket, type WebStreamsOptions } from './streams/web.ts'
