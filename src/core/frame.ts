import type { Opcode } from './constants.ts'

/**
 * One WebSocket frame (RFC 6455 §5.2) as decoded or as to be encoded.
 *
 * `payload` is unmasked application data. A decoded frame's payload may be a view into the bytes
 * that were fed to the decoder (no copy), so it is valid for as long as those bytes are.
 */
export interface Frame {
  /** FIN: the final fragment of a message. */
  fin: boolean
  /** RSV1: used by permessage-deflate (RFC 7692) to mark a compressed message. */
  rsv1: boolean
  /** RSV2: reserved for extensions. */
  rsv2: boolean
  /** RSV3: reserved for extensions. */
  rsv3: boolean
  /** The frame's opcode. */
  opcode: Opcode
  /** The unmasked payload data. */
  payload: Uint8Array
}

/** Builds a frame with RSV bits cleared; a shorthand for tests and examples. */
export function createFrame(opcode: Opcode, payload: Uint8Array, fin = true, rsv1 = false): Frame {
  return { fin, rsv1, rsv2: false, rsv3: false, opcode, payload }
}
