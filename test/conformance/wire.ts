/**
 * An independent RFC 6455 frame codec for the conformance peer: it shares no code with wsflow, so
 * wsflow is judged by a second reading of the RFC, not by itself.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { isUtf8 } from 'node:buffer'

/** Opcodes of RFC 6455 §5.2 (and some reserved ones the cases send on purpose). */
export const Op = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const

/** A frame to send: everything the fuzzing peer may set, including values the RFC forbids. */
export interface FrameSpec {
  opcode: number
  payload?: Uint8Array | string | undefined
  /** Default true. */
  fin?: boolean | undefined
  /** RSV1..RSV3 as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3); default 0. */
  rsv?: number | undefined
  /** Overrides the role's masking (a client masks, a server does not). */
  mask?: boolean | undefined
}

/** A frame as read off the wire. */
export interface WireFrame {
  fin: boolean
  rsv: number
  opcode: number
  masked: boolean
  /** The masking key, when masked. */
  maskingKey?: Uint8Array | undefined
  /** Whether the length used the minimal encoding (RFC 6455 §5.2). */
  minimalLength: boolean
  payload: Uint8Array
}

const encoder = new TextEncoder()

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Bytes from numbers. */
export function hex(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Bytes of a payload given as bytes or as a string (UTF-8). */
export function toBytes(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0)
  return typeof payload === 'string' ? utf8(payload) : payload
}

/** Encodes one frame; `masked` decides the mask bit unless the spec overrides it. */
export function encodeWireFrame(spec: FrameSpec, masked: boolean): Uint8Array {
  const payload = toBytes(spec.payload)
  const mask = spec.mask ?? masked
  const length = payload.length
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8
  const header = 2 + extended + (mask ? 4 : 0)
  const out = new Uint8Array(header + length)
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f)
  if (extended === 0) {
    out[1] = length
  } else if (extended === 2) {
    out[1] = 126
    out[2] = length >>> 8
    out[3] = length & 0xff
  } else {
    out[1] = 127
    const high = Math.floor(length / 0x100000000)
    const view = new DataView(out.buffer)
    view.setUint32(2, high)
    view.setUint32(6, length >>> 0)
  }
  if (mask) out[1] = out[1]! | 0x80
  if (!mask) {
    out.set(payload, header)
    return out
  }
  const key = randomBytes(4)
  out.set(key, header - 4)
  for (let i = 0; i < length; i++) out[header + i] = payload[i]! ^ key[i & 3]!
  return out
}

/**
 * Reads frames from a stream of chunks: a chunk list with a read offset, so that waiting for a
 * 16 MiB frame copies its bytes once.
 */
export class WireReader {
  #chunks: Uint8Array[] = []
  #head = 0 // chunks before this index are consumed
  #offset = 0 // bytes consumed in chunks[head]
  #length = 0

  /** Bytes buffered. */
  get length(): number {
    return this.#length
  }

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  #peek(index: number): number {
    let i = this.#head
    let at = index + this.#offset
    for (;;) {
      const chunk = this.#chunks[i]!
      if (at < chunk.length) return chunk[at]!
      at -= chunk.length
      i++
    }
  }

  #take(count: number): Uint8Array {
    const out = new Uint8Array(count)
    let filled = 0
    while (filled < count) {
      const chunk = this.#chunks[this.#head]!
      const available = chunk.length - this.#offset
      const n = Math.min(available, count - filled)
      out.set(chunk.subarray(this.#offset, this.#offset + n), filled)
      filled += n
      this.#offset += n
      if (this.#offset === chunk.length) {
        this.#head++
        this.#offset = 0
      }
    }
    this.#length -= count
    if (this.#head > 1024) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
    return out
  }

  /** The next complete frame, or undefined when more bytes are needed. Unmasks masked payloads. */
  next(): WireFrame | undefined {
    if (this.#length < 2) return undefined
    const b0 = this.#peek(0)
    const b1 = this.#peek(1)
    const masked = (b1 & 0x80) !== 0
    let length = b1 & 0x7f
    let header = 2
    if (length === 126) {
      if (this.#length < 4) return undefined
      length = (this.#peek(2) << 8) | this.#peek(3)
      header = 4
    } else if (length === 127) {
      if (this.#length < 10) return undefined
      let value = 0
      for (let i = 2; i < 10; i++) value = value * 256 + this.#peek(i)
      length = value
      header = 10
    }
    if (length > 64 * 1024 * 1024) throw new Error(`peer: frame of ${length} bytes announced, over the peer's own 64 MiB cap`)
    const total = header + (masked ? 4 : 0) + length
    if (this.#length < total) return undefined
    this.#take(header)
    const key = masked ? this.#take(4) : undefined
    const payload = this.#take(length)
    if (key !== undefined) for (let i = 0; i < length; i++) payload[i] = payload[i]! ^ key[i & 3]!
    const minimalLength = header === 2 || (header === 4 ? length >= 126 : length >= 0x10000)
    return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, maskingKey: key, minimalLength, payload }
  }
}

/** Strict UTF-8 check (Node's own validator, not wsflow's). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || isUtf8(bytes)
}

/** Close codes a close frame may carry (RFC 6455 §7.4; 1012-1014 registered with IANA). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)
}

/** A readable form of bytes for reports: text when printable ASCII, else hex (truncated). */
export function show(bytes: Uint8Array, max = 24): string {
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f)
  if (printable && bytes.length <= max) return JSON.stringify(String.fromCharCode(...bytes))
  const head = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return `[${bytes.length} B: ${head}${bytes.length > max ? ' …' : ''}]`
}
