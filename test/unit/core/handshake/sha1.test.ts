import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { sha1 } from '../../../../src/core/handshake/sha1.ts'

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const reference = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex')

test('FIPS 180 vectors: "abc", "" and the 448-bit message', () => {
  assert.is(hex(sha1(utf8('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d')
  assert.is(hex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709')
  assert.is(hex(sha1(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '84983e441c3bd26ebaae4aa1f95129e5e54670f1')
})

test('a million "a" (FIPS 180 long vector)', () => {
  assert.is(hex(sha1(new Uint8Array(1_000_000).fill(0x61))), '34aa973cd4c4daa4f61eeb2bdbad27316534016f')
})

test('every length across the padding boundaries (0..200 bytes) matches node:crypto', () => {
  const data = new Uint8Array(200)
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff
  for (let length = 0; length <= data.length; length++) {
    const slice = data.subarray(0, length)
    assert.is(hex(sha1(slice)), reference(slice), `length ${length}`)
  }
})

test('a 1000-byte vector and a view into a larger buffer match node:crypto', () => {
  const big = new Uint8Array(1100)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff
  const view = big.subarray(50, 1050)
  assert.is(hex(sha1(view)), reference(view))
  assert.is(sha1(view).length, 20)
})

test.run()
