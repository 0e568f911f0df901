/**
 * Fragmentation (RFC 6455 §5.4): one message out as one or more frames.
 * @module
 */
import { Opcode } from './constants.ts'
import { InvalidArgumentError } from './errors.ts'
import type { Frame } from './frame.ts'
import type { Message } from './message.ts'

/**
 * Splits `message` into frames whose payloads are at most `fragmentSize` bytes (views of the
 * message's data, not copies) and appends them to `frames` (returned). The first frame carries
 * the message's opcode and `rsv1` (as permessage-deflate wants); the rest are continuations; the
 * last has FIN set. An empty message is one empty frame. `fragmentSize` of `Infinity` (the
 * default) sends the message as one frame.
 */
export function fragmentMessage(message: Message, fragmentSize = Infinity, rsv1 = false, frames: Frame[] = []): Frame[] {
  if (!(fragmentSize >= 1)) throw new InvalidArgumentError(`fragmentSize must be at least 1 byte (got ${fragmentSize})`)
  const data = message.data
  const opcode = message.type === 'text' ? Opcode.TEXT : Opcode.BINARY
  if (data.length <= fragmentSize) {
    frames.push({ fin: true, rsv1, rsv2: false, rsv3: false, opcode, payload: data })
    return frames
  }
  for (let offset = 0; offset < data.length; offset += fragmentSize) {
    const end = Math.min(offset + fragmentSize, data.length)
    frames.push({
      fin: end === data.length,
      rsv1: offset === 0 && rsv1,
      rsv2: false,
      rsv3: false,
      opcode: offset === 0 ? opcode : Opcode.CONTINUATION,
      payload: data.subarray(offset, end),
    })
  }
  return frames
}
