/**
 * The lean client side of the load generator (bench/loadgen.ts): a hand-written opening handshake on
 * a plain node:net socket, masked frames built once, and a checker of the echoed byte stream that
 * counts whole frames and fails loudly on any byte out of place.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { acceptKey, frameHeader } from './raw-echo.ts'

/** Rejects with `what` after `ms` milliseconds unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} took more than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The payload of the echo workloads: a fixed pattern (ASCII, so also valid UTF-8 text). */
export function payload(size: number): Buffer {
  const out = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) out[i] = 0x21 + (i % 90)
  return out
}

/** A masked client frame (FIN set) of `opcode` carrying `data`, with a random masking key. */
export function maskedFrame(opcode: number, data: Buffer): Buffer {
  const head = frameHeader(0x80 | opcode, data.length)
  head[1]! |= 0x80
  const key = randomBytes(4)
  const out = Buffer.allocUnsafe(head.length + 4 + data.length)
  head.copy(out, 0)
  key.copy(out, head.length)
  const at = head.length + 4
  for (let i = 0; i < data.length; i++) out[at + i] = data[i]! ^ key[i & 3]!
  return out
}

/** The close frame (1000) a client sends, masked. */
export const CLOSE_FRAME = maskedFrame(0x8, Buffer.from([0x03, 0xe8]))

/** The upgrade request for `port`, with `key`. */
export function upgradeRequest(port: number, key: string): string {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
}

/** Opens a TCP connection to 127.0.0.1:`port` with Nagle off. */
export function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
  })
}

/** A Sec-WebSocket-Key and the Sec-WebSocket-Accept it calls for. */
export interface HandshakeKey {
  readonly key: string
  readonly accept: string
}

/** A fresh random Sec-WebSocket-Key, with its accept value. */
export function newKey(): HandshakeKey {
  const key = randomBytes(16).toString('base64')
  return { key, accept: acceptKey(key) }
}

/**
 * Completes the opening handshake on `socket`: sends the request, waits for the response head,
 * checks the 101 and Sec-WebSocket-Accept. Resolves with any bytes that followed the head.
 */
export function handshake(socket: Socket, port: number, { key, accept: expected }: HandshakeKey = newKey()): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0)
    const fail = (error: Error): void => {
      socket.off('data', onData).off('error', fail).off('close', onClose)
      reject(error)
    }
    const onClose = (): void => fail(new Error('bench: the connection closed during the handshake'))
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > 8192) fail(new Error('bench: handshake response too long'))
        return
      }
      socket.off('data', onData).off('error', fail).off('close', onClose)
      const text = head.subarray(0, end).toString('latin1')
      if (!text.startsWith('HTTP/1.1 101')) return reject(new Error(`bench: handshake refused: ${text.split('\r\n')[0]}`))
      const accept = /^sec-websocket-accept:[ \t]*(\S+)/im.exec(text)?.[1]
      if (accept !== expected) return reject(new Error(`bench: bad Sec-WebSocket-Accept ${accept}`))
      resolve(head.subarray(end + 4))
    }
    socket.on('data', onData).once('error', fail).once('close', onClose)
    socket.write(upgradeRequest(port, key))
  })
}

/**
 * Checks a stream of identical unmasked echo frames: every header byte is compared with the
 * expected header, the payload of the first `checkPayloads` frames byte for byte; the rest of each
 * payload is counted. Throws on the first difference.
 */
export class EchoChecker {
  readonly #header: Buffer
  readonly #payload: Buffer
  readonly #frameSize: number
  #position = 0 // in the current frame
  #checkPayloads: number
  /** Whole frames received. */
  frames = 0
  /** Payload bytes received (of whole and partial frames). */
  payloadBytes = 0

  constructor(opcode: number, data: Buffer, checkPayloads: number) {
    this.#header = frameHeader(0x80 | opcode, data.length)
    this.#payload = data
    this.#frameSize = this.#header.length + data.length
    this.#checkPayloads = checkPayloads
  }

  /** Feeds received bytes; returns the number of frames they completed. */
  feed(chunk: Buffer): number {
    const header = this.#header
    const headerSize = header.length
    const frameSize = this.#frameSize
    let completed = 0
    let i = 0
    while (i < chunk.length) {
      if (this.#position < headerSize) {
        if (chunk[i] !== header[this.#position]) throw new Error(`bench: echo frame ${this.frames}: byte ${this.#position} is 0x${chunk[i]!.toString(16)}, expected 0x${header[this.#position]!.toString(16)}`)
        i++
        this.#position++
        continue
      }
      const take = Math.min(frameSize - this.#position, chunk.length - i)
      if (this.#checkPayloads > 0) {
        const at = this.#position - headerSize
        if (!chunk.subarray(i, i + take).equals(this.#payload.subarray(at, at + take))) throw new Error(`bench: echo frame ${this.frames}: payload differs from what was sent`)
      }
      i += take
      this.#position += take
      this.payloadBytes += take
      if (this.#position === frameSize) {
        this.#position = 0
        this.frames++
        completed++
        if (this.#checkPayloads > 0) this.#checkPayloads--
      }
    }
    return completed
  }
}
