import { MessageAssembler, type AssembleOptions } from '../core/assembler.ts'
import { parseClosePayload } from '../core/close-payload.ts'
import { Opcode } from '../core/constants.ts'
import type { Frame } from '../core/frame.ts'
import type { Message } from '../core/message.ts'

/** Options of {@link assembleMessages}. */
export interface AssembleMessagesOptions extends AssembleOptions {
  /**
   * Called with each control frame (ping, pong, close) met between data frames. The stream ends
   * after a close frame, whose payload is checked first (RFC 6455 §5.5.1).
   */
  onControlFrame?: ((frame: Frame) => void) | undefined
}

/**
 * Returns a transform from frames (single or in batches, as {@link decodeFrames} yields them) to
 * complete messages, enforcing the continuation rules, the size limits and strict UTF-8 of text.
 * Control frames may come between fragments; they go to `onControlFrame`, and a close frame
 * ends the stream.
 */
export function assembleMessages(options: AssembleMessagesOptions = {}): (source: AsyncIterable<Frame | Frame[]> | Iterable<Frame | Frame[]>) => AsyncGenerator<Message, void, undefined> {
  const onControlFrame = options.onControlFrame
  return async function* (source) {
    const assembler = new MessageAssembler(options)
    for await (const item of source) {
      const frames = Array.isArray(item) ? item : [item]
      for (const frame of frames) {
        if (frame.opcode >= 0x8) {
          if (frame.opcode === Opcode.CLOSE) parseClosePayload(frame.payload)
          onControlFrame?.(frame)
          if (frame.opcode === Opcode.CLOSE) return
          continue
        }
        const message = assembler.push(frame)
        if (message !== undefined) yield message
      }
    }
  }
}
