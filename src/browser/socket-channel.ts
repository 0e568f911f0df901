/**
 * A channel over the platform `WebSocket`: events in, `send` out, `bufferedAmount` polled for
 * backpressure on writing (drain.ts). Reading cannot be paused: the browser delivers every
 * message as it arrives, so `pause()` only tells the connection to count what overflows.
 * @module
 */
import { Message } from '../core/message.ts'
import { opening, openingFailed, type Channel, type ChannelEvents, type OpenOptions } from './channel.ts'
import { textMessage } from './text.ts'
import { DrainPoller } from './drain.ts'
import type { PlatformCloseEvent, PlatformMessageEvent, PlatformWebSocket, PlatformWebSocketConstructor } from './platform.ts'

const OPEN = 1

/** A channel over an open platform `WebSocket`. */
export class SocketChannel implements Channel {
  readonly canPause = false
  readonly #socket: PlatformWebSocket
  readonly #drain: DrainPoller
  #events: ChannelEvents | undefined = undefined
  // Events that came before the connection attached (none in practice: open and message are separate tasks).
  #early: (() => void)[] | undefined = undefined

  /** Takes over `socket` (open, binaryType 'arraybuffer'); sends wait above `writeHighWaterMark` bytes. */
  constructor(socket: PlatformWebSocket, writeHighWaterMark: number) {
    this.#socket = socket
    this.#drain = new DrainPoller(() => socket.bufferedAmount, writeHighWaterMark)
    socket.addEventListener('message', this.#onMessage)
    socket.addEventListener('close', this.#onClose)
  }

  get protocol(): string {
    return this.#socket.protocol
  }

  get extensions(): string {
    return this.#socket.extensions
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount
  }

  // The platform drops what is sent once it is closing, without an error: the connection rejects instead.
  get open(): boolean {
    return this.#socket.readyState === OPEN
  }

  attach(events: ChannelEvents): void {
    this.#events = events
    const early = this.#early
    this.#early = undefined
    if (early !== undefined) for (const run of early) run()
  }

  send(data: string | Uint8Array): Promise<void> | undefined {
    this.#socket.send(data)
    return this.#drain.writable ? undefined : this.#drain.wait()
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason)
  }

  pause(): void {
    // The platform WebSocket cannot stop reading; the connection bounds what overflows.
  }

  resume(): void {
    // See pause().
  }

  fail(error: unknown): void {
    this.#drain.fail(error)
  }

  #tell(run: (events: ChannelEvents) => void): void {
    const events = this.#events
    if (events !== undefined) run(events)
    else (this.#early ??= []).push(() => run(this.#events!))
  }

  readonly #onMessage = (event: PlatformMessageEvent): void => {
    const data = event.data
    const message = typeof data === 'string' ? textMessage(data) : new Message('binary', new Uint8Array(data as ArrayBuffer))
    this.#tell((events) => events.message(message))
  }

  readonly #onClose = (event: PlatformCloseEvent): void => {
    this.#socket.removeEventListener('message', this.#onMessage)
    this.#socket.removeEventListener('close', this.#onClose)
    this.#tell((events) => events.close(event.code, event.reason, event.wasClean))
  }
}

/** Opens a platform `WebSocket` to `url`; resolves once it is open. */
export function openSocket(WebSocket: PlatformWebSocketConstructor, url: string, options: OpenOptions): Promise<SocketChannel> {
  let socket: PlatformWebSocket | undefined
  return opening<SocketChannel>(
    options,
    (opened, failed) => {
      try {
        socket = new WebSocket(url, options.protocols)
      } catch (error) {
        // A SyntaxError for a bad URL or subprotocol; a SecurityError for a blocked port.
        failed(error)
        return
      }
      const ws = socket
      ws.binaryType = 'arraybuffer'
      const onOpen = (): void => {
        ws.removeEventListener('close', onClose)
        opened(new SocketChannel(ws, options.writeHighWaterMark))
      }
      const onClose = (event: PlatformCloseEvent): void => {
        ws.removeEventListener('open', onOpen)
        failed(openingFailed(url, event.code, event.reason))
      }
      ws.addEventListener('open', onOpen)
      ws.addEventListener('close', onClose)
    },
    () => {
      if (socket !== undefined && socket.readyState <= OPEN) socket.close()
    },
  )
}
