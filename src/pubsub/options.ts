/**
 * The options of a pub/sub hub, of a publish and of a server-side consumer, the slow-consumer
 * policy and its default, the hub's counters, and their checks.
 * @module
 */
import type { WebSocket } from '../connection/websocket.ts'
import { InvalidArgumentError } from '../core/errors.ts'
import type { AdapterEvent, PubSubAdapter } from './adapter.ts'
import type { TopicSubscription } from './subscription.ts'

/**
 * What happens to a subscriber that has more than `maxBackpressure` bytes waiting when a message
 * comes: `'drop'` skips the message for that subscriber only (counted in its `droppedMessages`,
 * and in the hub's {@link PubSubStats.dropped}); `'close'` closes the connection with 1013 (Try
 * Again Later) instead, as uWS and Bun do with `closeOnBackpressureLimit`.
 */
export type SlowConsumerPolicy = 'drop' | 'close'

/** The default budget of bytes waiting to be written to one subscriber: 1 MiB. */
export const DEFAULT_MAX_BACKPRESSURE = 1024 * 1024

/** Options of a {@link PubSub} hub. Sizes in bytes. */
export interface PubSubOptions {
  /** Carries publications to and from other processes (a `ClusterAdapter`, a Redis adapter); none: this process only. */
  adapter?: PubSubAdapter | undefined
  /**
   * Bytes that may wait to be written to one subscriber before the slow-consumer policy applies
   * (default 1 MiB, {@link DEFAULT_MAX_BACKPRESSURE}). uWS defaults its `maxBackpressure` to
   * 64 KiB and Bun its `backpressureLimit` to 16 MiB. wsflow sits between them: uWS writes each
   * frame into the kernel's socket buffer at once, so its 64 KiB counts only what the kernel
   * refused, whereas a wsflow connection gathers a tick's frames before one write, so a burst
   * published in one tick is counted in full even for a subscriber that reads at once (64 KiB is
   * some 1,000 messages of 64 bytes); 16 MiB per subscriber, on the other hand, lets 10,000 slow
   * subscribers pin 160 GiB of accounting before any of them is cut. 1 MiB is also what
   * `server.broadcast` allows. Since a publication's frame is shared, the memory a slow subscriber
   * really holds is a reference per message, but the peer is that far behind.
   */
  maxBackpressure?: number | undefined
  /** What happens past `maxBackpressure`: `'drop'` (default) or `'close'` (1013); see {@link SlowConsumerPolicy}. */
  slowConsumer?: SlowConsumerPolicy | undefined
  /** Told what the adapter reports: its link went down (`degraded`), came back (`restored`), or publications were `lost`. */
  onEvent?: ((event: AdapterEvent) => void) | undefined
}

/** A topic's own slow-consumer budget and policy (see {@link PubSub.setTopicPolicy}); what is left out is the hub's. */
export interface TopicPolicy {
  /** The budget per subscriber, in bytes. */
  maxBackpressure?: number | undefined
  /** What happens past it. */
  slowConsumer?: SlowConsumerPolicy | undefined
}

/** Options of {@link PubSub.publish}; the budget and the policy default to the topic's, then the hub's. */
export interface PublishOptions extends TopicPolicy {
  /** A subscriber that does not get this message (typically the connection that sent it). */
  except?: WebSocket | TopicSubscription | undefined
}

/** Options of {@link PubSub.subscribe} for a server-side consumer. */
export interface SubscribeOptions {
  /** Bytes of messages the consumer's buffer holds before new ones are dropped (default: the hub's `maxBackpressure`). */
  maxBufferedAmount?: number | undefined
}

/** Counters of a hub since it was made. */
export interface PubSubStats {
  /** Messages published in this process. */
  readonly published: number
  /** Publications received from other processes through the adapter. */
  readonly received: number
  /** Messages handed to a local subscriber. */
  readonly delivered: number
  /** Messages a slow local subscriber did not get (policy 'drop', or a consumer's full buffer). */
  readonly dropped: number
  /** Connections closed for being slow (policy 'close'). */
  readonly closedSlow: number
  /** Publications the adapter reported lost, both directions. */
  readonly lost: number
}

/** Checks a budget in bytes: a whole number, 0 or more, or Infinity. */
export function validateBudget(value: unknown, where: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!Number.isInteger(value) && value !== Infinity)) {
    throw new InvalidArgumentError(`${where} must be a whole number of bytes, 0 or more (Infinity for no limit), not ${String(value)}`)
  }
}

/** Checks a slow-consumer policy: 'drop', 'close' or undefined. */
export function validatePolicy(value: unknown, where: string): void {
  if (value !== undefined && value !== 'drop' && value !== 'close') throw new InvalidArgumentError(`${where} must be 'drop' or 'close', not ${JSON.stringify(value) ?? String(value)}`)
}
