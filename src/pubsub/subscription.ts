/**
 * A topic consumed by server-side code: `for await (const message of hub.subscribe('news'))`.
 * @module
 */
import type { Message } from '../core/message.ts'
import { Fifo } from '../internal/fifo.ts'

/** What a subscription tells its hub: it is over (the hub forgets it, and the topic when it was the last). */
export interface SubscriptionOwner {
  /** The subscription ended (unsubscribed, its loop left, or the hub closed). */
  ended(subscription: TopicSubscription): void
}

// Each message is charged its payload plus the smallest frame header (2 bytes), as a socket's
// bufferedAmount would charge it, so that a flood of empty messages is bounded too.
const MESSAGE_OVERHEAD = 2

/**
 * One consumer's subscription to a topic: an async iterable of the topic's messages, in the order
 * they were published. Messages wait in a buffer bounded in bytes (the hub's `maxBackpressure`):
 * a consumer that falls behind by more loses the messages that do not fit, counted in
 * {@link TopicSubscription.dropped}, as a slow socket does. Leaving the loop (`break`, `return`,
 * a throw) or calling {@link TopicSubscription.unsubscribe} ends it; messages already buffered are
 * discarded then. Iterate it once.
 */
export class TopicSubscription implements AsyncIterableIterator<Message> {
  /** The topic subscribed to. */
  readonly topic: string
  readonly #owner: SubscriptionOwner
  readonly #maxBytes: number
  readonly #queue = new Fifo<Message>()
  #bytes = 0
  #dropped = 0
  #ended = false
  #waiter: ((result: IteratorResult<Message, undefined>) => void) | undefined = undefined

  /** Made by the hub ({@link PubSub.subscribe}); `maxBytes` bounds the buffer, in bytes. */
  constructor(owner: SubscriptionOwner, topic: string, maxBytes: number) {
    this.#owner = owner
    this.topic = topic
    this.#maxBytes = maxBytes
  }

  /** Messages lost because the buffer was full (the consumer was slower than the publishers). */
  get dropped(): number {
    return this.#dropped
  }

  /** Bytes of messages waiting to be read (payloads plus 2 bytes each). */
  get bufferedAmount(): number {
    return this.#bytes
  }

  /** Whether the subscription is over. */
  get ended(): boolean {
    return this.#ended
  }

  /**
   * Hands a message to the consumer, or to its buffer; returns false (and counts a drop) when the
   * buffer has no room, false without counting once ended. Never waits.
   */
  offer(message: Message): boolean {
    if (this.#ended) return false
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = undefined
      waiter({ value: message, done: false })
      return true
    }
    const cost = message.data.length + MESSAGE_OVERHEAD
    if (this.#bytes + cost > this.#maxBytes) {
      this.#dropped++
      return false
    }
    this.#bytes += cost
    this.#queue.push(message)
    return true
  }

  /** The next message; resolves done once the subscription ended. */
  next(): Promise<IteratorResult<Message, undefined>> {
    const message = this.#queue.shift()
    if (message !== undefined) {
      this.#bytes -= message.data.length + MESSAGE_OVERHEAD
      return Promise.resolve({ value: message, done: false })
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiter !== undefined) return Promise.reject(new Error('a topic subscription has one reader: the previous next() has not settled'))
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }

  /** Leaving a `for await` loop: unsubscribes. */
  return(): Promise<IteratorResult<Message, undefined>> {
    this.unsubscribe()
    return Promise.resolve({ value: undefined, done: true })
  }

  /** Unsubscribes: the loop ends (a pending `next()` resolves done) and the buffer is discarded. */
  unsubscribe(): void {
    if (this.#ended) return
    this.end()
    this.#owner.ended(this)
  }

  /** Ends the subscription without telling the hub (the hub is the one ending it). */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#queue.drain()
    this.#bytes = 0
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.({ value: undefined, done: true })
  }

  /** The subscription itself: iterate it once. */
  [Symbol.asyncIterator](): this {
    return this
  }
}
