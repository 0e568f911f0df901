/**
 * The listening side shared by `wsflow serve` and `wsflow bridge ws-listen:`: the flags, and the
 * server they describe (standalone, with `--static` files, or one port for raw TCP too).
 * @module
 */
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { serve, type ConnectionHandler, type Server, type ServerOptions } from '../index.ts'
import { serveOnePort, type RawHandler } from '../server/sniff.ts'
import { boolFlag, durationFlag, fileFlag, listFlag, parseCount, sizeFlag, stringFlag, UsageError, type Flags, type OptionsConfig } from './args.ts'
import { staticFiles } from './static.ts'

/** Flags of every listening command. */
export const LISTEN_OPTIONS: OptionsConfig = {
  host: { type: 'string' },
  path: { type: 'string', multiple: true },
  cert: { type: 'string' },
  key: { type: 'string' },
  compress: { type: 'boolean' },
  subprotocol: { type: 'string', short: 's', multiple: true },
  origin: { type: 'string', multiple: true },
  'max-message-size': { type: 'string' },
  'max-connections': { type: 'string' },
  'stall-timeout': { type: 'string' },
  static: { type: 'string' },
  sniff: { type: 'boolean' },
  'first-bytes-timeout': { type: 'string' },
  silent: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
}

/** The help lines of {@link LISTEN_OPTIONS}. */
export const LISTEN_HELP = `      --host ADDRESS           address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
      --path PATH              accept WebSocket upgrades on this path only (repeatable)
      --cert FILE, --key FILE  TLS certificate and key (PEM): wss:// (and https:// for --static)
      --compress               accept permessage-deflate offers
  -s, --subprotocol NAME       subprotocol spoken, in order of preference (repeatable)
      --origin ORIGIN          allowed Origin (repeatable; others get 403)
      --max-message-size SIZE  largest message accepted (default 64MiB)
      --max-connections N      most open connections (default 10000; more get 503)
      --stall-timeout DURATION close connections silent this long (pings at half of it)
      --static DIR             serve the files in DIR over plain HTTP on the same port
      --sniff                  one port for raw TCP too: the first bytes decide (TLS, HTTP, raw)
      --first-bytes-timeout DURATION  with --sniff: wait for a client's first bytes (default 1s)
      --silent raw|close       with --sniff: what a client silent that long gets (default raw)
  -v, --verbose                a line on stderr per connection
`

/** A server listening as the flags say. */
export interface Listening {
  /** The WebSocket URL (ws:// or wss://) of the first path. */
  readonly url: string
  /** The wsflow server. */
  readonly webSocketServer: Server
  /** Stops listening and closes every connection (1001). */
  close(): Promise<void>
}

/** The wsflow server options that the flags ask for. */
export function serverOptionsFrom(flags: Flags): ServerOptions {
  const options: ServerOptions = {}
  const paths = listFlag(flags, 'path')
  if (paths.length > 0) options.path = paths
  if (boolFlag(flags, 'compress')) options.perMessageDeflate = true
  const protocols = listFlag(flags, 'subprotocol')
  if (protocols.length > 0) options.protocols = protocols
  const origins = listFlag(flags, 'origin')
  if (origins.length > 0) options.origins = origins
  const maxMessageSize = sizeFlag(flags, 'max-message-size')
  if (maxMessageSize !== undefined) options.maxMessageSize = maxMessageSize
  const maxConnections = stringFlag(flags, 'max-connections')
  if (maxConnections !== undefined) options.maxConnections = parseCount(maxConnections, 'max-connections')
  const stallTimeout = durationFlag(flags, 'stall-timeout')
  if (stallTimeout !== undefined) options.stallTimeout = stallTimeout
  return options
}

/**
 * Starts the server the flags describe on `port`: `handler` gets the WebSocket connections and,
 * with `--sniff`, `onRaw` the raw TCP ones.
 */
export async function listen(flags: Flags, port: number, handler: ConnectionHandler, onRaw?: (stream: Duplex) => void): Promise<Listening> {
  const host = stringFlag(flags, 'host') ?? '127.0.0.1'
  const key = fileFlag(flags, 'key')
  const cert = fileFlag(flags, 'cert')
  if ((key === undefined) !== (cert === undefined)) throw new UsageError('--cert and --key go together')
  const options = serverOptionsFrom(flags)
  const staticDir = stringFlag(flags, 'static')
  const onRequest = staticDir === undefined ? undefined : staticFiles(staticDir)
  const scheme = key !== undefined ? 'wss' : 'ws'
  const path = (Array.isArray(options.path) ? options.path[0] : options.path) ?? ''
  const urlOf = (address: string, listening: number): string => `${scheme}://${address.includes(':') ? `[${address}]` : address}:${listening}${path}`
  const silent = stringFlag(flags, 'silent') ?? 'raw'
  if (silent !== 'raw' && silent !== 'close') throw new UsageError(`--silent: "${silent}" is not raw or close`)

  if (boolFlag(flags, 'sniff')) {
    const raw: RawHandler | undefined = onRaw === undefined ? undefined : (stream) => onRaw(stream)
    const server = await serveOnePort({
      ...options, port, host, key, cert, onRequest, onRaw: raw,
      firstBytesTimeout: durationFlag(flags, 'first-bytes-timeout'), onSilence: silent,
    }, handler)
    return { url: urlOf(host, server.port), webSocketServer: server.webSocketServer, close: () => server.close({ timeout: 2000 }) }
  }
  if (onRequest !== undefined) {
    const http = key !== undefined ? createHttpsServer({ key, cert }, onRequest) : createHttpServer(onRequest)
    const { port: _port, host: _host, ...attached } = options as typeof options & { port?: unknown; host?: unknown }
    const server = await serve({ ...attached, server: http }, handler)
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(port, host, () => resolve())
    })
    const address = http.address()
    const listening = typeof address === 'object' && address !== null ? address.port : port
    return {
      url: urlOf(host, listening),
      webSocketServer: server,
      close: async () => {
        await server.close({ timeout: 2000 })
        http.closeAllConnections()
        await new Promise<void>((resolve) => http.close(() => resolve()))
      },
    }
  }
  const server = await serve({ ...options, port, host, key, cert }, handler)
  return { url: urlOf(host, server.port), webSocketServer: server, close: () => server.close({ timeout: 2000 }) }
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
