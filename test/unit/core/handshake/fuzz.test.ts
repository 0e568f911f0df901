import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakeError, isWebSocketError } from '../../../../src/core/errors.ts'
import { buildResponse, validateRequest } from '../../../../src/core/handshake/server.ts'
import { validateResponse } from '../../../../src/core/handshake/client.ts'
import { parseExtensions } from '../../../../src/core/handshake/extensions.ts'
import { HttpHeadParser } from '../../../../src/core/handshake/http-head.ts'
import { latin1 } from './helpers.ts'

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const REQUEST = latin1(`GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Extensions: x; y="1"\r\n\r\n')
const RESPONSE = latin1(buildResponse({ key: KEY, protocol: 'a', extensions: 'x; y=1' }))
const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x3b, 0x3d, 0x5c, 0x7f, 0xff]

function mutate(input: Uint8Array, next: () => number): Uint8Array {
  const bytes = new Uint8Array(input)
  const count = 1 + Math.floor(next() * 4)
  for (let i = 0; i < count; i++) {
    const at = Math.floor(next() * bytes.length)
    bytes[at] = next() < 0.5 ? INTERESTING[Math.floor(next() * INTERESTING.length)]! : Math.floor(next() * 256)
  }
  return bytes
}

/** Feeds bytes in random chunks, then validates: only our errors may come out. */
function run(bytes: Uint8Array, kind: 'request' | 'response', next: () => number): void {
  try {
    const parser = new HttpHeadParser({ kind, maxLineLength: 200, maxHeaders: 20, maxHeadSize: 1000 })
    let position = 0
    let head
    while (position < bytes.length && head === undefined) {
      const size = 1 + Math.floor(next() * 40)
      head = parser.push(bytes.subarray(position, position + size))
      position += size
    }
    if (head?.kind === 'request') validateRequest(head)
    if (head?.kind === 'response') validateResponse(head, { key: KEY, protocols: ['a'], extensions: 'x' })
  } catch (error) {
    assert.ok(isWebSocketError(error), `unexpected ${String(error)}`)
    assert.instance(error, HandshakeError)
  }
}

test('mutated requests and responses parse, validate, or throw HandshakeError only', () => {
  const next = random(6455)
  for (let i = 0; i < 3000; i++) {
    run(mutate(REQUEST, next), 'request', next)
    run(mutate(RESPONSE, next), 'response', next)
  }
})

test('random bytes throw HandshakeError only', () => {
  const next = random(9112)
  for (let i = 0; i < 1000; i++) {
    const bytes = new Uint8Array(1 + Math.floor(next() * 300)).map(() => (next() < 0.3 ? INTERESTING[Math.floor(next() * INTERESTING.length)]! : Math.floor(next() * 256)))
    run(bytes, next() < 0.5 ? 'request' : 'response', next)
  }
})

test('random extension headers parse or throw HandshakeError 400 only', () => {
  const next = random(7692)
  const alphabet = 'ab=;, \t"\\\x00é'
  for (let i = 0; i < 5000; i++) {
    let text = ''
    const length = Math.floor(next() * 20)
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)]
    try {
      parseExtensions(text)
    } catch (error) {
      assert.instance(error, HandshakeError, JSON.stringify(text))
      assert.is((error as HandshakeError).status, 400)
    }
  }
})

test.run()
