import { FrameDecoder, type DecodeOptions } from '../core/decoder.ts'
import { CloseCode, ConnectionClosedError } from '../core/errors.ts'
import type { Frame } from '../core/frame.ts'

/**
 * Returns a transform from a byte stream (a socket, a file holding a captured stream, stdin) to
 * batches of frames: one batch of the frames each chunk completes, so that stages pass arrays,
 * not one async hop per frame. Throws the decoder's `ProtocolError`s, and a
 * `ConnectionClosedError` (1006) when the stream ends in the middle of a frame.
 * Payloads are unmasked in place in the chunks read.
 */
export function decodeFrames(options: DecodeOptions = {}): (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => AsyncGenerator<Frame[], void, undefined> {
  return async function* (source) {
    const decoder = new FrameDecoder(options)
    for await (const chunk of source) {
      decoder.push(chunk)
      let frame = decoder.next()
      if (frame === undefined) continue
      const batch: Frame[] = []
      do {
        batch.push(frame)
        frame = decoder.next()
      } while (frame !== undefined)
      yield batch
    }
    if (decoder.buffered > 0) {
      throw new ConnectionClosedError(CloseCode.ABNORMAL_CLOSURE, `the stream ended in the middle of a frame (${decoder.buffered} bytes left)`, false)
    }
  }
}
