/**
 * Strict UTF-8 validation (RFC 3629 §4; Unicode Table 3-7, "well-formed UTF-8 byte sequences"),
 * whole-buffer and incremental, fail-fast across fragments.
 *
 * RFC 6455 §8.1: an endpoint MUST fail the connection with 1007 when the payload of a text message
 * is not valid UTF-8, and §5.6 allows the check to fail as soon as an invalid byte arrives in any
 * fragment. {@link Utf8Validator} is the single source of truth for that rule: it rejects at the
 * exact byte where a sequence stops being a prefix of a well-formed sequence.
 *
 * Well-formed sequences (Unicode Table 3-7):
 *
 * | code points        | byte 1 | byte 2 | byte 3 | byte 4 |
 * | ------------------ | ------ | ------ | ------ | ------ |
 * | U+0000..U+007F     | 00..7F |        |        |        |
 * | U+0080..U+07FF     | C2..DF | 80..BF |        |        |
 * | U+0800..U+0FFF     | E0     | A0..BF | 80..BF |        |
 * | U+1000..U+CFFF     | E1..EC | 80..BF | 80..BF |        |
 * | U+D000..U+D7FF     | ED     | 80..9F | 80..BF |        |
 * | U+E000..U+FFFF     | EE..EF | 80..BF | 80..BF |        |
 * | U+10000..U+3FFFF   | F0     | 90..BF | 80..BF | 80..BF |
 * | U+40000..U+FFFFF   | F1..F3 | 80..BF | 80..BF | 80..BF |
 * | U+100000..U+10FFFF | F4     | 80..8F | 80..BF | 80..BF |
 *
 * Everything else is rejected: C0, C1 and F5..FF anywhere (overlong 2-byte forms, leads above
 * U+10FFFF, the old 5- and 6-byte forms), a continuation byte without a lead, overlong 3- and
 * 4-byte forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF), code points above U+10FFFF
 * (F4 90..BF), and a lead not followed by enough continuation bytes.
 * @module
 */

import { InvalidDataError } from './errors.ts'

// Byte classes of the DFA; one class per distinct column of Table 3-7.
const C_ASCII = 0 // 00..7F
const C_CONT_LOW = 1 // 80..8F
const C_CONT_MID = 2 // 90..9F
const C_CONT_HIGH = 3 // A0..BF
const C_INVALID = 4 // C0..C1, F5..FF: never appear in well-formed UTF-8
const C_LEAD2 = 5 // C2..DF
const C_E0 = 6 // E0
const C_LEAD3 = 7 // E1..EC, EE..EF
const C_ED = 8 // ED
const C_F0 = 9 // F0
const C_LEAD4 = 10 // F1..F3
const C_F4 = 11 // F4
const CLASS_COUNT = 12

/** The byte class of each byte value (a lookup table of 256 entries). */
const BYTE_CLASS = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256)
  for (let b = 0; b < 256; b++) {
    table[b] =
      b <= 0x7f ? C_ASCII
      : b <= 0x8f ? C_CONT_LOW
      : b <= 0x9f ? C_CONT_MID
      : b <= 0xbf ? C_CONT_HIGH
      : b <= 0xc1 ? C_INVALID
      : b <= 0xdf ? C_LEAD2
      : b === 0xe0 ? C_E0
      : b === 0xed ? C_ED
      : b <= 0xef ? C_LEAD3
      : b === 0xf0 ? C_F0
      : b <= 0xf3 ? C_LEAD4
      : b === 0xf4 ? C_F4
      : C_INVALID
  }
  return table
})()

// DFA states, premultiplied by CLASS_COUNT so that a transition is one add and one load.
const ACCEPT = 0 // between sequences
const REJECT = 1 * CLASS_COUNT // sticky: the input is not UTF-8
const NEED1 = 2 * CLASS_COUNT // one more 80..BF
const NEED2 = 3 * CLASS_COUNT // two more 80..BF
const NEED3 = 4 * CLASS_COUNT // three more 80..BF
const AFTER_E0 = 5 * CLASS_COUNT // A0..BF, then one more
const AFTER_ED = 6 * CLASS_COUNT // 80..9F, then one more
const AFTER_F0 = 7 * CLASS_COUNT // 90..BF, then two more
const AFTER_F4 = 8 * CLASS_COUNT // 80..8F, then two more
const STATE_COUNT = 9

/** The transition table: `TRANSITION[state + class]` is the next state; unlisted entries reject. */
const TRANSITION = /* @__PURE__ */ (() => {
  const table = new Uint8Array(STATE_COUNT * CLASS_COUNT).fill(REJECT)
  const on = (state: number, byteClass: number, next: number): void => {
    table[state + byteClass] = next
  }
  // Unicode Table 3-7, first byte.
  on(ACCEPT, C_ASCII, ACCEPT)
  on(ACCEPT, C_LEAD2, NEED1)
  on(ACCEPT, C_E0, AFTER_E0)
  on(ACCEPT, C_LEAD3, NEED2)
  on(ACCEPT, C_ED, AFTER_ED)
  on(ACCEPT, C_F0, AFTER_F0)
  on(ACCEPT, C_LEAD4, NEED3)
  on(ACCEPT, C_F4, AFTER_F4)
  // Any continuation byte 80..BF.
  for (const c of [C_CONT_LOW, C_CONT_MID, C_CONT_HIGH]) {
    on(NEED1, c, ACCEPT)
    on(NEED2, c, NEED1)
    on(NEED3, c, NEED2)
  }
  // Restricted second bytes: no overlongs (E0, F0), no surrogates (ED), nothing above U+10FFFF (F4).
  on(AFTER_E0, C_CONT_HIGH, NEED1)
  on(AFTER_ED, C_CONT_LOW, NEED1)
  on(AFTER_ED, C_CONT_MID, NEED1)
  on(AFTER_F0, C_CONT_MID, NEED2)
  on(AFTER_F0, C_CONT_HIGH, NEED2)
  on(AFTER_F4, C_CONT_LOW, NEED2)
  return table
})()

/** Below this many bytes a chunk is scanned without a 32-bit view (allocating the view costs more). */
const WORD_SCAN_MIN = 256 // bench (/tmp, Node 20): views win for 64 KiB ASCII, lose on 20-byte strings

/**
 * Runs the DFA over `bytes` from `state`; returns the state after the last byte, or `~index` (a
 * negative number) of the first byte that cannot continue a well-formed sequence.
 *
 * While in ACCEPT with a complete sequence inside the chunk, the sequence is checked directly (one
 * branch per byte instead of two table loads); anything else, including every rejection, goes
 * through the DFA, so the rejected index is always the exact first bad byte.
 */
function scan(bytes: Uint8Array, state: number): number {
  const n = bytes.length
  let i = 0
  let words: Uint32Array | undefined
  let wordsStart = 0 // index in `bytes` of words[0]
  if (state === ACCEPT && n >= WORD_SCAN_MIN) {
    const misalignment = bytes.byteOffset % 4
    wordsStart = misalignment === 0 ? 0 : 4 - misalignment
    words = new Uint32Array(bytes.buffer, bytes.byteOffset + wordsStart, Math.floor((n - wordsStart) / 4))
  }
  while (i < n) {
    const b = bytes[i]!
    if (state === ACCEPT) {
      if (b < 0x80) {
        i++
        if (words === undefined) {
          // Four ASCII bytes per step.
          while (i + 4 <= n && ((bytes[i]! | bytes[i + 1]! | bytes[i + 2]! | bytes[i + 3]!) & 0x80) === 0) i += 4
        } else {
          // Up to the next word boundary byte by byte, then two 32-bit words per step.
          while (i < n && (i < wordsStart || (i - wordsStart) % 4 !== 0) && bytes[i]! < 0x80) i++
          if (i >= wordsStart && (i - wordsStart) % 4 === 0) {
            let k = (i - wordsStart) / 4
            const end = words.length
            while (k + 2 <= end && ((words[k]! | words[k + 1]!) & 0x80808080) === 0) k += 2
            i = wordsStart + k * 4
          }
        }
        continue
      }
      // Whole sequences inside the chunk, checked against Table 3-7 directly.
      if (b < 0xe0) {
        if (b >= 0xc2 && i + 1 < n && (bytes[i + 1]! & 0xc0) === 0x80) {
          i += 2
          continue
        }
      } else if (b < 0xf0) {
        if (i + 2 < n) {
          const b1 = bytes[i + 1]!
          if (
            (bytes[i + 2]! & 0xc0) === 0x80 &&
            (b === 0xe0 ? b1 >= 0xa0 && b1 <= 0xbf : b === 0xed ? b1 >= 0x80 && b1 <= 0x9f : (b1 & 0xc0) === 0x80)
          ) {
            i += 3
            continue
          }
        }
      } else if (b < 0xf5 && i + 3 < n) {
        const b1 = bytes[i + 1]!
        if (
          (bytes[i + 2]! & 0xc0) === 0x80 &&
          (bytes[i + 3]! & 0xc0) === 0x80 &&
          (b === 0xf0 ? b1 >= 0x90 && b1 <= 0xbf : b === 0xf4 ? b1 >= 0x80 && b1 <= 0x8f : (b1 & 0xc0) === 0x80)
        ) {
          i += 4
          continue
        }
      }
    }
    state = TRANSITION[state + BYTE_CLASS[b]!]!
    if (state === REJECT) return ~i
    i++
  }
  return state
}

/**
 * Returns true when `bytes` is a whole, well-formed UTF-8 string (RFC 3629; Unicode Table 3-7),
 * with no truncated sequence at its end. An empty buffer is valid.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return scan(bytes, ACCEPT) === ACCEPT
}

/**
 * Validates UTF-8 incrementally, chunk by chunk (e.g. the fragments of one text message), and
 * throws as soon as a byte arrives that cannot continue a well-formed sequence.
 *
 * A sequence may be split across `write()` calls at any byte. After it has thrown, the validator
 * keeps throwing until {@link Utf8Validator.reset} is called.
 *
 * ```ts
 * const utf8 = new Utf8Validator()
 * utf8.write(fragment1) // throws InvalidDataError (1007) at the first bad byte
 * utf8.write(fragment2)
 * utf8.end()            // throws if the message ends inside a sequence
 * ```
 */
export class Utf8Validator {
  #state = ACCEPT
  /** Bytes written since construction or the last reset, for error messages. */
  #offset = 0

  /**
   * Checks the next chunk of the message; throws InvalidDataError `WS_ERR_INVALID_UTF8` (close code
   * 1007) at the first byte that cannot continue a well-formed sequence.
   */
  write(bytes: Uint8Array): void {
    if (this.#state === REJECT) throw invalidUtf8('an earlier chunk was not valid UTF-8')
    const result = scan(bytes, this.#state)
    if (result < 0) {
      this.#state = REJECT
      const index = ~result
      // RFC 6455 §8.1: an endpoint MUST fail the connection on invalid UTF-8 (1007); §5.6 lets it
      // fail as soon as the bad byte arrives, before the message is complete.
      throw invalidUtf8(`byte 0x${bytes[index]!.toString(16).padStart(2, '0')} at offset ${this.#offset + index}`)
    }
    this.#state = result
    this.#offset += bytes.length
  }

  /**
   * Marks the end of the message; throws InvalidDataError `WS_ERR_INVALID_UTF8` (close code 1007)
   * if it ends inside a sequence (or an earlier chunk was invalid). Leaves the validator reset.
   */
  end(): void {
    const state = this.#state
    const offset = this.#offset
    this.reset()
    // RFC 6455 §8.1: a text message MUST be valid UTF-8 as a whole, so a truncated final sequence
    // fails the connection with 1007.
    if (state === REJECT) throw invalidUtf8('an earlier chunk was not valid UTF-8')
    if (state !== ACCEPT) throw invalidUtf8(`truncated sequence at the end of the message (offset ${offset})`)
  }

  /** Forgets all state, ready for a new message. */
  reset(): void {
    this.#state = ACCEPT
    this.#offset = 0
  }
}

function invalidUtf8(detail: string): InvalidDataError {
  return new InvalidDataError('WS_ERR_INVALID_UTF8', `invalid UTF-8: ${detail}`)
}
