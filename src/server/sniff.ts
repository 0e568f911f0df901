/**
 * One port for raw TCP, WebSocket and HTTP, optionally under TLS: a `net.Server` reads the first
 * bytes of each connection (`first-bytes.ts` decides), unwraps TLS when it sees a ClientHello,
 * then hands HTTP (upgrades included) to an `http.Server` that a wsflow {@link Server} is attached
 * to, and anything else to a raw handler with the bytes already read given back first.
 * @module
 */
import { createHttpServer, createNetServer, createSecureContext, Duplex, PassThrough, TLSSocket, type AddressInfo, type HttpServer, type IncomingMessage, type NetServer, type SecureContext, type SecureContextOptions, type ServerResponse, type Socket, type TlsOptions } from '../node/platform.ts'
import { Server, type ConnectionHandler, type ServerCloseOptions, type ServerOptions } from './server.ts'
import { classifyFirstBytes, FirstBytesKind } from './first-bytes.ts'

/** What the raw handler learns about a connection. */
export interface RawConnectionInfo {
  /** Whether it came through TLS (unwrapped here). */
  secure: boolean
  /** Whether the client said nothing within `firstBytesTimeout` (a protocol where the server speaks first). */
  silent: boolean
  /** The client's address. */
  remoteAddress: string | undefined
  /** The client's port. */
  remotePort: number | undefined
}

/** Handles a raw connection: `stream` yields the bytes already read first, then the rest. It is paused: `pipe` or `resume()` starts it. */
export type RawHandler = (stream: Duplex, info: RawConnectionInfo) => void

/** Options of {@link serveOnePort}: the WebSocket server's options plus the sniffing. Sizes in bytes, durations in ms. */
export interface OnePortOptions extends Omit<ServerOptions, 'server' | 'noServer' | 'socketPath' | 'key' | 'cert' | 'tls'> {
  /** TLS key (PEM): with `cert`, connections that start with a TLS ClientHello are unwrapped, then sniffed again. */
  key?: SecureContextOptions['key'] | undefined
  /** TLS certificate chain (PEM), with `key`. */
  cert?: SecureContextOptions['cert'] | undefined
  /** More TLS options (ca, passphrase, requestCert...). */
  tls?: TlsOptions | undefined
  /** Only TLS connections are accepted (when a certificate is given); others are closed. Default false. */
  requireTls?: boolean | undefined
  /** Plain HTTP requests (not upgrades). Default: 426, as a standalone wsflow server answers. */
  onRequest?: ((request: IncomingMessage, response: ServerResponse) => void) | undefined
  /** Raw (non-HTTP) connections. Without it they are closed. */
  onRaw?: RawHandler | undefined
  /** How long to wait for a client's first bytes before deciding without them (default 1000 ms). */
  firstBytesTimeout?: number | undefined
  /**
   * What a client that said nothing within `firstBytesTimeout` gets: 'raw' (the raw handler; for
   * protocols where the server speaks first) or 'close'. Default: 'raw' when `onRaw` is given.
   */
  onSilence?: 'raw' | 'close' | undefined
  /** Most bytes read to find the end of an HTTP request line (default 8192; see `classifyFirstBytes`). */
  maxSniffBytes?: number | undefined
}

const DEFAULT_FIRST_BYTES_TIMEOUT = 1000
const DEFAULT_HANDSHAKE_TIMEOUT = 10_000

function upgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  // RFC 9110 §15.5.22: 426 with Upgrade, as a standalone wsflow server answers plain HTTP.
  response.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'close' })
  response.end('this is a WebSocket server: upgrade required\n')
}

/** A stream that yields `bytes` and then ends, and writes to `socket`: a socket whose FIN came before the decision. */
function replay(bytes: Uint8Array, socket: Duplex): Duplex {
  const readable = new PassThrough()
  readable.end(bytes)
  return Duplex.from({ readable, writable: socket })
}

/**
 * A server that speaks raw TCP, HTTP and WebSocket (each optionally under TLS) on one port. The
 * first bytes of each connection decide: a TLS ClientHello is unwrapped and the decision is made
 * again on what it carries; an HTTP/1.x request line goes to {@link OnePortServer.httpServer}
 * (upgrades to the wsflow server attached to it, {@link OnePortServer.webSocketServer}); anything
 * else goes to `onRaw`, with the bytes already read given back first. A client silent for
 * `firstBytesTimeout` ms is handed to `onRaw` or closed, as `onSilence` says.
 */
export class OnePortServer {
  /** The listening TCP server. */
  readonly netServer: NetServer
  /** The HTTP server that the sniffed HTTP connections are handed to (it does not listen itself). */
  readonly httpServer: HttpServer
  /** The wsflow server attached to {@link OnePortServer.httpServer}. */
  readonly webSocketServer: Server
  readonly #options: OnePortOptions
  readonly #secureContext: SecureContext | undefined
  readonly #sockets = new Set<Duplex>()

  /** Creates the server; {@link serveOnePort} also starts listening. */
  constructor(options: OnePortOptions = {}, handler?: ConnectionHandler) {
    this.#options = options
    const tls = options.tls
    const key = options.key ?? tls?.key
    const cert = options.cert ?? tls?.cert
    this.#secureContext = key !== undefined || tls !== undefined ? createSecureContext({ ...tls, key, cert }) : undefined
    const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT
    this.httpServer = createHttpServer({ maxHeaderSize: options.maxHeaderSize ?? 16 * 1024, headersTimeout: timeout, requestTimeout: timeout }, options.onRequest ?? upgradeRequired)
    this.httpServer.on('clientError', (_error: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy())
      else socket.destroy()
    })
    const { key: _key, cert: _cert, tls: _tls, onRequest: _r, onRaw: _raw, port: _port, host: _host, ...webSocketOptions } = options as OnePortOptions & { port?: unknown; host?: unknown }
    this.webSocketServer = new Server({ ...webSocketOptions, server: this.httpServer }, handler)
    this.netServer = createNetServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.#accept(socket))
  }

  /** The address listened on. */
  get address(): AddressInfo | string | null {
    return this.netServer.address()
  }

  /** The port listened on (useful with `port: 0`). */
  get port(): number {
    const address = this.address
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  /** Starts listening on `port` and `host`; resolves once listening. */
  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.netServer.once('error', reject)
      this.netServer.listen(this.#options.port ?? 0, this.#options.host, () => {
        this.netServer.off('error', reject)
        resolve(this)
      })
    })
  }

  /**
   * Stops accepting, closes every WebSocket (1001 by default, see {@link Server.close}), then
   * destroys the raw and HTTP connections still open.
   */
  async close(options: ServerCloseOptions = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()))
    await this.webSocketServer.close(options)
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.destroy()) // before the hand-off, errors concern this socket only
    this.#sniff(socket, false, socket)
  }

  /** Reads first bytes from `stream` until they decide, then routes it. */
  #sniff(stream: Socket | TLSSocket, secure: boolean, tcp: Socket): void {
    const options = this.#options
    const chunks: Buffer[] = []
    let timer: ReturnType<typeof setTimeout> | undefined
    const bytes = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    const stop = (): void => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.pause()
    }
    const decide = (final: boolean, ended: boolean): void => {
      const head = bytes()
      const kind = classifyFirstBytes(head, { tls: !secure && this.#secureContext !== undefined, maxBytes: options.maxSniffBytes, final })
      if (kind === undefined) return
      stop()
      if (head.length === 0) {
        // Silent (or a FIN without a byte).
        if (ended || (options.onSilence ?? (options.onRaw !== undefined ? 'raw' : 'close')) === 'close') return void stream.destroy()
        return this.#raw(stream, secure, true, tcp)
      }
      if (ended) {
        // The FIN came before the decision: the bytes cannot be put back into the stream.
        return kind === FirstBytesKind.RAW ? this.#raw(replay(head, stream), secure, false, tcp) : void stream.destroy()
      }
      stream.unshift(head)
      if (kind === FirstBytesKind.TLS) return this.#unwrap(stream as Socket, tcp)
      if (this.#secureContext !== undefined && options.requireTls === true && !secure) return void stream.destroy()
      if (kind === FirstBytesKind.HTTP) {
        this.httpServer.emit('connection', stream)
        stream.resume() // paused while sniffing: its 'data' listener alone would not restart it
        return
      }
      this.#raw(stream, secure, false, tcp)
    }
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      decide(false, false)
    }
    const onEnd = (): void => decide(true, true)
    stream.on('data', onData)
    stream.on('end', onEnd)
    timer = setTimeout(() => decide(true, false), options.firstBytesTimeout ?? DEFAULT_FIRST_BYTES_TIMEOUT)
  }

  /** Runs the TLS handshake over `socket` (its ClientHello given back), then sniffs what TLS carries. */
  #unwrap(socket: Socket, tcp: Socket): void {
    const secure = new TLSSocket(socket, { isServer: true, secureContext: this.#secureContext!, ALPNProtocols: ['http/1.1'] })
    const timer = setTimeout(() => secure.destroy(), this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT)
    secure.on('error', () => secure.destroy())
    secure.once('close', () => clearTimeout(timer))
    secure.once('secure', () => {
      clearTimeout(timer)
      this.#sockets.add(secure)
      secure.once('close', () => this.#sockets.delete(secure))
      this.#sniff(secure, true, tcp)
    })
  }

  #raw(stream: Duplex, secure: boolean, silent: boolean, tcp: Socket): void {
    const onRaw = this.#options.onRaw
    if (onRaw === undefined) return void stream.destroy()
    if (stream !== tcp) {
      this.#sockets.add(stream)
      stream.once('close', () => this.#sockets.delete(stream))
    }
    try {
      onRaw(stream, { secure, silent, remoteAddress: tcp.remoteAddress, remotePort: tcp.remotePort })
    } catch (error) {
      stream.destroy()
      this.#options.onError?.(error, undefined)
    }
  }
}

/**
 * Starts a one-port server (raw TCP, HTTP and WebSocket, optionally under TLS) and resolves once
 * it is listening; `handler` handles the WebSocket connections as with `serve`.
 *
 * ```ts
 * const server = await serveOnePort({
 *   port: 8080,
 *   onRaw: (stream) => stream.pipe(stream),             // raw TCP: echo
 *   onRequest: (request, response) => response.end('hello'),
 * }, async (ws) => { for await (const m of ws) await ws.send(m) })
 * ```
 * @category Streams and bridges
 */
export function serveOnePort(options: OnePortOptions = {}, handler?: ConnectionHandler): Promise<OnePortServer> {
  return new OnePortServer(options, handler).listen()
}
