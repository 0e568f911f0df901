import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GUID, computeAccept, generateKey } from '../../../../src/core/handshake/accept.ts'
import { decodeBase64 } from '../../../../src/core/handshake/base64.ts'

test('RFC 6455 §1.3 example', () => {
  assert.is(computeAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
})

test('the GUID of RFC 6455 §1.3', () => {
  assert.is(GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
})

test('a platform hash gives the same accept value', () => {
  const nodeSha1 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(data).digest())
  for (let i = 0; i < 20; i++) {
    const key = generateKey()
    assert.is(computeAccept(key, nodeSha1), computeAccept(key))
    assert.is(computeAccept(key), createHash('sha1').update(key + GUID).digest('base64'))
  }
})

test('generateKey: 16 random bytes in base64, different each time', () => {
  const keys = new Set<string>()
  for (let i = 0; i < 100; i++) {
    const key = generateKey()
    assert.is(key.length, 24)
    assert.is(decodeBase64(key)?.length, 16)
    keys.add(key)
  }
  assert.is(keys.size, 100)
})

test.run()
