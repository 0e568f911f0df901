/**
 * Checks of the options objects given to `serve`, `connect` and a connection: each option is
 * checked against what it allows, so that a mistake (`Number(process.env.X)` giving NaN, `'1mb'`,
 * `-1`, `'30s'`, `path: 'echo'`) is an {@link InvalidArgumentError} naming the option, the value
 * and what is allowed, instead of a limit that quietly switches off.
 * @module
 */
import { InvalidArgumentError } from './errors.ts'

/** What an option may be. */
export type OptionRule =
  | 'size' // a whole number of bytes ≥ 0, or Infinity for no limit
  | 'count' // a whole number ≥ 1, or Infinity
  | 'duration' // milliseconds: a finite number ≥ 0 (0: off, where the option says so)
  | 'port' // a whole number 0-65535
  | 'boolean'
  | 'string'
  | 'function'
  | 'path' // a string beginning with '/', or a non-empty array of them
  | 'strings' // a string or an array of strings
  | 'protocols' // a string, an array of strings, or a function choosing one
  | 'object'
  | 'family' // an IP family: 0 (either), 4 or 6
  | 'headers' // a record of header fields, or a function giving one
  | 'any'

/** The rules of a set of options, by name. */
export type OptionRules = Readonly<Record<string, OptionRule>>

const ALLOWED: Readonly<Record<OptionRule, string>> = {
  size: 'a whole number of bytes, 0 or more (Infinity for no limit)',
  count: 'a whole number, 1 or more (Infinity for no limit)',
  duration: 'a finite number of milliseconds, 0 or more',
  port: 'a whole number from 0 to 65535',
  boolean: 'true or false',
  string: 'a string',
  function: 'a function',
  path: "a path beginning with '/' (or an array of them)",
  strings: 'a string or an array of strings',
  protocols: 'a subprotocol name, an array of them, or a function choosing one',
  object: 'an object',
  family: '0 (either), 4 or 6',
  headers: 'an object of header fields or a function returning one',
  any: 'anything',
}

function isWhole(value: unknown, min: number): boolean {
  return typeof value === 'number' && (value === Infinity || (Number.isInteger(value) && value >= min))
}

/** Whether `value` satisfies `rule`. */
export function satisfies(rule: OptionRule, value: unknown): boolean {
  switch (rule) {
    case 'size':
      return isWhole(value, 0)
    case 'count':
      return isWhole(value, 1)
    case 'duration':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0
    case 'port':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535
    case 'boolean':
      return typeof value === 'boolean'
    case 'string':
      return typeof value === 'string'
    case 'function':
      return typeof value === 'function'
    case 'path':
      return (typeof value === 'string' && value.startsWith('/')) || (Array.isArray(value) && value.length > 0 && value.every((p) => typeof p === 'string' && p.startsWith('/')))
    case 'strings':
      return typeof value === 'string' || (Array.isArray(value) && value.every((p) => typeof p === 'string'))
    case 'protocols':
      return typeof value === 'function' || satisfies('strings', value)
    case 'object':
      return typeof value === 'object' && value !== null
    case 'headers':
      return typeof value === 'function' || (typeof value === 'object' && value !== null)
    case 'family':
      return value === 0 || value === 4 || value === 6
    case 'any':
      return true
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`
  return typeof value
}

/**
 * Checks every option of `options` named in `rules` (an option left `undefined` takes its
 * default). Throws an {@link InvalidArgumentError} for the first one that breaks its rule, e.g.
 * `serve: maxMessageSize must be a whole number of bytes, 0 or more (Infinity for no limit), not NaN`.
 */
export function validateOptions(where: string, options: object, rules: OptionRules): void {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${where}: options must be an object, not ${show(options)}`)
  const values = options as Record<string, unknown>
  for (const name in rules) {
    const value = values[name]
    if (value === undefined) continue
    const rule = rules[name]!
    if (!satisfies(rule, value)) throw new InvalidArgumentError(`${where}: ${name} must be ${ALLOWED[rule]}, not ${show(value)}`)
  }
}

/** The rules of the options every connection takes (`ConnectionOptions`). */
export const CONNECTION_OPTION_RULES: OptionRules = {
  maxMessageSize: 'size',
  maxFrameSize: 'size',
  maxFragments: 'count',
  fragmentSize: 'count',
  closeTimeout: 'duration',
  stallTimeout: 'duration',
  idleTimeout: 'duration',
  keepAlive: 'function',
  timers: 'function',
  streaming: 'boolean',
  highWaterMark: 'count',
  highWaterMarkBytes: 'count',
}
