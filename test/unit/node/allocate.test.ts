import { Buffer } from 'node:buffer'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { allocateUninitialized } from '../../../src/node/allocate.ts'

test('allocateUninitialized gives plain Uint8Arrays of the length asked, small ones of their own memory', () => {
  for (const length of [0, 1, 100, 4095, 4096, 65_546, 1 << 20]) {
    const array = allocateUninitialized(length)
    assert.is(array.length, length)
    assert.is(Object.getPrototypeOf(array), Uint8Array.prototype, `length ${length}: not a Buffer`)
    assert.not.ok(Buffer.isBuffer(array))
    if (length < 4096) assert.is(array.buffer.byteLength, length, `length ${length}: no shared pool`)
  }
})

test.run()
