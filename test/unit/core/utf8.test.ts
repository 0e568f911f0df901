import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidDataError, ProtocolError } from '../../../src/core/errors.ts'
import { Utf8Validator, isValidUtf8 } from '../../../src/core/utf8.ts'

const fromHex = (hex: string): Uint8Array => {
  const clean = hex.replace(/\s+/g, '')
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Asserts class, code and close code together; returns the error for further checks. */
function assertInvalidUtf8(fn: () => void, what: string): InvalidDataError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, InvalidDataError, what)
    assert.instance(error, ProtocolError, what)
    const e = error as InvalidDataError
    assert.is(e.code, 'WS_ERR_INVALID_UTF8', what)
    assert.is(e.closeCode, 1007, what)
    assert.is(e.name, 'InvalidDataError', what)
    return e
  }
  assert.unreachable(`expected InvalidDataError: ${what}`)
  throw new Error('unreachable')
}

/** Feeds `chunks` to a fresh validator; returns the index of the chunk whose write threw, 'end', or 'none'. */
function feed(chunks: Uint8Array[]): { at: number | 'end' | 'none'; error?: InvalidDataError } {
  const v = new Utf8Validator()
  for (let k = 0; k < chunks.length; k++) {
    try {
      v.write(chunks[k]!)
    } catch (error) {
      assert.instance(error, InvalidDataError)
      return { at: k, error: error as InvalidDataError }
    }
  }
  try {
    v.end()
  } catch (error) {
    assert.instance(error, InvalidDataError)
    return { at: 'end', error: error as InvalidDataError }
  }
  return { at: 'none' }
}

/**
 * Checks one input fed whole, byte by byte, and split in two at every point, and through
 * isValidUtf8: `failAt` is the index of the byte whose arrival makes the input invalid, 'end' for
 * a sequence truncated at the end, or 'valid'.
 */
function check(bytes: Uint8Array, failAt: number | 'end' | 'valid', name: string): void {
  const what = `${name} [${toHex(bytes)}]`
  assert.is(isValidUtf8(bytes), failAt === 'valid', `isValidUtf8 ${what}`)

  // Whole.
  const whole = feed([bytes])
  if (failAt === 'valid') assert.is(whole.at, 'none', `whole ${what}`)
  else if (failAt === 'end') assert.is(whole.at, 'end', `whole ${what}`)
  else {
    assert.is(whole.at, 0, `whole ${what}`)
    assert.match(whole.error!.message, ` at offset ${failAt}`, `whole offset ${what}`)
  }

  // Byte by byte: the write of byte `failAt` is the one that throws.
  const single = feed(Array.from(bytes, (b) => Uint8Array.of(b)))
  assert.is(single.at, failAt === 'valid' ? 'none' : failAt, `byte by byte ${what}`)
  if (typeof failAt === 'number') assert.match(single.error!.message, ` at offset ${failAt}`, `byte offset ${what}`)

  // Split at every point (including empty first and last chunks).
  for (let p = 0; p <= bytes.length; p++) {
    const split = feed([bytes.subarray(0, p), bytes.subarray(p)])
    const expected = failAt === 'valid' ? 'none' : failAt === 'end' ? 'end' : failAt < p ? 0 : 1
    assert.is(split.at, expected, `split at ${p} ${what}`)
    if (typeof failAt === 'number') assert.match(split.error!.message, ` at offset ${failAt}`, `split offset ${what}`)
  }

  // Behind a long ASCII run (exercises the 32-bit word scan) at every alignment.
  for (let pad = 0; pad < 4; pad++) {
    const prefix = new Uint8Array(300 + pad).fill(0x61)
    const backing = concat(new Uint8Array(pad), prefix, bytes)
    const view = backing.subarray(pad)
    const shifted = typeof failAt === 'number' ? prefix.length + failAt : failAt
    assert.is(isValidUtf8(view), failAt === 'valid', `long isValidUtf8 ${what}`)
    const r = feed([view])
    assert.is(r.at, failAt === 'valid' ? 'none' : failAt === 'end' ? 'end' : 0, `long ${what}`)
    if (typeof shifted === 'number') assert.match(r.error!.message, ` at offset ${shifted}`, `long offset ${what}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Autobahn test suite, section 6 (UTF-8 handling), as byte strings with the failing byte.
// ---------------------------------------------------------------------------------------------

const VALID: Array<[string, string]> = [
  ['6.1 empty', ''],
  ['6.2 hello-μ@ßöäüàá-UTF-8!!', toHex(utf8('Hello-µ@ßöäüàá-UTF-8!!'))],
  ['6.3.1 / 6.5.1 κόσμε', 'cebae1bdb9cf83cebcceb5'],
  ['6.6.2 κ', 'ceba'],
  ['6.6.5 κό', 'cebae1bdb9'],
  ['6.6.7 κόσ', 'cebae1bdb9cf83'],
  ['6.6.9 κόσμ', 'cebae1bdb9cf83cebc'],
  ['6.7.1 first 1-byte U+0000', '00'],
  ['6.7.2 first 2-byte U+0080', 'c280'],
  ['6.7.3 first 3-byte U+0800', 'e0a080'],
  ['6.7.4 first 4-byte U+10000', 'f0908080'],
  ['6.9.1 last 1-byte U+007F', '7f'],
  ['6.9.2 last 2-byte U+07FF', 'dfbf'],
  ['6.9.3 last 3-byte U+FFFF', 'efbfbf'],
  ['6.9.4 last 4-byte U+10FFFF', 'f48fbfbf'],
  ['6.11.1 U+D7FF', 'ed9fbf'],
  ['6.11.2 U+E000', 'ee8080'],
  ['6.11.3 U+FFFD', 'efbfbd'],
  ['6.11.4 U+10FFFF', 'f48fbfbf'],
  ['6.22 noncharacter U+FFFE', 'efbfbe'],
  ['6.22 noncharacter U+1FFFE', 'f09fbfbe'],
  ['6.22 noncharacter U+1FFFF', 'f09fbfbf'],
  ['6.22 noncharacter U+10FFFE', 'f48fbfbe'],
  ['6.22 noncharacter U+FDD0', 'efb790'],
  ['6.22 noncharacter U+FDEF', 'efb7af'],
  ['6.23.1 U+FFFD', 'efbfbd'],
  ['U+1000 (E1 lead)', 'e18080'],
  ['U+CFFF (EC lead)', 'ecbfbf'],
  ['U+D000 (ED lowest)', 'ed8080'],
  ['U+40000 (F1 lead)', 'f1808080'],
  ['U+FFFFF (F3 lead)', 'f3bfbfbf'],
  ['U+100000 (F4 lowest)', 'f4808080'],
  ['U+3FFFF (F0 highest)', 'f0bfbfbf'],
  ['emoji and ASCII', toHex(utf8('a😀b🎉c'))],
  ['NUL bytes', '00000000'],
]

const INVALID: Array<[string, string, number | 'end']> = [
  // 6.3.2: surrogate U+D800 inside κόσμε; the second byte A0 is where it stops being well-formed.
  ['6.3.2 κόσμε + U+D800 + edited', 'cebae1bdb9cf83cebcceb5 eda080 656469746564', 12],
  // 6.4.x: fail fast on F4 90 (above U+10FFFF) whatever the fragmentation.
  ['6.4.1 κόσμε + U+110000 + edited', 'cebae1bdb9cf83cebcceb5 f4908080 656469746564', 12],
  // 6.6.x: κόσμε truncated inside a sequence.
  ['6.6.1 ce', 'ce', 'end'],
  ['6.6.3 κ + e1', 'cebae1', 'end'],
  ['6.6.4 κ + e1 bd', 'cebae1bd', 'end'],
  ['6.6.6 κό + cf', 'cebae1bdb9cf', 'end'],
  ['6.6.8 κόσ + ce', 'cebae1bdb9cf83ce', 'end'],
  ['6.6.10 κόσμ + ce', 'cebae1bdb9cf83cebcce', 'end'],
  // 6.8: 5- and 6-byte forms (never UTF-8 since RFC 3629).
  ['6.8.1 first 5-byte', 'f888808080', 0],
  ['6.8.2 first 6-byte', 'fc8480808080', 0],
  // 6.10: last possible sequences of each old length, out of range.
  ['6.10.1 U+1FFFFF (F7)', 'f7bfbfbf', 0],
  ['6.10.2 U+3FFFFFF (5-byte)', 'fbbfbfbfbf', 0],
  ['6.10.3 U+7FFFFFFF (6-byte)', 'fdbfbfbfbfbf', 0],
  // 6.11.5: U+110000.
  ['6.11.5 U+110000', 'f4908080', 1],
  ['U+13FFFF', 'f4bfbfbf', 1],
  // 6.12: unexpected continuation bytes.
  ['6.12.1 80', '80', 0],
  ['6.12.2 bf', 'bf', 0],
  ['6.12.3 80 bf', '80bf', 0],
  ['6.12.4 80 bf 80', '80bf80', 0],
  ['6.12.5 80 bf 80 bf', '80bf80bf', 0],
  ['6.12.6 80 bf 80 bf 80', '80bf80bf80', 0],
  ['6.12.7 80 bf 80 bf 80 bf', '80bf80bf80bf', 0],
  ['continuation after ASCII', '4180', 1],
  ['continuation after a complete 2-byte', 'c3a980', 2],
  ['continuation after a complete 3-byte', 'e282ac80', 3],
  ['continuation after a complete 4-byte', 'f09f988080', 4],
  // 6.14: sequences with the last continuation byte missing.
  ['6.14.1 c0', 'c0', 0],
  ['6.14.2 e0 80', 'e080', 1],
  ['6.14.3 f0 80 80', 'f08080', 1],
  ['6.14.4 f8 80 80 80', 'f8808080', 0],
  ['6.14.5 fc 80 80 80 80', 'fc80808080', 0],
  ['6.14.6 df', 'df', 'end'],
  ['6.14.7 ef bf', 'efbf', 'end'],
  ['6.14.8 f7 bf bf', 'f7bfbf', 0],
  ['6.14.9 fb bf bf bf', 'fbbfbfbf', 0],
  ['6.14.10 fd bf bf bf bf', 'fdbfbfbfbf', 0],
  // 6.15: concatenation of incomplete sequences.
  ['6.15.1 concatenated incomplete', 'c0 e080 f08080 f8808080 fc80808080 df efbf f7bfbf fbbfbfbf fdbfbfbfbf', 0],
  ['incomplete valid leads concatenated', 'df efbf f48fbf', 1],
  // 6.16: impossible bytes.
  ['6.16.1 fe', 'fe', 0],
  ['6.16.2 ff', 'ff', 0],
  ['6.16.3 fe fe ff ff', 'fefeffff', 0],
  // 6.17: overlong ASCII '/'.
  ['6.17.1 c0 af', 'c0af', 0],
  ['6.17.2 e0 80 af', 'e080af', 1],
  ['6.17.3 f0 80 80 af', 'f08080af', 1],
  ['6.17.4 f8 80 80 80 af', 'f8808080af', 0],
  ['6.17.5 fc 80 80 80 80 af', 'fc80808080af', 0],
  // 6.18: maximum overlongs.
  ['6.18.1 c1 bf (U+007F)', 'c1bf', 0],
  ['6.18.2 e0 9f bf (U+07FF)', 'e09fbf', 1],
  ['6.18.3 f0 8f bf bf (U+FFFF)', 'f08fbfbf', 1],
  ['6.18.4 f8 87 bf bf bf', 'f887bfbfbf', 0],
  ['6.18.5 fc 83 bf bf bf bf', 'fc83bfbfbfbf', 0],
  // 6.19: overlong NUL.
  ['6.19.1 c0 80', 'c080', 0],
  ['6.19.2 e0 80 80', 'e08080', 1],
  ['6.19.3 f0 80 80 80', 'f0808080', 1],
  ['6.19.4 f8 80 80 80 80', 'f880808080', 0],
  ['6.19.5 fc 80 80 80 80 80', 'fc8080808080', 0],
  // 6.20: single UTF-16 surrogates.
  ['6.20.1 U+D800', 'eda080', 1],
  ['6.20.2 U+DB7F', 'edadbf', 1],
  ['6.20.3 U+DB80', 'edae80', 1],
  ['6.20.4 U+DBFF', 'edafbf', 1],
  ['6.20.5 U+DC00', 'edb080', 1],
  ['6.20.6 U+DF80', 'edbe80', 1],
  ['6.20.7 U+DFFF', 'edbfbf', 1],
  // 6.21: paired UTF-16 surrogates (CESU-8).
  ['6.21.1 U+D800 U+DC00', 'eda080edb080', 1],
  ['6.21.2 U+D800 U+DFFF', 'eda080edbfbf', 1],
  ['6.21.3 U+DB7F U+DC00', 'edadbfedb080', 1],
  ['6.21.4 U+DB7F U+DFFF', 'edadbfedbfbf', 1],
  ['6.21.5 U+DB80 U+DC00', 'edae80edb080', 1],
  ['6.21.6 U+DB80 U+DFFF', 'edae80edbfbf', 1],
  ['6.21.7 U+DBFF U+DC00', 'edafbfedb080', 1],
  ['6.21.8 U+DBFF U+DFFF', 'edafbfedbfbf', 1],
  // 6.23.x: mixes of valid and invalid.
  ['6.23.2 a f1 80 80 e1 80 c2 b 80 c 80 bf d', '61 f18080 e180 c2 62 80 63 80bf 64', 4],
  ['6.23.x U+FFFD then a surrogate', 'efbfbd eda080', 4],
  // Truncated sequences at the end, and truncated sequences followed by more bytes.
  ['truncated c2', 'c2', 'end'],
  ['truncated e0', 'e0', 'end'],
  ['truncated e0 a0', 'e0a0', 'end'],
  ['truncated ed', 'ed', 'end'],
  ['truncated ed 9f', 'ed9f', 'end'],
  ['truncated e2 82', 'e282', 'end'],
  ['truncated f0', 'f0', 'end'],
  ['truncated f0 90', 'f090', 'end'],
  ['truncated f0 9f 98', 'f09f98', 'end'],
  ['truncated f1 80 80', 'f18080', 'end'],
  ['truncated f4', 'f4', 'end'],
  ['truncated f4 8f bf', 'f48fbf', 'end'],
  ['ASCII then truncated', '616263 f09f98', 'end'],
  ['c3 then ASCII', 'c341', 1],
  ['e2 then ASCII', 'e241', 1],
  ['e2 82 then ASCII', 'e28241', 2],
  ['f0 9f 98 then ASCII', 'f09f9841', 3],
  ['e2 82 then a new lead', 'e282 e282ac', 2],
  ['f0 9f then a new lead', 'f09f f09f9880', 2],
  // Second-byte bounds of Table 3-7.
  ['e0 9f (overlong 3-byte)', 'e09f80', 1],
  ['ed a0 (surrogate)', 'eda080', 1],
  ['f0 8f (overlong 4-byte)', 'f08f8080', 1],
  ['f4 90 (above U+10FFFF)', 'f4908080', 1],
  ['f1 c0 (lead where continuation expected)', 'f1c08080', 1],
  ['f1 80 c0', 'f180c080', 2],
  ['f1 80 80 c0', 'f18080c0', 3],
  ['e1 80 e1', 'e180e1', 2],
]

test('Autobahn 6.x valid strings: whole, byte by byte, split at every point', () => {
  for (const [name, hex] of VALID) check(fromHex(hex), 'valid', name)
})

test('Autobahn 6.x invalid strings fail at the exact byte: whole, byte by byte, split at every point', () => {
  for (const [name, hex, failAt] of INVALID) check(fromHex(hex), failAt, name)
})

test('6.13 lonely start characters followed by a space', () => {
  for (let lead = 0xc0; lead <= 0xff; lead++) {
    // C0, C1 and F5..FF can never start a sequence; every other lead fails on the space.
    const failAt = lead <= 0xc1 || lead >= 0xf5 ? 0 : 1
    check(Uint8Array.of(lead, 0x20), failAt, `6.13 lonely ${lead.toString(16)}`)
  }
})

test('6.12.8 every continuation byte alone, and all 64 in a row', () => {
  const all = new Uint8Array(64)
  for (let b = 0x80; b <= 0xbf; b++) {
    check(Uint8Array.of(b), 0, `lone continuation ${b.toString(16)}`)
    all[b - 0x80] = b
  }
  check(all, 0, '6.12.8 all 64 continuation bytes')
})

test('every single byte: ASCII valid, leads truncated, the rest invalid', () => {
  for (let b = 0; b < 256; b++) {
    const failAt = b < 0x80 ? 'valid' : (b >= 0xc2 && b <= 0xf4) ? 'end' : 0
    check(Uint8Array.of(b), failAt, `byte ${b.toString(16)}`)
  }
})

// ---------------------------------------------------------------------------------------------
// Oracle: TextDecoder (an independent implementation). A byte string is a valid *prefix* when
// some completion with continuation bytes decodes; the first byte at which the prefix stops being
// valid is where a fail-fast validator must throw. Prefix validity is monotone, so bisect.
// ---------------------------------------------------------------------------------------------

const fatal = new TextDecoder('utf-8', { fatal: true })
const decodes = (bytes: Uint8Array): boolean => {
  try {
    fatal.decode(bytes)
    return true
  } catch {
    return false
  }
}
// Same verdict as `decodes` without the cost of an exception: valid UTF-8, and only valid UTF-8,
// survives a non-fatal decode (which substitutes U+FFFD) and re-encode unchanged.
const lenient = new TextDecoder('utf-8', { ignoreBOM: true })
const roundTrips = (bytes: Uint8Array): boolean => {
  const again = utf8(lenient.decode(bytes))
  return again.length === bytes.length && again.every((b, i) => b === bytes[i])
}
const isValidPrefix = (bytes: Uint8Array): boolean => {
  for (let extra = 0; extra <= 3; extra++) {
    for (const fill of [0x80, 0xbf]) {
      if (roundTrips(concat(bytes, new Uint8Array(extra).fill(fill)))) return true
    }
  }
  return false
}
const oracle = (bytes: Uint8Array): number | 'end' | 'valid' => {
  if (roundTrips(bytes)) return 'valid'
  if (isValidPrefix(bytes)) return 'end'
  let lo = 0 // bytes[0..lo) is a valid prefix
  let hi = bytes.length // bytes[0..hi) is not
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1
    if (isValidPrefix(bytes.subarray(0, mid))) lo = mid
    else hi = mid
  }
  return hi - 1
}

test('oracle agrees on the hand-written tables (sanity check of the oracle itself)', () => {
  for (const [name, hex] of VALID) assert.is(oracle(fromHex(hex)), 'valid', name)
  for (const [name, hex, failAt] of INVALID) assert.is(oracle(fromHex(hex)), failAt, name)
})

test('exhaustive: every 2-byte string, and every lead with every second byte then continuations', () => {
  const pair = new Uint8Array(2)
  for (let b0 = 0; b0 < 256; b0++) {
    for (let b1 = 0; b1 < 256; b1++) {
      pair[0] = b0
      pair[1] = b1
      assert.is(isValidUtf8(pair), roundTrips(pair), `[${toHex(pair)}]`)
    }
  }
  for (let lead = 0xc0; lead <= 0xff; lead++) {
    for (let b1 = 0; b1 < 256; b1++) {
      for (const tail of [[], [0x80], [0x80, 0xbf], [0xbf, 0x80, 0x41], [0x41]]) {
        const bytes = Uint8Array.of(lead, b1, ...tail)
        const expected = oracle(bytes)
        assert.is(isValidUtf8(bytes), expected === 'valid', `isValidUtf8 [${toHex(bytes)}]`)
        const single = feed(Array.from(bytes, (b) => Uint8Array.of(b)))
        assert.is(single.at, expected === 'valid' ? 'none' : expected, `byte by byte [${toHex(bytes)}]`)
      }
    }
  }
})

/** mulberry32: a small seeded PRNG, so every run tests the same strings. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const BOUNDARY_BYTES = [
  0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
  0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
]

/** A random code point that is a Unicode scalar value, biased towards boundaries of each length. */
function randomScalar(rand: () => number): number {
  const ranges: Array<[number, number]> = [
    [0, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff],
  ]
  const [lo, hi] = ranges[Math.floor(rand() * ranges.length)]!
  const r = rand()
  if (r < 0.1) return lo
  if (r < 0.2) return hi
  return lo + Math.floor(rand() * (hi - lo + 1))
}

/** Random bytes built from tokens: valid scalars, truncated scalars, boundary bytes, random bytes. */
function randomBytes(rand: () => number, maxTokens: number): Uint8Array {
  const parts: number[] = []
  const tokens = Math.floor(rand() * maxTokens)
  for (let k = 0; k < tokens; k++) {
    const r = rand()
    if (r < 0.6) parts.push(...utf8(String.fromCodePoint(randomScalar(rand))))
    else if (r < 0.7) {
      const enc = utf8(String.fromCodePoint(randomScalar(rand)))
      parts.push(...enc.subarray(0, Math.max(1, Math.floor(rand() * enc.length))))
    } else if (r < 0.85) parts.push(BOUNDARY_BYTES[Math.floor(rand() * BOUNDARY_BYTES.length)]!)
    else parts.push(Math.floor(rand() * 256))
  }
  return Uint8Array.from(parts)
}

/** Splits `bytes` into random chunks (some empty). */
function randomChunks(rand: () => number, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let i = 0
  while (i < bytes.length) {
    const size = Math.floor(rand() * 6)
    chunks.push(bytes.subarray(i, i + size))
    i += size
  }
  chunks.push(bytes.subarray(i))
  return chunks
}

test('differential: 10,000 random byte strings agree with TextDecoder (fatal), whole and chunked', () => {
  const rand = prng(0x5eed)
  let valid = 0
  for (let n = 0; n < 10_000; n++) {
    const bytes = randomBytes(rand, 12)
    const expectedValid = decodes(bytes)
    if (expectedValid) valid++
    assert.is(isValidUtf8(bytes), expectedValid, `isValidUtf8 [${toHex(bytes)}]`)
    assert.is(roundTrips(bytes), expectedValid, `oracle [${toHex(bytes)}]`)
    const expected = oracle(bytes)
    // Chunked at random points: the chunk holding the failing byte is the one that throws.
    const chunks = randomChunks(rand, bytes)
    const r = feed(chunks)
    if (expected === 'valid') assert.is(r.at, 'none', `chunked [${toHex(bytes)}]`)
    else if (expected === 'end') assert.is(r.at, 'end', `chunked [${toHex(bytes)}]`)
    else {
      let start = 0
      let holder = 0
      while (start + chunks[holder]!.length <= expected) start += chunks[holder++]!.length
      assert.is(r.at, holder, `chunked [${toHex(bytes)}] fails in chunk ${holder}`)
      assert.match(r.error!.message, ` at offset ${expected}`, `chunked offset [${toHex(bytes)}]`)
    }
  }
  // The generator must exercise both outcomes substantially.
  assert.ok(valid > 2_000 && valid < 8_000, `valid ${valid} of 10,000`)
})

test('differential: long mostly-ASCII strings (word scan) at every alignment agree with TextDecoder', () => {
  const rand = prng(42)
  for (let n = 0; n < 500; n++) {
    const length = 256 + Math.floor(rand() * 1024)
    const bytes = new Uint8Array(length + 3)
    for (let i = 0; i < bytes.length; i++) bytes[i] = 0x20 + Math.floor(rand() * 0x5f)
    // A few multi-byte scalars or odd bytes at random places.
    const inserts = Math.floor(rand() * 4)
    for (let k = 0; k < inserts; k++) {
      const at = Math.floor(rand() * (length - 4))
      const token = rand() < 0.7 ? utf8(String.fromCodePoint(randomScalar(rand))) : Uint8Array.of(BOUNDARY_BYTES[Math.floor(rand() * BOUNDARY_BYTES.length)]!)
      bytes.set(token, at)
    }
    const offset = n % 4
    const view = bytes.subarray(offset, offset + length)
    assert.is(isValidUtf8(view), decodes(view), `long #${n}`)
    const expected = oracle(view)
    const r = feed([view])
    assert.is(r.at, expected === 'valid' ? 'none' : expected === 'end' ? 'end' : 0, `long #${n}`)
    if (typeof expected === 'number') assert.match(r.error!.message, ` at offset ${expected}`, `long #${n}`)
  }
})

test('random strings of valid code points encode and validate, whole and chunked', () => {
  const rand = prng(7)
  for (let n = 0; n < 2_000; n++) {
    const count = Math.floor(rand() * (n % 10 === 0 ? 200 : 16))
    let s = ''
    for (let k = 0; k < count; k++) s += String.fromCodePoint(randomScalar(rand))
    const bytes = utf8(s)
    assert.ok(isValidUtf8(bytes), s)
    assert.is(feed(randomChunks(rand, bytes)).at, 'none', `chunked ${JSON.stringify(s)}`)
  }
  // Every 4-byte scalar boundary and all of the BMP in one string.
  let bmp = ''
  for (let cp = 0; cp <= 0xffff; cp++) if (cp < 0xd800 || cp > 0xdfff) bmp += String.fromCharCode(cp)
  assert.ok(isValidUtf8(utf8(bmp)))
  assert.is(feed([utf8(bmp)]).at, 'none')
})

test('all surrogates U+D800..U+DFFF, CESU-encoded, fail on their second byte', () => {
  for (let cp = 0xd800; cp <= 0xdfff; cp++) {
    const bytes = Uint8Array.of(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    assert.not.ok(isValidUtf8(bytes))
    assert.is(feed(Array.from(bytes, (b) => Uint8Array.of(b))).at, 1, cp.toString(16))
  }
})

test('code points above U+10FFFF and overlong forms of every length fail on the first impossible byte', () => {
  // 4-byte forms of U+110000..U+13FFFF (lead F4) and U+140000..U+1FFFFF (leads F5..F7).
  for (let cp = 0x110000; cp <= 0x1fffff; cp += 0x1111) {
    const bytes = Uint8Array.of(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    assert.not.ok(isValidUtf8(bytes))
    assert.is(feed(Array.from(bytes, (b) => Uint8Array.of(b))).at, bytes[0] === 0xf4 ? 1 : 0, cp.toString(16))
  }
  // Overlong 2-byte (C0/C1), 3-byte (E0 80..9F) and 4-byte (F0 80..8F) encodings of every small code point.
  for (let cp = 0; cp < 0x800; cp++) {
    if (cp < 0x80) check(Uint8Array.of(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)), 0, `overlong2 ${cp}`)
    const three = Uint8Array.of(0xe0, 0x80 | (cp >> 6), 0x80 | (cp & 0x3f))
    assert.is(feed(Array.from(three, (b) => Uint8Array.of(b))).at, 1, `overlong3 ${cp}`)
  }
  for (let cp = 0; cp < 0x10000; cp += 0x3f) {
    const four = Uint8Array.of(0xf0, 0x80 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    assert.is(feed(Array.from(four, (b) => Uint8Array.of(b))).at, 1, `overlong4 ${cp}`)
  }
})

test('validator: stays failed after an error until reset; end() resets', () => {
  const v = new Utf8Validator()
  const first = assertInvalidUtf8(() => v.write(fromHex('41 42 c0')), 'c0')
  assert.match(first.message, 'byte 0xc0 at offset 2')
  // Sticky: valid bytes after the failure still throw.
  const again = assertInvalidUtf8(() => v.write(utf8('ok')), 'after failure')
  assert.match(again.message, 'earlier chunk')
  assertInvalidUtf8(() => v.write(new Uint8Array(0)), 'empty after failure')
  assertInvalidUtf8(() => v.end(), 'end after failure')
  // end() left it reset.
  v.write(utf8('fine'))
  v.end()
  // reset() forgets a pending sequence and the offset.
  v.write(fromHex('e2 82'))
  v.reset()
  v.write(utf8('ok'))
  v.end()
  v.write(fromHex('e2 82'))
  assertInvalidUtf8(() => v.write(utf8('x')), 'truncated then ASCII')
  v.reset()
  v.write(fromHex('e2 82'))
  const truncated = assertInvalidUtf8(() => v.end(), 'truncated at end')
  assert.match(truncated.message, 'truncated')
  assert.match(truncated.message, 'offset 2')
  // The validator is reusable after end() threw.
  v.write(fromHex('e2 82 ac'))
  v.end()
})

test('validator: offsets count across writes; a sequence may straddle many chunks', () => {
  const v = new Utf8Validator()
  v.write(utf8('hello '))
  v.write(fromHex('f0'))
  v.write(new Uint8Array(0))
  v.write(fromHex('9f'))
  v.write(fromHex('98 80 20 e2'))
  const e = assertInvalidUtf8(() => v.write(fromHex('82 ff')), 'ff after e2 82 (straddling)')
  assert.match(e.message, 'byte 0xff at offset 13')
  v.reset()
  v.write(utf8('ab'))
  assert.match(assertInvalidUtf8(() => v.write(fromHex('41 ff')), 'ff').message, 'byte 0xff at offset 3')
})

test('empty input and empty writes are valid', () => {
  assert.ok(isValidUtf8(new Uint8Array(0)))
  const v = new Utf8Validator()
  v.write(new Uint8Array(0))
  v.end()
  v.end()
})

test.run()
