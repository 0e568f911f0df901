/**
 * it-pipe duplexes of bytes (`{ source, sink }`) over a WebSocket and over a Node stream, so that
 * a bridge can also be written `await pipe(webSocketBytes(ws), streamDuplex(socket), webSocketBytes(ws))`
 * with transforms in between.
 * @module
 */
import type { Duplex } from 'node:stream'
import type { WebSocket } from '../connection/websocket.ts'

/** An it-stream-types duplex of bytes: `source` yields chunks, `sink(source)` consumes them. */
export interface ByteDuplex {
  /** The chunks read. */
  source: AsyncIterable<Uint8Array>
  /** Writes every chunk of `source` (awaiting backpressure), then ends the other side. */
  sink(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void>
}

/**
 * A WebSocket as a duplex of bytes: `source` yields each message's payload (text as UTF-8),
 * `sink` sends each chunk as a binary message and closes with 1000 when its source ends (1011
 * if it throws). The source ends on a clean close and throws on an abnormal one.
 */
export function webSocketBytes(ws: WebSocket): ByteDuplex {
  return { source: ws.bytes(), sink: ws.sink }
}

/**
 * A Node stream (a `net.Socket`, a `tls.TLSSocket`, a child's stdio...) as a duplex of bytes:
 * `source` yields the chunks read (the stream is read only as fast as the source is iterated),
 * `sink` writes each chunk, waiting for `drain` when the stream's buffer is full, and ends the
 * stream (FIN) when its source ends, or destroys it with the error when its source throws. The
 * source's end does not destroy the stream: a half-open socket can still be written.
 */
export function streamDuplex(stream: Duplex): ByteDuplex {
  return {
    source: stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>,
    async sink(source) {
      try {
        for await (const chunk of source) {
          if (stream.destroyed) throw new Error('the stream was destroyed before its source ended')
          if (!stream.write(chunk)) await drained(stream)
        }
      } catch (error) {
        stream.destroy(error instanceof Error ? error : new Error(String(error)))
        throw error
      }
      stream.end()
    },
  }
}

/** Resolves on `drain`; rejects if the stream closes or fails first. */
function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain)
      stream.off('close', onClose)
    }
    const onDrain = (): void => {
      cleanup()
      resolve()
    }
    const onClose = (): void => {
      cleanup()
      reject(new Error('the stream closed while data was waiting to be written'))
    }
    stream.on('drain', onDrain)
    stream.on('close', onClose)
  })
}
