/**
 * Topic names: what the hub accepts, and the error that names a bad one.
 * @module
 */
import { InvalidArgumentError } from '../core/errors.ts'
import { MAX_TOPIC_LENGTH } from './adapter.ts'

function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters (${JSON.stringify(value.slice(0, 20))}...)` : JSON.stringify(value)
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/**
 * Checks a topic name: a non-empty string of at most {@link MAX_TOPIC_LENGTH} UTF-16 code units.
 * Throws an {@link InvalidArgumentError} naming the value otherwise; `where` names the call.
 */
export function validateTopic(topic: unknown, where: string): asserts topic is string {
  if (typeof topic !== 'string') throw new InvalidArgumentError(`${where}: a topic must be a string, not ${show(topic)}`)
  if (topic.length === 0) throw new InvalidArgumentError(`${where}: a topic must not be empty ("")`)
  if (topic.length > MAX_TOPIC_LENGTH) throw new InvalidArgumentError(`${where}: a topic is at most ${MAX_TOPIC_LENGTH} characters, not ${show(topic)}`)
}
