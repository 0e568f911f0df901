import { fragmentMessage } from '../core/fragmenter.ts'
import type { Frame } from '../core/frame.ts'
import { toMessage, type Outgoing } from '../core/message.ts'

/** Options of {@link fragmentMessages}. */
export interface FragmentOptions {
  /** Largest payload of one frame, in bytes (default: no limit, one frame per message). */
  fragmentSize?: number | undefined
}

/**
 * Returns a transform from outgoing data (strings are text, bytes binary; one at a time or in
 * arrays) to batches of frames, splitting each message into frames of at most `fragmentSize` bytes.
 */
export function fragmentMessages(options: FragmentOptions = {}): (source: AsyncIterable<Outgoing | Outgoing[]> | Iterable<Outgoing | Outgoing[]>) => AsyncGenerator<Frame[], void, undefined> {
  const fragmentSize = options.fragmentSize ?? Infinity
  return async function* (source) {
    for await (const item of source) {
      const frames: Frame[] = []
      if (Array.isArray(item)) for (const data of item) fragmentMessage(toMessage(data), fragmentSize, false, frames)
      else fragmentMessage(toMessage(item), fragmentSize, false, frames)
      if (frames.length > 0) yield frames
    }
  }
}
