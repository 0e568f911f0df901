/**
 * The ceiling of the throughput benches: a minimal WebSocket echo on node:net, doing only what an
 * echo must. It answers the HTTP upgrade (Sec-WebSocket-Accept by node:crypto sha1, a 101, no
 * extension, no subprotocol), then echoes every frame as it comes: masked in, unmasked out, 7-, 16-
 * and 64-bit lengths, a ping answered by a pong, a close answered by the same close and the end
 * of the socket. It checks nothing else (no UTF-8 validation, no limits, no reassembly of
 * fragments), which is why it is a ceiling and not a server.
 *
 * Large frames are streamed, never buffered: the echo's header is written as soon as the frame's
 * header is parsed, then every piece of payload is unmasked in place as it arrives (the mask
 * offset kept across chunks) and written. Unmasking is bufferutil's native `unmask` when it
 * loads, else a loop over 32-bit words.
 * @module
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { createServer, type Server, type Socket } from 'node:net'

type Unmask = (buffer: Buffer, key: Buffer) => void

function loadUnmask(): { unmask: Unmask; native: boolean } {
  try {
    const addon = createRequire(import.meta.url)('bufferutil') as { unmask: Unmask }
    return { unmask: addon.unmask, native: true }
  } catch {
    return { unmask: unmaskWords, native: false }
  }
}

const scratch = new Uint8Array(4)
const scratchWord = new Uint32Array(scratch.buffer)

/** XORs `data` with the 4-byte `key` (byte i with key[i & 3]): bytes up to alignment, 32-bit words, the tail. */
export function unmaskWords(data: Buffer, key: Buffer): void {
  const length = data.length
  let i = 0
  const lead = Math.min(length, (4 - (data.byteOffset & 3)) & 3)
  for (; i < lead; i++) data[i]! ^= key[i & 3]!
  for (let k = 0; k < 4; k++) scratch[k] = key[(i + k) & 3]!
  const word = scratchWord[0]!
  const count = (length - i) >>> 2
  const words = new Uint32Array(data.buffer, data.byteOffset + i, count)
  for (let w = 0; w < count; w++) words[w]! ^= word
  for (i += count << 2; i < length; i++) data[i]! ^= key[i & 3]!
}

/** The unmask in use, and whether it is bufferutil's native one. */
export const { unmask, native: nativeUnmask } = loadUnmask()

/** The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
}

/** An unmasked frame header for a payload of `length` bytes, first byte `byte0` (FIN, RSV, opcode). */
export function frameHeader(byte0: number, length: number): Buffer {
  if (length < 126) return Buffer.from([byte0, length])
  if (length < 0x10000) return Buffer.from([byte0, 126, length >> 8, length & 0xff])
  const header = Buffer.alloc(10)
  header[0] = byte0
  header[1] = 127
  header.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
  header.writeUInt32BE(length >>> 0, 6)
  return header
}

/** The frame echo of one connection, after the handshake: feed it chunks, write what it returns. */
class FrameEcho {
  readonly #head = Buffer.alloc(14) // the header of the current frame, as it arrives
  #headLength = 0
  #key = Buffer.alloc(4) // the masking key, rotated by the payload offset when a piece starts off a multiple of 4
  readonly #rotated = Buffer.alloc(4)
  #remaining = 0 // payload bytes of the current frame still to come
  #offset = 0 // payload bytes of the current frame seen
  #inPayload = false
  #closing = false
  /** Set once a close frame has been echoed whole: the caller then ends the socket. */
  closed = false

  /** The header length that the bytes so far say the frame has (2 until the second byte is in). */
  #headerSize(): number {
    if (this.#headLength < 2) return 2
    const length = this.#head[1]! & 0x7f
    return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (this.#head[1]! & 0x80 ? 4 : 0)
  }

  /** Parses the complete header; returns the echo's header. Throws on an unmasked frame. */
  #startFrame(): Buffer {
    const head = this.#head
    if ((head[1]! & 0x80) === 0) throw new Error('an unmasked client frame')
    let length = head[1]! & 0x7f
    let at = 2
    if (length === 126) {
      length = head.readUInt16BE(2)
      at = 4
    } else if (length === 127) {
      length = head.readUInt32BE(2) * 2 ** 32 + head.readUInt32BE(6)
      at = 10
    }
    this.#key = head.subarray(at, at + 4)
    this.#remaining = length
    this.#offset = 0
    this.#inPayload = length > 0
    const opcode = head[0]! & 0x0f
    if (opcode === 0x8) this.#closing = true
    return frameHeader(opcode === 0x9 ? (head[0]! & 0xf0) | 0xa : head[0]!, length) // a ping is answered by a pong
  }

  /** Echoes what `chunk` completes; returns the bytes to write (unmasked pieces of `chunk`, headers). */
  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = []
    let i = 0
    while (i < chunk.length && !this.closed) {
      if (!this.#inPayload) {
        while (i < chunk.length && this.#headLength < this.#headerSize()) this.#head[this.#headLength++] = chunk[i++]!
        if (this.#headLength < this.#headerSize()) break
        this.#headLength = 0
        out.push(this.#startFrame())
        if (this.#remaining === 0 && this.#closing) this.closed = true
        continue
      }
      const take = Math.min(this.#remaining, chunk.length - i)
      const piece = chunk.subarray(i, i + take)
      unmask(piece, this.#keyAt(this.#offset))
      out.push(piece)
      i += take
      this.#offset += take
      this.#remaining -= take
      if (this.#remaining === 0) {
        this.#inPayload = false
        if (this.#closing) this.closed = true
      }
    }
    return out
  }

  /** The masking key as seen from payload offset `offset`. */
  #keyAt(offset: number): Buffer {
    if ((offset & 3) === 0) return this.#key
    for (let k = 0; k < 4; k++) this.#rotated[k] = this.#key[(offset + k) & 3]!
    return this.#rotated
  }
}

const MAX_REQUEST = 8192

/** Serves one socket: the upgrade, then the echo. */
function serveSocket(socket: Socket): void {
  socket.setNoDelay(true)
  socket.on('error', () => socket.destroy())
  let request = ''
  let echo: FrameEcho | undefined
  socket.on('data', (chunk: Buffer) => {
    if (echo === undefined) {
      request += chunk.toString('latin1')
      const end = request.indexOf('\r\n\r\n')
      if (end < 0) {
        if (request.length > MAX_REQUEST) socket.destroy()
        return
      }
      const key = /^sec-websocket-key:[ \t]*([^\r\n]*?)[ \t]*$/im.exec(request.slice(0, end))?.[1]
      if (key === undefined) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        return
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`)
      echo = new FrameEcho()
      chunk = Buffer.from(request.slice(end + 4), 'latin1') // whatever followed the request (usually nothing)
      request = ''
    }
    if (echo.closed) return
    let out: Buffer[]
    try {
      out = echo.feed(chunk)
    } catch {
      socket.destroy()
      return
    }
    if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out))
    if (echo.closed) socket.end()
  })
}

/** Starts the raw echo on 127.0.0.1 (an ephemeral port unless given); resolves once it listens. */
export async function startRawEcho(port = 0): Promise<Server> {
  const server = createServer(serveSocket)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}
