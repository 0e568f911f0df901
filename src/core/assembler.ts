/**
 * Message assembly (RFC 6455 §5.4): data frames, possibly fragmented, in; complete messages out.
 * @module
 */
import { EMPTY } from './byte-queue.ts'
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE, Opcode } from './constants.ts'
import { InvalidArgumentError, MessageTooBigError, ProtocolError } from './errors.ts'
import type { Frame } from './frame.ts'
import { Message, type MessageType } from './message.ts'
import { Utf8Validator } from './utf8.ts'

/** Options of message assembly. */
export interface AssembleOptions {
  /** Largest message accepted, in bytes, summed over its fragments (default 64 MiB); more fails with 1009. */
  maxMessageSize?: number | undefined
  /** Most fragments one message may have (default 2^20); more fails with 1009. */
  maxFragments?: number | undefined
}

/**
 * Assembles data frames into messages: `push(frame)` returns the message a frame completes, or
 * `undefined` while a fragmented message goes on. Text is validated as strict UTF-8 as each
 * fragment arrives, so invalid text fails as soon as its first bad byte is seen (RFC 6455 §8.1).
 *
 * Fragments are copied into one growing buffer as they arrive (amortised linear), so a message
 * never pins the larger chunks its fragments were read from, and an empty fragment costs nothing
 * but its count. Control frames are not its business: route them elsewhere.
 */
export class MessageAssembler {
  readonly #maxMessageSize: number
  readonly #maxFragments: number
  // Made for the first text message: binary-only and idle connections hold none.
  #utf8: Utf8Validator | undefined = undefined
  #type: MessageType | undefined = undefined
  #buffer: Uint8Array = EMPTY
  #bufferLength = 0
  #length = 0
  #fragments = 0

  /** Creates an assembler with the given limits. */
  constructor(options: AssembleOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.#maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS
  }

  /** Whether a fragmented message has begun and not yet ended. */
  get inMessage(): boolean {
    return this.#type !== undefined
  }

  /** Bytes of the unfinished message held so far, in bytes. */
  get buffered(): number {
    return this.#bufferLength
  }

  /**
   * Takes the next data frame; returns the message it completes, if any. Throws a
   * {@link ProtocolError} (1002) for a continuation out of place, an {@link InvalidDataError}
   * (1007) for invalid UTF-8 text, a {@link MessageTooBigError} (1009) past a limit.
   */
  push(frame: Frame): Message | undefined {
    const payload = frame.payload
    const type = this.check(frame)
    // The common case, a message in one frame, is handed out without a copy.
    if (frame.fin && frame.opcode !== Opcode.CONTINUATION) return new Message(type, payload)
    if (payload.length > 0) {
      const length = this.#bufferLength + payload.length
      if (length > this.#buffer.length) {
        const grown = new Uint8Array(Math.min(Math.max(length, this.#buffer.length * 2, 256), this.#maxMessageSize))
        grown.set(this.#buffer.subarray(0, this.#bufferLength))
        this.#buffer = grown
      }
      this.#buffer.set(payload, this.#bufferLength)
      this.#bufferLength = length
    }
    if (!frame.fin) return undefined
    const message = new Message(type, this.#buffer.subarray(0, this.#bufferLength))
    this.#buffer = EMPTY
    this.#bufferLength = 0
    return message
  }

  /**
   * Applies the rules of {@link push} to a data frame without keeping its payload: for streaming
   * a message out as its frames arrive. Returns the type of the message the frame belongs to; the
   * message ends with the frame whose `fin` is set. `validateUtf8: false` leaves text unchecked
   * (for compressed payloads, whose inflated text is checked instead).
   */
  check(frame: Frame, validateUtf8 = true): MessageType {
    const opcode = frame.opcode
    if (opcode === Opcode.CONTINUATION) {
      // RFC 6455 §5.4: a continuation frame continues a fragmented message; there is none here.
      if (this.#type === undefined) throw new ProtocolError('WS_ERR_UNEXPECTED_CONTINUATION', 'a continuation frame without a message to continue')
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      // RFC 6455 §5.4: the fragments of one message MUST NOT be interleaved with another message.
      if (this.#type !== undefined) throw new ProtocolError('WS_ERR_EXPECTED_CONTINUATION', 'a new message began before the previous one ended')
      this.#type = opcode === Opcode.TEXT ? 'text' : 'binary'
      this.#fragments = 0
      this.#length = 0
    } else {
      throw new InvalidArgumentError(`the assembler takes data frames only, not opcode ${opcode}`)
    }
    const type = this.#type
    const length = this.#length + frame.payload.length
    if (length > this.#maxMessageSize) this.#tooBig(length)
    if (++this.#fragments > this.#maxFragments) {
      throw new MessageTooBigError('WS_ERR_TOO_MANY_FRAGMENTS', `a message of more than ${this.#maxFragments} fragments`, this.#maxFragments)
    }
    this.#length = length
    if (type === 'text' && validateUtf8) {
      // RFC 6455 §8.1 / §5.6: text MUST be valid UTF-8; checked per fragment so it fails fast.
      const utf8 = (this.#utf8 ??= new Utf8Validator())
      utf8.write(frame.payload)
      if (frame.fin) utf8.end()
    }
    if (frame.fin) this.#type = undefined
    return type
  }

  /** Forgets any unfinished message. */
  reset(): void {
    this.#type = undefined
    this.#buffer = EMPTY
    this.#bufferLength = 0
    this.#length = 0
    this.#fragments = 0
    this.#utf8?.reset()
  }

  #tooBig(length: number): never {
    throw new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', `a message of ${length} bytes or more is over the limit of ${this.#maxMessageSize} bytes`, this.#maxMessageSize)
  }
}
