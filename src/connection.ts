/**
 * The connection: a WebSocket that is an async iterable of messages and an async sink for
 * outgoing data, over any byte {@link Transport}. The hot path is synchronous: a socket chunk is
 * decoded, control frames answered and messages queued in one pass, with one async hop per chunk.
 * @module
 */
import { MessageAssembler } from './core/assembler.ts'
import { EMPTY } from './core/byte-queue.ts'
import { buildClosePayload, parseClosePayload } from './core/close-payload.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, Opcode } from './core/constants.ts'
import { FrameDecoder } from './core/decoder.ts'
import { frameHeaderLength, writeFrame, writeFrameHeader, type EncodeOptions } from './core/encoder.ts'
import { CloseCode, ConnectionClosedError, InvalidArgumentError, ProtocolError, StallError } from './core/errors.ts'
import type { Frame } from './core/frame.ts'
import { fragmentMessage } from './core/fragmenter.ts'
import { Message, toMessage, type Outgoing } from './core/message.ts'
import type { ExtensionOffer } from './core/handshake/extensions.ts'
import type { TransportHandlers, Transport, MessageCodec, CloseInfo, RequestInfo, ConnectionOptions, ConnectionInit, ReadyState } from './connection-types.ts'
import { Heartbeat, type HeartbeatHooks } from './heartbeat.ts'
import { sharedWheel, WheelTimer } from './timer-wheel.ts'
import { allocateUninitialized } from './node/allocate.ts'
import { MessageStream, type MessageStreamController } from './message-stream.ts'
import { Rsv } from './core/decoder.ts'
import { isValidUtf8 } from './core/utf8.ts'
import { InvalidDataError } from './core/errors.ts'

export type { TransportHandlers, Transport, MessageCodec, CloseInfo, RequestInfo, ConnectionOptions, ConnectionInit, ReadyState } from './connection-types.ts'

const RESOLVED = Promise.resolve()
// The frame object every unfragmented send writes through (#writeFrame is done with it when it returns).
const OUTGOING: Frame = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: Opcode.BINARY, payload: EMPTY }
const NO_EXTENSIONS: readonly ExtensionOffer[] = Object.freeze([])
// The queue of a connection with nothing buffered: shared, never written to (an idle connection
// holds no array of its own).
const NO_ITEMS: (Message | MessageStream)[] = []
// Payloads up to this size are copied next to their header in the write buffer (one chunk per
// tick); larger unmasked payloads go to the socket as they are. bench: a copy below 1 KiB costs
// less than another chunk in the socket's write queue.
const COPY_THRESHOLD = 1024
const MASKED: EncodeOptions = { mask: true }
const UNMASKED: EncodeOptions = { mask: false }
const OK_CLOSE_CODES = new Set<number>([CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RECEIVED])
const REASONS: Record<number, string> = {
  [CloseCode.PROTOCOL_ERROR]: 'protocol error',
  [CloseCode.INVALID_DATA]: 'invalid data',
  [CloseCode.MESSAGE_TOO_BIG]: 'message too big',
  [CloseCode.MANDATORY_EXTENSION]: 'extension required',
  [CloseCode.INTERNAL_ERROR]: 'internal error',
}

interface Waiter {
  resolve: (result: IteratorResult<Message | MessageStream, undefined>) => void
  reject: (error: unknown) => void
  /** The reader waiting, settled when the connection ends. */
  iterator: { settle(): void } | undefined
}

interface PendingPing {
  key: string
  start: number
  resolve: (rtt: number) => void
  reject: (error: unknown) => void
}

let pingCounter = 0

/** What the connections made with equal options share: one object, where each had eight fields. */
interface Settings {
  readonly role: 'client' | 'server'
  readonly onClosed: ((ws: WebSocket) => void) | undefined
  readonly mask: boolean
  readonly streaming: boolean
  readonly maxMessageSize: number
  readonly fragmentSize: number
  readonly closeTimeout: number
  readonly highWaterMark: number
  readonly highWaterMarkBytes: number
}

// The settings last made from each options object (a server passes the same one to every connection).
const SETTINGS = new WeakMap<ConnectionOptions, Settings>()

/** The settings of a connection: those made last from `options` if they are still what `options` says. */
function settingsFor(options: ConnectionOptions, role: 'client' | 'server', onClosed: ((ws: WebSocket) => void) | undefined): Settings {
  const streaming = options.streaming === true
  const maxMessageSize = options.maxMessageSize ?? (streaming ? Infinity : DEFAULT_MAX_MESSAGE_SIZE)
  const fragmentSize = options.fragmentSize ?? Infinity
  const closeTimeout = options.closeTimeout ?? 5000
  const highWaterMark = options.highWaterMark ?? 16
  const highWaterMarkBytes = options.highWaterMarkBytes ?? 1024 * 1024
  const last = SETTINGS.get(options)
  if (
    last !== undefined && last.role === role && last.onClosed === onClosed && last.streaming === streaming && last.maxMessageSize === maxMessageSize &&
    last.fragmentSize === fragmentSize && last.closeTimeout === closeTimeout && last.highWaterMark === highWaterMark && last.highWaterMarkBytes === highWaterMarkBytes
  ) {
    return last
  }
  const settings: Settings = { role, onClosed, mask: role === 'client', streaming, maxMessageSize, fragmentSize, closeTimeout, highWaterMark, highWaterMarkBytes }
  SETTINGS.set(options, settings)
  return settings
}

/**
 * The close handshake's deadline: when it passes, the transport is cut. On the shared timer
 * wheel (src/timer-wheel.ts): a closing connection holds this small entry, not a Timeout and a
 * closure (a server shutting down closes all of its connections at once).
 */
class CloseDeadline extends WheelTimer {
  readonly #transport: Transport

  constructor(transport: Transport, timeout: number) {
    super(sharedWheel(timeout))
    this.#transport = transport
    this.schedule(timeout)
  }

  onWheel(): void {
    this.#transport.destroy()
  }
}

/**
 * The state a connection needs only at times (compressed messages in flight, streamed messages,
 * pings, the close handshake, the end): in one record made when first written, so that an idle
 * open connection holds one field for it, where it held seventeen (bench/memory.ts). Until then the
 * connection reads the shared frozen {@link NO_COLD}.
 */
class ColdState {
  sendChain: Promise<void> | undefined = undefined
  receiveChain: Promise<void> | undefined = undefined
  receivePending = 0
  deferredClose: Frame | undefined = undefined
  moreWaiters: Waiter[] | undefined = undefined
  inbound: MessageStreamController | undefined = undefined
  taken: MessageStreamController | undefined = undefined
  controllers: Map<MessageStream, MessageStreamController> | undefined = undefined
  closeSent: { code: number; reason: string; byApplication: boolean } | undefined = undefined
  closeReceived: { code: number; reason: string } | undefined = undefined
  failure: unknown = undefined
  end: { info: CloseInfo; error: Error | undefined } | undefined = undefined
  closed: Promise<CloseInfo> | undefined = undefined
  resolveClosed: ((info: CloseInfo) => void) | undefined = undefined
  closeDeadline: CloseDeadline | undefined = undefined
  pings: PendingPing[] | undefined = undefined
  sink: ((source: AsyncIterable<Outgoing> | Iterable<Outgoing>) => Promise<void>) | undefined = undefined
}

/** The cold state of every connection that has not needed its own (frozen: writing to it is a bug). */
const NO_COLD: ColdState = Object.freeze(new ColdState())

/**
 * A WebSocket connection: `for await (const message of ws)` reads messages; `send`, `sink` and
 * `close` write. Iteration ends on a clean close (both close frames exchanged, code 1000, 1001
 * or none, or a close this side asked for) and throws a {@link ConnectionClosedError} (or a
 * {@link StallError}) otherwise.
 *
 * Reading: messages wait in a small buffer for the consumer; when it holds `highWaterMark`
 * messages or `highWaterMarkBytes` bytes, the socket is no longer read until the consumer catches
 * up, so TCP pushes back on the peer. Leaving a `for await` early (`break`) keeps the connection
 * open and loses nothing the buffer can hold: a later loop resumes where the first stopped. Once
 * the buffer is full and no loop is running, further data messages are dropped (and counted in
 * {@link WebSocket.droppedMessages}) so that pings and the close handshake are still answered with
 * bounded memory. To stop the connection, call `close()`.
 *
 * Writing: `send` resolves when the data is handed to the socket and waits for drain when the
 * socket's buffer is full; frames sent in the same tick go out in one write. `sink(source)` sends
 * every item of `source`, awaiting backpressure, and closes with 1000 when `source` ends (with 1011
 * if it throws).
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
  /** Data messages dropped because nobody was reading and the buffer was full (see the class doc). */
  droppedMessages = 0

  readonly #transport: Transport
  readonly #decoder: FrameDecoder
  readonly #assembler: MessageAssembler
  readonly #codec: MessageCodec | undefined
  // Compressed messages are (de)compressed asynchronously; what comes after them waits in order.
  #compressed = false
  #cold: ColdState = NO_COLD
  readonly #settings: Settings
  readonly #heartbeat: Heartbeat | undefined

  #state: ReadyState = 'open'
  #queue: (Message | MessageStream)[] = NO_ITEMS
  #queueHead = 0
  #queueBytes = 0
  // The reader waiting for the next item, and any further ones (rare: next() called again before
  // the first settled). One field, not an array: an idle connection's pending read holds no list.
  #waiter: Waiter | undefined = undefined
  #readers = 0
  #everRead = false
  #paused = false
  // `closed` is made when first asked for: most connections never are, and then hold no promise.

  /** Creates a connection over an open transport once the opening handshake is done. */
  constructor(transport: Transport, init: ConnectionInit, options: ConnectionOptions = {}) {
    this.role = init.role
    this.protocol = init.protocol ?? ''
    this.extensions = init.extensions ?? NO_EXTENSIONS
    this.request = init.request
    this.#transport = transport
    const settings = (this.#settings = settingsFor(options, init.role, init.onClosed))
    const maxMessageSize = settings.maxMessageSize
    this.#codec = init.codec
    this.#decoder = new FrameDecoder({
      role: init.role,
      maxFrameSize: options.maxFrameSize ?? Math.min(maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE),
      // RFC 7692 §6: permessage-deflate gives RSV1 its meaning ("Per-Message Compressed").
      allowedRsv: init.codec !== undefined ? Rsv.RSV1 : 0,
      allocate: allocateUninitialized,
    })
    this.#assembler = new MessageAssembler({ maxMessageSize, maxFragments: options.maxFragments })
    // One object serves the transport and the heartbeat: its methods are shared, not closures.
    const events = new WebSocket.#Events(this, options.keepAlive)
    transport.attach(events)
    const stallTimeout = options.stallTimeout ?? 0
    const idleTimeout = options.idleTimeout ?? 0
    this.#heartbeat = stallTimeout > 0 || idleTimeout > 0 ? new Heartbeat(stallTimeout, idleTimeout, events) : undefined
    if (init.head !== undefined && init.head.length > 0) this.#receive(init.head)
  }

  /** The connection's own cold state, made at the first write. */
  #own(): ColdState {
    return this.#cold === NO_COLD ? (this.#cold = new ColdState()) : this.#cold
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
    return this.#state
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
      if (this.#state === 'open') void this.close(CloseCode.INTERNAL_ERROR)
      throw error
    }
    await this.close(CloseCode.NORMAL)
  }

  /**
   * Sends a message: a string as text, bytes as binary, a {@link Message} as its type. Resolves
   * when the data is handed to the socket (waiting for drain if the socket's buffer is full);
   * rejects with a {@link ConnectionClosedError} if the connection is closing or closed.
   */
  send(data: Outgoing): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError('cannot send'))
    this.#heartbeat?.message()
    // Bytes go out as they are, with no Message made for them (one allocation less per send).
    const message = data instanceof Uint8Array ? undefined : toMessage(data)
    const type = message?.type ?? 'binary'
    const payload = message?.data ?? (data as Uint8Array)
    const codec = this.#codec
    if (codec !== undefined && codec.isCompressible(payload)) {
      const compressed = codec.compress(payload)
      compressed.catch(() => undefined) // handled below, in order
      return this.#afterSends(() => compressed.then((deflated) => this.#writeMessage(type, deflated, true)))
    }
    if (this.#cold.sendChain !== undefined) return this.#afterSends(() => this.#writeMessage(type, payload, false))
    this.#writeMessage(type, payload, false)
    return this.#whenWritable()
  }

  /** Runs `write` once every send before it is written, keeping the order of messages on the wire. */
  #afterSends(write: () => unknown): Promise<void> {
    const written = (this.#cold.sendChain ?? RESOLVED).then(write)
    const tail: Promise<void> = written.then(
      () => {
        if (this.#cold.sendChain === tail) this.#own().sendChain = undefined
      },
      (error: unknown) => {
        if (this.#cold.sendChain === tail) this.#own().sendChain = undefined
        this.#fail(error)
      },
    )
    this.#own().sendChain = tail
    return written.then(
      () => this.#whenWritable(),
      () => {
        throw this.#closedError('the message could not be compressed')
      },
    )
  }

  #whenWritable(): Promise<void> {
    if (this.#transport.writable) return RESOLVED
    return this.#transport.whenDrained().catch(() => {
      throw this.#closedError('the connection closed before the data could be sent')
    })
  }

  /** Writes a message's frames (fragmented past `fragmentSize`; RSV1 on the first when compressed). */
  #writeMessage(type: 'text' | 'binary', payload: Uint8Array, compressed: boolean): void {
    if (this.#state === 'closed') return
    if (payload.length <= this.#settings.fragmentSize) {
      const frame = OUTGOING
      frame.rsv1 = compressed
      frame.opcode = type === 'text' ? Opcode.TEXT : Opcode.BINARY
      frame.payload = payload
      this.#writeFrame(frame)
      frame.payload = EMPTY // not kept alive by the shared object
    } else {
      for (const frame of fragmentMessage(new Message(type, payload), this.#settings.fragmentSize, compressed)) this.#writeFrame(frame)
    }
  }

  /** Writes one frame into the transport's buffer: small or masked frames whole, large payloads uncopied. */
  #writeFrame(frame: Frame): void {
    const transport = this.#transport
    const length = frame.payload.length
    if (this.#settings.mask || length <= COPY_THRESHOLD) {
      const offset = transport.reserve(frameHeaderLength(length, this.#settings.mask) + length)
      writeFrame(frame, transport.buffer, offset, this.#settings.mask ? MASKED : UNMASKED)
    } else {
      const offset = transport.reserve(frameHeaderLength(length, false))
      writeFrameHeader(frame, false, transport.buffer, offset)
      transport.write([frame.payload])
    }
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when its pong arrives;
   * rejects if the connection closes first. `payload` (at most 125 bytes) defaults to a counter.
   */
  ping(payload?: string | Uint8Array): Promise<number> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError('cannot ping'))
    const data = payload === undefined ? new TextEncoder().encode(`wsflow-${++pingCounter}`) : toMessage(payload).data
    if (data.length > 125) return Promise.reject(new InvalidArgumentError('a ping payload is at most 125 bytes'))
    return new Promise((resolve, reject) => {
      ;(this.#own().pings ??= []).push({ key: keyOf(data), start: performance.now(), resolve, reject })
      this.#sendFrame(Opcode.PING, data)
    })
  }

  /** Sends a pong (unsolicited pongs serve as a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(payload: string | Uint8Array = new Uint8Array(0)): void {
    if (this.#state !== 'open') throw this.#closedError('cannot pong')
    const data = toMessage(payload).data
    if (data.length > 125) throw new InvalidArgumentError('a pong payload is at most 125 bytes')
    this.#sendFrame(Opcode.PONG, data)
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` (default 1000) and `reason` (at most
   * 123 bytes of UTF-8), and resolves with how the connection ended. A connection that is already
   * closing just waits. Throws {@link InvalidArgumentError} for a code that may not be sent.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): Promise<CloseInfo> {
    if (this.#state === 'open') {
      const payload = buildClosePayload(code, reason) // validates before anything is sent
      this.#sendClose(code, reason, payload, true)
    }
    return this.closed
  }

  /** Closes the TCP connection at once, without a closing handshake (the close code is 1006). */
  terminate(): void {
    this.#transport.destroy()
  }

  /** Returns an iterator over the messages (see the class doc for what leaving early means). */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined> & AsyncIterable<Message> {
    if (!this.#settings.streaming) return this.#iterate<Message>(undefined)
    const limit = this.#settings.maxMessageSize
    return this.#iterate<Message>((item) => (item as MessageStream).collect(limit))
  }

  /**
   * Iterates over the messages as streams of chunks, for messages too big to hold in memory; needs
   * the `streaming` option. Moving on to the next message drops what is left of the previous one.
   */
  streams(): AsyncIterable<MessageStream> {
    if (!this.#settings.streaming) throw new InvalidArgumentError('streams() needs a connection opened with { streaming: true }')
    return { [Symbol.asyncIterator]: () => this.#iterate<MessageStream>((item) => item as MessageStream) }
  }

  /** Message payloads as bytes, for `stream.pipeline` into files and stdout (chunk by chunk in streaming mode). */
  async *bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#settings.streaming) {
      for await (const stream of this.streams()) yield* stream
    } else {
      for await (const message of this) yield message.data
    }
  }

  #iterate<T>(map: ((item: Message | MessageStream) => T | Promise<T>) | undefined): AsyncIterator<T, undefined> & AsyncIterable<T> {
    this.#readers++
    this.#everRead = true
    return new WebSocket.#Iterator<T>(this, map)
  }

  /** The transport's handlers: one small object whose methods are shared, instead of three closures per connection. */
  static readonly #Events = class ConnectionEvents implements TransportHandlers, HeartbeatHooks {
    readonly #ws: WebSocket
    readonly #keepAlive: ((ws: WebSocket) => unknown) | undefined

    constructor(ws: WebSocket, keepAlive: ((ws: WebSocket) => unknown) | undefined) {
      this.#ws = ws
      this.#keepAlive = keepAlive
    }

    onData(chunk: Uint8Array): void {
      this.#ws.#receive(chunk)
    }

    onEnd(): void {
      this.#ws.#onEnd()
    }

    onClose(error: unknown): void {
      this.#ws.#onClose(error)
    }

    keepAlive(): void {
      const ws = this.#ws
      try {
        const result = this.#keepAlive === undefined ? ws.ping() : this.#keepAlive(ws)
        if (result instanceof Promise) result.catch(() => undefined)
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
      return this.#ws.#paused
    }

    isOpen(): boolean {
      return this.#ws.#state === 'open'
    }
  }

  /** One reader of the messages: an object of three fields instead of a handful of closures per connection. */
  static readonly #Iterator = class MessageIterator<T> implements AsyncIterator<T, undefined>, AsyncIterable<T> {
    readonly #ws: WebSocket
    readonly #map: ((item: Message | MessageStream) => T | Promise<T>) | undefined
    #done = false

    constructor(ws: WebSocket, map: ((item: Message | MessageStream) => T | Promise<T>) | undefined) {
      this.#ws = ws
      this.#map = map
    }

    next(): Promise<IteratorResult<T, undefined>> {
      if (this.#done) return Promise.resolve({ value: undefined, done: true })
      const ws = this.#ws
      if (ws.#cold.taken !== undefined) {
        // Asking for the next message drops what is left of the stream taken before.
        ws.#cold.taken.abandon()
        ws.#own().taken = undefined
      }
      const ready = ws.#next()
      if (this.#map === undefined) {
        // The common loop: the promise handed out is the one the connection settles (no chain).
        if (ready !== undefined) return Promise.resolve(ready as IteratorResult<T, undefined>)
        return ws.#wait(this) as Promise<IteratorResult<T, undefined>>
      }
      return (ready !== undefined ? Promise.resolve(ready) : ws.#wait(undefined)).then(
        (result) => {
          if (result.done) {
            this.#finish()
            return result
          }
          if (this.#map === undefined) return result as IteratorResult<T, undefined>
          const value = this.#map(result.value)
          return value instanceof Promise ? value.then((v) => ({ value: v, done: false as const })) : { value, done: false as const }
        },
        (error: unknown) => {
          this.#finish()
          throw error
        },
      )
    }

    return(): Promise<IteratorResult<T, undefined>> {
      this.#finish()
      return Promise.resolve({ value: undefined, done: true })
    }

    [Symbol.asyncIterator](): this {
      return this
    }

    /** The connection ended while this reader waited: it is done. */
    settle(): void {
      this.#finish()
    }

    #finish(): void {
      if (this.#done) return
      this.#done = true
      if (--this.#ws.#readers === 0) this.#ws.#unattended()
    }
  }

  /** A promise of the next item; `iterator`, when given, is settled (done) if the connection ends instead. */
  #wait(iterator: { settle(): void } | undefined): Promise<IteratorResult<Message | MessageStream, undefined>> {
    const end = this.#cold.end
    if (end !== undefined) {
      iterator?.settle()
      return end.error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(end.error)
    }
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, iterator }
      if (this.#waiter === undefined) this.#waiter = waiter
      else (this.#own().moreWaiters ??= []).push(waiter)
    })
  }

  /** The next buffered item if there is one now, or the end if the connection is over and drained. */
  #next(): IteratorResult<Message | MessageStream, undefined> | undefined {
    if (this.#queueHead < this.#queue.length) {
      const item = this.#queue[this.#queueHead]!
      this.#queue[this.#queueHead++] = undefined as unknown as Message
      if (this.#queueHead === this.#queue.length) {
        this.#queue = NO_ITEMS
        this.#queueHead = 0
      }
      if (item instanceof MessageStream) this.#take(item)
      else this.#consumed(item.data.length)
      return { value: item, done: false }
    }
    if (this.#cold.end === undefined) return undefined
    this.#cold.taken?.abandon()
    return undefined
  }

  /** Bytes the reader took (or dropped) from the buffer; reading resumes below the low-water mark. */
  #consumed(bytes: number): void {
    this.#queueBytes -= bytes
    if (this.#paused && this.#belowLowWaterMark()) {
      this.#paused = false
      this.#transport.resume()
    }
  }

  #belowLowWaterMark(): boolean {
    const count = this.#queue.length - this.#queueHead
    return count <= this.#settings.highWaterMark >> 1 && this.#queueBytes <= this.#settings.highWaterMarkBytes >> 1 && this.#cold.receivePending <= this.#settings.highWaterMark >> 1
  }

  /** Hands an item to a waiting reader or queues it; returns false when it was dropped (see the class doc). */
  #deliver(item: Message | MessageStream): boolean {
    this.#heartbeat?.message()
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = this.#cold.moreWaiters?.shift()
      if (item instanceof MessageStream) this.#take(item)
      waiter.resolve({ value: item, done: false })
      return true
    }
    const count = this.#queue.length - this.#queueHead
    const full = count >= this.#settings.highWaterMark || this.#queueBytes >= this.#settings.highWaterMarkBytes
    if (full && this.#everRead && this.#readers === 0) {
      this.droppedMessages++
      return false
    }
    if (this.#queue === NO_ITEMS) this.#queue = [item]
    else this.#queue.push(item)
    if (!(item instanceof MessageStream)) this.#queueBytes += item.data.length
    return true
  }

  /**
   * Pauses reading when the next socket chunk finds the buffer still over its high-water mark: a
   * reader that keeps up empties it before then, and the socket is never paused (bench: pausing and
   * resuming per chunk costs two syscalls and a third of the small-message echo rate; a timer per
   * chunk to check later cost the 256-connection echo a fifth). The chunk in hand is still decoded,
   * so the buffer can pass the mark by one socket read at most.
   */
  #pauseIfFull(): void {
    if (this.#paused || this.#isUnattended()) return
    const count = this.#queue.length - this.#queueHead
    if (count >= this.#settings.highWaterMark || this.#queueBytes >= this.#settings.highWaterMarkBytes) {
      this.#paused = true
      this.#transport.pause()
    }
  }

  /** Whether a reader came and left: then a full buffer drops messages instead of pausing reads. */
  #isUnattended(): boolean {
    return this.#everRead && this.#readers === 0
  }

  /** The last reader left: reading resumes, so that control frames keep being answered (see the class doc). */
  #unattended(): void {
    if (this.#paused) {
      this.#paused = false
      this.#transport.resume()
    }
  }

  /** The reader moves on to `stream`: what is left of the one it had is dropped. */
  #take(stream: MessageStream): void {
    this.#cold.taken?.abandon()
    this.#own().taken = this.#cold.controllers?.get(stream)
    this.#cold.controllers?.delete(stream)
  }

  /** Streaming mode: a data frame's payload goes straight to its message's stream. */
  #receiveStreaming(frame: Frame): void {
    const type = this.#assembler.check(frame)
    if (frame.opcode !== Opcode.CONTINUATION) {
      const { stream, controller } = MessageStream.create(type, (bytes) => this.#consumed(bytes))
      ;(this.#own().controllers ??= new Map()).set(stream, controller)
      this.#own().inbound = controller
      if (!this.#deliver(stream)) {
        this.#cold.controllers?.delete(stream)
        controller.abandon()
      }
    }
    const inbound = this.#cold.inbound!
    const payload = frame.payload
    if (payload.length > 0) {
      this.#queueBytes += payload.length
      inbound.push(payload)
      if (!this.#paused && this.#queueBytes >= this.#settings.highWaterMarkBytes) {
        if (this.#isUnattended() && inbound !== this.#cold.taken) {
          this.droppedMessages++
          inbound.abandon()
        } else {
          this.#paused = true
          this.#transport.pause()
        }
      }
    }
    if (frame.fin) {
      inbound.end()
      this.#own().inbound = undefined
    }
  }

  #receive(chunk: Uint8Array): void {
    this.#heartbeat?.activity()
    if (this.#cold.closeReceived !== undefined || this.#cold.deferredClose !== undefined || this.#cold.failure !== undefined || this.#state === 'closed') return
    if (this.#queueHead < this.#queue.length) this.#pauseIfFull()
    const decoder = this.#decoder
    decoder.push(chunk)
    try {
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        if (frame.opcode >= 0x8) {
          // RFC 7692 §6.1: RSV1 is never set on control frames.
          if (frame.rsv1) throw new ProtocolError('WS_ERR_UNEXPECTED_RSV', 'RSV1 set on a control frame')
          if (frame.opcode === Opcode.CLOSE && this.#cold.receiveChain !== undefined) {
            // Messages still being decompressed are delivered before the close is handled.
            this.#own().deferredClose = frame
            const close = frame
            void this.#cold.receiveChain.then(() => {
              if (this.#cold.failure !== undefined || this.#state === 'closed') return
              try {
                this.#onControlFrame(close)
              } catch (error) {
                this.#fail(error)
              }
            })
            return
          }
          this.#onControlFrame(frame)
          if (this.#cold.closeReceived !== undefined) return // RFC 6455 §5.5.1: nothing after a close frame
        } else {
          if (this.#settings.streaming) {
            this.#receiveStreaming(frame)
          } else if (this.#codec !== undefined) {
            this.#receiveCompressed(frame, this.#codec)
          } else {
            const message = this.#assembler.push(frame)
            if (message !== undefined) this.#deliver(message)
          }
        }
      }
    } catch (error) {
      this.#fail(error)
    }
  }

  /** A data frame on a connection with permessage-deflate: compressed messages are inflated in order. */
  #receiveCompressed(frame: Frame, codec: MessageCodec): void {
    if (frame.opcode !== Opcode.CONTINUATION) {
      this.#compressed = frame.rsv1
    } else if (frame.rsv1) {
      // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
      throw new ProtocolError('WS_ERR_UNEXPECTED_RSV', 'RSV1 set on a continuation frame')
    }
    if (!this.#compressed) {
      const message = this.#assembler.push(frame)
      if (message === undefined) return
      if (this.#cold.receiveChain === undefined) this.#deliver(message)
      else this.#afterReceives(() => this.#deliver(message))
      return
    }
    // Continuation rules and the compressed size; UTF-8 is checked on the inflated text.
    const type = this.#assembler.check(frame, false)
    const inflated = codec.decompress(frame.payload, frame.fin)
    inflated.catch(() => undefined) // handled below, in order
    this.#afterReceives(() => inflated.then((data) => {
      if (data === undefined) return
      // RFC 6455 §8.1: text MUST be valid UTF-8, checked once inflated.
      if (type === 'text' && !isValidUtf8(data)) throw new InvalidDataError('WS_ERR_INVALID_UTF8', 'a compressed text message is not valid UTF-8')
      this.#deliver(new Message(type, data))
    }))
  }

  /** Runs `step` after every message received before it is delivered; reading pauses while many wait. */
  #afterReceives(step: () => unknown): void {
    this.#own().receivePending++
    if (!this.#paused && this.#cold.receivePending > this.#settings.highWaterMark) {
      this.#paused = true
      this.#transport.pause()
    }
    const chain: Promise<void> = (this.#cold.receiveChain ?? RESOLVED).then(step).then(
      () => undefined,
      (error: unknown) => this.#fail(error),
    ).finally(() => {
      this.#own().receivePending--
      if (this.#cold.receiveChain === chain) this.#own().receiveChain = undefined
      if (this.#paused && this.#belowLowWaterMark()) {
        this.#paused = false
        this.#transport.resume()
      }
    })
    this.#own().receiveChain = chain
  }

  #onControlFrame(frame: Frame): void {
    switch (frame.opcode) {
      case Opcode.PING:
        // RFC 6455 §5.5.2: upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        // response, with identical application data, unless it already received a Close frame.
        if (this.#state !== 'closed') this.#sendFrame(Opcode.PONG, frame.payload)
        return
      case Opcode.PONG: {
        const key = keyOf(frame.payload)
        const pings = this.#cold.pings
        const index = pings?.findIndex((p) => p.key === key) ?? -1
        if (pings === undefined || index < 0) return // RFC 6455 §5.5.3: an unsolicited pong needs no response
        // A pong answers its ping and every ping sent before it.
        const answered = pings.splice(0, index + 1)
        const now = performance.now()
        for (const p of answered) p.resolve(now - p.start)
        return
      }
      case Opcode.CLOSE: {
        const { code, reason } = parseClosePayload(frame.payload) // throws for an invalid payload
        this.#own().closeReceived = { code, reason }
        if (this.#cold.closeSent === undefined) {
          // RFC 6455 §5.5.1: if an endpoint receives a Close frame and did not previously send a
          // Close frame, the endpoint MUST send a Close frame in response (echoing the code).
          this.#sendClose(code, '', code === CloseCode.NO_STATUS_RECEIVED ? new Uint8Array(0) : buildClosePayload(code), false)
        }
        this.#afterCloseHandshake()
        return
      }
    }
  }

  #sendFrame(opcode: Opcode, payload: Uint8Array): void {
    this.#writeFrame({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode, payload })
  }

  #sendClose(code: number, reason: string, payload: Uint8Array, byApplication: boolean): void {
    this.#own().closeSent = { code, reason, byApplication }
    this.#state = 'closing'
    // Messages accepted by send() before the close go out before it.
    if (this.#cold.sendChain !== undefined && this.#cold.failure === undefined) void this.#cold.sendChain.then(() => this.#sendFrame(Opcode.CLOSE, payload))
    else this.#sendFrame(Opcode.CLOSE, payload)
    this.#own().closeDeadline ??= new CloseDeadline(this.#transport, this.#settings.closeTimeout)
  }

  #afterCloseHandshake(): void {
    // RFC 6455 §7.1.1: the server SHOULD close the TCP connection first; the client waits for it
    // (the close timer ends it if the server does not).
    if (this.role === 'server') this.#transport.end()
  }

  /** RFC 6455 §7.1.7: fail the WebSocket connection with the error's close code. */
  #fail(error: unknown): void {
    if (this.#cold.failure !== undefined) return
    this.#own().failure = error
    const code = error instanceof ProtocolError ? error.closeCode : CloseCode.INTERNAL_ERROR
    if (this.#state === 'open') this.#sendClose(code, REASONS[code] ?? '', buildClosePayload(code, REASONS[code] ?? ''), false)
    this.#transport.end()
  }

  #onEnd(): void {
    // The peer half-closed. A client whose close handshake is done answers with its own FIN.
    if (this.#cold.closeReceived !== undefined || this.#cold.failure !== undefined) this.#transport.end()
    else this.#transport.destroy()
  }

  #onClose(error: unknown): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#cold.closeDeadline?.cancel()
    this.#heartbeat?.stop()
    const received = this.#cold.closeReceived
    const sent = this.#cold.closeSent
    const wasClean = received !== undefined && sent !== undefined && this.#cold.failure === undefined
    const info: CloseInfo = received !== undefined && sent !== undefined
      ? { code: received.code, reason: received.reason, wasClean }
      : { code: CloseCode.ABNORMAL_CLOSURE, reason: '', wasClean: false }
    let endError: Error | undefined
    if (this.#cold.failure instanceof StallError) {
      endError = this.#cold.failure
    } else if (this.#cold.failure !== undefined) {
      const code = sent?.code ?? CloseCode.ABNORMAL_CLOSURE
      endError = new ConnectionClosedError(code, info.reason, wasClean, { cause: this.#cold.failure })
    } else if (!wasClean) {
      endError = new ConnectionClosedError(info.code, info.reason, false, error === undefined ? undefined : { cause: error })
    } else if (!OK_CLOSE_CODES.has(info.code) && !sent!.byApplication) {
      endError = new ConnectionClosedError(info.code, info.reason, true)
    }
    this.#own().end = { info, error: endError }
    this.#codec?.release()
    if (this.#cold.inbound !== undefined) {
      this.#cold.inbound.fail(endError ?? new ConnectionClosedError(info.code, 'the connection closed in the middle of a message', info.wasClean))
      this.#own().inbound = undefined
    }
    const pings = this.#cold.pings ?? []
    this.#own().pings = undefined
    for (const p of pings) p.reject(this.#closedError('the connection closed before the pong'))
    const waiters = this.#waiter === undefined ? [] : [this.#waiter, ...(this.#cold.moreWaiters ?? [])]
    this.#waiter = undefined
    this.#own().moreWaiters = undefined
    for (const w of waiters) {
      w.iterator?.settle()
      if (endError === undefined) w.resolve({ value: undefined, done: true })
      else w.reject(endError)
    }
    this.#settings.onClosed?.(this)
    this.#cold.resolveClosed?.(info)
  }

  #closedError(what: string): ConnectionClosedError {
    const info = this.#cold.end?.info
    return new ConnectionClosedError(info?.code ?? this.#cold.closeSent?.code ?? CloseCode.ABNORMAL_CLOSURE, `${what}: the connection is ${this.#state}`, info?.wasClean ?? false)
  }
}

function keyOf(data: Uint8Array): string {
  let key = ''
  for (let i = 0; i < data.length; i++) key += String.fromCharCode(data[i]!)
  return key
}
