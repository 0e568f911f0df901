/**
 * `wsflow connect URL`: a client for piping (stdin lines or bytes out, messages to stdout) and,
 * on a terminal, an interactive line mode; with pings, a single exchange (`--execute`,
 * `--once`) and reconnection with backoff.
 * @module
 */
import { createInterface } from 'node:readline'
import type { ConnectOptions, Message, Outgoing, WebSocket } from '../index.ts'
// From their modules, not the package root: `connect` needs no server code (start-up time).
import { connect } from '../client/connect.ts'
import { HandshakeError } from '../core/errors.ts'
import {
  boolFlag, durationFlag, ExitCode, fileFlag, listFlag, parseCount, parseFlags, sizeFlag, stringFlag, UsageError, type Flags, type OptionsConfig,
} from './args.ts'
import { startPings } from './pings.ts'
import { describeClose, describeError, exitCodeOf, isCleanClose, warn } from './report.ts'

/** The help of `wsflow connect`. */
export const CONNECT_HELP = `Usage: wsflow connect [options] URL

Connects to a WebSocket server (ws://, wss://, ws+unix:). On a terminal: an interactive line mode
(> sent, < received, /help for commands). Otherwise stdin is piped: each line is sent as a text
message and each message printed as a line (--binary: raw bytes both ways). stdin is read only
once connected; at its end the connection is closed (1000) and the peer's close awaited.

Options:
  -H, --header "Name: value"   extra request header (repeatable)
  -s, --subprotocol NAME       subprotocol to offer (repeatable)
      --origin URL             Origin header
  -b, --binary                 raw bytes both ways instead of lines of text
  -x, --execute MSG            send MSG once connected, print the first reply, close
  -w, --wait DURATION          after stdin's end (or --execute), go on printing messages this
                               long before closing (e.g. 2s; with -x, every reply in that time)
      --once                   exit after the first message received
      --ping-interval DURATION send a ping every DURATION (e.g. 10s)
      --print-ping-rtts        print each ping's round trip on stderr
      --stall-timeout DURATION fail when the server is silent this long (pings at half of it)
      --no-compress            do not offer permessage-deflate
      --max-message-size SIZE  largest message accepted (default 64MiB; e.g. 1MiB)
      --connect-timeout DURATION  time allowed to connect and hand-shake (default 10s)
      --close-timeout DURATION time to wait for the peer's close (default 5s)
      --ca FILE                trusted CA certificate (PEM) for wss://
      --cert FILE, --key FILE  client certificate and key (PEM)
  -k, --insecure               do not verify the server's certificate
      --proxy URL              HTTP proxy to tunnel through (CONNECT)
      --reconnect              reconnect with backoff when the connection ends or fails
      --max-reconnects N       give up after N reconnections in a row (default: never)
  -q, --quiet                  no status lines on stderr
  -h, --help                   this help

Durations take a unit (500ms, 30s, 2m; a bare number is milliseconds); sizes too (65536, 64KiB, 1MiB).
Exit status: 0 after a clean close, 1 on a connection or protocol failure, 2 on bad usage.
`

const OPTIONS: OptionsConfig = {
  header: { type: 'string', short: 'H', multiple: true },
  subprotocol: { type: 'string', short: 's', multiple: true },
  origin: { type: 'string' },
  binary: { type: 'boolean', short: 'b' },
  execute: { type: 'string', short: 'x' },
  once: { type: 'boolean' },
  wait: { type: 'string', short: 'w' },
  'ping-interval': { type: 'string' },
  'print-ping-rtts': { type: 'boolean' },
  'stall-timeout': { type: 'string' },
  'no-compress': { type: 'boolean' },
  'max-message-size': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'close-timeout': { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  proxy: { type: 'string' },
  reconnect: { type: 'boolean' },
  'max-reconnects': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
}

/** Parses `-H "Name: value"` into a header record. */
function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const value of values) {
    const colon = value.indexOf(':')
    if (colon <= 0) throw new UsageError(`--header: "${value}" is not "Name: value"`)
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim()
  }
  return headers
}

/** The `connect` options that the flags ask for. */
export function connectOptionsFrom(flags: Flags): ConnectOptions {
  const options: ConnectOptions = { headers: parseHeaders(listFlag(flags, 'header')), protocols: listFlag(flags, 'subprotocol') }
  const origin = stringFlag(flags, 'origin')
  if (origin !== undefined) options.origin = origin
  const stallTimeout = durationFlag(flags, 'stall-timeout')
  if (stallTimeout !== undefined) options.stallTimeout = stallTimeout
  if (boolFlag(flags, 'no-compress')) options.perMessageDeflate = false
  const maxMessageSize = sizeFlag(flags, 'max-message-size')
  if (maxMessageSize !== undefined) options.maxMessageSize = maxMessageSize
  const handshakeTimeout = durationFlag(flags, 'connect-timeout')
  if (handshakeTimeout !== undefined) options.handshakeTimeout = handshakeTimeout
  const closeTimeout = durationFlag(flags, 'close-timeout')
  if (closeTimeout !== undefined) options.closeTimeout = closeTimeout
  const ca = fileFlag(flags, 'ca')
  if (ca !== undefined) options.ca = ca
  const cert = fileFlag(flags, 'cert')
  if (cert !== undefined) options.cert = cert
  const key = fileFlag(flags, 'key')
  if (key !== undefined) options.key = key
  if (boolFlag(flags, 'insecure')) options.rejectUnauthorized = false
  const proxy = stringFlag(flags, 'proxy')
  if (proxy !== undefined) options.proxy = proxy
  return options
}

/** Checks the URL before connecting: a bad one is a usage mistake (exit 2). */
function checkUrl(text: string): void {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`"${text}" is not a URL (e.g. ws://127.0.0.1:8080/path)`)
  }
  if (!['ws:', 'wss:', 'ws+unix:', 'wss+unix:', 'http:', 'https:'].includes(url.protocol)) {
    throw new UsageError(`unsupported URL scheme ${url.protocol} (ws:, wss: or ws+unix:)`)
  }
}

/**
 * What stdin holds for the connection: the item taken is kept until it has been sent, so that a
 * line read while a connection died goes out on the next one.
 */
class Input {
  readonly #iterator: AsyncIterator<Outgoing>
  #pending: Promise<IteratorResult<Outgoing>> | undefined = undefined

  constructor(binary: boolean) {
    if (binary) {
      const chunks = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>
      this.#iterator = chunks
    } else {
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
      this.#iterator = lines[Symbol.asyncIterator]()
    }
  }

  /** The next item (the same one until {@link Input.consume}). */
  peek(): Promise<IteratorResult<Outgoing>> {
    return (this.#pending ??= this.#iterator.next())
  }

  /** Marks the item from {@link Input.peek} as sent. */
  consume(): void {
    this.#pending = undefined
  }
}

/** Writes to stdout, resolving once it can take more (backpressure on the message loop). */
function writeOut(data: Uint8Array | string): Promise<void> | undefined {
  if (process.stdout.write(data)) return undefined
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done)
      process.stdout.off('close', done)
      resolve()
    }
    process.stdout.on('drain', done)
    process.stdout.on('close', done)
  })
}

/** Prints one message on stdout: a line in line mode, its bytes with `--binary`. */
async function printMessage(message: Message, binary: boolean): Promise<void> {
  if (binary) return writeOut(message.data)
  await writeOut(message.data)
  return writeOut('\n')
}

/** How one connection ended. */
interface SessionEnd {
  /** This side closed it (stdin's end, --once, --execute, a signal). */
  closedByUs: boolean
  /** The exit code it means. */
  exitCode: number
}

/** Runs one connection in pipe mode until it is over. */
async function pipeSession(ws: WebSocket, flags: Flags, input: Input | undefined, stop: AbortSignal): Promise<SessionEnd> {
  const binary = boolFlag(flags, 'binary')
  const wait = durationFlag(flags, 'wait')
  const execute = stringFlag(flags, 'execute')
  const once = boolFlag(flags, 'once') || (execute !== undefined && wait === undefined)
  let closedByUs = false
  const closeNormally = (): void => {
    closedByUs = true
    ws.close(1000).catch(() => undefined)
  }
  // After the input's end (or --execute), --wait keeps the connection open that long.
  let lingering: ReturnType<typeof setTimeout> | undefined
  const closeAfterWait = (): void => {
    if (wait === undefined || wait === 0) return closeNormally()
    lingering = setTimeout(closeNormally, wait)
  }
  const onStop = (): void => closeNormally()
  stop.addEventListener('abort', onStop, { once: true })
  const pingInterval = durationFlag(flags, 'ping-interval')
  const quiet = boolFlag(flags, 'quiet')
  const stopPings = pingInterval === undefined || pingInterval === 0 ? () => undefined : startPings(
    ws, pingInterval,
    (rtt) => boolFlag(flags, 'print-ping-rtts') && warn(`pong: ${rtt.toFixed(2)} ms`),
    (error) => quiet || warn(`ping failed: ${describeError(error)}`),
  )
  let failure: unknown
  const receiving = (async () => {
    try {
      for await (const message of ws) {
        await printMessage(message, binary)
        if (once) {
          closeNormally()
          break
        }
      }
    } catch (error) {
      failure = error
    }
  })()
  if (execute !== undefined) {
    ws.send(execute).catch(() => undefined)
    if (!once) closeAfterWait()
  }
  else if (input !== undefined) {
    void (async () => {
      for (;;) {
        const item = await input.peek()
        if (ws.readyState !== 'open') return // this connection is over: the item waits for the next
        if (item.done === true) return closeAfterWait()
        try {
          await ws.send(item.value)
        } catch {
          return
        }
        input.consume()
      }
    })()
  }
  const close = await ws.closed
  await receiving
  clearTimeout(lingering)
  stopPings()
  stop.removeEventListener('abort', onStop)
  const clean = isCleanClose(close, closedByUs ? 1000 : undefined)
  if (!quiet || !clean) warn(failure !== undefined && !clean ? describeError(failure) : describeClose(close))
  return { closedByUs, exitCode: clean ? ExitCode.OK : ExitCode.FAILURE }
}

/** Backoff before reconnection attempt `n` (0-based): 100 ms doubling up to 10 s, with ±20% jitter. */
export function backoff(n: number): number {
  const base = Math.min(10_000, 100 * 2 ** Math.min(n, 10))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

/** Runs `wsflow connect`; resolves with the exit code. */
export async function runConnect(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, OPTIONS)
  if (boolFlag(flags, 'help')) {
    process.stdout.write(CONNECT_HELP)
    return ExitCode.OK
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'connect needs a URL' : `unexpected argument ${positionals[1]!}`)
  const url = positionals[0]!
  checkUrl(url)
  const options = connectOptionsFrom(flags)
  const reconnect = boolFlag(flags, 'reconnect')
  const maxReconnectsText = stringFlag(flags, 'max-reconnects')
  const maxReconnects = maxReconnectsText === undefined ? Infinity : parseCount(maxReconnectsText, 'max-reconnects')
  const quiet = boolFlag(flags, 'quiet')
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true && !boolFlag(flags, 'binary') && stringFlag(flags, 'execute') === undefined

  const stopper = new AbortController()
  const onSignal = (): void => stopper.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let input: Input | undefined
  let attempts = 0
  for (;;) {
    let ws: WebSocket
    try {
      ws = await connect(url, { ...options, signal: stopper.signal })
    } catch (error) {
      if (stopper.signal.aborted) return ExitCode.OK
      warn(describeError(error))
      // A refusal in 4xx (a wrong path, credentials) will not change by retrying.
      const permanent = error instanceof HandshakeError && error.status >= 400 && error.status < 500
      if (!reconnect || permanent || attempts >= maxReconnects) return exitCodeOf(error)
      const delay = backoff(attempts++)
      if (!quiet) warn(`reconnecting in ${delay} ms`)
      await new Promise((resolve) => setTimeout(resolve, delay))
      continue
    }
    attempts = 0
    if (!quiet && !tty) warn(`connected to ${url}${ws.protocol ? ` (subprotocol ${ws.protocol})` : ''}${ws.extensions.length > 0 ? ` (${ws.extensions.map((e) => e.name).join(', ')})` : ''}`)
    let end: SessionEnd
    if (tty) {
      end = await (await import('./interactive.ts')).interactive(ws, url, flags)
    } else {
      // stdin is read only once connected (and never with --execute).
      if (input === undefined && stringFlag(flags, 'execute') === undefined) input = new Input(boolFlag(flags, 'binary'))
      end = await pipeSession(ws, flags, input, stopper.signal)
    }
    if (!reconnect || end.closedByUs || stopper.signal.aborted || attempts >= maxReconnects) return end.exitCode
    const delay = backoff(attempts++)
    if (!quiet) warn(`reconnecting in ${delay} ms`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}
