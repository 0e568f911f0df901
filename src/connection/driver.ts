/**
 * The connection's driver: what moves bytes between a {@link Transport} and the protocol, runs
 * the timers and hands events to the inbox. It is the one object that handles the transport's,
 * the protocol's, the inbox's and the heartbeat's callbacks (their methods are shared, not
 * closures). The public {@link WebSocket} is the application's side of it.
 * @module
 */
import { DEFAULTS } from '../core/defaults.ts'
import { ConnectionClosedError, CloseCode, StallError, type ProtocolError } from '../core/errors.ts'
import type { Message, MessageType } from '../core/message.ts'
import { Protocol, type CloseOutcome, type ProtocolHandler } from '../core/protocol.ts'
import { CloseDeadline, ColdState, NO_COLD } from './cold-state.ts'
import { Heartbeat, type HeartbeatHooks } from './heartbeat.ts'
import { Inbox, type InboxControl } from './inbox.ts'
import { protocolOptionsFor, settingsFor, type ConnectionOptions, type KeepAliveTarget, type Settings } from './options.ts'
import { SendChain } from './outbox.ts'
import type { CloseInfo, MessageCodec, ReadyState, Transport, TransportHandlers } from './types.ts'

const RESOLVED = Promise.resolve()
/** Does nothing: the handler of a rejection handled elsewhere. */
export const noop = (): void => undefined

/** What the driver needs of the connection it drives (the public `WebSocket`). */
export interface DriverOwner extends KeepAliveTarget {
  /** The connection's state. */
  readonly readyState: ReadyState
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): Promise<CloseInfo>
}

/** What the driver takes of the connection's `ConnectionInit`. */
export interface DriverInit<W> {
  /** The side this endpoint plays. */
  readonly role: 'client' | 'server'
  /** Bytes that arrived after the handshake. */
  readonly head?: Uint8Array | undefined
  /** The compression codec agreed in the handshake, if any. */
  readonly codec?: MessageCodec | undefined
  /** Told when the connection closes. */
  readonly observers?: readonly { closed(ws: W, info: CloseInfo): void }[] | undefined
}

/** The state and the event handling of one connection, below its public `WebSocket`. */
export class Driver<W extends DriverOwner = DriverOwner> implements TransportHandlers, ProtocolHandler, InboxControl, HeartbeatHooks {
  readonly ws: W
  readonly transport: Transport
  readonly protocol: Protocol
  readonly inbox: Inbox
  readonly codec: MessageCodec | undefined
  readonly settings: Settings
  readonly heartbeat: Heartbeat | undefined
  readonly #observers: DriverInit<W>['observers']
  cold: ColdState = NO_COLD

  constructor(ws: W, transport: Transport, init: DriverInit<W>, options: ConnectionOptions, allocate: ((length: number) => Uint8Array) | undefined) {
    this.ws = ws
    this.transport = transport
    this.codec = init.codec
    this.#observers = init.observers
    const settings = (this.settings = settingsFor(options))
    this.protocol = new Protocol(protocolOptionsFor(options, init.role, init.codec !== undefined, allocate), this, transport)
    this.inbox = new Inbox(this)
    transport.attach(this)
    const stallTimeout = options.stallTimeout ?? DEFAULTS.stallTimeout
    const idleTimeout = options.idleTimeout ?? 0
    this.heartbeat = stallTimeout > 0 || idleTimeout > 0 ? new Heartbeat(stallTimeout, idleTimeout, this, settings.timers) : undefined
    if (init.head !== undefined && init.head.length > 0) this.onData(init.head)
  }

  /** The cold-state record, made at its first write. */
  own(): ColdState {
    return this.cold === NO_COLD ? (this.cold = new ColdState()) : this.cold
  }

  /** Whether this side may still send messages (no close sent nor asked for). */
  canSend(): boolean {
    return this.cold.closing === undefined && this.protocol.canSend
  }

  /** The send chain that keeps compressed and later messages in order. */
  chain(): SendChain {
    return (this.own().sendChain ??= new SendChain({ sendFailed: (error) => this.fail(error) }))
  }

  /** Resolves once the transport takes more data (at once while it does). */
  whenWritable(): Promise<void> {
    if (this.transport.writable) return RESOLVED
    const drained = this.transport.whenDrained().catch(() => {
      throw this.closedError('the connection closed before the data could be sent')
    })
    drained.catch(noop)
    return drained
  }

  /** Starts the deadline of the close handshake, once. */
  armCloseDeadline(): void {
    this.own().closeDeadline ??= new CloseDeadline(this.transport, this.protocol, this.settings.closeTimeout, this.settings.timers)
  }

  /** Fails the connection for an error of this side (a codec's, a send chain's). */
  fail(error: unknown): void {
    if (this.protocol.failure === undefined) this.protocol.fail(error)
  }

  /** What a read after the end rejects with: the end's error, or the clean close as an error. */
  endError(): ConnectionClosedError {
    const end = this.cold.end
    if (end?.error instanceof ConnectionClosedError) return end.error
    const info = end?.info ?? { code: CloseCode.ABNORMAL_CLOSURE, reason: '', wasClean: false }
    return new ConnectionClosedError(info.code, info.reason, info.wasClean, end?.error === undefined ? undefined : { cause: end.error })
  }

  /** The error for `what` refused because the connection is closing or closed. */
  closedError(what: string): ConnectionClosedError {
    const info = this.cold.end?.info
    const code = info?.code ?? this.protocol.closeSent?.code ?? this.cold.closing?.code ?? CloseCode.ABNORMAL_CLOSURE
    return new ConnectionClosedError(code, info?.reason ?? '', info?.wasClean ?? false, undefined, `${what}: the connection is ${this.ws.readyState}`)
  }

  // ---- transport --------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.heartbeat?.activity()
    this.inbox.beforeChunk()
    this.protocol.receiveData(chunk)
  }

  onEnd(): void {
    // The peer half-closed: expected after (or while answering) its close frame; otherwise it is gone.
    if (!this.protocol.receiveEof()) this.transport.destroy()
  }

  onClose(error: unknown): void {
    if (this.cold.end !== undefined) return
    const cold = this.own()
    cold.closeDeadline?.cancel()
    this.heartbeat?.stop()
    const outcome: CloseOutcome = this.protocol.connectionClosed(error)
    const info: CloseInfo = { code: outcome.code, reason: outcome.reason, wasClean: outcome.wasClean }
    const endError: Error | undefined = cold.failure ?? outcome.error
    cold.end = { info, error: endError }
    this.codec?.release()
    this.inbox.end(endError, () => new ConnectionClosedError(info.code, 'the connection closed in the middle of a message', info.wasClean))
    cold.pings?.rejectAll(() => this.closedError('the connection closed before the pong'))
    const observers = this.#observers
    if (observers !== undefined) for (const observer of observers) observer.closed(this.ws, info)
    cold.resolveClosed?.(info)
  }

  // ---- protocol ---------------------------------------------------------------------------

  onMessage(message: Message): void {
    this.heartbeat?.message()
    const cold = this.cold
    // Messages after a compressed one still being inflated wait for it (in order).
    if (cold.receiveChain !== undefined && !cold.inflating) this.#afterReceives(() => this.inbox.push(message))
    else this.inbox.push(message)
  }

  onFragment(type: MessageType, payload: Uint8Array, first: boolean, fin: boolean): void {
    this.heartbeat?.message()
    this.inbox.pushFragment(type, payload, first, fin)
  }

  onCompressed(type: MessageType, payload: Uint8Array, fin: boolean): void {
    const inflated = this.codec!.decompress(payload, fin)
    inflated.catch(noop) // handled in order, by the chain
    this.#afterReceives(() => inflated.then((data) => {
      if (data === undefined) return
      const cold = this.own()
      cold.inflating = true
      try {
        this.protocol.receiveInflated(type, data)
      } finally {
        cold.inflating = false
      }
    }))
  }

  /** A pong waits while a compressed message received before its ping is inflated (it may fail the connection). */
  holdPongs(): boolean {
    return this.cold.receiveChain !== undefined
  }

  onPing(): void {
    // The pong is written by the protocol, or owed: while the peer reads nothing (written at drain)
    // or while a message before it is inflated (written when the receive chain settles).
    if (this.protocol.pongOwed) this.#flushPongWhenWritable()
  }

  #flushPongWhenWritable(): void {
    if (this.cold.receiveChain !== undefined) return // #afterReceives calls again
    if (this.transport.writable) {
      this.protocol.flushPong()
      return
    }
    const cold = this.own()
    if (cold.pongScheduled) return
    cold.pongScheduled = true
    this.transport.whenDrained().then(() => {
      cold.pongScheduled = false
      this.#flushPongWhenWritable()
    }, () => {
      cold.pongScheduled = false
    })
  }

  onPong(payload: Uint8Array): void {
    this.cold.pings?.answer(payload)
  }

  /** The peer's close frame arrived: the close waits for the application. */
  onCloseFrame(): void {
    this.armCloseDeadline()
    this.#maybeFlushClose()
  }

  /** The protocol failed: its close frame waits for the application like a peer's close. */
  onFail(_error: ProtocolError): void {
    this.onCloseFrame()
  }

  /** Runs `step` after every message received before it; reading pauses while many wait. */
  #afterReceives(step: () => unknown): void {
    const cold = this.own()
    this.inbox.hold(1)
    const chain: Promise<void> = (cold.receiveChain ?? RESOLVED).then(step).then(noop, (error: unknown) => this.fail(error)).finally(() => {
      if (cold.receiveChain === chain) cold.receiveChain = undefined
      this.inbox.hold(-1)
      if (this.protocol.pongOwed) this.#flushPongWhenWritable()
      this.#maybeFlushClose()
    })
    cold.receiveChain = chain
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
    if (!this.protocol.closePending) return
    const inbox = this.inbox
    const settled = this.cold.receiveChain === undefined && inbox.empty
    if (inbox.everRead && !settled) return // drained() calls again when the reader comes back
    if (inbox.everRead && inbox.waiting) {
      this.#flushClose()
      return
    }
    const cold = this.own()
    if (cold.flushScheduled) return
    cold.flushScheduled = true
    setTimeout(() => {
      cold.flushScheduled = false
      if (!this.protocol.closePending) return
      if (!this.inbox.everRead || (this.cold.receiveChain === undefined && this.inbox.empty)) this.#flushClose()
    }, 0)
  }

  #flushClose(): void {
    const protocol = this.protocol
    const chain = this.cold.sendChain
    if (chain?.idle === false) void chain.then(() => protocol.flushClose(), noop)
    else protocol.flushClose()
  }

  // ---- inbox ------------------------------------------------------------------------------

  pause(): void {
    this.transport.pause()
  }

  resume(): void {
    this.transport.resume()
  }

  drained(): void {
    this.#maybeFlushClose()
  }

  // ---- heartbeat --------------------------------------------------------------------------

  keepAlive(): void {
    const ws = this.ws
    try {
      const result = this.settings.keepAlive === undefined ? ws.ping() : this.settings.keepAlive(ws)
      if (result instanceof Promise) result.catch(noop)
    } catch {
      // a failing keep-alive is not fatal by itself; silence still ends in a StallError
    }
  }

  stalled(): void {
    this.own().failure = new StallError(this.heartbeat!.stallTimeout)
    this.transport.destroy()
  }

  idle(): void {
    void this.ws.close(CloseCode.GOING_AWAY, 'idle timeout')
  }

  isPaused(): boolean {
    return this.inbox.paused
  }

  isOpen(): boolean {
    return this.canSend()
  }
}
