/**
 * A portable MD5 (RFC 1321) for the hixie-76 opening handshake, whose answer is the MD5 fingerprint
 * of the challenge (draft-hixie-thewebsocketprotocol-76 §5.2).
 *
 * MD5 is used here only because that draft requires it; it is not a security primitive in this
 * protocol.
 * @module
 */

/** RFC 1321 §3.4: T[i] = floor(2^32 * abs(sin(i + 1))), for i = 0..63. */
const T = /* @__PURE__ */ (() => {
  const table = new Uint32Array(64)
  for (let i = 0; i < 64; i++) table[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x1_0000_0000)
  return table
})()

/** RFC 1321 §3.4: the shift amounts of the four rounds, four per round. */
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21] as const

/**
 * Computes the MD5 digest of `data` (RFC 1321 §3) and returns its 16 bytes.
 *
 * Pure TypeScript, no platform crypto: it runs the same in Node, browsers and workers.
 */
export function md5(data: Uint8Array): Uint8Array {
  // RFC 1321 §3.1-3.2: append the bit "1", zeros up to 448 mod 512 bits, then the 64-bit length
  // in bits, low-order word first (little-endian throughout).
  const length = data.length
  const paddedLength = (((length + 8) >>> 6) + 1) << 6
  const padded = new Uint8Array(paddedLength)
  padded.set(data)
  padded[length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(paddedLength - 8, (length << 3) >>> 0, true)
  view.setUint32(paddedLength - 4, Math.floor(length / 0x20000000), true) // (length * 8) / 2^32 without overflow

  // RFC 1321 §3.3: the initial buffer A, B, C, D.
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476
  const x = new Uint32Array(16)
  for (let block = 0; block < paddedLength; block += 64) {
    for (let j = 0; j < 16; j++) x[j] = view.getUint32(block + j * 4, true)
    let a = a0, b = b0, c = c0, d = d0
    // RFC 1321 §3.4: four rounds of 16 operations with F, G, H, I and their word orders.
    for (let i = 0; i < 64; i++) {
      let f: number, k: number
      if (i < 16) { f = (b & c) | (~b & d); k = i }
      else if (i < 32) { f = (b & d) | (c & ~d); k = (5 * i + 1) & 15 }
      else if (i < 48) { f = b ^ c ^ d; k = (3 * i + 5) & 15 }
      else { f = c ^ (b | ~d); k = (7 * i) & 15 }
      const s = S[((i >> 4) << 2) | (i & 3)]!
      const sum = (a + f + T[i]! + x[k]!) | 0
      a = d
      d = c
      c = b
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0
    }
    a0 = (a0 + a) | 0
    b0 = (b0 + b) | 0
    c0 = (c0 + c) | 0
    d0 = (d0 + d) | 0
  }

  // RFC 1321 §3.5: the output is A, B, C, D, low-order byte first.
  const digest = new Uint8Array(16)
  const out = new DataView(digest.buffer)
  out.setUint32(0, a0, true)
  out.setUint32(4, b0, true)
  out.setUint32(8, c0, true)
  out.setUint32(12, d0, true)
  return digest
}
