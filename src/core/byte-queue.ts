/** An empty byte array, shared wherever a zero-length payload is needed. */
export const EMPTY: Uint8Array = new Uint8Array(0)

/**
 * A queue of bytes kept as a list of chunks with a head index and offset.
 *
 * Pushing never copies or concatenates; reading takes a view when the bytes lie in one chunk and
 * makes exactly one copy when they straddle chunks, so the total cost of feeding N bytes in any
 * chunking is O(N). Chunks are not copied on push: the queue holds on to the caller's chunks
 * until they are consumed.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = []
  #head = 0
  #offset = 0
  #length = 0

  /** Number of bytes buffered, in bytes. */
  get length(): number {
    return this.#length
  }

  /** Appends a chunk (kept by reference, not copied). Empty chunks are ignored. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
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
   * Removes and returns the oldest `count` bytes: a view into the chunk that holds them all, or one
   * new array when they straddle chunks. `count` must be at most `length`.
   */
  take(count: number): Uint8Array {
    if (count === 0) return EMPTY
    this.#length -= count
    const chunk = this.#chunks[this.#head]!
    const start = this.#offset
    const left = chunk.length - start
    if (count < left) {
      this.#offset += count
      return chunk.subarray(start, start + count)
    }
    if (count === left) {
      this.#advance()
      return start === 0 ? chunk : chunk.subarray(start)
    }
    const out = new Uint8Array(count)
    let written = 0
    while (written < count) {
      const current = this.#chunks[this.#head]!
      const from = this.#offset
      const n = Math.min(current.length - from, count - written)
      out.set(from === 0 && n === current.length ? current : current.subarray(from, from + n), written)
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
      this.#chunks.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      // Compact rarely (amortised O(1)): never an Array#shift per chunk.
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
