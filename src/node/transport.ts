/**
 * The byte transport of a connection over a Node.js socket (TCP, TLS or Unix), with writes issued
 * in the same tick coalesced into one socket write.
 * @module
 */
import type { Socket } from 'node:net'
import type { Transport, TransportHandlers } from '../connection.ts'

/** Socket high-water mark above which `write` asks the caller to wait for drain, in bytes. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024

/**
 * Adapts a `net.Socket` (or `tls.TLSSocket`) to the connection's {@link Transport}: writes are
 * queued and flushed once per tick (`process.nextTick`), so the many small frames a `for await`
 * loop sends while handling one socket chunk go out as one write.
 */
export class SocketTransport implements Transport {
  readonly #socket: Socket
  readonly #highWaterMark: number
  #pending: Uint8Array[] = []
  #pendingBytes = 0
  // Small frames are written straight into this batch buffer ([#batchStart, #batchEnd) not yet
  // queued), so that a tick's frames go out as one chunk with no per-frame allocation. It is
  // dropped after each flush: an idle connection holds no buffer.
  #batch: Buffer | undefined = undefined
  #batchStart = 0
  #batchEnd = 0
  #lastFlush = 0
  #scheduled = false
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = []
  #closed = false
  #closeError: unknown = undefined

  /** Wraps `socket`; `highWaterMark` is in bytes. */
  constructor(socket: Socket, highWaterMark = DEFAULT_WRITE_HIGH_WATER_MARK) {
    this.#socket = socket
    this.#highWaterMark = highWaterMark
    socket.setNoDelay(true)
  }

  /** The socket underneath. */
  get socket(): Socket {
    return this.#socket
  }

  /** Bytes queued here and in the socket, not yet handed to the kernel, in bytes. */
  get bufferedAmount(): number {
    return this.#pendingBytes + this.#socket.writableLength
  }

  /** Starts delivering socket events to `handlers`. */
  attach(handlers: TransportHandlers): void {
    const socket = this.#socket
    socket.on('data', handlers.onData)
    socket.on('end', handlers.onEnd)
    socket.on('error', (error: unknown) => {
      this.#closeError ??= error
    })
    socket.on('drain', () => this.#onDrain())
    socket.once('close', () => {
      this.#closed = true
      this.#scheduled = false
      this.#pending = []
      this.#pendingBytes = 0
      this.#batch = undefined
      const waiters = this.#drainWaiters
      this.#drainWaiters = []
      for (const w of waiters) w.reject(this.#closeError ?? new Error('the socket closed'))
      handlers.onClose(this.#closeError)
    })
  }

  /** The buffer that {@link SocketTransport.reserve} offsets point into (valid until the next reserve). */
  get buffer(): Uint8Array {
    return this.#batch!
  }

  /**
   * Reserves `length` bytes in this tick's batch buffer and returns their offset in
   * {@link SocketTransport.buffer}; the caller fills them at once. They go out with the tick's write.
   */
  reserve(length: number): number {
    let batch = this.#batch
    if (batch === undefined || batch.length - this.#batchEnd < length) {
      this.#cutBatch()
      // Sized like the last tick's writes (bench/memory.ts: a fixed 4 KB batch per tick cost idle
      // connections 8 KiB of rss each); Buffer.allocUnsafe below 4 KiB slices Node's shared pool.
      const size = batch === undefined ? Math.min(Math.max(this.#lastFlush, 256), 64 * 1024) : Math.min(batch.length * 2, 256 * 1024)
      batch = this.#batch = Buffer.allocUnsafe(Math.max(length, size))
      this.#batchStart = this.#batchEnd = 0
    }
    const offset = this.#batchEnd
    this.#batchEnd += length
    this.#pendingBytes += length
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(this.#flush)
    }
    return offset
  }

  /** Whether the caller may go on writing without waiting for drain. */
  get writable(): boolean {
    return !this.#closed && this.bufferedAmount < this.#highWaterMark
  }

  /** Moves the filled part of the batch buffer into the pending list (keeping the order of writes). */
  #cutBatch(): void {
    if (this.#batchEnd > this.#batchStart) {
      this.#pending.push(this.#batch!.subarray(this.#batchStart, this.#batchEnd))
      this.#batchStart = this.#batchEnd
    }
  }

  /** Queues chunks for this tick's write; returns false when the caller should wait for drain. */
  write(chunks: readonly Uint8Array[]): boolean {
    if (this.#closed) return false
    this.#cutBatch()
    for (const chunk of chunks) {
      this.#pending.push(chunk)
      this.#pendingBytes += chunk.length
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(this.#flush)
    }
    return this.bufferedAmount < this.#highWaterMark
  }

  /** Resolves when buffered data has fallen below the high-water mark; rejects if the socket closes first. */
  whenDrained(): Promise<void> {
    if (this.bufferedAmount < this.#highWaterMark) return Promise.resolve()
    if (this.#closed) return Promise.reject(this.#closeError ?? new Error('the socket closed'))
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }))
  }

  /** Stops reading from the socket (TCP then pushes back on the peer). */
  pause(): void {
    this.#socket.pause()
  }

  /** Resumes reading from the socket. */
  resume(): void {
    this.#socket.resume()
  }

  /** Flushes what is queued, then half-closes the socket (sends FIN). */
  end(): void {
    this.#flush()
    if (!this.#socket.destroyed) this.#socket.end()
  }

  /** Closes the socket at once, dropping anything unsent. */
  destroy(): void {
    this.#socket.destroy()
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    this.#cutBatch()
    this.#batch = undefined
    const pending = this.#pending
    if (pending.length === 0 || this.#closed || this.#socket.destroyed) return
    const bytes = this.#pendingBytes
    this.#pending = []
    this.#pendingBytes = 0
    const socket = this.#socket
    this.#lastFlush = bytes
    if (pending.length === 1) {
      socket.write(pending[0]!)
    } else {
      // Small frames already share one batch chunk; what remains are large payloads, written
      // as they are, corked into one writev.
      socket.cork()
      for (const chunk of pending) socket.write(chunk)
      socket.uncork()
    }
    if (this.bufferedAmount < this.#highWaterMark) this.#onDrain()
  }

  #onDrain(): void {
    if (this.#drainWaiters.length === 0 || this.bufferedAmount >= this.#highWaterMark) return
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const w of waiters) w.resolve()
  }
}
