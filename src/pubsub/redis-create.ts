/**
 * `createRedisAdapter({ url })`: the Redis broker with clients made from node-redis (`redis` >= 5,
 * an optional peer dependency, imported only when this is called).
 * @module
 */
import { InvalidArgumentError } from '../core/errors.ts'
import { RedisAdapter, type RedisAdapterOptions, type RedisPublisherClient, type RedisSubscriberClient } from './redis.ts'

/** Options of {@link createRedisAdapter}: the adapter's, and how to reach Redis. */
export interface CreateRedisAdapterOptions extends Omit<RedisAdapterOptions, 'publisher' | 'subscriber' | 'closeClients'> {
  /** The server, as node-redis reads it (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  readonly url?: string
  /** The first delay before reconnecting, in milliseconds; it doubles per failed attempt. Default 50. */
  readonly minReconnectDelay?: number
  /** The longest delay between two reconnection attempts, in milliseconds. Default 2,000. */
  readonly maxReconnectDelay?: number
  /** More options handed to node-redis's `createClient` as they are (`socket.reconnectStrategy` is set by the two delays above unless given here). */
  readonly clientOptions?: Readonly<Record<string, unknown>>
}

interface NodeRedisClient extends RedisPublisherClient, RedisSubscriberClient {
  duplicate(): NodeRedisClient
}

interface NodeRedisModule {
  createClient(options: Record<string, unknown>): NodeRedisClient
}

/** The message of the error thrown when the optional peer is not installed. */
export const REDIS_MISSING = "createRedisAdapter needs the optional peer dependency 'redis' (node-redis >= 5): npm install redis"

/**
 * Makes a {@link RedisAdapter} with two node-redis connections to `url` (one publishes, one
 * subscribes), which reconnect with exponential backoff and do not queue commands while
 * disconnected; the adapter closes them when it is closed. Rejects with a clear error if the
 * `redis` package is not installed.
 *
 * ```ts
 * const pubsub = new PubSub({ adapter: await createRedisAdapter({ url: 'redis://127.0.0.1:6379' }) })
 * await serve({ port: 8080, pubsub }, (ws) => ws.subscribe('room'))
 * ```
 * @category Pub/sub
 */
export async function createRedisAdapter(options: CreateRedisAdapterOptions = {}): Promise<RedisAdapter> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createRedisAdapter: options must be an object')
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new InvalidArgumentError(`createRedisAdapter: url must be a redis:// or rediss:// URL, got ${String(url)}`)
  const minDelay = delay('minReconnectDelay', options.minReconnectDelay, 50)
  const maxDelay = delay('maxReconnectDelay', options.maxReconnectDelay, 2_000)
  const redis = await importRedis()
  const clientOptions = options.clientOptions ?? {}
  const socket = { reconnectStrategy: (retries: number) => Math.min(minDelay * 2 ** retries, maxDelay), ...(clientOptions.socket as object | undefined) }
  const publisher = redis.createClient({ url, disableOfflineQueue: true, ...clientOptions, socket })
  const subscriber = publisher.duplicate()
  const { url: _url, minReconnectDelay: _min, maxReconnectDelay: _max, clientOptions: _client, ...adapterOptions } = options
  return new RedisAdapter({ ...adapterOptions, publisher, subscriber, closeClients: true })
}

async function importRedis(): Promise<NodeRedisModule> {
  // A variable specifier: the compiler does not need the optional peer's types to build wsflow.
  const specifier = 'redis'
  try {
    return (await import(specifier)) as NodeRedisModule
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(REDIS_MISSING, { cause: error })
    throw error
  }
}

function delay(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 1) throw new InvalidArgumentError(`createRedisAdapter: ${name} must be a number of milliseconds >= 1, got ${String(value)}`)
  return value
}
