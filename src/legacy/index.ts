/**
 * Older WebSocket protocol versions for a wsflow server, opt-in: hixie-75 and hixie-76 (old
 * set-top boxes and embedded clients), hybi-07 and hybi-08 (Sec-WebSocket-Version 7 and 8, to
 * hybi-12). Give `legacy: legacyVersions()` to `serve`; the server hands over only the requests
 * its RFC 6455 handshake refused, so nothing here runs for a version-13 client.
 *
 * ```ts
 * import { serve } from 'wsflow'
 * import { legacyVersions } from 'wsflow/legacy'
 *
 * await serve({ port: 8080, legacy: legacyVersions() }, async (ws) => {
 *   for await (const message of ws) await ws.send(message) // the same loop for every version
 * })
 * ```
 *
 * hybi-07/08 use RFC 6455's framing: those connections are RFC 6455 ones in every respect. The
 * hixie drafts carry text messages only, and no pings, pongs or close codes: their connections run
 * with the heartbeat off, a binary send cuts them, and a close is 0xFF 0x00 (-76) or the end of
 * TCP (-75), seen as a clean close without a code (1005).
 * @module wsflow/legacy
 */
import { LegacyVersion } from '../core/legacy/versions.ts'
import type { LegacyHandshakes } from '../server/server.ts'
import { upgradeLegacy } from './upgrade.ts'

export { HixieTransport } from './hixie-transport.ts'
export { LegacyVersion } from '../core/legacy/versions.ts'
export * as legacyCore from '../core/legacy/index.ts'

const ALL: readonly LegacyVersion[] = [LegacyVersion.HIXIE_75, LegacyVersion.HIXIE_76, LegacyVersion.HYBI_07, LegacyVersion.HYBI_08]

/**
 * The legacy handshakes for a server's `legacy` option: every version listed in `versions`
 * (default all four). A request of a version not listed gets the server's usual refusal.
 */
export function legacyVersions(versions: readonly LegacyVersion[] = ALL): LegacyHandshakes {
  const enabled = [...versions]
  return {
    versions: enabled,
    upgrade: (request, socket, head, context) => upgradeLegacy(enabled, request, socket, head, context),
  }
}
