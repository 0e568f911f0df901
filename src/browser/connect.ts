/**
 * `connect(url, options)` in the browser: the Node client's signature and the Node connection's
 * shape, over the platform `WebSocket` or `WebSocketStream`. The options the browser cannot honour
 * fail with a {@link NotSupportedError} naming them, before anything is opened.
 * @module
 */
import { DEFAULTS } from '../core/defaults.ts'
import { InvalidArgumentError, NotSupportedError } from '../core/errors.ts'
import { isToken } from '../core/handshake/syntax.ts'
import { validateOptions, type OptionRules } from '../core/validate.ts'
import type { OpenOptions } from './channel.ts'
import { platformWebSocket, platformWebSocketStream } from './platform.ts'
import { openSocket } from './socket-channel.ts'
import { openStream } from './stream-channel.ts'
import { BrowserWebSocket, type BrowserSettings } from './websocket.ts'

/**
 * Options of the browser's {@link connect}. Sizes in bytes, durations in milliseconds. The Node
 * client's other options are typed here too, so that code written for both compiles; in the
 * browser they throw a {@link NotSupportedError} (see {@link UNSUPPORTED_OPTIONS}).
 */
export interface BrowserConnectOptions {
  /** Subprotocols to offer, in order of preference; `ws.protocol` tells which one the server chose. */
  protocols?: string | readonly string[] | undefined
  /** Cancels connecting; the promise rejects with an `AbortError` whose `cause` is the signal's reason. */
  signal?: AbortSignal | undefined
  /** Time allowed to open the connection (default 10,000 ms). */
  handshakeTimeout?: number | undefined
  /** How long a close may take before the connection ends as 1006 (default 5000 ms). */
  closeTimeout?: number | undefined
  /**
   * Largest message accepted (default 64 MiB). The browser has received it whole by then, so this
   * bounds what the application is handed, not the memory the browser used; more closes with 4009.
   */
  maxMessageSize?: number | undefined
  /** Messages buffered for a consumer that is not reading before reading pauses (default 16). */
  highWaterMark?: number | undefined
  /** Bytes of buffered messages before reading pauses (default 1 MiB). */
  highWaterMarkBytes?: number | undefined
  /**
   * Over the platform `WebSocket`, which cannot pause reading: bytes of messages kept past the
   * high-water mark before the connection is closed with 4008 (default 16 MiB).
   */
  maxUnreadBytes?: number | undefined
  /**
   * `send` waits while more than this many bytes are buffered by the platform (default 1 MiB; on
   * Node 64 KiB: in the browser `bufferedAmount` falls only when the network process has taken
   * the data, a hop between processes, and a wait costs a timer turn).
   */
  writeHighWaterMark?: number | undefined
  /**
   * Which platform API: true for `WebSocketStream` (real backpressure on reading; a
   * {@link NotSupportedError} where the browser has none), false for `WebSocket`, undefined
   * (the default) for `WebSocketStream` where the browser has it and `WebSocket` elsewhere.
   */
  webSocketStream?: boolean | undefined
  /** Not in the browser: it sets the request's headers itself. */
  headers?: Readonly<Record<string, string>> | undefined
  /** Not in the browser: it sends the page's origin. */
  origin?: string | undefined
  /** Not in the browser: it offers permessage-deflate itself, with its own settings. */
  perMessageDeflate?: boolean | object | undefined
  /** Not in the browser: it sends no pings (a server's keep-alive pings are answered). */
  stallTimeout?: number | undefined
  /** Not in the browser (see `stallTimeout`). */
  keepAlive?: ((ws: never) => unknown) | undefined
  /** Not in the browser. */
  idleTimeout?: number | undefined
  /** Not in the browser: messages arrive whole. */
  streaming?: boolean | undefined
  /** Not in the browser: it frames messages itself. */
  fragmentSize?: number | undefined
  /** Not in the browser: frames are not exposed. */
  maxFrameSize?: number | undefined
  /** Not in the browser: frames are not exposed. */
  maxFragments?: number | undefined
  /** Not in the browser: it follows no redirects for WebSockets. */
  followRedirects?: boolean | undefined
  /** Not in the browser. */
  maxRedirects?: number | undefined
  /** Not in the browser: it uses its own proxy settings. */
  proxy?: string | URL | undefined
  /** Not in the browser: it reads the response head itself. */
  maxHeaderSize?: number | undefined
  /** Not in the browser: it uses its own certificate store. */
  ca?: unknown
  /** Not in the browser: client certificates are chosen by the browser. */
  cert?: unknown
  /** Not in the browser. */
  key?: unknown
  /** Not in the browser: certificates are always verified. */
  rejectUnauthorized?: boolean | undefined
  /** Not in the browser. */
  servername?: string | undefined
  /** Not in the browser. */
  tls?: object | undefined
  /** Not in the browser: its timers are the page's. */
  timers?: unknown
}

/** The Node client's options that the browser cannot honour, and why; each throws a {@link NotSupportedError}. */
export const UNSUPPORTED_OPTIONS: Readonly<Record<string, string>> = {
  headers: 'the browser sets the request headers itself (custom request headers cannot be sent; use a subprotocol, a cookie or the URL)',
  origin: "the browser sends the page's origin",
  perMessageDeflate: 'the browser negotiates permessage-deflate itself, with its own settings',
  stallTimeout: "the browser's WebSocket sends no pings",
  keepAlive: "the browser's WebSocket sends no pings",
  idleTimeout: 'not implemented in the browser',
  streaming: 'the browser delivers each message whole',
  fragmentSize: 'the browser frames messages itself',
  maxFrameSize: 'the browser does not expose frames',
  maxFragments: 'the browser does not expose frames',
  followRedirects: 'the browser follows no redirects for WebSockets',
  maxRedirects: 'the browser follows no redirects for WebSockets',
  proxy: "the browser uses its own proxy settings",
  maxHeaderSize: 'the browser reads the response head itself',
  ca: "the browser uses its own certificate store",
  cert: 'the browser chooses client certificates',
  key: 'the browser chooses client certificates',
  rejectUnauthorized: 'the browser always verifies certificates',
  servername: 'the browser sends the URL host as the TLS server name',
  tls: 'the browser does TLS itself',
  timers: "the browser's connection runs on the page's timers",
}

const RULES: OptionRules = {
  protocols: 'strings',
  signal: 'object',
  handshakeTimeout: 'duration',
  closeTimeout: 'duration',
  maxMessageSize: 'size',
  highWaterMark: 'count',
  highWaterMarkBytes: 'count',
  maxUnreadBytes: 'size',
  writeHighWaterMark: 'size',
  webSocketStream: 'boolean',
}

/**
 * The browser's default write high-water mark: 1 MiB. At Node's 64 KiB, an echo of 64 KiB messages
 * with 4 in flight waited on a timer after nearly every send (bench/browser.ts, "64 KiB binary").
 */
export const BROWSER_WRITE_HIGH_WATER_MARK = 1024 * 1024

const SETTINGS = new WeakMap<BrowserConnectOptions, BrowserSettings>()

/** Checks `options` and returns the connection's limits (shared by connections made with the same object). */
function settingsFor(options: BrowserConnectOptions): BrowserSettings {
  validateOptions('connect', options, RULES)
  for (const name in UNSUPPORTED_OPTIONS) {
    if ((options as Record<string, unknown>)[name] !== undefined) throw new NotSupportedError(`the ${name} option`, UNSUPPORTED_OPTIONS[name]!)
  }
  let settings = SETTINGS.get(options)
  if (settings === undefined) {
    settings = {
      highWaterMark: options.highWaterMark ?? DEFAULTS.highWaterMark,
      highWaterMarkBytes: options.highWaterMarkBytes ?? DEFAULTS.highWaterMarkBytes,
      maxUnreadBytes: options.maxUnreadBytes ?? 16 * 1024 * 1024,
      maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
      closeTimeout: options.closeTimeout ?? DEFAULTS.closeTimeout,
    }
    SETTINGS.set(options, settings)
  }
  return settings
}

function parseUrl(input: string | URL): string {
  let url: URL
  try {
    url = new URL(input, (globalThis as { location?: { href: string } }).location?.href)
  } catch (error) {
    throw new InvalidArgumentError(`invalid URL ${String(input)}`, { cause: error })
  }
  // The browser also takes http(s):, as WHATWG WebSockets says; the Node client does too.
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) throw new InvalidArgumentError(`unsupported URL scheme ${url.protocol} (ws: or wss:)`)
  // RFC 6455 §3: fragment identifiers MUST NOT be used in WebSocket URIs.
  if (url.hash !== '') throw new InvalidArgumentError('a WebSocket URL cannot have a fragment (#)')
  return url.href
}

/**
 * Opens a WebSocket connection to `url` from the browser and resolves once it is open, with the
 * Node connection's API (see {@link BrowserWebSocket}). Rejects with a `HandshakeError` whose
 * `status` is 0 when the connection cannot be opened (the browser exposes neither the HTTP status
 * nor the headers of a refusal), with a {@link NotSupportedError} for an option the browser
 * cannot honour, with a `HandshakeError` coded `WS_ERR_HANDSHAKE_TIMEOUT` (status 0) after
 * `handshakeTimeout`, and with an `AbortError` (the signal's reason as its `cause`) when aborted.
 *
 * ```ts
 * const ws = await connect('wss://example.org/feed', { protocols: ['v1'] })
 * await ws.send('hello')
 * for await (const message of ws) console.log(message.text())
 * ```
 */
export async function connect(url: string | URL, options: BrowserConnectOptions = {}): Promise<BrowserWebSocket> {
  const settings = settingsFor(options)
  const href = parseUrl(url)
  const protocols = options.protocols === undefined ? [] : typeof options.protocols === 'string' ? [options.protocols] : [...options.protocols]
  protocols.forEach((protocol, index) => {
    // RFC 6455 §4.1 item 10: the subprotocols MUST be tokens and MUST all be unique (as the Node client checks).
    if (!isToken(protocol)) throw new InvalidArgumentError(`invalid subprotocol ${JSON.stringify(protocol)}: not a token`)
    if (protocols.indexOf(protocol) !== index) throw new InvalidArgumentError(`duplicate subprotocol ${protocol}`)
  })
  const open: OpenOptions = {
    protocols,
    writeHighWaterMark: options.writeHighWaterMark ?? BROWSER_WRITE_HIGH_WATER_MARK,
    handshakeTimeout: options.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
    signal: options.signal,
  }
  const Stream = platformWebSocketStream()
  if (options.webSocketStream === true && Stream === undefined) throw new NotSupportedError('the webSocketStream option', 'this browser has no WebSocketStream')
  if (Stream !== undefined && options.webSocketStream !== false) return new BrowserWebSocket(await openStream(Stream, href, open), settings, href)
  const Socket = platformWebSocket()
  if (Socket === undefined) throw new NotSupportedError('connect()', 'this platform has no WebSocket')
  return new BrowserWebSocket(await openSocket(Socket, href, open), settings, href)
}
