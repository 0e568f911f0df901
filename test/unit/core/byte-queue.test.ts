import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteQueue, EMPTY } from '../../../src/core/byte-queue.ts'
import { mask } from '../../../src/core/mask.ts'
import { bytes } from '../../helpers/bytes.ts'

test('push keeps chunks by reference and counts bytes', () => {
  const q = new ByteQueue()
  q.push(EMPTY)
  assert.is(q.length, 0)
  q.push(bytes(1, 2, 3))
  q.push(bytes(4))
  q.push(bytes(5, 6))
  assert.is(q.length, 6)
  assert.equal([0, 1, 2, 3, 4, 5].map((i) => q.peek(i)), [1, 2, 3, 4, 5, 6])
})

test('take returns a view within one chunk and one copy across chunks', () => {
  const a = bytes(1, 2, 3, 4)
  const q = new ByteQueue()
  q.push(a)
  q.push(bytes(5, 6, 7))
  const view = q.take(2)
  assert.is(view.buffer, a.buffer)
  assert.equal([...view], [1, 2])
  const rest = q.take(2)
  assert.is(rest.buffer, a.buffer, 'the rest of a chunk is a view')
  assert.equal([...rest], [3, 4])
  q.push(bytes(8))
  const straddle = q.take(4)
  assert.equal([...straddle], [5, 6, 7, 8])
  assert.is(q.length, 0)
  assert.is(q.take(0), EMPTY)
})

test('whole chunk taken from its start is returned as is', () => {
  const a = bytes(9, 8)
  const q = new ByteQueue()
  q.push(a)
  assert.is(q.take(2), a)
})

test('take across many chunks with a partly consumed head', () => {
  const q = new ByteQueue()
  for (let i = 0; i < 10; i++) q.push(bytes(i * 2, i * 2 + 1))
  q.skip(1)
  assert.equal([...q.take(5)], [1, 2, 3, 4, 5])
  assert.equal([...q.take(3)], [6, 7, 8])
  assert.is(q.length, 11)
  q.skip(10)
  assert.equal(q.peek(0), 19)
  assert.equal([...q.take(1)], [19])
})

test('skip within and across chunks', () => {
  const q = new ByteQueue()
  q.push(bytes(1, 2, 3))
  q.push(bytes(4, 5, 6))
  q.skip(1)
  assert.is(q.peek(0), 2)
  q.skip(3)
  assert.is(q.peek(0), 5)
  assert.is(q.length, 2)
})

test('drain returns what is left', () => {
  const q = new ByteQueue()
  q.push(bytes(1, 2, 3))
  q.push(bytes(4))
  q.skip(1)
  assert.equal(q.drain().map((c) => [...c]), [[2, 3], [4]])
  assert.is(q.length, 0)
  assert.equal(q.drain(), [])
})

test('a long queue consumed one byte at a time stays correct through compaction', () => {
  const q = new ByteQueue()
  let pushed = 0
  let taken = 0
  for (let i = 0; i < 4000; i++) q.push(bytes(pushed++ & 0xff))
  // take one and push one half the time: the head index passes 1024 while chunks remain
  for (let i = 0; i < 6000; i++) {
    assert.is(q.take(1)[0], taken++ & 0xff)
    if (i % 2 === 0) q.push(bytes(pushed++ & 0xff))
  }
  assert.is(q.length, pushed - taken)
  for (let i = 0; i < q.length; i++) assert.is(q.peek(i), (taken + i) & 0xff)
})

test('takeMasked equals take then mask, in place within a chunk and unmasked while copied across chunks', () => {
  const key = bytes(0x37, 0xfa, 0x21, 0x3d)
  const sizes = [0, 1, 3, 4, 5, 127, 128, 129, 1000, 20_000, 40_000]
  for (const cut of [1, 7, 64, 4096, 16_384, 65_536]) {
    for (const size of sizes) {
      const source = Uint8Array.from({ length: size + 3 }, (_, i) => (i * 31 + size) & 0xff)
      const expected = source.slice(3)
      mask(expected, key)
      const allocated: number[] = []
      const q = new ByteQueue((length) => {
        allocated.push(length)
        return new Uint8Array(length).fill(0xee) // like uninitialised memory: every byte must be written
      })
      for (let i = 0; i < source.length; i += cut) q.push(source.slice(i, i + cut))
      q.skip(3)
      const payload = q.takeMasked(size, key)
      assert.equal(payload, expected, `size ${size} in chunks of ${cut}`)
      assert.is(q.length, 0)
      const straddles = size > 0 && Math.floor(3 / cut) !== Math.floor((size + 2) / cut)
      assert.equal(allocated, straddles ? [size] : [], `size ${size} in chunks of ${cut}: one copy exactly when it straddles`)
    }
  }
})

test.run()
