/**
 * The lean load generator of the server-side benches, a process of its own (bench/driver.ts has
 * its line protocol). It does as little per message as a client can: plain node:net sockets, a
 * hand-written handshake, frames masked once before the run (one masking key per run), a fixed
 * window of messages in flight per connection, each whole echo frame answered by writing one more
 * pre-built frame (the echoes a chunk completes are answered with one write). The echoed stream is
 * checked, not trusted: every header byte, the first payloads byte for byte, and after the interval
 * every connection must have had every frame it sent echoed whole, or the job fails.
 *
 * Handshake jobs run `loops` loops at once, each: connect, upgrade request (its key one of 64 made
 * before the run, the request bytes too), the 101 (its Sec-WebSocket-Accept checked), a masked
 * close frame, the server's close frame, the socket's end. The loops run on socket callbacks, with
 * one watchdog timer for all: per handshake there is no promise nor timer, and no Nagle setting
 * (a setsockopt call). Written with promises and a timeout per handshake, this side had been the
 * limit (about 100 µs of CPU per handshake against the servers' 65-150); now it is about 80 µs, and
 * the wsflow and ws servers are saturated first (S in the table), the raw one not always.
 * @module
 */
import { connect, type Socket } from 'node:net'
import { JOB_SLACK_MS, serveJobs, sleep, type EchoJob, type HandshakeJob, type Interval, type JobResult } from './driver.ts'
import { CLOSE_FRAME, EchoChecker, handshake, maskedFrame, newKey, openSocket, payload, upgradeRequest, withTimeout } from './frames.ts'

const CHECK_PAYLOADS = 64 // echo payloads compared byte for byte, per connection
const OPEN_BATCH = 64 // connections opened at once
const BATCH_LIMIT = 1 << 20 // a window's frames are pre-built as one buffer up to this size

interface Connection {
  readonly socket: Socket
  readonly checker: EchoChecker
  sent: number
}

async function openConnection(port: number): Promise<Socket> {
  const socket = await openSocket(port)
  try {
    const rest = await withTimeout(handshake(socket, port), 10_000, 'a handshake')
    if (rest.length > 0) throw new Error('bench: bytes after the 101 before any message')
    return socket
  } catch (error) {
    socket.destroy()
    throw error
  }
}

async function echo(job: EchoJob, interval: Interval): Promise<JobResult> {
  const data = payload(job.size)
  const frame = maskedFrame(job.opcode, data)
  const batch = frame.length * job.window <= BATCH_LIMIT ? Buffer.concat(Array.from({ length: job.window }, () => frame)) : undefined
  const write = (socket: Socket, count: number): void => {
    if (batch !== undefined) socket.write(count === job.window ? batch : batch.subarray(0, count * frame.length))
    else for (let i = 0; i < count; i++) socket.write(frame)
  }
  const connections: Connection[] = []
  let sending = true
  let failure: Error | undefined
  let onDrained: (() => void) | undefined
  const inFlight = (): number => connections.reduce((sum, c) => sum + c.sent - c.checker.frames, 0)
  try {
    for (let opened = 0; opened < job.connections; opened += OPEN_BATCH) {
      const count = Math.min(OPEN_BATCH, job.connections - opened)
      const sockets = await Promise.all(Array.from({ length: count }, () => openConnection(job.port)))
      for (const socket of sockets) connections.push({ socket, checker: new EchoChecker(job.opcode, data, CHECK_PAYLOADS), sent: 0 })
    }
    for (const connection of connections) {
      const { socket, checker } = connection
      socket.on('data', (chunk: Buffer) => {
        let completed: number
        try {
          completed = checker.feed(chunk)
        } catch (error) {
          failure ??= error as Error
          onDrained?.()
          return
        }
        if (completed === 0) return
        if (sending) {
          connection.sent += completed
          write(socket, completed)
        } else if (checker.frames === connection.sent && inFlight() === 0) onDrained?.()
      })
      socket.on('close', () => {
        if (sending || checker.frames !== connection.sent) failure ??= new Error('bench: the server closed a connection during the run')
        onDrained?.()
      })
      connection.sent = job.window
      write(socket, job.window)
    }
    await sleep(job.warmupMs)
    const count = (): { frames: number; bytes: number } => connections.reduce((sum, c) => ({ frames: sum.frames + c.checker.frames, bytes: sum.bytes + c.checker.payloadBytes }), { frames: 0, bytes: 0 })
    const before = count()
    interval.start()
    await sleep(job.ms)
    const after = count()
    const { seconds, cpu } = interval.stop()
    sending = false
    if (inFlight() > 0 && failure === undefined) await withTimeout(new Promise<void>((resolve) => (onDrained = resolve)), JOB_SLACK_MS, 'waiting for the last echoes')
    if (failure !== undefined) throw failure
    for (const c of connections) if (c.checker.frames !== c.sent) throw new Error(`bench: ${c.checker.frames} frames echoed of ${c.sent} sent`)
    const messages = after.frames - before.frames
    if (messages <= 0) throw new Error('bench: no echo in the measured interval')
    return { messages, bytes: after.bytes - before.bytes, seconds, cpu }
  } finally {
    for (const { socket } of connections) {
      socket.end(CLOSE_FRAME)
      setTimeout(() => socket.destroy(), 1000).unref()
    }
  }
}

const HANDSHAKE_MS = 10_000 // bound on one handshake
const RESPONSE_LIMIT = 8192
const STATUS = Buffer.from('HTTP/1.1 101 ')
const HEAD_END = Buffer.from('\r\n\r\n')
const ACCEPT_NAME = 'sec-websocket-accept:'

/** A key with its request bytes and the accept value the 101 must carry, made before the run. */
interface PreparedKey {
  readonly request: Buffer
  readonly accept: string
}

/**
 * One loop of handshakes, one after the other, driven by socket callbacks: per handshake a socket
 * and its listeners (functions of the loop, made once), no promise nor timer. Each: connect,
 * upgrade request, the 101 (its Sec-WebSocket-Accept checked), a masked close frame, the server's
 * close frame (1000), the server's FIN, our FIN, the socket closed. No Nagle setting: every write
 * follows a read, with nothing of ours unacknowledged.
 */
class HandshakeLoop {
  readonly #port: number
  readonly #keys: readonly PreparedKey[]
  readonly #shouldGo: () => boolean
  readonly #done: (error: Error | undefined) => void
  #next = 0
  #socket: Socket | undefined = undefined
  #head: Buffer | undefined = undefined // the response head read so far; undefined once checked
  #reply: Buffer = Buffer.alloc(0) // what followed the head
  #key: PreparedKey | undefined = undefined
  #failed = false
  #ended = false
  /** When the handshake under way started (performance.now()), for the job's watchdog. */
  startedAt = 0
  /** Handshakes completed. */
  completed = 0

  constructor(port: number, keys: readonly PreparedKey[], shouldGo: () => boolean, done: (error: Error | undefined) => void) {
    this.#port = port
    this.#keys = keys
    this.#shouldGo = shouldGo
    this.#done = done
  }

  /** Starts the next handshake, or ends the loop. */
  start(): void {
    if (this.#failed) return
    if (!this.#shouldGo()) return this.#end(undefined)
    this.startedAt = performance.now()
    this.#key = this.#keys[this.#next++ % this.#keys.length]!
    this.#head = Buffer.alloc(0)
    this.#reply = Buffer.alloc(0)
    const socket = (this.#socket = connect(this.#port, '127.0.0.1'))
    socket.once('connect', this.#onConnect)
    socket.on('data', this.#onData)
    socket.once('error', this.#onError)
    socket.once('close', this.#onClose)
  }

  /** Fails the loop (the watchdog's call too). */
  fail(error: Error): void {
    if (this.#failed || this.#ended) return
    this.#failed = true
    this.#socket?.destroy()
    this.#end(error)
  }

  #end(error: Error | undefined): void {
    this.#ended = true
    this.startedAt = 0
    this.#done(error)
  }

  readonly #onConnect = (): void => {
    this.#socket!.write(this.#key!.request)
  }

  readonly #onError = (error: Error): void => this.fail(error)

  readonly #onData = (chunk: Buffer): void => {
    const head = this.#head
    if (head === undefined) {
      this.#reply = this.#reply.length === 0 ? chunk : Buffer.concat([this.#reply, chunk])
      return
    }
    const all = head.length === 0 ? chunk : Buffer.concat([head, chunk])
    const end = all.indexOf(HEAD_END)
    if (end < 0) {
      if (all.length > RESPONSE_LIMIT) this.fail(new Error('bench: handshake response too long'))
      else this.#head = all
      return
    }
    if (all.compare(STATUS, 0, STATUS.length, 0, STATUS.length) !== 0) {
      return this.fail(new Error(`bench: handshake refused: ${all.subarray(0, Math.min(end, 60)).toString('latin1')}`))
    }
    // The accept value, and that it is the Sec-WebSocket-Accept field's (name case-insensitive).
    const text = all.toString('latin1', 0, end + 2)
    const accept = this.#key!.accept
    const at = text.indexOf(accept)
    const line = text.lastIndexOf('\r\n', at) + 2
    const field = text.slice(line, at).toLowerCase().replace(/[ \t]+$/, '')
    if (at < 0 || field !== ACCEPT_NAME || text.charCodeAt(at + accept.length) !== 13) return this.fail(new Error('bench: bad Sec-WebSocket-Accept'))
    this.#head = undefined
    this.#reply = all.subarray(end + 4)
    this.#socket!.write(CLOSE_FRAME)
  }

  readonly #onClose = (): void => {
    if (this.#failed) return
    const reply = this.#reply
    this.#socket = undefined
    // The server's close frame: FIN + close, 2 bytes of payload, status 1000.
    if (this.#head !== undefined) return this.fail(new Error('bench: the connection closed during the handshake'))
    if (reply.length !== 4 || reply[0] !== 0x88 || reply[1] !== 0x02 || reply.readUInt16BE(2) !== 1000) {
      return this.fail(new Error(`bench: the server's close reply was ${reply.toString('hex').slice(0, 40)}`))
    }
    this.completed++
    this.start()
  }
}

async function handshakes(job: HandshakeJob, interval: Interval): Promise<JobResult> {
  let stop = false
  const deadline = performance.now() + job.warmupMs + job.ms + JOB_SLACK_MS
  // Made before the run (the servers cannot tell): 64 keys, their requests and accept values.
  const keys = Array.from({ length: 64 }, (): PreparedKey => {
    const { key, accept } = newKey()
    return { request: Buffer.from(upgradeRequest(job.port, key), 'latin1'), accept }
  })
  let counted = 0
  let before = 0
  const completed = (): number => loops.reduce((sum, loop) => sum + loop.completed, 0)
  let finished = 0
  let failure: Error | undefined
  let onAllDone: (() => void) | undefined
  const loops: HandshakeLoop[] = Array.from({ length: job.loops }, () => new HandshakeLoop(
    job.port,
    keys,
    () => !stop && completed() - before < job.max,
    (error) => {
      failure ??= error
      if (error !== undefined) stop = true
      if (++finished === job.loops) onAllDone?.()
    },
  ))
  const allDone = new Promise<void>((resolve) => (onAllDone = resolve))
  // One watchdog for every loop: a handshake over its bound, or the job over its own, fails it.
  const watchdog = setInterval(() => {
    const now = performance.now()
    for (const loop of loops) {
      if (now > deadline) loop.fail(new Error('bench: handshakes over time'))
      else if (loop.startedAt > 0 && now - loop.startedAt > HANDSHAKE_MS) loop.fail(new Error(`bench: one handshake took more than ${HANDSHAKE_MS} ms`))
    }
  }, 250)
  try {
    for (const loop of loops) loop.start()
    await Promise.race([sleep(job.warmupMs), allDone])
    before = completed()
    interval.start()
    await Promise.race([sleep(job.ms), allDone])
    counted = completed() - before
    const { seconds, cpu } = interval.stop()
    stop = true
    await allDone
    if (failure !== undefined) throw failure
    if (counted <= 0) throw new Error('bench: no handshake in the measured interval')
    return { messages: counted, bytes: 0, seconds, cpu }
  } finally {
    clearInterval(watchdog)
  }
}

serveJobs((job, interval) => (job.kind === 'echo' ? echo(job, interval) : handshakes(job, interval)))
