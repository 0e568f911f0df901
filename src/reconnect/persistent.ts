/**
 * One logical message stream over a succession of connections: {@link ReconnectingWebSocket}
 * reconnects as `reconnecting()` does, queues what is sent while it is down (bounded, see
 * `queue.ts`), runs an `onOpen` hook on each new connection before the queue flows (to
 * resubscribe, to authenticate again), and iterates the messages of every connection in turn.
 *
 * Delivery is at most once per message: a message is handed to one connection only, never to
 * a second. A send made while open goes to that connection and settles with its `send`; if the
 * connection drops before that resolved (before the socket took the bytes, or while it waited
 * for drain), it rejects with a {@link ConnectionClosedError} and is not sent again. It may or
 * may not have reached the peer (bytes already in the socket's buffer may have): the application
 * decides whether to send it again. A send made while down waits in the queue and goes, in
 * order, to the next connection once `onOpen` is done; the queue is only taken from while that
 * connection is open, so a queued message is never lost to a connection that could not take it.
 * @module
 */
import { CloseCode, ConnectionClosedError } from '../core/errors.ts'
import type { Message, Outgoing } from '../core/message.ts'
import { validateOptions, type OptionRules } from '../core/validate.ts'
import { QUEUE_DEFAULTS, rejected, SendQueue } from './queue.ts'
import { reconnectingWith, validateReconnectOptions, type ReconnectOptions } from './reconnecting.ts'
import { isRetryable } from './retry.ts'
import type { ConnectFunction, ReconnectableSocket } from './types.ts'

/** `'connecting'` (no connection, or `onOpen` still running), `'open'` (messages flow) or `'closed'` (for good). */
export type PersistentState = 'connecting' | 'open' | 'closed'

/** Options of a {@link ReconnectingWebSocket}, besides those given to `connect` and the backoff's. */
export interface PersistentOptions<W extends ReconnectableSocket = ReconnectableSocket> extends ReconnectOptions {
  /** Most messages queued while disconnected (default 1,024); one more is refused with a `QueueFullError`. */
  maxQueuedMessages?: number | undefined
  /** Most bytes of payload queued while disconnected (default 1 MiB); more is refused with a `QueueFullError`. */
  maxQueuedBytes?: number | undefined
  /**
   * Runs on each new connection before the queued messages are sent and before its messages are
   * iterated: resubscribe, authenticate (it may `send` and `recv` on `ws` itself). If it throws,
   * the connection is closed with 1011 and the error decides, like a failed attempt, whether to
   * retry (a {@link ConnectionClosedError} 1006 is retried; an application's error ends it).
   */
  onOpen?: ((ws: W) => unknown) | undefined
}

const PERSISTENT_OPTION_RULES: OptionRules = { maxQueuedMessages: 'size', maxQueuedBytes: 'size', onOpen: 'function' }
const OWN_OPTIONS = ['maxQueuedMessages', 'maxQueuedBytes', 'onOpen'] as const

/**
 * A connection that survives reconnects: `send()` at any time (queued while down, bounded),
 * `for await (const message of rws)` over every connection's messages in turn, `state`,
 * `attempt`, `close()`. Events (plain `Event`s, read the getters): `connecting`, `open`, `closed`.
 * Made with `persistent(url, options)` (Node: `wsflow`; browsers: `wsflow/browser`).
 * @category Reconnecting
 */
export class ReconnectingWebSocket<W extends ReconnectableSocket = ReconnectableSocket> extends EventTarget implements AsyncIterable<Message> {
  readonly #queue: SendQueue
  readonly #stop = new AbortController()
  readonly #readers: W[] = []
  #state: PersistentState = 'connecting'
  #socket: W | undefined = undefined
  #flowing = false
  #attempt = 0
  #connections = 0
  #error: unknown = undefined
  #iterated = false
  #wake: (() => void) | undefined = undefined
  readonly #ended: Promise<void>

  /** Starts connecting to `url` with `connect`; see {@link PersistentOptions}. */
  constructor(connect: ConnectFunction<W, object>, url: string | URL, options: PersistentOptions<W> & object = {}) {
    super()
    validateReconnectOptions('persistent', options)
    validateOptions('persistent', options, PERSISTENT_OPTION_RULES)
    this.#queue = new SendQueue(options.maxQueuedMessages ?? QUEUE_DEFAULTS.maxQueuedMessages, options.maxQueuedBytes ?? QUEUE_DEFAULTS.maxQueuedBytes)
    const rest: Record<string, unknown> = { ...options }
    for (const name of OWN_OPTIONS) delete rest[name]
    const signal = options.signal === undefined ? this.#stop.signal : AbortSignal.any([options.signal, this.#stop.signal])
    const onRetry = options.onRetry
    const attempts = reconnectingWith(connect, url, {
      ...rest, signal,
      onRetry: (event) => {
        this.#attempt = event.attempt
        onRetry?.(event)
      },
    })
    this.#ended = this.#run(attempts, options.onOpen, options.shouldReconnect ?? isRetryable)
  }

  /** The state: `'connecting'`, `'open'` or `'closed'`. */
  get state(): PersistentState {
    return this.#state
  }

  /** Retries since the last connection opened (0 while open). */
  get attempt(): number {
    return this.#attempt
  }

  /** Connections opened so far. */
  get connections(): number {
    return this.#connections
  }

  /** The current connection, while there is one. */
  get socket(): W | undefined {
    return this.#socket
  }

  /** Messages waiting in the queue for a connection. */
  get queuedMessages(): number {
    return this.#queue.length
  }

  /** Bytes of payload waiting in the queue. */
  get queuedBytes(): number {
    return this.#queue.bytes
  }

  /** Why it closed by itself (a refusal or close that is not retried), once `state` is `'closed'`. */
  get error(): unknown {
    return this.#error
  }

  /** Resolves once closed for good (by {@link close}, its signal, or a reason not retried: see {@link error}). */
  get closed(): Promise<void> {
    return this.#ended
  }

  /**
   * Sends `data`: at once on the open connection (settling with its `send`), or queued until the
   * next connection's `onOpen` is done. Rejects with a `QueueFullError` when the queue is full,
   * and with a {@link ConnectionClosedError} once closed.
   */
  send(data: Outgoing): Promise<void> {
    if (this.#state === 'closed') return rejected(this.#closedError('cannot send'))
    const socket = this.#socket
    // A connection already closing could not take it: it waits for the next one instead.
    if (this.#flowing && socket !== undefined && socket.readyState === 'open') return socket.send(data)
    return this.#queue.push(data)
  }

  /** Closes the current connection with `code` (default 1000) and stops reconnecting; queued sends reject. */
  async close(code: number = CloseCode.NORMAL, reason = ''): Promise<void> {
    if (this.#state !== 'closed') {
      const socket = this.#socket
      this.#flowing = false
      if (socket !== undefined && socket.readyState === 'open') {
        const closing = socket.close(code, reason).catch(() => undefined)
        this.#stop.abort()
        await closing
      }
      this.#stop.abort()
    }
    await this.#ended
  }

  /** Iterates the messages of each connection in turn, from the first to the last; ends once closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    this.#iterated = true
    for (;;) {
      const ws = await this.#nextReader()
      if (ws === undefined) break
      try {
        for await (const message of ws) yield message
      } catch (error) {
        if (!(error instanceof ConnectionClosedError)) throw error
        // a dropped connection: its messages are done; the next connection's follow
      }
      if (this.#readers[0] === ws) this.#readers.shift()
    }
    if (this.#error !== undefined) throw this.#error
  }

  async #run(attempts: AsyncGenerator<W, void, undefined>, onOpen: ((ws: W) => unknown) | undefined, shouldReconnect: (reason: unknown, attempt: number) => boolean): Promise<void> {
    try {
      for await (const ws of attempts) {
        this.#socket = ws
        this.#connections++
        if (onOpen !== undefined) {
          try {
            await onOpen(ws)
          } catch (error) {
            await ws.close(CloseCode.INTERNAL_ERROR).catch(() => undefined)
            if (!shouldReconnect(error, this.#attempt + 1)) throw error
            this.#socket = undefined
            continue
          }
        }
        // Even if it closed already (while onOpen ran), what it received is read before the next one's.
        this.#attempt = 0
        this.#readers.push(ws)
        this.#signal()
        this.#setState('open')
        await this.#flush(ws)
        await ws.closed
        this.#flowing = false
        this.#socket = undefined
        // Nobody iterates: the connection's messages are not kept past its end.
        const index = this.#readers.indexOf(ws)
        if (!this.#iterated && index >= 0) this.#readers.splice(index, 1)
        if (!this.#stop.signal.aborted) this.#setState('connecting')
      }
    } catch (error) {
      this.#error = error
    } finally {
      this.#flowing = false
      this.#socket = undefined
      this.#queue.rejectAll(this.#error ?? this.#closedError('closed before the message could be sent'))
      this.#setState('closed')
      this.#signal()
    }
  }

  /** Sends the queued messages in order; new sends queue behind them until the queue is empty. */
  async #flush(ws: W): Promise<void> {
    // Only while the connection is open: a queued message is taken for a connection that can take it.
    for (let item = this.#take(ws); item !== undefined; item = this.#take(ws)) {
      try {
        await ws.send(item.message)
        item.resolve()
      } catch (error) {
        item.reject(error) // handed to this connection: not sent again (at most once)
        return
      }
    }
    if (this.#socket === ws && ws.readyState === 'open') this.#flowing = true
  }

  #take(ws: W): ReturnType<SendQueue['shift']> {
    return ws.readyState === 'open' ? this.#queue.shift() : undefined
  }

  /** The oldest connection whose messages are not all read; undefined once closed and none is left. */
  async #nextReader(): Promise<W | undefined> {
    for (;;) {
      const ws = this.#readers[0]
      if (ws !== undefined) return ws
      if (this.#state === 'closed') return undefined
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  #signal(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #setState(state: PersistentState): void {
    if (this.#state === state) return
    this.#state = state
    this.dispatchEvent(new Event(state))
  }

  #closedError(what: string): ConnectionClosedError {
    return new ConnectionClosedError(CloseCode.NORMAL, '', true, this.#error === undefined ? undefined : { cause: this.#error }, `${what}: the ReconnectingWebSocket is closed`)
  }
}
