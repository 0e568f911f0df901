/**
 * The interfaces a connection runs over, with no I/O of their own: its byte transport, its
 * compression codec, the request that opened it and how it ended. `node/` implements them over
 * Node's sockets and zlib; anything else that moves bytes can too.
 * @module
 */
import type { FrameOutput } from './encoder.ts'
import type { ProtocolOutput } from './protocol.ts'

/** Handlers a {@link Transport} calls with socket events, as methods of the object (`handlers.onData(chunk)`). */
export interface TransportHandlers {
  /** Bytes arrived. */
  onData(chunk: Uint8Array): void
  /** The peer half-closed (sent FIN). */
  onEnd(): void
  /** The transport is closed; `error` is what broke it, if anything. */
  onClose(error: unknown): void
}

/**
 * A byte stream under a connection: `SocketTransport` adapts a Node.js socket; anything else that
 * moves bytes (an in-memory pair, a browser's raw socket) can drive the same connection. It is the
 * protocol's {@link ProtocolOutput} too: frames are written straight into its buffer.
 */
export interface Transport extends ProtocolOutput, FrameOutput {
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

/** What a client knows of the response that opened its connection. */
export interface ResponseInfo {
  /** The URL connected to (after redirects), credentials removed. */
  url: string
  /** The HTTP status (101). */
  status: number
  /** The reason phrase as the server sent it. */
  statusText: string
  /** Response headers, lower-case names; repeated headers joined with ", " (Set-Cookie lines too). */
  headers: Readonly<Record<string, string>>
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
  /** The local address the connection came in on (read from the socket: while it is open). */
  readonly localAddress?: string | undefined
  /** The local port the connection came in on (read from the socket: while it is open). */
  readonly localPort?: number | undefined
  /** Whether the connection is over TLS (`wss://`). */
  readonly secure?: boolean | undefined
  /**
   * TLS: whether the client's certificate was verified against the server's CAs (mutual TLS, with
   * `tls: { requestCert: true }`); false without a certificate or with one not trusted.
   */
  readonly authorized?: boolean | undefined
  /** TLS: why the client's certificate was not verified (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`), if it was not. */
  readonly authorizationError?: string | undefined
  /** TLS: the client's certificate (mutual TLS), or undefined when it sent none. */
  peerCertificate?(): PeerCertificateInfo | undefined
}

/** The parts of a peer's X.509 certificate an application checks (Node's `tls.PeerCertificate` has these and more). */
export interface PeerCertificateInfo {
  /** The subject's fields, e.g. `{ CN: 'alice' }`. */
  readonly subject: Readonly<Record<string, string | string[]>>
  /** The issuer's fields. */
  readonly issuer: Readonly<Record<string, string | string[]>>
  /** Start of validity, as the certificate says it (e.g. `Jan  1 00:00:00 2026 GMT`). */
  readonly valid_from: string
  /** End of validity. */
  readonly valid_to: string
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string
  /** Serial number, hex. */
  readonly serialNumber: string
  /** The DER-encoded certificate. */
  readonly raw: Uint8Array
}

