/**
 * The frame encoder (RFC 6455 §5.2): a header, then the payload, masked with a fresh key from the
 * platform's CSPRNG when the sender is a client. Caller data is never modified.
 * @module
 */
import { MAX_CONTROL_PAYLOAD } from './constants.ts'
import { InvalidArgumentError } from './errors.ts'
import type { Frame } from './frame.ts'
import { mask, maskInto } from './mask.ts'

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
 * Returns a fresh 4-byte masking key from the platform's CSPRNG (RFC 6455 §5.3: the masking key
 * MUST be derived from a strong source of entropy). Keys are cut from a pooled random buffer, which
 * is replaced, not refilled, when used up, so a key once returned never changes.
 */
export function generateMaskingKey(): Uint8Array {
  if (keyPoolOffset + 4 > keyPool.length) {
    keyPool = globalThis.crypto.getRandomValues(new Uint8Array(KEY_POOL_SIZE))
    keyPoolOffset = 0
  }
  const key = keyPool.subarray(keyPoolOffset, keyPoolOffset + 4)
  keyPoolOffset += 4
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
  if (options.generateMaskingKey !== undefined) {
    keyScratch.set(options.generateMaskingKey().subarray(0, 4))
  } else {
    if (keyPoolOffset + 4 > keyPool.length) {
      keyPool = globalThis.crypto.getRandomValues(new Uint8Array(KEY_POOL_SIZE))
      keyPoolOffset = 0
    }
    keyScratch[0] = keyPool[keyPoolOffset]!
    keyScratch[1] = keyPool[keyPoolOffset + 1]!
    keyScratch[2] = keyPool[keyPoolOffset + 2]!
    keyScratch[3] = keyPool[keyPoolOffset + 3]!
    keyPoolOffset += 4
  }
  target.set(keyScratch, position)
  position += 4
  maskInto(payload, keyScratch, target, position)
  return position + payload.length
}

/**
 * Encodes `frame` and appends its bytes to `chunks` (returned): one chunk holding header and
 * payload when the payload is small or masked, or the header and the caller's payload as a second
 * chunk (not copied) when it is large and unmasked. The frame's payload is never modified.
 * Throws {@link InvalidArgumentError} for a control frame that is fragmented or over 125 bytes.
 */
export function encodeFrame(frame: Frame, options: EncodeOptions = {}, chunks: Uint8Array[] = []): Uint8Array[] {
  const payload = frame.payload
  const length = payload.length
  if (frame.opcode >= 0x8 && (length > MAX_CONTROL_PAYLOAD || !frame.fin)) {
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
