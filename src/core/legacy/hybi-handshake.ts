/**
 * The server's side of the hybi-07 and hybi-08 opening handshakes
 * (draft-ietf-hybi-thewebsocketprotocol-07/-08 §4.2; -08 to -12 all send Sec-WebSocket-Version 8).
 * Their framing is RFC 6455's (src/core/decoder.ts reads it unchanged); the handshake differs from
 * RFC 6455 §4.2.1 in two fields only:
 *
 * | field                 | RFC 6455 | hybi-07 | hybi-08 |
 * | --------------------- | -------- | ------- | ------- |
 * | Sec-WebSocket-Version | 13       | 7       | 8       |
 * | the origin            | Origin   | Sec-WebSocket-Origin | Sec-WebSocket-Origin |
 *
 * The response is RFC 6455's (101 Switching Protocols, Sec-WebSocket-Accept from the same GUID),
 * built by src/core/handshake/server.ts's `buildResponse`.
 * @module
 */

import { HandshakeError } from '../errors.ts'
import { HttpHeaders } from '../handshake/headers.ts'
import { validateRequest, type HandshakeRequest, type RequestHead } from '../handshake/server.ts'
import { LegacyVersion, unsupportedVersionError } from './versions.ts'

/** The Sec-WebSocket-Version values of the hybi drafts this module speaks: 7 (hybi-07) and 8 (hybi-08 to -12). */
export type HybiVersion = 7 | 8

/** A hybi-07/08 request that passed {@link validateHybiRequest}: RFC 6455's fields and the version. */
export interface HybiHandshakeRequest extends HandshakeRequest {
  /** The Sec-WebSocket-Version sent: 7 or 8. */
  version: HybiVersion
}

/**
 * Validates a hybi-07 or hybi-08 request (Sec-WebSocket-Version 7 or 8) with RFC 6455's rules, and
 * returns what it asks for, its origin taken from Sec-WebSocket-Origin. Throws HandshakeError as
 * `validateRequest` does (405, 505, 400), and 426 (WS_ERR_UNSUPPORTED_VERSION, listing 13, 8 and 7)
 * when the version is not 7 or 8.
 */
export function validateHybiRequest(head: RequestHead): HybiHandshakeRequest {
  const versions = head.headers.getAll('sec-websocket-version')
  // draft-ietf-hybi-thewebsocketprotocol-08 §4.2.1 item 6: |Sec-WebSocket-Version| with value 8
  // (7 in -07), once.
  const version = versions.length === 1 && (versions[0] === '7' || versions[0] === '8') ? Number(versions[0]) as HybiVersion : undefined
  if (version === undefined) {
    throw unsupportedVersionError([LegacyVersion.HYBI_08, LegacyVersion.HYBI_07])
  }
  // validateRequest speaks version 13 only: the same head with the version field set to 13 runs
  // every other RFC 6455 §4.2.1 check unchanged.
  const as13 = new HttpHeaders()
  for (const [name, value] of head.headers) as13.append(name, name.toLowerCase() === 'sec-websocket-version' ? '13' : value)
  const request = validateRequest({ method: head.method, target: head.target, version: head.version, headers: as13 })
  // -08 §4.2.1 item 7: the origin comes in |Sec-WebSocket-Origin| (at most one).
  const origins = head.headers.getAll('sec-websocket-origin')
  if (origins.length > 1) throw new HandshakeError('more than one Sec-WebSocket-Origin header', 400)
  const hybi: HybiHandshakeRequest = { ...request, headers: head.headers, version }
  delete hybi.origin
  const origin = origins[0] ?? request.origin
  if (origin !== undefined) hybi.origin = origin
  return hybi
}
