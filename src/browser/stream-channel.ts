/**
 * A channel over `WebSocketStream` (Chromium 124+): the readable is read only while the
 * connection's inbox is below its high-water mark, so a page that stops reading stops the
 * socket being read and TCP pushes back on the server, as on Node; `send` waits while the
 * writes the platform has not yet taken add up to more than the write high-water mark.
 * @module
 */
import { Message } from '../core/message.ts'
import { opening, openingFailed, type Channel, type ChannelEvents, type OpenOptions } from './channel.ts'
import { textMessage } from './text.ts'
import type { PlatformWebSocketStream, PlatformWebSocketStreamConstructor, PlatformWriter, WebSocketStreamConnection } from './platform.ts'

type Reader = ReturnType<WebSocketStreamConnection['readable']['getReader']>

const noop = (): void => undefined

/** A channel over an open `WebSocketStream`. */
export class StreamChannel implements Channel {
  readonly canPause = true
  readonly protocol: string
  readonly extensions: string
  readonly #stream: PlatformWebSocketStream
  readonly #reader: Reader
  readonly #writer: PlatformWriter
  readonly #highWaterMark: number
  #waiters: { resolve(): void; reject(error: unknown): void }[] = []
  #events: ChannelEvents | undefined = undefined
  #paused = false
  #reading = false
  #buffered = 0
  #readDone = false
  #close: { code: number; reason: string; wasClean: boolean } | undefined = undefined
  #ended = false

  /** Takes over an open `stream` and its connection's readable and writable; sends wait above `writeHighWaterMark` bytes. */
  constructor(stream: PlatformWebSocketStream, connection: WebSocketStreamConnection, writeHighWaterMark: number) {
    this.#stream = stream
    this.#highWaterMark = writeHighWaterMark
    this.protocol = connection.protocol
    this.extensions = connection.extensions
    this.#reader = connection.readable.getReader()
    this.#writer = connection.writable.getWriter()
  }

  get open(): boolean {
    return this.#close === undefined && !this.#ended
  }

  /** Bytes written and not yet taken by the platform (its write promises not yet resolved). */
  get bufferedAmount(): number {
    return this.#buffered
  }

  attach(events: ChannelEvents): void {
    this.#events = events
    this.#stream.closed.then(
      (info) => this.#closedWith(info.closeCode ?? 1005, info.reason ?? '', true),
      (error: unknown) => {
        const e = error as { closeCode?: number; reason?: string } | undefined
        this.#closedWith(e?.closeCode ?? 1006, e?.reason ?? '', false)
      },
    )
    void this.#read()
  }

  /**
   * Writes at once; waits only while the writes not yet taken by the platform add up to more than
   * the write high-water mark, so that small messages are not held one at a time by the
   * writable's own queue of one chunk (bench/browser.ts, 64 B with 32 in flight).
   */
  send(data: string | Uint8Array): Promise<void> | undefined {
    const size = data.length // UTF-16 code units for a string: close enough to bytes for a water mark
    this.#buffered += size
    this.#writer.write(data).then(() => {
      this.#buffered -= size
      if (this.#buffered <= this.#highWaterMark) this.#wake(undefined)
    }, (error: unknown) => this.#wake(error)) // a failed write ends the connection: `closed` says how
    if (this.#buffered <= this.#highWaterMark) return undefined
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Resolves the waiting sends, or rejects them with `error`. */
  #wake(error: unknown): void {
    const waiters = this.#waiters
    if (waiters.length === 0) return
    this.#waiters = []
    for (const w of waiters) {
      if (error === undefined) w.resolve()
      else w.reject(error)
    }
  }

  close(code: number, reason: string): void {
    this.#stream.close({ closeCode: code, reason })
  }

  pause(): void {
    this.#paused = true
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    void this.#read()
  }

  fail(error: unknown): void {
    this.#wake(error)
  }

  /**
   * Reads while not paused. Once the stream has closed, what is left in the readable (bounded by
   * its own high-water mark) is read whatever the pause, so that no message before the close is
   * lost; the close is told after the last of them.
   */
  async #read(): Promise<void> {
    if (this.#reading || this.#readDone) return
    this.#reading = true
    try {
      while (!this.#paused || this.#close !== undefined) {
        const { done, value } = await this.#reader.read()
        if (done) {
          this.#readDone = true
          break
        }
        const message = typeof value === 'string'
          ? textMessage(value)
          : new Message('binary', value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer))
        this.#events!.message(message)
      }
    } catch {
      // The readable errored: the connection closed abnormally, and `closed` says how.
      this.#readDone = true
    } finally {
      this.#reading = false
    }
    this.#maybeEnd()
  }

  #closedWith(code: number, reason: string, wasClean: boolean): void {
    this.#close = { code, reason, wasClean }
    if (this.#readDone) this.#maybeEnd()
    else void this.#read()
  }

  #maybeEnd(): void {
    const close = this.#close
    if (close === undefined || !this.#readDone || this.#ended) return
    this.#ended = true
    this.#events!.close(close.code, close.reason, close.wasClean)
  }
}

/** Opens a `WebSocketStream` to `url`; resolves once it is open. */
export function openStream(WebSocketStream: PlatformWebSocketStreamConstructor, url: string, options: OpenOptions): Promise<StreamChannel> {
  let stream: PlatformWebSocketStream | undefined
  return opening<StreamChannel>(
    options,
    (opened, failed) => {
      try {
        stream = new WebSocketStream(url, { protocols: options.protocols })
      } catch (error) {
        failed(error)
        return
      }
      const s = stream
      s.closed.catch(noop)
      s.opened.then(
        (connection) => opened(new StreamChannel(s, connection, options.writeHighWaterMark)),
        (error: unknown) => {
          const e = error as { closeCode?: number; reason?: string } | undefined
          failed(openingFailed(url, e?.closeCode ?? 1006, e?.reason ?? ''))
        },
      )
    },
    () => {
      try {
        stream?.close()
      } catch {
        // already closed
      }
    },
  )
}
