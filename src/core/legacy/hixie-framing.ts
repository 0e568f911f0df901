/**
 * hixie-75/76 framing (draft-hixie-thewebsocketprotocol-75 §4.2-4.3, -76 §5.3): a flat generator
 * that reads frames from a {@link ByteQueue} and yields {@link NEED_MORE} whenever bytes are
 * missing, and the encoder of text and close frames.
 *
 * | first byte (frame type) | what follows                                     | meaning                                   |
 * | ----------------------- | ------------------------------------------------ | ----------------------------------------- |
 * | 0x00                    | UTF-8 text, then 0xFF                            | a text message                            |
 * | 0x01-0x7F               | bytes, then 0xFF                                 | discarded                                 |
 * | 0xFF                    | the length byte 0x00                             | -76: the closing frame; -75: discarded    |
 * | 0x80-0xFF               | a length (7 bits per byte, high bit: more), then that many bytes | discarded            |
 *
 * There is no binary message, no fragmentation, no ping. Text is validated as its bytes arrive
 * (the connection fails at the first invalid byte), and no frame buffers or skips more than
 * `maxMessageSize` bytes: a text frame whose 0xFF has not come by then fails, a length over it
 * fails as soon as it is read. Text payloads are views of the pushed chunks when they lie in one
 * chunk, and one copy otherwise.
 * @module
 */
import { ByteQueue, EMPTY } from '../byte-queue.ts'
import { concatBytes } from '../bytes.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, NEED_MORE, type NeedMore } from '../constants.ts'
import { InvalidArgumentError, MessageTooBigError, ProtocolError } from '../errors.ts'
import { Utf8Validator, isValidUtf8 } from '../utf8.ts'
import { HixieVersion } from './hixie-handshake.ts'

/** A frame read by {@link parseHixieFrames}: a text message, or the -76 closing frame. */
export type HixieFrame =
  | {
    /** A text message (frame type 0x00). */
    readonly type: 'text'
    /** Its UTF-8 bytes, validated. */
    readonly data: Uint8Array
  }
  | {
    /** The closing frame 0xFF 0x00 (hixie-76 only). */
    readonly type: 'close'
  }

/** Options of the hixie frame decoder. */
export interface HixieDecodeOptions {
  /** The draft: in hixie-76 (the default) 0xFF 0x00 is the closing frame, in hixie-75 a frame to discard. */
  version?: HixieVersion | undefined
  /** Largest frame, in bytes, text or discarded (default 64 MiB); a larger one fails with 1009. */
  maxMessageSize?: number | undefined
}

/** The hixie-76 closing frame: frame type 0xFF, length 0 (-76 §5.3, §4.2). */
const CLOSE_FRAME: HixieFrame = Object.freeze({ type: 'close' })
/** A length of 8 bytes of 7 bits (56 bits) holds any length below 2^53; more bytes are never needed. */
const MAX_LENGTH_BYTES = 8

/**
 * Hands out the pushed bytes chunk by chunk: `chunk[pos]` is the next unread byte once
 * {@link fill} returned true. Chunks are drained from the queue as they are needed, so that
 * scanning for a 0xFF and skipping are O(bytes) in any chunking.
 */
class Reader {
  chunk: Uint8Array = EMPTY
  pos = 0
  readonly #input: ByteQueue
  #pending: Uint8Array[] = []
  #next = 0

  constructor(input: ByteQueue) {
    this.#input = input
  }

  /** Makes `chunk[pos]` an unread byte; false when every byte pushed so far has been read. */
  fill(): boolean {
    while (this.pos >= this.chunk.length) {
      if (this.#next >= this.#pending.length) {
        if (this.#input.length === 0) {
          this.chunk = EMPTY // an idle decoder holds no chunk
          this.pos = 0
          return false
        }
        this.#pending = this.#input.drain()
        this.#next = 0
      }
      this.chunk = this.#pending[this.#next]!
      this.#pending[this.#next++] = EMPTY
      this.pos = 0
    }
    return true
  }
}

function tooBig(maxMessageSize: number): MessageTooBigError {
  return new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', `a hixie frame over the limit of ${maxMessageSize} bytes`, maxMessageSize)
}

/**
 * Reads hixie frames from `input` for as long as it is fed: yields each text message and closing
 * frame, or {@link NEED_MORE} when every byte pushed into `input` has been read (push more, then
 * call `next()` again). Throws MessageTooBigError (1009) past `maxMessageSize`, InvalidDataError
 * (1007) at the first byte of invalid UTF-8 in a text frame, ProtocolError (1002) on a length of
 * more than 8 bytes; a generator that has thrown is finished.
 */
export function* parseHixieFrames(input: ByteQueue, options: HixieDecodeOptions = {}): Generator<HixieFrame | NeedMore, never, void> {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
  const hasCloseFrame = (options.version ?? HixieVersion.HIXIE_76) === HixieVersion.HIXIE_76
  const reader = new Reader(input)
  const utf8 = new Utf8Validator()
  for (;;) {
    while (!reader.fill()) yield NEED_MORE
    const frameType = reader.chunk[reader.pos++]!
    if ((frameType & 0x80) !== 0) {
      // -76 §5.3 step 2: with the high bit of the frame type set, a length follows, 7 bits per
      // byte, most significant first, while the byte's high bit is set; then that many bytes,
      // which are discarded.
      let length = 0
      for (let count = 1; ; count++) {
        while (!reader.fill()) yield NEED_MORE
        const b = reader.chunk[reader.pos++]!
        length = length * 128 + (b & 0x7f)
        const more = (b & 0x80) !== 0
        // Checked at each length byte, before any of the frame: with more to come, the length will
        // be at least 128 times what it is now.
        if ((more ? length * 128 : length) > maxMessageSize) throw tooBig(maxMessageSize)
        if (!more) break
        if (count === MAX_LENGTH_BYTES) throw new ProtocolError('WS_ERR_INVALID_LENGTH', `a hixie frame length of more than ${MAX_LENGTH_BYTES} bytes`)
      }
      // -76 §5.3 step 2: a frame type 0xFF with a length of 0 is the closing frame.
      if (hasCloseFrame && frameType === 0xff && length === 0) {
        yield CLOSE_FRAME
        continue
      }
      while (length > 0) {
        while (!reader.fill()) yield NEED_MORE
        const n = Math.min(length, reader.chunk.length - reader.pos)
        reader.pos += n
        length -= n
      }
      continue
    }
    // -76 §5.3 step 3: without the high bit, bytes up to a 0xFF; with frame type 0x00 they are a
    // UTF-8 message, with any other they are discarded. 0xFF never occurs in UTF-8.
    const text = frameType === 0x00
    let pieces: Uint8Array[] = []
    let size = 0
    for (;;) {
      while (!reader.fill()) yield NEED_MORE
      const { chunk, pos } = reader
      const end = chunk.indexOf(0xff, pos)
      const stop = end < 0 ? chunk.length : end
      const n = stop - pos
      if (size + n > maxMessageSize) throw tooBig(maxMessageSize)
      if (text && n > 0) {
        const piece = new Uint8Array(chunk.buffer, chunk.byteOffset + pos, n)
        utf8.write(piece) // throws InvalidDataError (1007) at the first invalid byte
        pieces.push(piece)
      }
      size += n
      reader.pos = end < 0 ? stop : end + 1
      if (end >= 0) break
    }
    if (text) {
      utf8.end()
      const data = pieces.length === 0 ? EMPTY : pieces.length === 1 ? pieces[0]! : concatBytes(pieces, size)
      pieces = []
      yield { type: 'text', data }
    }
  }
}

/**
 * A push-style hixie decoder over {@link parseHixieFrames}: `push(chunk)` bytes in, then call
 * `next()` until it returns `undefined` (more bytes are needed). Once it has thrown, it throws the
 * same error again on every call.
 */
export class HixieDecoder {
  readonly #queue = new ByteQueue()
  readonly #frames: Generator<HixieFrame | NeedMore, never, void>
  #error: unknown = undefined

  /** Creates a decoder with the given options. */
  constructor(options: HixieDecodeOptions = {}) {
    this.#frames = parseHixieFrames(this.#queue, options)
  }

  /** Feeds bytes to the decoder. The chunk is kept by reference until read. */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk)
  }

  /** Returns the next text message or closing frame, or `undefined` when more bytes are needed. */
  next(): HixieFrame | undefined {
    if (this.#error !== undefined) throw this.#error
    try {
      const { value } = this.#frames.next()
      return value === NEED_MORE ? undefined : value
    } catch (error) {
      this.#error = error
      throw error
    }
  }
}

const encoder = /* @__PURE__ */ new TextEncoder()

/**
 * Encodes one text message as a hixie frame: 0x00, its UTF-8 bytes, 0xFF (-76 §4.2, -75 §4.2).
 * A string is encoded as UTF-8; bytes must be valid UTF-8 already (InvalidArgumentError
 * otherwise), which also keeps 0xFF out of the payload.
 */
export function encodeHixieText(data: string | Uint8Array): Uint8Array {
  const payload = typeof data === 'string' ? encoder.encode(data) : data
  if (typeof data !== 'string' && !isValidUtf8(payload)) throw new InvalidArgumentError('a hixie text frame holds valid UTF-8 only')
  const frame = new Uint8Array(payload.length + 2)
  frame.set(payload, 1)
  frame[frame.length - 1] = 0xff
  return frame
}

/** Returns the hixie-76 closing frame, 0xFF 0x00 (-76 §4.2, §5.3), as a new array. */
export function encodeHixieClose(): Uint8Array {
  return Uint8Array.of(0xff, 0x00)
}
