// The Redis broker's envelope on byte literals: the layout, payloads kept as views, and what is
// not an envelope (too short, another format byte, an unknown kind) refused without throwing.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeEnvelope, encodeEnvelope, ENVELOPE_HEADER, EnvelopeKind, isFromOrigin } from '../../../src/pubsub/redis-envelope.ts'

const origin = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)

test('layout: format 0x77, kind, 16 origin bytes, then the payload as it was', () => {
  const bytes = encodeEnvelope(EnvelopeKind.TEXT, origin, Uint8Array.of(0x68, 0x69))
  assert.equal([...bytes], [0x77, 1, ...origin, 0x68, 0x69])
  assert.is(ENVELOPE_HEADER, 18)
})

test('decode gives the kind, the origin and the payload as views of the bytes', () => {
  const bytes = encodeEnvelope(EnvelopeKind.BINARY, origin, Uint8Array.of(0, 255, 7))
  const envelope = decodeEnvelope(bytes)!
  assert.is(envelope.kind, EnvelopeKind.BINARY)
  assert.equal([...envelope.origin], [...origin])
  assert.equal([...envelope.payload], [0, 255, 7])
  assert.is(envelope.payload.buffer, bytes.buffer)
  assert.equal([...decodeEnvelope(encodeEnvelope(EnvelopeKind.PROBE, origin, new Uint8Array(0)))!.payload], [])
})

test('what is not an envelope is undefined', () => {
  assert.is(decodeEnvelope(new Uint8Array(17).fill(0x77)), undefined)
  const other = encodeEnvelope(EnvelopeKind.TEXT, origin, new Uint8Array(0))
  other[0] = 0x78
  assert.is(decodeEnvelope(other), undefined)
  const kind = encodeEnvelope(EnvelopeKind.TEXT, origin, new Uint8Array(0))
  kind[1] = 3
  assert.is(decodeEnvelope(kind), undefined)
  assert.is(decodeEnvelope(new TextEncoder().encode('{"plain":"json from another publisher"}')), undefined)
})

test('isFromOrigin compares the 16 origin bytes', () => {
  const bytes = encodeEnvelope(EnvelopeKind.TEXT, origin, Uint8Array.of(1))
  assert.ok(isFromOrigin(bytes, origin))
  const other = Uint8Array.from(origin)
  other[15] = 0
  assert.not.ok(isFromOrigin(bytes, other))
})

test.run()
