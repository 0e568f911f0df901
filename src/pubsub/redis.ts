/**
 * The Redis broker: carries a process's publications to the other processes through Redis
 * PUBLISH/SUBSCRIBE, one subscriber connection per process and one SUBSCRIBE per topic per
 * process. Each publication travels in a small envelope (./redis-envelope.ts) carrying the
 * process's random origin id, so a process ignores its own publications when Redis hands them
 * back (the hub delivered them locally already).
 *
 * Redis restarts: the clients reconnect (with backoff, theirs or ours in ./redis-create.ts); the
 * adapter then subscribes again every topic the host still has and does not take the client's
 * word for it: it publishes a probe on each topic's channel and reports `restored` only once
 * every probe came back through Redis (a topic whose probe does not is unsubscribed and
 * subscribed again, with backoff). Meanwhile nothing is queued: a publication made while the
 * publishing connection is not ready is dropped at once and counted, as is one past
 * `maxPendingPublishes` in flight, and one whose PUBLISH fails; the counts are reported as `lost`
 * events (batched per turn of the event loop), between a `degraded` and a `restored` event.
 * What other processes published while this one's subscriber was down is lost too and cannot be
 * counted here (Redis pub/sub keeps nothing); `degraded` says that the gap exists.
 * @module
 */
import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { InvalidArgumentError } from '../core/errors.ts'
import type { AdapterHost, PubSubAdapter, Publication } from './adapter.ts'
import { decodeEnvelope, encodeEnvelope, EnvelopeKind, isFromOrigin, ORIGIN_LENGTH } from './redis-envelope.ts'

/** A subscriber's listener in buffer mode: the message's bytes and its channel's bytes. */
export type RedisBufferListener = (message: Buffer, channel: Buffer) => void

/** The connection events the adapter listens to (node-redis names). */
export type RedisClientEvent = 'ready' | 'error' | 'end' | 'reconnecting'

/** What the adapter needs of any Redis connection (a node-redis >= 5 client has it as is). */
export interface RedisConnection {
  /** True once `connect` was called and until the client is closed. */
  readonly isOpen: boolean
  /** True while the connection is up and ready for commands. */
  readonly isReady: boolean
  /** Opens the connection (called by the adapter only if `isOpen` is false). */
  connect(): Promise<unknown>
  /** Closes gracefully (node-redis 5); used only for clients the adapter owns. */
  close?(): Promise<unknown>
  /** Closes gracefully (older clients); used only if `close` is missing. */
  quit?(): Promise<unknown>
  /** Closes at once, failing what is pending; used if a graceful close fails. */
  destroy?(): void
  /** Adds an event listener. */
  on(event: RedisClientEvent, listener: (...args: any[]) => void): unknown
  /** Removes an event listener. */
  off(event: RedisClientEvent, listener: (...args: any[]) => void): unknown
}

/** The publishing connection: PUBLISH with a binary message. */
export interface RedisPublisherClient extends RedisConnection {
  /** PUBLISH `message` on `channel`; resolves with the number of receivers. */
  publish(channel: string, message: Buffer): Promise<unknown>
}

/** The subscriber connection: SUBSCRIBE and UNSUBSCRIBE with a listener in buffer mode. */
export interface RedisSubscriberClient extends RedisConnection {
  /** SUBSCRIBE `channels`, calling `listener` with the raw bytes of each message; resolves once Redis acknowledged. */
  subscribe(channels: string[], listener: RedisBufferListener, bufferMode: true): Promise<unknown>
  /** UNSUBSCRIBE `channels` for `listener`. */
  unsubscribe(channels: string[], listener: RedisBufferListener, bufferMode: true): Promise<unknown>
}

/** Options of {@link RedisAdapter}. */
export interface RedisAdapterOptions {
  /** The connection that publishes (not in subscriber mode). */
  readonly publisher: RedisPublisherClient
  /** The connection that subscribes (a second connection: Redis puts it in subscriber mode). */
  readonly subscriber: RedisSubscriberClient
  /** Prefix of every channel: a topic `t` is the channel `${prefix}${t}`. Default `'wsflow:'`. */
  readonly prefix?: string
  /** Publications in flight (sent, not yet acknowledged) past which a new one is dropped and counted. Default 10,000. */
  readonly maxPendingPublishes?: number
  /** How long to wait for a topic's probe after a reconnect before subscribing it again, in milliseconds. Default 2,000. */
  readonly probeTimeout?: number
  /** Whether {@link RedisAdapter.close} closes the two clients (true when the adapter made them). Default false. */
  readonly closeClients?: boolean
}

const PROBE_BACKOFF_MAX = 30_000

/**
 * A {@link PubSubAdapter} over Redis PUBLISH/SUBSCRIBE (see the module's comment for what happens on a restart).
 * @category Pub/sub
 */
export class RedisAdapter implements PubSubAdapter {
  /** This process's origin id (16 random bytes) written in every envelope it publishes. */
  readonly origin: Uint8Array = randomBytes(ORIGIN_LENGTH)
  /** The channel prefix. */
  readonly prefix: string
  readonly #pub: RedisPublisherClient
  readonly #sub: RedisSubscriberClient
  readonly #maxPending: number
  readonly #probeTimeout: number
  readonly #closeClients: boolean
  readonly #prefixBytes: number
  #host: AdapterHost | undefined
  /** The topics subscribed in this process (what Redis should send us). */
  readonly #topics = new Set<string>()
  /** Topics unsubscribed while the subscriber was down (to unsubscribe once it is back). */
  readonly #stale = new Set<string>()
  #pending = 0
  #lostOut = 0
  #lostIn = 0
  #flushScheduled = false
  #degraded = false
  #closed = false
  #generation = 0
  readonly #unconfirmed = new Set<string>()
  #probeTimer: ReturnType<typeof setTimeout> | undefined
  #probeAttempts = 0
  #lastError: Error = new Error('the connection to Redis is down')
  #settleAttach: (() => void) | undefined

  readonly #listener: RedisBufferListener = (message, channel) => this.#onMessage(message, channel)
  readonly #onReady = (): void => void this.#restore()
  readonly #onError = (error: unknown): void => {
    this.#lastError = error instanceof Error ? error : new Error(String(error))
    this.#down()
  }
  readonly #onDown = (): void => this.#down()
  readonly #published = (): void => {
    this.#pending--
  }
  readonly #publishFailed = (): void => {
    this.#pending--
    this.#lose('out', 1)
  }
  readonly #flush = (): void => this.#flushLost()

  /** Creates an adapter over two connections (see {@link createRedisAdapter} to make them from a URL). */
  constructor(options: RedisAdapterOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('RedisAdapter: options must be an object with publisher and subscriber')
    const { publisher, subscriber } = options
    if (!isClient(publisher, 'publish')) throw new InvalidArgumentError('RedisAdapter: publisher must be a Redis client with publish, on, off and connect (node-redis >= 5)')
    if (!isClient(subscriber, 'subscribe')) throw new InvalidArgumentError('RedisAdapter: subscriber must be a Redis client with subscribe, unsubscribe, on, off and connect (node-redis >= 5)')
    if ((publisher as unknown) === subscriber) throw new InvalidArgumentError('RedisAdapter: publisher and subscriber must be two connections (a subscribed connection cannot PUBLISH; use client.duplicate())')
    const prefix = options.prefix ?? 'wsflow:'
    if (typeof prefix !== 'string') throw new InvalidArgumentError(`RedisAdapter: prefix must be a string, got ${typeof prefix}`)
    this.#maxPending = positiveInteger('maxPendingPublishes', options.maxPendingPublishes, 10_000)
    this.#probeTimeout = positiveInteger('probeTimeout', options.probeTimeout, 2_000)
    this.#closeClients = options.closeClients === true
    this.#pub = publisher
    this.#sub = subscriber
    this.prefix = prefix
    this.#prefixBytes = Buffer.byteLength(prefix)
  }

  /** True between a `degraded` event and the next `restored` one. */
  get degraded(): boolean {
    return this.#degraded
  }

  /** Connects the clients if they are not open; resolves once both are ready or the first failure was reported as `degraded`. */
  attach(host: AdapterHost): Promise<void> {
    if (this.#host !== undefined) throw new InvalidArgumentError('RedisAdapter: attach was called twice')
    this.#host = host
    for (const client of [this.#pub, this.#sub]) {
      client.on('ready', this.#onReady)
      client.on('error', this.#onError)
      client.on('end', this.#onDown)
      client.on('reconnecting', this.#onDown)
    }
    for (const topic of host.topics()) this.#topics.add(topic)
    const attached = new Promise<void>((resolve) => {
      this.#settleAttach = resolve
    })
    for (const client of [this.#pub, this.#sub]) {
      // A failure to connect arrives as an 'error' event too (reported as degraded); the client keeps retrying.
      if (!client.isOpen) client.connect().catch(this.#onError)
    }
    void this.#restore()
    return attached
  }

  /** Starts receiving `topic` from other processes (idempotent: one SUBSCRIBE per topic). */
  subscribe(topic: string): void {
    if (this.#topics.has(topic) || this.#closed) return
    this.#topics.add(topic)
    this.#stale.delete(topic)
    if (this.#sub.isReady) this.#sub.subscribe([this.prefix + topic], this.#listener, true).catch(this.#onError)
  }

  /** Stops receiving `topic` (idempotent). */
  unsubscribe(topic: string): void {
    if (!this.#topics.delete(topic)) return
    if (this.#unconfirmed.delete(topic)) this.#checkRestored()
    if (this.#sub.isReady) this.#sub.unsubscribe([this.prefix + topic], this.#listener, true).catch(() => this.#stale.add(topic))
    else this.#stale.add(topic)
  }

  /** Publishes to the other processes; while the link is down (or too much is in flight) the publication is dropped and counted. */
  publish(publication: Publication): void {
    if (this.#closed || !this.#pub.isReady || this.#pending >= this.#maxPending) {
      this.#lose('out', 1)
      return
    }
    this.#pending++
    const kind = publication.text ? EnvelopeKind.TEXT : EnvelopeKind.BINARY
    this.#pub.publish(this.prefix + publication.topic, encodeEnvelope(kind, this.origin, publication.data)).then(this.#published, this.#publishFailed)
  }

  /** Unsubscribes, stops listening and closes the clients if the adapter owns them. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#probeTimer)
    this.#settleAttach?.()
    this.#flushLost()
    const channels = [...this.#topics].map((topic) => this.prefix + topic)
    this.#topics.clear()
    if (channels.length > 0 && this.#sub.isReady) await this.#sub.unsubscribe(channels, this.#listener, true).catch(() => undefined)
    for (const client of [this.#pub, this.#sub]) {
      client.off('ready', this.#onReady)
      client.off('reconnecting', this.#onDown)
      client.off('end', this.#onDown)
    }
    if (this.#closeClients) await Promise.all([closeClient(this.#pub), closeClient(this.#sub)])
    for (const client of [this.#pub, this.#sub]) client.off('error', this.#onError)
  }

  #onMessage(message: Buffer, channel: Buffer): void {
    const envelope = decodeEnvelope(message)
    if (envelope === undefined) {
      this.#lose('in', 1)
      return
    }
    const topic = channel.toString('utf8', this.#prefixBytes)
    if (isFromOrigin(message, this.origin)) {
      if (envelope.kind === EnvelopeKind.PROBE) this.#onProbe(topic, envelope.payload)
      return
    }
    if (envelope.kind === EnvelopeKind.PROBE || !this.#topics.has(topic) || this.#host === undefined) return
    try {
      this.#host.deliver({ topic, data: envelope.payload, text: envelope.kind === EnvelopeKind.TEXT })
    } catch {
      // The hub's delivery must not break the client's reply parser; count it.
      this.#lose('in', 1)
    }
  }

  #down(): void {
    if (this.#closed) return
    this.#generation++
    clearTimeout(this.#probeTimer)
    this.#unconfirmed.clear()
    if (!this.#degraded) {
      this.#degraded = true
      this.#host?.report({ type: 'degraded', error: this.#lastError })
    }
    this.#settle()
  }

  /** Subscribes what the host has, and after an outage checks every subscription with a probe. */
  async #restore(): Promise<void> {
    if (this.#closed || this.#host === undefined || !this.#pub.isReady || !this.#sub.isReady) return
    const generation = ++this.#generation
    clearTimeout(this.#probeTimer)
    this.#probeAttempts = 0
    const wanted = new Set(this.#host.topics())
    for (const topic of this.#topics) if (!wanted.has(topic)) { this.#topics.delete(topic); this.#stale.add(topic) }
    for (const topic of wanted) this.#topics.add(topic)
    try {
      if (this.#stale.size > 0) {
        const stale = [...this.#stale].filter((topic) => !this.#topics.has(topic))
        this.#stale.clear()
        if (stale.length > 0) await this.#sub.unsubscribe(stale.map((topic) => this.prefix + topic), this.#listener, true)
      }
      if (this.#topics.size > 0) await this.#sub.subscribe([...this.#topics].map((topic) => this.prefix + topic), this.#listener, true)
    } catch (error) {
      this.#onError(error)
      return
    }
    if (generation !== this.#generation) return
    if (!this.#degraded) {
      this.#settle()
      return
    }
    // Do not take the client's word that it resubscribed: see each topic's probe come back.
    for (const topic of this.#topics) this.#unconfirmed.add(topic)
    this.#probe(generation)
  }

  #probe(generation: number): void {
    if (this.#checkRestored()) return
    const payload = Buffer.allocUnsafe(4)
    payload.writeUInt32BE(generation >>> 0)
    const envelope = encodeEnvelope(EnvelopeKind.PROBE, this.origin, payload)
    for (const topic of this.#unconfirmed) this.#pub.publish(this.prefix + topic, envelope).catch(() => undefined)
    const delay = Math.min(this.#probeTimeout * 2 ** this.#probeAttempts, PROBE_BACKOFF_MAX)
    this.#probeTimer = setTimeout(() => void this.#probeAgain(generation), delay)
    this.#probeTimer.unref?.()
  }

  /** Some probes did not come back: those topics are not subscribed on Redis; subscribe them again. */
  async #probeAgain(generation: number): Promise<void> {
    if (generation !== this.#generation || this.#closed) return
    this.#probeAttempts++
    const channels = [...this.#unconfirmed].map((topic) => this.prefix + topic)
    try {
      await this.#sub.unsubscribe(channels, this.#listener, true)
      await this.#sub.subscribe(channels, this.#listener, true)
    } catch (error) {
      this.#onError(error)
      return
    }
    if (generation === this.#generation) this.#probe(generation)
  }

  #onProbe(topic: string, payload: Uint8Array): void {
    if (payload.byteLength !== 4) return
    const generation = ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0
    if (generation !== this.#generation >>> 0) return
    if (this.#unconfirmed.delete(topic)) this.#checkRestored()
  }

  #checkRestored(): boolean {
    if (!this.#degraded || this.#unconfirmed.size > 0 || !this.#pub.isReady || !this.#sub.isReady) return false
    clearTimeout(this.#probeTimer)
    this.#flushLost()
    this.#degraded = false
    this.#host?.report({ type: 'restored', resubscribed: this.#topics.size })
    this.#settle()
    return true
  }

  #settle(): void {
    const settle = this.#settleAttach
    this.#settleAttach = undefined
    settle?.()
  }

  #lose(direction: 'in' | 'out', count: number): void {
    if (direction === 'out') this.#lostOut += count
    else this.#lostIn += count
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(this.#flush)
    }
  }

  #flushLost(): void {
    this.#flushScheduled = false
    const out = this.#lostOut
    const inbound = this.#lostIn
    this.#lostOut = 0
    this.#lostIn = 0
    if (out > 0) this.#host?.report({ type: 'lost', count: out, direction: 'out' })
    if (inbound > 0) this.#host?.report({ type: 'lost', count: inbound, direction: 'in' })
  }
}

function isClient(value: unknown, method: string): boolean {
  if (typeof value !== 'object' || value === null) return false
  const client = value as Record<string, unknown>
  return typeof client[method] === 'function' && typeof client.on === 'function' && typeof client.off === 'function' && typeof client.connect === 'function'
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`RedisAdapter: ${name} must be a positive integer, got ${String(value)}`)
  return value
}

async function closeClient(client: RedisConnection): Promise<void> {
  if (!client.isOpen) return
  try {
    if (!client.isReady) throw new Error('not ready')
    await (client.close ?? client.quit)?.call(client)
  } catch {
    client.destroy?.()
  }
}
