/**
 * The WebSocket protocol of one connection (RFC 6455 §5-§7) as a synchronous state machine, with
 * no I/O, no timers and no `node:*`: bytes in ({@link Protocol.receiveData}) become events
 * (messages, pings, pongs, the close frame); calls ({@link Protocol.send}, {@link Protocol.ping},
 * {@link Protocol.close}) become bytes to write. Every rule of the running connection is decided
 * here: the close handshake and its echo, which side closes TCP first, failing the connection with
 * the right code, control frames between fragments, and who owns RSV1.
 *
 * Events go to a {@link ProtocolHandler} and bytes to a {@link ProtocolOutput}, both called
 * synchronously. Left out, they default to recorders, so that a test reads what happened the way
 * python `websockets`' `Protocol` is read:
 *
 * ```ts
 * const protocol = new Protocol({ role: 'client' })
 * protocol.receiveData(new Uint8Array([0x88, 0x02, 0x03, 0xe8]))   // the server's close, 1000
 * protocol.eventsReceived()   // [{ type: 'close', code: 1000, reason: '' }]
 * protocol.dataToSend()       // [the masked close echo]
 * ```
 *
 * Compressed messages (RSV1 under permessage-deflate) are handed up as
 * {@link ProtocolHandler.onCompressed} fragments: inflating is asynchronous and lives above,
 * which hands the result back through {@link Protocol.receiveInflated} for the same checks as
 * any message.
 * @module
 */
import { DEFAULTS } from './defaults.ts'
import { MessageAssembler } from './assembler.ts'
import { EMPTY } from './byte-queue.ts'
import { buildClosePayload, parseClosePayload } from './close-payload.ts'
import { DEFAULT_MAX_MESSAGE_SIZE, isControlOpcode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.ts'
import { FrameDecoder, Rsv, type DecodeOptions } from './decoder.ts'
import { writeFrameTo } from './encoder.ts'
import { RecordingHandler, RecordingOutput, type ProtocolEvent } from './protocol-recorder.ts'
import type { CloseFrame, CloseOutcome, ProtocolHandler, ProtocolOptions, ProtocolOutput, ReadyState } from './protocol-types.ts'
import { CloseCode, ConnectionClosedError, InvalidArgumentError, InvalidDataError, ProtocolError } from './errors.ts'
import type { Frame } from './frame.ts'
import { Message, type MessageType } from './message.ts'
export type { CloseFrame, CloseOutcome, ProtocolHandler, ProtocolOptions, ProtocolOutput, ReadyState } from './protocol-types.ts'
export { SEND_EOF, type ProtocolEvent } from './protocol-recorder.ts'
import { isValidUtf8 } from './utf8.ts'

// RFC 6455 §7.4: close codes whose end is clean without this side asking for it.
const CLEAN_CODES: ReadonlySet<number> = new Set<number>([CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RECEIVED])

// The reason sent with a failure's close code: short, fixed, never internal details.
const FAILURE_REASONS: Readonly<Record<number, string>> = {
  [CloseCode.PROTOCOL_ERROR]: 'protocol error',
  [CloseCode.INVALID_DATA]: 'invalid data',
  [CloseCode.MESSAGE_TOO_BIG]: 'message too big',
  [CloseCode.MANDATORY_EXTENSION]: 'extension required',
  [CloseCode.INTERNAL_ERROR]: 'internal error',
}

/** What the protocols made with equal options share (a server passes one options object to all). */
interface Settings {
  readonly role: 'client' | 'server'
  readonly mask: boolean
  readonly streaming: boolean
  readonly compression: boolean
  readonly deferClose: boolean
  readonly fragmentSize: number
  readonly generateMaskingKey: (() => Uint8Array) | undefined
  readonly maxMessageSize: number
  // The frame decoder's options, frozen so that every decoder keeps this one object.
  readonly decode: Readonly<DecodeOptions>
}

const SETTINGS = new WeakMap<ProtocolOptions, Settings>()

function settingsFor(options: ProtocolOptions): Settings {
  const last = SETTINGS.get(options)
  const fragmentSize = options.fragmentSize ?? Infinity
  const streaming = options.streaming === true
  const compression = options.compression === true
  const maxMessageSize = options.maxMessageSize ?? (streaming ? Infinity : DEFAULT_MAX_MESSAGE_SIZE)
  const maxFrameSize = options.maxFrameSize ?? maxMessageSize
  // Reused only while the options object still says the same (it may have been changed since).
  if (
    last !== undefined && last.role === options.role && last.streaming === streaming && last.compression === compression &&
    last.deferClose === (options.deferClose === true) && last.fragmentSize === fragmentSize && last.generateMaskingKey === options.generateMaskingKey &&
    last.maxMessageSize === maxMessageSize && last.decode.maxFrameSize === maxFrameSize && last.decode.allocate === options.allocate
  ) {
    return last
  }
  const settings: Settings = {
    role: options.role,
    mask: options.role === 'client',
    streaming,
    compression,
    deferClose: options.deferClose === true,
    fragmentSize,
    generateMaskingKey: options.generateMaskingKey,
    maxMessageSize,
    decode: Object.freeze({
      role: options.role,
      maxFrameSize,
      // RFC 7692 §6: permessage-deflate gives RSV1 its meaning ("Per-Message Compressed").
      allowedRsv: compression ? Rsv.RSV1 : 0,
      allocate: options.allocate,
      // Streaming mode takes a long frame in pieces as it arrives: memory per piece, not per frame.
      streamPayloads: streaming,
      // Text that arrives in pieces is checked as it arrives, so a bad byte fails at once
      // (compressed text can only be checked once inflated: the decoder leaves RSV1 frames whole).
      splitPartialText: true,
    }),
  }
  SETTINGS.set(options, settings)
  return settings
}

// RSV1 of the message being received (permessage-deflate marks its first frame only).
const FLAG_COMPRESSED = 1
// An outgoing fragmented message is under way (sendFragment).
const FLAG_SENDING = 2
// This side's close came from close(): any code received then ends cleanly.
const FLAG_CLOSED_BY_APPLICATION = 4
const FLAG_EOF_SENT = 8
const FLAG_EOF_RECEIVED = 16

/** The close handshake of one connection, once it began. */
class Closing {
  sent: CloseFrame | undefined = undefined
  received: CloseFrame | undefined = undefined
  // The close frame waiting for flushClose (deferClose), with its payload.
  pending: { frame: CloseFrame; payload: Uint8Array } | undefined = undefined
  failure: ProtocolError | undefined = undefined
  discarded = 0
  // The latest ping's payload while its pong cannot be written, and the pings since the first.
  owedPong: Uint8Array | undefined = undefined
  owedPings = 0
}

// Read by connections whose close has not begun (frozen: writing to it is a bug).
const NOT_CLOSING: Closing = Object.freeze(new Closing())

// The frame object every send writes through (the writer is done with it when it returns).
const OUTGOING: Frame = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: Opcode.BINARY, payload: EMPTY }

/**
 * One connection's protocol, from the end of the opening handshake to the close. See the module
 * doc for the shape; the methods say which RFC rule each applies.
 */
export class Protocol {
  readonly #settings: Settings
  readonly #decoder: FrameDecoder
  readonly #assembler: MessageAssembler
  readonly #handler: ProtocolHandler
  readonly #output: ProtocolOutput
  #state: ReadyState = 'open'
  // Booleans as bits of one field (see the FLAG_* constants): an idle connection holds one number.
  #flags = 0
  // The close handshake's state, made at the first close frame or failure (bench/memory.ts: an
  // open connection holds one field for it).
  #closing: Closing | undefined = undefined

  /** Creates the protocol of an open connection; `handler` and `output` default to recorders. */
  constructor(options: ProtocolOptions, handler?: ProtocolHandler, output?: ProtocolOutput) {
    const settings = (this.#settings = settingsFor(options))
    this.#decoder = new FrameDecoder(settings.decode)
    this.#assembler = new MessageAssembler({ maxMessageSize: settings.maxMessageSize, maxFragments: options.maxFragments })
    this.#handler = handler ?? new RecordingHandler()
    this.#output = output ?? new RecordingOutput()
  }

  /** The close state, read-only until {@link #own} makes it. */
  get #c(): Closing {
    return this.#closing ?? NOT_CLOSING
  }

  #own(): Closing {
    return (this.#closing ??= new Closing())
  }

  /** The side this endpoint plays. */
  get role(): 'client' | 'server' {
    return this.#settings.role
  }

  /** 'open'; 'closing' once a close frame was sent or received; 'closed' after {@link connectionClosed}. */
  get readyState(): ReadyState {
    return this.#state
  }

  /** The close frame this side sent, once sent. */
  get closeSent(): CloseFrame | undefined {
    return this.#c.sent
  }

  /** The peer's close frame, once received. */
  get closeReceived(): CloseFrame | undefined {
    return this.#c.received
  }

  /** The error that failed the connection, if one did. */
  get failure(): ProtocolError | undefined {
    return this.#c.failure
  }

  /** Whether a close frame waits for {@link flushClose} (with `deferClose`). */
  get closePending(): boolean {
    return this.#c.pending !== undefined
  }

  /**
   * Whether data may still be sent: until this side's close frame is written (RFC 6455 §5.5.1:
   * no data frames after it). A close that waits for {@link flushClose} lets the answers to what
   * arrived before it go out first.
   */
  get canSend(): boolean {
    return (this.#closing === undefined || this.#closing.sent === undefined) && this.#state !== 'closed'
  }

  /** Bytes received after the close frame or a failure and discarded, in bytes. */
  get discarded(): number {
    return this.#c.discarded
  }

  /** Bytes received and not yet decoded into frames (a frame in progress), in bytes. */
  get buffered(): number {
    return this.#decoder.buffered
  }

  // ---- receiving -------------------------------------------------------------------------

  /**
   * Feeds bytes from the peer: every frame they complete is handled at once (events to the
   * handler, pongs and close echoes to the output). A frame that breaks the RFC or a limit fails
   * the connection ({@link fail}). After the peer's close frame or a failure, bytes are discarded
   * (RFC 6455 §5.5.1, §7.1.7) and counted in {@link discarded}.
   */
  receiveData(chunk: Uint8Array): void {
    const closing = this.#closing
    if ((closing !== undefined && (closing.received !== undefined || closing.failure !== undefined)) || this.#state === 'closed') {
      this.#discard(chunk.length)
      return
    }
    const decoder = this.#decoder
    decoder.push(chunk)
    try {
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        if (isControlOpcode(frame.opcode)) {
          this.#receiveControl(frame)
          // RFC 6455 §5.5.1: no more data after a close frame.
          if (this.#closing?.received !== undefined) {
            this.#discard(decoder.buffered)
            return
          }
        } else if (this.#settings.compression) {
          this.#receiveMaybeCompressed(frame)
        } else if (this.#settings.streaming) {
          const first = frame.opcode !== Opcode.CONTINUATION
          this.#handler.onFragment(this.#assembler.check(frame), frame.payload, first, frame.fin)
        } else {
          const message = this.#assembler.push(frame)
          if (message !== undefined) this.#handler.onMessage(message)
        }
      }
    } catch (error) {
      this.fail(error)
    }
  }

  /** A data frame where permessage-deflate was agreed. */
  #receiveMaybeCompressed(frame: Frame): void {
    if (frame.opcode !== Opcode.CONTINUATION) {
      this.#flags = frame.rsv1 ? this.#flags | FLAG_COMPRESSED : this.#flags & ~FLAG_COMPRESSED
    } else if (frame.rsv1) {
      // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
      throw new ProtocolError('WS_ERR_UNEXPECTED_RSV', 'RSV1 set on a continuation frame')
    }
    if ((this.#flags & FLAG_COMPRESSED) === 0) {
      const message = this.#assembler.push(frame)
      if (message !== undefined) this.#handler.onMessage(message)
      return
    }
    // Continuation rules and the compressed size here; UTF-8 is checked on the inflated text.
    this.#handler.onCompressed(this.#assembler.check(frame, false), frame.payload, frame.fin)
  }

  /**
   * Hands back a compressed message once inflated: text is checked as strict UTF-8 (RFC 6455
   * §8.1) and the message goes to {@link ProtocolHandler.onMessage}; invalid text fails the
   * connection with 1007. Ignored once the connection failed or closed.
   */
  receiveInflated(type: MessageType, data: Uint8Array): void {
    if (this.#c.failure !== undefined || this.#state === 'closed') return
    // RFC 6455 §8.1: text MUST be valid UTF-8, checked once inflated.
    if (type === 'text' && !isValidUtf8(data)) {
      this.fail(new InvalidDataError('WS_ERR_INVALID_UTF8', 'a compressed text message is not valid UTF-8'))
      return
    }
    this.#handler.onMessage(new Message(type, data))
  }

  #receiveControl(frame: Frame): void {
    // RFC 7692 §6.1: an endpoint MUST NOT set RSV1 on control frames.
    if (frame.rsv1) throw new ProtocolError('WS_ERR_UNEXPECTED_RSV', 'RSV1 set on a control frame')
    switch (frame.opcode) {
      case Opcode.PING:
        // RFC 6455 §5.5.2: upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        // response, with identical application data (no close frame was received, or we would
        // not be reading). While the peer does not read what is written, the pong is owed: only
        // the latest ping is answered (§5.5.3 allows it), and a peer that pings on and on
        // without reading is cut (a ping flood held 1 GiB of pongs before this rule).
        if (this.#output.writable === false || this.#c.owedPong !== undefined || this.#handler.holdPongs?.() === true) {
          const closing = this.#own()
          if (++closing.owedPings > DEFAULTS.maxOwedPings) {
            throw new ProtocolError('WS_ERR_TOO_MANY_PINGS', `more than ${DEFAULTS.maxOwedPings} pings while the peer read none of their pongs`, CloseCode.POLICY_VIOLATION)
          }
          closing.owedPong = frame.payload.slice()
        } else {
          this.#writeControl(Opcode.PONG, frame.payload)
        }
        this.#handler.onPing(frame.payload)
        return
      case Opcode.PONG:
        // RFC 6455 §5.5.3: a pong may be unsolicited; the layer above matches it to its pings.
        this.#handler.onPong(frame.payload)
        return
      default: {
        const { code, reason } = parseClosePayload(frame.payload) // throws for an invalid payload
        this.#own().received = { code, reason }
        if (this.#state === 'open') this.#state = 'closing'
        if (this.#c.sent === undefined && this.#c.pending === undefined) {
          // RFC 6455 §5.5.1: if an endpoint receives a Close frame and did not previously send a
          // Close frame, the endpoint MUST send a Close frame in response, typically echoing the
          // status code it received. The reason is echoed too (as ws and python websockets do),
          // so that the peer can tell it arrived; it was checked as UTF-8 on the way in.
          const payload = code === CloseCode.NO_STATUS_RECEIVED ? EMPTY : frame.payload.slice()
          this.#queueClose({ code, reason }, payload)
        } else {
          this.#afterCloseHandshake()
        }
        this.#handler.onCloseFrame(code, reason)
      }
    }
  }

  /**
   * The peer half-closed (TCP FIN). Returns true when that was expected (the closing handshake
   * was done or the connection had failed: this side's EOF is then sent too), false when the
   * peer went away in the middle (the layer above should drop the connection).
   */
  receiveEof(): boolean {
    if (this.#c.received === undefined && this.#c.failure === undefined) return false
    this.#flags |= FLAG_EOF_RECEIVED
    // A close frame that waits goes out now, then this side's EOF: a peer that sent its EOF does
    // not wait for more (and Node's sockets end their side at once unless half-open).
    if (this.#c.pending !== undefined) this.flushClose()
    else this.#sendEof()
    return true
  }

  /**
   * The transport closed: the connection is over. Returns how it ended; `cause` is what broke the
   * transport, if anything, kept as the error's cause.
   */
  connectionClosed(cause?: unknown): CloseOutcome {
    this.#state = 'closed'
    this.#own().pending = undefined
    const received = this.#c.received
    const sent = this.#c.sent
    const failure = this.#c.failure
    const handshakeDone = received !== undefined && sent !== undefined
    const wasClean = handshakeDone && failure === undefined
    const code = handshakeDone ? received.code : CloseCode.ABNORMAL_CLOSURE
    const reason = handshakeDone ? received.reason : ''
    let error: ConnectionClosedError | undefined
    if (failure !== undefined) {
      error = new ConnectionClosedError(sent?.code ?? CloseCode.ABNORMAL_CLOSURE, reason, false, { cause: failure })
    } else if (!handshakeDone) {
      error = new ConnectionClosedError(code, reason, false, cause === undefined ? undefined : { cause })
    } else if (!CLEAN_CODES.has(code) && (this.#flags & FLAG_CLOSED_BY_APPLICATION) === 0) {
      // The peer closed with a code that is not a normal end, and this side did not ask to close.
      error = new ConnectionClosedError(code, reason, true)
    }
    return { code, reason, wasClean, error }
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Sends a data message (fragmented past `fragmentSize`; RSV1 on its first frame when
   * `compressed`). Returns false, sending nothing, once a close frame was sent (RFC 6455 §5.5.1:
   * no data frames after it) or the connection closed.
   */
  send(type: MessageType, payload: Uint8Array, compressed = false): boolean {
    if (!this.canSend) return false
    if ((this.#flags & FLAG_SENDING) !== 0) throw new InvalidArgumentError('a fragmented message is being sent: end it first (RFC 6455 §5.4)')
    const fragmentSize = this.#settings.fragmentSize
    if (payload.length <= fragmentSize) {
      this.#writeData(type === 'text' ? Opcode.TEXT : Opcode.BINARY, payload, true, compressed)
      return true
    }
    // RFC 6455 §5.4: the first fragment carries the opcode (and RSV1), the rest are continuations.
    for (let offset = 0; offset < payload.length; offset += fragmentSize) {
      const end = Math.min(offset + fragmentSize, payload.length)
      this.#writeData(offset === 0 ? (type === 'text' ? Opcode.TEXT : Opcode.BINARY) : Opcode.CONTINUATION, payload.subarray(offset, end), end === payload.length, offset === 0 && compressed)
    }
    return true
  }

  /**
   * Sends one fragment of a message sent piece by piece: the first call carries `type` (and RSV1
   * when `compressed`), later ones are continuations, and `fin` ends the message. No other message
   * may be sent until it ends (RFC 6455 §5.4). Returns false when data can no longer be sent.
   */
  sendFragment(type: MessageType, payload: Uint8Array, fin: boolean, compressed = false): boolean {
    if (!this.canSend) return false
    const sending = (this.#flags & FLAG_SENDING) !== 0
    this.#writeData(sending ? Opcode.CONTINUATION : type === 'text' ? Opcode.TEXT : Opcode.BINARY, payload, fin, !sending && compressed)
    this.#flags = fin ? this.#flags & ~FLAG_SENDING : this.#flags | FLAG_SENDING
    return true
  }

  /** Writes bytes framed elsewhere (a prepared message): as-is, server side only. */
  sendPrepared(frame: Uint8Array): boolean {
    if (!this.canSend || (this.#flags & FLAG_SENDING) !== 0) return false
    this.#output.write([frame])
    return true
  }

  /** Sends a ping (RFC 6455 §5.5.2) with at most 125 bytes of payload; false once closing. */
  ping(payload: Uint8Array): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new InvalidArgumentError(`a ping payload is at most ${MAX_CONTROL_PAYLOAD} bytes (got ${payload.length})`)
    if (this.#c.sent !== undefined || this.#state === 'closed') return false
    this.#writeControl(Opcode.PING, payload)
    return true
  }

  /** Whether a pong is owed: a ping arrived while the output was not writable. */
  get pongOwed(): boolean {
    return this.#c.owedPong !== undefined
  }

  /**
   * Writes the pong owed for the latest ping (call it once the output is writable again); false
   * when none is owed or this side's close was sent.
   */
  flushPong(): boolean {
    const closing = this.#closing
    const payload = closing?.owedPong
    if (closing === undefined || payload === undefined) return false
    closing.owedPong = undefined
    closing.owedPings = 0
    // Nothing after this side's close frame, nor ahead of one that waits (a failure, an answer).
    if (closing.sent !== undefined || closing.pending !== undefined || closing.failure !== undefined || this.#state === 'closed') return false
    this.#writeControl(Opcode.PONG, payload)
    return true
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: a one-way heartbeat); false once closing. */
  pong(payload: Uint8Array): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new InvalidArgumentError(`a pong payload is at most ${MAX_CONTROL_PAYLOAD} bytes (got ${payload.length})`)
    if (this.#c.sent !== undefined || this.#state === 'closed') return false
    this.#writeControl(Opcode.PONG, payload)
    return true
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with `code` and `reason`, or answers the
   * peer's close with them when its close is still unanswered. Throws
   * {@link InvalidArgumentError} for a code that may not be sent or a reason over 123 bytes,
   * before anything is written. Returns false when a close frame was sent already.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): boolean {
    const payload = buildClosePayload(code, reason)
    if (this.#c.sent !== undefined || this.#state === 'closed') return false
    if (this.#c.pending !== undefined && this.#c.failure !== undefined) return false
    this.#flags |= FLAG_CLOSED_BY_APPLICATION
    this.#own().pending = undefined
    this.#writeClose({ code, reason }, payload)
    return true
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with the error's close code (1011
   * for anything that is not a {@link ProtocolError}) unless one was sent, stops reading, and
   * closes TCP from this side. With `deferClose`, the close frame and the end wait for
   * {@link flushClose}. Returns the error recorded (the first one, if it failed before).
   */
  fail(error: unknown): ProtocolError {
    if (this.#c.failure !== undefined) return this.#c.failure
    const failure = error instanceof ProtocolError ? error : new ProtocolError('WS_ERR_PROTOCOL', 'internal error', CloseCode.INTERNAL_ERROR, { cause: error })
    this.#own().failure = failure
    if (this.#state !== 'closed') {
      if (this.#c.sent === undefined) {
        const code = failure.closeCode
        const reason = FAILURE_REASONS[code] ?? ''
        // A pending answer to the peer's close gives way to the failure's code.
        this.#own().pending = undefined
        this.#queueClose({ code, reason }, buildClosePayload(code, reason))
      } else {
        this.#sendEof()
      }
    }
    this.#handler.onFail(failure)
    return failure
  }

  /** Writes the close frame that waits (with `deferClose`), and closes TCP where the RFC says. */
  flushClose(): void {
    const pending = this.#c.pending
    if (pending === undefined) return
    this.#own().pending = undefined
    this.#writeClose(pending.frame, pending.payload)
  }

  /** Bytes to send written since the last call, with {@link SEND_EOF} for a half-close (default output only). */
  dataToSend(): Uint8Array[] {
    const output = this.#output
    if (!(output instanceof RecordingOutput)) throw new InvalidArgumentError('dataToSend() reads the default output only')
    return output.chunks.splice(0)
  }

  /** Events since the last call (default handler only). */
  eventsReceived(): ProtocolEvent[] {
    const handler = this.#handler
    if (!(handler instanceof RecordingHandler)) throw new InvalidArgumentError('eventsReceived() reads the default handler only')
    return handler.events.splice(0)
  }

  #queueClose(frame: CloseFrame, payload: Uint8Array): void {
    if (this.#settings.deferClose) {
      this.#own().pending = { frame, payload }
      if (this.#state === 'open') this.#state = 'closing'
      return
    }
    this.#writeClose(frame, payload)
  }

  #writeClose(frame: CloseFrame, payload: Uint8Array): void {
    this.#own().sent = frame
    if (this.#state === 'open') this.#state = 'closing'
    this.#writeControl(Opcode.CLOSE, payload)
    if (this.#c.failure !== undefined || (this.#flags & FLAG_EOF_RECEIVED) !== 0) this.#sendEof()
    else this.#afterCloseHandshake()
  }

  /** Both close frames exchanged: RFC 6455 §7.1.1, the server SHOULD close the TCP connection first. */
  #afterCloseHandshake(): void {
    if (this.#c.sent !== undefined && this.#c.received !== undefined && this.#settings.role === 'server') this.#sendEof()
  }

  #sendEof(): void {
    if ((this.#flags & FLAG_EOF_SENT) !== 0) return
    this.#flags |= FLAG_EOF_SENT
    this.#output.end()
  }

  /** Counts bytes discarded after the close frame or a failure; past the bound the connection is cut. */
  #discard(length: number): void {
    const closing = this.#own()
    closing.discarded += length
    if (closing.discarded > DEFAULTS.maxDiscard) this.#output.destroy?.()
  }

  #writeControl(opcode: Opcode, payload: Uint8Array): void {
    this.#writeData(opcode, payload, true, false)
  }

  #writeData(opcode: Opcode, payload: Uint8Array, fin: boolean, rsv1: boolean): void {
    const frame = OUTGOING
    frame.fin = fin
    frame.rsv1 = rsv1
    frame.opcode = opcode
    frame.payload = payload
    writeFrameTo(this.#output, frame, this.#settings.mask, this.#settings.generateMaskingKey)
    frame.payload = EMPTY // not kept alive by the shared object
  }
}
