import { mask, maskInto } from './mask.ts'

function allocateZeroed(length: number): Uint8Array {
  return new Uint8Array(length)
}

/** An empty byte array, shared wherever a zero-length payload is needed. */
export const EMPTY: Uint8Array = new Uint8Array(0)

// Pieces up to this size are copied byte by byte rather than through a view and `set` (bench:
// 20-byte frames in 7-byte chunks, +40-50% frames/s).
const SMALL_COPY = 32

// The chunk list of an empty queue: shared, never written to (an idle connection holds no array).
const NO_CHUNKS: Uint8Array[] = []

/**
 * A queue of bytes kept as a list of chunks with a head index and offset.
 *
 * Pushing never copies or concatenates; reading takes a view when the bytes lie in one chunk and
 * makes exactly one copy when they straddle chunks, so the total cost of feeding N bytes in any
 * chunking is O(N). Chunks are not copied on push: the queue holds on to the caller's chunks
 * until they are consumed.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = NO_CHUNKS
  #head = 0
  #offset = 0
  #length = 0
  readonly #allocate: (length: number) => Uint8Array

  /**
   * Creates an empty queue. `allocate` makes the array that bytes straddling chunks are copied
   * into (default: `new Uint8Array`); every byte of it is written before it is returned, so it
   * may hand out uninitialised memory (the Node layer passes one over `Buffer.allocUnsafe`).
   */
  constructor(allocate: (length: number) => Uint8Array = allocateZeroed) {
    this.#allocate = allocate
  }

  /** Number of bytes buffered, in bytes. */
  get length(): number {
    return this.#length
  }

  /** Appends a chunk (kept by reference, not copied). Empty chunks are ignored. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.#chunks === NO_CHUNKS) this.#chunks = [chunk]
    else this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** Returns the byte at `index` (0 is the oldest buffered byte); `index` must be below `length`. */
  peek(index: number): number {
    let chunk = this.#chunks[this.#head]!
    let i = this.#offset + index
    if (i < chunk.length) return chunk[i]!
    i -= chunk.length
    for (let c = this.#head + 1; ; c++) {
      chunk = this.#chunks[c]!
      if (i < chunk.length) return chunk[i]!
      i -= chunk.length
    }
  }

  /** Drops the oldest `count` bytes; `count` must be at most `length`. */
  skip(count: number): void {
    this.#length -= count
    while (count > 0) {
      const chunk = this.#chunks[this.#head]!
      const left = chunk.length - this.#offset
      if (count < left) {
        this.#offset += count
        return
      }
      count -= left
      this.#advance()
    }
  }

  /**
   * Removes and returns the oldest `count` bytes: a view into the chunk that holds them all (the
   * chunk itself when it is taken whole), or one new array when they straddle chunks. `count` must
   * be at most `length`.
   */
  take(count: number): Uint8Array {
    if (count === 0) return EMPTY
    this.#length -= count
    const chunk = this.#chunks[this.#head]!
    const start = this.#offset
    const left = chunk.length - start
    // Views are built as plain Uint8Arrays, not with `subarray`: on a Node Buffer, `subarray` runs
    // Buffer's own JS version and builds a Buffer, and payloads that are plain Uint8Arrays whether
    // or not they straddle chunks keep `mask` monomorphic (bench/decoder.ts, 64-byte frames in
    // 64 KiB chunks: +25-30% frames/s).
    if (count < left) {
      this.#offset += count
      return new Uint8Array(chunk.buffer, chunk.byteOffset + start, count)
    }
    if (count === left) {
      this.#advance()
      return start === 0 ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + start, left)
    }
    return this.#takeStraddling(count)
  }

  /**
   * Removes and returns the next `count` bytes XORed with `maskingKey` (RFC 6455 §5.3): unmasked
   * in place where they lie in one chunk; where they straddle chunks, each piece is unmasked while
   * it is copied, so the bytes are read once (bench/server.ts, 1 MiB echo).
   */
  takeMasked(count: number, maskingKey: Uint8Array): Uint8Array {
    if (count === 0) return EMPTY
    if (count <= this.#chunks[this.#head]!.length - this.#offset) {
      const payload = this.take(count)
      mask(payload, maskingKey)
      return payload
    }
    this.#length -= count
    return this.#takeStraddling(count, maskingKey)
  }

  /** Copies the oldest `count` bytes, which straddle chunks, into one new array (unmasked with `maskingKey` if given). */
  #takeStraddling(count: number, maskingKey?: Uint8Array): Uint8Array {
    const out = this.#allocate(count)
    let written = 0
    while (written < count) {
      const current = this.#chunks[this.#head]!
      const from = this.#offset
      const n = Math.min(current.length - from, count - written)
      if (maskingKey !== undefined) {
        maskInto(from === 0 && n === current.length ? current : new Uint8Array(current.buffer, current.byteOffset + from, n), maskingKey, out, written, written)
      } else if (n <= SMALL_COPY) {
        for (let k = 0; k < n; k++) out[written + k] = current[from + k]!
      } else {
        out.set(from === 0 && n === current.length ? current : new Uint8Array(current.buffer, current.byteOffset + from, n), written)
      }
      written += n
      if (from + n === current.length) this.#advance()
      else this.#offset = from + n
    }
    return out
  }

  /** Removes and returns every buffered chunk, in order (views where a chunk was partly consumed). */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = []
    while (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head]!
      out.push(this.#offset === 0 ? chunk : chunk.subarray(this.#offset))
      this.#advance()
    }
    this.#length = 0
    return out
  }

  #advance(): void {
    this.#chunks[this.#head] = EMPTY // let the consumed chunk be collected
    this.#head++
    this.#offset = 0
    if (this.#head === this.#chunks.length) {
      this.#chunks = NO_CHUNKS
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      // Compact rarely (amortised O(1)): never an Array#shift per chunk.
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
