/**
 * The byte transport of a connection over a Node.js socket (TCP, TLS or Unix), with writes issued
 * in the same tick coalesced into one socket write.
 * @module
 */
import type { Socket } from 'node:net'
import type { Transport, TransportHandlers } from '../core/transport.ts'

const EMPTY: Uint8Array[] = []
const TRANSPORT = Symbol('wsflow.transport')

/** A socket with its transport attached (how the shared listeners find it). */
interface TransportSocket extends Socket {
  [TRANSPORT]: SocketTransport
}

type Listener = (this: TransportSocket) => void
let onSocketData: (this: TransportSocket, chunk: Uint8Array) => void
let onSocketEnd: Listener
let onSocketError: (this: TransportSocket, error: unknown) => void
let onSocketDrain: Listener
let onSocketClose: Listener
let flushTransport: (transport: SocketTransport) => void

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
  #handlers: TransportHandlers | undefined = undefined
  // An idle connection holds no array: the shared empty one until a tick queues chunks.
  #pending: Uint8Array[] = EMPTY
  #pendingBytes = 0
  // Small frames are written straight into this batch buffer ([#batchStart, #batchEnd) not yet
  // queued), so that a tick's frames go out as one chunk with no per-frame allocation. It is
  // dropped after each flush: an idle connection holds no buffer.
  #batch: Buffer | undefined = undefined
  #batchStart = 0
  #batchEnd = 0
  // Bytes reserved in batch buffers this tick, and in the last tick that wrote (the next batch's size).
  #reserved = 0
  #lastReserved = 0
  #scheduled = false
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] | undefined = undefined
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

  /**
   * Starts delivering socket events to `handlers` (called as its methods). The socket's listeners
   * are functions shared by every transport, which find theirs through the socket: an idle
   * connection holds no closure for them (bench/memory.ts).
   */
  attach(handlers: TransportHandlers): void {
    const socket = this.#socket as TransportSocket
    this.#handlers = handlers
    socket[TRANSPORT] = this
    socket.on('data', onSocketData)
    socket.on('end', onSocketEnd)
    socket.on('error', onSocketError)
    socket.on('drain', onSocketDrain)
    socket.on('close', onSocketClose)
  }

  // The socket's listeners and the tick's flush: functions shared by every transport (they reach
  // its private state from inside the class body).
  static {
    onSocketData = function (this: TransportSocket, chunk: Uint8Array): void {
      this[TRANSPORT].#handlers!.onData(chunk)
    }
    onSocketEnd = function (this: TransportSocket): void {
      this[TRANSPORT].#handlers!.onEnd()
    }
    onSocketError = function (this: TransportSocket, error: unknown): void {
      this[TRANSPORT].#closeError ??= error // a 'close' follows
    }
    onSocketDrain = function (this: TransportSocket): void {
      this[TRANSPORT].#onDrain()
    }
    onSocketClose = function (this: TransportSocket): void {
      this[TRANSPORT].#onClose()
    }
    flushTransport = (transport: SocketTransport): void => transport.#flush()
  }

  #onClose(): void {
    if (this.#closed) return
    this.#closed = true
    this.#scheduled = false
    this.#pending = EMPTY
    this.#pendingBytes = 0
    this.#batch = undefined
    const waiters = this.#drainWaiters
    this.#drainWaiters = undefined
    const error = this.#closeError
    if (waiters !== undefined) for (const w of waiters) w.reject(error ?? new Error('the socket closed'))
    this.#handlers?.onClose(error)
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
      // Sized like the last tick's frames written here, not counting large payloads that go out as
      // they are (bench/memory.ts: a fixed 4 KB batch per tick cost idle connections 8 KiB of rss
      // each; bench/server.ts, 64 KiB echo: a 64 KiB batch per tick for a 10-byte header cost a
      // fifth of the rate). Buffer.allocUnsafe below 4 KiB slices Node's shared pool.
      const size = batch === undefined ? Math.min(Math.max(this.#lastReserved, 256), 64 * 1024) : Math.min(batch.length * 2, 256 * 1024)
      batch = this.#batch = Buffer.allocUnsafe(Math.max(length, size))
      this.#batchStart = this.#batchEnd = 0
    }
    const offset = this.#batchEnd
    this.#batchEnd += length
    this.#pendingBytes += length
    this.#reserved += length
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(flushTransport, this)
    }
    return offset
  }

  /** Whether the caller may go on writing without waiting for drain. */
  get writable(): boolean {
    return !this.#closed && this.bufferedAmount < this.#highWaterMark
  }

  #queue(chunk: Uint8Array): void {
    if (this.#pending === EMPTY) this.#pending = [chunk]
    else this.#pending.push(chunk)
  }

  /** Moves the filled part of the batch buffer into the pending list (keeping the order of writes). */
  #cutBatch(): void {
    if (this.#batchEnd > this.#batchStart) {
      this.#queue(this.#batch!.subarray(this.#batchStart, this.#batchEnd))
      this.#batchStart = this.#batchEnd
    }
  }

  /** Queues chunks for this tick's write; returns false when the caller should wait for drain. */
  write(chunks: readonly Uint8Array[]): boolean {
    if (this.#closed) return false
    this.#cutBatch()
    for (const chunk of chunks) {
      this.#queue(chunk)
      this.#pendingBytes += chunk.length
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(flushTransport, this)
    }
    return this.bufferedAmount < this.#highWaterMark
  }

  /** Resolves when buffered data has fallen below the high-water mark; rejects if the socket closes first. */
  whenDrained(): Promise<void> {
    if (this.bufferedAmount < this.#highWaterMark) return Promise.resolve()
    if (this.#closed) return Promise.reject(this.#closeError ?? new Error('the socket closed'))
    return new Promise((resolve, reject) => (this.#drainWaiters ??= []).push({ resolve, reject }))
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
    // Once only: a second end() costs Node an error object with its stack (a tenth of a handshake's CPU).
    if (!this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.end()
  }

  /** Closes the socket at once, dropping anything unsent. */
  destroy(): void {
    this.#socket.destroy()
  }

  #flush(): void {
    this.#scheduled = false
    this.#cutBatch()
    this.#batch = undefined
    const pending = this.#pending
    if (pending.length === 0 || this.#closed || this.#socket.destroyed) return
    this.#pending = EMPTY
    this.#pendingBytes = 0
    const socket = this.#socket
    this.#lastReserved = this.#reserved
    this.#reserved = 0
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
    const waiters = this.#drainWaiters
    if (waiters === undefined || this.bufferedAmount >= this.#highWaterMark) return
    this.#drainWaiters = undefined
    for (const w of waiters) w.resolve()
  }
}
