import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mask, maskInto } from '../../../src/core/mask.ts'
import { bytes } from '../../helpers/bytes.ts'

function naive(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  const out = data.slice()
  for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ key[(offset + i) & 3]!
  return out
}

test('RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d', () => {
  const data = new TextEncoder().encode('Hello')
  mask(data, bytes(0x37, 0xfa, 0x21, 0x3d))
  assert.equal([...data], [0x7f, 0x9f, 0x4d, 0x51, 0x58])
})

test('masking twice is the identity', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i * 7)
  const copy = data.slice()
  const key = bytes(1, 2, 3, 4)
  mask(data, key)
  assert.not.equal([...data], [...copy])
  mask(data, key)
  assert.equal(data, copy)
})

test('fast and byte paths equal a naive loop at every length, offset and alignment', () => {
  const key = bytes(0xde, 0xad, 0xbe, 0xef)
  const backing = Uint8Array.from({ length: 1200 }, (_, i) => (i * 31 + 7) & 0xff)
  for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 127, 128, 129, 130, 131, 255, 256, 1000]) {
    for (let align = 0; align < 4; align++) {
      for (let offset = 0; offset < 4; offset++) {
        const data = backing.slice().subarray(align, align + length)
        const expected = naive(data, key, offset)
        mask(data, key, offset)
        assert.equal(data, expected, `length ${length} align ${align} offset ${offset}`)
      }
    }
  }
})

test('resumable: masking in pieces at running offsets equals masking at once', () => {
  const key = bytes(9, 8, 7, 6)
  const whole = Uint8Array.from({ length: 777 }, (_, i) => i & 0xff)
  const pieces = whole.slice()
  mask(whole, key)
  let offset = 0
  for (const size of [3, 200, 1, 130, 443]) {
    mask(pieces.subarray(offset, offset + size), key, offset)
    offset += size
  }
  assert.equal(pieces, whole)
})

test('maskInto leaves the source alone', () => {
  const source = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
  const before = source.slice()
  const target = new Uint8Array(310)
  const key = bytes(1, 0x80, 0xff, 3)
  maskInto(source, key, target, 10)
  assert.equal(source, before)
  assert.equal(target.subarray(10), naive(source, key, 0))
  assert.equal([...target.subarray(0, 10)], new Array(10).fill(0))
})

test.run()
