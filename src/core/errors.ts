/**
 * Errors of wsflow: one class per concept, each carrying a stable string code and, where the
 * error ends a connection, the close code (RFC 6455 §7.4.1) that the connection is failed with.
 *
 * The codes are the stable, documented part: match on `error.code`, never on `error.message`.
 *
 * | code                             | class                   | close code / HTTP status |
 * | -------------------------------- | ----------------------- | ------------------------ |
 * | WS_ERR_PROTOCOL                  | ProtocolError           | 1002                     |
 * | WS_ERR_UNEXPECTED_RSV            | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_OPCODE            | ProtocolError           | 1002                     |
 * | WS_ERR_EXPECTED_MASK             | ProtocolError           | 1002                     |
 * | WS_ERR_UNEXPECTED_MASK           | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_CONTROL_FRAME     | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_LENGTH            | ProtocolError           | 1002                     |
 * | WS_ERR_UNEXPECTED_CONTINUATION   | ProtocolError           | 1002                     |
 * | WS_ERR_EXPECTED_CONTINUATION     | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_CLOSE_PAYLOAD     | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_CLOSE_CODE        | ProtocolError           | 1002                     |
 * | WS_ERR_INVALID_UTF8              | InvalidDataError        | 1007                     |
 * | WS_ERR_INVALID_COMPRESSED_DATA   | InvalidDataError        | 1007                     |
 * | WS_ERR_FRAME_TOO_BIG             | MessageTooBigError      | 1009                     |
 * | WS_ERR_MESSAGE_TOO_BIG           | MessageTooBigError      | 1009                     |
 * | WS_ERR_TOO_MANY_FRAGMENTS        | MessageTooBigError      | 1009                     |
 * | WS_ERR_EXTENSION                 | ProtocolError           | 1010                     |
 * | WS_ERR_HANDSHAKE                 | HandshakeError          | HTTP status (400 etc.)   |
 * | WS_ERR_UNSUPPORTED_VERSION       | HandshakeError          | 426                      |
 * | WS_ERR_HEADERS_TOO_LARGE         | HandshakeError          | 431                      |
 * | WS_ERR_STALL                     | StallError              | 1006 (no close frame)    |
 * | WS_ERR_CONNECTION_CLOSED         | ConnectionClosedError   | the close code seen      |
 * | WS_ERR_INVALID_ARGUMENT          | InvalidArgumentError    | none (API misuse)        |
 * | WS_ERR_ABORTED                   | AbortError              | none (the caller's abort)|
 * | WS_ERR_TIMEOUT                   | TimeoutError            | none (the caller's limit)|
 * | WS_ERR_QUEUE_FULL                | QueueFullError          | none (a bounded queue)   |
 * | WS_ERR_NOT_SUPPORTED             | NotSupportedError       | none (the platform cannot)|
 * @module
 */

/**
 * Close codes of RFC 6455 §7.4.1 and the IANA registry, by name.
 * @category Errors
 */
export const CloseCode = {
  /** 1000: the purpose of the connection has been fulfilled. */
  NORMAL: 1000,
  /** 1001: an endpoint is going away (server shutting down, page navigated away). */
  GOING_AWAY: 1001,
  /** 1002: the peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** 1003: a type of data the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** 1005: reserved; stands for "no status code was present" and is never sent. */
  NO_STATUS_RECEIVED: 1005,
  /** 1006: reserved; stands for "closed without a close frame" and is never sent. */
  ABNORMAL_CLOSURE: 1006,
  /** 1007: data inconsistent with the message type (e.g. text that is not UTF-8). */
  INVALID_DATA: 1007,
  /** 1008: a message that violates the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** 1009: a message too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1010: the client expected the server to negotiate an extension it did not. */
  MANDATORY_EXTENSION: 1010,
  /** 1011: the server hit an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** 1012: the service is restarting. */
  SERVICE_RESTART: 1012,
  /** 1013: try again later. */
  TRY_AGAIN_LATER: 1013,
  /** 1014: a gateway or proxy received an invalid response from upstream. */
  BAD_GATEWAY: 1014,
  /** 1015: reserved; stands for "TLS handshake failed" and is never sent. */
  TLS_HANDSHAKE: 1015,
} as const

/** A stable error code string, such as `WS_ERR_PROTOCOL`. */
export type ErrorCode =
  | 'WS_ERR_PROTOCOL'
  | 'WS_ERR_ABORTED'
  | 'WS_ERR_TIMEOUT'
  | 'WS_ERR_UNEXPECTED_RSV'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_INVALID_CONTROL_FRAME'
  | 'WS_ERR_INVALID_LENGTH'
  | 'WS_ERR_UNEXPECTED_CONTINUATION'
  | 'WS_ERR_EXPECTED_CONTINUATION'
  | 'WS_ERR_INVALID_CLOSE_PAYLOAD'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_INVALID_COMPRESSED_DATA'
  | 'WS_ERR_FRAME_TOO_BIG'
  | 'WS_ERR_MESSAGE_TOO_BIG'
  | 'WS_ERR_TOO_MANY_FRAGMENTS'
  | 'WS_ERR_TOO_MANY_PINGS'
  | 'WS_ERR_INFLATE_MEMORY'
  | 'WS_ERR_EXTENSION'
  | 'WS_ERR_HANDSHAKE'
  | 'WS_ERR_HANDSHAKE_TIMEOUT'
  | 'WS_ERR_CONNECT'
  | 'WS_ERR_TLS'
  | 'WS_ERR_UNSUPPORTED_VERSION'
  | 'WS_ERR_HEADERS_TOO_LARGE'
  | 'WS_ERR_STALL'
  | 'WS_ERR_CONNECTION_CLOSED'
  | 'WS_ERR_INVALID_ARGUMENT'
  | 'WS_ERR_QUEUE_FULL'
  | 'WS_ERR_NOT_SUPPORTED'

const brand: unique symbol = Symbol.for('wsflow.error')

/**
 * Base class of every error wsflow throws; `code` is stable and documented.
 * @category Errors
 */
export class WebSocketError extends Error {
  /** The stable error code, e.g. `WS_ERR_PROTOCOL`. */
  readonly code: ErrorCode
  /** @internal brand checked by {@link isWebSocketError} across copies of the library. */
  readonly [brand] = true

  /** Creates an error with a stable code and a human-readable message. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * The peer broke RFC 6455 (or a negotiated extension); the connection is failed with `closeCode`.
 * @category Errors
 */
export class ProtocolError extends WebSocketError {
  /** The close code the connection is failed with (1002 unless a subclass says otherwise). */
  readonly closeCode: number

  /** Creates a protocol error; `closeCode` defaults to 1002. */
  constructor(code: ErrorCode, message: string, closeCode: number = CloseCode.PROTOCOL_ERROR, options?: ErrorOptions) {
    super(code, message, options)
    this.closeCode = closeCode
  }
}

/**
 * Data inconsistent with its message type (invalid UTF-8, undecodable compressed data): close code 1007.
 * @category Errors
 */
export class InvalidDataError extends ProtocolError {
  /** Creates an invalid-data error with close code 1007. */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, CloseCode.INVALID_DATA, options)
  }
}

/**
 * A frame or message over the configured limit: close code 1009.
 * @category Errors
 */
export class MessageTooBigError extends ProtocolError {
  /** The limit that was passed, in bytes (or fragments for WS_ERR_TOO_MANY_FRAGMENTS). */
  readonly limit: number

  /** Creates a too-big error with close code 1009. */
  constructor(code: ErrorCode, message: string, limit: number, options?: ErrorOptions) {
    super(code, message, CloseCode.MESSAGE_TOO_BIG, options)
    this.limit = limit
  }
}

/**
 * The opening handshake failed; `status` is the HTTP status answered (server) or received (client).
 * @category Errors
 */
export class HandshakeError extends WebSocketError {
  /** The HTTP status: the one to answer with on the server, the one received on the client. */
  readonly status: number
  /** Headers to answer with (server) or received (client), lower-case names. */
  readonly headers: Readonly<Record<string, string>>

  /** Creates a handshake error with an HTTP status (default 400) and optional headers. */
  constructor(
    message: string,
    status = 400,
    headers: Record<string, string> = {},
    code: ErrorCode = 'WS_ERR_HANDSHAKE',
    options?: ErrorOptions,
  ) {
    super(code, message, options)
    this.status = status
    this.headers = headers
  }
}

/**
 * Connecting failed below the WebSocket handshake: the TCP connection (`WS_ERR_CONNECT`: refused,
 * unreachable, reset, a name that does not resolve) or TLS (`WS_ERR_TLS`: a certificate not
 * trusted, a name that does not match, a failed negotiation). The platform's error is the `cause`;
 * its code (`ECONNREFUSED`, `CERT_HAS_EXPIRED`, ...) is in `systemCode`.
 * @category Errors
 */
export class ConnectError extends WebSocketError {
  /** The platform's code for the failure (e.g. `ECONNREFUSED`, `ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`), '' if it gave none. */
  readonly systemCode: string

  /** Wraps `cause`, the platform's error, as a connect (`WS_ERR_CONNECT`) or TLS (`WS_ERR_TLS`) failure. */
  constructor(code: 'WS_ERR_CONNECT' | 'WS_ERR_TLS', message: string, cause: unknown) {
    super(code, message, { cause })
    this.name = 'ConnectError'
    const systemCode = (cause as { code?: unknown } | null)?.code
    this.systemCode = typeof systemCode === 'string' ? systemCode : ''
  }
}

/**
 * The peer was silent for longer than the stall timeout.
 * @category Errors
 */
export class StallError extends WebSocketError {
  /** The timeout that passed, in milliseconds. */
  readonly timeout: number

  /** Creates a stall error for a silence of `timeout` milliseconds. */
  constructor(timeout: number, options?: ErrorOptions) {
    super('WS_ERR_STALL', `no data from the peer for ${timeout} ms`, options)
    this.timeout = timeout
  }
}

/**
 * The connection ended abnormally: without a clean close handshake, or with a close code other than 1000/1001.
 * @category Errors
 */
export class ConnectionClosedError extends WebSocketError {
  /** The close code (1006 when no close frame was received). */
  readonly closeCode: number
  /** The peer's close reason ('' when it gave none or no close frame arrived). */
  readonly reason: string
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean

  /**
   * Creates a connection-closed error. `reason` is the peer's close reason only; what happened
   * on this side goes in `message` (by default one made from the code and reason).
   */
  constructor(closeCode: number, reason: string, wasClean: boolean, options?: ErrorOptions, message?: string) {
    super('WS_ERR_CONNECTION_CLOSED', message ?? `connection closed: ${closeCode}${reason ? ` ${reason}` : ''}`, options)
    this.closeCode = closeCode
    this.reason = reason
    this.wasClean = wasClean
  }
}

/**
 * An API was called with an argument it cannot accept (a programming error, not a peer's).
 * @category Errors
 */
export class InvalidArgumentError extends WebSocketError {
  /** Creates an invalid-argument error. */
  constructor(message: string, options?: ErrorOptions) {
    super('WS_ERR_INVALID_ARGUMENT', message, options)
  }
}

/**
 * A feature the platform cannot provide, e.g. `ping()` or custom request headers in a browser,
 * whose WebSocket exposes neither (named `NotSupportedError`, as the DOM names its own).
 * @category Errors
 */
export class NotSupportedError extends WebSocketError {
  /** The feature asked for, e.g. `'ping()'` or `'the headers option'`. */
  readonly feature: string

  /** Creates a not-supported error for `feature`; `why` says what the platform lacks. */
  constructor(feature: string, why: string, options?: ErrorOptions) {
    super('WS_ERR_NOT_SUPPORTED', `${feature} is not supported: ${why}`, options)
    this.name = 'NotSupportedError'
    this.feature = feature
  }
}

/**
 * A wait was aborted through an `AbortSignal` (named `AbortError`, as Node's own APIs name theirs).
 * @category Errors
 */
export class AbortError extends WebSocketError {
  /** Creates an abort error; the signal's reason becomes its `cause`. */
  constructor(reason?: unknown) {
    super('WS_ERR_ABORTED', 'the operation was aborted', reason === undefined ? undefined : { cause: reason })
    this.name = 'AbortError'
  }
}

/**
 * A wait took longer than the caller allowed.
 * @category Errors
 */
export class TimeoutError extends WebSocketError {
  /** The limit that passed, in milliseconds. */
  readonly timeout: number

  /** Creates a timeout error for a limit of `timeout` milliseconds. */
  constructor(message: string, timeout: number, options?: ErrorOptions) {
    super('WS_ERR_TIMEOUT', message, options)
    this.name = 'TimeoutError'
    this.timeout = timeout
  }
}

/**
 * Brand check: true for an error thrown by any copy of wsflow.
 * @category Errors
 */
export function isWebSocketError(error: unknown): error is WebSocketError {
  return typeof error === 'object' && error !== null && (error as { [brand]?: unknown })[brand] === true
}
