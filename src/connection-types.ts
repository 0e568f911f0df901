/**
 * The types around a connection: its byte transport, compression codec, options and how it ended.
 * @module
 */
import type { WebSocket } from './connection.ts'
import type { ExtensionOffer } from './core/handshake/extensions.ts'

/** Handlers a {@link Transport} calls with socket events, as methods of the object (`handlers.onData(chunk)`). */
export interface TransportHandlers {
  /** Bytes arrived. */
  onData(chunk: Uint8Array): void
  /** The peer half-closed (sent FIN). */
  onEnd(): void
  /** The transport is closed; `error` is what broke it, if anything. */
  onClose(error: unknown): void
}

/** A byte stream under a connection; `SocketTransport` adapts a Node.js socket. */
export interface Transport {
  /** Bytes buffered and not yet sent, in bytes. */
  readonly bufferedAmount: number
  /** Starts delivering events to `handlers`. */
  attach(handlers: TransportHandlers): void
  /** Queues chunks to send; returns false when the caller should wait for {@link Transport.whenDrained}. */
  write(chunks: readonly Uint8Array[]): boolean
  /** Reserves `length` bytes in the transport's write buffer, to fill at once; returns their offset in `buffer`. */
  reserve(length: number): number
  /** The write buffer that `reserve` offsets point into (valid until the next `reserve`). */
  readonly buffer: Uint8Array
  /** Whether more may be written without waiting for drain. */
  readonly writable: boolean
  /** Resolves when buffered bytes are below the high-water mark; rejects if the transport closes first. */
  whenDrained(): Promise<void>
  /** Stops reading. */
  pause(): void
  /** Resumes reading. */
  resume(): void
  /** Sends what is queued, then half-closes. */
  end(): void
  /** Closes at once. */
  destroy(): void
}

/**
 * A per-message compression codec (permessage-deflate, RFC 7692) agreed in the handshake:
 * `PerMessageDeflate` implements it over node:zlib.
 */
export interface MessageCodec {
  /** Whether a payload is worth compressing (e.g. not below a size threshold). */
  isCompressible(data: Uint8Array): boolean
  /** Compresses one message's payload; calls resolve in call order. */
  compress(data: Uint8Array): Promise<Uint8Array>
  /** Feeds one compressed frame payload; resolves with the whole message at `fin`. Calls resolve in order. */
  decompress(payload: Uint8Array, fin: boolean): Promise<Uint8Array | undefined>
  /** Frees the codec's state; pending calls reject. */
  release(): void
}

/** How a connection ended. */
export interface CloseInfo {
  /** The close code: the peer's (1005 when its close frame had none), or 1006 when no close handshake completed. */
  code: number
  /** The close reason received, if any. */
  reason: string
  /** Whether the closing handshake completed (close frames sent and received) before TCP closed. */
  wasClean: boolean
}

/** What a server knows of the request that opened a connection. */
export interface RequestInfo {
  /** The request target, e.g. `/chat?room=1`. */
  url: string
  /** Request headers, lower-case names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>
  /** The peer's address, when known. */
  remoteAddress: string | undefined
  /** The peer's port, when known. */
  remotePort: number | undefined
}

/** Options of a connection, shared by `connect` and `serve`. Sizes in bytes, durations in milliseconds. */
export interface ConnectionOptions {
  /** Largest message accepted, summed over its fragments (default 64 MiB); more fails the connection with 1009. */
  maxMessageSize?: number | undefined
  /** Largest frame payload accepted (default: `maxMessageSize`); more fails with 1009. */
  maxFrameSize?: number | undefined
  /** Most fragments in one message (default 2^20); more fails with 1009. */
  maxFragments?: number | undefined
  /** Outgoing messages larger than this are sent as several frames of this size (default: one frame). */
  fragmentSize?: number | undefined
  /** How long to wait for the peer's close frame and for TCP to close after ours (default 5000 ms). */
  closeTimeout?: number | undefined
  /**
   * Heartbeat: after `stallTimeout / 2` ms without any byte from the peer, `keepAlive` runs (a
   * ping by default); after `stallTimeout` ms of silence the connection fails with a
   * {@link StallError}. 0 (the default) turns it off.
   */
  stallTimeout?: number | undefined
  /**
   * Closes the connection (1001, "idle timeout") after this many milliseconds without a data
   * message either way; 0 (the default) turns it off. Pings do not count as activity.
   */
  idleTimeout?: number | undefined
  /** Replaces the keep-alive ping, e.g. with an application message for peers that ignore pings. */
  keepAlive?: ((ws: WebSocket) => unknown) | undefined
  /**
   * Streaming mode: messages arrive as streams of chunks ({@link WebSocket.streams}), so that a
   * message never has to fit in memory; `maxMessageSize` then defaults to no limit. Plain
   * iteration still works and collects each message.
   */
  streaming?: boolean | undefined
  /** Messages buffered for a consumer that is not reading before the socket stops being read (default 16). */
  highWaterMark?: number | undefined
  /** Bytes of buffered messages before the socket stops being read (default 1 MiB). */
  highWaterMarkBytes?: number | undefined
}

/** What the client or server that opened a connection tells it. */
export interface ConnectionInit {
  /** The side this endpoint plays: a client masks its frames and expects unmasked ones. */
  role: 'client' | 'server'
  /** The subprotocol agreed in the handshake ('' for none). */
  protocol?: string | undefined
  /** The extensions agreed in the handshake. */
  extensions?: readonly ExtensionOffer[] | undefined
  /** The opening request (server side). */
  request?: RequestInfo | undefined
  /** Bytes that arrived after the handshake, before the connection took over. */
  head?: Uint8Array | undefined
  /** The compression codec agreed in the handshake (permessage-deflate), if any. */
  codec?: MessageCodec | undefined
  /**
   * Called once when the connection has closed (before `closed` resolves): a server forgets its
   * client here. One function may serve every connection, so that none holds a closure for it.
   */
  onClosed?: ((ws: WebSocket) => void) | undefined
}

/** The state of a connection (the WebSocket API's readyState, by name). */
export type ReadyState = 'open' | 'closing' | 'closed'
