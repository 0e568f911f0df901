/**
 * A hixie-75/76 connection as a {@link Transport} that speaks RFC 6455 frames to the connection
 * above it: hixie text frames from the socket become masked RFC 6455 text frames (as a client
 * sends them), and the server frames the connection writes become hixie frames on the socket. So
 * the connection, its loop, `send`, `close` and limits are the RFC 6455 ones, unchanged.
 *
 * What hixie cannot carry: binary messages (the connection is cut, `closed` says 1006), pings
 * and pongs (none is written; the heartbeat is off for these connections), close codes (a close
 * is 0xFF 0x00 in -76 and the end of TCP in -75).
 * @module
 */
import { EMPTY } from '../core/byte-queue.ts'
import { concatBytes } from '../core/bytes.ts'
import { Opcode } from '../core/constants.ts'
import { FrameDecoder } from '../core/decoder.ts'
import { frameHeaderLength, writeFrame } from '../core/encoder.ts'
import { ProtocolError } from '../core/errors.ts'
import type { Frame } from '../core/frame.ts'
import { encodeHixieClose, encodeHixieText, HixieDecoder } from '../core/legacy/hixie-framing.ts'
import { HixieVersion } from '../core/legacy/hixie-handshake.ts'
import type { Transport, TransportHandlers } from '../core/transport.ts'

const ZERO_KEY = new Uint8Array(4)
const zeroKey = (): Uint8Array => ZERO_KEY

/** A masked RFC 6455 frame (zero key: the payload as it is) carrying `payload`, as a client would send it. */
function clientFrame(opcode: Opcode, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(frameHeaderLength(payload.length, true) + payload.length)
  writeFrame({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode, payload }, bytes, 0, { mask: true, generateMaskingKey: zeroKey })
  return bytes
}

/** Translates between a hixie socket below and an RFC 6455 connection above. */
export class HixieTransport implements Transport, TransportHandlers {
  readonly #inner: Transport
  readonly #version: HixieVersion
  readonly #incoming: HixieDecoder
  // What the connection wrote (server frames), decoded on the next microtask into hixie frames.
  readonly #outgoing = new FrameDecoder({ role: 'client', maxFrameSize: Infinity })
  #written: Uint8Array[] = []
  #scheduled = false
  #text: Uint8Array[] = [] // fragments of a text message being written
  #handlers: TransportHandlers | undefined = undefined
  #leftover: Uint8Array
  #closeSent = false
  buffer: Uint8Array = EMPTY

  /** Wraps `inner` (the socket's transport) for `version`; `leftover` are bytes read after the handshake. */
  constructor(inner: Transport, version: HixieVersion, leftover: Uint8Array, maxMessageSize: number) {
    this.#inner = inner
    this.#version = version
    this.#leftover = leftover
    this.#incoming = new HixieDecoder({ version, maxMessageSize })
  }

  get bufferedAmount(): number {
    return this.#inner.bufferedAmount
  }

  get writable(): boolean {
    return this.#inner.writable
  }

  attach(handlers: TransportHandlers): void {
    this.#handlers = handlers
    this.#inner.attach(this)
    const leftover = this.#leftover
    this.#leftover = EMPTY
    if (leftover.length > 0) this.onData(leftover)
  }

  // ---- from the socket ----------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    const handlers = this.#handlers!
    this.#incoming.push(chunk)
    try {
      for (let frame = this.#incoming.next(); frame !== undefined; frame = this.#incoming.next()) {
        // The close frame (-76) becomes a close without a code (1005), a clean end.
        handlers.onData(clientFrame(frame.type === 'text' ? Opcode.TEXT : Opcode.CLOSE, frame.type === 'text' ? frame.data : EMPTY))
      }
    } catch (error) {
      // A bad hixie frame: there is no close code to send in hixie; the connection is cut.
      this.#inner.destroy()
      handlers.onClose(error)
    }
  }

  onEnd(): void {
    // hixie-75 has no closing frame: the end of TCP is its close.
    if (this.#version === HixieVersion.HIXIE_75) this.#handlers!.onData(clientFrame(Opcode.CLOSE, EMPTY))
    this.#handlers!.onEnd()
  }

  onClose(error: unknown): void {
    this.#handlers!.onClose(error)
  }

  // ---- from the connection ------------------------------------------------------------------

  reserve(length: number): number {
    const bytes = new Uint8Array(length)
    this.buffer = bytes
    this.#written.push(bytes)
    this.#schedule()
    return 0
  }

  write(chunks: readonly Uint8Array[]): boolean {
    for (const chunk of chunks) this.#written.push(chunk)
    this.#schedule()
    return this.#inner.writable
  }

  whenDrained(): Promise<void> {
    return this.#inner.whenDrained()
  }

  pause(): void {
    this.#inner.pause()
  }

  resume(): void {
    this.#inner.resume()
  }

  end(): void {
    this.#flush()
    this.#inner.end()
  }

  destroy(): void {
    this.#inner.destroy()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.#flush())
  }

  #flush(): void {
    this.#scheduled = false
    const written = this.#written
    if (written.length === 0) return
    this.#written = []
    for (const chunk of written) this.#outgoing.push(chunk)
    for (let frame = this.#outgoing.next(); frame !== undefined; frame = this.#outgoing.next()) this.#send(frame)
  }

  #send(frame: Frame): void {
    switch (frame.opcode) {
      case Opcode.TEXT:
      case Opcode.CONTINUATION:
        if (frame.opcode === Opcode.CONTINUATION && this.#text.length === 0) return this.#cut('a binary message cannot be sent over hixie')
        if (!frame.fin) {
          this.#text.push(frame.payload.slice())
          return
        }
        this.#inner.write([encodeHixieText(this.#text.length === 0 ? frame.payload : concatBytes([...this.#text, frame.payload]))])
        this.#text = []
        return
      case Opcode.BINARY:
        return this.#cut('a binary message cannot be sent over hixie')
      case Opcode.CLOSE:
        if (this.#closeSent) return
        this.#closeSent = true
        if (this.#version === HixieVersion.HIXIE_76) this.#inner.write([encodeHixieClose()])
        // hixie-75 has no close frame and its peer sends none: the close is answered here, so
        // that the closing handshake completes and TCP is closed.
        else queueMicrotask(() => this.#handlers?.onData(clientFrame(Opcode.CLOSE, EMPTY)))
        return
      default:
        // Pings and pongs have no hixie form.
        return
    }
  }

  #cut(reason: string): void {
    this.#inner.destroy()
    this.#handlers?.onClose(new ProtocolError('WS_ERR_NOT_SUPPORTED', reason))
  }
}
