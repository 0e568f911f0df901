/**
 * Protocol constants of RFC 6455 and wsflow's default limits.
 * @module
 */

/** Frame opcodes of RFC 6455 §5.2, by name. */
export const Opcode = {
  /** 0x0: a continuation frame of a fragmented message. */
  CONTINUATION: 0x0,
  /** 0x1: a text frame (UTF-8). */
  TEXT: 0x1,
  /** 0x2: a binary frame. */
  BINARY: 0x2,
  /** 0x8: a close frame. */
  CLOSE: 0x8,
  /** 0x9: a ping frame. */
  PING: 0x9,
  /** 0xA: a pong frame. */
  PONG: 0xa,
} as const

/** A frame opcode defined by RFC 6455 §5.2. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode]

/** RFC 6455 §5.5: a control frame's payload is at most 125 bytes. */
export const MAX_CONTROL_PAYLOAD = 125

/** Default limit on a message's size, in bytes (64 MiB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

/** Default limit on the number of fragments of one message. */
export const DEFAULT_MAX_FRAGMENTS = 1 << 20

/** Returned by the sans-I/O parsers when they need more bytes before they can go on. */
export const NEED_MORE: unique symbol = Symbol('wsflow.need-more')

/** The type of {@link NEED_MORE}. */
export type NeedMore = typeof NEED_MORE

/** Returns true for a control opcode (close, ping, pong): RFC 6455 §5.5, the opcode's high bit is set. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0
}
