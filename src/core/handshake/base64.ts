/**
 * Strict base64 (RFC 4648 §4, the standard alphabet with padding) for Sec-WebSocket-Key and
 * Sec-WebSocket-Accept, without Buffer or atob so that it runs anywhere.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Maps a char code to its 6-bit value, or -1 for a char outside the alphabet. */
const DECODE_TABLE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i
  return table
})()

/** Encodes bytes as base64 (RFC 4648 §4) with `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let text = ''
  const whole = bytes.length - (bytes.length % 3)
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    text += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!
  }
  const left = bytes.length - whole
  if (left === 1) {
    const n = bytes[whole]! << 16
    text += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + '=='
  } else if (left === 2) {
    const n = (bytes[whole]! << 16) | (bytes[whole + 1]! << 8)
    text += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + '='
  }
  return text
}

/**
 * Decodes strict base64 (RFC 4648 §4), or returns `undefined` when `text` is not canonical base64.
 *
 * Rejected: a length that is not a multiple of 4, a character outside the alphabet (whitespace
 * included), padding anywhere but at the end or more than two `=`, and non-zero pad bits
 * (RFC 4648 §3.5 lets a decoder reject them; every encoder emits zeros).
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  let padding = 0
  if (text.endsWith('==')) padding = 2
  else if (text.endsWith('=')) padding = 1
  const bytes = new Uint8Array((text.length / 4) * 3 - padding)
  const end = text.length - padding
  let n = 0
  let bits = 0
  let j = 0
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? DECODE_TABLE[code]! : -1
    if (value < 0) return undefined // includes a '=' before the end
    n = (n << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[j++] = (n >>> bits) & 0xff
      n &= (1 << bits) - 1
    }
  }
  // RFC 4648 §3.5: the pad bits left over must be zero in canonical encoding.
  if (n !== 0) return undefined
  return bytes
}
