/**
 * The seam between a process's topics and the other processes that share them: a pub/sub hub
 * keeps the local subscribers of each topic and hands what crosses processes to an adapter (a
 * `node:cluster` relay, Redis). The hub reference-counts topics, so an adapter sees one
 * `subscribe` per topic per process whatever the number of local subscribers, and it never
 * delivers a process's own publications back to it (the hub has delivered them locally already).
 * @module
 */

/** A publication as it crosses processes: the topic, the payload and whether it is text. */
export interface Publication {
  /** The topic (a non-empty string, at most {@link MAX_TOPIC_LENGTH} UTF-16 code units). */
  readonly topic: string
  /** The message's payload; for text, its UTF-8 bytes. */
  readonly data: Uint8Array
  /** True for a text message, false for binary. */
  readonly text: boolean
}

/** What an adapter reports about itself: its link to the other processes went down or came back, or publications were lost. */
export type AdapterEvent =
  | {
    /** The link to the other processes is down: publications still reach this process's subscribers only. */
    readonly type: 'degraded'
    /** What broke it. */
    readonly error: Error
  }
  | {
    /** The link is back. */
    readonly type: 'restored'
    /** How many topics were subscribed again. */
    readonly resubscribed: number
  }
  | {
    /** Publications that could not be carried. */
    readonly type: 'lost'
    /** How many. */
    readonly count: number
    /** 'out': made here, not sent to the others; 'in': sent by others, not received here. */
    readonly direction: 'out' | 'in'
  }

/** What the hub gives an adapter when it attaches it. */
export interface AdapterHost {
  /** Delivers a publication from another process to this process's local subscribers. */
  deliver(publication: Publication): void
  /** Reports a change in the adapter's state or a loss (counted, never silent). */
  report(event: AdapterEvent): void
  /** The topics with local subscribers now (what to subscribe again after a reconnect). */
  topics(): Iterable<string>
}

/**
 * Carries publications between processes. Calls come from one hub; none of them may throw for a
 * link that is down: the adapter counts what it could not carry and reports it through
 * {@link AdapterHost.report}.
 * @category Pub/sub
 */
export interface PubSubAdapter {
  /** Called once by the hub before any other call. */
  attach(host: AdapterHost): void | Promise<void>
  /** The first local subscriber of `topic` came: start receiving its publications from other processes. */
  subscribe(topic: string): void
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): void
  /** Sends a publication made in this process to the other processes (not back to this one). */
  publish(publication: Publication): void
  /** Stops: unsubscribes, closes what the adapter opened (not a client handed in by the application). */
  close(): Promise<void>
}

/** The longest topic name accepted, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 1024
