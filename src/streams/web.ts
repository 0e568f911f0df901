/**
 * A connection as a WHATWG stream pair, `{ readable, writable }`, the shape of `WebSocketStream`'s
 * `opened` (`toWebStreams(ws)`): the readable side yields messages (or their data, or their
 * bytes), the writable side sends what is written. It uses only what browsers, workers and Node
 * have in common (`ReadableStream`, `WritableStream`), so it runs over the Node client and over
 * the browser client alike.
 *
 * Backpressure: the readable side has a high-water mark of 0 by default, so it takes the next
 * message from the connection only when the consumer reads (a `pipeTo` into a slow writable stops
 * reading): the connection's inbox holds the rest, and its own high-water mark stops the socket
 * being read. A write resolves when `ws.send` resolves (the socket took the bytes).
 *
 * Errors and close codes: cancelling the readable or aborting the writable with a reason closes
 * the connection with the reason's `closeCode` if it has one (a `ConnectionClosedError`), else
 * 1011 for an error and 1000 for no reason; closing the writable closes with 1000. In a browser,
 * which may send only 1000 and 3000-4999, a code below 3000 goes as the browser client sends
 * such codes: 4000 plus its last three digits (1011 as 4011). A connection
 * that fails errors both sides with its `ConnectionClosedError` (the readable after the messages
 * that came before); a clean close (1000, 1001) closes the readable.
 * @module
 */
import { isValidCloseCode } from '../core/close-payload.ts'
import { CloseCode, ConnectionClosedError } from '../core/errors.ts'
import type { Message, Outgoing } from '../core/message.ts'
import type { CloseInfo } from '../core/transport.ts'

/** What the pair needs of a connection: wsflow's `WebSocket`, on Node or in the browser. */
export interface WebStreamSocket extends AsyncIterable<Message> {
  /** `'connecting'`, `'open'`, `'closing'` or `'closed'`. */
  readonly readyState: string
  /** Resolves with how the connection ended. */
  readonly closed: Promise<CloseInfo>
  /** Sends a message; resolves when it is handed to the socket. */
  send(data: Outgoing): Promise<void>
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): Promise<CloseInfo>
}

/** What the readable side yields: `'message'` (a `Message`), `'data'` (a string for text, a `Uint8Array` for binary, as `WebSocketStream`), `'bytes'` (the payload). */
export type ReadAs = 'message' | 'data' | 'bytes'

/** What each {@link ReadAs} yields. */
export interface ReadChunk {
  /** A `Message`, text and binary kept. */
  message: Message
  /** A string for a text message, bytes for a binary one. */
  data: string | Uint8Array
  /** The payload's bytes (text as UTF-8). */
  bytes: Uint8Array
}

/** Options of {@link toWebStreams}. */
export interface WebStreamsOptions<R extends ReadAs = 'message'> {
  /** What the readable side yields (default `'message'`). */
  readAs?: R | undefined
  /** Messages the readable side takes ahead of the consumer (default 0: only when it reads). */
  readableHighWaterMark?: number | undefined
  /** Writes queued before `writer.ready` waits (default 1). */
  writableHighWaterMark?: number | undefined
}

/** The pair: `readable` yields what arrives, `writable` sends what is written. */
export interface WebStreamPair<R extends ReadAs = 'message'> {
  /** The messages received, pulled from the connection as the consumer reads. */
  readonly readable: ReadableStream<ReadChunk[R]>
  /** Sends each chunk written (a string as text, bytes as binary, a `Message` as it is). */
  readonly writable: WritableStream<Outgoing>
}

/**
 * The connection `ws` as a WHATWG `{ readable, writable }` pair (the shape of `WebSocketStream`'s
 * `opened`). Reading pulls one message per read; a write resolves when `ws.send` does. Cancel or
 * abort with an error closes 1011 (or the reason's `closeCode`); closing the writable closes 1000.
 *
 * ```ts
 * const { readable, writable } = toWebStreams(ws, { readAs: 'data' })
 * await readable.pipeTo(new WritableStream({ write: (data) => render(data) }))
 * ```
 * @category Streams and bridges
 */
export function toWebStreams<R extends ReadAs = 'message'>(ws: WebStreamSocket, options: WebStreamsOptions<R> = {}): WebStreamPair<R> {
  const readAs: ReadAs = options.readAs ?? 'message'
  const iterator = ws[Symbol.asyncIterator]()
  const readable = new ReadableStream<ReadChunk[R]>({
    async pull(controller) {
      let result: IteratorResult<Message>
      try {
        result = await iterator.next()
      } catch (error) {
        controller.error(error)
        return
      }
      if (result.done === true) controller.close()
      else controller.enqueue(convert(result.value, readAs) as ReadChunk[R])
    },
    async cancel(reason) {
      await closeFor(ws, reason)
      await iterator.return?.()
    },
  }, { highWaterMark: options.readableHighWaterMark ?? 0 })

  let writableController: WritableStreamDefaultController | undefined
  const writable = new WritableStream<Outgoing>({
    start(controller) {
      writableController = controller
    },
    write(chunk) {
      return ws.send(chunk)
    },
    async close() {
      if (ws.readyState === 'open') await ws.close(CloseCode.NORMAL)
    },
    async abort(reason) {
      await closeFor(ws, reason)
    },
  }, { highWaterMark: options.writableHighWaterMark ?? 1 })
  ws.closed.then((info) => {
    // Writes after the end fail at once, with how it ended (a no-op once the writable is closed).
    writableController?.error(new ConnectionClosedError(info.code, info.reason, info.wasClean))
  }, noop)
  return { readable, writable }
}

function convert(message: Message, readAs: ReadAs): Message | string | Uint8Array {
  if (readAs === 'message') return message
  if (readAs === 'bytes') return message.data
  return message.type === 'text' ? message.text() : message.data
}

/** Closes `ws` for a cancel or abort `reason`: its closeCode, else 1011 for an error, 1000 for none. */
async function closeFor(ws: WebStreamSocket, reason: unknown): Promise<void> {
  if (ws.readyState !== 'open' && ws.readyState !== 'connecting') return
  const code = (reason as { closeCode?: unknown } | null | undefined)?.closeCode
  const closeCode = typeof code === 'number' && isValidCloseCode(code) ? code : reason === undefined ? CloseCode.NORMAL : CloseCode.INTERNAL_ERROR
  await ws.close(closeCode).catch((error: unknown) => {
    // A browser may send only 1000 and 3000-4999: the browser client's convention is 4000 plus
    // the code's last three digits (1011 goes as 4011).
    if ((error as { code?: unknown } | null)?.code === 'WS_ERR_INVALID_ARGUMENT' && closeCode < 3000) return ws.close(4000 + (closeCode % 1000)).catch(noop)
    return undefined
  })
}

function noop(): void {}
