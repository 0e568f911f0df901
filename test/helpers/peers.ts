/**
 * Connected pairs for integration tests, parameterised by side: the same test runs on
 * [wsflow client ↔ wsflow server], [wsflow client ↔ ws server] and [ws client ↔ wsflow server].
 * A {@link Peer} gives both libraries one small shape (send, receive, ping, close, closed), so a
 * test is written once and run in both directions.
 */
import type { AddressInfo } from 'node:net'
import { WebSocket as WsSocket, WebSocketServer, type ClientOptions as WsClientOptions, type ServerOptions as WsServerOptions } from 'ws'
import { connect, serve, type ConnectOptions, type ConnectionOptions, type Message, type Server, type ServerOptions, type WebSocket } from '../../src/index.ts'
import { within } from './timing.ts'

/** A data message received, whichever library received it. */
export interface Received {
  type: 'text' | 'binary'
  data: Uint8Array
}

/** How a connection ended, whichever library saw it. */
export interface PeerClose {
  code: number
  reason: string
  wasClean: boolean
}

/** The end of a peer's message stream: normal, or with the error its iterator threw. */
export interface PeerEnd {
  end: true
  error: unknown
}

/** One end of a connection, either library. */
export interface Peer {
  readonly impl: 'wsflow' | 'ws'
  readonly role: 'client' | 'server'
  /** The wsflow connection, when `impl` is 'wsflow'. */
  readonly wsflow: WebSocket | undefined
  /** The ws connection, when `impl` is 'ws'. */
  readonly ws: WsSocket | undefined
  /** The subprotocol agreed. */
  readonly protocol: string
  /** Sends one message: a string as text, bytes as binary; resolves when handed to the socket. */
  send(data: string | Uint8Array): Promise<void>
  /**
   * Sends one message as several frames of at most `size` bytes. A wsflow peer must have been
   * opened with `fragmentSize: size`; a ws peer sends `{ fin: false }` fragments itself.
   */
  sendFragmented(data: string | Uint8Array, size: number): Promise<void>
  /** The next message; rejects after `ms` or when the stream ends. */
  receive(ms?: number): Promise<Received>
  /** The next message or the end of the stream (with the iterator's error, if it threw). */
  receiveOrEnd(ms?: number): Promise<Received | PeerEnd>
  /** Sends a ping and resolves when its pong comes back. */
  ping(payload: Uint8Array, ms?: number): Promise<void>
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void
  /** How the connection ended. */
  readonly closed: Promise<PeerClose>
  /** Cuts TCP. */
  terminate(): void
}

const toBytes = (data: Buffer | ArrayBuffer | Buffer[]): Uint8Array =>
  Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)

/** Wraps a wsflow connection; the iterator is created at once and kept, so nothing is ever dropped. */
export function wsflowPeer(ws: WebSocket, fragmentSize?: number): Peer {
  const iterator = ws[Symbol.asyncIterator]()
  const receiveOrEnd = async (ms = 3000): Promise<Received | PeerEnd> => {
    try {
      const result = await within(iterator.next(), ms, 'wsflow: next message')
      if (result.done === true) return { end: true, error: undefined }
      const message: Message = result.value
      return { type: message.type, data: message.data }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('timed out after')) throw error
      return { end: true, error }
    }
  }
  return {
    impl: 'wsflow',
    role: ws.role,
    wsflow: ws,
    ws: undefined,
    get protocol() {
      return ws.protocol
    },
    send: (data) => ws.send(data),
    sendFragmented: (data, size) => {
      if (fragmentSize !== size) throw new Error(`this wsflow peer was opened with fragmentSize ${String(fragmentSize)}, not ${size}`)
      return ws.send(data)
    },
    receive: async (ms) => {
      const r = await receiveOrEnd(ms)
      if ('end' in r) throw new Error(`wsflow: the stream ended (${String(r.error)})`)
      return r
    },
    receiveOrEnd,
    ping: async (payload, ms = 3000) => {
      await within(ws.ping(payload), ms, 'wsflow: pong')
    },
    close: (code, reason) => {
      void ws.close(code, reason)
    },
    closed: ws.closed,
    terminate: () => ws.terminate(),
  }
}

/** Wraps a ws connection (already open) with a message queue. */
export function wsPeer(ws: WsSocket, role: 'client' | 'server'): Peer {
  const queue: (Received | PeerEnd)[] = []
  let waiter: (() => void) | undefined
  const errors: unknown[] = []
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    queue.push({ type: isBinary ? 'binary' : 'text', data: toBytes(data) })
    waiter?.()
  })
  ws.on('error', (error) => errors.push(error))
  const closed = new Promise<PeerClose>((resolve) => {
    ws.addEventListener('close', (event) => {
      queue.push({ end: true, error: errors[0] })
      waiter?.()
      resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean })
    })
  })
  const receiveOrEnd = async (ms = 3000): Promise<Received | PeerEnd> => {
    if (queue.length === 0) {
      await within(new Promise<void>((resolve) => {
        waiter = resolve
      }), ms, 'ws: next message').finally(() => {
        waiter = undefined
      })
    }
    const item = queue[0]!
    if (!('end' in item)) queue.shift()
    return item
  }
  const sendRaw = (data: string | Uint8Array, options: { binary?: boolean; fin?: boolean }): Promise<void> =>
    new Promise((resolve, reject) => ws.send(data, options, (error) => (error ? reject(error) : resolve())))
  return {
    impl: 'ws',
    role,
    wsflow: undefined,
    ws,
    get protocol() {
      return ws.protocol
    },
    send: (data) => sendRaw(data, { binary: typeof data !== 'string' }),
    sendFragmented: async (data, size) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      const binary = typeof data !== 'string'
      const sends: Promise<void>[] = []
      for (let offset = 0; offset < bytes.length || offset === 0; offset += size) {
        const fin = offset + size >= bytes.length
        sends.push(sendRaw(bytes.subarray(offset, offset + size), { binary, fin }))
        if (fin) break
      }
      await Promise.all(sends)
    },
    receive: async (ms) => {
      const r = await receiveOrEnd(ms)
      if ('end' in r) throw new Error(`ws: the stream ended (${String(r.error)})`)
      return r
    },
    receiveOrEnd,
    ping: (payload, ms = 3000) => within(new Promise<void>((resolve) => {
      const onPong = (data: Buffer): void => {
        if (Buffer.compare(data, payload) !== 0) return
        ws.off('pong', onPong)
        resolve()
      }
      ws.on('pong', onPong)
      ws.ping(payload)
    }), ms, 'ws: pong'),
    close: (code, reason) => ws.close(code, reason),
    closed,
    terminate: () => ws.terminate(),
  }
}

/** Options of a pair: wsflow options apply to wsflow ends only, ws options to ws ends only. */
export interface PairOptions {
  /** Options for a wsflow client. */
  client?: ConnectOptions
  /** Options for a wsflow server (host and port are set by the helper). */
  server?: ServerOptions
  /** Options for a ws client. */
  wsClient?: WsClientOptions
  /** Options for a ws server (host and port are set by the helper). */
  wsServer?: WsServerOptions
  /** The request path (default /echo). */
  path?: string
  /** Options shared by both wsflow ends (merged under `client` and `server`). */
  both?: ConnectionOptions
}

/** A connected pair; `dispose()` closes everything it opened, whatever state it is in. */
export interface Pair {
  client: Peer
  server: Peer
  /** The wsflow server, when the server side is wsflow. */
  wsflowServer: Server | undefined
  /** The ws server, when the server side is ws. */
  wsServer: WebSocketServer | undefined
  dispose(): Promise<void>
}

/** A kind of pair: which library plays which side. */
export interface PairKind {
  name: string
  client: 'wsflow' | 'ws'
  server: 'wsflow' | 'ws'
  open(options?: PairOptions): Promise<Pair>
}

/** Starts a wsflow server on 127.0.0.1:0 with no handler; connections are taken from its iterator. */
async function startWsflowServer(options: ServerOptions): Promise<{ server: Server; next: () => Promise<WebSocket> }> {
  const server = await serve({ ...options, host: '127.0.0.1', port: 0 })
  const iterator = server[Symbol.asyncIterator]()
  return {
    server,
    next: async () => {
      const result = await within(iterator.next(), 3000, 'wsflow server: next connection')
      if (result.done === true) throw new Error('the wsflow server closed')
      return result.value
    },
  }
}

/** Starts a ws server on 127.0.0.1:0. */
async function startWsServer(options: WsServerOptions): Promise<{ server: WebSocketServer; port: number; next: () => Promise<WsSocket> }> {
  const server = new WebSocketServer({ ...options, host: '127.0.0.1', port: 0 })
  await within(new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  }), 3000, 'ws server listening')
  const ready: WsSocket[] = []
  const waiters: ((ws: WsSocket) => void)[] = []
  server.on('connection', (ws) => {
    const waiter = waiters.shift()
    if (waiter !== undefined) waiter(ws)
    else ready.push(ws)
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    next: () => {
      const ws = ready.shift()
      if (ws !== undefined) return Promise.resolve(ws)
      return within(new Promise<WsSocket>((resolve) => waiters.push(resolve)), 3000, 'ws server: next connection')
    },
  }
}

/** Opens a ws client and waits for it to be open. */
export async function openWsClient(url: string, protocols: string[] | undefined, options: WsClientOptions = {}): Promise<WsSocket> {
  const ws = new WsSocket(url, protocols ?? [], options)
  ws.on('error', () => undefined)
  await within(new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
    ws.once('unexpected-response', (_request, response) => reject(new Error(`unexpected response ${String(response.statusCode)}`)))
  }), 3000, 'ws client open').catch((error: unknown) => {
    ws.terminate()
    throw error
  })
  return ws
}

/** Waits (bounded) for a peer to close, cutting TCP if it does not. */
async function settle(peer: Peer): Promise<void> {
  try {
    await within(peer.closed, 1500, 'peer close during dispose')
  } catch {
    peer.terminate()
    await within(peer.closed, 1500, 'peer terminate during dispose').catch(() => undefined)
  }
}

async function disposeAll(client: Peer, server: Peer, wsflowServer: Server | undefined, wsServer: WebSocketServer | undefined): Promise<void> {
  for (const peer of [client, server]) {
    if (peer.impl === 'wsflow' ? peer.wsflow!.readyState === 'open' : peer.ws!.readyState === WsSocket.OPEN) peer.close(1000, 'dispose')
  }
  await Promise.all([settle(client), settle(server)])
  if (wsflowServer !== undefined) await within(wsflowServer.close({ timeout: 500 }), 3000, 'wsflow server close')
  if (wsServer !== undefined) {
    for (const ws of wsServer.clients) ws.terminate()
    await within(new Promise<void>((resolve) => wsServer.close(() => resolve())), 3000, 'ws server close')
  }
}

function wsflowClientOptions(options: PairOptions): ConnectOptions {
  return { ...options.both, ...options.client }
}

function wsflowServerOptions(options: PairOptions): ServerOptions {
  return { ...options.both, ...options.server }
}

/** The three pairs every symmetric test runs on. */
export const PAIRS: readonly PairKind[] = [
  {
    name: 'wsflow client ↔ wsflow server',
    client: 'wsflow',
    server: 'wsflow',
    open: async (options = {}) => {
      const { server, next } = await startWsflowServer(wsflowServerOptions(options))
      const clientOptions = wsflowClientOptions(options)
      try {
        const [clientWs, serverWs] = await Promise.all([connect(`ws://127.0.0.1:${server.port}${options.path ?? '/echo'}`, clientOptions), next()])
        const client = wsflowPeer(clientWs, clientOptions.fragmentSize)
        const serverPeer = wsflowPeer(serverWs, wsflowServerOptions(options).fragmentSize)
        return { client, server: serverPeer, wsflowServer: server, wsServer: undefined, dispose: () => disposeAll(client, serverPeer, server, undefined) }
      } catch (error) {
        await server.close({ timeout: 100 })
        throw error
      }
    },
  },
  {
    name: 'wsflow client ↔ ws server',
    client: 'wsflow',
    server: 'ws',
    open: async (options = {}) => {
      const { server, port, next } = await startWsServer(options.wsServer ?? {})
      const clientOptions = wsflowClientOptions(options)
      try {
        const [clientWs, serverWs] = await Promise.all([connect(`ws://127.0.0.1:${port}${options.path ?? '/echo'}`, clientOptions), next()])
        const client = wsflowPeer(clientWs, clientOptions.fragmentSize)
        const serverPeer = wsPeer(serverWs, 'server')
        return { client, server: serverPeer, wsflowServer: undefined, wsServer: server, dispose: () => disposeAll(client, serverPeer, undefined, server) }
      } catch (error) {
        server.close()
        throw error
      }
    },
  },
  {
    name: 'ws client ↔ wsflow server',
    client: 'ws',
    server: 'wsflow',
    open: async (options = {}) => {
      const { server, next } = await startWsflowServer(wsflowServerOptions(options))
      try {
        const protocols = options.client?.protocols === undefined ? undefined : [...options.client.protocols]
        const [clientWs, serverWs] = await Promise.all([openWsClient(`ws://127.0.0.1:${server.port}${options.path ?? '/echo'}`, protocols, options.wsClient), next()])
        const client = wsPeer(clientWs, 'client')
        const serverPeer = wsflowPeer(serverWs, wsflowServerOptions(options).fragmentSize)
        return { client, server: serverPeer, wsflowServer: server, wsServer: undefined, dispose: () => disposeAll(client, serverPeer, server, undefined) }
      } catch (error) {
        await server.close({ timeout: 100 })
        throw error
      }
    },
  },
]

/** Both directions of a pair: [sender, receiver, label]. */
export function directions(pair: Pair): [Peer, Peer, string][] {
  return [
    [pair.client, pair.server, `${pair.client.impl} client → ${pair.server.impl} server`],
    [pair.server, pair.client, `${pair.server.impl} server → ${pair.client.impl} client`],
  ]
}

/** Opens a pair, runs `fn`, and disposes of the pair whatever happens. */
export async function withPair(kind: PairKind, options: PairOptions, fn: (pair: Pair) => Promise<void>): Promise<void> {
  const pair = await kind.open(options)
  try {
    await fn(pair)
  } finally {
    await pair.dispose()
  }
}

/** Byte equality with a short message instead of a 16 MiB diff. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return actual.length === expected.length && Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)) === 0
}
