/**
 * A message that arrives as a stream of chunks (the connection's streaming mode), so that a huge
 * message never has to fit in memory.
 * @module
 */
import { concatBytes } from '../core/bytes.ts'
import { MessageTooBigError } from '../core/errors.ts'
import { Message, type MessageType } from '../core/message.ts'

/** The connection's side of a {@link MessageStream}: it pushes chunks and ends or fails the stream. */
export interface MessageStreamController {
  /** Adds a chunk; dropped at once (and reported consumed) if the reader has moved on. */
  push(chunk: Uint8Array): void
  /** Ends the stream after the chunks pushed. */
  end(): void
  /** Ends the stream with an error. */
  fail(error: unknown): void
  /** Drops what is buffered and everything pushed later (the reader moved on to the next message). */
  abandon(): void
}

/** A new {@link MessageStream} and the controller that feeds it. */
export interface MessageStreamPair {
  /** The stream, for the reader. */
  stream: MessageStream
  /** The controller, for the connection. */
  controller: MessageStreamController
}

/**
 * One incoming message as an async iterable of chunks (`Uint8Array`s, in order): the payloads of
 * its frames as they arrive. Text chunks are validated UTF-8 as a whole, but a chunk may end in
 * the middle of a character; use `text()` or a streaming TextDecoder.
 */
export class MessageStream implements AsyncIterable<Uint8Array> {
  /** Whether the message is text (UTF-8) or binary. */
  readonly type: MessageType
  #chunks: Uint8Array[] = []
  #head = 0
  #ended = false
  #abandoned = false
  #error: unknown = undefined
  #wake: (() => void) | undefined = undefined
  #iterating = false
  readonly #onConsumed: (bytes: number) => void

  /** Creates a stream and its controller; `onConsumed` hears of every byte the reader took or dropped. */
  static create(type: MessageType, onConsumed: (bytes: number) => void): MessageStreamPair {
    const stream = new MessageStream(type, onConsumed)
    return { stream, controller: stream.#controller() }
  }

  private constructor(type: MessageType, onConsumed: (bytes: number) => void) {
    this.type = type
    this.#onConsumed = onConsumed
  }

  /** Iterates over the chunks; a stream can be iterated once. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#iterating) throw new TypeError('a message stream can be iterated only once')
    this.#iterating = true
    try {
      for (;;) {
        if (this.#head < this.#chunks.length) {
          const chunk = this.#chunks[this.#head]!
          this.#chunks[this.#head++] = EMPTY_CHUNK
          if (this.#head === this.#chunks.length) {
            this.#chunks = []
            this.#head = 0
          }
          this.#onConsumed(chunk.length)
          yield chunk
          continue
        }
        if (this.#error !== undefined) throw this.#error
        if (this.#ended) return
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      if (!this.#ended || this.#head < this.#chunks.length) this.#drop()
    }
  }

  /** Reads the whole message into memory (at most `maxSize` bytes, default 64 MiB; more throws 1009). */
  async collect(maxSize = 64 * 1024 * 1024): Promise<Message> {
    const parts: Uint8Array[] = []
    let size = 0
    for await (const chunk of this) {
      size += chunk.length
      if (size > maxSize) throw new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', `a message of more than ${maxSize} bytes`, maxSize)
      parts.push(chunk)
    }
    return new Message(this.type, concatBytes(parts, size))
  }

  /** Reads the whole message and decodes it as UTF-8. */
  async text(maxSize?: number): Promise<string> {
    return (await this.collect(maxSize)).text()
  }

  #drop(): void {
    this.#abandoned = true
    let dropped = 0
    for (let i = this.#head; i < this.#chunks.length; i++) dropped += this.#chunks[i]!.length
    this.#chunks = []
    this.#head = 0
    if (dropped > 0) this.#onConsumed(dropped)
  }

  #signal(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #controller(): MessageStreamController {
    return {
      push: (chunk) => {
        if (this.#abandoned) {
          this.#onConsumed(chunk.length)
          return
        }
        this.#chunks.push(chunk)
        this.#signal()
      },
      end: () => {
        this.#ended = true
        this.#signal()
      },
      fail: (error) => {
        if (!this.#ended) this.#error ??= error
        this.#signal()
      },
      abandon: () => {
        this.#drop()
        this.#ended = true
        this.#signal()
      },
    }
  }
}

const EMPTY_CHUNK = new Uint8Array(0)
