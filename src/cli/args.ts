/**
 * Flag parsing shared by the commands: `node:util` parseArgs, durations and sizes with units,
 * files read for TLS, and the usage error (exit code 2).
 * @module
 */
import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Exit codes of the `wsflow` executable. */
export const ExitCode = {
  /** The connection closed cleanly (or the server stopped on a signal). */
  OK: 0,
  /** A connection or protocol failure: unreachable, refused, closed abnormally. */
  FAILURE: 1,
  /** Bad usage: an unknown flag, a missing or invalid argument, a bad URL. */
  USAGE: 2,
} as const

/** A command-line mistake: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  /** Creates a usage error with a one-line message. */
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The options table of one command, as `parseArgs` takes it. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>

/** Parsed flags: strings, booleans and repeated strings. */
export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>

/** Parses `argv` strictly with `options`; an unknown flag or a missing value is a {@link UsageError}. */
export function parseFlags(argv: readonly string[], options: OptionsConfig): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
    return { flags: values as Flags, positionals }
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '') : String(error))
  }
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name]
  return typeof value === 'string' ? value : undefined
}

/** A repeatable string flag's values. */
export function listFlag(flags: Flags, name: string): string[] {
  const value = flags[name]
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
}

/** Whether a boolean flag was given. */
export function boolFlag(flags: Flags, name: string): boolean {
  return flags[name] === true
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a duration such as `500ms`, `30s`, `2m` or `1.5h` into milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (match === null) throw new UsageError(`--${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 2m)`)
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!)
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1000, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 }

/** Parses a size such as `65536`, `64KiB`, `1MiB` or `10MB` into bytes. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()]
  if (match === null || unit === undefined) throw new UsageError(`--${flag}: "${text}" is not a size (e.g. 65536, 64KiB, 1MiB)`)
  return Math.round(Number(match[1]) * unit)
}

/** Parses a TCP port (0-65535). */
export function parsePort(text: string, what: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${what}: "${text}" is not a port (0-65535)`)
  return port
}

/** Parses a positive integer flag. */
export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a whole number`)
  return Number(text)
}

/** A duration flag in milliseconds, or undefined when not given. */
export function durationFlag(flags: Flags, name: string): number | undefined {
  const value = stringFlag(flags, name)
  return value === undefined ? undefined : parseDuration(value, name)
}

/** A size flag in bytes, or undefined when not given. */
export function sizeFlag(flags: Flags, name: string): number | undefined {
  const value = stringFlag(flags, name)
  return value === undefined ? undefined : parseSize(value, name)
}

/** Reads a file named by a flag (PEM certificates and keys); a missing file is a {@link UsageError}. */
export function fileFlag(flags: Flags, name: string): Buffer | undefined {
  const path = stringFlag(flags, name)
  if (path === undefined) return undefined
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

/** Parses `[HOST:]PORT` (an IPv6 host in brackets); the host defaults to `defaultHost`. */
export function parseHostPort(text: string, defaultHost: string, what: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  if (bracketed !== null) return { host: bracketed[1]!, port: parsePort(bracketed[2]!, what) }
  const colon = text.lastIndexOf(':')
  if (colon < 0) return { host: defaultHost, port: parsePort(text, what) }
  const host = text.slice(0, colon)
  if (host === '' || host.includes(':')) throw new UsageError(`${what}: "${text}" is not HOST:PORT (an IPv6 address goes in brackets)`)
  return { host, port: parsePort(text.slice(colon + 1), what) }
}
