/**
 * permessage-deflate (RFC 7692) compression with node:zlib: one {@link PerMessageDeflate} per
 * connection compresses outgoing messages and decompresses incoming ones with the parameters agreed
 * in the handshake (src/core/deflate/params.ts), and one global limiter bounds how many zlib
 * operations run at once across all connections.
 *
 * Memory: a zlib object is created on the first message in its direction, and released
 *  - right after each message in a direction without context takeover (or, with `idleTimeout`,
 *    reset and kept for reuse until it has been idle that long);
 *  - after `idleTimeout` of idleness for the compressor with context takeover: the compressor's
 *    window is an optimisation the peer cannot see (RFC 7692 §7.2.1: it MAY refer to earlier
 *    messages, never must), and a fresh compressor's blocks continue the peer's stream correctly;
 *  - never before {@link PerMessageDeflate.release} for the decompressor with context takeover: the
 *    peer's next message may refer to any of the last 2^windowBits bytes of earlier messages, which
 *    exist only in that inflater's window; dropping it would make the next message undecodable.
 * zlib allocates about 256 KiB for a compressor (memLevel 8, 15 window bits) and 40 KiB for a
 * decompressor. Measured (test/unit/node/deflate.test.ts with WSFLOW_DEFLATE_MEMORY=1, 1,000
 * codecs, one 4 KiB message each way): 175-225 KiB of rss per connection with context takeover, as
 * ws; 4-5 KiB without (ws keeps its reset zlib objects: 145-190 KiB).
 * @module
 */

import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib'
import { concatBytes } from '../core/bytes.ts'
import { DEFAULT_MAX_MESSAGE_SIZE } from '../core/constants.ts'
import type { DeflateParams, PerMessageDeflateOptions } from '../core/deflate/params.ts'
import { CloseCode, ConnectionClosedError, InvalidArgumentError, InvalidDataError, MessageTooBigError, ProtocolError } from '../core/errors.ts'
import { sharedWheel, WheelTimer } from '../internal/timer-wheel.ts'

/** RFC 7692 §7.2.1: the empty stored block a sync flush ends with, removed by the sender. */
const TRAILER = Uint8Array.of(0x00, 0x00, 0xff, 0xff)
/** RFC 7692 §7.2.3.6: an empty stored block's first byte stands for a message with no data. */
const EMPTY_MESSAGE = Uint8Array.of(0x00)
const RESOLVED: Promise<unknown> = Promise.resolve()
const ignore = (): void => {}

// ---------------------------------------------------------------------------------------------
// The global limit on concurrent zlib operations

/** How many zlib operations run at once across all connections unless changed (like ws). */
export const DEFAULT_ZLIB_CONCURRENCY = 10

/** A FIFO counting semaphore. */
class Limiter {
  limit: number
  active = 0
  #waiting: (() => void)[] = []
  #head = 0

  constructor(limit: number) {
    this.limit = limit
  }

  get waiting(): number {
    return this.#waiting.length - this.#head
  }

  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  release(): void {
    this.active--
    this.#wake()
  }

  #wake(): void {
    while (this.active < this.limit && this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!
      this.#waiting[this.#head++] = ignore
      if (this.#head === this.#waiting.length) {
        this.#waiting = []
        this.#head = 0
      }
      this.active++
      next()
    }
  }

  setLimit(limit: number): void {
    this.limit = limit
    this.#wake()
  }
}

const limiter = new Limiter(DEFAULT_ZLIB_CONCURRENCY)

/**
 * Inflated bytes all connections of the process may hold at once before they are handed over as
 * messages (default 256 MiB). Each message is bounded by its connection's `maxMessageSize`; this
 * bounds their sum, against many zip bombs at once (110 of them held some 800 MiB before each
 * got its 1009): past it, an inflation holding more than 64 KiB fails its connection with 1013
 * (try again later); smaller messages still pass, so the sum may pass the bound by 64 KiB per
 * connection inflating at once, and a good client's small message is not refused for the bombs.
 */
export const DEFAULT_INFLATE_MEMORY_LIMIT = 256 * 1024 * 1024
let inflateMemoryLimit = DEFAULT_INFLATE_MEMORY_LIMIT
// An inflation holding no more than this is never refused for the process's bound (see #onData).
const SMALL_INFLATION = 64 * 1024
let inflateMemory = 0

/**
 * Sets the process-wide bound on inflated bytes held at once (see {@link DEFAULT_INFLATE_MEMORY_LIMIT}); Infinity for none.
 * @category Compression
 */
export function setInflateMemoryLimit(bytes: number): void {
  if (!(bytes === Infinity || (Number.isInteger(bytes) && bytes >= 0))) {
    throw new InvalidArgumentError(`the inflate memory limit must be a whole number of bytes or Infinity, not ${bytes}`)
  }
  inflateMemoryLimit = bytes
}

/**
 * Sets how many zlib operations (compressing or decompressing one message or fragment) may run at
 * once across all connections of the process; the others wait their turn, first come first
 * served. Raising the limit starts waiting operations at once. Throws InvalidArgumentError unless
 * `limit` is a positive integer or Infinity.
 * @category Compression
 */
export function setZlibConcurrency(limit: number): void {
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) {
    throw new InvalidArgumentError(`the zlib concurrency must be a positive integer or Infinity, not ${limit}`)
  }
  limiter.setLimit(limit)
}

/** The state of the global zlib limiter. */
export interface ZlibActivity {
  /** Most zlib operations allowed at once. */
  limit: number
  /** Operations running now. */
  active: number
  /** Operations waiting for a turn. */
  waiting: number
  /** Inflated bytes held now, across all connections, not yet handed over as messages. */
  inflating: number
  /** The bound on them (see {@link setInflateMemoryLimit}). */
  inflateMemoryLimit: number
}

/**
 * The global zlib limiter's state, for monitoring and tests.
 * @category Compression
 */
export function getZlibActivity(): ZlibActivity {
  return { limit: limiter.limit, active: limiter.active, waiting: limiter.waiting, inflating: inflateMemory, inflateMemoryLimit }
}

// ---------------------------------------------------------------------------------------------
// Window bits

/**
 * The `windowBits` to give zlib's raw compressor for an agreed window of `bits` (8-15): `bits`,
 * except 9 for 8.
 *
 * zlib 1.2.9 and later reject a raw deflate stream with windowBits 8 (deflateInit2 returns
 * Z_STREAM_ERROR; Node quietly passes 9 instead), because its compressor is broken with a 256-byte
 * window. Using 9 is still correct for a peer that declared an 8-bit window: zlib never emits a
 * match farther back than MAX_DIST = window size - MIN_LOOKAHEAD (258 + 3 + 1 = 262 bytes), which
 * with a 512-byte window is 250 bytes, inside the peer's 256, also across messages with context
 * takeover. test/unit/node/deflate.test.ts decodes the output and checks every distance.
 * Decompression needs no such care: zlib inflates raw streams with an 8-bit window.
 */
export function deflateWindowBits(bits: number): number {
  return bits === 8 ? 9 : bits
}

// ---------------------------------------------------------------------------------------------
// One zlib object, driven message by message

type ZlibTransform = DeflateRaw | InflateRaw

/**
 * A zlib stream with two permanent listeners ('data', 'error') that report to the operation in
 * progress, so nothing is added or removed per message. `run` writes the inputs and flushes with
 * Z_SYNC_FLUSH; it resolves once zlib has handed over all the output, and rejects (destroying the
 * stream) on a zlib error or once the output passes `limit` bytes, as soon as the chunk that
 * passes it arrives (at most one chunk, 16 KiB, past the limit is ever held).
 */
class ZlibStream {
  readonly stream: ZlibTransform
  /** The stream ended (a block with BFINAL set, RFC 7692 §7.2.3.4): nothing more comes out. */
  ended = false
  #chunks: Buffer[] = []
  #length = 0
  #limit = Infinity
  #op: { resolve: () => void; reject: (error: unknown) => void } | undefined = undefined
  // An inflater's output counts against the process's inflate memory.
  readonly #counted: boolean

  constructor(stream: ZlibTransform, counted = false) {
    this.stream = stream
    this.#counted = counted
    stream.on('data', (chunk: Buffer) => this.#onData(chunk))
    stream.on('error', (error: Error) => this.#fail(error))
    stream.on('end', () => {
      this.ended = true
    })
  }

  /** Output bytes collected since the last {@link take}. */
  get length(): number {
    return this.#length
  }

  run(inputs: readonly Uint8Array[], limit: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#op = { resolve, reject }
      this.#limit = limit
      for (const input of inputs) if (input.length > 0) this.stream.write(input)
      this.stream.flush(constants.Z_SYNC_FLUSH, () => this.#flushed())
    })
  }

  /** The output collected since the last call, as chunks, and forgets it. */
  take(): Buffer[] {
    const chunks = this.#chunks
    this.#forget()
    return chunks
  }

  #forget(): void {
    if (this.#counted) inflateMemory -= this.#length
    this.#chunks = []
    this.#length = 0
  }

  /** Destroys the zlib object (freeing its memory) and rejects the operation in progress with `error`. */
  destroy(error: unknown): void {
    this.#forget()
    this.#fail(error)
  }

  #flushed(): void {
    const op = this.#op
    // A destroyed stream calls back with ERR_STREAM_DESTROYED after the operation was settled.
    if (op === undefined) return
    // zlib pushes its output before it calls the flush back, and a flowing stream with a 'data'
    // listener emits it at once; anything still buffered is read out (read() emits 'data').
    while (this.stream.readableLength > 0 && this.stream.read() !== null) {
      // read() hands the chunk to the 'data' listener
    }
    if (this.#op === undefined) return // the limit was passed while reading out
    this.#op = undefined
    op.resolve()
  }

  #onData(chunk: Buffer): void {
    if (this.#op === undefined) return // output after a failure: dropped with the stream
    this.#chunks.push(chunk)
    this.#length += chunk.length
    if (this.#counted) inflateMemory += chunk.length
    if (this.#length > this.#limit) {
      const limit = this.#limit
      this.destroy(new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', `a compressed message inflates to more than ${limit} bytes`, limit))
      return
    }
    // Past the process's bound, the inflation that holds much fails; a small message (under
    // SMALL_INFLATION) still passes, so that the peers holding the memory are the ones refused.
    if (this.#counted && inflateMemory > inflateMemoryLimit && this.#length > SMALL_INFLATION) {
      this.destroy(new ProtocolError('WS_ERR_INFLATE_MEMORY', `the process holds more than ${inflateMemoryLimit} inflated bytes: try again later`, CloseCode.TRY_AGAIN_LATER))
    }
  }

  #fail(error: unknown): void {
    const op = this.#op
    this.#op = undefined
    this.stream.destroy()
    op?.reject(error)
  }
}

// ---------------------------------------------------------------------------------------------
// The codec of one connection

/** Options of {@link PerMessageDeflate} (sizes in bytes, durations in milliseconds). */
export interface PerMessageDeflateCodecOptions {
  /** zlib compression level, 0 (none) to 9 (best), or -1 for zlib's default (6). Default -1. */
  level?: number | undefined
  /** zlib memLevel, 1 to 9: memory for the compressor's hash table, 2^(memLevel + 9) bytes and more. Default 8. */
  memLevel?: number | undefined
  /**
   * In a direction without context takeover, messages smaller than this many bytes are sent
   * uncompressed ({@link PerMessageDeflate.isCompressible}); with context takeover every message is
   * compressed, whatever its size. Default 1024.
   */
  threshold?: number | undefined
  /** Largest inflated message, in bytes: decompression stops with a 1009 once passed. Default 64 MiB. */
  maxMessageSize?: number | undefined
  /**
   * Milliseconds an idle zlib object that can be recreated without the peer noticing is kept: a
   * direction without context takeover then resets its zlib object after each message and keeps it
   * for the next one, and the compressor with context takeover is released once idle that long.
   * 0 (the default): no idle keeping; a direction without context takeover releases its zlib object
   * right after each message, and a compressor with context takeover is kept until `release()`.
   */
  idleTimeout?: number | undefined
}

/**
 * permessage-deflate for one connection (RFC 7692 §7.2): compresses the messages this endpoint
 * sends with its own side's parameters (a client with the `client_*` ones, a server with the
 * `server_*` ones) and decompresses the peer's with the other side's. Calls in one direction run
 * one at a time in call order, so results come back in order. After a decompression error the
 * context of that direction is lost: every later `decompress` rejects with the same error, and the
 * connection must be failed with its close code.
 *
 * The connection calls {@link release} when it closes, which frees the zlib memory at once and
 * rejects any operation in progress with a ConnectionClosedError.
 * @category Compression
 */
export class PerMessageDeflate {
  /** The agreed parameters. */
  readonly params: DeflateParams
  /** The side this endpoint plays. */
  readonly role: 'client' | 'server'

  readonly #level: number
  readonly #memLevel: number
  readonly #threshold: number
  readonly #maxMessageSize: number
  readonly #idleTimeout: number
  /** Compressing direction: reset after each message, and the agreed window bits. */
  readonly #deflateNoContextTakeover: boolean
  readonly #deflateWindowBits: number
  /** Decompressing direction: the peer resets after each message, and the peer's window bits. */
  readonly #inflateNoContextTakeover: boolean
  readonly #inflateWindowBits: number

  #deflate: ZlibStream | undefined = undefined
  #inflate: ZlibStream | undefined = undefined
  #deflateTail: Promise<unknown> = RESOLVED
  #inflateTail: Promise<unknown> = RESOLVED
  // The idle deadlines (with idleTimeout), on the shared timer wheel: made once, rescheduled per message.
  #deflateIdle: WheelTimer | undefined = undefined
  #inflateIdle: WheelTimer | undefined = undefined
  #inflateError: unknown = undefined
  #released = false

  /** Creates the codec for `params` agreed in the handshake, on the side `role`. Throws InvalidArgumentError on invalid options. */
  constructor(params: DeflateParams, role: 'client' | 'server', options: PerMessageDeflateCodecOptions = {}) {
    this.params = params
    this.role = role
    for (const bits of [params.serverMaxWindowBits, params.clientMaxWindowBits]) {
      if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new InvalidArgumentError(`window bits must be 8 to 15, not ${bits}`)
    }
    this.#level = options.level ?? constants.Z_DEFAULT_COMPRESSION
    if (!Number.isInteger(this.#level) || this.#level < -1 || this.#level > 9) throw new InvalidArgumentError(`level must be -1 to 9, not ${this.#level}`)
    this.#memLevel = options.memLevel ?? 8
    if (!Number.isInteger(this.#memLevel) || this.#memLevel < 1 || this.#memLevel > 9) throw new InvalidArgumentError(`memLevel must be 1 to 9, not ${this.#memLevel}`)
    this.#threshold = nonNegative('threshold', options.threshold ?? 1024)
    this.#maxMessageSize = nonNegative('maxMessageSize', options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE)
    this.#idleTimeout = nonNegative('idleTimeout', options.idleTimeout ?? 0)
    const client = role === 'client'
    this.#deflateNoContextTakeover = client ? params.clientNoContextTakeover : params.serverNoContextTakeover
    this.#deflateWindowBits = deflateWindowBits(client ? params.clientMaxWindowBits : params.serverMaxWindowBits)
    this.#inflateNoContextTakeover = client ? params.serverNoContextTakeover : params.clientNoContextTakeover
    this.#inflateWindowBits = client ? params.serverMaxWindowBits : params.clientMaxWindowBits
  }

  /** Whether a compressor exists right now (for introspection and tests: it is created lazily and released as described above). */
  get hasDeflater(): boolean {
    return this.#deflate !== undefined
  }

  /** Whether a decompressor exists right now (for introspection and tests). */
  get hasInflater(): boolean {
    return this.#inflate !== undefined
  }

  /**
   * Whether a message is worth compressing: always with context takeover in this endpoint's sending
   * direction, and from `threshold` bytes up without it (as ws decides).
   *
   * With context takeover a small message compresses against the window of the messages before it
   * (RFC 7692 §7.2.1: a message MAY refer to earlier ones), and the compressor only learns the
   * messages it compresses: one sent uncompressed is missing from the window of the next.
   * bench/compression.ts, 1,000 chat-like JSON messages of 67-300 bytes echoed with context
   * takeover: 0.26 wire bytes per payload byte with every message compressed (as ws), 1.04 with the
   * threshold applied. Without context takeover each message starts from an empty window: the same
   * messages, all compressed, still take 0.79 of their size on the wire for 18-22x the CPU of
   * sending them plain (the row "no context takeover, threshold 0"), so the threshold applies there.
   * Peers see the difference too: libwebsockets' 4.1 client stops sending after an uncompressed
   * message arrives on a connection with permessage-deflate (test/integration/deflate.test.ts).
   */
  isCompressible(data: Uint8Array): boolean {
    return !this.#deflateNoContextTakeover || data.length >= this.#threshold
  }

  /**
   * Compresses one whole message (RFC 7692 §7.2.1): raw deflate, flushed with Z_SYNC_FLUSH, the
   * trailing 0x00 0x00 0xff 0xff removed. The result goes in frames with RSV1 set on the first.
   * Rejects with a ConnectionClosedError after {@link release}.
   */
  compress(data: Uint8Array): Promise<Uint8Array> {
    const result = this.#deflateTail.then(() => this.#compress(data))
    this.#deflateTail = result.then(ignore, ignore)
    return result
  }

  /**
   * Decompresses one fragment of a compressed message (RFC 7692 §7.2.2): feed the payload of each
   * frame of the message in order, `fin` set on the last. Resolves with undefined for a fragment
   * that does not end the message and with the whole inflated message for the one that does.
   * Rejects with a MessageTooBigError (1009) as soon as the inflated size passes `maxMessageSize`,
   * without inflating the rest; with an InvalidDataError (1007) on data that is not valid deflate;
   * with a ConnectionClosedError after {@link release}.
   */
  decompress(payload: Uint8Array, fin: boolean): Promise<Uint8Array | undefined> {
    const result = this.#inflateTail.then(() => this.#decompress(payload, fin))
    this.#inflateTail = result.then(ignore, ignore)
    return result
  }

  /** Frees both zlib objects and stops timers; later and pending calls reject. Call it when the connection closes. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#dropDeflate()
    this.#dropInflate()
  }

  async #compress(data: Uint8Array): Promise<Uint8Array> {
    await this.#acquire()
    let deflate: ZlibStream | undefined
    try {
      this.#deflateIdle?.cancel()
      deflate = this.#deflate ??= new ZlibStream(createDeflateRaw({ level: this.#level, memLevel: this.#memLevel, windowBits: this.#deflateWindowBits }))
      await deflate.run([data], Infinity)
      const length = deflate.length
      return stripTrailer(deflate.take(), length)
    } catch (error) {
      if (this.#deflate === deflate) this.#dropDeflate()
      throw error
    } finally {
      limiter.release()
      if (this.#deflate !== undefined) this.#idle('deflate', this.#deflateNoContextTakeover)
    }
  }

  async #decompress(payload: Uint8Array, fin: boolean): Promise<Uint8Array | undefined> {
    if (this.#inflateError !== undefined) throw this.#inflateError
    await this.#acquire()
    let inflate: ZlibStream | undefined
    try {
      this.#inflateIdle?.cancel()
      inflate = this.#inflate ??= new ZlibStream(createInflateRaw({ windowBits: this.#inflateWindowBits }), true)
      // RFC 7692 §7.2.2: append 0x00 0x00 0xff 0xff to the payload of the message's last frame.
      await inflate.run(fin ? [payload, TRAILER] : [payload], this.#maxMessageSize)
      if (!fin) return undefined
      const length = inflate.length
      const message = concat(inflate.take(), length)
      // RFC 7692 §7.2.3.4: a message may end its DEFLATE stream (BFINAL set); the next message
      // then starts a new one, with a new inflater. zlib ignores bytes after the final block.
      if (inflate.ended) this.#dropInflate()
      else this.#idle('inflate', this.#inflateNoContextTakeover)
      return message
    } catch (error) {
      if (this.#inflate === inflate) this.#dropInflate()
      if (this.#released) throw error
      this.#inflateError = toInflateError(error)
      throw this.#inflateError
    } finally {
      limiter.release()
    }
  }

  /** Waits for a turn of the global limiter; rejects (without holding a turn) once released. */
  async #acquire(): Promise<void> {
    if (this.#released) throw releasedError()
    await limiter.acquire()
    if (this.#released) {
      limiter.release()
      throw releasedError()
    }
  }

  /** After a message: release, reset or keep a direction's zlib object (see the module doc). */
  #idle(direction: 'deflate' | 'inflate', noContextTakeover: boolean): void {
    const deflate = direction === 'deflate'
    if (noContextTakeover) {
      if (this.#idleTimeout === 0) {
        if (deflate) this.#dropDeflate()
        else this.#dropInflate()
        return
      }
      // RFC 7692 §7.1.1: without context takeover each message starts with an empty window.
      ;(deflate ? this.#deflate : this.#inflate)!.stream.reset()
    } else if (!deflate || this.#idleTimeout === 0) {
      return // the inflater's window is shared with the peer: kept until release()
    }
    const IdleDrop = PerMessageDeflate.#IdleDrop
    if (deflate) (this.#deflateIdle ??= new IdleDrop(this, true, this.#idleTimeout)).schedule(this.#idleTimeout)
    else (this.#inflateIdle ??= new IdleDrop(this, false, this.#idleTimeout)).schedule(this.#idleTimeout)
  }

  /** A direction's idle deadline: when it passes, that direction's zlib object is dropped. */
  static readonly #IdleDrop = class IdleDrop extends WheelTimer {
    readonly #codec: PerMessageDeflate
    readonly #deflate: boolean

    constructor(codec: PerMessageDeflate, deflate: boolean, timeout: number) {
      super(sharedWheel(timeout))
      this.#codec = codec
      this.#deflate = deflate
    }

    onWheel(): void {
      if (this.#deflate) this.#codec.#dropDeflate()
      else this.#codec.#dropInflate()
    }
  }

  #dropDeflate(): void {
    this.#deflateIdle?.cancel()
    this.#deflate?.destroy(releasedError())
    this.#deflate = undefined
  }

  #dropInflate(): void {
    this.#inflateIdle?.cancel()
    this.#inflate?.destroy(releasedError())
    this.#inflate = undefined
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new InvalidArgumentError(`${name} must be a non-negative number, not ${value}`)
  return value
}

function releasedError(): ConnectionClosedError {
  return new ConnectionClosedError(1006, 'permessage-deflate was released', false)
}

/**
 * zlib's complaint while inflating becomes a 1007: its only input is the peer's data (an allocation
 * failure would end the process before zlib could report it). The size limit stays a 1009.
 */
function toInflateError(error: unknown): unknown {
  if (error instanceof MessageTooBigError || error instanceof ProtocolError) return error
  return new InvalidDataError('WS_ERR_INVALID_COMPRESSED_DATA', `invalid compressed data: ${(error as Error).message}`, { cause: error })
}

/** Joins zlib's chunks into one plain Uint8Array of its own (never a view of zlib's 16 KiB output buffers). */
function concat(chunks: readonly Buffer[], length: number): Uint8Array {
  return concatBytes(chunks, length)
}

/**
 * The compressed message without the 0x00 0x00 0xff 0xff that Z_SYNC_FLUSH ended it with (RFC
 * 7692 §7.2.1). A compressor with nothing to flush (an empty message after another one) outputs
 * nothing at all; that message is sent as the single byte 0x00 (RFC 7692 §7.2.3.6).
 */
function stripTrailer(chunks: readonly Buffer[], length: number): Uint8Array {
  if (length === 0) return EMPTY_MESSAGE.slice()
  const last = chunks[chunks.length - 1]!
  if (chunks.length === 1) return new Uint8Array(last.buffer, last.byteOffset, length - TRAILER.length)
  return concat(chunks, length).subarray(0, length - TRAILER.length)
}

/**
 * The `perMessageDeflate` option of `connect` and `serve`: what to offer or accept (RFC 7692
 * parameters) and how to compress (zlib level, memLevel, threshold, idle release).
 */
export type PerMessageDeflateConfig = PerMessageDeflateOptions & Omit<PerMessageDeflateCodecOptions, 'maxMessageSize'>
