import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Opcode } from '../../../src/core/constants.ts'
import { FrameDecoder } from '../../../src/core/decoder.ts'
import { encodeFrame, frameHeaderLength, generateMaskingKey } from '../../../src/core/encoder.ts'
import { InvalidArgumentError } from '../../../src/core/errors.ts'
import { createFrame } from '../../../src/core/frame.ts'
import { bytes, concat, throwsError, utf8 } from '../../helpers/bytes.ts'

const fixedKey = () => bytes(0x37, 0xfa, 0x21, 0x3d)

test('RFC 6455 §5.7: unmasked and masked "Hello"', () => {
  assert.equal([...concat(...encodeFrame(createFrame(Opcode.TEXT, utf8('Hello'))))], [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
  const masked = encodeFrame(createFrame(Opcode.TEXT, utf8('Hello')), { mask: true, generateMaskingKey: fixedKey })
  assert.is(masked.length, 1)
  assert.equal([...masked[0]!], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
})

test('RFC 6455 §5.7: fragments, ping, 256 B and 64 KiB lengths', () => {
  assert.equal([...concat(...encodeFrame(createFrame(Opcode.TEXT, utf8('Hel'), false)))], [0x01, 0x03, 0x48, 0x65, 0x6c])
  assert.equal([...concat(...encodeFrame(createFrame(Opcode.CONTINUATION, utf8('lo'))))], [0x80, 0x02, 0x6c, 0x6f])
  assert.equal([...concat(...encodeFrame(createFrame(Opcode.PING, utf8('Hello'))))], [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
  const e256 = concat(...encodeFrame(createFrame(Opcode.BINARY, new Uint8Array(256))))
  assert.equal([...e256.subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00])
  assert.is(e256.length, 260)
  const e64k = encodeFrame(createFrame(Opcode.BINARY, new Uint8Array(65536)))
  assert.equal([...e64k[0]!], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0])
})

test('length forms at their boundaries', () => {
  for (const [length, header] of [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
    assert.is(frameHeaderLength(length, false), header)
    assert.is(frameHeaderLength(length, true), header + 4)
    const out = concat(...encodeFrame(createFrame(Opcode.BINARY, new Uint8Array(length))))
    assert.is(out.length, header + length)
  }
  // a length above 2^32 is written with the high word set (header only; no payload built)
  const big = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: Opcode.BINARY, payload: { length: 2 ** 32 + 5 } as Uint8Array }
  const [header] = encodeFrame(big)
  assert.equal([...header!], [0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 5])
})

test('a large unmasked payload is handed on without a copy; a small one is merged', () => {
  const payload = new Uint8Array(4096)
  const chunks = encodeFrame(createFrame(Opcode.BINARY, payload))
  assert.is(chunks.length, 2)
  assert.is(chunks[1], payload)
  assert.is(encodeFrame(createFrame(Opcode.BINARY, new Uint8Array(100))).length, 1)
})

test('masking never mutates caller data and round-trips through the decoder', () => {
  for (const length of [0, 1, 125, 126, 1000, 70000]) {
    const payload = Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff)
    const before = payload.slice()
    const chunks = encodeFrame({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: Opcode.BINARY, payload }, { mask: true })
    assert.equal(payload, before)
    const decoder = new FrameDecoder({ role: 'server', allowedRsv: 0x40 })
    for (const c of chunks) decoder.push(c)
    const f = decoder.next()!
    assert.ok(f.rsv1)
    assert.equal(f.payload, before)
  }
})

test('fragment bits: FIN clear, RSV bits set', () => {
  const [out] = encodeFrame({ fin: false, rsv1: true, rsv2: true, rsv3: true, opcode: Opcode.TEXT, payload: new Uint8Array(0) })
  assert.equal([...out!], [0x71, 0x00])
})

test('masking keys come from the CSPRNG pool and differ', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 5000; i++) {
    const key = generateMaskingKey()
    assert.is(key.length, 4)
    seen.add([...key].join(','))
  }
  // 5000 draws of 32 random bits: collisions are possible but vanishingly rare in bulk
  assert.ok(seen.size > 4990)
  const a = generateMaskingKey()
  const copy = a.slice()
  for (let i = 0; i < 5000; i++) generateMaskingKey()
  assert.equal(a, copy, 'a key once returned never changes')
})

test('invalid control frames are refused', () => {
  throwsError(() => encodeFrame(createFrame(Opcode.PING, new Uint8Array(126))), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  throwsError(() => encodeFrame(createFrame(Opcode.CLOSE, new Uint8Array(0), false)), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test.run()
