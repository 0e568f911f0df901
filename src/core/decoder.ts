/**
 * The frame decoder (RFC 6455 §5.2): a flat generator that reads frames from a {@link ByteQueue}
 * and yields {@link NEED_MORE} whenever bytes are missing, resuming where it stopped when more
 * arrive. Every check is decided from the header, before any of the payload is buffered.
 * @module
 */
import { ByteQueue, EMPTY } from './byte-queue.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, MAX_CONTROL_PAYLOAD, NEED_MORE, type NeedMore, type Opcode } from './constants.ts'
import { MessageTooBigError, ProtocolError } from './errors.ts'
import type { Frame } from './frame.ts'

/** The RSV bits of a frame's first byte, for {@link DecodeOptions.allowedRsv}. */
export const Rsv = {
  /** RSV1 (0x40): permessage-deflate's "Per-Message Compressed" bit. */
  RSV1: 0x40,
  /** RSV2 (0x20). */
  RSV2: 0x20,
  /** RSV3 (0x10). */
  RSV3: 0x10,
} as const

/** Options of the frame decoder. */
export interface DecodeOptions {
  /**
   * The role of the endpoint that reads the frames: a `'server'` requires every frame to be masked,
   * a `'client'` requires none to be (RFC 6455 §5.1). Leave it out to accept both, e.g. when
   * reading a capture.
   */
  role?: 'client' | 'server' | undefined
  /** Largest frame payload accepted, in bytes (default 64 MiB); a larger one fails with 1009. */
  maxFrameSize?: number | undefined
  /**
   * RSV bits that a negotiated extension gives a meaning to (a mask of {@link Rsv} values; 0 by
   * default). Any other RSV bit set fails the frame with 1002 (RFC 6455 §5.2).
   */
  allowedRsv?: number | undefined
  /**
   * Makes the array a payload that straddles chunks is copied into (default `new Uint8Array`);
   * it may return uninitialised memory, as every byte is written (the Node layer passes
   * `Buffer.allocUnsafe`, which skips zero-filling).
   */
  allocate?: ((length: number) => Uint8Array) | undefined
  /**
   * Hands a data frame longer than {@link PIECE_SIZE} on in pieces as its bytes arrive, instead of
   * waiting for all of it (streaming mode: a 1 GiB frame goes through in bounded memory). The
   * pieces read as fragments of the message: the first keeps the frame's opcode and RSV bits,
   * the others are continuations, and only the last carries the frame's FIN.
   */
  streamPayloads?: boolean | undefined
  /**
   * Hands on a text frame (opcode 0x1) whose payload has not all arrived in pieces of what has,
   * as {@link streamPayloads} does, so that the layer above checks its UTF-8 as its bytes arrive
   * and fails the connection at the first bad byte, before the frame is whole (RFC 6455 §5.6,
   * §8.1; Autobahn 6.4.3 and 6.4.4 strict). A frame that arrived whole, and a compressed one
   * (RSV1: its text is known only once inflated), are handed on as they are.
   */
  splitPartialText?: boolean | undefined
}

/** Where a decoder stands, for {@link parseFrames}' caller: inside a frame handed on in pieces, or not. */
export interface DecodeProgress {
  /** True while a frame is being handed on in pieces (bytes may all be read while it is not done). */
  midFrame: boolean
}

/** The smallest piece of a long data frame handed on under {@link DecodeOptions.streamPayloads}, except its last: 64 KiB. */
export const PIECE_SIZE = 64 * 1024

// Read and used with no yield in between, so one key serves every decoder.
const maskingKey = new Uint8Array(4)

// Opcodes defined by RFC 6455 §5.2, indexed by opcode: 0-2 data, 8-10 control.
const KNOWN_OPCODE = [true, true, true, false, false, false, false, false, true, true, true, false, false, false, false, false]

/**
 * Reads frames from `input` for as long as it is fed: yields each complete frame, or
 * {@link NEED_MORE} when `input` holds too few bytes to go on (push more bytes into `input`, then
 * call `next()` again). Throws a {@link ProtocolError} (or subclass) for a frame the RFC or the
 * options forbid; a generator that has thrown is finished.
 *
 * Payloads are unmasked in place and are views into the pushed chunks where a payload lies in one
 * chunk; a payload that straddles chunks is copied exactly once.
 */
export function* parseFrames(input: ByteQueue, options: DecodeOptions = {}, progress?: DecodeProgress): Generator<Frame | NeedMore, never, void> {
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_MESSAGE_SIZE
  const forbiddenRsv = 0x70 & ~(options.allowedRsv ?? 0)
  const requireMask = options.role === 'server'
  const forbidMask = options.role === 'client'
  const streamPayloads = options.streamPayloads === true
  const splitPartialText = options.splitPartialText === true
  for (;;) {
    while (input.length < 2) yield NEED_MORE
    const b0 = input.peek(0)
    const b1 = input.peek(1)
    const opcode = b0 & 0x0f
    const fin = (b0 & 0x80) !== 0
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension is negotiated that defines meanings for
    // non-zero values; otherwise the receiving endpoint MUST fail the connection.
    if ((b0 & forbiddenRsv) !== 0) {
      throw new ProtocolError('WS_ERR_UNEXPECTED_RSV', `reserved bits 0x${(b0 & forbiddenRsv).toString(16)} set without an extension`)
    }
    // RFC 6455 §5.2: if an unknown opcode is received, the receiving endpoint MUST fail the connection.
    if (!KNOWN_OPCODE[opcode]) throw new ProtocolError('WS_ERR_INVALID_OPCODE', `unknown opcode ${opcode}`)
    const masked = (b1 & 0x80) !== 0
    // RFC 6455 §5.1: a server MUST close the connection upon receiving an unmasked frame; a client
    // MUST close the connection if it detects a masked frame.
    if (requireMask && !masked) throw new ProtocolError('WS_ERR_EXPECTED_MASK', 'a client frame is not masked')
    if (forbidMask && masked) throw new ProtocolError('WS_ERR_UNEXPECTED_MASK', 'a server frame is masked')
    let length = b1 & 0x7f
    if (opcode >= 0x8) {
      // RFC 6455 §5.5: control frames MUST have a payload length of 125 bytes or less and MUST NOT
      // be fragmented.
      if (!fin) throw new ProtocolError('WS_ERR_INVALID_CONTROL_FRAME', 'a control frame is fragmented')
      if (length > MAX_CONTROL_PAYLOAD) throw new ProtocolError('WS_ERR_INVALID_CONTROL_FRAME', 'a control frame is longer than 125 bytes')
    }
    let headerLength = 2
    if (length === 126) {
      while (input.length < 4) yield NEED_MORE
      length = (input.peek(2) << 8) | input.peek(3)
      headerLength = 4
    } else if (length === 127) {
      while (input.length < 10) yield NEED_MORE
      const high = ((input.peek(2) << 24) | (input.peek(3) << 16) | (input.peek(4) << 8) | input.peek(5)) >>> 0
      // RFC 6455 §5.2: in the 64-bit form, the most significant bit MUST be 0.
      if (high >= 0x80000000) throw new ProtocolError('WS_ERR_INVALID_LENGTH', 'the 64-bit payload length has its top bit set')
      const low = ((input.peek(6) << 24) | (input.peek(7) << 16) | (input.peek(8) << 8) | input.peek(9)) >>> 0
      // Lengths past 2^53 cannot be held; they are over any limit anyway.
      if (high >= 0x200000) throw new MessageTooBigError('WS_ERR_FRAME_TOO_BIG', 'the frame payload length is over 2^53 bytes', maxFrameSize)
      length = high * 0x100000000 + low
      headerLength = 10
    }
    if (length > maxFrameSize) {
      throw new MessageTooBigError('WS_ERR_FRAME_TOO_BIG', `a frame of ${length} bytes is over the limit of ${maxFrameSize} bytes`, maxFrameSize)
    }
    const frameLength = headerLength + (masked ? 4 : 0) + length
    if (input.length < frameLength && ((streamPayloads && length > PIECE_SIZE) || (splitPartialText && opcode === 0x1 && (b0 & 0x40) === 0))) {
      if (progress !== undefined) progress.midFrame = true
      yield* streamFrame(input, b0, headerLength, masked, length, streamPayloads && length > PIECE_SIZE ? PIECE_SIZE : 1)
      if (progress !== undefined) progress.midFrame = false
      continue
    }
    while (input.length < frameLength) yield NEED_MORE // nothing is copied while waiting
    if (masked) {
      maskingKey[0] = input.peek(headerLength)
      maskingKey[1] = input.peek(headerLength + 1)
      maskingKey[2] = input.peek(headerLength + 2)
      maskingKey[3] = input.peek(headerLength + 3)
      input.skip(headerLength + 4)
    } else {
      input.skip(headerLength)
    }
    let payload = masked ? input.takeMasked(length, maskingKey) : input.take(length)
    let frame: Frame | undefined = {
      fin,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: opcode as Opcode,
      payload,
    }
    yield frame
    // A suspended generator keeps its locals: dropped here, an idle connection does not hold on
    // to its last frame's payload, nor the socket chunk it is a view of (bench/memory.ts).
    frame = undefined
    payload = EMPTY
  }
}

/**
 * Reads a data frame's payload in pieces of at least `minPiece` bytes (the last may be shorter)
 * as they arrive, each unmasked with the masking key turned to its offset.
 */
function* streamFrame(input: ByteQueue, b0: number, headerLength: number, masked: boolean, length: number, minPiece: number): Generator<Frame | NeedMore, void, void> {
  // A key of its own: the shared one is overwritten by other decoders while this one waits.
  const key = new Uint8Array(4)
  while (input.length < headerLength + (masked ? 4 : 0)) yield NEED_MORE
  if (masked) for (let i = 0; i < 4; i++) key[i] = input.peek(headerLength + i)
  input.skip(headerLength + (masked ? 4 : 0))
  const turned = new Uint8Array(4)
  for (let done = 0; done < length;) {
    const left = length - done
    while (input.length < Math.min(left, minPiece)) yield NEED_MORE
    const count = Math.min(left, input.length)
    let payload: Uint8Array
    if (masked) {
      for (let i = 0; i < 4; i++) turned[i] = key[(done + i) & 3]!
      payload = input.takeMasked(count, turned)
    } else {
      payload = input.take(count)
    }
    const first = done === 0
    done += count
    yield {
      fin: done === length && (b0 & 0x80) !== 0,
      rsv1: first && (b0 & 0x40) !== 0,
      rsv2: first && (b0 & 0x20) !== 0,
      rsv3: first && (b0 & 0x10) !== 0,
      opcode: (first ? b0 & 0x0f : 0) as Opcode,
      payload,
    }
  }
}

/**
 * A push-style frame decoder over {@link parseFrames}: `push(chunk)` bytes in, then call `next()`
 * until it returns `undefined` (more bytes are needed). Once it has thrown, it throws the same
 * error again on every call.
 */
export class FrameDecoder {
  readonly #queue: ByteQueue
  // What the generator needs, as one frozen object: a frozen options object is kept as it is (the
  // protocol passes one per server's settings, so a connection holds one field for all of them:
  // bench/memory.ts, idle heap), any other is copied, so that changing it later changes nothing.
  readonly #options: DecodeOptions
  /** Whether a frame is being handed on in pieces (see {@link DecodeProgress}). */
  midFrame = false
  // Made on the first bytes and dropped whenever every byte pushed has been decoded (it then
  // waits at a frame boundary): an idle connection holds no suspended generator (bench/memory.ts).
  #frames: Generator<Frame | NeedMore, never, void> | undefined = undefined
  #error: unknown = undefined

  /** Creates a decoder with the given options. */
  constructor(options: DecodeOptions = {}) {
    this.#queue = new ByteQueue(options.allocate)
    this.#options = Object.isFrozen(options) ? options : Object.freeze({
      role: options.role,
      maxFrameSize: options.maxFrameSize,
      allowedRsv: options.allowedRsv,
      streamPayloads: options.streamPayloads === true,
      splitPartialText: options.splitPartialText === true,
    })
  }

  /** Bytes buffered and not yet returned as frames, in bytes. */
  get buffered(): number {
    return this.#queue.length
  }

  /** Feeds bytes to the decoder. The chunk is kept by reference and unmasked in place. */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk)
  }

  /** Returns the next complete frame, or `undefined` when more bytes are needed. */
  next(): Frame | undefined {
    if (this.#error !== undefined) throw this.#error
    try {
      const frames = (this.#frames ??= parseFrames(this.#queue, this.#options, this))
      const { value } = frames.next()
      if (value !== NEED_MORE) return value
      // With no byte left the generator waits for a frame's first byte (nothing to keep), unless
      // it is inside a frame handed on in pieces, which can leave no byte mid-frame.
      if (this.#queue.length === 0 && !this.midFrame) this.#frames = undefined
      return undefined
    } catch (error) {
      this.#error = error
      throw error
    }
  }
}
