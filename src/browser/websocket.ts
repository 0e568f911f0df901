/**
 * The browser connection: the same API as the Node connection (`connection/websocket.ts`) over a
 * platform `WebSocket` or `WebSocketStream` (a {@link Channel}), with the same inbox (water
 * marks, `recv`, iterators that lose nothing on `break`), the same errors and the same close
 * semantics. What the platform cannot do fails with a {@link NotSupportedError}.
 * @module
 */
import { isValidCloseCode, MAX_CLOSE_REASON_BYTES } from '../core/close-payload.ts'
import { CloseCode, ConnectionClosedError, InvalidArgumentError, MessageTooBigError, NotSupportedError } from '../core/errors.ts'
import { parseExtensions, type ExtensionOffer } from '../core/handshake/extensions.ts'
import { Message, toMessage, type Outgoing } from '../core/message.ts'
import type { ReadyState } from '../core/protocol.ts'
import type { CloseInfo } from '../core/transport.ts'
import { Inbox, iterate, type InboxControl, type RecvOptions } from '../connection/inbox.ts'
import type { Channel, ChannelEvents } from './channel.ts'

const RESOLVED = Promise.resolve()
const noop = (): void => undefined
const utf8 = new TextEncoder()
// RFC 6455 §7.1.5: a close without a close frame. 1000, 1001 and 1005 end a loop cleanly (as on Node).
const CLEAN_CODES: ReadonlySet<number> = new Set<number>([CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RECEIVED])

/**
 * The codes this side closes with when it fails the connection itself. Browsers may send only
 * 1000 and 3000-4999 (WHATWG WebSockets, close(): anything else throws InvalidAccessError), so
 * the code Node would send (1008, 1009) becomes 4000 plus its last three digits, as every code
 * 1002-1014 given to `close()` does.
 */
export const BrowserCloseCode = {
  /** 4008: the application did not read, and unread messages passed `maxUnreadBytes` (Node would pause reading). */
  UNREAD_OVERFLOW: 4008,
  /** 4009: a message over `maxMessageSize` arrived (Node sends 1009). */
  MESSAGE_TOO_BIG: 4009,
} as const

/** The limits of a browser connection, resolved from its options. Sizes in bytes, durations in ms. */
export interface BrowserSettings {
  /** Messages queued before reading pauses. */
  readonly highWaterMark: number
  /** Bytes queued before reading pauses. */
  readonly highWaterMarkBytes: number
  /** Bytes kept past the high-water mark where reading cannot pause (the platform WebSocket). */
  readonly maxUnreadBytes: number
  /** Largest message handed to the application. */
  readonly maxMessageSize: number
  /** How long a close may take, in ms. */
  readonly closeTimeout: number
}

/**
 * A WebSocket connection in the browser, with the Node connection's API: `for await (const
 * message of ws)` reads {@link Message}s (text and binary kept apart), `send`, `sink` and `close`
 * write. Iteration ends on a clean close (code 1000, 1001 or none, or a close this side asked
 * for) and throws a {@link ConnectionClosedError} otherwise.
 *
 * Reading: messages wait in the same inbox as on Node. Over `WebSocketStream`, the stream is not
 * read while the inbox holds `highWaterMark` messages or `highWaterMarkBytes` bytes, so TCP pushes
 * back on the server. The platform `WebSocket` cannot stop reading: the browser goes on receiving,
 * so past the high-water mark up to `maxUnreadBytes` more bytes are kept; beyond that the
 * connection is closed with 4008 and, after the messages kept, the loop throws a
 * {@link ConnectionClosedError} saying so. Memory stays bounded by the marks, `maxUnreadBytes` and
 * one message.
 *
 * Writing: `send` resolves at once while the platform's `bufferedAmount` is at or below
 * `writeHighWaterMark` (1 MiB), and otherwise once it is (polled; see drain.ts); over
 * `WebSocketStream`, once the writes the platform has not yet taken are back under the mark.
 *
 * Not in the browser: `ping()` and `pong()` (the browser answers the server's pings itself and
 * sends none), `streams()`, `response`, sending fragments; they fail with a
 * {@link NotSupportedError}. Messages that arrive after this side called `close()` are dropped by
 * the browser (WHATWG: a message received while closing is discarded).
 */
export class BrowserWebSocket implements AsyncIterable<Message> {
  /** The side of this endpoint: always 'client' in the browser. */
  readonly role = 'client' as const
  /** The subprotocol the server chose ('' for none). */
  readonly protocol: string
  /** The extensions the server agreed to (permessage-deflate, negotiated by the browser). */
  readonly extensions: readonly ExtensionOffer[]
  /** The opening request: only known to a server. */
  readonly request: undefined = undefined
  /** The URL connected to. */
  readonly url: string

  readonly #channel: Channel
  readonly #settings: BrowserSettings
  readonly #inbox: Inbox
  #closing: { code: number; reason: string } | undefined = undefined
  #end: { info: CloseInfo; error: Error | undefined } | undefined = undefined
  #failure: Error | undefined = undefined
  #overflow = -1
  #closed: Promise<CloseInfo> | undefined = undefined
  #resolveClosed: ((info: CloseInfo) => void) | undefined = undefined
  #closeTimer: ReturnType<typeof setTimeout> | undefined = undefined
  #sink: ((source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void>) | undefined = undefined

  /** @internal Creates a connection over an open `channel` (applications call `connect`). */
  constructor(channel: Channel, settings: BrowserSettings, url: string) {
    this.url = url
    this.#channel = channel
    this.#settings = settings
    this.protocol = channel.protocol
    let extensions: ExtensionOffer[] = []
    try {
      extensions = channel.extensions === '' ? [] : parseExtensions(channel.extensions)
    } catch {
      // the browser validated the header; a value it let through that we cannot parse is left out
    }
    this.extensions = extensions
    const control: InboxControl = {
      pause: () => {
        channel.pause()
        this.#overflow = 0
      },
      resume: () => {
        this.#overflow = -1
        channel.resume()
      },
      drained: noop,
      settings,
    }
    this.#inbox = new Inbox(control)
    const events: ChannelEvents = { message: (m) => this.#receive(m), close: (code, reason, wasClean) => this.#onClose(code, reason, wasClean) }
    channel.attach(events)
  }

  /** Not in the browser: it exposes neither the status nor the headers of the opening response. Throws a {@link NotSupportedError}. */
  get response(): never {
    throw new NotSupportedError('ws.response', 'the browser exposes neither the status nor the headers of the opening response')
  }

  /** A promise of how the connection ended; it never rejects. */
  get closed(): Promise<CloseInfo> {
    if (this.#closed === undefined) {
      const end = this.#end
      this.#closed = end !== undefined ? Promise.resolve(end.info) : new Promise((resolve) => {
        this.#resolveClosed = resolve
      })
    }
    return this.#closed
  }

  /** The connection's state: 'open', 'closing' (a close was asked for, failed, or the server's came in) or 'closed'. */
  get readyState(): ReadyState {
    return this.#end !== undefined ? 'closed' : this.#closing !== undefined || !this.#channel.open ? 'closing' : 'open'
  }

  /** Bytes handed to `send` and not yet handed to the network (the platform's count), in bytes. */
  get bufferedAmount(): number {
    return this.#channel.bufferedAmount
  }

  /** The messages, for the it-stream-types duplex shape `{ source, sink }`. */
  get source(): AsyncIterable<Message> {
    return this
  }

  /** Sends each item of `source` (awaiting backpressure); closes with 1000 when it ends, 4011 if it throws. */
  get sink(): (source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void> {
    this.#sink ??= async (source) => {
      try {
        for await (const data of source) await this.send(data)
      } catch (error) {
        // 1011, sent as 4011 by a browser (see close()).
        if (this.#closing === undefined && this.#end === undefined) void this.close(CloseCode.INTERNAL_ERROR, 'source failed')
        throw error
      }
      await this.close(CloseCode.NORMAL)
    }
    return this.#sink
  }

  /**
   * Sends a message: a string as text, bytes as binary, a {@link Message} as its type. Resolves at
   * once while `bufferedAmount` is at or below the write high-water mark, else once it is;
   * rejects with a {@link ConnectionClosedError} once closing, with an
   * {@link InvalidArgumentError} for a value that cannot be sent, and with a
   * {@link NotSupportedError} for fragments (an iterable) and the `compress` option, which the
   * Node connection takes and the browser cannot honour.
   */
  send(data: Outgoing | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>, options?: { compress?: boolean | undefined }): Promise<void> {
    if (this.#closing !== undefined || this.#end !== undefined || !this.#channel.open) return rejected(this.#closedError('cannot send'))
    if (options?.compress !== undefined) return rejected(new NotSupportedError('the compress option of send()', 'the browser decides itself whether to compress a message'))
    let payload: string | Uint8Array
    if (typeof data === 'string' || data instanceof Uint8Array) {
      payload = data
    } else if (!(data instanceof Message) && !ArrayBuffer.isView(data) && !(data instanceof ArrayBuffer) && typeof data === 'object' && data !== null && (Symbol.iterator in data || Symbol.asyncIterator in data)) {
      return rejected(new NotSupportedError('sending a message as fragments', 'the browser frames each message itself (join the fragments and send them as one)'))
    } else {
      let message: Message
      try {
        message = toMessage(data)
      } catch (error) {
        return rejected(error)
      }
      // The platform sends a string as text and bytes as binary: a text Message goes as its string.
      payload = message.type === 'text' ? message.text() : message.data
    }
    const wait = this.#channel.send(payload)
    if (wait === undefined) return RESOLVED
    const waiting = wait.catch(() => {
      throw this.#closedError('the connection closed before the data could be sent')
    })
    waiting.catch(noop)
    return waiting
  }

  /** Not in the browser: its WebSocket sends no pings (it answers the server's). Rejects with a {@link NotSupportedError}. */
  ping(_payload?: string | Uint8Array, _options?: { timeout?: number | undefined }): Promise<number> {
    return rejected(new NotSupportedError('ping()', "the browser's WebSocket cannot send pings (it answers the server's by itself)"))
  }

  /** Not in the browser: throws a {@link NotSupportedError}. */
  pong(_payload?: string | Uint8Array): void {
    throw new NotSupportedError('pong()', "the browser's WebSocket cannot send pongs of its own")
  }

  /**
   * Starts the closing handshake with `code` (default 1000) and `reason` (at most 123 bytes of
   * UTF-8), and resolves with how the connection ended. A browser may send only 1000 and
   * 3000-4999: 1001 is sent as 1000 (both end a loop cleanly), and the other codes valid on the
   * wire (1002-1003, 1007-1014) as 4000 plus their last three digits (1011 as 4011), as this
   * client's own failures are ({@link BrowserCloseCode}); code shared with Node (the reconnecting
   * client closes with 1001 and 1011) then closes in the browser too. A connection already closing
   * just waits. Rejects with an {@link InvalidArgumentError} for a code never valid on the wire
   * (1005, 1006, 1015, below 1000, 5000 and up) or a reason too long. If the close does not
   * complete within `closeTimeout`, the connection ends as 1006 (the platform socket is left to
   * the browser).
   */
  close(code: number = CloseCode.NORMAL, reason = ''): Promise<CloseInfo> {
    if (this.#closing === undefined && this.#end === undefined) {
      if (!isValidCloseCode(code)) {
        return rejected(new InvalidArgumentError(`close code ${code} cannot be sent: 1000-1003, 1007-1014 and 3000-4999 can (RFC 6455 §7.4)`))
      }
      if (code === CloseCode.GOING_AWAY) code = CloseCode.NORMAL
      else if (code > CloseCode.NORMAL && code < 3000) code += 3000
      if (utf8.encode(reason).length > MAX_CLOSE_REASON_BYTES) {
        return rejected(new InvalidArgumentError(`a close reason is at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`))
      }
      this.#startClose(code, reason)
    }
    return this.closed
  }

  /**
   * Ends the connection at once as 1006 (the loop throws a {@link ConnectionClosedError}); the
   * browser cannot drop TCP without a closing handshake, so the platform socket is closed with
   * 1000 and left to finish by itself.
   */
  terminate(): void {
    if (this.#end !== undefined) return
    if (this.#closing === undefined) this.#startClose(CloseCode.NORMAL, '')
    this.#onClose(CloseCode.ABNORMAL_CLOSURE, '', false)
  }

  /**
   * Reads one message; rejects with a {@link ConnectionClosedError} once the connection is over
   * (`wasClean` says whether it closed normally). `signal` or `timeout` (ms) stop the wait; a
   * message that arrives after is kept for the next read.
   */
  recv(options?: RecvOptions): Promise<Message> {
    return this.#inbox.recv(options, () => this.#endError()) as Promise<Message>
  }

  /** Returns an iterator over the messages (leaving it early loses nothing). */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined> & AsyncIterable<Message> {
    return iterate<Message>(this.#inbox, undefined)
  }

  /** Not in the browser (a message arrives whole): throws a {@link NotSupportedError}. */
  streams(): never {
    throw new NotSupportedError('streams()', 'the browser delivers each message whole')
  }

  /** Message payloads as bytes. */
  async *bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const message of this) yield message.data
  }

  // ---- the driver ------------------------------------------------------------------------

  #startClose(code: number, reason: string): void {
    this.#closing = { code, reason }
    try {
      this.#channel.close(code, reason)
    } catch {
      // already closing on the platform's side
    }
    const timeout = this.#settings.closeTimeout
    if (timeout > 0 && timeout !== Infinity) {
      this.#closeTimer = setTimeout(() => this.#onClose(CloseCode.ABNORMAL_CLOSURE, '', false), timeout)
    }
  }

  #receive(message: Message): void {
    if (this.#failure !== undefined || this.#end !== undefined) return
    const size = message.data.length
    const settings = this.#settings
    if (size > settings.maxMessageSize) {
      const error = new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', `a message of ${size} bytes is over maxMessageSize (${settings.maxMessageSize} bytes)`, settings.maxMessageSize)
      this.#fail(BrowserCloseCode.MESSAGE_TOO_BIG, 'message too big', new ConnectionClosedError(BrowserCloseCode.MESSAGE_TOO_BIG, '', false, { cause: error }))
      return
    }
    const inbox = this.#inbox
    inbox.beforeChunk()
    if (this.#overflow >= 0 && !this.#channel.canPause) {
      this.#overflow += size
      if (this.#overflow > settings.maxUnreadBytes) {
        this.#fail(
          BrowserCloseCode.UNREAD_OVERFLOW,
          'unread messages over the limit',
          new ConnectionClosedError(
            BrowserCloseCode.UNREAD_OVERFLOW, '', false, undefined,
            `the application did not read: more than ${settings.maxUnreadBytes} bytes of messages (maxUnreadBytes) arrived past the high-water mark; the connection was closed and the messages after them were not delivered`,
          ),
        )
        return
      }
    }
    inbox.push(message)
  }

  /** Fails the connection for a reason of this side: closes with `code`; the loop throws `error` after what is queued. */
  #fail(code: number, reason: string, error: Error): void {
    this.#failure = error
    if (this.#closing === undefined) this.#startClose(code, reason)
  }

  #onClose(code: number, reason: string, wasClean: boolean): void {
    if (this.#end !== undefined) return
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer)
    const info: CloseInfo = { code, reason, wasClean }
    let error: Error | undefined = this.#failure
    if (error === undefined && !wasClean) error = new ConnectionClosedError(code, reason, false)
    else if (error === undefined && !CLEAN_CODES.has(code) && this.#closing === undefined) {
      // The server closed with a code that is not a normal end, and this side did not ask to close.
      error = new ConnectionClosedError(code, reason, true)
    }
    this.#end = { info, error }
    this.#channel.fail(this.#closedError('the connection closed before the data could be sent'))
    this.#inbox.end(error, () => new ConnectionClosedError(code, 'the connection closed in the middle of a message', wasClean))
    this.#resolveClosed?.(info)
  }

  /** What a read after the end rejects with: the end's error, or the clean close as an error. */
  #endError(): ConnectionClosedError {
    const end = this.#end
    if (end?.error instanceof ConnectionClosedError) return end.error
    const info = end?.info ?? { code: CloseCode.ABNORMAL_CLOSURE, reason: '', wasClean: false }
    return new ConnectionClosedError(info.code, info.reason, info.wasClean, end?.error === undefined ? undefined : { cause: end.error })
  }

  #closedError(what: string): ConnectionClosedError {
    const info = this.#end?.info
    const code = info?.code ?? this.#closing?.code ?? CloseCode.ABNORMAL_CLOSURE
    return new ConnectionClosedError(code, info?.reason ?? '', info?.wasClean ?? false, undefined, `${what}: the connection is ${this.readyState}`)
  }
}

/** A promise rejected with `error` whose rejection is handled (no unhandled rejection when nobody awaits it). */
function rejected<T>(error: unknown): Promise<T> {
  const promise = Promise.reject(error)
  promise.catch(noop)
  return promise
}
