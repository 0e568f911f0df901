/**
 * Text messages from the strings the browser hands over. A `Message` keeps its UTF-8 bytes, and
 * the browser's `TextEncoder.encode` has a fixed cost of one to a few microseconds a call (it
 * allocates through the engine's bindings: measured in Chromium 156, 64 characters, 1.6-5.9 µs
 * against 0.3-0.9 µs for `encodeInto`), a cost paid on every message received; short ASCII text,
 * the common case of small messages, is copied by a plain loop instead.
 * @module
 */
import { Message } from '../core/message.ts'

/** Below this many UTF-16 code units, ASCII text is copied by a loop rather than TextEncoder. */
const SHORT_TEXT = 256
// Every character below U+0080: its UTF-8 bytes are its code units.
const ASCII = /^[\x00-\x7f]*$/
const utf8 = new TextEncoder()

/** The text message of `text` (its UTF-8 bytes and the string itself, kept for `text()`). */
export function textMessage(text: string): Message {
  const length = text.length
  if (length < SHORT_TEXT && ASCII.test(text)) {
    const bytes = new Uint8Array(length)
    for (let i = 0; i < length; i++) bytes[i] = text.charCodeAt(i)
    return new Message('text', bytes, text)
  }
  return new Message('text', utf8.encode(text), text)
}
