/**
 * A message sent in pieces: `send` with an (async) iterable of chunks becomes one message in
 * fragments (RFC 6455 §5.4), and the options `send` takes besides the data.
 * @module
 */
import { InvalidArgumentError } from '../core/errors.ts'
import type { MessageType } from '../core/message.ts'
import type { Driver } from './driver.ts'

/** What {@link WebSocket.send} takes besides the data. */
export interface SendOptions {
  /**
   * With permessage-deflate: true compresses this message whatever its size, false sends it
   * uncompressed; by default the codec's threshold decides. Without the extension it is ignored.
   */
  compress?: boolean | undefined
}

/** A message given in pieces: strings for a text message or bytes for a binary one, as they come. */
export type Fragments = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>

/** Whether `value` is an iterable of chunks to send as one message (not a string, bytes or a Message: check those first). */
export function isFragments(value: unknown): value is Fragments {
  return typeof value === 'object' && value !== null && (Symbol.asyncIterator in value || Symbol.iterator in value)
}

const ENCODER = new TextEncoder()

/**
 * Sends `source` as one fragmented message, a chunk behind (so that the last one carries FIN),
 * waiting for drain between fragments. A chunk of the other type, or a source that throws, once
 * a fragment went out, fails the connection with 1011 (the message cannot be completed), as python
 * websockets does; before that the send only rejects.
 */
export async function sendFragments(d: Driver, source: Fragments): Promise<void> {
  let type: MessageType | undefined
  let held: Uint8Array | undefined
  let wrote = false
  try {
    for await (const chunk of source) {
      const chunkType: MessageType = typeof chunk === 'string' ? 'text' : 'binary'
      if (!(chunk instanceof Uint8Array) && typeof chunk !== 'string') throw new InvalidArgumentError(`a fragment must be a string or bytes, not ${typeof chunk}`)
      if (type !== undefined && chunkType !== type) throw new InvalidArgumentError(`a ${type} message cannot go on with a ${chunkType} fragment`)
      type = chunkType
      if (held !== undefined) {
        if (!d.protocol.sendFragment(type, held, false)) throw d.closedError('cannot send')
        wrote = true
        await d.whenWritable()
      }
      held = typeof chunk === 'string' ? ENCODER.encode(chunk) : chunk
    }
  } catch (error) {
    if (wrote) d.fail(error) // half a message went out: 1011
    throw error
  }
  if (type !== undefined && held !== undefined && !d.protocol.sendFragment(type, held, true)) throw d.closedError('cannot send')
}
