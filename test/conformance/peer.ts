/**
 * The fuzzing peer: a raw RFC 6455 endpoint over node:net on 127.0.0.1 that does the opening
 * handshake by hand, sends crafted frames (whole, frame by frame, or in chops of a few octets) and
 * reads wsflow's frames with the independent decoder of wire.ts, checking each one against the RFC.
 *
 * As a client it tests wsflow's server; as a server (see {@link FakeServer}) it tests wsflow's client.
 * Like Autobahn's fuzzer, it answers a close frame with a close frame echoing the code, and as a
 * server it closes TCP once the closing handshake is done.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { Op, WireReader, concat, encodeWireFrame, isSendableCloseCode, isValidUtf8, show, toBytes, type FrameSpec, type WireFrame } from './wire.ts'
import { PeerCodec, judgeResponse, offerProblems, parseExtensionList, type ExtElement, type PmceParams } from './pmce.ts'

/** The role the peer plays: 'client' tests wsflow's server, 'server' tests wsflow's client. */
export type PeerRole = 'client' | 'server'

/** Something wsflow sent, other than a close frame. */
export interface PeerEvent {
  kind: 'text' | 'binary' | 'ping' | 'pong'
  data: Uint8Array
  /** Frames the message came in (1 unless wsflow fragmented it). */
  frames: number
  /** permessage-deflate: the message came compressed (RSV1); `data` is then what it inflated to. */
  compressed?: boolean | undefined
  /** permessage-deflate: the compressed size on the wire. */
  wireLength?: number | undefined
}

/**
 * What the server answers to the client's Sec-WebSocket-Extensions offers (parsed; empty when it
 * sent none): the response value, or undefined for no Sec-WebSocket-Extensions header.
 */
export type ExtensionAnswer = (offers: readonly ExtElement[]) => string | undefined

/** How bytes are cut into socket writes: one write, one write per frame, or writes of `octets` bytes. */
export type Chop = 'whole' | 'frames' | { octets: number }

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const HANDSHAKE_TIMEOUT_MS = 2000
const FRAME_GAP_MS = 5 // between writes of the 'frames' mode, so they travel as separate segments

/** The Sec-WebSocket-Accept value of a key (RFC 6455 §4.2.2 item 5.4). */
export function acceptOf(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64')
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** One connection of the fuzzing peer, after the opening handshake. */
export class Peer {
  readonly role: PeerRole
  readonly events: PeerEvent[] = []
  /** wsflow frames that break RFC 6455, described. */
  readonly violations: string[] = []
  /** The timeline: what was sent (→) and received (←), with milliseconds since the handshake. */
  readonly log: string[] = []
  /** The first close frame wsflow sent. */
  closeReceived: { code: number | undefined; reason: Uint8Array; at: number } | undefined
  /** The first close frame the peer sent, and whether it was the echo of wsflow's. */
  closeSent: { code: number | undefined; echo: boolean; at: number } | undefined
  /** wsflow half-closed TCP (FIN) or the socket closed under us. */
  remoteEnded = false
  tcpClosed = false
  /** Who ended TCP: wsflow ('remote'), the peer after the closing handshake ('me'), or the peer's timeout. */
  tcpClosedBy: 'remote' | 'me' | 'timeout' | undefined
  /** Set by scripts that expect wsflow to fail fast and had to send more because it did not. */
  failFastMissed = false
  /** Whether to answer wsflow's close frame at once (as Autobahn does); a script may hold it back. */
  echoClose = true
  /** permessage-deflate as agreed in the handshake (RFC 7692), or undefined when not negotiated. */
  readonly deflate: PmceParams | undefined
  /** The Sec-WebSocket-Extensions value wsflow sent: its response (peer as client) or its offer (peer as server). */
  readonly wsflowExtensions: string | undefined

  readonly #socket: Socket
  readonly #reader = new WireReader()
  readonly #start = performance.now()
  #waiters: (() => void)[] = []
  #message: { kind: 'text' | 'binary'; parts: Uint8Array[]; frames: number; compressed: boolean } | undefined
  #endedByMe = false
  #maskedFrames = 0
  readonly #maskingKeys = new Set<string>()
  #bytesReceived = 0
  readonly #codec: PeerCodec | undefined

  constructor(socket: Socket, role: PeerRole, head: Uint8Array, pmce: { params: PmceParams | undefined; header: string | undefined; problems: string[] } = { params: undefined, header: undefined, problems: [] }) {
    this.#socket = socket
    this.role = role
    this.deflate = pmce.params
    this.wsflowExtensions = pmce.header
    this.#codec = pmce.params === undefined ? undefined : new PeerCodec(pmce.params, role)
    for (const problem of pmce.problems) this.#violation(`handshake: ${problem}`)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => {
      this.remoteEnded = true
      this.note('← FIN')
      // wsflow half-closed: finish our side too (a close echo, if any, is already written).
      if (!this.#socket.destroyed) this.#socket.end()
      this.#notify()
    })
    socket.on('error', (error: Error) => this.note(`socket error ${error.message}`))
    socket.on('close', () => {
      this.tcpClosed = true
      this.tcpClosedBy ??= this.#endedByMe ? 'me' : 'remote'
      this.note(`TCP closed (by ${this.tcpClosedBy})`)
      this.#notify()
    })
    if (head.length > 0) this.#onData(head)
  }

  /** Milliseconds since the handshake. */
  get elapsed(): number {
    return performance.now() - this.#start
  }

  /** Whether the peer initiated the closing handshake (Autobahn's "closedByMe"). */
  get closedByMe(): boolean {
    return this.closeSent !== undefined && !this.closeSent.echo
  }

  /** Whether scripts should stop: wsflow sent a close frame or TCP is going away. */
  get stopped(): boolean {
    return this.closeReceived !== undefined || this.remoteEnded || this.tcpClosed
  }

  /** Adds a timeline entry. */
  note(text: string): void {
    if (this.log.length < 200) this.log.push(`${this.elapsed.toFixed(0).padStart(5)} ms ${text}`)
  }

  /** Sends frames (masked when the peer is a client), cut into writes as `chop` says. No-op once stopped. */
  async send(frames: FrameSpec | readonly FrameSpec[], chop: Chop = 'whole'): Promise<void> {
    const list = Array.isArray(frames) ? (frames as readonly FrameSpec[]) : [frames as FrameSpec]
    const encoded = list.map((f) => encodeWireFrame(f, this.role === 'client'))
    for (const f of list) this.#noteSent(f)
    for (const f of list) {
      // A malformed close frame (RSV bits, fragmented) is a protocol error to fail, not a close to echo.
      if (f.opcode === Op.CLOSE && (f.fin ?? true) && (f.rsv ?? 0) === 0 && this.closeSent === undefined) {
        const p = toBytes(f.payload)
        // a close sent after wsflow's (held back by the script) answers it
        this.closeSent = { code: p.length >= 2 ? (p[0]! << 8) | p[1]! : undefined, echo: this.closeReceived !== undefined, at: this.elapsed }
      }
    }
    if (this.closeReceived !== undefined && this.closeSent !== undefined && this.role === 'server') {
      // a held-back close answer was just sent: the closing handshake is done
      await this.sendRaw(concat(encoded))
      this.endTcp()
      return
    }
    if (chop === 'frames') {
      for (const bytes of encoded) {
        if (!(await this.#write(bytes))) return
        await sleep(FRAME_GAP_MS)
      }
      return
    }
    const all = encoded.length === 1 ? encoded[0]! : concat(encoded)
    if (chop === 'whole') {
      await this.#write(all)
      return
    }
    await this.sendRaw(all, chop.octets)
  }

  /** Writes raw bytes in pieces of `octets` bytes (all at once by default). No-op once stopped. */
  async sendRaw(bytes: Uint8Array, octets = bytes.length): Promise<void> {
    const step = Math.max(1, octets)
    for (let offset = 0; offset < bytes.length; offset += step) {
      if (!(await this.#write(bytes.subarray(offset, offset + step)))) return
      if (step < bytes.length) await tick()
    }
  }

  /** Sends a close frame with an optional code and reason (raw bytes allowed, for invalid ones). */
  sendClose(code?: number, reason: Uint8Array | string = new Uint8Array(0)): Promise<void> {
    const r = toBytes(reason)
    const payload = code === undefined ? new Uint8Array(0) : concat([Uint8Array.of(code >>> 8, code & 0xff), r])
    return this.send({ opcode: Op.CLOSE, payload })
  }

  /** Resolves true once `predicate` holds, false after `ms` milliseconds. */
  waitUntil(predicate: () => boolean, ms: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check)
        resolve(predicate())
      }, ms)
      const check = (): void => {
        if (!predicate()) return
        clearTimeout(timer)
        this.#waiters = this.#waiters.filter((w) => w !== check)
        resolve(true)
      }
      this.#waiters.push(check)
    })
  }

  /** Waits for `count` events (or for the connection to stop), at most `ms`. */
  waitEvents(count: number, ms: number): Promise<boolean> {
    return this.waitUntil(() => this.events.length >= count || this.stopped, ms)
  }

  /** Waits for a close frame from wsflow or the end of TCP, at most `ms`. */
  waitClose(ms: number): Promise<boolean> {
    return this.waitUntil(() => this.stopped, ms)
  }

  /** Waits for TCP to close; on timeout destroys the socket and records it. Resolves true if it closed by itself. */
  async waitTcpClose(ms: number): Promise<boolean> {
    const closed = await this.waitUntil(() => this.tcpClosed, ms)
    if (!closed) {
      this.tcpClosedBy = 'timeout'
      this.note(`timeout: TCP still open after ${ms} ms, destroying it`)
      this.destroy()
      await this.waitUntil(() => this.tcpClosed, 1000)
    }
    return closed
  }

  /** Destroys the socket. */
  destroy(): void {
    this.#socket.destroy()
  }

  /** Sleeps `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return sleep(ms)
  }

  /**
   * Compresses one message with the peer's own permessage-deflate (RFC 7692 §7.2.1) as agreed in
   * the handshake; `final` ends the DEFLATE stream with a BFINAL block (§7.2.3.4). Throws when the
   * extension was not negotiated.
   */
  compress(data: Uint8Array | string, final = false): Uint8Array {
    if (this.#codec === undefined) throw new Error('peer: permessage-deflate was not negotiated')
    return this.#codec.compress(toBytes(data), final)
  }

  /**
   * The frames of one compressed message (RFC 7692 §6.1: RSV1 on the first frame only), its
   * compressed payload cut into frames of `fragment` bytes (default: one frame).
   */
  compressedFrames(opcode: number, data: Uint8Array | string, fragment = Infinity, final = false): FrameSpec[] {
    const payload = this.compress(data, final)
    const frames: FrameSpec[] = []
    for (let offset = 0; offset < payload.length || frames.length === 0; offset += fragment) {
      const end = Math.min(payload.length, offset + fragment)
      frames.push({ opcode: frames.length === 0 ? opcode : Op.CONT, payload: payload.subarray(offset, end), fin: end >= payload.length, rsv: frames.length === 0 ? 4 : 0 })
    }
    return frames
  }

  async #write(bytes: Uint8Array): Promise<boolean> {
    const socket = this.#socket
    if ((this.closeReceived !== undefined && this.echoClose) || this.remoteEnded || socket.destroyed || !socket.writable) return false
    if (!socket.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done)
          socket.off('close', done)
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
      })
    }
    return !socket.destroyed
  }

  #noteSent(f: FrameSpec): void {
    const payload = toBytes(f.payload)
    if (this.log.length > 150) return
    this.note(`→ ${describe({ fin: f.fin ?? true, rsv: f.rsv ?? 0, opcode: f.opcode, masked: f.mask ?? this.role === 'client', payload })}`)
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w()
  }

  #onData(chunk: Uint8Array): void {
    this.#bytesReceived += chunk.length
    this.#reader.push(chunk)
    try {
      for (let frame = this.#reader.next(); frame !== undefined; frame = this.#reader.next()) this.#onFrame(frame)
    } catch (error) {
      this.violations.push(`unreadable frame: ${(error as Error).message}`)
      this.destroy()
    }
    this.#notify()
  }

  #violation(text: string): void {
    if (this.violations.length < 20) this.violations.push(text)
    this.note(`VIOLATION ${text}`)
  }

  #onFrame(frame: WireFrame): void {
    if (this.log.length < 150) this.note(`← ${describe(frame)}`)
    // RFC 6455 §5.1: a server MUST NOT mask frames it sends; a client MUST mask every frame.
    if (this.role === 'client' && frame.masked) this.#violation('the server sent a masked frame (§5.1)')
    if (this.role === 'server' && !frame.masked) this.#violation('the client sent an unmasked frame (§5.1)')
    // RFC 6455 §5.3: masking keys MUST be unpredictable: a client reusing keys is caught here.
    if (frame.maskingKey !== undefined) {
      this.#maskedFrames++
      this.#maskingKeys.add(Buffer.from(frame.maskingKey).toString('hex'))
      if (this.#maskedFrames === 16 && this.#maskingKeys.size < 8) this.#violation(`only ${this.#maskingKeys.size} distinct masking keys in 16 frames (§5.3)`)
    }
    // RFC 6455 §5.2: the minimal number of bytes MUST be used to encode the length.
    if (!frame.minimalLength) this.#violation(`a payload length of ${frame.payload.length} not in its minimal encoding (§5.2)`)
    if (this.deflate === undefined) {
      // RFC 6455 §5.2: RSV bits MUST be 0 without an extension (none is negotiated here).
      if (frame.rsv !== 0) this.#violation(`RSV bits ${frame.rsv} set without an extension (§5.2)`)
    } else if (frame.rsv !== 0) {
      // RFC 7692 §6: permessage-deflate gives RSV1 a meaning, and only on the first frame of a data
      // message (§6.1: never on control frames, never on continuation frames); RSV2 and RSV3 stay 0.
      if ((frame.rsv & 3) !== 0) this.#violation(`RSV2/RSV3 set (rsv ${frame.rsv}) with only permessage-deflate negotiated (RFC 6455 §5.2)`)
      if ((frame.rsv & 4) !== 0 && frame.opcode >= 0x8) this.#violation(`RSV1 set on a control frame (opcode ${frame.opcode}, RFC 7692 §6.1)`)
      if ((frame.rsv & 4) !== 0 && frame.opcode === Op.CONT) this.#violation('RSV1 set on a continuation frame (RFC 7692 §6.1)')
    }
    if (this.closeReceived !== undefined && (frame.opcode < 0x8 || frame.opcode === Op.CLOSE)) {
      // RFC 6455 §5.5.1: after sending a close frame, the endpoint MUST NOT send any more data
      // frames (control frames such as a pong still may be sent; a second close makes no sense).
      this.#violation(`a ${frame.opcode === Op.CLOSE ? 'second close frame' : `data frame (opcode ${frame.opcode})`} after the close frame (§5.5.1)`)
      return
    }
    const opcode = frame.opcode
    if (opcode >= 0x8) {
      // RFC 6455 §5.5: control frames are at most 125 bytes and not fragmented.
      if (!frame.fin) this.#violation('a fragmented control frame (§5.5)')
      if (frame.payload.length > 125) this.#violation(`a control frame of ${frame.payload.length} bytes (§5.5)`)
    }
    switch (opcode) {
      case Op.CONT: {
        const message = this.#message
        if (message === undefined) {
          this.#violation('a continuation frame without a message to continue (§5.4)')
          return
        }
        message.parts.push(frame.payload)
        message.frames++
        if (frame.fin) this.#finishMessage()
        return
      }
      case Op.TEXT:
      case Op.BINARY: {
        if (this.#message !== undefined) this.#violation('a new data frame inside a fragmented message (§5.4)')
        this.#message = { kind: opcode === Op.TEXT ? 'text' : 'binary', parts: [frame.payload], frames: 1, compressed: this.deflate !== undefined && (frame.rsv & 4) !== 0 }
        if (frame.fin) this.#finishMessage()
        return
      }
      case Op.PING:
      case Op.PONG:
        this.events.push({ kind: opcode === Op.PING ? 'ping' : 'pong', data: frame.payload, frames: 1 })
        return
      case Op.CLOSE:
        this.#onClose(frame.payload)
        return
      default:
        this.#violation(`reserved opcode ${opcode} (§5.2)`)
    }
  }

  #finishMessage(): void {
    const message = this.#message!
    this.#message = undefined
    let data = message.parts.length === 1 ? message.parts[0]! : concat(message.parts)
    const wireLength = data.length
    if (message.compressed) {
      // RFC 7692 §7.2.2: the independent inflater, with the window and context takeover agreed.
      try {
        const inflated = this.#codec!.inflate(data)
        for (const problem of inflated.problems) this.#violation(`compressed ${message.kind} message of ${wireLength} B: ${problem}`)
        data = inflated.data
      } catch (error) {
        this.#violation(`a compressed ${message.kind} message (${show(data)}) the independent inflater cannot decode: ${(error as Error).message}`)
      }
    }
    // RFC 6455 §5.6 / §8.1: text messages are UTF-8.
    if (message.kind === 'text' && !isValidUtf8(data)) this.#violation(`a text message that is not UTF-8: ${show(data)}`)
    this.events.push({ kind: message.kind, data, frames: message.frames, compressed: message.compressed, wireLength })
  }

  #onClose(payload: Uint8Array): void {
    let code: number | undefined
    let reason: Uint8Array = new Uint8Array(0)
    // RFC 6455 §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
    if (payload.length === 1) this.#violation('a close frame with a 1-byte payload (§5.5.1)')
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!
      reason = payload.subarray(2)
      if (!isSendableCloseCode(code)) this.#violation(`a close frame with code ${code}, which may not be sent (§7.4)`)
      if (!isValidUtf8(reason)) this.#violation('a close reason that is not UTF-8 (§5.5.1)')
    }
    this.closeReceived = { code, reason, at: this.elapsed }
    if (this.closeSent === undefined && this.echoClose) {
      // RFC 6455 §5.5.1: answer a close frame with a close frame, echoing the status code.
      const echo = code === undefined ? new Uint8Array(0) : Uint8Array.of(code >>> 8, code & 0xff)
      this.closeSent = { code, echo: true, at: this.elapsed }
      this.note(`→ close echo ${code ?? '(empty)'}`)
      if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(encodeWireFrame({ opcode: Op.CLOSE, payload: echo }, this.role === 'client'))
    }
    // RFC 6455 §7.1.1: the server closes TCP first once the closing handshake is done.
    if (this.role === 'server' && this.closeSent !== undefined) this.endTcp()
  }

  /** Half-closes TCP from the peer's side (as a server after the closing handshake). */
  endTcp(): void {
    if (this.#socket.destroyed) return
    this.#endedByMe = true
    this.note('→ FIN')
    this.#socket.end()
    // A peer that never answers our FIN is cut off after a while.
    setTimeout(() => this.#socket.destroy(), 1000).unref()
  }

  /** Bytes received from wsflow after the handshake. */
  get bytesReceived(): number {
    return this.#bytesReceived
  }
}

function describe(frame: { fin: boolean; rsv: number; opcode: number; masked: boolean; payload: Uint8Array }): string {
  const name = ['cont', 'text', 'binary', 'op3', 'op4', 'op5', 'op6', 'op7', 'close', 'ping', 'pong', 'op11', 'op12', 'op13', 'op14', 'op15'][frame.opcode]
  let body = show(frame.payload)
  if (frame.opcode === Op.CLOSE && frame.payload.length >= 2) {
    body = `code ${(frame.payload[0]! << 8) | frame.payload[1]!} reason ${show(frame.payload.subarray(2))}`
  }
  return `${name}${frame.fin ? '' : ' fin=0'}${frame.rsv ? ` rsv=${frame.rsv}` : ''}${frame.masked ? ' masked' : ''} ${body}`
}

/** Reads an HTTP head (up to the empty line) from a socket; resolves the head and the bytes after it. */
function readHead(socket: Socket): Promise<{ head: string; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => fail(new Error('handshake timed out')), HANDSHAKE_TIMEOUT_MS)
    const cleanup = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
    }
    const fail = (error: Error): void => {
      cleanup()
      reject(error)
    }
    const onClose = (): void => fail(new Error('closed during the handshake'))
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) {
        if (buffered.length > 16384) fail(new Error('handshake head too large'))
        return
      }
      cleanup()
      socket.pause()
      resolve({ head: buffered.subarray(0, end).toString('latin1'), rest: new Uint8Array(buffered.subarray(end + 4)) })
    }
    socket.on('data', onData)
    socket.on('close', onClose)
  })
}

function headerOf(head: string, name: string): string | undefined {
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim()
  }
  return undefined
}

/** Every field of a header, joined with ", " (RFC 9110 §5.3); undefined when absent. */
function headerList(head: string, name: string): string | undefined {
  const values: string[] = []
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) values.push(line.slice(colon + 1).trim())
  }
  return values.length === 0 ? undefined : values.join(', ')
}

/** Parses an extension list, recording a syntax error as a problem. */
function parseList(value: string | undefined, problems: string[], what: string): ExtElement[] {
  if (value === undefined) return []
  try {
    return parseExtensionList(value)
  } catch (error) {
    problems.push(`${what}: ${(error as Error).message}`)
    return []
  }
}

/** Options of {@link connectPeer}. */
export interface ConnectPeerOptions {
  /** The request path (default '/'). */
  path?: string | undefined
  /** A Sec-WebSocket-Extensions offer to send (e.g. 'permessage-deflate; client_max_window_bits'). */
  extensions?: string | undefined
}

/** Connects to a WebSocket server at 127.0.0.1:`port` and does the client's opening handshake by hand. */
export async function connectPeer(port: number, options: ConnectPeerOptions = {}): Promise<Peer> {
  const path = options.path ?? '/'
  const socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true })
  socket.on('error', () => undefined)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const key = randomBytes(16).toString('base64')
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `${options.extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${options.extensions}\r\n`}\r\n`,
      'latin1',
    )
    const { head, rest } = await readHead(socket)
    const status = head.slice(0, head.indexOf('\r\n'))
    if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`handshake refused: ${status}`)
    if (headerOf(head, 'sec-websocket-accept') !== acceptOf(key)) throw new Error('wrong Sec-WebSocket-Accept')
    if (headerOf(head, 'upgrade')?.toLowerCase() !== 'websocket') throw new Error('no Upgrade: websocket')
    // RFC 7692 §5 / §7.1: the response must honour one of the offers.
    const problems: string[] = []
    const header = headerList(head, 'sec-websocket-extensions')
    const offers = parseList(options.extensions, problems, 'the offer')
    const response = parseList(header, problems, "wsflow's Sec-WebSocket-Extensions response")
    const judged = judgeResponse(offers, response)
    problems.push(...judged.problems)
    const peer = new Peer(socket, 'client', rest, { params: judged.params, header, problems })
    socket.resume()
    return peer
  } catch (error) {
    socket.destroy()
    throw error
  }
}

/** A fake WebSocket server on 127.0.0.1 (port 0) that answers the handshake by hand and yields a {@link Peer} per connection. */
export class FakeServer {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #waiters: { resolve: (peer: Peer) => void; reject: (error: unknown) => void; cork: boolean; answer: ExtensionAnswer | undefined }[] = []

  private constructor(server: Server) {
    this.#server = server
    server.on('connection', (socket) => this.#onConnection(socket))
  }

  /** Starts listening on 127.0.0.1 with a free port. */
  static async start(): Promise<FakeServer> {
    const server = createServer({ allowHalfOpen: true })
    const fake = new FakeServer(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return fake
  }

  /** The ws:// URL to connect to. */
  get url(): string {
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening')
    return `ws://127.0.0.1:${address.port}/`
  }

  /**
   * Resolves with the peer of the next connection, once its handshake is answered; rejects after
   * `ms`. With `cork`, the 101 response is held back until the next macrotask, so that the frames a
   * script sends at once travel in the same TCP segment as the response. `answer` gives the
   * Sec-WebSocket-Extensions response to the client's offers (default: none, nothing accepted).
   */
  nextPeer(ms = HANDSHAKE_TIMEOUT_MS, cork = false, answer?: ExtensionAnswer): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(new Error('no connection from the client'))
      }, ms)
      const waiter = {
        resolve: (peer: Peer) => {
          clearTimeout(timer)
          resolve(peer)
        },
        reject: (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
        cork,
        answer,
      }
      this.#waiters.push(waiter)
    })
  }

  /** Closes the server and every socket it accepted. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #onConnection(socket: Socket): Promise<void> {
    this.#sockets.add(socket)
    socket.on('close', () => this.#sockets.delete(socket))
    socket.on('error', () => undefined)
    const waiter = this.#waiters.shift()
    try {
      const { head, rest } = await readHead(socket)
      const key = headerOf(head, 'sec-websocket-key')
      if (!head.startsWith('GET ') || key === undefined) throw new Error(`not a WebSocket request: ${head.slice(0, 80)}`)
      if (headerOf(head, 'sec-websocket-version') !== '13') throw new Error('Sec-WebSocket-Version is not 13')
      if (waiter?.cork === true) {
        socket.cork()
        setImmediate(() => socket.uncork())
      }
      // RFC 7692 §5: wsflow's offers must be valid; the answer is this peer's own choice.
      const problems: string[] = []
      const offered = headerList(head, 'sec-websocket-extensions')
      const offers = parseList(offered, problems, "wsflow's Sec-WebSocket-Extensions offer")
      problems.push(...offerProblems(offers))
      const answer = waiter?.answer?.(offers)
      let params: PmceParams | undefined
      if (answer !== undefined) {
        const judged = judgeResponse(offers, parseExtensionList(answer))
        if (judged.problems.length > 0) throw new Error(`the case's own answer ${JSON.stringify(answer)} to ${JSON.stringify(offered)} is wrong: ${judged.problems.join('; ')}`)
        params = judged.params
      }
      const extensions = answer === undefined ? '' : `Sec-WebSocket-Extensions: ${answer}\r\n`
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n${extensions}\r\n`, 'latin1')
      const peer = new Peer(socket, 'server', rest, { params, header: offered, problems })
      socket.resume()
      if (waiter === undefined) socket.destroy()
      else waiter.resolve(peer)
    } catch (error) {
      socket.destroy()
      waiter?.reject(error)
    }
  }
}
