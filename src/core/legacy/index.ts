/**
 * The legacy WebSocket protocol versions, sans-I/O and apart from the RFC 6455 path: the hixie-75
 * and hixie-76 handshakes (with the MD5 answer) and their 0x00 … 0xFF framing, the hybi-07/08
 * handshake (whose framing is RFC 6455's), and which version a request speaks. Pure TypeScript
 * over Uint8Array: no `node:*` import, no Node buffer type, no timers.
 * @module wsflow/legacy
 */
export { md5 } from './md5.ts'
export {
  HIXIE_76_KEY3_LENGTH,
  HixieVersion,
  buildHixieResponse,
  computeHixie76Answer,
  hixieLocation,
  validateHixieRequest,
  type HixieHandshakeRequest,
  type HixieResponseOptions,
} from './hixie-handshake.ts'
export { HixieDecoder, encodeHixieClose, encodeHixieText, parseHixieFrames, type HixieDecodeOptions, type HixieFrame } from './hixie-framing.ts'
export { validateHybiRequest, type HybiHandshakeRequest, type HybiVersion } from './hybi-handshake.ts'
export { LegacyVersion, detectLegacyVersion, unsupportedVersionError } from './versions.ts'
