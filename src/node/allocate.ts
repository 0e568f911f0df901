/**
 * Memory for payloads that the core copies into, without the zero-filling that a new
 * `Uint8Array` pays for.
 * @module
 */
import { Buffer } from 'node:buffer'

// Below this size Buffer.allocUnsafe slices Node's shared 8 KiB pool, which a retained small
// payload would pin whole: small arrays are zero-filled, which costs little at that size.
const POOL_SIZE_LIMIT = 4096

/**
 * Returns a `Uint8Array` of `length` bytes whose contents are not initialised (the caller writes
 * every byte): over `Buffer.allocUnsafe` from 4 KiB on, a plain `new Uint8Array` below. Always a
 * plain Uint8Array, not a Buffer, so that code reading payloads sees one shape (bench/decoder.ts).
 */
export function allocateUninitialized(length: number): Uint8Array {
  if (length < POOL_SIZE_LIMIT) return new Uint8Array(length)
  const buffer = Buffer.allocUnsafe(length)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
}
