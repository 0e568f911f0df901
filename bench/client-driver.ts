/**
 * The client side's contenders, each in a process of its own (bench/driver.ts has the line
 * protocol): `wsflow` (its `connect`, written the way users write a client: a loop over the
 * messages that answers each echo with `await ws.send(...)`) or `ws` (`new WebSocket(url)` from
 * ws, with bufferutil and utf-8-validate when installed, answering in its 'message' listener).
 * Echo jobs only, on one connection: the window is filled first, then each echo received sends one
 * more message; after the interval the last echoes are awaited and every message must have come
 * back, the right type and size (the first ones compared byte for byte), or the job fails.
 *
 * wsflow is imported from the module given after its name (bench/baseline.ts passes another
 * revision's src/index.ts, a copy outside the repository), from ../src/index.ts without one.
 *
 * Usage: node --import tsx bench/client-driver.ts wsflow [<index.ts>]|ws
 * @module
 */
import { pathToFileURL } from 'node:url'
import type { RawData, WebSocket as WsWebSocket } from 'ws'
import { JOB_SLACK_MS, serveJobs, sleep, type EchoJob, type Interval, type JobResult } from './driver.ts'
import { payload, withTimeout } from './frames.ts'

const CHECK_PAYLOADS = 64

/** Counts and checks the echoes of one run; `received` is called with each echo's bytes. */
class Tally {
  readonly #data: Buffer
  readonly #binary: boolean
  received = 0
  sent = 0
  sending = true
  #drained: (() => void) | undefined
  failure: Error | undefined

  constructor(data: Buffer, binary: boolean) {
    this.#data = data
    this.#binary = binary
  }

  /** Checks one echo; returns whether to answer it with another message. */
  echo(bytes: Uint8Array, binary: boolean): boolean {
    if (binary !== this.#binary || bytes.length !== this.#data.length) this.fail(new Error(`bench: echo ${this.received}: ${binary ? 'binary' : 'text'}, ${bytes.length} B`))
    else if (this.received < CHECK_PAYLOADS && !this.#data.equals(bytes)) this.fail(new Error(`bench: echo ${this.received}: payload differs`))
    this.received++
    if (this.sending && this.failure === undefined) {
      this.sent++
      return true
    }
    if (this.received === this.sent) this.#drained?.()
    return false
  }

  fail(error: Error): void {
    this.failure ??= error
    this.#drained?.()
  }

  /** After the interval: waits (bounded) for the messages still in flight; throws on any failure. */
  async drain(): Promise<void> {
    this.sending = false
    if (this.received < this.sent && this.failure === undefined) await withTimeout(new Promise<void>((resolve) => (this.#drained = resolve)), JOB_SLACK_MS, 'waiting for the last echoes')
    if (this.failure !== undefined) throw this.failure
    if (this.received !== this.sent) throw new Error(`bench: ${this.received} echoes of ${this.sent} messages`)
  }
}

/** Runs the warm-up and the interval over a tally whose echoes a client is answering. */
async function measure(job: EchoJob, tally: Tally, interval: Interval): Promise<JobResult> {
  await sleep(job.warmupMs)
  const before = tally.received
  interval.start()
  await sleep(job.ms)
  const messages = tally.received - before
  const { seconds, cpu } = interval.stop()
  await tally.drain()
  if (messages <= 0) throw new Error('bench: no echo in the measured interval')
  return { messages, bytes: messages * job.size, seconds, cpu }
}

type Connect = typeof import('../src/index.ts').connect

async function wsflow(connect: Connect, job: EchoJob, interval: Interval): Promise<JobResult> {
  const data = payload(job.size)
  const message = job.opcode === 0x1 ? data.toString('latin1') : data
  const tally = new Tally(data, job.opcode === 0x2)
  const ws = await connect(`ws://127.0.0.1:${job.port}/`)
  try {
    const reading = (async () => {
      for await (const m of ws) {
        if (tally.echo(m.data, m.type === 'binary')) await ws.send(message)
        else if (tally.received === tally.sent) break
      }
    })()
    reading.catch((error: unknown) => tally.fail(error as Error))
    for (let i = 0; i < job.window; i++) {
      tally.sent++
      await ws.send(message)
    }
    return await measure(job, tally, interval)
  } finally {
    await withTimeout(ws.close(), 5000, 'closing').catch(() => undefined)
  }
}

async function ws(job: EchoJob, interval: Interval): Promise<JobResult> {
  const data = payload(job.size)
  const message = job.opcode === 0x1 ? data.toString('latin1') : data
  const tally = new Tally(data, job.opcode === 0x2)
  const socket = new WsClient!(`ws://127.0.0.1:${job.port}/`)
  try {
    await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 10_000, 'connecting')
    socket.on('error', (error) => tally.fail(error))
    socket.on('message', (echo: RawData, isBinary: boolean) => {
      if (tally.echo(echo as Buffer, isBinary)) socket.send(message)
    })
    for (let i = 0; i < job.window; i++) {
      tally.sent++
      socket.send(message)
    }
    return await measure(job, tally, interval)
  } finally {
    socket.terminate()
  }
}

const impl = process.argv[2]
if (impl !== 'wsflow' && impl !== 'ws') throw new Error(`unknown client ${impl}`)
const module = process.argv[3]
// Each client's library only in its own process (bench/ab.ts: under tsx, ws loaded beside wsflow
// doubled wsflow's major GCs at 1 MiB).
const connect = impl === 'wsflow' ? ((await import(module === undefined ? '../src/index.ts' : pathToFileURL(module).href)) as typeof import('../src/index.ts')).connect : undefined
const WsClient: typeof WsWebSocket | undefined = impl === 'ws' ? (await import('ws')).WebSocket : undefined
serveJobs((job, interval) => {
  if (job.kind !== 'echo') throw new Error('bench: the client driver runs echo jobs only')
  return connect !== undefined ? wsflow(connect, job, interval) : ws(job, interval)
})
