/**
 * The incoming side of a connection: messages wait here for the application, which takes them
 * with `for await`, `recv()` or `streams()`. Its water marks are the read half of backpressure:
 * when the application does not keep up, the transport stops being read and TCP pushes back on
 * the peer. Nothing is ever dropped: a message is delivered, or the connection's end says why not.
 * @module
 */
import { AbortError, ConnectionClosedError, TimeoutError } from '../core/errors.ts'
import { Message, type MessageType } from '../core/message.ts'
import { Fifo } from '../internal/fifo.ts'
import { MessageStream, type MessageStreamController } from './message-stream.ts'

/** What the inbox asks of its connection (one object whose methods are shared, not closures). */
export interface InboxControl {
  /** Stop reading the transport. */
  pause(): void
  /** Read the transport again. */
  resume(): void
  /** A reader waits on an empty inbox: the application has handled everything delivered. */
  drained(): void
  /** The water marks (read through the control: one field less per inbox, bench/memory.ts). */
  readonly settings: InboxLimits
}

/** The water marks of an inbox: counts and bytes. */
export interface InboxLimits {
  readonly highWaterMark: number
  readonly highWaterMarkBytes: number
}

/** Options of `recv()`. */
export interface RecvOptions {
  /** Stops waiting when aborted: the promise rejects with an {@link AbortError}. */
  signal?: AbortSignal | undefined
  /** Stops waiting after this many milliseconds: the promise rejects with a {@link TimeoutError}. */
  timeout?: number | undefined
}

type Item = Message | MessageStream

interface Waiter {
  resolve(result: IteratorResult<Item, undefined>): void
  reject(error: unknown): void
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true })

/**
 * What an inbox needs only at times, made on first use: more than one reader waiting, the end,
 * and streaming mode's state (the stream being received, the one the reader holds, those queued).
 * An idle connection holds one field for all of it (bench/memory.ts, idle heap).
 */
class Rare {
  waiters: Fifo<Waiter> | undefined = undefined
  end: { error: Error | undefined; errorSeen: boolean } | undefined = undefined
  inbound: MessageStreamController | undefined = undefined
  taken: MessageStreamController | undefined = undefined
  controllers: Map<MessageStream, MessageStreamController> | undefined = undefined
}

// Read by inboxes that have made no record of their own (frozen: writing to it is a bug).
const NO_RARE: Rare = Object.freeze(new Rare())

// Booleans as bits of one field.
const PAUSED = 1
const EVER_READ = 2

/**
 * The queue of messages between the protocol and the application. It is a {@link Fifo} of them
 * itself, not an owner of one: one object less per connection (bench/memory.ts).
 */
export class Inbox extends Fifo<Item> {
  readonly #control: InboxControl
  #bytes = 0
  // Compressed messages being inflated: they count against the water marks like queued ones.
  #pending = 0
  // The first reader waiting, in a field of its own: the common single pending read holds no queue.
  #waiter: Waiter | undefined = undefined
  #flags = 0
  #rare: Rare = NO_RARE

  /** An empty inbox. */
  constructor(control: InboxControl) {
    super()
    this.#control = control
  }

  #own(): Rare {
    return this.#rare === NO_RARE ? (this.#rare = new Rare()) : this.#rare
  }

  get #paused(): boolean {
    return (this.#flags & PAUSED) !== 0
  }

  /** Whether reading is paused for backpressure. */
  get paused(): boolean {
    return this.#paused
  }

  /** Whether nothing is queued nor being inflated. */
  get empty(): boolean {
    return this.length === 0 && this.#pending === 0
  }

  /** Whether a reader waits for the next message now. */
  get waiting(): boolean {
    return this.#waiter !== undefined
  }

  /** Whether the application ever asked for a message. */
  get everRead(): boolean {
    return (this.#flags & EVER_READ) !== 0
  }

  /** Hands a message to the waiting reader, or queues it. */
  override push(item: Item): void {
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = this.#rare.waiters?.shift()
      if (item instanceof MessageStream) this.#take(item)
      waiter.resolve({ value: item, done: false })
      return
    }
    super.push(item)
    if (!(item instanceof MessageStream)) this.#bytes += item.data.length
  }

  /**
   * A socket chunk is about to be read: pauses reading when the inbox is still over its
   * high-water mark (bench: server.ts, 1 conn 64 B: pausing and resuming per chunk costs two
   * syscalls and a third of the rate; a reader that keeps up empties the queue before the next
   * chunk, so the socket is never paused). The chunk in hand is still read, so the queue passes
   * the mark by one socket read at most.
   */
  beforeChunk(): void {
    if (!this.#paused && this.length > 0 && this.#overHighWaterMark()) this.#pause()
  }

  /** One more (`+1`) or one fewer (`-1`) message being inflated; many in flight pause reading. */
  hold(delta: number): void {
    this.#pending += delta
    if (delta > 0 && !this.#paused && this.#pending > this.#control.settings.highWaterMark) this.#pause()
    else if (delta < 0) this.#maybeResume()
  }

  /** Streaming mode: a data frame's payload goes to its message's stream as it arrives. */
  pushFragment(type: MessageType, payload: Uint8Array, first: boolean, fin: boolean): void {
    if (first) {
      const { stream, controller } = MessageStream.create(type, (bytes) => this.#consumed(bytes))
      const streams = this.#own()
      ;(streams.controllers ??= new Map()).set(stream, controller)
      streams.inbound = controller
      this.push(stream)
    }
    const streams = this.#rare
    const inbound = streams.inbound!
    if (payload.length > 0) {
      this.#bytes += payload.length
      inbound.push(payload)
      if (!this.#paused && this.#bytes >= this.#control.settings.highWaterMarkBytes) this.#pause()
    }
    if (fin) {
      inbound.end()
      streams.inbound = undefined
    }
  }

  /** Takes the next item, or waits for it (in order with the other readers). */
  next(): Promise<IteratorResult<Item, undefined>> {
    this.#flags |= EVER_READ
    const ready = this.#shift()
    if (ready !== undefined) return Promise.resolve(ready)
    const end = this.#rare.end
    if (end !== undefined) {
      // The end's error is given once; after it, reading is done.
      if (end.error === undefined || end.errorSeen) return Promise.resolve(DONE)
      end.errorSeen = true
      return Promise.reject(end.error)
    }
    return new Promise((resolve, reject) => {
      this.#addWaiter({ resolve, reject })
      this.#control.drained()
    })
  }

  /**
   * Reads one message (a clean close rejects too, with a {@link ConnectionClosedError} whose
   * `wasClean` is true: there is no message to give). `signal` and `timeout` stop the wait
   * without losing a message: one that arrives later stays queued for the next read.
   */
  async recv(options: RecvOptions = {}, closed: () => ConnectionClosedError): Promise<Item> {
    const { signal, timeout } = options
    if (signal?.aborted === true) throw new AbortError(signal.reason)
    this.#flags |= EVER_READ
    const ready = this.#shift()
    if (ready !== undefined) return ready.value as Item
    const end = this.#rare.end
    if (end !== undefined) {
      if (end.error !== undefined) throw end.error
      throw closed()
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      const result = await new Promise<IteratorResult<Item, undefined>>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject }
        this.#addWaiter(waiter)
        if (signal !== undefined) {
          onAbort = () => {
            this.#removeWaiter(waiter)
            reject(new AbortError(signal.reason))
          }
          signal.addEventListener('abort', onAbort, { once: true })
        }
        if (timeout !== undefined && timeout !== Infinity) {
          timer = setTimeout(() => {
            this.#removeWaiter(waiter)
            reject(new TimeoutError(`no message within ${timeout} ms`, timeout))
          }, timeout)
        }
        this.#control.drained()
      })
      if (result.done === true) throw closed()
      return result.value
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Asking for the next message drops what is left of the stream taken before. */
  abandonTaken(): void {
    const streams = this.#rare
    if (streams.taken !== undefined) {
      streams.taken.abandon()
      streams.taken = undefined
    }
  }

  /**
   * The connection is over: readers get what is queued, then the end (`error`, or done). A
   * stream still being received fails with `streamError()`, made only then (an error captures a
   * stack: made on every close, it cost some 17 µs per connection in bench/ab.ts's handshakes row).
   */
  end(error: Error | undefined, streamError: () => Error): void {
    if (this.#rare.end !== undefined) return
    const waiting = this.#waiter !== undefined
    const rare = this.#own()
    rare.end = { error, errorSeen: waiting && error !== undefined }
    if (rare.inbound !== undefined) {
      rare.inbound.fail(error ?? streamError())
      rare.inbound = undefined
    }
    const waiters = this.#waiter === undefined ? [] : [this.#waiter, ...(rare.waiters?.drain() ?? [])]
    this.#waiter = undefined
    for (const w of waiters) {
      if (error === undefined) w.resolve(DONE)
      else w.reject(error)
    }
    if (this.length === 0) rare.taken?.abandon()
  }

  #addWaiter(waiter: Waiter): void {
    if (this.#waiter === undefined) this.#waiter = waiter
    else (this.#own().waiters ??= new Fifo()).push(waiter)
  }

  #removeWaiter(waiter: Waiter): void {
    if (this.#waiter === waiter) this.#waiter = this.#rare.waiters?.shift()
    else this.#rare.waiters?.remove(waiter)
  }

  #shift(): IteratorResult<Item, undefined> | undefined {
    const item = this.shift()
    if (item === undefined) {
      if (this.#rare.end !== undefined) this.#rare.taken?.abandon()
      return undefined
    }
    if (item instanceof MessageStream) this.#take(item)
    else this.#consumed(item.data.length)
    return { value: item, done: false }
  }

  /** The reader moves on to `stream`: what is left of the one it had is dropped. */
  #take(stream: MessageStream): void {
    const streams = this.#rare
    streams.taken?.abandon()
    streams.taken = streams.controllers!.get(stream)
    streams.controllers!.delete(stream)
  }

  /** Bytes the reader took (or dropped) from the inbox; reading resumes below the low-water mark. */
  #consumed(bytes: number): void {
    this.#bytes -= bytes
    this.#maybeResume()
  }

  #overHighWaterMark(): boolean {
    const limits = this.#control.settings
    return this.length >= limits.highWaterMark || this.#bytes >= limits.highWaterMarkBytes
  }

  #pause(): void {
    this.#flags |= PAUSED
    this.#control.pause()
  }

  #maybeResume(): void {
    if (!this.#paused) return
    const limits = this.#control.settings
    const half = limits.highWaterMark >> 1
    if (this.length <= half && this.#pending <= half && this.#bytes <= limits.highWaterMarkBytes >> 1) {
      this.#flags &= ~PAUSED
      this.#control.resume()
    }
  }
}

/** One reader of an inbox: a small object, where an async generator holds a frame of closures. */
class MessageIterator<T> implements AsyncIterator<T, undefined>, AsyncIterable<T> {
  readonly #inbox: Inbox
  readonly #map: ((item: Item) => T | Promise<T>) | undefined
  #done = false

  constructor(inbox: Inbox, map: ((item: Item) => T | Promise<T>) | undefined) {
    this.#inbox = inbox
    this.#map = map
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#done) return Promise.resolve(DONE)
    const inbox = this.#inbox
    // Asking for the next message drops what is left of the stream taken before.
    inbox.abandonTaken()
    const map = this.#map
    // The common loop: the promise handed out is the one the inbox settles (no chain).
    if (map === undefined) return inbox.next() as Promise<IteratorResult<T, undefined>>
    return inbox.next().then(
      (result) => {
        if (result.done === true) {
          this.#done = true
          return DONE
        }
        const value = map(result.value)
        return value instanceof Promise ? value.then((v) => ({ value: v, done: false as const })) : { value, done: false as const }
      },
      (error: unknown) => {
        this.#done = true
        throw error
      },
    )
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#done = true
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/**
 * An iterator over the inbox's items, mapped by `map` when given (streaming mode collects each
 * stream). Leaving it early (`return`) loses nothing: the next reader goes on where it stopped.
 */
export function iterate<T>(inbox: Inbox, map: ((item: Item) => T | Promise<T>) | undefined): AsyncIterator<T, undefined> & AsyncIterable<T> {
  return new MessageIterator<T>(inbox, map)
}
