/**
 * The frame encoder (RFC 6455 §5.2): a header, then the payload, masked with a fresh key from the
 * platform's CSPRNG when the sender is a client. Caller data is never modified.
 * @module
 */
import { isControlOpcode, MAX_CONTROL_PAYLOAD } from './constants.ts'
import { InvalidArgumentError } from './errors.ts'
import type { Frame } from './frame.ts'
import { maskInto } from './mask.ts'

/** Options of the frame encoder. */
export interface EncodeOptions {
  /** Mask the payload, as a client MUST (RFC 6455 §5.3). Default false (a server's frames). */
  mask?: boolean | undefined
  /** Where masking keys come from; default: 4 bytes of a pooled buffer filled by `crypto.getRandomValues`. */
  generateMaskingKey?: (() => Uint8Array) | undefined
}

// Payloads up to this size go out in the same buffer as their header (one write, one copy);
// larger ones are handed on as they are (no copy). bench: copying below 1 KiB is cheaper than a
// second chunk for the socket.
const MERGE_THRESHOLD = 1024

const KEY_POOL_SIZE = 8192
let keyPool = new Uint8Array(0)
let keyPoolOffset = 0

/**
 * Writes a fresh 4-byte masking key from the platform's CSPRNG into `target` at `offset` (RFC 6455
 * §5.3: the masking key MUST be derived from a strong source of entropy). Keys are cut from a
 * pooled random buffer, replaced (not refilled) when used up. The one key source of wsflow: the
 * protocol, the transforms and {@link generateMaskingKey} all draw from it.
 */
export function writeMaskingKey(target: Uint8Array, offset: number): void {
  if (keyPoolOffset + 4 > keyPool.length) {
    keyPool = globalThis.crypto.getRandomValues(new Uint8Array(KEY_POOL_SIZE))
    keyPoolOffset = 0
  }
  target[offset] = keyPool[keyPoolOffset]!
  target[offset + 1] = keyPool[keyPoolOffset + 1]!
  target[offset + 2] = keyPool[keyPoolOffset + 2]!
  target[offset + 3] = keyPool[keyPoolOffset + 3]!
  keyPoolOffset += 4
}

/** Returns a fresh 4-byte masking key (see {@link writeMaskingKey}); a new array each call. */
export function generateMaskingKey(): Uint8Array {
  const key = new Uint8Array(4)
  writeMaskingKey(key, 0)
  return key
}

/** Returns the length of a frame header for a payload of `length` bytes, in bytes. */
export function frameHeaderLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length <= 0xffff ? 4 : 10) + (masked ? 4 : 0)
}

/**
 * Writes a frame's header (first two bytes and extended length, without masking key) into
 * `target` at `offset`; returns the offset after it. `target` needs `frameHeaderLength` bytes.
 */
export function writeFrameHeader(frame: Frame, masked: boolean, target: Uint8Array, offset: number): number {
  const length = frame.payload.length
  target[offset] =
    (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0) | frame.opcode
  const maskBit = masked ? 0x80 : 0
  if (length < 126) {
    target[offset + 1] = maskBit | length
    return offset + 2
  }
  if (length <= 0xffff) {
    target[offset + 1] = maskBit | 126
    target[offset + 2] = length >>> 8
    target[offset + 3] = length & 0xff
    return offset + 4
  }
  target[offset + 1] = maskBit | 127
  const high = Math.floor(length / 0x100000000)
  target[offset + 2] = high >>> 24
  target[offset + 3] = (high >>> 16) & 0xff
  target[offset + 4] = (high >>> 8) & 0xff
  target[offset + 5] = high & 0xff
  target[offset + 6] = length >>> 24
  target[offset + 7] = (length >>> 16) & 0xff
  target[offset + 8] = (length >>> 8) & 0xff
  target[offset + 9] = length & 0xff
  return offset + 10
}

const keyScratch = new Uint8Array(4)

/**
 * Writes a whole frame — header, masking key when `options.mask` is set, and the (masked) payload
 * — into `target` at `offset`, and returns the offset after it. `target` needs
 * `frameHeaderLength(payload.length, mask) + payload.length` bytes from `offset`. The frame's
 * payload is never modified; nothing is allocated. The caller checks control-frame rules (see
 * {@link encodeFrame}).
 */
export function writeFrame(frame: Frame, target: Uint8Array, offset: number, options: EncodeOptions = {}): number {
  const payload = frame.payload
  const masked = options.mask === true
  let position = writeFrameHeader(frame, masked, target, offset)
  if (!masked) {
    target.set(payload, position)
    return position + payload.length
  }
  if (options.generateMaskingKey !== undefined) keyScratch.set(options.generateMaskingKey().subarray(0, 4))
  else writeMaskingKey(keyScratch, 0)
  target.set(keyScratch, position)
  position += 4
  maskInto(payload, keyScratch, target, position)
  return position + payload.length
}

/** Where {@link writeFrameTo} writes: a buffer to reserve bytes in, and a queue for large payloads. */
export interface FrameOutput {
  /** Reserves `length` bytes in {@link FrameOutput.buffer}, to fill at once; returns their offset. */
  reserve(length: number): number
  /** The buffer that `reserve` offsets point into (valid until the next `reserve`). */
  readonly buffer: Uint8Array
  /** Queues chunks after what was reserved so far, uncopied. */
  write(chunks: readonly Uint8Array[]): unknown
}

/**
 * Writes `frame` to `output`: header and payload together in reserved bytes when the payload is
 * small or masked (one chunk per tick for a socket), or the header reserved and a large unmasked
 * payload queued as it is (no copy). `generateMaskingKey` overrides the CSPRNG (for tests).
 */
export function writeFrameTo(output: FrameOutput, frame: Frame, masked: boolean, generateMaskingKey?: (() => Uint8Array) | undefined): void {
  const length = frame.payload.length
  if (masked || length <= MERGE_THRESHOLD) {
    const offset = output.reserve(frameHeaderLength(length, masked) + length)
    writeFrame(frame, output.buffer, offset, masked ? (generateMaskingKey === undefined ? MASKED : { mask: true, generateMaskingKey }) : UNMASKED)
  } else {
    const offset = output.reserve(frameHeaderLength(length, false))
    writeFrameHeader(frame, false, output.buffer, offset)
    output.write([frame.payload])
  }
}

const MASKED: EncodeOptions = { mask: true }
const UNMASKED: EncodeOptions = { mask: false }

/**
 * Encodes `frame` and appends its bytes to `chunks` (returned): one chunk holding header and
 * payload when the payload is small or masked, or the header and the caller's payload as a second
 * chunk (not copied) when it is large and unmasked. The frame's payload is never modified.
 * Throws {@link InvalidArgumentError} for a control frame that is fragmented or over 125 bytes.
 */
export function encodeFrame(frame: Frame, options: EncodeOptions = {}, chunks: Uint8Array[] = []): Uint8Array[] {
  const payload = frame.payload
  const length = payload.length
  if (isControlOpcode(frame.opcode) && (length > MAX_CONTROL_PAYLOAD || !frame.fin)) {
    // RFC 6455 §5.5: control frames MUST have a payload of 125 bytes or less and MUST NOT be fragmented.
    throw new InvalidArgumentError(`a control frame must be final and carry at most 125 bytes (got ${length})`)
  }
  const masked = options.mask === true
  const headerLength = frameHeaderLength(length, masked)
  if (!masked && length > MERGE_THRESHOLD) {
    const header = new Uint8Array(headerLength)
    writeFrameHeader(frame, false, header, 0)
    chunks.push(header, payload)
    return chunks
  }
  const out = new Uint8Array(headerLength + length)
  writeFrame(frame, out, 0, options)
  chunks.push(out)
  return chunks
}
