/**
 * Pre-built inputs for the benches: streams of masked binary frames, cut into chunks.
 * @module
 */
import { Opcode } from '../src/core/constants.ts'
import { encodeFrame } from '../src/core/encoder.ts'

/** A stream of frames cut into chunks, with the payloads it carries (to check the decoders' output). */
export interface FrameInput {
  /** The chunks, in order; each is its own Buffer, as a socket read would be. */
  readonly chunks: readonly Buffer[]
  /** The unmasked payload of each frame, in order. */
  readonly payloads: readonly Uint8Array[]
  /** Bytes on the wire (headers, masking keys and payloads), in bytes. */
  readonly wireBytes: number
}

/** Payload bytes that are not all alike, so that a wrong unmask shows up in the check. */
function makePayload(size: number, seed: number): Uint8Array {
  const payload = new Uint8Array(size)
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + seed * 7 + 11) & 0xff
  return payload
}

/**
 * Builds `count` masked binary frames (as a client sends them) of `payloadSize` bytes each, and cuts
 * the whole stream into chunks of `chunkSize` bytes (the last one may be shorter).
 */
export function buildFrameInput(count: number, payloadSize: number, chunkSize: number): FrameInput {
  const payloads: Uint8Array[] = []
  const frames: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const payload = makePayload(payloadSize, i)
    payloads.push(payload)
    encodeFrame({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: Opcode.BINARY, payload }, { mask: true }, frames)
  }
  let wireBytes = 0
  for (const frame of frames) wireBytes += frame.length
  const wire = Buffer.allocUnsafe(wireBytes)
  let offset = 0
  for (const frame of frames) {
    wire.set(frame, offset)
    offset += frame.length
  }
  const chunks: Buffer[] = []
  for (let start = 0; start < wireBytes; start += chunkSize) {
    chunks.push(Buffer.from(wire.subarray(start, Math.min(start + chunkSize, wireBytes))))
  }
  return { chunks, payloads, wireBytes }
}

/** Copies every chunk (for a check that must not see bytes an earlier run unmasked in place). */
export function copyChunks(chunks: readonly Buffer[]): Buffer[] {
  return chunks.map((chunk) => Buffer.from(chunk))
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}
