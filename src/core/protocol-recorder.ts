/**
 * The recorders a `Protocol` uses when given no handler or output: they keep events and
 * bytes for `eventsReceived()` and `dataToSend()`, the way python websockets' tests read a protocol.
 * @module
 */
import { EMPTY } from './byte-queue.ts'
import type { ProtocolError } from './errors.ts'
import type { Message, MessageType } from './message.ts'
import type { ProtocolHandler, ProtocolOutput } from './protocol-types.ts'

/** An event as the default handler records it (see `Protocol.eventsReceived()`); `type` names the handler method. */
export type ProtocolEvent =
  | {
      /** onMessage. */ readonly type: 'message'
      /** The message. */ readonly message: Message
    }
  | {
      /** onFragment. */ readonly type: 'fragment'
      /** The message's type. */ readonly messageType: MessageType
      /** The frame's payload (a copy). */ readonly payload: Uint8Array
      /** Whether it begins a message. */ readonly first: boolean
      /** Whether it ends one. */ readonly fin: boolean
    }
  | {
      /** onCompressed. */ readonly type: 'compressed'
      /** The message's type. */ readonly messageType: MessageType
      /** The compressed payload (a copy). */ readonly payload: Uint8Array
      /** Whether it ends the message. */ readonly fin: boolean
    }
  | {
      /** onPing. */ readonly type: 'ping'
      /** The ping's payload (a copy). */ readonly payload: Uint8Array
    }
  | {
      /** onPong. */ readonly type: 'pong'
      /** The pong's payload (a copy). */ readonly payload: Uint8Array
    }
  | {
      /** onCloseFrame. */ readonly type: 'close'
      /** The close code (1005 for none). */ readonly code: number
      /** The close reason. */ readonly reason: string
    }
  | {
      /** onFail. */ readonly type: 'fail'
      /** The error that failed the connection. */ readonly error: ProtocolError
    }

/** Stands for a half-close (EOF) in `Protocol.dataToSend()`, as python `websockets`' `b""`. */
export const SEND_EOF: Uint8Array = new Uint8Array(0)

/** Records bytes to send, for `Protocol.dataToSend()`. */
export class RecordingOutput implements ProtocolOutput {
  buffer: Uint8Array = EMPTY
  readonly chunks: Uint8Array[] = []
  /** Set to false to stand for a peer that does not read (pongs are then owed). */
  writable = true
  /** Whether `destroy()` was called. */
  destroyed = false

  reserve(length: number): number {
    this.buffer = new Uint8Array(length)
    this.chunks.push(this.buffer)
    return 0
  }

  write(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) this.chunks.push(chunk.slice())
  }

  end(): void {
    this.chunks.push(SEND_EOF)
  }

  destroy(): void {
    this.destroyed = true
  }
}

/** Records events, for `Protocol.eventsReceived()`. */
export class RecordingHandler implements ProtocolHandler {
  readonly events: ProtocolEvent[] = []

  onMessage(message: Message): void {
    this.events.push({ type: 'message', message })
  }

  onFragment(messageType: MessageType, payload: Uint8Array, first: boolean, fin: boolean): void {
    this.events.push({ type: 'fragment', messageType, payload: payload.slice(), first, fin })
  }

  onCompressed(messageType: MessageType, payload: Uint8Array, fin: boolean): void {
    this.events.push({ type: 'compressed', messageType, payload: payload.slice(), fin })
  }

  onPing(payload: Uint8Array): void {
    this.events.push({ type: 'ping', payload: payload.slice() })
  }

  onPong(payload: Uint8Array): void {
    this.events.push({ type: 'pong', payload: payload.slice() })
  }

  onCloseFrame(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason })
  }

  onFail(error: ProtocolError): void {
    this.events.push({ type: 'fail', error })
  }
}

