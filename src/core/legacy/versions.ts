/**
 * Which protocol version a request head speaks, for a server that accepts legacy versions next to
 * RFC 6455, and the 426 answer that lists the versions it accepts:
 *
 * | request                                                        | version   |
 * | -------------------------------------------------------------- | --------- |
 * | Sec-WebSocket-Version: 13 (or another value, or several)       | undefined: the RFC 6455 path decides |
 * | Sec-WebSocket-Version: 8                                       | hybi-08   |
 * | Sec-WebSocket-Version: 7                                       | hybi-07   |
 * | no version, Sec-WebSocket-Key1 or Key2                         | hixie-76  |
 * | no version, no Sec-WebSocket-Key, Upgrade: WebSocket           | hixie-75  |
 * | anything else                                                  | undefined |
 * @module
 */

import { HandshakeError } from '../errors.ts'
import type { RequestHead } from '../handshake/server.ts'
import { hasListToken } from '../handshake/syntax.ts'

/** The legacy versions, by name. */
export const LegacyVersion = {
  /** draft-hixie-thewebsocketprotocol-75. */
  HIXIE_75: 'hixie-75',
  /** draft-hixie-thewebsocketprotocol-76 (also hybi-00). */
  HIXIE_76: 'hixie-76',
  /** draft-ietf-hybi-thewebsocketprotocol-07: Sec-WebSocket-Version 7. */
  HYBI_07: 'hybi-07',
  /** draft-ietf-hybi-thewebsocketprotocol-08 to -12: Sec-WebSocket-Version 8. */
  HYBI_08: 'hybi-08',
} as const

/** A legacy version name. */
export type LegacyVersion = (typeof LegacyVersion)[keyof typeof LegacyVersion]

/** Returns the legacy version a request head speaks (see the table above), or undefined for RFC 6455 and anything else. */
export function detectLegacyVersion(head: Pick<RequestHead, 'headers'>): LegacyVersion | undefined {
  const { headers } = head
  const versions = headers.getAll('sec-websocket-version')
  if (versions.length > 0) {
    if (versions.length > 1) return undefined
    return versions[0] === '8' ? LegacyVersion.HYBI_08 : versions[0] === '7' ? LegacyVersion.HYBI_07 : undefined
  }
  if (headers.has('sec-websocket-key1') || headers.has('sec-websocket-key2')) return LegacyVersion.HIXIE_76
  // An RFC 6455 request that lost its version field is not a hixie-75 one.
  if (headers.has('sec-websocket-key')) return undefined
  return hasListToken(headers.get('upgrade') ?? '', 'websocket') ? LegacyVersion.HIXIE_75 : undefined
}

/**
 * The 426 for a request of a version the server does not speak (RFC 6455 §4.2.2 item 4: the
 * Sec-WebSocket-Version header field lists the versions it understands): 13, then 8 and 7 when
 * those are `enabled` (the hixie drafts have no version field to list).
 */
export function unsupportedVersionError(enabled: readonly LegacyVersion[] = []): HandshakeError {
  const listed = ['13']
  if (enabled.includes(LegacyVersion.HYBI_08)) listed.push('8')
  if (enabled.includes(LegacyVersion.HYBI_07)) listed.push('7')
  return new HandshakeError(`unsupported or missing Sec-WebSocket-Version: expected ${listed.join(', ')}`, 426, { 'sec-websocket-version': listed.join(', ') }, 'WS_ERR_UNSUPPORTED_VERSION')
}
