/**
 * The envelope a publication travels in through Redis: who sent it (so a process ignores its own
 * publications when Redis hands them back), what kind it is, and the payload, byte for byte.
 *
 * ```
 * offset  size  field
 * 0       1     format: 0x77 ('w'), version 1 of this layout
 * 1       1     kind:   0 binary message, 1 text message, 2 resubscription probe
 * 2       16    origin: the publishing process's random id
 * 18      n     payload (a probe's payload is its 4-byte generation, big-endian)
 * ```
 * @module
 */
import { Buffer } from 'node:buffer'

/** The first byte of every envelope (the layout's version). */
export const ENVELOPE_FORMAT = 0x77
/** The length of an origin id, in bytes. */
export const ORIGIN_LENGTH = 16
/** The length of an envelope's header, in bytes. */
export const ENVELOPE_HEADER = 2 + ORIGIN_LENGTH

/** The kinds of envelope: a binary or text publication, or a probe checking a subscription. */
export const EnvelopeKind = { BINARY: 0, TEXT: 1, PROBE: 2 } as const
/** One of {@link EnvelopeKind}'s values. */
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind]

/** An envelope read back: its kind, its origin (a view) and its payload (a view, not a copy). */
export interface Envelope {
  readonly kind: EnvelopeKind
  readonly origin: Uint8Array
  readonly payload: Uint8Array
}

/** Wraps `payload` in an envelope from `origin` (one allocation, one copy of the payload). */
export function encodeEnvelope(kind: EnvelopeKind, origin: Uint8Array, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER + payload.byteLength)
  out[0] = ENVELOPE_FORMAT
  out[1] = kind
  out.set(origin, 2)
  out.set(payload, ENVELOPE_HEADER)
  return out
}

/** Reads an envelope; undefined for bytes that are not one (too short, another format, an unknown kind). */
export function decodeEnvelope(bytes: Uint8Array): Envelope | undefined {
  if (bytes.byteLength < ENVELOPE_HEADER || bytes[0] !== ENVELOPE_FORMAT) return undefined
  const kind = bytes[1]!
  if (kind !== EnvelopeKind.BINARY && kind !== EnvelopeKind.TEXT && kind !== EnvelopeKind.PROBE) return undefined
  return { kind, origin: bytes.subarray(2, ENVELOPE_HEADER), payload: bytes.subarray(ENVELOPE_HEADER) }
}

/** True if an envelope's origin is `origin` (compared byte by byte, without allocating). */
export function isFromOrigin(bytes: Uint8Array, origin: Uint8Array): boolean {
  for (let i = 0; i < ORIGIN_LENGTH; i++) if (bytes[2 + i] !== origin[i]) return false
  return true
}
