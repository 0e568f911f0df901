/**
 * The payload of a close frame (RFC 6455 §5.5.1): an optional 2-byte status code in network byte
 * order followed by an optional UTF-8 reason; and which status codes may appear on the wire (§7.4).
 *
 * Close codes valid on the wire, sent or received:
 *
 * | range      | valid | why (RFC 6455 §7.4.1, §7.4.2; IANA "WebSocket Close Code Number Registry") |
 * | ---------- | ----- | ------------------------------------------------------------------------- |
 * | 0-999      | no    | not used                                                                  |
 * | 1000-1003  | yes   | defined by §7.4.1                                                         |
 * | 1004       | no    | reserved                                                                  |
 * | 1005, 1006 | no    | MUST NOT be set in a close frame (no status / abnormal closure)           |
 * | 1007-1011  | yes   | defined by §7.4.1                                                         |
 * | 1012-1014  | yes   | registered with IANA (service restart, try again later, bad gateway)      |
 * | 1015       | no    | MUST NOT be set in a close frame (TLS handshake failure)                  |
 * | 1016-2999  | no    | reserved for future revisions and extensions, unassigned                  |
 * | 3000-3999  | yes   | registered with IANA by libraries and frameworks                          |
 * | 4000-4999  | yes   | private use by applications                                               |
 * | ≥ 5000     | no    | outside the defined ranges                                                |
 * @module
 */

import { CloseCode, InvalidArgumentError, InvalidDataError, ProtocolError } from './errors.ts'
import { isValidUtf8 } from './utf8.ts'

/**
 * Limits a close reason to 123 bytes of UTF-8: RFC 6455 §5.5, a control frame's payload is at most
 * 125 bytes, 2 of which are the status code.
 */
export const MAX_CLOSE_REASON_BYTES = 123

/** RFC 6455 §5.5: a control frame's payload length is 125 bytes or less. */
const MAX_CLOSE_PAYLOAD_BYTES = 2 + MAX_CLOSE_REASON_BYTES

/** Describes a parsed close frame payload: the status code and the reason (possibly empty). */
export interface ClosePayload {
  /** The status code; 1005 (no status received) when the payload was empty. */
  code: number
  /** The reason, decoded from UTF-8; empty when absent. */
  reason: string
}

// ignoreBOM: keep a leading U+FEFF in the reason instead of silently stripping it.
const decoder = /* @__PURE__ */ new TextDecoder('utf-8', { ignoreBOM: true })
const encoder = /* @__PURE__ */ new TextEncoder()
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * Returns true when `code` may appear in a close frame, sent or received: 1000-1003, 1007-1014 and
 * 3000-4999 (see the table above). 1005, 1006 and 1015 are never valid on the wire.
 */
export function isValidCloseCode(code: number): boolean {
  // RFC 6455 §7.4.1: 1005, 1006 and 1015 MUST NOT be set as a status code in a close frame;
  // §7.4.2: 0-999 are not used and 1000-2999 are reserved for the RFC, its revisions and
  // extensions (IANA registers 1012-1014); 3000-4999 are for libraries and applications.
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  )
}

/**
 * Parses the payload of a received close frame into its status code and reason.
 *
 * An empty payload gives `{ code: 1005, reason: '' }`. Throws ProtocolError
 * `WS_ERR_INVALID_CLOSE_PAYLOAD` (1002) for a 1-byte payload or one over 125 bytes, ProtocolError
 * `WS_ERR_INVALID_CLOSE_CODE` (1002) for a code not valid on the wire, and InvalidDataError
 * `WS_ERR_INVALID_UTF8` (1007) for a reason that is not valid UTF-8.
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  const length = payload.length
  // RFC 6455 §5.5.1: the body is optional; with no status code, §7.1.5 says the status is 1005.
  if (length === 0) return { code: CloseCode.NO_STATUS_RECEIVED, reason: '' }
  // RFC 6455 §5.5.1: if there is a body, its first two bytes MUST be a 2-byte status code.
  if (length === 1) {
    throw new ProtocolError('WS_ERR_INVALID_CLOSE_PAYLOAD', 'close frame payload of 1 byte: no room for a status code')
  }
  // RFC 6455 §5.5: all control frames MUST have a payload length of 125 bytes or less.
  if (length > MAX_CLOSE_PAYLOAD_BYTES) {
    throw new ProtocolError(
      'WS_ERR_INVALID_CLOSE_PAYLOAD',
      `close frame payload of ${length} bytes: more than ${MAX_CLOSE_PAYLOAD_BYTES}`,
    )
  }
  // RFC 6455 §5.5.1: the status code is an unsigned 16-bit integer in network byte order.
  const code = (payload[0]! << 8) | payload[1]!
  // RFC 6455 §7.4: a code not valid on the wire (e.g. 1005, 1006, 1015, 0-999) fails the connection.
  if (!isValidCloseCode(code)) {
    throw new ProtocolError('WS_ERR_INVALID_CLOSE_CODE', `invalid close code ${code}`)
  }
  if (length === 2) return { code, reason: '' }
  const reasonBytes = payload.subarray(2)
  // RFC 6455 §5.5.1: the reason is UTF-8 encoded; §8.1: invalid UTF-8 MUST fail the connection (1007).
  if (!isValidUtf8(reasonBytes)) {
    throw new InvalidDataError('WS_ERR_INVALID_UTF8', 'close reason is not valid UTF-8')
  }
  return { code, reason: decoder.decode(reasonBytes) }
}

/**
 * Builds the payload of a close frame to send: empty without a code, else the 2-byte code in
 * network byte order followed by `reason` in UTF-8.
 *
 * Throws InvalidArgumentError `WS_ERR_INVALID_ARGUMENT` for a non-empty reason without a code, a code
 * not valid to send (see {@link isValidCloseCode}), a reason holding a lone surrogate (it has no
 * UTF-8 form), or a reason longer than {@link MAX_CLOSE_REASON_BYTES} (123) bytes once encoded.
 */
export function buildClosePayload(code?: number, reason = ''): Uint8Array {
  if (code === undefined) {
    // RFC 6455 §5.5.1: a reason may only follow a status code.
    if (reason !== '') throw new InvalidArgumentError('a close reason needs a close code')
    return new Uint8Array(0)
  }
  // RFC 6455 §7.4.1: 1005, 1006 and 1015 MUST NOT be sent; §7.4.2: nor codes outside the ranges.
  if (!isValidCloseCode(code)) throw new InvalidArgumentError(`close code ${String(code)} cannot be sent`)
  if (LONE_SURROGATE.test(reason)) {
    throw new InvalidArgumentError('close reason holds a lone surrogate, which has no UTF-8 encoding')
  }
  const reasonBytes = encoder.encode(reason)
  // RFC 6455 §5.5: a control frame's payload is at most 125 bytes, so the reason at most 123.
  if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
    throw new InvalidArgumentError(
      `close reason of ${reasonBytes.length} bytes: more than ${MAX_CLOSE_REASON_BYTES} once UTF-8 encoded`,
    )
  }
  const payload = new Uint8Array(2 + reasonBytes.length)
  payload[0] = code >>> 8
  payload[1] = code & 0xff
  payload.set(reasonBytes, 2)
  return payload
}
