import * as assert from 'uvu/assert'
import { HandshakeError, InvalidArgumentError, WebSocketError } from '../../../../src/core/errors.ts'
import { HttpHeadParser } from '../../../../src/core/handshake/http-head.ts'
import type { HttpHead, HttpRequestHead, HttpResponseHead } from '../../../../src/core/handshake/http-head.ts'

/** Runs `fn`, asserts that it throws, and returns the error. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  assert.unreachable('expected an error')
  return undefined
}

/** Asserts that `fn` throws a HandshakeError with this status and code (and headers, if given). */
export function throwsHandshake(
  fn: () => unknown,
  status: number,
  code = 'WS_ERR_HANDSHAKE',
  headers?: Record<string, string>,
  label = '',
): HandshakeError {
  const error = catchError(fn)
  assert.instance(error, HandshakeError, `${label}: not a HandshakeError: ${String(error)}`)
  const e = error as HandshakeError
  assert.is(e.status, status, `${label}: status (${e.message})`)
  assert.is(e.code, code, `${label}: code (${e.message})`)
  if (headers !== undefined) assert.equal({ ...e.headers }, headers, `${label}: headers`)
  return e
}

/** Asserts that `fn` throws an InvalidArgumentError. */
export function throwsInvalidArgument(fn: () => unknown, label = ''): void {
  const error = catchError(fn)
  assert.instance(error, InvalidArgumentError, `${label}: not an InvalidArgumentError: ${String(error)}`)
  assert.instance(error, WebSocketError)
  assert.is((error as InvalidArgumentError).code, 'WS_ERR_INVALID_ARGUMENT')
}

/** Encodes a string as latin1 bytes (each char one byte). */
export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}

/** Parses a whole head given as a string, in one chunk. */
export function parseHead(text: string, kind: 'request' | 'response'): HttpHead | undefined {
  return new HttpHeadParser({ kind }).push(latin1(text))
}

/** Parses a complete request head, failing the test if incomplete. */
export function parseRequest(text: string): HttpRequestHead {
  const head = parseHead(text, 'request')
  if (head?.kind !== 'request') throw new Error('incomplete request head in test')
  return head
}

/** Parses a complete response head, failing the test if incomplete. */
export function parseResponse(text: string): HttpResponseHead {
  const head = parseHead(text, 'response')
  if (head?.kind !== 'response') throw new Error('incomplete response head in test')
  return head
}

/** Turns a head into plain data, for deep comparisons. */
export function plain(head: HttpHead | undefined): unknown {
  if (head === undefined) return undefined
  return { ...head, headers: [...head.headers] }
}
