/**
 * The client: `connect(url)` over `ws://`, `wss://` and `ws+unix://`, with subprotocols, extra
 * headers, a handshake timeout, an AbortSignal, opt-in redirects and an opt-in HTTP proxy.
 * @module
 */
import { isIP, netConnect, tlsConnect, type LookupFunction, type Socket, type TlsConnectionOptions } from '../node/platform.ts'
import { WebSocket } from '../connection/websocket.ts'
import type { ConnectionOptions } from '../connection/options.ts'
import { AbortError, ConnectError, HandshakeError, InvalidArgumentError } from '../core/errors.ts'
import type { ResponseInfo } from '../core/transport.ts'
import { CONNECTION_OPTION_RULES, validateOptions, type OptionRules } from '../core/validate.ts'
import { generateKey } from '../core/handshake/accept.ts'
import { buildRequest, validateResponse } from '../core/handshake/client.ts'
import { HttpHeadParser, type HttpResponseHead } from '../core/handshake/http-head.ts'
import { nodeSha1 } from '../node/crypto.ts'
import { SocketTransport } from '../node/transport.ts'
import { allocateUninitialized } from '../node/allocate.ts'
import { PerMessageDeflate, type PerMessageDeflateConfig } from '../node/deflate.ts'
import { acceptResponse, buildOffers, PERMESSAGE_DEFLATE } from '../core/deflate/params.ts'
import { formatExtensions } from '../core/handshake/extensions.ts'
import { ProtocolError } from '../core/errors.ts'

/**
 * Options of {@link connect}. Sizes in bytes, durations in milliseconds.
 * @category Connections
 */
export interface ConnectOptions extends ConnectionOptions {
  /** Subprotocols to offer, in order of preference; `ws.protocol` tells which one the server chose. */
  protocols?: string | readonly string[] | undefined
  /** Extra request headers (e.g. Authorization, Cookie); the handshake's own cannot be overridden. */
  headers?: Readonly<Record<string, string>> | undefined
  /** The Origin header to send (browsers always send one; servers may check it). */
  origin?: string | undefined
  /** Time allowed to connect and complete the opening handshake (default 10,000 ms). */
  handshakeTimeout?: number | undefined
  /** Cancels connecting; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined
  /** Follow 3xx redirects (default false); credentials are dropped when the origin changes. */
  followRedirects?: boolean | undefined
  /** Most redirects followed (default 10). */
  maxRedirects?: number | undefined
  /** An HTTP proxy URL (`http://host:port`) to tunnel through with CONNECT. */
  proxy?: string | URL | undefined
  /** Largest response head accepted (default 16 KiB). */
  maxHeaderSize?: number | undefined
  /**
   * permessage-deflate (RFC 7692): offered by default, as browsers and ws do (the server decides);
   * `false` offers nothing; options tune the offer and the compressor.
   */
  perMessageDeflate?: boolean | PerMessageDeflateConfig | undefined
  /** Trusted CA certificates (PEM) for `wss://`. */
  ca?: TlsConnectionOptions['ca'] | undefined
  /** Client certificate (PEM) for `wss://`. */
  cert?: TlsConnectionOptions['cert'] | undefined
  /** Client private key (PEM) for `wss://`. */
  key?: TlsConnectionOptions['key'] | undefined
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean | undefined
  /** TLS server name (SNI) when it is not the URL's host. */
  servername?: string | undefined
  /** More TLS options, passed to `tls.connect`. */
  tls?: TlsConnectionOptions | undefined
  /** The local address to connect from. */
  localAddress?: string | undefined
  /** The IP family to resolve the host to: 4, 6, or 0 for either (default). */
  family?: 0 | 4 | 6 | undefined
  /** The host name resolver (as `net.connect`'s `lookup`, e.g. to pin or cache addresses). */
  lookup?: LookupFunction | undefined
}

interface Target {
  url: URL
  secure: boolean
  socketPath: string | undefined
  host: string
  port: number
  path: string
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization'])

function parseTarget(input: string | URL): Target {
  let url: URL
  try {
    url = new URL(input)
  } catch (error) {
    throw new InvalidArgumentError(`invalid URL ${String(input)}`, { cause: error })
  }
  const scheme = url.protocol.slice(0, -1)
  const secure = scheme === 'wss' || scheme === 'https' || scheme === 'wss+unix'
  if (!['ws', 'wss', 'http', 'https', 'ws+unix', 'wss+unix'].includes(scheme)) {
    throw new InvalidArgumentError(`unsupported URL scheme ${url.protocol} (ws:, wss: or ws+unix:)`)
  }
  // RFC 6455 §3: fragment identifiers MUST NOT be used in WebSocket URIs.
  if (url.hash !== '') throw new InvalidArgumentError('a WebSocket URL cannot have a fragment (#)')
  if (scheme.endsWith('+unix')) {
    // ws+unix:/path/to/socket:/request/path (the request path is optional)
    const full = decodeURIComponent(url.pathname)
    const colon = full.indexOf(':')
    const socketPath = colon < 0 ? full : full.slice(0, colon)
    const path = (colon < 0 ? '/' : full.slice(colon + 1) || '/') + url.search
    if (socketPath === '') throw new InvalidArgumentError('a ws+unix URL needs a socket path')
    return { url, secure, socketPath, host: 'localhost', port: 0, path }
  }
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port)
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { url, secure, socketPath: undefined, host: hostname, port, path: `${url.pathname || '/'}${url.search}` }
}

/**
 * Opens a WebSocket connection to `url` and resolves once the opening handshake is done. Rejects
 * with a {@link HandshakeError} carrying the HTTP status and headers when the server refuses
 * (`WS_ERR_HANDSHAKE_TIMEOUT`, status 0, when it does not answer in time), with a
 * {@link ConnectError} when TCP (`WS_ERR_CONNECT`) or TLS (`WS_ERR_TLS`) fails (the platform's
 * error as its `cause`), and with an {@link AbortError} when aborted.
 *
 * ```ts
 * const ws = await connect('ws://127.0.0.1:8080/echo', { protocols: ['v1'] })
 * await ws.send('hello')
 * for await (const message of ws) console.log(message.text())
 * ```
 * @category Connections
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  validateOptions('connect', options, CONNECT_OPTION_RULES)
  if (typeof options.protocols === 'string') options = { ...options, protocols: [options.protocols] }
  let target = parseTarget(url)
  let headers = { ...options.headers }
  const user = target.url.username
  if ((user !== '' || target.url.password !== '') && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    // Credentials in the URL are sent as Basic auth (RFC 7617), as browsers and ws do.
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(user)}:${decodeURIComponent(target.url.password)}`).toString('base64')}`
  }
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? 10) : 0
  for (let redirects = 0; ; redirects++) {
    const result = await attempt(target, headers, options)
    if (result instanceof WebSocket) return result
    const location = result.headers.get('location')
    if (redirects >= maxRedirects || location === undefined) {
      throw new HandshakeError(`unexpected HTTP status ${result.status}: expected 101 Switching Protocols`, result.status, result.headers.toRecord())
    }
    const next = parseTarget(new URL(location, target.url.href.replace(/^ws/, 'http')).href.replace(/^http/, 'ws'))
    if (next.url.origin !== target.url.origin || next.secure !== target.secure) {
      // Credentials meant for one origin are not handed to another.
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())))
    }
    target = next
  }
}

/** Feeds a response head parser; returns the head once complete, or reports a malformed one to `fail`. */
function pushHead(parser: HttpHeadParser, chunk: Uint8Array, fail: (error: unknown) => void): HttpResponseHead | undefined {
  try {
    return parser.push(chunk) as HttpResponseHead | undefined
  } catch (error) {
    fail(error)
    return undefined
  }
}

/** Codes of the platform's TLS and certificate errors (OpenSSL's verify results and Node's ERR_TLS_* / ERR_SSL_*). */
const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/

/** A socket's error while connecting, as a {@link ConnectError}: TLS during a TLS negotiation, TCP otherwise. */
function wrapSocketError(error: Error, target: Target, negotiating: boolean): ConnectError {
  const code = (error as { code?: unknown }).code
  const tls = negotiating && (typeof code !== 'string' || TLS_ERROR.test(code) || 'library' in error)
  const where = target.socketPath ?? `${target.host}:${target.port}`
  return tls
    ? new ConnectError('WS_ERR_TLS', `TLS with ${where} failed: ${error.message}`, error)
    : new ConnectError('WS_ERR_CONNECT', `cannot connect to ${where}: ${error.message}`, error)
}

/** The URL without its credentials. */
function publicUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href
  const copy = new URL(url.href)
  copy.username = ''
  copy.password = ''
  return copy.href
}

/** The options of `net.connect` a client takes (unset ones left out). */
function netOptions(options: ConnectOptions): { localAddress?: string; family?: number; lookup?: LookupFunction } {
  const result: { localAddress?: string; family?: number; lookup?: LookupFunction } = {}
  if (options.localAddress !== undefined) result.localAddress = options.localAddress
  if (options.family !== undefined) result.family = options.family
  if (options.lookup !== undefined) result.lookup = options.lookup
  return result
}

/** One handshake: a connection, or the head of a redirect response to follow. */
function attempt(target: Target, headers: Record<string, string>, options: ConnectOptions): Promise<WebSocket | HttpResponseHead> {
  const signal = options.signal
  if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason))
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined
    let done = false
    const fail = (error: unknown): void => {
      if (done) return
      done = true
      cleanup()
      socket?.destroy()
      reject(error)
    }
    const onAbort = (): void => fail(new AbortError(signal?.reason))
    const timer = setTimeout(() => fail(new HandshakeError(`the opening handshake timed out after ${options.handshakeTimeout ?? 10_000} ms`, 0, {}, 'WS_ERR_HANDSHAKE_TIMEOUT')), options.handshakeTimeout ?? 10_000)
    const cleanup = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    const key = generateKey()
    const defaultPort = target.secure ? 443 : 80
    const hostHeader = target.socketPath !== undefined ? 'localhost' : `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}${target.port === defaultPort ? '' : `:${target.port}`}`
    const deflate = options.perMessageDeflate === false || options.streaming === true ? undefined : options.perMessageDeflate === true || options.perMessageDeflate === undefined ? {} : options.perMessageDeflate
    let request: string
    let offered = ''
    try {
      if (deflate !== undefined) offered = formatExtensions(buildOffers(deflate))
      request = buildRequest({ host: hostHeader, path: target.path, key, protocols: options.protocols as readonly string[] | undefined, origin: options.origin, headers, extensions: offered })
    } catch (error) {
      fail(error)
      return
    }

    const handshake = (connected: Socket, leftover?: Uint8Array): void => {
      socket = connected
      const parser = new HttpHeadParser({ kind: 'response', maxHeadSize: options.maxHeaderSize ?? 16 * 1024 })
      const onData = (chunk: Uint8Array): void => {
        const head = pushHead(parser, chunk, fail)
        if (head === undefined || done) return
        connected.off('data', onData)
        connected.off('close', onClose)
        connected.pause()
        if (head.status >= 300 && head.status < 400 && head.headers.has('location') && options.followRedirects === true) {
          done = true
          cleanup()
          connected.destroy()
          resolve(head)
          return
        }
        try {
          const response = validateResponse(head, { key, protocols: options.protocols as readonly string[] | undefined, extensions: offered, hash: nodeSha1 })
          done = true
          cleanup()
          let codec: PerMessageDeflate | undefined
          let refusal: unknown
          const agreed = response.extensions.find((e) => e.name === PERMESSAGE_DEFLATE)
          if (agreed !== undefined && deflate !== undefined) {
            try {
              codec = new PerMessageDeflate(acceptResponse(agreed, deflate), 'client', { ...deflate, maxMessageSize: options.maxMessageSize })
            } catch (error) {
              refusal = error
            }
          }
          const info: ResponseInfo = { url: publicUrl(target.url), status: head.status, statusText: head.statusText, headers: head.headers.toRecord() }
          const ws = new WebSocket(new SocketTransport(connected), { role: 'client', protocol: response.protocol, extensions: response.extensions, head: parser.rest, codec, response: info }, options, allocateUninitialized)
          connected.resume()
          if (refusal !== undefined) {
            // RFC 6455 §7.4.1 / RFC 7692 §5: a response the client cannot accept fails the connection with 1010.
            void ws.close(refusal instanceof ProtocolError ? refusal.closeCode : 1010, 'extension not acceptable')
            reject(refusal)
            return
          }
          resolve(ws)
        } catch (error) {
          fail(error)
        }
      }
      const onClose = (): void => fail(new HandshakeError('the server closed the connection during the opening handshake', 0))
      connected.on('data', onData)
      connected.on('close', onClose)
      connected.write(request, 'latin1')
      if (leftover !== undefined && leftover.length > 0) onData(leftover)
    }

    let secured = false
    const open = (tunnel?: Socket): void => {
      const tlsOptions: TlsConnectionOptions = {
        ...options.tls,
        ca: options.ca ?? options.tls?.ca,
        cert: options.cert ?? options.tls?.cert,
        key: options.key ?? options.tls?.key,
        rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized ?? true,
        servername: options.servername ?? options.tls?.servername ?? (isIP(target.host) === 0 ? target.host : undefined),
        ALPNProtocols: ['http/1.1'],
      }
      let connected: Socket
      if (target.secure) {
        connected = tunnel !== undefined
          ? tlsConnect({ ...tlsOptions, socket: tunnel })
          : target.socketPath !== undefined
            ? tlsConnect({ ...tlsOptions, path: target.socketPath })
            : tlsConnect({ ...tlsOptions, ...netOptions(options), host: target.host, port: target.port })
        connected.once('secureConnect', () => {
          secured = true
          handshake(connected)
        })
      } else if (tunnel !== undefined) {
        connected = tunnel
        handshake(connected)
      } else {
        connected = target.socketPath !== undefined ? netConnect({ path: target.socketPath }) : netConnect({ ...netOptions(options), host: target.host, port: target.port })
        connected.once('connect', () => handshake(connected))
      }
      socket = connected
      connected.on('error', (error: Error) => fail(wrapSocketError(error, target, target.secure && !secured)))
    }

    if (options.proxy === undefined) {
      open()
      return
    }
    // An HTTP proxy: CONNECT host:port, a 2xx answer, then the handshake through the tunnel.
    const proxy = new URL(options.proxy)
    const proxySocket = netConnect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80) })
    socket = proxySocket
    const proxyFailed = (error: Error): void => fail(new ConnectError('WS_ERR_CONNECT', `the proxy ${proxy.host}: ${error.message}`, error))
    proxySocket.on('error', proxyFailed)
    proxySocket.once('connect', () => {
      const authority = `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`
      let connectRequest = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`
      if (proxy.username !== '') {
        const credentials = Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')
        connectRequest += `Proxy-Authorization: Basic ${credentials}\r\n`
      }
      proxySocket.write(`${connectRequest}\r\n`, 'latin1')
      const parser = new HttpHeadParser({ kind: 'response' })
      const onData = (chunk: Uint8Array): void => {
        const head = pushHead(parser, chunk, fail)
        if (head === undefined) return
        proxySocket.off('data', onData)
        if (head.status < 200 || head.status >= 300) {
          fail(new HandshakeError(`the proxy refused the tunnel with status ${head.status}`, head.status, head.headers.toRecord()))
          return
        }
        proxySocket.off('error', proxyFailed)
        if (target.secure) open(proxySocket)
        else {
          proxySocket.on('error', (error: Error) => fail(wrapSocketError(error, target, false)))
          handshake(proxySocket, parser.rest)
        }
      }
      proxySocket.on('data', onData)
    })
  })
}

const CONNECT_OPTION_RULES: OptionRules = {
  ...CONNECTION_OPTION_RULES,
  protocols: 'strings',
  headers: 'object',
  origin: 'string',
  handshakeTimeout: 'duration',
  maxHeaderSize: 'count',
  followRedirects: 'boolean',
  maxRedirects: 'size',
  signal: 'object',
  tls: 'object',
  localAddress: 'string',
  family: 'family',
  lookup: 'function',
}
