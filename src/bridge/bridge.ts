/**
 * The WebSocket <-> byte stream bridge: a WebSocket's messages written to a TCP (or any Duplex)
 * stream, and the stream's bytes sent as binary messages, with backpressure both ways and the
 * ends of each side mapped onto the other.
 * @module
 */
import type { Duplex } from 'node:stream'
import type { WebSocket } from '../connection/websocket.ts'
import type { CloseInfo } from '../core/transport.ts'
import { CloseCode } from '../core/errors.ts'

/** Options of {@link bridge}. Durations in milliseconds. */
export interface BridgeOptions {
  /**
   * How long to wait, after the WebSocket closed cleanly and the stream was ended (FIN), for the
   * stream's peer to close its side before the stream is destroyed (default 5000 ms).
   */
  endTimeout?: number | undefined
  /** Aborts the bridge: the WebSocket is closed with 1001 and the stream destroyed. */
  signal?: AbortSignal | undefined
}

/** How a bridge ended, and what it carried. Sizes in bytes. */
export interface BridgeResult {
  /** Bytes of WebSocket messages written to the stream. */
  bytesToStream: number
  /** Bytes read from the stream and sent as WebSocket messages. */
  bytesToWebSocket: number
  /** How the WebSocket ended. */
  close: CloseInfo
  /** Whether the stream's peer sent FIN, first or in answer to the FIN of a WebSocket's clean close. */
  streamEnded: boolean
  /** The stream's error, if it failed. */
  streamError: Error | undefined
  /** The error the WebSocket's message iteration threw, if it ended abnormally. */
  webSocketError: unknown
}

const DEFAULT_END_TIMEOUT = 5000

function noop(): void {}

/** Resolves once `stream` can take more writes, or once it closed or failed. */
function whenWritable(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      stream.off('error', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
    stream.on('error', done)
  })
}

/**
 * Bridges a WebSocket and a byte stream (a `net.Socket`, a `tls.TLSSocket`, any Duplex) until
 * both have ended, and resolves with what it carried and how each side ended. It never rejects.
 *
 * - WebSocket -> stream: each message's payload (text as UTF-8) is written to the stream; while
 *   the stream's buffer is full, messages stop being read, so the WebSocket's socket stops being
 *   read and TCP pushes back on the WebSocket peer.
 * - stream -> WebSocket: each chunk is sent as a binary message; the stream is paused while a
 *   send is pending (`await ws.send()`), so a slow WebSocket peer pushes back on the stream.
 * - Ends: the stream's FIN closes the WebSocket with 1000 (messages already read are sent
 *   first); a stream error closes it with 1011; a clean WebSocket close ends the stream (FIN);
 *   an abnormal WebSocket end (1006, a protocol error, a stall) destroys the stream (a TCP
 *   socket with a reset, RST).
 *
 * A TCP reset (RST) that arrives in the same poll as the stream's last bytes is reported by
 * libuv as an end of stream, and so maps to 1000 like a FIN; a reset on its own maps to 1011.
 *
 * A stream created with `allowHalfOpen: true` keeps receiving the WebSocket's messages after its
 * peer's FIN, until the closing handshake completes.
 *
 * ```ts
 * const server = await serve({ port: 8080 }, (ws) => bridge(ws, net.connect(5900, '127.0.0.1')))
 * ```
 * @category Streams and bridges
 */
export function bridge(ws: WebSocket, stream: Duplex, options: BridgeOptions = {}): Promise<BridgeResult> {
  let bytesToStream = 0
  let bytesToWebSocket = 0
  let streamEnded = false
  let streamError: Error | undefined
  let webSocketError: unknown
  let webSocketDone = false

  const closeWebSocket = (code: number, reason: string): void => {
    if (ws.readyState === 'open') ws.close(code, reason).catch(noop)
  }

  // stream -> WebSocket: paused while a send is pending. A send that can go at once resolves in
  // a microtask, before the next chunk's event: the stream is paused only when the previous send
  // is still waiting (for drain, or for compression) as the next chunk arrives, so the fast path
  // costs no pause and resume (two epoll_ctl calls) per chunk. At most one chunk more is buffered.
  let pendingSends = 0
  let paused = false
  const sent = (): void => {
    if (--pendingSends === 0 && paused && !webSocketDone) {
      paused = false
      stream.resume()
    }
  }
  const onData = (chunk: Uint8Array): void => {
    if (webSocketDone || ws.readyState !== 'open') return // nowhere to go any more: dropped
    bytesToWebSocket += chunk.length
    if (++pendingSends > 1 && !paused) {
      paused = true
      stream.pause()
    }
    ws.send(chunk).then(sent, sent)
  }
  const onEnd = (): void => {
    streamEnded = true
    // The FIN of the byte stream is the end of the conversation: close 1000 after what was read.
    closeWebSocket(CloseCode.NORMAL, '')
  }
  const onError = (error: Error): void => {
    streamError ??= error
    closeWebSocket(CloseCode.INTERNAL_ERROR, 'the TCP connection failed')
  }
  const streamClosed = new Promise<void>((resolve) => {
    if (stream.destroyed) return resolve()
    stream.once('close', () => {
      // Closed with neither FIN nor error (destroyed by its owner): the WebSocket cannot go on.
      if (!streamEnded) closeWebSocket(CloseCode.INTERNAL_ERROR, 'the TCP connection closed')
      resolve()
    })
  })
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('error', onError)
  stream.resume() // a stream paused by its owner (waiting for the WebSocket) flows from here on

  const signal = options.signal
  const onAbort = (): void => {
    closeWebSocket(CloseCode.GOING_AWAY, '')
    stream.destroy()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted === true) onAbort()

  // WebSocket -> stream: iteration stops while the stream's buffer is full.
  const pump = async (): Promise<void> => {
    try {
      for await (const message of ws) {
        if (stream.destroyed || stream.writableEnded) continue // nowhere to go any more: dropped
        bytesToStream += message.data.length
        if (!stream.write(message.data)) await whenWritable(stream)
      }
      webSocketDone = true
      if (!stream.destroyed && !stream.writableEnded) stream.end()
    } catch (error) {
      webSocketDone = true
      webSocketError = error
      // An abnormal end is told to a TCP peer as a reset, not as the FIN of a normal end.
      const socket = stream as Duplex & { resetAndDestroy?: () => void }
      try {
        if (typeof socket.resetAndDestroy === 'function' && !stream.destroyed) socket.resetAndDestroy()
      } catch {
        // not over a TCP handle (TLS, a pipe): destroyed below
      }
      stream.destroy()
    }
  }

  return (async (): Promise<BridgeResult> => {
    await pump()
    const close = await ws.closed
    if (!stream.destroyed) {
      // Ended (FIN sent): the stream's peer has endTimeout ms to close its side.
      stream.resume() // bytes still arriving are dropped, not buffered
      const timer = setTimeout(() => stream.destroy(), options.endTimeout ?? DEFAULT_END_TIMEOUT)
      await streamClosed
      clearTimeout(timer)
    }
    await streamClosed
    signal?.removeEventListener('abort', onAbort)
    stream.off('data', onData)
    stream.off('end', onEnd)
    stream.off('error', onError)
    stream.on('error', noop) // an error after the end concerns nobody
    return { bytesToStream, bytesToWebSocket, close, streamEnded, streamError, webSocketError }
  })()
}
