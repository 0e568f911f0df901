/**
 * What the reconnecting client retries, decided from why the last attempt ended: a connection
 * that could not be opened (an error) or one that closed (its close code). The rule:
 *
 * | why                                                        | retried |
 * | ---------------------------------------------------------- | ------- |
 * | network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...)  | yes     |
 * | TLS failures (a certificate not trusted, WS_ERR_TLS)       | no      |
 * | handshake timeout, server gone during the handshake (status 0) | yes |
 * | HTTP 408, 425, 429, 500-599                                | yes     |
 * | any other HTTP status (401, 403, 404, 3xx not followed)    | no      |
 * | StallError, TimeoutError                                   | yes     |
 * | close 1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014       | yes     |
 * | close 1002, 1003, 1007, 1008, 1009, 1010, 1015             | no: the same peer would do it again |
 * | close 3000-4999 (registered and application codes)         | no: the application's terminal range |
 * | anything else (a bad response, a bug, an invalid argument) | no      |
 *
 * A `shouldReconnect(reason, attempt)` hook replaces the rule; it may call {@link isRetryable}
 * for the cases it does not decide itself.
 * @module
 */
import type { CloseInfo } from '../core/transport.ts'

/** Close codes after which a new connection may well succeed. */
const RETRYABLE_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014])

/** Error codes of the platform's sockets and resolver that a later attempt may not meet. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENETRESET',
  'EAI_AGAIN', 'ENOTFOUND', 'ENOENT', // ENOENT: a ws+unix socket file not there yet (the server is restarting)
])

/** Whether `value` is a {@link CloseInfo} (how a connection ended), not an error. */
export function isCloseInfo(value: unknown): value is CloseInfo {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as CloseInfo).code === 'number' && typeof (value as CloseInfo).wasClean === 'boolean'
}

/** Whether a connection that closed with `code` is worth opening again (the table above). */
export function isRetryableCloseCode(code: number): boolean {
  return RETRYABLE_CLOSE_CODES.has(code)
}

/** Whether an HTTP status refusing the opening handshake may be different next time (0: no answer at all). */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599)
}

/**
 * The default rule of the reconnecting client: whether the reason the last attempt ended (an
 * error thrown by `connect`, or the {@link CloseInfo} of a connection that closed) is worth
 * another attempt. Errors are recognised by their stable `code` (wsflow's `WS_ERR_*` or the
 * platform's `E*`), so that errors of another copy of wsflow are judged the same.
 * @category Reconnecting
 */
export function isRetryable(reason: unknown): boolean {
  if (isCloseInfo(reason)) return isRetryableCloseCode(reason.code)
  if (typeof reason !== 'object' || reason === null) return false
  const { code } = reason as { code?: unknown }
  switch (code) {
    case 'WS_ERR_HANDSHAKE':
      return isRetryableStatus(Number((reason as { status?: unknown }).status ?? 0))
    case 'WS_ERR_CONNECTION_CLOSED':
      return isRetryableCloseCode(Number((reason as { closeCode?: unknown }).closeCode))
    case 'WS_ERR_CONNECT': // the TCP connection failed (refused, reset, unreachable, not resolved)
    case 'WS_ERR_HANDSHAKE_TIMEOUT':
    case 'WS_ERR_STALL':
    case 'WS_ERR_TIMEOUT':
      return true
    default:
      return typeof code === 'string' && NETWORK_ERROR_CODES.has(code)
  }
}
