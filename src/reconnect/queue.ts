/**
 * The bounded queue of messages sent while a {@link ReconnectingWebSocket} is not connected: a
 * count and a byte limit, and a send that would pass either is refused at once with a
 * {@link QueueFullError} (never dropped silently, never buffered without bound).
 * @module
 */
import { WebSocketError } from '../core/errors.ts'
import { toMessage, type Message, type Outgoing } from '../core/message.ts'
import { Fifo } from '../internal/fifo.ts'

/** The queue's defaults: 1,024 messages and 1 MiB. */
export const QUEUE_DEFAULTS = {
  /** Most messages waiting for a connection. */
  maxQueuedMessages: 1024,
  /** Most bytes of payload waiting for a connection. */
  maxQueuedBytes: 1024 * 1024,
} as const

/** A send that could not be queued: the queue of messages waiting for a connection is full. */
export class QueueFullError extends WebSocketError {
  /** Which limit was reached: `'messages'` or `'bytes'`. */
  readonly limit: 'messages' | 'bytes'
  /** The limit's value (a count or bytes). */
  readonly max: number

  /** Creates a queue-full error for the limit reached. */
  constructor(limit: 'messages' | 'bytes', max: number) {
    super('WS_ERR_QUEUE_FULL', `the send queue is full (${limit === 'messages' ? `${max} messages` : `${max} bytes`}) while the connection is down`)
    this.name = 'QueueFullError'
    this.limit = limit
    this.max = max
  }
}

/** A message waiting for a connection, and its sender's promise. */
export interface QueuedSend {
  readonly message: Message
  resolve(): void
  reject(error: unknown): void
}

/** A FIFO of queued sends with a count and a byte limit. */
export class SendQueue {
  readonly #items = new Fifo<QueuedSend>()
  readonly #maxMessages: number
  readonly #maxBytes: number
  #bytes = 0

  /** A queue holding at most `maxMessages` messages and `maxBytes` bytes of payload. */
  constructor(maxMessages: number, maxBytes: number) {
    this.#maxMessages = maxMessages
    this.#maxBytes = maxBytes
  }

  /** Messages queued. */
  get length(): number {
    return this.#items.length
  }

  /** Bytes of payload queued. */
  get bytes(): number {
    return this.#bytes
  }

  /** Queues `data`; the promise settles when it is sent (or cannot be). Rejects at once with a {@link QueueFullError} when it does not fit. */
  push(data: Outgoing): Promise<void> {
    let message: Message
    try {
      message = toMessage(data)
    } catch (error) {
      return rejected(error)
    }
    if (this.#items.length + 1 > this.#maxMessages) return rejected(new QueueFullError('messages', this.#maxMessages))
    if (this.#bytes + message.data.length > this.#maxBytes) return rejected(new QueueFullError('bytes', this.#maxBytes))
    this.#bytes += message.data.length
    const sent = new Promise<void>((resolve, reject) => this.#items.push({ message, resolve, reject }))
    sent.catch(noop) // a send nobody awaits does not become an unhandled rejection (as WebSocket.send)
    return sent
  }

  /** The first queued send, removed. */
  shift(): QueuedSend | undefined {
    const item = this.#items.shift()
    if (item !== undefined) this.#bytes -= item.message.data.length
    return item
  }

  /** Rejects every queued send with `error` and empties the queue. */
  rejectAll(error: unknown): void {
    for (let item = this.shift(); item !== undefined; item = this.shift()) item.reject(error)
  }
}

/** A promise rejected with `error` whose rejection is handled (no crash when nobody awaits it). */
export function rejected<T>(error: unknown): Promise<T> {
  const promise = Promise.reject(error)
  promise.catch(noop)
  return promise
}

function noop(): void {}
