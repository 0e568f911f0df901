/**
 * Raw WebSocket endpoints for integration tests: a hand-written opening handshake over a plain
 * `net` socket, a tiny independent frame encoder and a frame reader. They let a test play a peer
 * that misbehaves on purpose (never answers a close, drops TCP mid-frame, sends invalid UTF-8).
 * Deliberately independent of src/ so that a bug there cannot hide itself.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createConnection, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { within } from './timing.ts'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2), computed independently of src/. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64')
}

/** Options of {@link encodeRawFrame}. */
export interface RawFrame {
  fin?: boolean
  rsv1?: boolean
  opcode: number
  payload?: Uint8Array
  /** true: a random masking key (a client's frame); a key: that key; false or absent: unmasked. */
  mask?: boolean | Uint8Array
  /** Declare this length in the header instead of the payload's (to lie about a frame's size). */
  declaredLength?: number
}

/** Encodes one frame, byte by byte, as RFC 6455 §5.2 draws it. */
export function encodeRawFrame(frame: RawFrame): Uint8Array {
  const payload = frame.payload ?? new Uint8Array(0)
  const length = frame.declaredLength ?? payload.length
  const key = frame.mask === true ? new Uint8Array(randomBytes(4)) : frame.mask instanceof Uint8Array ? frame.mask : undefined
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8
  const out = new Uint8Array(2 + extended + (key ? 4 : 0) + payload.length)
  out[0] = (frame.fin === false ? 0 : 0x80) | (frame.rsv1 === true ? 0x40 : 0) | (frame.opcode & 0x0f)
  const maskBit = key ? 0x80 : 0
  let offset = 2
  if (extended === 0) out[1] = maskBit | length
  else if (extended === 2) {
    out[1] = maskBit | 126
    out[2] = length >> 8
    out[3] = length & 0xff
    offset = 4
  } else {
    out[1] = maskBit | 127
    const view = new DataView(out.buffer)
    view.setUint32(2, Math.floor(length / 2 ** 32))
    view.setUint32(6, length >>> 0)
    offset = 10
  }
  if (key) {
    out.set(key, offset)
    offset += 4
    for (let i = 0; i < payload.length; i++) out[offset + i] = payload[i]! ^ key[i & 3]!
  } else {
    out.set(payload, offset)
  }
  return out
}

/** A close frame's payload: the code (big-endian) then the UTF-8 reason. */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new TextEncoder().encode(reason)
  const out = new Uint8Array(2 + text.length)
  out[0] = code >> 8
  out[1] = code & 0xff
  out.set(text, 2)
  return out
}

/** A frame as read by {@link FrameReader}, with the payload already unmasked. */
export interface ReadFrame {
  fin: boolean
  rsv1: boolean
  opcode: number
  masked: boolean
  payload: Uint8Array
}

/** Reads frames from a socket; bytes that came with the handshake response can be given first. */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0)
  #waiter: (() => void) | undefined = undefined
  #ended = false
  /** Every byte received after the handshake, in total. */
  received = 0

  constructor(socket: Socket, leftover?: Uint8Array) {
    if (leftover !== undefined && leftover.length > 0) this.#push(leftover)
    socket.on('data', (chunk: Buffer) => this.#push(chunk))
    socket.on('close', () => {
      this.#ended = true
      this.#waiter?.()
    })
  }

  #push(chunk: Uint8Array): void {
    this.received += chunk.length
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    this.#waiter?.()
  }

  #parse(): ReadFrame | undefined {
    const b = this.#buffer
    if (b.length < 2) return undefined
    const masked = (b[1]! & 0x80) !== 0
    let length = b[1]! & 0x7f
    let offset = 2
    if (length === 126) {
      if (b.length < 4) return undefined
      length = b.readUInt16BE(2)
      offset = 4
    } else if (length === 127) {
      if (b.length < 10) return undefined
      length = Number(b.readBigUInt64BE(2))
      offset = 10
    }
    const keyOffset = offset
    if (masked) offset += 4
    if (b.length < offset + length) return undefined
    const payload = new Uint8Array(b.subarray(offset, offset + length))
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ b[keyOffset + (i & 3)]!
    this.#buffer = b.subarray(offset + length)
    return { fin: (b[0]! & 0x80) !== 0, rsv1: (b[0]! & 0x40) !== 0, opcode: b[0]! & 0x0f, masked, payload }
  }

  /** The next frame; rejects after `ms` or if the socket closes first. */
  async next(ms = 2000): Promise<ReadFrame> {
    const deadline = Date.now() + ms
    for (;;) {
      const frame = this.#parse()
      if (frame !== undefined) return frame
      if (this.#ended) throw new Error('the socket closed before a whole frame arrived')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no frame within ${ms} ms`)
      await within(new Promise<void>((resolve) => {
        this.#waiter = resolve
      }), left, 'waiting for a frame').finally(() => {
        this.#waiter = undefined
      })
    }
  }

  /** Reads frames until a close frame and returns its code (1005 if it had none) and reason. */
  async nextClose(ms = 2000): Promise<{ code: number; reason: string; masked: boolean }> {
    const deadline = Date.now() + ms
    for (let i = 0; i < 10_000; i++) {
      const frame = await this.next(Math.max(1, deadline - Date.now()))
      if (frame.opcode !== 0x8) continue
      const p = frame.payload
      const code = p.length >= 2 ? (p[0]! << 8) | p[1]! : 1005
      return { code, reason: new TextDecoder().decode(p.subarray(2)), masked: frame.masked }
    }
    throw new Error('no close frame')
  }
}

/** Resolves when `socket` has closed (at once if it already has), or rejects after `ms`. */
export function socketClosed(socket: Socket, ms = 3000): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve()
  return within(new Promise<void>((resolve) => socket.once('close', () => resolve())), ms, 'socket close')
}

/** Reads bytes from `socket` until the end of an HTTP head; returns the head and what followed it. */
function readHead(socket: Socket, ms: number): Promise<{ head: string; rest: Buffer }> {
  return within(new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk])
      const end = buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      resolve({ head: buffer.subarray(0, end).toString('latin1'), rest: buffer.subarray(end + 4) })
    }
    const onClose = (): void => reject(new Error('the socket closed before the HTTP head ended'))
    socket.on('data', onData)
    socket.on('close', onClose)
  }), ms, 'HTTP head')
}

function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return headers
}

/** A raw client after its opening handshake. */
export interface RawClient {
  socket: Socket
  reader: FrameReader
  status: number
  headers: Record<string, string>
  /** Sends a frame (masked unless `mask: false` is given explicitly). */
  send(frame: RawFrame): void
  /** Destroys the socket and waits for it to close. */
  destroy(): Promise<void>
}

/** Where a raw client connects: a TCP port on 127.0.0.1 or a Unix socket path. */
export type RawTarget = { port: number } | { socketPath: string }

/**
 * Connects to a WebSocket server with a hand-written handshake and checks its 101 answer (rejects
 * on any other status). The socket then belongs to the test.
 */
export async function rawConnect(target: RawTarget, path = '/', extraHeaders: Record<string, string> = {}, ms = 3000): Promise<RawClient> {
  const socket = 'port' in target ? createConnection({ host: '127.0.0.1', port: target.port }) : createConnection({ path: target.socketPath })
  socket.on('error', () => undefined)
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  }), ms, 'raw connect')
  const key = randomBytes(16).toString('base64')
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1${'port' in target ? `:${target.port}` : ''}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(extraHeaders).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  const { head, rest } = await readHead(socket, ms).catch((error: unknown) => {
    socket.destroy()
    throw error
  })
  const [statusLine = '', ...headerLines] = head.split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const headers = parseHeaders(headerLines)
  if (status !== 101 || headers['sec-websocket-accept'] !== acceptFor(key)) {
    socket.destroy()
    throw new Error(`raw handshake failed: ${statusLine}`)
  }
  const reader = new FrameReader(socket, rest)
  socket.resume()
  return {
    socket,
    reader,
    status,
    headers,
    send: (frame) => {
      socket.write(encodeRawFrame({ ...frame, mask: frame.mask ?? true }))
    },
    destroy: async () => {
      socket.destroy()
      await socketClosed(socket)
    },
  }
}

/** One connection accepted by a {@link RawServer}, after its handshake. */
export interface RawServerConnection {
  socket: Socket
  reader: FrameReader
  /** The request line and headers received. */
  requestLine: string
  headers: Record<string, string>
  /** Sends a frame (unmasked unless `mask` is given). */
  send(frame: RawFrame): void
}

/** A raw WebSocket server that does the handshake by hand and hands each socket to the test. */
export interface RawServer {
  port: number
  url: string
  /** Resolves with the next connection accepted (after its handshake), or rejects after `ms`. */
  accepted(ms?: number): Promise<RawServerConnection>
  /** Destroys every socket and closes the server. */
  close(): Promise<void>
}

/** Starts a {@link RawServer} on 127.0.0.1, port 0. `protocol` is echoed as the subprotocol if given. */
export async function rawServe(options: { protocol?: string } = {}): Promise<RawServer> {
  const sockets = new Set<Socket>()
  const ready: RawServerConnection[] = []
  const waiters: ((c: RawServerConnection) => void)[] = []
  const server: NetServer = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
    readHead(socket, 3000).then(({ head, rest }) => {
      const [requestLine = '', ...headerLines] = head.split('\r\n')
      const headers = parseHeaders(headerLines)
      const key = headers['sec-websocket-key'] ?? ''
      const response = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`]
      if (options.protocol !== undefined) response.push(`Sec-WebSocket-Protocol: ${options.protocol}`)
      socket.write(`${response.join('\r\n')}\r\n\r\n`, 'latin1')
      const reader = new FrameReader(socket, rest)
      socket.resume()
      const connection: RawServerConnection = {
        socket,
        reader,
        requestLine,
        headers,
        send: (frame) => {
          socket.write(encodeRawFrame(frame))
        },
      }
      const waiter = waiters.shift()
      if (waiter !== undefined) waiter(connection)
      else ready.push(connection)
    }, () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    accepted: (ms = 3000) => {
      const connection = ready.shift()
      if (connection !== undefined) return Promise.resolve(connection)
      return within(new Promise<RawServerConnection>((resolve) => waiters.push(resolve)), ms, 'raw server accept')
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'raw server close')
    },
  }
}
