import { EMPTY } from '../core/byte-queue.ts'
import { CloseCode, ConnectionClosedError } from '../core/errors.ts'
import type { Message, MessageType } from '../core/message.ts'
import { Protocol, type ProtocolHandler, type ProtocolOptions, type ProtocolOutput } from '../core/protocol.ts'

/** Options of {@link controlFrames}. */
export interface ControlFramesOptions extends Omit<ProtocolOptions, 'deferClose' | 'compression' | 'streaming'> {
  /**
   * Where the bytes this side must send go: pongs answering pings, the close echo (RFC 6455
   * §5.5.1), a close frame failing the connection. Write them to the peer (a socket, stdout).
   */
  write(chunk: Uint8Array): void
  /** Called once after the last bytes, where TCP would be half-closed (EOF). */
  end?: (() => void) | undefined
  /** Called with each control frame's event: `'ping'`, `'pong'` or `'close'`, and its payload or close code. */
  onControl?: ((type: 'ping' | 'pong' | 'close', detail: Uint8Array | number) => void) | undefined
}

/** Collects what the protocol hands up during one chunk. */
class Collector implements ProtocolHandler, ProtocolOutput {
  messages: Message[] = []
  closed = false
  error: unknown = undefined
  buffer: Uint8Array = EMPTY
  readonly #options: ControlFramesOptions
  #pending: Uint8Array | undefined = undefined

  constructor(options: ControlFramesOptions) {
    this.#options = options
  }

  onMessage(message: Message): void {
    this.messages.push(message)
  }

  onFragment(_type: MessageType, _payload: Uint8Array, _first: boolean, _fin: boolean): void {
    // not in streaming mode
  }

  onCompressed(_type: MessageType, _payload: Uint8Array, _fin: boolean): void {
    // no extension is negotiated here
  }

  onPing(payload: Uint8Array): void {
    this.#options.onControl?.('ping', payload)
  }

  onPong(payload: Uint8Array): void {
    this.#options.onControl?.('pong', payload)
  }

  onCloseFrame(code: number): void {
    this.closed = true
    this.#options.onControl?.('close', code)
  }

  onFail(error: unknown): void {
    this.error = error
  }

  reserve(length: number): number {
    this.#flush()
    this.buffer = this.#pending = new Uint8Array(length)
    return 0
  }

  write(chunks: readonly Uint8Array[]): void {
    this.#flush()
    for (const chunk of chunks) this.#options.write(chunk)
  }

  end(): void {
    this.#flush()
    this.#options.end?.()
  }

  /** Hands on the reserved bytes once filled (the protocol fills them right after reserve). */
  flush(): void {
    this.#flush()
  }

  #flush(): void {
    if (this.#pending !== undefined) {
      const pending = this.#pending
      this.#pending = undefined
      this.#options.write(pending)
    }
  }
}

/**
 * Returns a transform from the bytes of a WebSocket connection (a socket, a captured stream,
 * stdin) to its messages, running the connection's own protocol (`core/protocol`): pings are
 * answered, control frames may come between fragments, a close frame is echoed and ends the
 * stream, and a frame that breaks the RFC sends its close code and throws. What must be sent
 * back goes to `options.write`; batches of the messages each chunk completes come out, so a
 * pipeline costs one async hop per chunk.
 *
 * ```ts
 * await pipe(socket, controlFrames({ role: 'server', write: (b) => socket.write(b) }), async (batches) => {
 *   for await (const batch of batches) for (const message of batch) console.log(message.text())
 * })
 * ```
 *
 * It ends normally after the peer's close frame, and throws a {@link ConnectionClosedError}
 * (1006) when the bytes end without one, or the protocol's error when the connection failed.
 */
export function controlFrames(options: ControlFramesOptions): (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => AsyncGenerator<Message[], void, undefined> {
  return async function* (source) {
    const collector = new Collector(options)
    const protocol = new Protocol({ ...options, deferClose: false }, collector, collector)
    for await (const chunk of source) {
      protocol.receiveData(chunk)
      collector.flush()
      if (collector.messages.length > 0) {
        const batch = collector.messages
        collector.messages = []
        yield batch
      }
      if (collector.error !== undefined) throw collector.error
      if (collector.closed) return
    }
    throw new ConnectionClosedError(CloseCode.ABNORMAL_CLOSURE, '', false, undefined, 'the stream ended without a close frame')
  }
}
