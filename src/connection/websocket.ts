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
import { CloseCode, ConnectionClosedError, InvalidArgumentError, StallError, type ProtocolError } from '../core/errors.ts'
import type { ExtensionOffer } from '../core/handshake/extensions.ts'
import { Message, toMessage, type MessageType, type Outgoing } from '../core/message.ts'
import type { PreparedMessage } from '../core/prepared.ts'
import { Protocol, type CloseOutcome, type ProtocolHandler, type ReadyState } from '../core/protocol.ts'
import { Heartbeat, type HeartbeatHooks } from './heartbeat.ts'
import { Inbox, iterate, type InboxControl, type RecvOptions } from './inbox.ts'
import type { MessageStream } from './message-stream.ts'
import { CloseDeadline, ColdState, NO_COLD } from './cold-state.ts'
import { protocolOptionsFor, settingsFor, type ConnectionOptions, type Settings } from './options.ts'
import { SendChain } from './outbox.ts'
import { nextPingPayload, Pings } from './pings.ts'
import type { CloseInfo, MessageCodec, RequestInfo, Transport, TransportHandlers } from './types.ts'

const RESOLVED = Promise.resolve()
const NO_EXTENSIONS: readonly ExtensionOffer[] = Object.freeze([])
const noop = (): void => undefined

/** Watches connections open and close; one object may watch many (a server's registry, pub/sub's). */
export interface ConnectionObserver {
  /** The connection closed (called before `closed` resolves). */
  closed(ws: WebSocket, info: CloseInfo): void
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
  /** Bytes that arrived after the handshake, before the connection took over. */
  head?: Uint8Array | undefined
  /** The compression codec agreed in the handshake (permessage-deflate), if any. */
  codec?: MessageCodec | undefined
  /**
   * Told when the connection closes: a server forgets its client there, pub/sub its
   * subscriptions. One array may serve every connection, so that none holds a closure for it.
   */
  observers?: readonly ConnectionObserver[] | undefined
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
 */
export class WebSocket implements AsyncIterable<Message> {
  /** The side of this endpoint. */
  readonly role: 'client' | 'server'
  /** The subprotocol agreed in the handshake ('' for none). */
  readonly protocol: string
  /** The extensions agreed in the handshake. */
  readonly extensions: readonly ExtensionOffer[]
  /** The opening request (server side only). */
  readonly request: RequestInfo | undefined

  readonly #transport: Transport
  readonly #protocol: Protocol
  readonly #inbox: Inbox
  readonly #codec: MessageCodec | undefined
  readonly #settings: Settings
  readonly #heartbeat: Heartbeat | undefined
  readonly #observers: readonly ConnectionObserver[] | undefined
  #cold: ColdState = NO_COLD

  /** Creates a connection over an open transport once the opening handshake is done. */
  constructor(transport: Transport, init: ConnectionInit, options: ConnectionOptions = {}, allocate?: (length: number) => Uint8Array) {
    this.role = init.role
    this.protocol = init.protocol ?? ''
    this.extensions = init.extensions ?? NO_EXTENSIONS
    this.request = init.request
    this.#transport = transport
    this.#codec = init.codec
    this.#observers = init.observers
    const settings = (this.#settings = settingsFor(options))
    // One object serves the transport, the protocol, the inbox and the heartbeat: its methods are shared, not closures.
    const events = new WebSocket.#Events(this, options.keepAlive)
    this.#protocol = new Protocol(protocolOptionsFor(options, init.role, init.codec !== undefined, allocate), events, transport)
    this.#inbox = new Inbox(events, settings)
    transport.attach(events)
    const stallTimeout = options.stallTimeout ?? 0
    const idleTimeout = options.idleTimeout ?? 0
    this.#heartbeat = stallTimeout > 0 || idleTimeout > 0 ? new Heartbeat(stallTimeout, idleTimeout, events, settings.timers) : undefined
    if (init.head !== undefined && init.head.length > 0) this.#receive(init.head)
  }

  #own(): ColdState {
    return this.#cold === NO_COLD ? (this.#cold = new ColdState()) : this.#cold
  }

  /** Prepared messages not sent because the connection's send budget was exceeded (see {@link WebSocket.sendPrepared}). */
  get droppedMessages(): number {
    return this.#cold.dropped
  }

  /** A promise of how the connection ended; it never rejects. */
  get closed(): Promise<CloseInfo> {
    const cold = this.#own()
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
    return this.#cold.closing !== undefined && this.#protocol.readyState === 'open' ? 'closing' : this.#protocol.readyState
  }

  /** Bytes handed to `send` and not yet written to the socket, in bytes. */
  get bufferedAmount(): number {
    return this.#transport.bufferedAmount
  }

  /** The messages, for the it-stream-types duplex shape `{ source, sink }`. */
  get source(): AsyncIterable<Message> {
    return this
  }

  /** Sends each item of `source` (awaiting backpressure); closes with 1000 when it ends, 1011 if it throws. */
  get sink(): (source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void> {
    const cold = this.#own()
    cold.sink ??= (source) => this.#sinkFrom(source)
    return cold.sink
  }

  async #sinkFrom(source: AsyncIterable<Outgoing> | Iterable<Outgoing>): Promise<void> {
    try {
      for await (const data of source) await this.send(data)
    } catch (error) {
      if (this.#canSend()) void this.close(CloseCode.INTERNAL_ERROR)
      throw error
    }
    await this.close(CloseCode.NORMAL)
  }

  #canSend(): boolean {
    return this.#cold.closing === undefined && this.#protocol.canSend
  }

  /**
   * Sends a message: a string as text, bytes as binary, a {@link Message} as its type. Resolves
   * when the data is handed to the socket (waiting for drain if the socket's buffer is full);
   * rejects with a {@link ConnectionClosedError} once this side's close was sent or asked for,
   * and with an {@link InvalidArgumentError} for a value that cannot be sent.
   */
  send(data: Outgoing): Promise<void> {
    if (!this.#canSend()) return rejected(this.#closedError('cannot send'))
    this.#heartbeat?.message()
    let type: MessageType = 'binary'
    let payload: Uint8Array
    if (data instanceof Uint8Array) {
      // Bytes go out as they are, with no Message made for them (one allocation less per send).
      payload = data
    } else {
      let message: Message
      try {
        message = toMessage(data)
      } catch (error) {
        return rejected(error)
      }
      type = message.type
      payload = message.data
    }
    const codec = this.#codec
    if (codec !== undefined && codec.isCompressible(payload)) {
      const compressed = codec.compress(payload)
      compressed.catch(noop) // handled in order, by the chain
      return this.#chain().then(() => compressed.then((deflated) => this.#protocol.send(type, deflated, true)), () => this.#whenWritable(), () => this.#closedError('the message could not be compressed'))
    }
    if (this.#cold.sendChain?.idle === false) return this.#chain().then(() => this.#protocol.send(type, payload), () => this.#whenWritable(), () => this.#closedError('cannot send'))
    this.#protocol.send(type, payload)
    return this.#whenWritable()
  }

  /**
   * Sends a prepared message (encoded once for many connections: a broadcast, a topic) at once,
   * unless more than `maxBufferedAmount` bytes (default: no limit) already wait to be written:
   * then nothing is sent, {@link WebSocket.droppedMessages} counts it, and false is returned (the
   * caller's slow-consumer policy decides what follows). Returns false once closing too. Never
   * waits and never throws.
   */
  sendPrepared(message: PreparedMessage, maxBufferedAmount = Infinity): boolean {
    if (!this.#canSend()) return false
    if (this.#transport.bufferedAmount + message.data.length > maxBufferedAmount) {
      this.#own().dropped++
      return false
    }
    this.#heartbeat?.message()
    if (this.role === 'server' && this.#codec === undefined) return this.#protocol.sendPrepared(message.frame)
    this.send(new Message(message.type, message.data)).catch(noop)
    return true
  }

  #chain(): SendChain {
    return (this.#own().sendChain ??= new SendChain({ sendFailed: (error) => this.#fail(error) }))
  }

  #whenWritable(): Promise<void> {
    if (this.#transport.writable) return RESOLVED
    const drained = this.#transport.whenDrained().catch(() => {
      throw this.#closedError('the connection closed before the data could be sent')
    })
    drained.catch(noop)
    return drained
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when its pong arrives;
   * rejects if the connection closes first, or with a `TimeoutError` after `timeout` ms when given. `payload` (at most
   * 125 bytes) defaults to a counter.
   */
  ping(payload?: string | Uint8Array, options: { timeout?: number | undefined } = {}): Promise<number> {
    if (this.#protocol.closeSent !== undefined || this.#protocol.readyState === 'closed') return rejected(this.#closedError('cannot ping'))
    let data: Uint8Array
    try {
      data = payload === undefined ? nextPingPayload() : toMessage(payload).data
      this.#protocol.ping(data) // throws for more than 125 bytes, before anything is kept
    } catch (error) {
      return rejected(error)
    }
    const result = (this.#own().pings ??= new Pings()).expect(data, options.timeout)
    result.catch(noop)
    return result
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: a one-way heartbeat). Throws once closing. */
  pong(payload: string | Uint8Array = EMPTY): void {
    if (!this.#protocol.pong(toMessage(payload).data)) throw this.#closedError('cannot pong')
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` (default 1000) and `reason` (at most
   * 123 bytes of UTF-8), or answers the peer's close with them, and resolves with how the
   * connection ended. Messages sent before are written first. A connection already closing just
   * waits. Rejects with an {@link InvalidArgumentError} for a code that may not be sent.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): Promise<CloseInfo> {
    if (this.#canSend() || this.#protocol.closePending) {
      try {
        buildClosePayload(code, reason) // validates before anything is sent
      } catch (error) {
        return rejected(error)
      }
      this.#own().closing = { code, reason }
      const chain = this.#cold.sendChain
      if (chain?.idle === false) void chain.then(() => this.#protocol.close(code, reason), noop)
      else this.#protocol.close(code, reason)
      this.#armCloseDeadline()
    }
    return this.closed
  }

  /** Closes the TCP connection at once, without a closing handshake (the close code is 1006). */
  terminate(): void {
    this.#transport.destroy()
  }

  /**
   * Reads one message; rejects with a {@link ConnectionClosedError} once the connection is over
   * (`wasClean` says whether it closed normally). `signal` or `timeout` (ms) stop the wait; a
   * message that arrives after is kept for the next read.
   */
  recv(options?: RecvOptions): Promise<Message> {
    this.#inbox.abandonTaken()
    const item = this.#inbox.recv(options, () => this.#endError())
    return this.#settings.streaming ? item.then((m) => (m as MessageStream).collect(this.#settings.maxMessageSize)) : (item as Promise<Message>)
  }

  /** Returns an iterator over the messages (leaving it early loses nothing; see the class doc). */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined> & AsyncIterable<Message> {
    if (!this.#settings.streaming) return iterate<Message>(this.#inbox, undefined)
    const limit = this.#settings.maxMessageSize
    return iterate<Message>(this.#inbox, (item) => (item as MessageStream).collect(limit))
  }

  /**
   * Iterates over the messages as streams of chunks, for messages too big to hold in memory; needs
   * the `streaming` option. Moving on to the next message drops what is left of the previous one.
   */
  streams(): AsyncIterable<MessageStream> {
    if (!this.#settings.streaming) throw new InvalidArgumentError('streams() needs a connection opened with { streaming: true }')
    return { [Symbol.asyncIterator]: () => iterate<MessageStream>(this.#inbox, (item) => item as MessageStream) }
  }

  /** Message payloads as bytes, for `stream.pipeline` into files and stdout (chunk by chunk in streaming mode). */
  async *bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#settings.streaming) {
      for await (const stream of this.streams()) yield* stream
    } else {
      for await (const message of this) yield message.data
    }
  }

  // ---- the driver ------------------------------------------------------------------------

  #receive(chunk: Uint8Array): void {
    this.#heartbeat?.activity()
    this.#inbox.beforeChunk()
    this.#protocol.receiveData(chunk)
  }

  #onMessage(message: Message): void {
    this.#heartbeat?.message()
    const cold = this.#cold
    // Messages after a compressed one still being inflated wait for it (in order).
    if (cold.receiveChain !== undefined && !cold.inflating) this.#afterReceives(() => this.#inbox.push(message))
    else this.#inbox.push(message)
  }

  #onCompressed(type: MessageType, payload: Uint8Array, fin: boolean): void {
    const inflated = this.#codec!.decompress(payload, fin)
    inflated.catch(noop) // handled in order, by the chain
    this.#afterReceives(() => inflated.then((data) => {
      if (data === undefined) return
      const cold = this.#own()
      cold.inflating = true
      try {
        this.#protocol.receiveInflated(type, data)
      } finally {
        cold.inflating = false
      }
    }))
  }

  /** Runs `step` after every message received before it; reading pauses while many wait. */
  #afterReceives(step: () => unknown): void {
    const cold = this.#own()
    this.#inbox.hold(1)
    const chain: Promise<void> = (cold.receiveChain ?? RESOLVED).then(step).then(noop, (error: unknown) => this.#fail(error)).finally(() => {
      if (cold.receiveChain === chain) cold.receiveChain = undefined
      this.#inbox.hold(-1)
      this.#maybeFlushClose()
    })
    cold.receiveChain = chain
  }

  #onPong(payload: Uint8Array): void {
    this.#cold.pings?.answer(payload)
  }

  /** The peer's close frame arrived, or the protocol failed: the close waits for the application. */
  #onClosing(): void {
    this.#armCloseDeadline()
    this.#maybeFlushClose()
  }

  #armCloseDeadline(): void {
    this.#own().closeDeadline ??= new CloseDeadline(this.#transport, this.#protocol, this.#settings.closeTimeout, this.#settings.timers)
  }

  /**
   * Writes the waiting close frame once the application has had what arrived before it: once it
   * has taken every queued message and then waits for the next, or had the rest of this turn (one
   * macrotask) to answer the last, so that the answers it sent go out before the close, as `ws`
   * answers a close after its 'message' handlers ran. An application that has not read by the end
   * of that turn is not going to answer: its close is written then. Bounded by `closeTimeout`
   * (the close deadline writes it anyway).
   */
  #maybeFlushClose(): void {
    if (!this.#protocol.closePending) return
    const inbox = this.#inbox
    const settled = this.#cold.receiveChain === undefined && inbox.empty
    if (inbox.everRead && !settled) return // drained() calls again when the reader comes back
    if (inbox.everRead && inbox.waiting) {
      this.#flushClose()
      return
    }
    const cold = this.#own()
    if (cold.flushScheduled) return
    cold.flushScheduled = true
    setTimeout(() => {
      cold.flushScheduled = false
      if (!this.#protocol.closePending) return
      if (!this.#inbox.everRead || (this.#cold.receiveChain === undefined && this.#inbox.empty)) this.#flushClose()
    }, 0)
  }

  #flushClose(): void {
    const protocol = this.#protocol
    const chain = this.#cold.sendChain
    if (chain?.idle === false) void chain.then(() => protocol.flushClose(), noop)
    else protocol.flushClose()
  }

  /** Fails the connection for an error of this side (a codec's, a send chain's). */
  #fail(error: unknown): void {
    if (this.#protocol.failure === undefined) this.#protocol.fail(error)
  }

  #onEnd(): void {
    // The peer half-closed: expected after (or while answering) its close frame; otherwise it is gone.
    if (!this.#protocol.receiveEof()) this.#transport.destroy()
  }

  #onClose(error: unknown): void {
    if (this.#cold.end !== undefined) return
    const cold = this.#own()
    cold.closeDeadline?.cancel()
    this.#heartbeat?.stop()
    const outcome: CloseOutcome = this.#protocol.connectionClosed(error)
    const info: CloseInfo = { code: outcome.code, reason: outcome.reason, wasClean: outcome.wasClean }
    const endError: Error | undefined = cold.failure ?? outcome.error
    cold.end = { info, error: endError }
    this.#codec?.release()
    this.#inbox.end(endError, new ConnectionClosedError(info.code, 'the connection closed in the middle of a message', info.wasClean))
    cold.pings?.rejectAll(() => this.#closedError('the connection closed before the pong'))
    if (this.#observers !== undefined) for (const observer of this.#observers) observer.closed(this, info)
    cold.resolveClosed?.(info)
  }

  /** What a read after the end rejects with: the end's error, or the clean close as an error. */
  #endError(): ConnectionClosedError {
    const end = this.#cold.end
    if (end?.error instanceof ConnectionClosedError) return end.error
    const info = end?.info ?? { code: CloseCode.ABNORMAL_CLOSURE, reason: '', wasClean: false }
    return new ConnectionClosedError(info.code, info.reason, info.wasClean, end?.error === undefined ? undefined : { cause: end.error })
  }

  #closedError(what: string): ConnectionClosedError {
    const info = this.#cold.end?.info
    const code = info?.code ?? this.#protocol.closeSent?.code ?? this.#cold.closing?.code ?? CloseCode.ABNORMAL_CLOSURE
    return new ConnectionClosedError(code, info?.reason ?? '', info?.wasClean ?? false, undefined, `${what}: the connection is ${this.readyState}`)
  }

  /** The handlers of the transport, protocol, inbox and heartbeat: one small object whose methods are shared. */
  static readonly #Events = class ConnectionEvents implements TransportHandlers, ProtocolHandler, InboxControl, HeartbeatHooks {
    readonly #ws: WebSocket
    readonly #keepAlive: ((ws: WebSocket) => unknown) | undefined

    constructor(ws: WebSocket, keepAlive: ((ws: WebSocket) => unknown) | undefined) {
      this.#ws = ws
      this.#keepAlive = keepAlive
    }

    // transport
    onData(chunk: Uint8Array): void {
      this.#ws.#receive(chunk)
    }

    onEnd(): void {
      this.#ws.#onEnd()
    }

    onClose(error: unknown): void {
      this.#ws.#onClose(error)
    }

    // protocol
    onMessage(message: Message): void {
      this.#ws.#onMessage(message)
    }

    onFragment(type: MessageType, payload: Uint8Array, first: boolean, fin: boolean): void {
      this.#ws.#heartbeat?.message()
      this.#ws.#inbox.pushFragment(type, payload, first, fin)
    }

    onCompressed(type: MessageType, payload: Uint8Array, fin: boolean): void {
      this.#ws.#onCompressed(type, payload, fin)
    }

    onPing(): void {
      // The pong is written by the protocol.
    }

    onPong(payload: Uint8Array): void {
      this.#ws.#onPong(payload)
    }

    onCloseFrame(): void {
      this.#ws.#onClosing()
    }

    onFail(_error: ProtocolError): void {
      this.#ws.#onClosing()
    }

    // inbox
    pause(): void {
      this.#ws.#transport.pause()
    }

    resume(): void {
      this.#ws.#transport.resume()
    }

    drained(): void {
      this.#ws.#maybeFlushClose()
    }

    // heartbeat
    keepAlive(): void {
      const ws = this.#ws
      try {
        const result = this.#keepAlive === undefined ? ws.ping() : this.#keepAlive(ws)
        if (result instanceof Promise) result.catch(noop)
      } catch {
        // a failing keep-alive is not fatal by itself; silence still ends in a StallError
      }
    }

    stalled(): void {
      const ws = this.#ws
      ws.#own().failure = new StallError(ws.#heartbeat!.stallTimeout)
      ws.#transport.destroy()
    }

    idle(): void {
      void this.#ws.close(CloseCode.GOING_AWAY, 'idle timeout')
    }

    isPaused(): boolean {
      return this.#ws.#inbox.paused
    }

    isOpen(): boolean {
      return this.#ws.#canSend()
    }
  }
}

/** A promise rejected with `error` whose rejection is handled (no crash when nobody awaits it). */
function rejected<T>(error: unknown): Promise<T> {
  const promise = Promise.reject(error)
  promise.catch(noop)
  return promise
}
