/**
 * permessage-deflate (RFC 7692), sans-I/O part: parameter negotiation for both sides. The
 * compression itself needs zlib and lives in the Node layer (src/node/deflate.ts).
 * @module
 */
export {
  DeflateParam,
  MAX_WINDOW_BITS,
  MIN_WINDOW_BITS,
  PERMESSAGE_DEFLATE,
  acceptResponse,
  buildOffers,
  negotiate,
  parseWindowBits,
} from './params.ts'
export type { DeflateNegotiation, DeflateParams, PerMessageDeflateOptions } from './params.ts'
