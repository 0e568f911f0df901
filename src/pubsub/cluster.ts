/**
 * The `node:cluster` broker: workers exchange publications through the primary over IPC, no
 * Redis. Each worker's hub has a {@link ClusterAdapter}; the primary runs
 * {@link startClusterRelay}, which keeps, per topic, the workers with subscribers to it and relays
 * each publication to those of them that did not make it (a worker never gets its own back).
 *
 * ```ts
 * if (cluster.isPrimary) {
 *   startClusterRelay()
 *   for (let i = 0; i < 4; i++) cluster.fork()
 * } else {
 *   await serve({ port: 8080, pubsub: { adapter: new ClusterAdapter() } }, (ws) => { ws.subscribe('chat') })
 * }
 * ```
 *
 * Guarantees: at most once; in order per publisher and topic (IPC keeps the order of one
 * worker's messages, and the primary relays in the order it receives). A subscription takes effect
 * when the primary has it: a publication that crosses it on the way is not delivered. A worker
 * whose IPC channel is gone counts what it could not send (`lost`, direction 'out') and reports
 * itself `degraded`. Payloads travel as base64 in JSON, so the relay works whatever the
 * cluster's `serialization` setting.
 *
 * Bounded: an IPC channel queues in memory what the other end has not read yet, without limit. So
 * each side keeps the bytes it has handed to a channel and the OS has not taken yet, and past
 * `maxBacklog` (8 MiB by default) a publication is dropped and counted instead: a worker's adapter
 * counts it `lost` (direction 'out') when the primary falls behind, and the relay counts it in
 * `dropped` (and tells `onDropped`) per worker that falls behind, while the other workers still get
 * it. Subscriptions and unsubscriptions are never dropped (the routing depends on them).
 * @module
 */
import { Buffer } from 'node:buffer'
import cluster, { type Worker } from 'node:cluster'
import { InvalidArgumentError } from '../core/errors.ts'
import { Fifo } from '../internal/fifo.ts'
import type { AdapterHost, Publication, PubSubAdapter } from './adapter.ts'
import { validateBudget } from './options.ts'

/** The tag of every pub/sub message on a cluster's IPC channels (other messages are left alone). */
export const CLUSTER_CHANNEL = 'wsflow:pubsub'

/** One pub/sub message on an IPC channel, worker to primary or primary to worker. */
interface WireMessage {
  readonly channel: typeof CLUSTER_CHANNEL
  readonly op: 'sub' | 'unsub' | 'pub'
  readonly topic: string
  /** The payload, base64 (pub only). */
  readonly data?: string
  /** Whether it is text (pub only). */
  readonly text?: boolean
}

/** The default bound on what one side has written to one IPC channel and the OS has not taken yet. */
export const DEFAULT_CLUSTER_BACKLOG = 8 * 1024 * 1024

/** About the bytes a wire message takes in a channel's queue (JSON; base64 and topics are mostly ASCII). */
function wireSize(message: WireMessage): number {
  return 64 + message.topic.length + (message.data?.length ?? 0)
}

function validateBacklog(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_CLUSTER_BACKLOG
  validateBudget(value, `${where}: maxBacklog`)
  return value as number
}

function isWireMessage(message: unknown): message is WireMessage {
  return typeof message === 'object' && message !== null && (message as WireMessage).channel === CLUSTER_CHANNEL && typeof (message as WireMessage).topic === 'string'
}

/** The IPC end of a worker: `process` in a cluster worker (or a child process with an IPC channel). */
export interface IpcChannel {
  /** Sends a message to the parent. */
  send?: ((message: unknown, callback?: (error: Error | null) => void) => boolean) | undefined
  /** Whether the channel is open. */
  readonly connected?: boolean | undefined
  /** Listens for messages from the parent. */
  on(event: 'message', listener: (message: unknown) => void): unknown
  /** Stops listening. */
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** Options of a {@link ClusterAdapter}. */
export interface ClusterAdapterOptions {
  /**
   * Bytes this worker may have written to its IPC channel that the OS has not taken yet (the
   * primary is behind); past it, a publication is counted `lost` instead of queued. Default 8 MiB;
   * `Infinity` for no bound.
   */
  maxBacklog?: number | undefined
}

/**
 * A worker's adapter: subscriptions, unsubscriptions and publications go to the primary over the
 * worker's IPC channel, and what the primary relays is delivered to the local subscribers. Needs
 * {@link startClusterRelay} on the primary. `channel` defaults to `process`.
 * @category Pub/sub
 */
export class ClusterAdapter implements PubSubAdapter {
  readonly #channel: IpcChannel
  readonly #maxBacklog: number
  /** Bytes written to the channel and not yet taken by the OS. */
  #backlog = 0
  /** The size of each of those writes, in order (IPC writes complete in order). */
  readonly #pending = new Fifo<number>()
  #host: AdapterHost | undefined = undefined
  readonly #subscribed = new Set<string>()
  #degraded = false
  #closed = false
  readonly #onMessage = (message: unknown): void => {
    if (!isWireMessage(message) || message.op !== 'pub' || typeof message.data !== 'string') return
    this.#host?.deliver({ topic: message.topic, data: new Uint8Array(Buffer.from(message.data, 'base64')), text: message.text === true })
  }
  readonly #onSent = (error: Error | null): void => {
    this.#backlog -= this.#pending.shift() ?? 0
    if (error !== null) this.#lost(error)
  }

  /** An adapter over `channel` (default: this worker's `process`); throws if there is no IPC channel. */
  constructor(channel: IpcChannel = process as unknown as IpcChannel, options: ClusterAdapterOptions = {}) {
    if (typeof channel.send !== 'function') throw new InvalidArgumentError('ClusterAdapter: this process has no IPC channel (run it in a node:cluster worker)')
    this.#channel = channel
    this.#maxBacklog = validateBacklog(options.maxBacklog, 'ClusterAdapter')
  }

  /** Bytes written to the IPC channel that the OS has not taken yet. */
  get backlog(): number {
    return this.#backlog
  }

  /** Listens to the primary and tells it the topics the hub has already. */
  attach(host: AdapterHost): void {
    this.#host = host
    this.#channel.on('message', this.#onMessage)
    for (const topic of host.topics()) this.subscribe(topic)
  }

  /** Asks the primary for the topic's publications from other workers. */
  subscribe(topic: string): void {
    this.#subscribed.add(topic)
    this.#send({ channel: CLUSTER_CHANNEL, op: 'sub', topic })
  }

  /** Tells the primary this worker no longer follows the topic. */
  unsubscribe(topic: string): void {
    this.#subscribed.delete(topic)
    this.#send({ channel: CLUSTER_CHANNEL, op: 'unsub', topic })
  }

  /** Sends a publication of this worker to the primary, which relays it to the other workers. */
  publish(publication: Publication): void {
    const data = Buffer.from(publication.data.buffer, publication.data.byteOffset, publication.data.byteLength).toString('base64')
    if (!this.#send({ channel: CLUSTER_CHANNEL, op: 'pub', topic: publication.topic, data, text: publication.text }, true)) this.#host?.report({ type: 'lost', count: 1, direction: 'out' })
  }

  /** Stops listening to the primary and tells it this worker follows nothing any more. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    for (const topic of [...this.#subscribed]) this.unsubscribe(topic)
    this.#closed = true
    this.#channel.off('message', this.#onMessage)
    return Promise.resolve()
  }

  /** Sends one message; false when the channel is gone (degraded reported once) or, for a droppable one, its backlog is full. */
  #send(message: WireMessage, droppable = false): boolean {
    if (this.#closed) return false
    if (this.#channel.connected === false) {
      this.#lost(new Error('ClusterAdapter: the IPC channel to the primary is closed'))
      return false
    }
    const size = wireSize(message)
    if (droppable && this.#backlog + size > this.#maxBacklog) return false
    try {
      this.#channel.send!(message, this.#onSent)
      this.#backlog += size
      this.#pending.push(size)
      return true
    } catch (error) {
      this.#lost(error instanceof Error ? error : new Error(String(error)))
      return false
    }
  }

  #lost(error: Error): void {
    if (this.#degraded) return
    this.#degraded = true
    this.#host?.report({ type: 'degraded', error })
  }
}

/** Options of {@link startClusterRelay}. */
export interface ClusterRelayOptions {
  /** Told each time a worker starts or stops following a topic (for logs, metrics and tests). */
  onSubscription?: ((worker: Worker, topic: string, subscribed: boolean) => void) | undefined
  /**
   * Bytes the relay may have written to one worker's IPC channel that the OS has not taken yet
   * (the worker is behind: a blocked event loop, say); past it, publications for that worker are
   * dropped and counted in `dropped`. Default 8 MiB; `Infinity` for no bound.
   */
  maxBacklog?: number | undefined
  /** Told of each publication dropped for a worker that is behind. */
  onDropped?: ((worker: Worker, topic: string) => void) | undefined
}

/** The primary's relay, as {@link startClusterRelay} returns it. */
export interface ClusterRelay {
  /** How many workers follow `topic` now. */
  workersOf(topic: string): number
  /** Publications relayed (one per worker it was sent to). */
  readonly relayed: number
  /** Publications dropped for workers that were behind (one per worker). */
  readonly dropped: number
  /** Bytes written to `worker`'s IPC channel that the OS has not taken yet. */
  backlogOf(worker: Worker): number
  /** Stops relaying. */
  close(): void
}

let relayRunning = false

/**
 * Relays pub/sub messages between the workers of this cluster (call it on the primary, once; a
 * second relay while one runs would deliver everything twice, so it throws): per topic, the set of
 * workers with local subscribers; each publication goes to those of them but its sender. A worker
 * that exits is forgotten.
 * @category Pub/sub
 */
export function startClusterRelay(options: ClusterRelayOptions = {}): ClusterRelay {
  if (!cluster.isPrimary) throw new InvalidArgumentError('startClusterRelay: call it on the cluster\'s primary')
  if (relayRunning) throw new InvalidArgumentError('startClusterRelay: a relay is running already (close it first)')
  const maxBacklog = validateBacklog(options.maxBacklog, 'startClusterRelay')
  relayRunning = true
  const topics = new Map<string, Set<Worker>>()
  const byWorker = new Map<Worker, Set<string>>()
  const backlogs = new Map<Worker, number>()
  let relayed = 0
  let dropped = 0
  let closed = false
  const call = <A extends unknown[]>(listener: ((...args: A) => void) | undefined, ...args: A): void => {
    try {
      listener?.(...args)
    } catch {
      // a failing listener must not stop the relay
    }
  }
  const notify = (worker: Worker, topic: string, subscribed: boolean): void => call(options.onSubscription, worker, topic, subscribed)
  const leave = (worker: Worker, topic: string): void => {
    const workers = topics.get(topic)
    if (workers === undefined || !workers.delete(worker)) return
    if (workers.size === 0) topics.delete(topic)
    byWorker.get(worker)?.delete(topic)
    notify(worker, topic, false)
  }
  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isWireMessage(message)) return
    const topic = message.topic
    if (message.op === 'sub') {
      let workers = topics.get(topic)
      if (workers === undefined) topics.set(topic, (workers = new Set()))
      if (workers.has(worker)) return
      workers.add(worker)
      let mine = byWorker.get(worker)
      if (mine === undefined) byWorker.set(worker, (mine = new Set()))
      mine.add(topic)
      notify(worker, topic, true)
    } else if (message.op === 'unsub') {
      leave(worker, topic)
    } else if (message.op === 'pub') {
      const workers = topics.get(topic)
      if (workers === undefined) return
      const size = wireSize(message)
      for (const other of workers) {
        if (other === worker || !other.isConnected()) continue
        const backlog = backlogs.get(other) ?? 0
        if (backlog + size > maxBacklog) {
          dropped++
          call(options.onDropped, other, topic)
          continue
        }
        backlogs.set(other, backlog + size)
        other.send(message, undefined, () => {
          const left = (backlogs.get(other) ?? size) - size
          if (left > 0) backlogs.set(other, left)
          else backlogs.delete(other)
        })
        relayed++
      }
    }
  }
  const onExit = (worker: Worker): void => {
    for (const topic of [...(byWorker.get(worker) ?? [])]) leave(worker, topic)
    byWorker.delete(worker)
    backlogs.delete(worker)
  }
  cluster.on('message', onMessage)
  cluster.on('exit', onExit)
  return {
    workersOf: (topic) => topics.get(topic)?.size ?? 0,
    get relayed() {
      return relayed
    },
    get dropped() {
      return dropped
    },
    backlogOf: (worker) => backlogs.get(worker) ?? 0,
    close: () => {
      if (closed) return
      closed = true
      relayRunning = false
      cluster.off('message', onMessage)
      cluster.off('exit', onExit)
      topics.clear()
      byWorker.clear()
    },
  }
}
