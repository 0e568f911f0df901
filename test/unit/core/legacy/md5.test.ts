import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { md5 } from '../../../../src/core/legacy/md5.ts'

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)
const reference = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex')

test('RFC 1321 §A.5 test suite', () => {
  const suite: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ]
  for (const [input, digest] of suite) assert.is(hex(md5(ascii(input))), digest, JSON.stringify(input))
})

test('every length across the padding boundaries (0..200 bytes) matches node:crypto', () => {
  const data = new Uint8Array(200)
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff
  for (let length = 0; length <= data.length; length++) {
    const slice = data.subarray(0, length)
    assert.is(hex(md5(slice)), reference(slice), `length ${length}`)
  }
})

test('a view into a larger buffer, and 100,000 bytes, match node:crypto', () => {
  const big = new Uint8Array(100_000)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff
  const view = big.subarray(13, 1013)
  assert.is(hex(md5(view)), reference(view))
  assert.is(hex(md5(big)), reference(big))
})

test.run()
