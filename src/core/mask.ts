/**
 * Masking and unmasking of payload data (RFC 6455 §5.3), in place: WebAssembly SIMD for large
 * payloads where available (src/core/mask-simd.ts), pure TypeScript otherwise.
 * @module
 */
import { getSimdMasker } from './mask-simd.ts'

// From this many bytes on, payloads go through WebAssembly SIMD (copy into linear memory, v128 XOR,
// copy back; src/core/mask-simd.ts) where the platform has it. bench (bench/mask.ts, Node 20, 2-core
// Xeon, payloads at byte offset 6, MB/s, bytes / words / SIMD): 64 B 2,080 / 1,130 / 1,571; 128 B
// 1,975 / 1,677 / 3,232; 256 B 2,174 / 2,318 / 5,913; 1 KiB 2,312 / 3,775 / 17,482; 4 KiB 2,350 /
// 4,618 / 27,986; 64 KiB 2,277 / 5,059 / 23,916; 1 MiB 2,311 / 5,579 / 24,223; 16 MiB (out of
// cache) 2,190 / 5,230 / 15,173.
// In the decoder (FrameDecoder, masked frames in 64 KiB chunks, frames/s over 2-4 runs, byte loop vs
// SIMD): 64 B 8.5-8.9 M vs 7.3-7.6 M, 96 B 7.2-7.5 M vs 6.9-7.9 M, 112 B 7.0 M vs 7.1-7.5 M, 128 B
// 5.9-6.3 M vs 6.7-7.3 M, 192 B 4.8-5.3 M vs 6.9-7.0 M, 256 B (words) 4.4-4.9 M vs 6.9-7.1 M. The
// fixed cost of the SIMD path (a call into WebAssembly, two copies, one view: ~50 ns) is repaid from
// about 100 bytes on; 128 leaves a margin.
const SIMD_THRESHOLD = 128

// Below SIMD_THRESHOLD, and at every size where WebAssembly SIMD is unavailable: bench
// (bench/mask.ts): 32-bit words win from about 200-250 bytes on (words/bytes 0.8x at 128 B, 0.9x at
// 192 B, 1.0-1.1x at 256 B, 1.3x at 512 B); below that the cost of a Uint32Array view per call
// outweighs the gain, so short payloads use a byte loop. In the decoder, 128- and 160-byte
// frames decode 9-12% faster on the byte loop, 240-byte frames 5% slower.
const WORD_THRESHOLD = 256

const scratchBytes = new Uint8Array(4)
const scratchWord = new Uint32Array(scratchBytes.buffer)

/**
 * XORs `data` in place with the 4-byte masking key, starting at position `offset` of the payload
 * (so a payload that arrives in pieces can be unmasked piece by piece). Masking and unmasking are
 * the same operation.
 */
export function mask(data: Uint8Array, maskingKey: Uint8Array, offset = 0): void {
  const length = data.length
  if (length >= SIMD_THRESHOLD) {
    const simd = getSimdMasker()
    if (simd !== undefined) {
      simd.mask(data, maskingKey, offset, data, 0)
      return
    }
  }
  const k0 = maskingKey[offset & 3]!
  const k1 = maskingKey[(offset + 1) & 3]!
  const k2 = maskingKey[(offset + 2) & 3]!
  const k3 = maskingKey[(offset + 3) & 3]!
  let i = 0
  if (length >= WORD_THRESHOLD) {
    // Bytes until the view is 4-byte aligned, then whole words, then the tail.
    const lead = (4 - (data.byteOffset & 3)) & 3
    for (; i < lead; i++) data[i]! ^= maskingKey[(offset + i) & 3]!
    scratchBytes[0] = maskingKey[(offset + i) & 3]!
    scratchBytes[1] = maskingKey[(offset + i + 1) & 3]!
    scratchBytes[2] = maskingKey[(offset + i + 2) & 3]!
    scratchBytes[3] = maskingKey[(offset + i + 3) & 3]!
    const word = scratchWord[0]!
    const count = (length - i) >>> 2
    const words = new Uint32Array(data.buffer, data.byteOffset + i, count)
    for (let w = 0; w < count; w++) words[w]! ^= word
    i += count << 2
    for (; i < length; i++) data[i]! ^= maskingKey[(offset + i) & 3]!
    return
  }
  const end4 = length & ~3
  for (; i < end4; i += 4) {
    data[i]! ^= k0
    data[i + 1]! ^= k1
    data[i + 2]! ^= k2
    data[i + 3]! ^= k3
  }
  if (i < length) data[i]! ^= k0
  if (i + 1 < length) data[i + 1]! ^= k1
  if (i + 2 < length) data[i + 2]! ^= k2
}

/**
 * Copies `source` into `target` at `targetOffset`, masked with `maskingKey` as from position
 * `offset` of the payload (as in {@link mask}); `source` is left as it was. `target` must have
 * room for `source.length` bytes from `targetOffset`, and the two must not overlap.
 */
export function maskInto(source: Uint8Array, maskingKey: Uint8Array, target: Uint8Array, targetOffset = 0, offset = 0): void {
  const length = source.length
  if (length >= SIMD_THRESHOLD) {
    const simd = getSimdMasker()
    if (simd !== undefined) {
      simd.mask(source, maskingKey, offset, target, targetOffset)
      return
    }
  }
  if (length >= WORD_THRESHOLD) {
    target.set(source, targetOffset)
    mask(target.subarray(targetOffset, targetOffset + length), maskingKey, offset)
    return
  }
  // Short payloads: one pass that copies and masks, with no view allocated.
  const k0 = maskingKey[offset & 3]!
  const k1 = maskingKey[(offset + 1) & 3]!
  const k2 = maskingKey[(offset + 2) & 3]!
  const k3 = maskingKey[(offset + 3) & 3]!
  let i = 0
  const end4 = length & ~3
  for (; i < end4; i += 4) {
    target[targetOffset + i] = source[i]! ^ k0
    target[targetOffset + i + 1] = source[i + 1]! ^ k1
    target[targetOffset + i + 2] = source[i + 2]! ^ k2
    target[targetOffset + i + 3] = source[i + 3]! ^ k3
  }
  if (i < length) target[targetOffset + i] = source[i]! ^ k0
  if (i + 1 < length) target[targetOffset + i + 1] = source[i + 1]! ^ k1
  if (i + 2 < length) target[targetOffset + i + 2] = source[i + 2]! ^ k2
}
