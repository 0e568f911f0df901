/**
 * A portable SHA-1 (FIPS 180-4 §6.1) for the opening handshake's accept key (RFC 6455 §4.2.2).
 *
 * SHA-1 is used here only because RFC 6455 requires it; it is not a security primitive in this
 * protocol. The Node layer may pass the faster hash of Node's crypto module to {@link computeAccept} instead.
 * @module
 */

/**
 * Computes the SHA-1 digest of `data` (FIPS 180-4 §6.1.2) and returns its 20 bytes.
 *
 * Pure TypeScript, no platform crypto: it runs the same in Node, browsers and workers.
 */
export function sha1(data: Uint8Array): Uint8Array {
  // FIPS 180-4 §5.1.1: append the bit "1", then zeros, then the 64-bit message length in bits,
  // so that the padded message is a multiple of 512 bits (64 bytes).
  const length = data.length
  const paddedLength = (((length + 8) >>> 6) + 1) << 6
  const padded = new Uint8Array(paddedLength)
  padded.set(data)
  padded[length] = 0x80
  const view = new DataView(padded.buffer)
  const bitsHigh = Math.floor(length / 0x20000000) // (length * 8) / 2^32 without overflow
  const bitsLow = (length << 3) >>> 0
  view.setUint32(paddedLength - 8, bitsHigh)
  view.setUint32(paddedLength - 4, bitsLow)

  // FIPS 180-4 §5.3.1: the initial hash value H(0).
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0
  const w = new Uint32Array(80)
  for (let block = 0; block < paddedLength; block += 64) {
    // FIPS 180-4 §6.1.2 step 1: prepare the message schedule.
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4)
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!
      w[t] = (x << 1) | (x >>> 31)
    }
    // Steps 2-4: the 80 rounds with f(t) and K(t) of §4.1.1 and §4.2.1.
    let a = h0, b = h1, c = h2, d = h3, e = h4
    for (let t = 0; t < 80; t++) {
      let f: number, k: number
      if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999 }
      else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1 }
      else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc }
      else { f = b ^ c ^ d; k = 0xca62c1d6 }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = temp
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
  }

  const digest = new Uint8Array(20)
  const out = new DataView(digest.buffer)
  out.setUint32(0, h0)
  out.setUint32(4, h1)
  out.setUint32(8, h2)
  out.setUint32(12, h3)
  out.setUint32(16, h4)
  return digest
}
