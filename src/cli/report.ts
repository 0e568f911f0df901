/**
 * What the executable says on stderr: one line per failure, naming the close code, the HTTP
 * status or the system error; and the exit code each outcome means.
 * @module
 */
import { STATUS_CODES } from 'node:http'
import type { CloseInfo } from '../index.ts'
// The error classes from their module, not the package root: the CLI loads only what a command needs (start-up time).
import { ConnectionClosedError, HandshakeError, InvalidArgumentError, StallError } from '../core/errors.ts'
import { ExitCode, UsageError } from './args.ts'

/** Close codes that end a connection normally (RFC 6455 §7.4.1), and 1005 (no code given). */
const CLEAN_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005])

/** Whether a close ends the program with exit code 0: a clean handshake with 1000, 1001 or no code, or with a code this side sent. */
export function isCleanClose(info: CloseInfo, sentCode?: number): boolean {
  return info.wasClean && (CLEAN_CODES.has(info.code) || info.code === sentCode)
}

/** One line describing a close: `closed: 1000`, `closed: 4001 "bye"`, `closed abnormally: 1006`. */
export function describeClose(info: CloseInfo): string {
  const reason = info.reason === '' ? '' : ` ${JSON.stringify(info.reason)}`
  return `${info.wasClean ? 'closed' : 'closed abnormally'}: ${info.code}${reason}`
}

/** One line describing an error, for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof HandshakeError) {
    if (error.status >= 100 && error.status !== 101) return `handshake refused: HTTP ${error.status} ${STATUS_CODES[error.status] ?? ''}`.trimEnd() + ` (${error.message})`
    return `handshake failed: ${error.message}`
  }
  if (error instanceof ConnectionClosedError) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${describeClose({ code: error.closeCode, reason: error.reason, wasClean: error.wasClean })}${cause}`
  }
  if (error instanceof StallError) return `stalled: ${error.message}`
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    const message = error.message.split('\n')[0]!
    return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
  }
  return String(error)
}

/** The exit code an error means: 2 for usage mistakes (a bad URL among them), 1 for the rest. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof InvalidArgumentError ? ExitCode.USAGE : ExitCode.FAILURE
}

/** Prints `wsflow: <line>` on stderr. */
export function warn(line: string): void {
  process.stderr.write(`wsflow: ${line}\n`)
}
