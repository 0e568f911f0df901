/**
 * The connection: a WebSocket that is an async iterable of messages and an async sink for
 * outgoing data, over any byte {@link Transport}. It is a driver: the protocol's every rule is in
 * `core/protocol.ts`; here bytes are moved, timers run and events handed to the application. The
 * hot path is synchronous: a socket chunk is decoded, control frames answered and messages queued
 * in one pass, with one async hop per chunk.
 * @module
 */
import { EMPTY } from '../core/byte-queue.ts'
import { buildClosePayload } from '../core/close-payload.ts'
import { CloseCode, InvalidArgumentError } from '../core/errors.ts'
import type { ExtensionOffer } from '../core/handshake/extensions.ts'
import { Message, toMessage, type MessageType, type Outgoing } from '../core/message.ts'
import type { PreparedMessage } from '../core/prepared.ts'
import type { ReadyState } from '../core/protocol.ts'
import { Driver, noop } from './driver.ts'
import { isFragments, sendFragments, type Fragments, type SendOptions } from './fragments.ts'
import { iterate, type RecvOptions } from './inbox.ts'
import type { MessageStream } from './message-stream.ts'
import type { ConnectionOptions } from './options.ts'
import { nextPingPayload, Pings } from './pings.ts'
import type { CloseInfo, MessageCodec, RequestInfo, ResponseInfo, Transport } from './types.ts'

const NO_EXTENSIONS: readonly ExtensionOffer[] = Object.freeze([])
const NO_TOPICS: ReadonlySet<string> = new Set()

/** Watches connections open and close; one object may watch many (a server's registry, pub/sub's). */
export interface ConnectionObserver {
  /** The connection closed (called before `closed` resolves). */
  closed(ws: WebSocket, info: CloseInfo): void
}

/** Where a connection's topics are kept (its server's pub/sub hub): what `ws.subscribe`, `ws.unsubscribe` and `ws.topics` call. */
export interface TopicRegistry {
  /** Subscribes `ws` to `topic`; false if it already was. */
  subscribe(ws: WebSocket, topic: string): boolean
  /** Unsubscribes `ws` from `topic`; false if it was not subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean
  /** The topics `ws` is subscribed to. */
  topicsOf(ws: WebSocket): ReadonlySet<string>
}

/** What the client or server that opened a connection tells it. */
export interface ConnectionInit {
  /** The side this endpoint plays: a client masks its frames and expects unmasked ones. */
  role: 'client' | 'server'
  /** The subprotocol agreed in the handshake ('' for none). */
  protocol?: string | undefined
  /** The extensions agreed in the handshake. */
  extensions?: readonly ExtensionOffer[] | undefined
  /** The opening request (server side). */
  request?: RequestInfo | undefined
  /** The opening response (client side). */
  response?: ResponseInfo | undefined
  /** The application's data for the connection (what a server's `verify` handed on), `ws.data`. */
  data?: unknown
  /** Bytes that arrived after the handshake, before the connection took over. */
  head?: Uint8Array | undefined
  /** The compression codec agreed in the handshake (permessage-deflate), if any. */
  codec?: MessageCodec | undefined
  /**
   * Told when the connection closes: a server forgets its client there, pub/sub its
   * subscriptions. One array may serve every connection, so that none holds a closure for it.
   */
  observers?: readonly ConnectionObserver[] | undefined
  /** The pub/sub hub behind `ws.subscribe` (server side; it is one of the observers too). */
  topics?: TopicRegistry | undefined
}

/**
 * A WebSocket connection: `for await (const message of ws)` reads messages; `send`, `sink` and
 * `close` write. Iteration ends on a clean close (both close frames exchanged, code 1000, 1001
 * or none, or a close this side asked for) and throws a {@link ConnectionClosedError} (or a
 * {@link StallError}) otherwise.
 *
 * Reading: messages wait in a small buffer for the application; when it holds `highWaterMark`
 * messages or `highWaterMarkBytes` bytes, the socket is no longer read until the application
 * catches up, so TCP pushes back on the peer. Nothing is dropped: leaving a `for await` early
 * (`break`) keeps the connection open and what arrives waits for the next loop or `recv()`.
 * Messages that arrive before the peer's close frame are delivered, and the close is answered
 * once the application has read them and the answers it sent are written (bounded by
 * `closeTimeout`).
 *
 * Writing: `send` resolves when the data is handed to the socket and waits for drain when the
 * socket's buffer is full; frames sent in the same tick go out in one write. `sink(source)` sends
 * every item of `source`, awaiting backpressure, and closes with 1000 when `source` ends (with 1011
 * if it throws). A promise returned by `send`, `ping` or `close` that nobody awaits never takes
 * the process down: its rejection is handled, and still reaches whoever awaits it.
 *
 * ```ts
 * const ws = await connect('ws://127.0.0.1:8080/chat')
 * await ws.send(JSON.stringify({ hello: 'world' }))
 * const first = await ws.recv({ timeout: 5000 }) // one message
 * for await (const message of ws) console.log(message.type, message.text()) // then the rest
 * const { code, reason } = await ws.closed
 * ```
 * @category Connections
 */
export class WebSocket implements AsyncIterable<Message> {
  /** The subprotocol agreed in the handshake ('' for none). */
  readonly protocol: string
  /** The extensions agreed in the handshake. */
  readonly extensions: readonly ExtensionOffer[]
  /** The opening request (server side only): its URL, headers and the peer's address. */
  readonly request: RequestInfo | undefined
  /** The opening response (client side only): the URL connected to, the status and the headers (cookies, for one). */
  readonly response: ResponseInfo | undefined
  /**
   * The application's own data for this connection: on a server, what its `verify` hook put in
   * `context.data` (the authenticated user, say); free to set (as `socket.data` in socket.io).
   */
  data: unknown

  readonly #topics: TopicRegistry | undefined
  readonly #d: Driver<WebSocket>

  /** Creates a connection over an open transport once the opening handshake is done. */
  constructor(transport: Transport, init: ConnectionInit, options: ConnectionOptions = {}, allocate?: (length: number) => Uint8Array) {
    this.protocol = init.protocol ?? ''
    this.extensions = init.extensions ?? NO_EXTENSIONS
    this.request = init.request
    this.response = init.response
    this.data = init.data
    this.#topics = init.topics
    this.#d = new Driver(this, transport, init, options, allocate)
  }

  /** The side of this endpoint (read from the protocol: one field less per connection, bench/memory.ts). */
  get role(): 'client' | 'server' {
    return this.#d.protocol.role
  }

  /** The URL: the one connected to on a client, the request target (e.g. `/chat?room=1`) on a server. */
  get url(): string {
    return this.response?.url ?? this.request?.url ?? ''
  }

  /** Prepared messages not sent because the connection's send budget was exceeded (see {@link WebSocket.sendPrepared}). */
  get droppedMessages(): number {
    return this.#d.cold.dropped
  }

  /** A promise of how the connection ended; it never rejects. */
  get closed(): Promise<CloseInfo> {
    const cold = this.#d.own()
    if (cold.closed === undefined) {
      const end = cold.end
      cold.closed = end !== undefined ? Promise.resolve(end.info) : new Promise((resolve) => {
        cold.resolveClosed = resolve
      })
    }
    return cold.closed
  }

  /** The connection's state: 'open', 'closing' (a close frame was sent or received) or 'closed'. */
  get readyState(): ReadyState {
    return this.#d.cold.closing !== undefined && this.#d.protocol.readyState === 'open' ? 'closing' : this.#d.protocol.readyState
  }

  /** Bytes handed to `send` and not yet written to the socket, in bytes. */
  get bufferedAmount(): number {
    return this.#d.transport.bufferedAmount
  }

  /** The messages, for the it-stream-types duplex shape `{ source, sink }`. */
  get source(): AsyncIterable<Message> {
    return this
  }

  /** Sends each item of `source` (awaiting backpressure); closes with 1000 when it ends, 1011 if it throws. */
  get sink(): (source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void> {
    const cold = this.#d.own()
    cold.sink ??= (source) => this.#sinkFrom(source)
    return cold.sink
  }

  async #sinkFrom(source: AsyncIterable<Outgoing> | Iterable<Outgoing>): Promise<void> {
    try {
      for await (const data of source) await this.send(data)
    } catch (error) {
      if (this.#d.canSend()) void this.close(CloseCode.INTERNAL_ERROR)
      throw error
    }
    await this.close(CloseCode.NORMAL)
  }

  /**
   * Sends a message: a string as text, bytes as binary, a {@link Message} as its type; or an
   * (async) iterable of chunks as one message in fragments (RFC 6455 §5.4: strings make a text
   * message, bytes a binary one; other sends wait until it ends). Resolves when the data is handed
   * to the socket (waiting for drain if the socket's buffer is full); rejects with a
   * {@link ConnectionClosedError} once this side's close was sent or asked for, and with an
   * {@link InvalidArgumentError} for a value that cannot be sent. `compress` overrides
   * permessage-deflate's threshold for this message (fragmented messages go uncompressed).
   */
  send(data: Outgoing | Fragments, options?: SendOptions): Promise<void> {
    const d = this.#d
    if (!d.canSend()) return rejected(d.closedError('cannot send'))
    d.heartbeat?.message()
    let type: MessageType = 'binary'
    let payload: Uint8Array
    if (data instanceof Uint8Array) {
      // Bytes go out as they are, with no Message made for them (one allocation less per send).
      payload = data
    } else if (typeof data !== 'string' && !(data instanceof Message) && isFragments(data)) {
      // A failed fragmented send rejects; the connection fails only if part of it went out (sendFragments decides).
      let failure: unknown
      return d.chain().then(() => sendFragments(d, data).catch((error: unknown) => {
        failure = error
      }), () => {
        if (failure !== undefined) throw failure
        return d.whenWritable()
      })
    } else {
      let message: Message
      try {
        message = toMessage(data as Outgoing)
      } catch (error) {
        return rejected(error)
      }
      type = message.type
      payload = message.data
    }
    const codec = d.codec
    if (codec !== undefined && (options?.compress ?? codec.isCompressible(payload))) {
      const compressed = codec.compress(payload)
      compressed.catch(noop) // handled in order, by the chain
      return d.chain().then(() => compressed.then((deflated) => d.protocol.send(type, deflated, true)), () => d.whenWritable(), () => d.closedError('the message could not be compressed'))
    }
    if (d.cold.sendChain?.idle === false) return d.chain().then(() => d.protocol.send(type, payload), () => d.whenWritable(), () => d.closedError('cannot send'))
    d.protocol.send(type, payload)
    return d.whenWritable()
  }

  /**
   * Sends a prepared message (encoded once for many connections: a broadcast, a topic) at once,
   * unless more than `maxBufferedAmount` bytes (default: no limit) already wait to be written:
   * then nothing is sent, {@link WebSocket.droppedMessages} counts it, and false is returned (the
   * caller's slow-consumer policy decides what follows). Returns false once closing too. Never
   * waits and never throws. A server's connection with permessage-deflate is sent the same
   * uncompressed frame (RFC 7692 §6: a message may go uncompressed, RSV1 clear), after the
   * messages still being compressed, so that a prepared message is never compressed per connection.
   */
  sendPrepared(message: PreparedMessage, maxBufferedAmount = Infinity): boolean {
    const d = this.#d
    if (!d.canSend()) return false
    if (d.transport.bufferedAmount + message.data.length > maxBufferedAmount) {
      d.own().dropped++
      return false
    }
    d.heartbeat?.message()
    if (this.role === 'server') {
      if (d.cold.sendChain?.idle !== false) return d.protocol.sendPrepared(message.frame)
      void d.chain().then(() => d.protocol.sendPrepared(message.frame), noop)
      return true
    }
    this.send(new Message(message.type, message.data)).catch(noop)
    return true
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when its pong arrives;
   * rejects if the connection closes first, or with a `TimeoutError` after `timeout` ms when given. `payload` (at most
   * 125 bytes) defaults to a counter.
   */
  ping(payload?: string | Uint8Array, options: { timeout?: number | undefined } = {}): Promise<number> {
    if (this.#d.protocol.closeSent !== undefined || this.#d.protocol.readyState === 'closed') return rejected(this.#d.closedError('cannot ping'))
    let data: Uint8Array
    try {
      data = payload === undefined ? nextPingPayload() : toMessage(payload).data
      this.#d.protocol.ping(data) // throws for more than 125 bytes, before anything is kept
    } catch (error) {
      return rejected(error)
    }
    const result = (this.#d.own().pings ??= new Pings()).expect(data, options.timeout)
    result.catch(noop)
    return result
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: a one-way heartbeat). Throws once closing. */
  pong(payload: string | Uint8Array = EMPTY): void {
    if (!this.#d.protocol.pong(toMessage(payload).data)) throw this.#d.closedError('cannot pong')
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` (default 1000) and `reason` (at most
   * 123 bytes of UTF-8), or answers the peer's close with them, and resolves with how the
   * connection ended. Messages sent before are written first. A connection already closing just
   * waits. Rejects with an {@link InvalidArgumentError} for a code that may not be sent.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): Promise<CloseInfo> {
    if (this.#d.canSend() || this.#d.protocol.closePending) {
      try {
        buildClosePayload(code, reason) // validates before anything is sent
      } catch (error) {
        return rejected(error)
      }
      this.#d.own().closing = { code, reason }
      const chain = this.#d.cold.sendChain
      if (chain?.idle === false) void chain.then(() => this.#d.protocol.close(code, reason), noop)
      else this.#d.protocol.close(code, reason)
      this.#d.armCloseDeadline()
    }
    return this.closed
  }

  /**
   * Subscribes this connection to `topic` on the pub/sub hub of the server that accepted it, so
   * that `server.publish(topic, data)` reaches it; it leaves every topic when it closes. Returns
   * false if it was subscribed already (or is closed). Throws an {@link InvalidArgumentError} for
   * a bad topic (empty, longer than 1,024 characters, not a string) and on a client's connection.
   */
  subscribe(topic: string): boolean {
    return this.#hub('subscribe').subscribe(this, topic)
  }

  /** Unsubscribes this connection from `topic`; false if it was not subscribed. */
  unsubscribe(topic: string): boolean {
    return this.#hub('unsubscribe').unsubscribe(this, topic)
  }

  /** The topics this connection is subscribed to (a snapshot). */
  get topics(): ReadonlySet<string> {
    return this.#topics?.topicsOf(this) ?? NO_TOPICS
  }

  #hub(call: string): TopicRegistry {
    if (this.#topics === undefined) throw new InvalidArgumentError(`${call}: topics belong to a server's connections (this one has no pub/sub hub)`)
    return this.#topics
  }

  /** Closes the TCP connection at once, without a closing handshake (the close code is 1006). */
  terminate(): void {
    this.#d.transport.destroy()
  }

  /**
   * Reads one message; rejects with a {@link ConnectionClosedError} once the connection is over
   * (`wasClean` says whether it closed normally). `signal` or `timeout` (ms) stop the wait; a
   * message that arrives after is kept for the next read.
   */
  recv(options?: RecvOptions): Promise<Message> {
    this.#d.inbox.abandonTaken()
    const item = this.#d.inbox.recv(options, () => this.#d.endError())
    return this.#d.settings.streaming ? item.then((m) => (m as MessageStream).collect(this.#d.settings.maxMessageSize)) : (item as Promise<Message>)
  }

  /** Returns an iterator over the messages (leaving it early loses nothing; see the class doc). */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined> & AsyncIterable<Message> {
    if (!this.#d.settings.streaming) return iterate<Message>(this.#d.inbox, undefined)
    const limit = this.#d.settings.maxMessageSize
    return iterate<Message>(this.#d.inbox, (item) => (item as MessageStream).collect(limit))
  }

  /**
   * Iterates over the messages as streams of chunks, for messages too big to hold in memory; needs
   * the `streaming` option. Moving on to the next message drops what is left of the previous one.
   */
  streams(): AsyncIterable<MessageStream> {
    if (!this.#d.settings.streaming) throw new InvalidArgumentError('streams() needs a connection opened with { streaming: true }')
    return { [Symbol.asyncIterator]: () => iterate<MessageStream>(this.#d.inbox, (item) => item as MessageStream) }
  }

  /** Message payloads as bytes, for `stream.pipeline` into files and stdout (chunk by chunk in streaming mode). */
  async *bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#d.settings.streaming) {
      for await (const stream of this.streams()) yield* stream
    } else {
      for await (const message of this) yield message.data
    }
  }
}

/** A promise rejected with `error` whose rejection is handled (no crash when nobody awaits it). */
function rejected<T>(error: unknown): Promise<T> {
  const promise = Promise.reject(error)
  promise.catch(noop)
  return promise
}
