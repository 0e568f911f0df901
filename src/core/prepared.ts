/**
 * Prepared messages: a message encoded once, so that the same bytes go to many connections (a
 * broadcast, a pub/sub topic) without a frame built per recipient.
 * @module
 */
import { Opcode } from './constants.ts'
import { frameHeaderLength, writeFrame } from './encoder.ts'
import type { Frame } from './frame.ts'
import { toMessage, type Message, type MessageType, type Outgoing } from './message.ts'

/**
 * A message with its unmasked frame (a server's frame: header and payload) made once, on first
 * use. Clients mask every frame with a fresh key (RFC 6455 §5.3), so a client sends `data` as
 * any message; a connection with permessage-deflate compresses `data` itself.
 */
export class PreparedMessage {
  /** The message's type. */
  readonly type: MessageType
  /** The message's payload (not copied: leave it unchanged while the message is in use). */
  readonly data: Uint8Array
  #frame: Uint8Array | undefined = undefined

  /** Prepares `message` (not copied). */
  constructor(message: Message) {
    this.type = message.type
    this.data = message.data
  }

  /** The whole unmasked frame: FIN, the opcode, the length and the payload (RFC 6455 §5.2). */
  get frame(): Uint8Array {
    if (this.#frame === undefined) {
      const frame: Frame = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: this.type === 'text' ? Opcode.TEXT : Opcode.BINARY, payload: this.data }
      const bytes = new Uint8Array(frameHeaderLength(this.data.length, false) + this.data.length)
      writeFrame(frame, bytes, 0)
      this.#frame = bytes
    }
    return this.#frame
  }
}

/** Prepares a message to send to many connections: a string as text, bytes as binary. */
export function prepareMessage(data: Outgoing): PreparedMessage {
  return new PreparedMessage(toMessage(data))
}
