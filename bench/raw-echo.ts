/**
 * The ceiling of the throughput benches: a minimal WebSocket echo on node:net, doing only what an
 * echo must. It answers the HTTP upgrade (Sec-WebSocket-Accept by node:crypto sha1, a 101, no
 * extension, no subprotocol), then echoes every frame as it comes: masked in, unmasked out, 7-, 16-
 * and 64-bit lengths, a ping answered by a pong, a close answered by the same close and the end
 * of the socket. It checks nothing else (no UTF-8 validation, no limits, no reassembly of
 * fragments), which is why it is a ceiling and not a server.
 *
 * Large frames are streamed, never reassembled: the echo's header is made as soon as the frame's
 * header is parsed, then every piece of payload is unmasked in place as it arrives (the mask
 * offset kept across chunks) and goes out at the end of its frame or once a frame's pending
 * pieces reach 1 MiB (see WRITE_BATCH), so a connection holds at most about 1 MiB and every byte
 * is handled once. Unmasking is bufferutil's native `mask` (into the echo's buffer) when it loads
 * and WS_NO_BUFFER_UTIL is unset, else a copy and a loop over 32-bit words.
 * @module
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { createServer, type Server, type Socket } from 'node:net'

/** XORs `source` with the 4-byte `key` (byte i with key[i & 3]) into `output` from `offset`. */
type MaskInto = (source: Buffer, key: Buffer, output: Buffer, offset: number, length: number) => void

const scratch = new Uint8Array(4)
const scratchWord = new Uint32Array(scratch.buffer)

/** XORs `data` in place with the 4-byte `key` (byte i with key[i & 3]): bytes up to alignment, 32-bit words, the tail. */
export function unmaskWords(data: Buffer, key: Buffer): void {
  const length = data.length
  let i = 0
  const lead = Math.min(length, (4 - (data.byteOffset & 3)) & 3)
  for (; i < lead; i++) data[i]! ^= key[i & 3]!
  const count = (length - i) >>> 2
  if (count > 0) {
    for (let k = 0; k < 4; k++) scratch[k] = key[(i + k) & 3]!
    const word = scratchWord[0]!
    const words = new Uint32Array(data.buffer, data.byteOffset + i, count)
    for (let w = 0; w < count; w++) words[w]! ^= word
    i += count << 2
  }
  for (; i < length; i++) data[i]! ^= key[i & 3]!
}

function loadMask(): { maskInto: MaskInto; native: boolean } {
  try {
    if (process.env.WS_NO_BUFFER_UTIL) throw new Error('not wanted') // as ws does
    const addon = createRequire(import.meta.url)('bufferutil') as { mask: MaskInto }
    return { maskInto: addon.mask, native: true }
  } catch {
    const maskInto: MaskInto = (source, key, output, offset, length) => {
      source.copy(output, offset, 0, length)
      unmaskWords(output.subarray(offset, offset + length), key)
    }
    return { maskInto, native: false }
  }
}

/** The unmasking in use (bufferutil's `mask`, or a copy and {@link unmaskWords}), and whether it is native. */
export const { maskInto, native: nativeMask } = loadMask()

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

  /** Whether the bytes fed so far end inside a frame's payload. */
  get inPayload(): boolean {
    return this.#inPayload
  }

  /** Echoes what `chunk` completes: returns the echo's bytes (headers, unmasked payload). Throws on an unmasked frame. */
  feed(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length + 10) // an echo is 4 bytes shorter than its frame; +10 for a header begun in an earlier chunk
    const head = this.#head
    let w = 0
    let i = 0
    while (i < chunk.length && !this.closed) {
      if (!this.#inPayload) {
        while (this.#headLength < 2 && i < chunk.length) head[this.#headLength++] = chunk[i++]!
        if (this.#headLength < 2) break
        const length7 = head[1]! & 0x7f
        if ((head[1]! & 0x80) === 0) throw new Error('an unmasked client frame')
        const size = length7 === 126 ? 8 : length7 === 127 ? 14 : 6
        while (this.#headLength < size && i < chunk.length) head[this.#headLength++] = chunk[i++]!
        if (this.#headLength < size) break
        this.#headLength = 0
        w = this.#startFrame(out, w, size)
        continue
      }
      const take = Math.min(this.#remaining, chunk.length - i)
      maskInto(chunk.subarray(i, i + take), this.#keyAt(this.#offset), out, w, take)
      w += take
      i += take
      this.#offset += take
      this.#remaining -= take
      if (this.#remaining === 0) this.#endFrame()
    }
    return out.subarray(0, w)
  }

  /** Takes the complete header of `size` bytes; writes the echo's header into `out` at `w`; returns the new `w`. */
  #startFrame(out: Buffer, w: number, size: number): number {
    const head = this.#head
    const length = size === 6 ? head[1]! & 0x7f : size === 8 ? head.readUInt16BE(2) : head.readUInt32BE(2) * 2 ** 32 + head.readUInt32BE(6)
    this.#key = head.subarray(size - 4, size)
    this.#remaining = length
    this.#offset = 0
    this.#inPayload = true
    const opcode = head[0]! & 0x0f
    this.#closing = opcode === 0x8
    out[w] = opcode === 0x9 ? (head[0]! & 0xf0) | 0xa : head[0]! // a ping is answered by a pong
    if (length < 126) {
      out[w + 1] = length
      w += 2
    } else if (length < 0x10000) {
      out[w + 1] = 126
      out.writeUInt16BE(length, w + 2)
      w += 4
    } else {
      out[w + 1] = 127
      out.writeUInt32BE(Math.floor(length / 2 ** 32), w + 2)
      out.writeUInt32BE(length >>> 0, w + 6)
      w += 10
    }
    if (length === 0) this.#endFrame()
    return w
  }

  #endFrame(): void {
    this.#inPayload = false
    if (this.#closing) this.closed = true
  }

  /** The masking key as seen from payload offset `offset`. */
  #keyAt(offset: number): Buffer {
    if ((offset & 3) === 0) return this.#key
    for (let k = 0; k < 4; k++) this.#rotated[k] = this.#key[(offset + k) & 3]!
    return this.#rotated
  }
}

const MAX_REQUEST = 8192

/**
 * A large frame's echo is written in pieces of about this size, not one per received chunk: on
 * this bench's 2-core VM, echoing 1 MiB frames as 64 KiB writes (one per chunk read) ran at about
 * half the rate of ws, which writes each message whole, and 256 KiB to 1 MiB writes matched it.
 */
const WRITE_BATCH = 1 << 20

/** Serves one socket: the upgrade, then the echo. */
function serveSocket(socket: Socket): void {
  socket.setNoDelay(true)
  socket.on('error', () => socket.destroy())
  let request = ''
  let echo: FrameEcho | undefined
  let held: Buffer[] = [] // echo bytes not written yet, one buffer per chunk received
  let heldBytes = 0
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
    let out: Buffer
    try {
      out = echo.feed(chunk)
    } catch {
      socket.destroy()
      return
    }
    if (out.length > 0) {
      held.push(out)
      heldBytes += out.length
    }
    // Written at the end of a frame, or once a large frame's pieces add up to WRITE_BATCH (one
    // writev: no copy, no large allocation).
    if (held.length > 0 && (!echo.inPayload || heldBytes >= WRITE_BATCH)) {
      if (held.length === 1) socket.write(held[0]!)
      else {
        socket.cork()
        for (const piece of held) socket.write(piece)
        socket.uncork()
      }
      held = []
      heldBytes = 0
    }
    if (echo.closed) socket.end()
  })
}

/** Starts the raw echo on 127.0.0.1 (an ephemeral port unless given); resolves once it listens. */
export async function startRawEcho(port = 0): Promise<Server> {
  const server = createServer(serveSocket)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}
