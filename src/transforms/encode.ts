import { concatBytes } from '../core/bytes.ts'
import { encodeFrame, type EncodeOptions } from '../core/encoder.ts'
import type { Frame } from '../core/frame.ts'

// A batch whose encoded size is at most this is joined into one chunk (one write downstream).
const JOIN_LIMIT = 64 * 1024

/**
 * Returns a transform from frames (single or in batches) to bytes ready for the wire, masked
 * when `mask` is set (a client's frames). A batch of small frames becomes one chunk; large
 * unmasked payloads pass through without a copy.
 */
export function encodeFrames(options: EncodeOptions = {}): (source: AsyncIterable<Frame | Frame[]> | Iterable<Frame | Frame[]>) => AsyncGenerator<Uint8Array, void, undefined> {
  return async function* (source) {
    for await (const item of source) {
      const chunks: Uint8Array[] = []
      if (Array.isArray(item)) for (const frame of item) encodeFrame(frame, options, chunks)
      else encodeFrame(item, options, chunks)
      if (chunks.length === 1) {
        yield chunks[0]!
        continue
      }
      let total = 0
      for (const chunk of chunks) total += chunk.length
      if (total <= JOIN_LIMIT) {
        yield concatBytes(chunks, total)
      } else {
        yield* chunks
      }
    }
  }
}
