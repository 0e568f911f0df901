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
 * before the run), the 101 (its Sec-WebSocket-Accept checked), a masked close frame, the server's
 * close frame, the socket's end. On loopback the client's connect() does much of the kernel's work
 * of both sides, so this load generator is near its core's limit here whatever the server.
 * @module
 */
import type { Socket } from 'node:net'
import { JOB_SLACK_MS, serveJobs, sleep, type EchoJob, type HandshakeJob, type Interval, type JobResult } from './driver.ts'
import { CLOSE_FRAME, EchoChecker, handshake, maskedFrame, newKey, openSocket, payload, withTimeout, type HandshakeKey } from './frames.ts'

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

/** One opening and closing handshake; resolves once the socket has closed cleanly. */
async function oneHandshake(port: number, key: HandshakeKey): Promise<void> {
  const socket = await openSocket(port)
  try {
    const rest = await handshake(socket, port, key)
    const closed = new Promise<void>((resolve, reject) => {
      let reply = rest
      socket.on('data', (chunk: Buffer) => (reply = Buffer.concat([reply, chunk])))
      socket.once('error', reject)
      socket.once('close', () => {
        // The server's close frame: FIN + close, 2 bytes of payload, status 1000.
        if (reply.length === 4 && reply[0] === 0x88 && reply[1] === 0x02 && reply.readUInt16BE(2) === 1000) resolve()
        else reject(new Error(`bench: the server's close reply was ${reply.toString('hex').slice(0, 40)}`))
      })
    })
    socket.write(CLOSE_FRAME)
    await closed
  } finally {
    socket.destroy()
  }
}

async function handshakes(job: HandshakeJob, interval: Interval): Promise<JobResult> {
  let measuring = false
  let stop = false
  let counted = 0
  const deadline = performance.now() + job.warmupMs + job.ms + JOB_SLACK_MS
  const keys = Array.from({ length: 64 }, newKey) // made before the run: the servers cannot tell
  let next = 0
  const loop = async (): Promise<void> => {
    while (!stop && counted < job.max) {
      if (performance.now() > deadline) throw new Error('bench: handshakes over time')
      await withTimeout(oneHandshake(job.port, keys[next++ & 63]!), 10_000, 'one handshake')
      if (measuring) counted++
    }
  }
  const loops = Array.from({ length: job.loops }, loop)
  const all = Promise.all(loops)
  all.catch(() => undefined) // awaited below
  await Promise.race([sleep(job.warmupMs), all])
  measuring = true
  interval.start()
  await Promise.race([sleep(job.ms), all])
  const messages = counted
  const { seconds, cpu } = interval.stop()
  stop = true
  await all
  if (messages <= 0) throw new Error('bench: no handshake in the measured interval')
  return { messages, bytes: 0, seconds, cpu }
}

serveJobs((job, interval) => (job.kind === 'echo' ? echo(job, interval) : handshakes(job, interval)))
