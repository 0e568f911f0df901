/**
 * The pub/sub hub of a process: topics, their local subscribers (connections and server-side
 * consumers), a publish that encodes a message once for all of them, the slow-consumer policy,
 * and the adapter that carries publications to the other processes.
 * @module
 */
import type { TopicRegistry, WebSocket } from '../connection/websocket.ts'
import { CloseCode, InvalidArgumentError } from '../core/errors.ts'
import { Message, type Outgoing } from '../core/message.ts'
import { PreparedMessage, prepareMessage } from '../core/prepared.ts'
import type { AdapterEvent, AdapterHost, Publication, PubSubAdapter } from './adapter.ts'
import { DEFAULT_MAX_BACKPRESSURE, validateBudget, validatePolicy, type PublishOptions, type PubSubOptions, type PubSubStats, type SlowConsumerPolicy, type SubscribeOptions, type TopicPolicy } from './options.ts'
import { validateTopic } from './topic.ts'
import { TopicSubscription, type SubscriptionOwner } from './subscription.ts'

export { DEFAULT_MAX_BACKPRESSURE, type PublishOptions, type PubSubOptions, type PubSubStats, type SlowConsumerPolicy, type SubscribeOptions, type TopicPolicy } from './options.ts'

/** The local subscribers of one topic; the consumers' set is made for the first consumer. */
interface Topic {
  readonly sockets: Set<WebSocket>
  consumers: Set<TopicSubscription> | undefined
}

const NO_TOPICS: ReadonlySet<string> = new Set()
const noop = (): void => undefined

/**
 * A pub/sub hub: topics with local subscribers, a publish that builds the frame once and writes
 * the same bytes to each of them (`ws.sendPrepared`, gathered per tick by each connection), and an
 * optional adapter to other processes. It reference-counts topics: the adapter is asked to
 * `subscribe(topic)` at the first local subscriber and to `unsubscribe(topic)` after the last.
 *
 * A server has one (see `ServerOptions.pubsub`), behind `ws.subscribe(topic)` and
 * `server.publish(topic, data)`; one can also be used without a server:
 *
 * ```ts
 * const hub = new PubSub()
 * const news = hub.subscribe('news')
 * hub.publish('news', 'hello')
 * for await (const message of news) console.log(message.text())
 * ```
 *
 * Delivery: every local subscriber of a topic gets a process's publications in the order they
 * were published, except those a slow subscriber loses to the slow-consumer policy (counted,
 * never silent). With permessage-deflate, a connection is sent the same uncompressed frame as the
 * others (RFC 7692 §6: a message may be sent uncompressed, RSV1 clear): nothing is compressed per
 * publish, whatever the number of subscribers.
 * @category Pub/sub
 */
export class PubSub implements TopicRegistry {
  readonly #topics = new Map<string, Topic>()
  readonly #bySocket = new Map<WebSocket, Set<string>>()
  readonly #adapter: PubSubAdapter | undefined
  readonly #maxBackpressure: number
  readonly #slowConsumer: SlowConsumerPolicy
  readonly #policies = new Map<string, TopicPolicy>()
  readonly #onEvent: ((event: AdapterEvent) => void) | undefined
  readonly #owner: SubscriptionOwner = { ended: (subscription) => this.#removeConsumer(subscription) }
  #stats = { published: 0, received: 0, delivered: 0, dropped: 0, closedSlow: 0, lost: 0 }
  #degraded = false
  #closed: Promise<void> | undefined = undefined
  /** Resolves once the adapter is attached (at once without one); rejects if attaching failed. */
  readonly ready: Promise<void>

  /** Creates a hub; with an adapter, attaches it to this hub. */
  constructor(options: PubSubOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`PubSub: options must be an object, not ${String(options)}`)
    const max = options.maxBackpressure ?? DEFAULT_MAX_BACKPRESSURE
    validateBudget(max, 'PubSub: maxBackpressure')
    validatePolicy(options.slowConsumer, 'PubSub: slowConsumer')
    const adapter = options.adapter
    if (adapter !== undefined && (typeof adapter !== 'object' || adapter === null || typeof adapter.publish !== 'function' || typeof adapter.attach !== 'function')) {
      throw new InvalidArgumentError('PubSub: adapter must implement PubSubAdapter (attach, subscribe, unsubscribe, publish, close)')
    }
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new InvalidArgumentError('PubSub: onEvent must be a function')
    this.#maxBackpressure = max
    this.#slowConsumer = options.slowConsumer ?? 'drop'
    this.#onEvent = options.onEvent
    this.#adapter = adapter
    if (adapter === undefined) {
      this.ready = Promise.resolve()
      return
    }
    const host: AdapterHost = {
      deliver: (publication) => this.#deliver(publication),
      report: (event) => this.#report(event),
      topics: () => this.#topics.keys(),
    }
    let attached: Promise<void>
    try {
      attached = Promise.resolve(adapter.attach(host))
    } catch (error) {
      attached = Promise.reject(error)
    }
    this.ready = attached.catch((error: unknown) => {
      this.#report({ type: 'degraded', error: error instanceof Error ? error : new Error(String(error)) })
      throw error
    })
    this.ready.catch(noop)
  }

  /** The adapter to other processes, if any. */
  get adapter(): PubSubAdapter | undefined {
    return this.#adapter
  }

  /** Whether the adapter reported its link down (`degraded`) and not yet back (`restored`). */
  get degraded(): boolean {
    return this.#degraded
  }

  /** Counters since the hub was made (a snapshot). */
  get stats(): PubSubStats {
    return { ...this.#stats }
  }

  /** The topics with at least one local subscriber. */
  get topics(): string[] {
    return [...this.#topics.keys()]
  }

  /** The local subscribers of `topic` (connections and consumers); 0 for a topic nobody here follows. */
  subscriberCount(topic: string): number {
    validateTopic(topic, 'subscriberCount')
    const entry = this.#topics.get(topic)
    return entry === undefined ? 0 : entry.sockets.size + (entry.consumers?.size ?? 0)
  }

  /**
   * Subscribes server-side code to `topic`: iterate what is returned. Messages published from now
   * on are buffered until read, up to `maxBufferedAmount` bytes (default: the hub's
   * `maxBackpressure`); past it, a consumer that falls behind loses messages, counted in its
   * `dropped`. Leaving the loop unsubscribes.
   */
  subscribe(topic: string, options?: SubscribeOptions): TopicSubscription
  /**
   * Subscribes a connection to `topic`; false if it already was (or is closed). Used by
   * `ws.subscribe`; call it only for a connection of a server that uses this hub (the hub learns
   * of its close as one of that server's connection observers).
   */
  subscribe(ws: WebSocket, topic: string): boolean
  subscribe(a: string | WebSocket, b?: string | SubscribeOptions): TopicSubscription | boolean {
    if (typeof a === 'object' && a !== null) return this.#subscribeSocket(a, b)
    validateTopic(a, 'subscribe')
    const max = (b as SubscribeOptions | undefined)?.maxBufferedAmount ?? this.#maxBackpressure
    validateBudget(max, 'subscribe: maxBufferedAmount')
    const subscription = new TopicSubscription(this.#owner, a, max)
    if (this.#closed !== undefined) {
      subscription.end()
      return subscription
    }
    const entry = this.#topic(a)
    ;(entry.consumers ??= new Set()).add(subscription)
    return subscription
  }

  #subscribeSocket(ws: WebSocket, topic: unknown): boolean {
    validateTopic(topic, 'subscribe')
    if (ws.readyState === 'closed') return false
    let mine = this.#bySocket.get(ws)
    if (mine?.has(topic) === true) return false
    if (mine === undefined) this.#bySocket.set(ws, (mine = new Set()))
    mine.add(topic)
    this.#topic(topic).sockets.add(ws)
    return true
  }

  /** Unsubscribes a connection from `topic`; false if it was not subscribed. Used by `ws.unsubscribe`. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    validateTopic(topic, 'unsubscribe')
    const mine = this.#bySocket.get(ws)
    if (mine === undefined || !mine.delete(topic)) return false
    if (mine.size === 0) this.#bySocket.delete(ws)
    const entry = this.#topics.get(topic)
    if (entry !== undefined) {
      entry.sockets.delete(ws)
      this.#release(topic, entry)
    }
    return true
  }

  /** The topics a connection is subscribed to (a copy). Used by `ws.topics`. */
  topicsOf(ws: WebSocket): ReadonlySet<string> {
    const mine = this.#bySocket.get(ws)
    return mine === undefined ? NO_TOPICS : new Set(mine)
  }

  /** A connection closed: it leaves every topic (the hub is one of the server's connection observers). */
  closed(ws: WebSocket): void {
    const mine = this.#bySocket.get(ws)
    if (mine === undefined) return
    this.#bySocket.delete(ws)
    for (const topic of mine) {
      const entry = this.#topics.get(topic)
      if (entry === undefined) continue
      entry.sockets.delete(ws)
      this.#release(topic, entry)
    }
  }

  /**
   * Publishes `data` to `topic`: a string as text, bytes as binary, a Message as its type. The
   * frame is built once and the same bytes written to every local subscriber but
   * `options.except`, each within the slow-consumer budget; then the adapter carries it to the
   * other processes. Synchronous; never throws for a subscriber. Returns how many local
   * subscribers got it. Throws an InvalidArgumentError for a bad topic or data.
   */
  publish(topic: string, data: Outgoing, options: PublishOptions = {}): number {
    validateTopic(topic, 'publish')
    const prepared = prepareMessage(data)
    if (options.maxBackpressure !== undefined) validateBudget(options.maxBackpressure, 'publish: maxBackpressure')
    if (options.slowConsumer !== undefined) validatePolicy(options.slowConsumer, 'publish: slowConsumer')
    const own = this.#policies.get(topic)
    const max = options.maxBackpressure ?? own?.maxBackpressure ?? this.#maxBackpressure
    const policy = options.slowConsumer ?? own?.slowConsumer ?? this.#slowConsumer
    this.#stats.published++
    const delivered = this.#fanOut(topic, prepared, undefined, options.except, max, policy)
    const adapter = this.#adapter
    if (adapter !== undefined && this.#closed === undefined) {
      try {
        adapter.publish({ topic, data: prepared.data, text: prepared.type === 'text' })
      } catch (error) {
        // An adapter must count what it cannot carry; one that throws loses this publication.
        this.#report({ type: 'lost', count: 1, direction: 'out' })
        if (!this.#degraded) this.#report({ type: 'degraded', error: error instanceof Error ? error : new Error(String(error)) })
      }
    }
    return delivered
  }

  /** A publication from another process: delivered to the local subscribers only (never sent back out). */
  #deliver(publication: Publication): void {
    this.#stats.received++
    if (typeof publication.topic !== 'string' || !this.#topics.has(publication.topic)) return
    const message = new Message(publication.text ? 'text' : 'binary', publication.data)
    const own = this.#policies.get(publication.topic)
    this.#fanOut(publication.topic, new PreparedMessage(message), message, undefined, own?.maxBackpressure ?? this.#maxBackpressure, own?.slowConsumer ?? this.#slowConsumer)
  }

  /**
   * Gives `topic` a slow-consumer budget and policy of its own (for this process's publications
   * and those from other processes alike; a publish's options still come first), or takes them
   * away (`undefined`). E.g. a game's state topic may close laggards while the chat drops for them.
   */
  setTopicPolicy(topic: string, policy: TopicPolicy | undefined): void {
    validateTopic(topic, 'setTopicPolicy')
    if (policy === undefined) {
      this.#policies.delete(topic)
      return
    }
    if (policy.maxBackpressure !== undefined) validateBudget(policy.maxBackpressure, 'setTopicPolicy: maxBackpressure')
    validatePolicy(policy.slowConsumer, 'setTopicPolicy: slowConsumer')
    this.#policies.set(topic, { maxBackpressure: policy.maxBackpressure, slowConsumer: policy.slowConsumer })
  }

  #fanOut(topic: string, prepared: PreparedMessage, message: Message | undefined, except: unknown, max: number, policy: SlowConsumerPolicy): number {
    const entry = this.#topics.get(topic)
    if (entry === undefined) return 0
    let delivered = 0
    let dropped = 0
    for (const ws of entry.sockets) {
      if (ws === except) continue
      if (ws.sendPrepared(prepared, max)) {
        delivered++
      } else if (ws.readyState === 'open') {
        // Over budget (a closing connection refuses silently: it is leaving the topic).
        if (policy === 'close') {
          this.#stats.closedSlow++
          ws.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer').catch(noop)
        } else {
          dropped++
        }
      }
    }
    const consumers = entry.consumers
    if (consumers !== undefined) {
      const shared = message ?? new Message(prepared.type, prepared.data)
      for (const consumer of consumers) {
        if (consumer === except) continue
        if (consumer.offer(shared)) delivered++
        else if (!consumer.ended) dropped++
      }
    }
    this.#stats.delivered += delivered
    this.#stats.dropped += dropped
    return delivered
  }

  #topic(topic: string): Topic {
    let entry = this.#topics.get(topic)
    if (entry === undefined) {
      entry = { sockets: new Set(), consumers: undefined }
      this.#topics.set(topic, entry)
      if (this.#closed === undefined) this.#callAdapter('subscribe', topic)
    }
    return entry
  }

  /** Forgets a topic nobody here follows any more (and tells the adapter). */
  #release(topic: string, entry: Topic): void {
    if (entry.sockets.size > 0 || (entry.consumers !== undefined && entry.consumers.size > 0)) return
    this.#topics.delete(topic)
    if (this.#closed === undefined) this.#callAdapter('unsubscribe', topic)
  }

  #removeConsumer(subscription: TopicSubscription): void {
    const entry = this.#topics.get(subscription.topic)
    if (entry?.consumers?.delete(subscription) === true) this.#release(subscription.topic, entry)
  }

  #callAdapter(call: 'subscribe' | 'unsubscribe', topic: string): void {
    const adapter = this.#adapter
    if (adapter === undefined) return
    try {
      adapter[call](topic)
    } catch (error) {
      this.#report({ type: 'degraded', error: error instanceof Error ? error : new Error(String(error)) })
    }
  }

  #report(event: AdapterEvent): void {
    if (event.type === 'degraded') this.#degraded = true
    else if (event.type === 'restored') this.#degraded = false
    else this.#stats.lost += event.count
    const listener = this.#onEvent
    if (listener === undefined) return
    try {
      listener(event)
    } catch {
      // a failing listener must not break delivery
    }
  }

  /**
   * Closes the adapter and ends every server-side consumer's loop. Connections stay subscribed
   * (their server closes them); publishing still reaches this process's subscribers, no other.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    for (const [topic, entry] of this.#topics) {
      if (entry.consumers === undefined) continue
      for (const consumer of entry.consumers) consumer.end()
      entry.consumers = undefined
      if (entry.sockets.size === 0) this.#topics.delete(topic)
    }
    await this.ready.catch(noop)
    await this.#adapter?.close()
  }
}
