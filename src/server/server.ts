/**
 * The server: HTTP upgrade, TLS, routing, origin and verify hooks, subprotocols, limits, and a
 * shutdown that says goodbye (1001) to every client. Standalone, attached to an existing
 * `http`/`https` server, or `noServer` for frameworks (`handleUpgrade`).
 * @module
 */
import { createHttpServer, createHttpsServer, type AddressInfo, type Duplex, type HttpServer, type HttpsServer, type IncomingMessage, type SecureContextOptions, type ServerResponse, type Socket, type TlsOptions } from '../node/platform.ts'
import { WebSocket, type ConnectionInit, type ConnectionObserver } from '../connection/websocket.ts'
import type { ConnectionOptions } from '../connection/options.ts'
import type { CloseInfo, RequestInfo } from '../connection/types.ts'
import { CloseCode, ConnectionClosedError, HandshakeError, InvalidArgumentError, StallError, isWebSocketError } from '../core/errors.ts'
import { CONNECTION_OPTION_RULES, validateOptions, type OptionRules } from '../core/validate.ts'
import { prepareMessage } from '../core/prepared.ts'
import type { Outgoing } from '../core/message.ts'
import { computeAccept } from '../core/handshake/accept.ts'
import { buildErrorResponse, buildResponse, selectSubprotocol, validateRequest, type HandshakeRequest } from '../core/handshake/server.ts'
import { nodeSha1 } from '../node/crypto.ts'
import { toRequestHead, toRequestInfo } from '../node/request.ts'
import { SocketTransport } from '../node/transport.ts'
import { allocateUninitialized } from '../node/allocate.ts'
import { sharedWheel, WheelTimer } from '../internal/timer-wheel.ts'
import { PerMessageDeflate, type PerMessageDeflateConfig } from '../node/deflate.ts'
import { negotiate } from '../core/deflate/params.ts'
import { formatExtensions, type ExtensionOffer } from '../core/handshake/extensions.ts'
import { PubSub, type PubSubOptions, type PublishOptions } from '../pubsub/hub.ts'

/** A refusal from a {@link ServerOptions.verify} hook: the HTTP status, headers and message to answer with. */
export interface VerifyRefusal {
  /** The HTTP status (default 401). */
  status?: number | undefined
  /** Headers to send with it, e.g. `www-authenticate`. */
  headers?: Record<string, string> | undefined
  /** The plain-text body (default: the status's meaning). */
  message?: string | undefined
}

/**
 * What a `verify` hook may hand on when it accepts: `data` becomes the connection's `ws.data`
 * (the user it authenticated, say), and `headers` go on the 101 response (a session cookie).
 * @category Connections
 */
export interface HandshakeContext {
  /** Becomes `ws.data` (undefined by default). */
  data: unknown
  /** Headers to add to the 101 response, e.g. `{ 'set-cookie': 'sid=...; HttpOnly' }`. */
  headers: Record<string, string>
}

/**
 * Handles one connection, for as long as it runs: when it returns (or its promise settles) the
 * connection is closed with 1000 if still open; when it throws, with 1011, and the error goes to
 * `onError`, never into the server or the process. So a handler that must outlive its loop awaits
 * what it waits for, and cleans up in `finally`, which runs however the connection ends.
 *
 * ```ts
 * serve({ port: 8080 }, async (ws) => {
 *   const room = rooms.join(ws)
 *   try {
 *     for await (const message of ws) room.say(message.text())
 *   } finally {
 *     room.leave(ws) // after a clean close, an abnormal one, or a throw
 *   }
 * })
 * ```
 * @category Connections
 */
export type ConnectionHandler = (ws: WebSocket) => unknown

/**
 * What the server hands a legacy handshake handler (`wsflow/legacy`): the server's options, the
 * observers and topics its connections are made with, whether it speaks TLS, and its verify hook
 * and refusal, so that a legacy connection is accepted under the same rules.
 */
export interface LegacyUpgradeContext {
  /** The server's options (limits, timeouts, origins, handshakeTimeout...). */
  readonly options: ServerOptions
  /** What every connection of the server is made with (its registry, its topics). */
  readonly init: Pick<ConnectionInit, 'observers' | 'topics'>
  /** Whether the server is a `wss://` one. */
  readonly secure: boolean
  /** Runs the server's origin check and `verify` hook on a request; rejects with the HandshakeError to refuse with, resolves with what verify handed on. */
  verify(info: RequestInfo, origin: string | undefined): Promise<HandshakeContext | undefined>
}

/**
 * Takes over opening handshakes of protocol versions before RFC 6455 (hixie-75/76, hybi-07/08):
 * made by `wsflow/legacy` and given as the server's `legacy` option. The server hands it only
 * the requests its RFC 6455 handshake refused, so nothing of it is on the version-13 path.
 */
export interface LegacyHandshakes {
  /** The versions it speaks (hybi-08 and hybi-07 are listed in the 426 answer as 8 and 7). */
  readonly versions: readonly string[]
  /**
   * Takes over a request, or returns undefined when it speaks none of the versions enabled (the
   * server then answers with its refusal); rejects with a HandshakeError to refuse. A connection
   * it resolves with is the server's like any other.
   */
  upgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array, context: LegacyUpgradeContext): WebSocket | undefined | Promise<WebSocket | undefined>
}

/**
 * Options of {@link serve}: where to listen, whom to accept, and limits. Sizes in bytes, durations in ms.
 * @category Connections
 */
export interface ServerOptions extends ConnectionOptions {
  /** Port to listen on (0 picks a free one; see {@link Server.port}). */
  port?: number | undefined
  /** Address to listen on (default: Node's, all interfaces; use '127.0.0.1' for loopback only). */
  host?: string | undefined
  /** A Unix socket path to listen on instead of a port. */
  socketPath?: string | undefined
  /** Accept upgrades only on this path (or these paths), compared without the query string. */
  path?: string | readonly string[] | undefined
  /** Attach to this existing `http`/`https` server instead of creating one. */
  server?: HttpServer | HttpsServer | undefined
  /** Create no HTTP server: the application calls {@link Server.handleUpgrade}. */
  noServer?: boolean | undefined
  /** TLS key (PEM) for a `wss://` server; with `cert`. */
  key?: SecureContextOptions['key'] | undefined
  /** TLS certificate chain (PEM) for a `wss://` server; with `key`. */
  cert?: SecureContextOptions['cert'] | undefined
  /** More TLS options (ca, passphrase, requestCert...), passed to `https.createServer`. */
  tls?: TlsOptions | undefined
  /**
   * Subprotocols this server speaks, in its order of preference, or a function choosing one of
   * those the client offered (return `undefined` for none). Without it no subprotocol is selected.
   */
  protocols?: string | readonly string[] | ((offered: readonly string[], request: RequestInfo) => string | undefined) | undefined
  /** Origins allowed (exact `Origin` values, e.g. `https://example.org`); others get 403. Requests without Origin pass. */
  origins?: readonly string[] | undefined
  /**
   * Decides, before the upgrade, whether to accept a request: return true (or nothing) to accept,
   * false to refuse with 401, or a {@link VerifyRefusal} with a status and headers. May be async.
   */
  verify?: ((request: RequestInfo, context: HandshakeContext) => boolean | undefined | void | VerifyRefusal | Promise<boolean | undefined | void | VerifyRefusal>) | undefined
  /**
   * Headers to add to every 101 response (a record, or a function of the request giving one),
   * e.g. `set-cookie`; the handshake's own cannot be overridden. `verify` can add more per request.
   */
  headers?: Readonly<Record<string, string>> | ((request: RequestInfo) => Readonly<Record<string, string>> | undefined) | undefined
  /** Most open connections (and handshakes under way); more get 503 (default 10,000). */
  maxConnections?: number | undefined
  /**
   * Most open connections from one remote address; more get 429 with Retry-After. By default
   * half of `maxConnections` (so that one address can never take every slot), and no limit for
   * loopback addresses (a reverse proxy on the same host, where every client has the proxy's
   * address; local tests); a value given applies to every address. Behind a proxy on another
   * host, give `Infinity` and limit at the proxy.
   */
  maxConnectionsPerAddress?: number | undefined
  /** Time allowed for the whole opening handshake, against slow clients (default 10,000 ms). */
  handshakeTimeout?: number | undefined
  /** Largest request head accepted (default 16 KiB); a larger one gets 431. Standalone servers only. */
  maxHeaderSize?: number | undefined
  /**
   * permessage-deflate (RFC 7692): off by default; `true` or options accept a client's offer
   * (compression costs CPU and, with context takeover, zlib memory per connection). The server's
   * compressor is reset after each message unless `serverNoContextTakeover: false` is given.
   */
  perMessageDeflate?: boolean | PerMessageDeflateConfig | undefined
  /** Called with the error of one connection (its handler threw, a protocol error, a stall...). */
  onError?: ((error: unknown, ws: WebSocket | undefined) => void) | undefined
  /**
   * The pub/sub hub behind `ws.subscribe` and {@link Server.publish}: a {@link PubSub} (shared
   * with other servers, or with an adapter to other processes), or the options of the server's own
   * (default: a hub of its own, this process only, closed with the server).
   */
  pubsub?: PubSub | PubSubOptions | undefined
  /**
   * Older protocol versions, off by default: `legacy: legacyVersions()` from `wsflow/legacy`
   * accepts hixie-75, hixie-76, hybi-07 and hybi-08 clients next to RFC 6455 ones.
   */
  legacy?: LegacyHandshakes | undefined
}

/** Options of {@link Server.close}. */
export interface ServerCloseOptions {
  /** Close code sent to every client (default 1001, going away). */
  code?: number | undefined
  /** Close reason sent to every client (default "server shutting down"). */
  reason?: string | undefined
  /** How long to wait for clients to finish the closing handshake before cutting them off (default 5000 ms). */
  timeout?: number | undefined
}

/** A request that passed validation, waiting for the verify hook (if any) and the 101. */
interface PreparedHandshake {
  readonly handshake: HandshakeRequest
  readonly info: RequestInfo
  /** What verify handed on (undefined without a verify hook). */
  context: HandshakeContext | undefined
}

/** The wsflow servers attached to each http server, so that an unclaimed path gets one 404. */
const attachedServers = new WeakMap<HttpServer | HttpsServer, Set<Server>>()

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
const DEFAULT_MAX_CONNECTIONS = 10_000
const DEFAULT_MAX_HEADER_SIZE = 16 * 1024

/** Whether `address` is a loopback address (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6). */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')
}

/** Refuses at once; what a refused upgrade resolves with. */
function refuseNow(socket: Duplex, error: HandshakeError): undefined {
  refuse(socket, error)
  return undefined
}

/** By default, errors that are part of network life are quiet; others (bugs in handlers) are printed. */
function defaultOnError(error: unknown): void {
  if (error instanceof ConnectionClosedError || error instanceof StallError) return
  if (isWebSocketError(error) && 'closeCode' in error) return
  console.error('wsflow: a connection handler failed:', error)
}

/**
 * A WebSocket server. With a handler, each connection is handled concurrently; without one, the
 * server is an async iterable of connections (`for await (const ws of server)`). An error of one
 * connection goes to `onError` and never into the server or the process.
 *
 * ```ts
 * const server = await serve({ port: 8080, path: '/chat' })
 * for await (const ws of server) void handle(ws) // or pass the handler to serve()
 * // later: every client gets 1001 and up to 5 s to close
 * await server.close()
 * ```
 * @category Connections
 */
export class Server implements AsyncIterable<WebSocket> {
  /** The HTTP(S) server underneath (undefined with `noServer`). */
  readonly httpServer: HttpServer | HttpsServer | undefined
  readonly #options: ServerOptions
  readonly #handler: ConnectionHandler | undefined
  readonly #ownsServer: boolean
  readonly #clients = new Set<WebSocket>()
  readonly #onError: (error: unknown, ws: WebSocket | undefined) => void
  readonly #paths: readonly string[] | undefined
  #handshakes = 0
  readonly #pubsub: PubSub
  readonly #ownsPubsub: boolean
  // The server's registry watches its connections close; pub/sub adds its own observer here.
  readonly #observers: ConnectionObserver[] = [{ closed: (ws: WebSocket, _info: CloseInfo): void => this.#forget(ws) }]
  // Open connections by remote address (maxConnectionsPerAddress).
  readonly #perAddress = new Map<string, number>()
  #closing = false
  #closed: Promise<void> | undefined = undefined
  #accepted: WebSocket[] = []
  #acceptWaiters: ((result: IteratorResult<WebSocket, undefined>) => void)[] = []
  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.#matchesPath(request)) {
      const http = this.httpServer
      const attached = http === undefined ? undefined : attachedServers.get(http)
      // Another wsflow server on this http server claims the path: it answers. When none does,
      // the first one attached answers 404. Other (non-wsflow) upgrade listeners are left alone.
      if (attached !== undefined && [...attached].some((server) => server !== this && server.#matchesPath(request))) return
      if (attached !== undefined && [...attached][0] !== this) return
      if (http !== undefined && http.listenerCount('upgrade') > (attached?.size ?? 1)) return
    }
    this.#upgrade(request, socket, head)
  }

  /** Creates a server; {@link serve} also starts listening. */
  constructor(options: ServerOptions = {}, handler?: ConnectionHandler) {
    validateServerOptions(options, handler)
    this.#options = options
    this.#handler = handler
    this.#onError = options.onError ?? defaultOnError
    this.#paths = options.path === undefined ? undefined : typeof options.path === 'string' ? [options.path] : options.path
    this.#ownsPubsub = !(options.pubsub instanceof PubSub)
    this.#pubsub = options.pubsub instanceof PubSub ? options.pubsub : new PubSub(options.pubsub)
    this.#observers.push(this.#pubsub) // connections leave their topics when they close
    if (options.noServer === true) {
      this.httpServer = undefined
      this.#ownsServer = false
    } else if (options.server !== undefined) {
      this.httpServer = options.server
      this.#ownsServer = false
      options.server.on('upgrade', this.#onUpgrade)
      let attached = attachedServers.get(options.server)
      if (attached === undefined) attachedServers.set(options.server, (attached = new Set()))
      attached.add(this)
    } else {
      const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT
      const httpOptions = {
        maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
        headersTimeout: timeout,
        requestTimeout: timeout,
        connectionsCheckingInterval: Math.max(100, Math.min(timeout / 4, 30_000)),
      }
      const answer = (_request: IncomingMessage, response: ServerResponse): void => {
        // A plain HTTP request to a WebSocket server: RFC 9110 §15.5.22, 426 with Upgrade.
        response.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'close' })
        response.end('this is a WebSocket server: upgrade required\n')
      }
      this.httpServer = options.key !== undefined || options.tls !== undefined
        ? createHttpsServer({ ...options.tls, key: options.key ?? options.tls?.key, cert: options.cert ?? options.tls?.cert, ...httpOptions }, answer)
        : createHttpServer(httpOptions, answer)
      this.#ownsServer = true
      this.httpServer.on('upgrade', this.#onUpgrade)
      this.httpServer.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
        // Malformed HTTP, a head over maxHeaderSize, a timeout: answer if we still can.
        if (!socket.writable) {
          socket.destroy()
          return
        }
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
        const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'
        // Written, then closed both ways: a client still dribbling bytes must not keep it open.
        socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy())
      })
    }
  }

  /**
   * The open connections: those closing or closed are left out, so that
   * `for (const c of server.clients) c.send(text)` never sends into a connection that refuses it.
   * A new set each time it is read.
   */
  get clients(): ReadonlySet<WebSocket> {
    const open = new Set<WebSocket>()
    for (const ws of this.#clients) if (ws.readyState === 'open') open.add(ws)
    return open
  }

  /**
   * Sends `data` to every open connection (but `options.except`), encoded once: a connection
   * whose unsent bytes are over `options.maxBufferedAmount` (default 1 MiB) skips it (counted in
   * its `droppedMessages`). Synchronous, never throws for a connection; returns how many got it.
   */
  broadcast(data: Outgoing, options: { except?: WebSocket | undefined; maxBufferedAmount?: number | undefined } = {}): number {
    const prepared = prepareMessage(data)
    const limit = options.maxBufferedAmount ?? 1024 * 1024
    let sent = 0
    for (const ws of this.#clients) if (ws !== options.except && ws.sendPrepared(prepared, limit)) sent++
    return sent
  }

  /** The pub/sub hub of this server's connections (see {@link ServerOptions.pubsub}). */
  get pubsub(): PubSub {
    return this.#pubsub
  }

  /**
   * Publishes `data` to the connections subscribed to `topic` (`ws.subscribe(topic)`), and
   * through the hub's adapter to other processes: encoded once, the same frame written to each,
   * within the slow-consumer budget (see {@link PubSub.publish}); `options.except` skips one
   * (the sender). Returns how many local subscribers got it.
   */
  publish(topic: string, data: Outgoing, options?: PublishOptions): number {
    return this.#pubsub.publish(topic, data, options)
  }

  /** How many local subscribers `topic` has. */
  subscriberCount(topic: string): number {
    return this.#pubsub.subscriberCount(topic)
  }

  /** The address listened on (see `net.Server#address`). */
  get address(): AddressInfo | string | null {
    return this.httpServer?.address() ?? null
  }

  /** The port listened on (useful with `port: 0`); 0 when not listening on a port. */
  get port(): number {
    const address = this.address
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  /** The `ws://` (or `wss://`) URL of this server on the address it listens on. */
  get url(): string {
    const address = this.address
    const scheme = this.httpServer !== undefined && 'setSecureContext' in this.httpServer ? 'wss' : 'ws'
    if (typeof address === 'string') return `${scheme}+unix:${address}:${this.#paths?.[0] ?? '/'}`
    if (address === null) return ''
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `${scheme}://${host}:${address.port}${this.#paths?.[0] ?? ''}`
  }

  /** Starts listening (standalone servers); resolves once listening. */
  listen(): Promise<this> {
    const server = this.httpServer
    const options = this.#options
    if (!this.#ownsServer || server === undefined) return Promise.resolve(this)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      const done = (): void => {
        server.off('error', reject)
        resolve(this)
      }
      if (options.socketPath !== undefined) server.listen(options.socketPath, done)
      else server.listen(options.port ?? 0, options.host, done)
    })
  }

  /**
   * Completes (or refuses) an opening handshake on a socket taken over from an HTTP server's
   * `upgrade` event: for frameworks and `noServer` setups. Resolves with the connection, which
   * also goes to the handler (or the server's iterator), or with undefined when the handshake
   * was refused (the refusal is answered on the socket).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): Promise<WebSocket | undefined> {
    return Promise.resolve(this.#upgrade(request, socket, head))
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): WebSocket | undefined | Promise<WebSocket | undefined> {
    socket.on('error', ignore) // errors before the upgrade concern this socket only
    if (this.#closing) return refuseNow(socket, new HandshakeError('the server is shutting down', 503))
    if (!this.#matchesPath(request)) return refuseNow(socket, new HandshakeError(`no WebSocket endpoint at ${request.url ?? '/'}`, 404))
    if (this.#clients.size + this.#handshakes >= (this.#options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      return refuseNow(socket, new HandshakeError('too many connections', 503, { 'retry-after': '1' }))
    }
    const address = request.socket.remoteAddress
    if (address !== undefined && (this.#perAddress.get(address) ?? 0) >= this.#maxPerAddress(address)) {
      return refuseNow(socket, new HandshakeError('too many connections from this address', 429, { 'retry-after': '1' }))
    }
    let prepared: PreparedHandshake
    try {
      prepared = this.#prepare(request)
    } catch (error) {
      if (this.#options.legacy !== undefined && error instanceof HandshakeError) return this.#legacy(this.#options.legacy, request, socket, head, error)
      this.#refuseAfter(socket, error)
      return undefined
    }
    if (this.#options.verify === undefined) {
      // The common case is synchronous: no promise, timer or closure per handshake (node:http
      // has already bounded the time the request head may take).
      let ws: WebSocket | undefined
      try {
        ws = this.#complete(prepared, socket, head)
      } catch (error) {
        this.#refuseAfter(socket, error)
        return undefined
      }
      if (ws !== undefined) this.#accept(ws)
      return ws
    }
    const pending = new Server.#Pending(this, socket, this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT)
    return this.#verify(prepared).then(
      () => {
        if (!pending.finish()) return undefined
        const ws = this.#complete(prepared, socket, head)
        if (ws !== undefined) this.#accept(ws)
        return ws
      },
      (error: unknown) => {
        if (pending.finish()) this.#refuseAfter(socket, error)
        return undefined
      },
    ).catch((error: unknown) => {
      this.#refuseAfter(socket, error)
      return undefined
    })
  }

  /**
   * A handshake waiting for its `verify` hook, counted in `#handshakes`: its deadline is on the
   * shared timer wheel (src/timer-wheel.ts), not a Timeout and closures of its own.
   */
  static readonly #Pending = class PendingHandshake extends WheelTimer {
    readonly #server: Server
    readonly #socket: Duplex
    #settled = false

    constructor(server: Server, socket: Duplex, timeout: number) {
      super(sharedWheel(timeout))
      this.#server = server
      this.#socket = socket
      server.#handshakes++
      this.schedule(timeout)
    }

    /** The deadline passed first: 408. */
    onWheel(): void {
      if (this.#settled) return
      this.#settled = true
      this.#server.#handshakes--
      refuse(this.#socket, new HandshakeError('handshake timed out', 408))
    }

    /** The hook settled: whether the handshake may go on (it had not timed out). */
    finish(): boolean {
      if (this.#settled) return false
      this.#settled = true
      this.cancel()
      this.#server.#handshakes--
      return true
    }
  }

  /** Hands a request RFC 6455 refused to the legacy handler; its refusal stands if the handler does not take it. */
  #legacy(legacy: LegacyHandshakes, request: IncomingMessage, socket: Duplex, head: Uint8Array, refusal: HandshakeError): Promise<WebSocket | undefined> {
    const pending = new Server.#Pending(this, socket, this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT)
    const context: LegacyUpgradeContext = {
      options: this.#options,
      init: { observers: this.#observers, topics: this.#pubsub },
      secure: this.httpServer !== undefined && 'setSecureContext' in this.httpServer,
      verify: async (info, origin) => {
        const origins = this.#options.origins
        if (origins !== undefined && origin !== undefined && !origins.includes(origin)) throw new HandshakeError(`origin ${origin} not allowed`, 403)
        if (this.#options.verify === undefined) return undefined
        const prepared: PreparedHandshake = { handshake: undefined as never, info, context: undefined }
        await this.#verify(prepared)
        return prepared.context
      },
    }
    return Promise.resolve()
      .then(() => legacy.upgrade(request, socket, head, context))
      .then((ws) => {
        if (!pending.finish()) {
          ws?.terminate()
          return undefined
        }
        if (ws === undefined) {
          // Not one of its versions: RFC 6455's refusal, listing 8 and 7 in a 426 when enabled.
          const numbers = legacy.versions.filter((v) => v === 'hybi-08' || v === 'hybi-07').map((v) => (v === 'hybi-08' ? '8' : '7'))
          const listed = refusal.status === 426 && numbers.length > 0
          this.#refuseAfter(socket, listed ? new HandshakeError(refusal.message, 426, { 'sec-websocket-version': ['13', ...numbers].join(', ') }, 'WS_ERR_UNSUPPORTED_VERSION') : refusal)
          return undefined
        }
        this.#accept(ws)
        return ws
      }, (error: unknown) => {
        if (pending.finish()) this.#refuseAfter(socket, error)
        return undefined
      })
  }

  /** Refuses a handshake that failed: its HandshakeError's status, or 500 (and onError) for anything else. */
  #refuseAfter(socket: Duplex, error: unknown): void {
    refuse(socket, error instanceof HandshakeError ? error : new HandshakeError('internal error', 500))
    if (!(error instanceof HandshakeError)) this.#report(error, undefined)
  }

  /** Validates the request (RFC 6455 §4.2.1) and the origin; throws a HandshakeError to refuse. */
  #prepare(request: IncomingMessage): PreparedHandshake {
    const handshake = validateRequest(toRequestHead(request))
    const info = toRequestInfo(request)
    const origins = this.#options.origins
    // RFC 6455 §10.2: servers MAY refuse requests from origins they do not trust, with 403.
    if (origins !== undefined && handshake.origin !== undefined && !origins.includes(handshake.origin)) {
      throw new HandshakeError(`origin ${handshake.origin} not allowed`, 403)
    }
    return { handshake, info, context: undefined }
  }

  /** Runs the `verify` hook; throws a HandshakeError to refuse. */
  async #verify(prepared: PreparedHandshake): Promise<void> {
    const context: HandshakeContext = (prepared.context = { data: undefined, headers: {} })
    const verdict = await this.#options.verify!(prepared.info, context)
    if (verdict === false) throw new HandshakeError('unauthorized', 401)
    if (typeof verdict === 'object' && verdict !== null) {
      throw new HandshakeError(verdict.message ?? 'refused', verdict.status ?? 401, verdict.headers ?? {})
    }
    if (this.#closing) throw new HandshakeError('the server is shutting down', 503)
  }

  /** Chooses the subprotocol and extensions, answers 101 and makes the connection (undefined if the socket is gone). */
  #complete({ handshake, info, context }: PreparedHandshake, socket: Duplex, head: Uint8Array): WebSocket | undefined {
    const options = this.#options
    let protocol: string | undefined
    const select = options.protocols
    if (select !== undefined && handshake.protocols.length > 0) {
      protocol = selectSubprotocol(handshake.protocols, typeof select === 'function' ? (offered) => select(offered, info) : typeof select === 'string' ? [select] : select)
    }
    // RFC 7692 §5: accept the first permessage-deflate offer that the server's options allow.
    let extensions: ExtensionOffer[] | undefined
    let codec: PerMessageDeflate | undefined
    const deflate = options.perMessageDeflate
    if (deflate !== undefined && deflate !== false && options.streaming !== true && handshake.extensions.length > 0) {
      // By default the server resets its compressor after each message (RFC 7692 §7.1.1.1 lets it
      // add server_no_context_takeover unasked): an idle connection then holds no compressor, only
      // the inflate window its client's context takeover needs (bench/memory.ts).
      const config = { serverNoContextTakeover: true, ...(deflate === true ? {} : deflate) }
      const agreed = negotiate(handshake.extensions, config)
      if (agreed !== undefined) {
        extensions = [agreed.response]
        codec = new PerMessageDeflate(agreed.params, 'server', { ...config, maxMessageSize: options.maxMessageSize })
      }
    }
    if (socket.destroyed || !socket.writable) return undefined
    const accept = computeAccept(handshake.key, nodeSha1)
    const fixed = options.headers
    const common = typeof fixed === 'function' ? fixed(info) : fixed
    const headers = context === undefined || Object.keys(context.headers).length === 0 ? common : { ...common, ...context.headers }
    socket.write(buildResponse({ accept, protocol, extensions: extensions !== undefined ? formatExtensions(extensions) : undefined, headers }), 'latin1')
    const tcp = socket as Socket
    if (tcp.timeout !== undefined && tcp.timeout > 0) tcp.setTimeout(0) // an http server's timeout must not end the WebSocket
    tcp.off('error', ignore) // the transport listens from here on
    return new WebSocket(new SocketTransport(tcp), { role: 'server', protocol, request: info, head, extensions, codec, observers: this.#observers, topics: this.#pubsub, data: context?.data }, options, allocateUninitialized)
  }

  #matchesPath(request: IncomingMessage): boolean {
    if (this.#paths === undefined) return true
    const url = request.url ?? '/'
    const query = url.indexOf('?')
    return this.#paths.includes(query < 0 ? url : url.slice(0, query))
  }

  #maxPerAddress(address: string): number {
    const options = this.#options
    if (options.maxConnectionsPerAddress !== undefined) return options.maxConnectionsPerAddress
    return isLoopback(address) ? Infinity : Math.ceil((options.maxConnections ?? DEFAULT_MAX_CONNECTIONS) / 2)
  }

  #forget(ws: WebSocket): void {
    if (!this.#clients.delete(ws)) return
    const address = ws.request?.remoteAddress
    if (address === undefined) return
    const count = this.#perAddress.get(address) ?? 0
    if (count <= 1) this.#perAddress.delete(address)
    else this.#perAddress.set(address, count - 1)
  }

  #accept(ws: WebSocket): void {
    // A connection that closed already (bytes that came with the handshake ended it) is not counted.
    if (ws.readyState !== 'closed') {
      this.#clients.add(ws)
      const address = ws.request?.remoteAddress
      if (address !== undefined) this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1)
    }
    const handler = this.#handler
    if (handler === undefined) {
      const waiter = this.#acceptWaiters.shift()
      if (waiter !== undefined) waiter({ value: ws, done: false })
      else this.#accepted.push(ws)
      return
    }
    // Not an async wrapper: while the handler runs, a connection holds two callbacks, not a
    // suspended function of its own (bench/memory.ts).
    let result: unknown
    try {
      result = handler(ws)
    } catch (error) {
      this.#handlerFailed(ws, error)
      return
    }
    // Any thenable the handler returns is waited for, as `await` would.
    if (isThenable(result)) Promise.resolve(result).then(() => this.#handlerReturned(ws), (error: unknown) => this.#handlerFailed(ws, error))
    else this.#handlerReturned(ws)
  }

  /** RFC 6455 §7.1.2: the handler is done with an open connection, which is closed normally. */
  #handlerReturned(ws: WebSocket): void {
    if (ws.readyState === 'open') ws.close(CloseCode.NORMAL).catch(ignore)
  }

  #handlerFailed(ws: WebSocket, error: unknown): void {
    if (ws.readyState === 'open') ws.close(CloseCode.INTERNAL_ERROR).catch(ignore)
    this.#report(error, ws)
  }

  /** Hands an error to `onError`; a hook that throws must not take the server down either. */
  #report(error: unknown, ws: WebSocket | undefined): void {
    try {
      this.#onError(error, ws)
    } catch {
      // ignored, as above
    }
  }

  /** Iterates over accepted connections (servers without a handler); ends when the server closes. */
  [Symbol.asyncIterator](): AsyncIterator<WebSocket, undefined> {
    return {
      next: () => {
        const ws = this.#accepted.shift()
        if (ws !== undefined) return Promise.resolve({ value: ws, done: false })
        if (this.#closing) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => this.#acceptWaiters.push(resolve))
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    }
  }

  /**
   * Stops accepting, sends a close frame (1001 by default) to every client, waits for them up to
   * `timeout`, cuts off the rest, and closes the HTTP server if this server created it.
   */
  close(options: ServerCloseOptions = {}): Promise<void> {
    this.#closed ??= this.#close(options)
    return this.#closed
  }

  async #close(options: ServerCloseOptions): Promise<void> {
    this.#closing = true
    const server = this.httpServer
    const serverClosed = this.#ownsServer && server !== undefined
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve()
    if (!this.#ownsServer && server !== undefined) {
      server.off('upgrade', this.#onUpgrade)
      attachedServers.get(server)?.delete(this)
    }
    for (const waiter of this.#acceptWaiters.splice(0)) waiter({ value: undefined, done: true })
    const clients = [...this.#clients, ...this.#accepted.splice(0)]
    const code = options.code ?? CloseCode.GOING_AWAY
    const reason = options.reason ?? 'server shutting down'
    for (const ws of clients) if (ws.readyState === 'open') void ws.close(code, reason)
    const all = Promise.all(clients.map((ws) => ws.closed))
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.timeout ?? 5000)
    })
    await Promise.race([all, deadline])
    clearTimeout(timer)
    for (const ws of clients) if (ws.readyState !== 'closed') ws.terminate()
    if (this.#ownsServer && server !== undefined) server.closeAllConnections()
    if (this.#ownsPubsub) await this.#pubsub.close()
    await serverClosed
  }
}

function ignore(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}

function refuse(socket: Duplex, error: HandshakeError): void {
  if (socket.writable && !socket.destroyed) socket.end(buildErrorResponse(error), 'latin1', () => socket.destroy())
  else socket.destroy()
}

/**
 * Starts a WebSocket server and resolves once it is listening. With a handler, each connection is
 * handled concurrently; without one, iterate the server for connections.
 *
 * ```ts
 * const server = await serve({ port: 8080, path: '/echo' }, async (ws) => {
 *   for await (const message of ws) await ws.send(message)
 * })
 * ```
 * @category Connections
 */
export function serve(options: ServerOptions = {}, handler?: ConnectionHandler): Promise<Server> {
  try {
    return new Server(options, handler).listen()
  } catch (error) {
    return Promise.reject(error)
  }
}

const SERVER_OPTION_RULES: OptionRules = {
  ...CONNECTION_OPTION_RULES,
  port: 'port',
  host: 'string',
  socketPath: 'string',
  path: 'path',
  server: 'object',
  noServer: 'boolean',
  tls: 'object',
  protocols: 'protocols',
  origins: 'strings',
  verify: 'function',
  legacy: 'object',
  headers: 'headers',
  maxConnections: 'count',
  maxConnectionsPerAddress: 'count',
  handshakeTimeout: 'duration',
  maxHeaderSize: 'count',
  onError: 'function',
  pubsub: 'object',
}

/** Checks a server's options and handler (see core/validate.ts); contradictions are refused too. */
function validateServerOptions(options: ServerOptions, handler: unknown): void {
  validateOptions('serve', options, SERVER_OPTION_RULES)
  if (handler !== undefined && typeof handler !== 'function') throw new InvalidArgumentError(`serve: the handler must be a function, not ${typeof handler}`)
  const deflate = options.perMessageDeflate
  if (deflate !== undefined && typeof deflate !== 'boolean' && (typeof deflate !== 'object' || deflate === null)) {
    throw new InvalidArgumentError('serve: perMessageDeflate must be true, false or an object of permessage-deflate settings')
  }
  const listen = options.port !== undefined || options.host !== undefined || options.socketPath !== undefined
  if (options.server !== undefined && listen) throw new InvalidArgumentError('serve: give either server (attach to it) or port/host/socketPath (listen), not both')
  if (options.noServer === true && (listen || options.server !== undefined)) throw new InvalidArgumentError('serve: noServer takes no server, port, host nor socketPath')
  if (options.port !== undefined && options.socketPath !== undefined) throw new InvalidArgumentError('serve: give either port or socketPath, not both')
}
