/**
 * A Node `Duplex` over a connection, for `stream.pipeline`: `createWebSocketStream(ws)` (the name
 * ws gives it; `toDuplex` is the same function). Bytes mode, as ws's: each written chunk is sent
 * as one message (binary; text with `{ text: true }`, or when the chunk is a string), and the
 * readable side yields each message's payload, so reads are the payloads concatenated. Object
 * mode keeps `Message` objects both ways. Works over any wsflow connection (structurally: Node's
 * `WebSocket`, the browser's, a reconnecting client's current one).
 *
 * Backpressure: the readable side takes the next message from the connection only when Node asks
 * for more (`_read`, below the high-water mark), so a slow consumer leaves messages in the
 * connection's inbox, whose own high-water mark then stops the socket being read and TCP pushes
 * back on the peer. A write's callback waits for `ws.send`, which waits for the socket's drain.
 *
 * Errors and close codes: a stream destroyed with an error closes the connection with 1011, and
 * without one with 1000; ending the writable side (`end()`) closes it with 1000 once the writes
 * before went out. A connection that fails (an abnormal close) destroys the stream with its
 * `ConnectionClosedError`; a clean close (1000, 1001) ends the readable side.
 * @module
 */
import { Duplex } from 'node:stream'
import { CloseCode, ConnectionClosedError, InvalidDataError } from '../core/errors.ts'
import type { Message, Outgoing } from '../core/message.ts'
import type { CloseInfo } from '../core/transport.ts'

/** What the stream needs of a connection: wsflow's `WebSocket`, on Node or in the browser. */
export interface StreamableSocket extends AsyncIterable<Message> {
  /** `'connecting'`, `'open'`, `'closing'` or `'closed'`. */
  readonly readyState: string
  /** Resolves with how the connection ended. */
  readonly closed: Promise<CloseInfo>
  /** Sends a message; resolves when it is handed to the socket. */
  send(data: Outgoing): Promise<void>
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): Promise<CloseInfo>
}

/** Options of {@link createWebSocketStream}. */
export interface WebSocketStreamOptions {
  /** Object mode: the readable side yields `Message`s and writes take anything `send` takes (default false: bytes). */
  objectMode?: boolean | undefined
  /**
   * Bytes mode: send each written chunk as a text message, decoding UTF-8 across chunks (default
   * false: binary, strings as text); bytes that are not UTF-8 destroy the stream with an
   * `InvalidDataError` (WS_ERR_INVALID_UTF8), which closes the connection with 1011.
   */
  text?: boolean | undefined
  /** The readable side's high-water mark (default: Node's, 16 KiB in bytes mode, 16 messages in object mode). */
  readableHighWaterMark?: number | undefined
  /** The writable side's high-water mark (default: Node's). */
  writableHighWaterMark?: number | undefined
}

const EMPTY = new Uint8Array(0)

/** The Duplex over one connection; see the module's doc. */
class WebSocketDuplex extends Duplex {
  readonly #ws: StreamableSocket
  readonly #iterator: AsyncIterator<Message>
  readonly #objectMode: boolean
  readonly #decoder: InstanceType<typeof TextDecoder> | undefined
  #reading = false

  constructor(ws: StreamableSocket, options: WebSocketStreamOptions) {
    const objectMode = options.objectMode === true
    super({
      objectMode, decodeStrings: false, allowHalfOpen: true,
      readableHighWaterMark: options.readableHighWaterMark, writableHighWaterMark: options.writableHighWaterMark,
    })
    this.#ws = ws
    this.#iterator = ws[Symbol.asyncIterator]()
    this.#objectMode = objectMode
    this.#decoder = options.text === true && !objectMode ? new TextDecoder('utf-8', { fatal: true }) : undefined
    ws.closed.then((info) => {
      // Nobody reads: a failure would otherwise go unnoticed until the next write.
      if (!isClean(info) && this.readableFlowing === null && !this.destroyed) this.destroy(new ConnectionClosedError(info.code, info.reason, info.wasClean))
    }, noop)
  }

  override _read(): void {
    if (this.#reading) return
    this.#reading = true
    void this.#pull()
  }

  /** Takes messages from the connection while Node wants more. */
  async #pull(): Promise<void> {
    try {
      for (;;) {
        const result = await this.#iterator.next()
        if (this.destroyed) return
        if (result.done === true) {
          this.push(null)
          return
        }
        const message = result.value
        if (this.#objectMode) {
          if (!this.push(message)) return
        } else if (message.data.length > 0 && !this.push(message.data)) {
          return
        }
      }
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)))
    } finally {
      this.#reading = false
    }
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let data: Outgoing
    try {
      data = this.#toOutgoing(chunk)
    } catch (error) {
      callback(notUtf8(error))
      return
    }
    if (typeof data === 'string' && data === '' && this.#decoder !== undefined) {
      callback() // a chunk ending inside a character: the rest comes with the next one
      return
    }
    this.#ws.send(data).then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    let rest: string | undefined
    try {
      rest = this.#decoder?.decode()
    } catch (error) {
      callback(notUtf8(error))
      return
    }
    const sent = rest !== undefined && rest !== '' ? this.#ws.send(rest) : Promise.resolve()
    sent.then(() => {
      if (this.#ws.readyState === 'open') void this.#ws.close(CloseCode.NORMAL).catch(noop)
      callback()
    }, callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#ws.readyState === 'open' || this.#ws.readyState === 'connecting') {
      void this.#ws.close(error === null ? CloseCode.NORMAL : CloseCode.INTERNAL_ERROR).catch(noop)
    }
    void this.#iterator.return?.()?.catch(noop)
    callback(error)
  }

  /** A written chunk as what `send` takes: text mode decodes bytes as UTF-8 across chunks. */
  #toOutgoing(chunk: unknown): Outgoing {
    if (this.#objectMode) return chunk as Outgoing
    if (typeof chunk === 'string') return chunk
    const bytes = chunk instanceof Uint8Array ? chunk : EMPTY
    return this.#decoder === undefined ? bytes : this.#decoder.decode(bytes, { stream: true })
  }
}

/**
 * A Node `Duplex` over the connection `ws` (the name ws gives it): in bytes mode, each written
 * chunk is sent as a binary message (text with `{ text: true }`) and the readable side yields
 * each message's payload; `{ objectMode: true }` keeps `Message`s both ways. The socket is read
 * only as fast as the stream is; a write's callback waits for `ws.send`. Destroying it with an
 * error closes the connection with 1011; `end()` closes it with 1000; the connection failing
 * destroys the stream with the `ConnectionClosedError`; a clean close ends the readable side.
 *
 * ```ts
 * await pipeline(createReadStream('big.bin'), createWebSocketStream(ws), createWriteStream('echoed.bin'))
 * ```
 * @category Streams and bridges
 */
export function createWebSocketStream(ws: StreamableSocket, options: WebSocketStreamOptions = {}): Duplex {
  return new WebSocketDuplex(ws, options)
}

/** The same as {@link createWebSocketStream}, under the name it-pipe users look for. */
export const toDuplex: (ws: StreamableSocket, options?: WebSocketStreamOptions) => Duplex = createWebSocketStream

/** What a text-mode write that is not UTF-8 fails with (the stream is destroyed: 1011). */
function notUtf8(error: unknown): Error {
  return new InvalidDataError('WS_ERR_INVALID_UTF8', 'text mode: the bytes written are not valid UTF-8', { cause: error })
}

function isClean(info: CloseInfo): boolean {
  return info.wasClean && (info.code === CloseCode.NORMAL || info.code === CloseCode.GOING_AWAY)
}

function noop(): void {}
