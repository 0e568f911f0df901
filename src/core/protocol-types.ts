/**
 * The types of `core/protocol`: what it writes to, whom it tells, its options and how a
 * connection ends.
 * @module
 */
import type { FrameOutput } from './encoder.ts'
import type { ConnectionClosedError, ProtocolError } from './errors.ts'
import type { Message, MessageType } from './message.ts'

/** Where a {@link Protocol} writes the bytes it sends: a socket's write buffer, or a recorder. */
export interface ProtocolOutput extends FrameOutput {
  /** Sends what was written, then half-closes (TCP FIN): nothing more is written after it. */
  end(): void
  /**
   * False while what was written waits unsent above the output's high-water mark (the peer is
   * not reading): pongs are then owed, not written (see {@link Protocol.flushPong}). An output
   * without it is always writable.
   */
  readonly writable?: boolean | undefined
  /** Cuts the connection at once (a peer that sends on and on after its close frame). Without it, the bytes are only discarded. */
  destroy?(): void
}

/** What a {@link Protocol} tells the layer above, synchronously, as it reads. */
export interface ProtocolHandler {
  /** A complete data message (not compressed; in streaming mode, see `onFragment`). */
  onMessage(message: Message): void
  /** Streaming mode: one data frame's payload; `first` begins a message of `type`, `fin` ends it. */
  onFragment(type: MessageType, payload: Uint8Array, first: boolean, fin: boolean): void
  /** A frame of a compressed message (RSV1 under permessage-deflate): inflate, then {@link Protocol.receiveInflated}. */
  onCompressed(type: MessageType, payload: Uint8Array, fin: boolean): void
  /** A ping arrived; its pong is already written, or owed while the output is not writable ({@link Protocol.pongOwed}). */
  onPing(payload: Uint8Array): void
  /**
   * Whether a pong must wait (owed, {@link Protocol.flushPong}) for what arrived before its ping:
   * a compressed message still being inflated, which may yet fail the connection. Without it,
   * pongs wait only for the output.
   */
  holdPongs?(): boolean
  /** A pong arrived. */
  onPong(payload: Uint8Array): void
  /** The peer's close frame arrived (1005 when it had no code); no more frames are read. */
  onCloseFrame(code: number, reason: string): void
  /** The connection failed (RFC 6455 §7.1.7) with `error` (its `closeCode` is the code sent). */
  onFail(error: ProtocolError): void
}

/** Options of a {@link Protocol}. Sizes in bytes. */
export interface ProtocolOptions {
  /** The side this endpoint plays: a client masks what it sends and expects unmasked frames. */
  role: 'client' | 'server'
  /** Largest message accepted, summed over its fragments (default 64 MiB; streaming: none): 1009. */
  maxMessageSize?: number | undefined
  /** Largest frame payload accepted (default `maxMessageSize`): 1009, decided from the header. */
  maxFrameSize?: number | undefined
  /** Most fragments in one message (default 2^20): 1009. */
  maxFragments?: number | undefined
  /** Outgoing messages larger than this are sent as frames of this size (default: one frame). */
  fragmentSize?: number | undefined
  /** Data frames go to {@link ProtocolHandler.onFragment} as they arrive, not assembled. */
  streaming?: boolean | undefined
  /** permessage-deflate was agreed: RSV1 marks a compressed message (RFC 7692 §6). */
  compression?: boolean | undefined
  /**
   * The close frame that answers the peer's close, or that fails the connection, waits for
   * {@link Protocol.flushClose} (the layer above first delivers what arrived before it, and
   * writes the answers its application sent). Off by default: it is written at once.
   */
  deferClose?: boolean | undefined
  /** Memory for payloads that straddle chunks (see `DecodeOptions.allocate`). */
  allocate?: ((length: number) => Uint8Array) | undefined
  /** Where masking keys come from (default: the platform's CSPRNG); for tests. */
  generateMaskingKey?: (() => Uint8Array) | undefined
}

/** A close frame as sent or received. */
export interface CloseFrame {
  /** The close code (1005 for a close frame without one). */
  readonly code: number
  /** The close reason. */
  readonly reason: string
}

/** How a connection ended, as its protocol saw it. */
export interface CloseOutcome {
  /** The peer's close code (1005 when its frame had none), or 1006 without a closing handshake. */
  code: number
  /** The peer's close reason ('' without one). */
  reason: string
  /** Whether both close frames were exchanged and nothing failed. */
  wasClean: boolean
  /**
   * The error iteration ends with, or `undefined` for a clean end: a closing handshake with 1000,
   * 1001 or no code, or any code when this side started the close.
   */
  error: ConnectionClosedError | undefined
}

/** The state of a connection (the WebSocket API's readyState, by name). */
export type ReadyState = 'open' | 'closing' | 'closed'

