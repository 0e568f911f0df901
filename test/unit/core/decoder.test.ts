import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteQueue } from '../../../src/core/byte-queue.ts'
import { NEED_MORE } from '../../../src/core/constants.ts'
import { FrameDecoder, parseFrames, PIECE_SIZE, Rsv, type DecodeOptions } from '../../../src/core/decoder.ts'
import { encodeRawFrame } from '../../helpers/raw.ts'
import { MessageTooBigError, ProtocolError } from '../../../src/core/errors.ts'
import type { Frame } from '../../../src/core/frame.ts'
import { bytes, concat, throwsError, utf8 } from '../../helpers/bytes.ts'

function decodeAll(data: Uint8Array, options: DecodeOptions = {}, chunkSize = data.length || 1): Frame[] {
  const decoder = new FrameDecoder(options)
  const frames: Frame[] = []
  for (let i = 0; i < data.length; i += chunkSize) {
    decoder.push(data.slice(i, i + chunkSize))
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(f)
  }
  assert.is(decoder.buffered, 0, 'every byte consumed')
  return frames
}

const text = (f: Frame): string => new TextDecoder().decode(f.payload)

test('RFC 6455 §5.7: a single-frame unmasked text message', () => {
  const [f, ...rest] = decodeAll(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f), { role: 'client' })
  assert.is(rest.length, 0)
  assert.equal({ fin: f!.fin, opcode: f!.opcode, rsv1: f!.rsv1, rsv2: f!.rsv2, rsv3: f!.rsv3 }, { fin: true, opcode: 1, rsv1: false, rsv2: false, rsv3: false })
  assert.is(text(f!), 'Hello')
})

test('RFC 6455 §5.7: a single-frame masked text message', () => {
  const [f] = decodeAll(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58), { role: 'server' })
  assert.is(text(f!), 'Hello')
})

test('RFC 6455 §5.7: a fragmented unmasked text message', () => {
  const frames = decodeAll(bytes(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f))
  assert.equal(frames.map((f) => [f.fin, f.opcode, text(f)]), [[false, 1, 'Hel'], [true, 0, 'lo']])
})

test('RFC 6455 §5.7: unmasked ping and masked pong', () => {
  const [ping] = decodeAll(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f))
  assert.is(ping!.opcode, 0x9)
  assert.is(text(ping!), 'Hello')
  const [pong] = decodeAll(bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58))
  assert.is(pong!.opcode, 0xa)
  assert.is(text(pong!), 'Hello')
})

test('RFC 6455 §5.7: 256 bytes (16-bit length) and 64 KiB (64-bit length) binary', () => {
  const body256 = Uint8Array.from({ length: 256 }, (_, i) => i)
  const [a] = decodeAll(concat(bytes(0x82, 0x7e, 0x01, 0x00), body256))
  assert.equal(a!.payload, body256)
  const body64k = Uint8Array.from({ length: 65536 }, (_, i) => (i * 13) & 0xff)
  const [b] = decodeAll(concat(bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0), body64k), {}, 1000)
  assert.equal(b!.payload, body64k)
})

test('every chunking down to one byte decodes the same frames', () => {
  const stream = concat(
    bytes(0x01, 0x03, 0x48, 0x65, 0x6c),
    bytes(0x89, 0x00),
    bytes(0x80, 0x02, 0x6c, 0x6f),
    bytes(0x82, 0x7e, 0x00, 0x80), new Uint8Array(128).fill(7),
  )
  const expected = decodeAll(stream)
  for (let size = 1; size <= stream.length; size++) {
    const frames = decodeAll(stream, {}, size)
    assert.equal(frames.map((f) => [f.fin, f.opcode, [...f.payload]]), expected.map((f) => [f.fin, f.opcode, [...f.payload]]), `chunk size ${size}`)
  }
})

test('a payload inside one chunk is a view, not a copy', () => {
  const chunk = bytes(0x82, 0x03, 1, 2, 3, 0x82, 0x01, 4)
  const decoder = new FrameDecoder()
  decoder.push(chunk)
  const f = decoder.next()!
  assert.is(f.payload.buffer, chunk.buffer)
  assert.is(f.payload.byteOffset, 2)
  assert.equal([...decoder.next()!.payload], [4])
  assert.is(decoder.next(), undefined)
})

test('the generator yields NEED_MORE and resumes where it stopped', () => {
  const q = new ByteQueue()
  const gen = parseFrames(q)
  assert.is(gen.next().value, NEED_MORE)
  q.push(bytes(0x82, 0x7e))
  assert.is(gen.next().value, NEED_MORE)
  q.push(bytes(0x00, 0x02, 0xaa))
  assert.is(gen.next().value, NEED_MORE)
  q.push(bytes(0xbb))
  const f = gen.next().value as Frame
  assert.equal([...f.payload], [0xaa, 0xbb])
})

test('RSV bits are accepted only when an extension allows them', () => {
  const [f] = decodeAll(bytes(0xc1, 0x00), { allowedRsv: Rsv.RSV1 })
  assert.ok(f!.rsv1)
  const [g] = decodeAll(bytes(0xb2, 0x00), { allowedRsv: Rsv.RSV2 | Rsv.RSV3 })
  assert.ok(g!.rsv2 && g!.rsv3 && !g!.rsv1)
})

// A table of invalid frames: bytes, options, error class, code, close code.
const invalid: [string, number[], DecodeOptions, typeof ProtocolError, string, number][] = [
  ['RSV1 without extension', [0xc1, 0x00], {}, ProtocolError, 'WS_ERR_UNEXPECTED_RSV', 1002],
  ['RSV2 without extension', [0xa1, 0x00], {}, ProtocolError, 'WS_ERR_UNEXPECTED_RSV', 1002],
  ['RSV3 without extension', [0x91, 0x00], {}, ProtocolError, 'WS_ERR_UNEXPECTED_RSV', 1002],
  ['RSV2 with deflate negotiated', [0xa1, 0x00], { allowedRsv: Rsv.RSV1 }, ProtocolError, 'WS_ERR_UNEXPECTED_RSV', 1002],
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, number[], DecodeOptions, typeof ProtocolError, string, number] =>
    [`reserved opcode ${op}`, [0x80 | op, 0x00], {}, ProtocolError, 'WS_ERR_INVALID_OPCODE', 1002]),
  ['unmasked frame to a server', [0x81, 0x00], { role: 'server' }, ProtocolError, 'WS_ERR_EXPECTED_MASK', 1002],
  ['masked frame to a client', [0x81, 0x80, 1, 2, 3, 4], { role: 'client' }, ProtocolError, 'WS_ERR_UNEXPECTED_MASK', 1002],
  ['fragmented ping', [0x09, 0x00], {}, ProtocolError, 'WS_ERR_INVALID_CONTROL_FRAME', 1002],
  ['fragmented close', [0x08, 0x00], {}, ProtocolError, 'WS_ERR_INVALID_CONTROL_FRAME', 1002],
  ['ping of 126 bytes (16-bit form)', [0x89, 0x7e, 0x00, 0x7e], {}, ProtocolError, 'WS_ERR_INVALID_CONTROL_FRAME', 1002],
  ['pong with a 64-bit length', [0x8a, 0x7f], {}, ProtocolError, 'WS_ERR_INVALID_CONTROL_FRAME', 1002],
  ['64-bit length with top bit set', [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0], {}, ProtocolError, 'WS_ERR_INVALID_LENGTH', 1002],
  ['64-bit length 2^63 - 1', [0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], {}, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009],
  ['64-bit length 2^53', [0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0], { maxFrameSize: Infinity }, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009],
  ['over maxFrameSize (7-bit)', [0x82, 0x0b], { maxFrameSize: 10 }, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009],
  ['over maxFrameSize (16-bit)', [0x82, 0x7e, 0x01, 0x00], { maxFrameSize: 255 }, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009],
  ['over the default limit (64-bit)', [0x82, 0x7f, 0, 0, 0, 0, 0x04, 0, 0, 1], {}, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009],
]

for (const [name, input, options, cls, code, closeCode] of invalid) {
  test(`invalid: ${name} → ${code} (${closeCode}), decided from the header`, () => {
    // Only the header is fed: the error must come before any payload is buffered.
    const decoder = new FrameDecoder(options)
    decoder.push(Uint8Array.from(input))
    throwsError(() => decoder.next(), cls, code, closeCode)
    // a failed decoder stays failed
    throwsError(() => decoder.next(), cls, code, closeCode)
  })
}

test('the limit is inclusive: a frame of exactly maxFrameSize bytes is accepted', () => {
  const [f] = decodeAll(concat(bytes(0x82, 0x0a), new Uint8Array(10)), { maxFrameSize: 10 })
  assert.is(f!.payload.length, 10)
})

test('options are read when the decoder is made: changing the object later changes nothing', () => {
  const options: DecodeOptions = { maxFrameSize: 10 }
  const decoder = new FrameDecoder(options)
  options.maxFrameSize = 5
  decoder.push(concat(bytes(0x82, 0x0a), new Uint8Array(10)))
  assert.is(decoder.next()!.payload.length, 10)
  // A frozen options object (one per server's settings in the protocol) is kept as it is.
  const frozen = new FrameDecoder(Object.freeze({ maxFrameSize: 5 }))
  frozen.push(concat(bytes(0x82, 0x0a), new Uint8Array(10)))
  throwsError(() => frozen.next(), MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', 1009)
})

test('a close frame with a 125-byte payload is accepted', () => {
  const [f] = decodeAll(concat(bytes(0x88, 0x7d, 0x03, 0xe8), utf8('x'.repeat(123))))
  assert.is(f!.payload.length, 125)
})

test('a masked frame with an empty payload', () => {
  const [f] = decodeAll(bytes(0x81, 0x80, 1, 2, 3, 4), { role: 'server' })
  assert.is(f!.payload.length, 0)
})

/** A payload of `n` bytes that tells each byte's position apart (no period of 4 that would hide a wrong key turn). */
function counting(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff)
}

for (const masked of [true, false]) {
  test(`streamPayloads: a long ${masked ? 'masked' : 'unmasked'} frame arriving in chunks is handed on in pieces, unmasked right, only the last with FIN`, () => {
    const payload = counting(5 * PIECE_SIZE + 123)
    const key = Uint8Array.of(0x11, 0x22, 0x33, 0x44)
    const wire = concat(encodeRawFrame({ opcode: 0x2, rsv1: true, payload, mask: masked ? key : false }), encodeRawFrame({ opcode: 0x1, payload: utf8('after'), mask: masked ? key : false }))
    // 10,007-byte chunks: pieces start at offsets that are not multiples of 4.
    const frames = decodeAll(wire, { streamPayloads: true, allowedRsv: Rsv.RSV1 }, 10_007)
    const pieces = frames.slice(0, -1)
    assert.ok(pieces.length >= 5, `${pieces.length} pieces`)
    assert.equal(pieces.map((f) => f.opcode), [0x2, ...pieces.slice(1).map(() => 0x0)])
    assert.equal(pieces.map((f) => f.fin), [...pieces.slice(1).map(() => false), true])
    assert.equal(pieces.map((f) => f.rsv1), [true, ...pieces.slice(1).map(() => false)])
    for (const piece of pieces.slice(0, -1)) assert.ok(piece.payload.length >= PIECE_SIZE, 'at least a piece size but the last')
    assert.equal(concat(...pieces.map((f) => f.payload)), payload)
    assert.is(text(frames.at(-1)!), 'after')
  })
}

test('streamPayloads: a long frame that arrived whole, and short frames, are handed on as they are; a piece of a non-final frame keeps FIN clear', () => {
  const payload = counting(2 * PIECE_SIZE)
  const whole = decodeAll(encodeRawFrame({ opcode: 0x2, payload, mask: false }), { streamPayloads: true })
  assert.is(whole.length, 1)
  assert.equal(whole[0]!.payload, payload)
  const short = decodeAll(encodeRawFrame({ opcode: 0x1, payload: utf8('hi'), mask: false }), { streamPayloads: true }, 1)
  assert.equal(short.map(text), ['hi'])
  const open = decodeAll(concat(encodeRawFrame({ opcode: 0x1, fin: false, payload, mask: false }), encodeRawFrame({ opcode: 0x0, payload: utf8('!'), mask: false })), { streamPayloads: true }, 50_000)
  assert.ok(open.length >= 3)
  assert.ok(open.every((f) => !f.fin || f === open.at(-1)), 'FIN only on the message\'s last frame')
  assert.is(open[0]!.opcode, 0x1)
  // The masking key split across chunks (10 header bytes, then 2 of the key).
  const split = decodeAll(encodeRawFrame({ opcode: 0x2, payload, mask: Uint8Array.of(9, 8, 7, 6) }), { streamPayloads: true }, 12)
  assert.equal(concat(...split.map((f) => f.payload)), payload)
})

test('splitPartialText: a text frame that has not all arrived is handed on in pieces of what has; a whole one and binary frames as they are', () => {
  const payload = utf8('κόσμε, hello, world')
  const wire = encodeRawFrame({ opcode: 0x1, payload, mask: Uint8Array.of(1, 2, 3, 4) })
  const decoder = new FrameDecoder({ splitPartialText: true })
  const pieces: Frame[] = []
  for (const cut of [[0, 9], [9, 15], [15, wire.length]]) {
    decoder.push(wire.slice(cut[0], cut[1]))
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) pieces.push(f)
    if (cut[1] === 9) assert.is(pieces.length, 1, 'the bytes after the header and key handed on at once')
  }
  assert.equal(pieces.map((f) => [f.opcode, f.fin]), [[0x1, false], [0x0, false], [0x0, true]])
  assert.equal(concat(...pieces.map((f) => f.payload)), payload)
  assert.is(decoder.buffered, 0)
  // Whole: one frame. Binary: never split.
  assert.is(decodeAll(wire, { splitPartialText: true }).length, 1)
  const binary = decodeAll(encodeRawFrame({ opcode: 0x2, payload, mask: false }), { splitPartialText: true }, 3)
  assert.is(binary.length, 1)
  const compressed = decodeAll(encodeRawFrame({ opcode: 0x1, rsv1: true, payload, mask: false }), { splitPartialText: true, allowedRsv: Rsv.RSV1 }, 3)
  assert.is(compressed.length, 1)
})

test.run()
