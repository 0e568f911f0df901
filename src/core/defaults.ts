/**
 * wsflow's defaults, in one place: every limit and timeout a connection, a server or a client
 * starts with when its options leave it out. Sizes in bytes, durations in milliseconds.
 * @module
 */
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE } from './constants.ts'

/** The defaults, by option name. */
export const DEFAULTS = {
  /** Largest message accepted: 64 MiB (no limit in streaming mode). */
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
  /** Most fragments in one message: 2^20. */
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  /**
   * The heartbeat: a ping after 20 s without a byte from the peer, a StallError after 40 s (as
   * python websockets' 20 s ping interval and 20 s ping timeout), so that a peer that vanished
   * without a FIN is found. Its cost: some 0.14 KiB of heap per connection (bench/memory.ts).
   */
  stallTimeout: 40_000,
  /** Wait for the peer's close frame and TCP close after ours: 5 s. */
  closeTimeout: 5000,
  /** Messages buffered for the application before the socket stops being read. */
  highWaterMark: 16,
  /** Bytes buffered for the application before the socket stops being read: 1 MiB. */
  highWaterMarkBytes: 1024 * 1024,
  /** Bytes queued to the socket above which `send` waits for drain: 64 KiB. */
  writeHighWaterMark: 64 * 1024,
  /** The opening handshake, from TCP accept (or connect) to 101: 10 s. */
  handshakeTimeout: 10_000,
  /** Connections a server holds at once (handshakes included). */
  maxConnections: 10_000,
  /** An HTTP request or response head: 16 KiB. */
  maxHeaderSize: 16 * 1024,
  /** Redirects a client follows when asked to. */
  maxRedirects: 10,
  /** A server's close(): how long connections get to close before they are cut: 5 s. */
  serverCloseTimeout: 5000,
  /**
   * Pings that may arrive while their pong cannot be written (the peer does not read): 64. Only
   * the latest is answered (RFC 6455 §5.5.3); more fail the connection with 1008.
   */
  maxOwedPings: 64,
  /** Bytes discarded after the peer's close frame or a failure before the connection is cut: 1 MiB. */
  maxDiscard: 1024 * 1024,
} as const
