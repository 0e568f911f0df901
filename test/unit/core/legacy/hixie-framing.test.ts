/**
 * hixie framing on byte literals: draft-hixie-thewebsocketprotocol-76 §4.2/§5.3 (0x00 <UTF-8> 0xFF
 * text frames, the 0xFF 0x00 closing frame, frames to discard: sentinel ones with another frame
 * type, length-prefixed ones with the high bit set) and -75 (no closing frame); any chunking,
 * limits before buffering, UTF-8 at the first bad byte.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ByteQueue } from '../../../../src/core/byte-queue.ts'
import { NEED_MORE } from '../../../../src/core/constants.ts'
import { InvalidArgumentError, InvalidDataError, MessageTooBigError, ProtocolError } from '../../../../src/core/errors.ts'
import { HixieVersion } from '../../../../src/core/legacy/hixie-handshake.ts'
import { HixieDecoder, encodeHixieClose, encodeHixieText, parseHixieFrames, type HixieDecodeOptions, type HixieFrame } from '../../../../src/core/legacy/hixie-framing.ts'
import { bytes, concat, cut, throwsError, utf8 } from '../../../helpers/bytes.ts'

const decode = new TextDecoder()

/** Everything a decoder yields for these chunks, as strings ('close' for the closing frame). */
function frames(chunks: readonly Uint8Array[], options: HixieDecodeOptions = {}): string[] {
  const decoder = new HixieDecoder(options)
  const out: string[] = []
  for (const chunk of chunks) {
    decoder.push(chunk)
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(show(f))
  }
  return out
}

const show = (f: HixieFrame): string => (f.type === 'close' ? 'close' : `text:${decode.decode(f.data)}`)

/** A stream of every kind of frame, and what a -76 decoder makes of it. */
const STREAM = concat(
  bytes(0x00), utf8('Hello'), bytes(0xff), // a text frame
  bytes(0x00, 0xff), // an empty text frame
  bytes(0x00), utf8('κόσμε 😀'), bytes(0xff), // multi-byte UTF-8
  bytes(0x05), utf8('skip me'), bytes(0xff), // a sentinel frame of another type: discarded
  bytes(0x80, 0x03, 0x61, 0xff, 0x00), // a length-prefixed frame (3 bytes, 0xFF among them): discarded
  bytes(0x80, 0x81, 0x00), new Uint8Array(128).fill(0xff), // length 1 * 128 + 0: discarded
  bytes(0xff, 0x01, 0x00), // frame type 0xFF with a length of 1: discarded, not a close
  bytes(0x00), utf8('after'), bytes(0xff),
  bytes(0xff, 0x00), // the closing frame
)
const EXPECTED = ['text:Hello', 'text:', 'text:κόσμε 😀', 'text:after', 'close']

test('the frames of -76 in one chunk', () => {
  assert.equal(frames([STREAM]), EXPECTED)
})

test('any chunking gives the same frames: every cut point, and one byte at a time', () => {
  for (let at = 1; at < STREAM.length; at++) assert.equal(frames(cut(STREAM, [at])), EXPECTED, `cut at ${at}`)
  assert.equal(frames(Array.from(STREAM, (b) => bytes(b))), EXPECTED, 'one byte per chunk')
  assert.equal(frames(cut(STREAM, [3, 9, 10, 40, 41, 42, 60, 100, 150])), EXPECTED, 'several cuts')
})

test('-75 has no closing frame: 0xFF 0x00 is a frame to discard', () => {
  assert.equal(frames([STREAM], { version: HixieVersion.HIXIE_75 }), EXPECTED.slice(0, -1))
  assert.equal(frames([concat(bytes(0xff, 0x00, 0x00), utf8('x'), bytes(0xff))], { version: HixieVersion.HIXIE_75 }), ['text:x'])
})

test('a text frame in one chunk is a view of it; one across chunks is one copy', () => {
  const chunk = concat(bytes(0x00), utf8('view'), bytes(0xff))
  const decoder = new HixieDecoder()
  decoder.push(chunk)
  const f = decoder.next()
  assert.ok(f?.type === 'text' && f.data.buffer === chunk.buffer && f.data.byteOffset === 1, 'a view')
  decoder.push(bytes(0x00, 0x61))
  assert.is(decoder.next(), undefined)
  decoder.push(bytes(0x62, 0xff))
  const g = decoder.next()
  assert.ok(g?.type === 'text' && decode.decode(g.data) === 'ab')
})

test('the generator yields NEED_MORE whenever every byte pushed has been read', () => {
  const queue = new ByteQueue()
  const parser = parseHixieFrames(queue)
  assert.is(parser.next().value, NEED_MORE)
  queue.push(bytes(0x00, 0x61))
  assert.is(parser.next().value, NEED_MORE)
  queue.push(bytes(0xff, 0xff))
  assert.equal(parser.next().value, { type: 'text', data: bytes(0x61) })
  assert.is(parser.next().value, NEED_MORE, 'inside the length of a 0xFF frame')
  queue.push(bytes(0x00))
  assert.equal(parser.next().value, { type: 'close' })
  assert.is(queue.length, 0)
})

test('maxMessageSize: a text frame without its 0xFF fails once past the limit, never buffering more', () => {
  const decoder = new HixieDecoder({ maxMessageSize: 10 })
  decoder.push(concat(bytes(0x00), utf8('0123456789'))) // 10 bytes, no end yet: within the limit
  assert.is(decoder.next(), undefined)
  decoder.push(utf8('x')) // the 11th byte
  throwsError(() => decoder.next(), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  // Sticky: the same error again, whatever is pushed.
  decoder.push(bytes(0xff))
  throwsError(() => decoder.next(), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  // Exactly the limit passes, in any chunking.
  assert.equal(frames([concat(bytes(0x00), utf8('0123456789'), bytes(0xff))], { maxMessageSize: 10 }), ['text:0123456789'])
  assert.equal(frames([concat(bytes(0x00), utf8('01234')), concat(utf8('56789'), bytes(0xff))], { maxMessageSize: 10 }), ['text:0123456789'])
  // One chunk of megabytes without a 0xFF fails at once.
  const big = new HixieDecoder({ maxMessageSize: 1024 })
  big.push(concat(bytes(0x00), new Uint8Array(4096).fill(0x61)))
  throwsError(() => big.next(), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
})

test('maxMessageSize bounds the frames to discard too: a length over it fails as soon as it is read', () => {
  // 0x81 0x01 is 129 bytes: over 100, before any of them arrives.
  throwsError(() => frames([bytes(0x80, 0x81, 0x01)], { maxMessageSize: 100 }), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  // The length is checked byte by byte: 0x82 already means at least 256.
  throwsError(() => frames([bytes(0x80, 0x82)], { maxMessageSize: 200 }), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  throwsError(() => frames([concat(bytes(0x01), new Uint8Array(101).fill(0x61))], { maxMessageSize: 100 }), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  assert.equal(frames([bytes(0x80, 0x00, 0x00, 0x61, 0xff)], { maxMessageSize: 100 }), ['text:a'], 'a length of 0')
})

test('a length of more than 8 bytes is a protocol error', () => {
  assert.equal(frames([concat(bytes(0x80), new Uint8Array(7).fill(0x80), bytes(0x00, 0x00, 0x61, 0xff))]), ['text:a'], '8 bytes')
  throwsError(() => frames([concat(bytes(0x80), new Uint8Array(8).fill(0x80))]), ProtocolError, 'WS_ERR_INVALID_LENGTH', 1002)
})

test('invalid UTF-8 fails at the first bad byte, before the 0xFF arrives; a truncated sequence at the end', () => {
  const decoder = new HixieDecoder()
  decoder.push(bytes(0x00, 0x61, 0x62))
  assert.is(decoder.next(), undefined)
  decoder.push(bytes(0xc0, 0x80)) // an overlong NUL: invalid at its first byte
  throwsError(() => decoder.next(), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
  throwsError(() => frames([bytes(0x00, 0xe2, 0x82, 0xff)]), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
  throwsError(() => frames([bytes(0x00, 0xed, 0xa0, 0x80, 0xff)]), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
  // A sequence split across chunks is fine; the bytes of a frame to discard are not UTF-8 checked.
  assert.equal(frames([bytes(0x00, 0xe2), bytes(0x82), bytes(0xac, 0xff)]), ['text:€'])
  assert.equal(frames([bytes(0x01, 0xc0, 0x80, 0xff, 0x00, 0xff)]), ['text:'])
})

test('the encoder: text frames and the closing frame, decoded back', () => {
  assert.equal([...encodeHixieText('Hello')], [0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0xff])
  assert.equal([...encodeHixieText('')], [0x00, 0xff])
  assert.equal([...encodeHixieText(utf8('é'))], [0x00, 0xc3, 0xa9, 0xff])
  assert.equal([...encodeHixieClose()], [0xff, 0x00])
  assert.is.not(encodeHixieClose(), encodeHixieClose(), 'a new array each time')
  const texts = ['one', '', 'κόσμε', '😀'.repeat(100)]
  assert.equal(frames([concat(...texts.map((t) => encodeHixieText(t)), encodeHixieClose())]), [...texts.map((t) => `text:${t}`), 'close'])
  let caught: unknown
  try {
    encodeHixieText(bytes(0x61, 0xff))
  } catch (error) {
    caught = error
  }
  assert.instance(caught, InvalidArgumentError)
})

test.run()
