import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeBase64, encodeBase64 } from '../../../../src/core/handshake/base64.ts'

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)

test('RFC 4648 §10 test vectors', () => {
  const vectors: [string, string][] = [
    ['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy'],
  ]
  for (const [text, encoded] of vectors) {
    assert.is(encodeBase64(ascii(text)), encoded)
    assert.equal(decodeBase64(encoded), ascii(text))
  }
})

test('round trips every byte value and every length up to 70', () => {
  const all = new Uint8Array(256)
  for (let i = 0; i < 256; i++) all[i] = i
  assert.equal(decodeBase64(encodeBase64(all)), all)
  assert.equal(encodeBase64(all), Buffer.from(all).toString('base64'))
  for (let length = 0; length <= 70; length++) {
    const bytes = all.subarray(256 - length)
    const encoded = encodeBase64(bytes)
    assert.is(encoded, Buffer.from(bytes).toString('base64'), `length ${length}`)
    assert.equal(decodeBase64(encoded), new Uint8Array(bytes), `length ${length}`)
  }
})

test('the "+" and "/" characters of the standard alphabet', () => {
  assert.is(encodeBase64(new Uint8Array([0xfb, 0xff])), '+/8=')
  assert.equal(decodeBase64('+/8='), new Uint8Array([0xfb, 0xff]))
})

test('rejects invalid base64: alphabet, length, padding, whitespace, pad bits', () => {
  const invalid = [
    'Zg', 'Zg=', 'Zm9', 'Z', 'Zg===', '====', '=Zg=', 'Z=g=', 'Zm=v', 'Zm9v=', 'Zm9vYg=A',
    'Zm9v Yg==', ' Zm9v', 'Zm9v\n', 'Zm9v\t', 'Zm9-', 'Zm9_', 'Zm9*', 'Zm9é', 'Zm9\u0100',
    'Zh==', 'Zm9=', // non-zero pad bits (RFC 4648 §3.5)
    'dGhlIHNhbXBsZSBub25jZR==',
  ]
  for (const text of invalid) assert.is(decodeBase64(text), undefined, JSON.stringify(text))
})

test.run()
