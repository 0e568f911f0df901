/**
 * Messages (RFC 6455 §5.6: a text or binary payload, possibly sent as several frames) and the
 * values that may be sent as one.
 * @module
 */
import { InvalidArgumentError } from './errors.ts'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8')

/** The two kinds of data message: text (UTF-8) and binary. */
export type MessageType = 'text' | 'binary'

/** Anything that can be sent as a message: a string is sent as text, bytes as binary. */
export type Outgoing = string | Uint8Array | ArrayBufferView | ArrayBuffer | Message

/**
 * A complete data message. `data` holds its bytes; for a text message they are valid UTF-8.
 *
 * ```ts
 * for await (const message of ws) {
 *   if (message.type === 'text') console.log(message.text(), message.json())
 *   else await writeFile('upload.bin', message.data)
 * }
 * ```
 * @category Connections
 */
export class Message {
  /** Whether the message is text (UTF-8) or binary. */
  readonly type: MessageType
  /** The message's bytes (the payloads of all its frames, in order). */
  readonly data: Uint8Array
  #text: string | undefined

  /** Creates a message of `type` over `data` (not copied). */
  constructor(type: MessageType, data: Uint8Array, text?: string) {
    this.type = type
    this.data = data
    this.#text = text
  }

  /** Creates a text message from a string. */
  static text(text: string): Message {
    return new Message('text', utf8Encoder.encode(text), text)
  }

  /** Creates a binary message over `data` (not copied). */
  static binary(data: Uint8Array): Message {
    return new Message('binary', data)
  }

  /** Whether this is a text message. */
  get isText(): boolean {
    return this.type === 'text'
  }

  /** Size of the message's data, in bytes. */
  get size(): number {
    return this.data.length
  }

  /** The data decoded as UTF-8 (a binary message's invalid sequences become U+FFFD). Cached. */
  text(): string {
    this.#text ??= utf8Decoder.decode(this.data)
    return this.#text
  }

  /** The data decoded as UTF-8 and parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T
  }

  /** The text of a text message, or a short description of a binary one. */
  toString(): string {
    return this.type === 'text' ? this.text() : `[binary message, ${this.data.length} bytes]`
  }
}

/**
 * Turns anything that can be sent into a {@link Message} without copying bytes: a string becomes
 * text, a typed array, DataView or ArrayBuffer becomes binary over the same memory.
 */
export function toMessage(data: Outgoing): Message {
  if (typeof data === 'string') return Message.text(data)
  if (data instanceof Message) return data
  if (data instanceof Uint8Array) return new Message('binary', data)
  if (ArrayBuffer.isView(data)) return new Message('binary', new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  if (data instanceof ArrayBuffer) return new Message('binary', new Uint8Array(data))
  throw new InvalidArgumentError(`cannot send a value of type ${typeof data}: expected a string, bytes or a Message`)
}
