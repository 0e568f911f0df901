/**
 * What the browser connection runs over: a platform `WebSocket` or a `WebSocketStream`, behind
 * one small interface, and the opening of either (the handshake timeout and the abort signal).
 * @module
 */
import { AbortError, HandshakeError } from '../core/errors.ts'
import type { Message } from '../core/message.ts'

/** What a channel tells its connection. */
export interface ChannelEvents {
  /** A message arrived. */
  message(message: Message): void
  /** The connection closed: the close frame's code and reason (1006 and '' without one). */
  close(code: number, reason: string, wasClean: boolean): void
}

/** An open platform connection. */
export interface Channel {
  /** The subprotocol the server chose ('' for none). */
  readonly protocol: string
  /** The extensions the server agreed to, as the Sec-WebSocket-Extensions header. */
  readonly extensions: string
  /** Bytes sent and not yet handed to the network, in bytes. */
  readonly bufferedAmount: number
  /** Whether `pause()` really stops reading (WebSocketStream) or only reports the overflow (WebSocket). */
  readonly canPause: boolean
  /** Whether data may still be sent (false once the server's close frame or an error came in, before the close is told). */
  readonly open: boolean
  /** Starts telling `events` (what arrived before is told first). */
  attach(events: ChannelEvents): void
  /** Sends a text (string) or binary message; returns a promise to wait for when over the write mark. */
  send(data: string | Uint8Array): Promise<void> | undefined
  /** Starts the closing handshake. */
  close(code: number, reason: string): void
  /** Stops reading (where the platform can). */
  pause(): void
  /** Reads again. */
  resume(): void
  /** Rejects the sends that wait, with `error` (the connection ended). */
  fail(error: unknown): void
}

/** How to open a channel: the URL, the offered subprotocols, the write mark and the limits on opening. */
export interface OpenOptions {
  readonly protocols: string[]
  readonly writeHighWaterMark: number
  readonly handshakeTimeout: number
  readonly signal: AbortSignal | undefined
}

/**
 * Runs `start` (which opens the platform connection and calls `done` once, with the channel or an
 * error) under the handshake timeout and the signal; `cancel` drops a connection still opening.
 */
export function opening<T>(options: OpenOptions, start: (opened: (channel: T) => void, failed: (error: unknown) => void) => void, cancel: () => void): Promise<T> {
  const signal = options.signal
  if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason))
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const end = (): boolean => {
      if (settled) return false
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      return true
    }
    const abandon = (error: unknown): void => {
      if (!end()) return
      cancel()
      reject(error)
    }
    const onAbort = (): void => abandon(new AbortError(signal?.reason))
    const timer = setTimeout(() => abandon(new HandshakeError(`the opening handshake timed out after ${options.handshakeTimeout} ms`, 0, {}, 'WS_ERR_HANDSHAKE_TIMEOUT')), options.handshakeTimeout)
    signal?.addEventListener('abort', onAbort, { once: true })
    start(
      (channel) => {
        if (end()) resolve(channel)
      },
      (error) => {
        if (end()) reject(error)
      },
    )
  })
}

/** The error of a connection that could not be opened: the browser tells no status and no headers. */
export function openingFailed(url: string, code: number, reason: string): HandshakeError {
  const detail = code === 1006 ? '' : ` (close ${code}${reason === '' ? '' : ` ${reason}`})`
  return new HandshakeError(
    `the WebSocket connection to ${url} failed${detail}; the browser does not expose why (no HTTP status, no headers: status is 0)`,
    0,
  )
}
