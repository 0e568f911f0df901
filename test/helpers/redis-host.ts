/**
 * A small AdapterHost for testing a pub/sub adapter directly: it keeps its topics, records what
 * is delivered and reported, and lets a test wait (bounded) for a condition on those records.
 */
import type { AdapterEvent, AdapterHost, Publication } from '../../src/pubsub/adapter.ts'
import { Conditions } from './conditions.ts'

/** A recorded delivery (the payload copied, since an adapter may hand out views). */
export interface Delivered {
  readonly topic: string
  readonly data: Uint8Array
  readonly text: boolean
}

/** An AdapterHost that records. */
export class RecordingHost implements AdapterHost {
  readonly subscribed = new Set<string>()
  readonly delivered: Delivered[] = []
  readonly events: AdapterEvent[] = []
  readonly #conditions = new Conditions()

  /** Records a delivery. */
  deliver(publication: Publication): void {
    this.delivered.push({ topic: publication.topic, data: Uint8Array.from(publication.data), text: publication.text })
    this.#wake()
  }

  /** Records an event. */
  report(event: AdapterEvent): void {
    this.events.push(event)
    this.#wake()
  }

  /** The topics subscribed. */
  topics(): Iterable<string> {
    return this.subscribed
  }

  /** The texts delivered on `topic`, in order. */
  texts(topic?: string): string[] {
    return this.delivered.filter((d) => topic === undefined || d.topic === topic).map((d) => new TextDecoder().decode(d.data))
  }

  /** The sum of the `lost` counts reported in `direction`. */
  lost(direction: 'in' | 'out' = 'out'): number {
    let sum = 0
    for (const event of this.events) if (event.type === 'lost' && event.direction === direction) sum += event.count
    return sum
  }

  /** The types of the events other than `lost`, in order. */
  states(): string[] {
    return this.events.filter((e) => e.type !== 'lost').map((e) => e.type)
  }

  /** Resolves once `condition()` holds (checked on every record), rejects after `timeout` ms with `what`. */
  until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
    return this.#conditions.until(condition, what, timeout)
  }

  #wake(): void {
    this.#conditions.changed()
  }
}
