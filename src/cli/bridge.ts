/**
 * `wsflow bridge FROM TO`: WebSocket clients to a TCP service (`ws-listen:PORT tcp:HOST:PORT`,
 * what websockify does for noVNC) and TCP clients to a WebSocket server
 * (`tcp-listen:PORT ws://…`), binary both ways, with backpressure and half-close mapped.
 * @module
 */
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect, type WebSocket } from '../index.ts'
import { bridge } from '../bridge/bridge.ts'
import { boolFlag, ExitCode, listFlag, parseCount, parseFlags, parseHostPort, stringFlag, UsageError, type Flags, type OptionsConfig } from './args.ts'
import { connectOptionsFrom } from './connect.ts'
import { LISTEN_HELP, LISTEN_OPTIONS, listen, untilSignal } from './listen.ts'
import { describeClose, describeError, warn } from './report.ts'

/** The help of `wsflow bridge`. */
export const BRIDGE_HELP = `Usage: wsflow bridge [options] FROM TO

  wsflow bridge ws-listen:[HOST:]PORT tcp:HOST:PORT   WebSocket clients to a TCP service
  wsflow bridge tcp-listen:[HOST:]PORT ws://URL       TCP clients to a WebSocket server

Each connection gets its own peer; bytes go both ways as binary messages, with backpressure
both ways. A TCP FIN closes the WebSocket with 1000 and a WebSocket close ends the TCP side
(FIN); a TCP error closes with 1011, and a WebSocket that ends abnormally resets the TCP side.

Options for ws-listen:
${LISTEN_HELP}
Options for tcp-listen (the WebSocket client):
  -H, --header "Name: value"   extra request header (repeatable)
  -s, --subprotocol NAME       subprotocol to offer (repeatable)
      --origin URL             Origin header
      --no-compress            do not offer permessage-deflate
      --connect-timeout DURATION  time allowed to connect and hand-shake (default 10s)
      --ca FILE, --cert FILE, --key FILE, -k/--insecure, --proxy URL   as for connect
      --max-connections N      most TCP clients at once (default 10000)
  -v, --verbose                a line on stderr per connection
  -h, --help                   this help

The bridge runs until SIGINT or SIGTERM, then closes every connection and exits 0.
`

const OPTIONS: OptionsConfig = {
  ...LISTEN_OPTIONS,
  header: { type: 'string', short: 'H', multiple: true },
  'no-compress': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  proxy: { type: 'string' },
}

/** Splits `scheme:rest` into its parts. */
function endpoint(text: string): { scheme: string; rest: string } {
  const colon = text.indexOf(':')
  return colon < 0 ? { scheme: text, rest: '' } : { scheme: text.slice(0, colon), rest: text.slice(colon + 1) }
}

/** Connects to a TCP target; resolves once connected (half-open allowed), rejects with the socket's error. */
function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, allowHalfOpen: true })
    socket.once('connect', () => {
      socket.off('error', reject)
      socket.setNoDelay(true)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** `ws-listen:` to `tcp:`: each WebSocket connection bridged to a new TCP connection to the target. */
async function wsToTcp(flags: Flags, listenSpec: string, target: string): Promise<number> {
  const { host, port } = parseHostPort(listenSpec, stringFlag(flags, 'host') ?? '127.0.0.1', 'ws-listen')
  const to = parseHostPort(target, '', 'tcp')
  if (to.host === '') throw new UsageError(`tcp:${target}: the target needs HOST:PORT`)
  const verbose = boolFlag(flags, 'verbose')
  const handler = async (ws: WebSocket): Promise<void> => {
    const who = `${ws.request?.remoteAddress ?? '?'}:${ws.request?.remotePort ?? '?'}`
    let socket: Socket
    try {
      socket = await connectTcp(to.host, to.port)
    } catch (error) {
      warn(`${who}: cannot reach ${to.host}:${to.port}: ${describeError(error)}`)
      await ws.close(1011, 'the TCP target is unreachable')
      return
    }
    if (verbose) warn(`open ${who} -> ${to.host}:${to.port}`)
    const result = await bridge(ws, socket)
    if (verbose) warn(`${who}: ${describeClose(result.close)}; ${result.bytesToStream} B to TCP, ${result.bytesToWebSocket} B from TCP${result.streamError ? `; TCP: ${describeError(result.streamError)}` : ''}`)
  }
  const onRaw = (stream: Duplex): void => {
    // --sniff: a raw TCP client on the same port goes straight to the target.
    stream.on('error', () => stream.destroy())
    connectTcp(to.host, to.port).then((socket) => {
      socket.on('error', () => stream.destroy())
      stream.once('close', () => socket.destroy())
      socket.once('close', () => stream.destroy())
      stream.pipe(socket)
      socket.pipe(stream)
    }, () => stream.destroy())
  }
  const listening = await listen({ ...flags, host }, port, handler, onRaw)
  warn(`listening on ${listening.url}, bridging to tcp:${to.host}:${to.port}`)
  await untilSignal()
  await listening.close()
  return ExitCode.OK
}

/** `tcp-listen:` to `ws://`: each TCP connection bridged to a new WebSocket connection. */
async function tcpToWs(flags: Flags, listenSpec: string, url: string): Promise<number> {
  const { host, port } = parseHostPort(listenSpec, stringFlag(flags, 'host') ?? '127.0.0.1', 'tcp-listen')
  try {
    new URL(url)
  } catch {
    throw new UsageError(`"${url}" is not a URL (e.g. ws://127.0.0.1:8080/path)`)
  }
  const origins = listFlag(flags, 'origin')
  const options = connectOptionsFrom({ ...flags, origin: origins[0] })
  const maxConnectionsText = stringFlag(flags, 'max-connections')
  const maxConnections = maxConnectionsText === undefined ? 10_000 : parseCount(maxConnectionsText, 'max-connections')
  const verbose = boolFlag(flags, 'verbose')
  const sockets = new Set<Socket>()
  const server = createNetServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    if (sockets.size >= maxConnections) return void socket.destroy()
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => undefined) // reported by the bridge
    socket.setNoDelay(true)
    const who = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    connect(url, options).then(async (ws) => {
      if (verbose) warn(`open ${who} -> ${url}`)
      const result = await bridge(ws, socket)
      if (verbose) warn(`${who}: ${describeClose(result.close)}; ${result.bytesToWebSocket} B to WebSocket, ${result.bytesToStream} B from WebSocket`)
    }, (error: unknown) => {
      warn(`${who}: ${url}: ${describeError(error)}`)
      socket.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const listening = typeof address === 'object' && address !== null ? address.port : port
  warn(`listening on tcp:${host.includes(':') ? `[${host}]` : host}:${listening}, bridging to ${url}`)
  await untilSignal()
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  for (const socket of sockets) socket.end()
  const deadline = setTimeout(() => {
    for (const socket of sockets) socket.destroy()
  }, 2000)
  await closed
  clearTimeout(deadline)
  return ExitCode.OK
}

/** Runs `wsflow bridge`; resolves with the exit code once stopped by a signal. */
export async function runBridge(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, OPTIONS)
  if (boolFlag(flags, 'help')) {
    process.stdout.write(BRIDGE_HELP)
    return ExitCode.OK
  }
  if (positionals.length !== 2) throw new UsageError('bridge needs FROM and TO (e.g. ws-listen:8080 tcp:127.0.0.1:5900)')
  const from = endpoint(positionals[0]!)
  const to = endpoint(positionals[1]!)
  if (from.scheme === 'ws-listen' && to.scheme === 'tcp') return wsToTcp(flags, from.rest, to.rest)
  if (from.scheme === 'tcp-listen' && ['ws', 'wss', 'ws+unix', 'wss+unix'].includes(to.scheme)) return tcpToWs(flags, from.rest, positionals[1]!)
  throw new UsageError(`cannot bridge ${positionals[0]!} to ${positionals[1]!} (ws-listen:PORT tcp:HOST:PORT, or tcp-listen:PORT ws://URL)`)
}
