import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { concatBytes } from '../../../src/core/bytes.ts'
import { bytes } from '../../helpers/bytes.ts'

test('concatBytes joins in order, computing the length when not given', () => {
  assert.equal([...concatBytes([bytes(1, 2), bytes(), bytes(3)])], [1, 2, 3])
  assert.equal([...concatBytes([])], [])
})

test('concatBytes with a given length and target writes into the target', () => {
  const target = new Uint8Array(5).fill(9)
  const out = concatBytes([bytes(1), bytes(2, 3)], 3, target)
  assert.is(out, target)
  assert.equal([...target], [1, 2, 3, 9, 9])
  assert.equal([...concatBytes([bytes(4), bytes(5)], 2)], [4, 5])
})

test.run()
