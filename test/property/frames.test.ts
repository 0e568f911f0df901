import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MessageAssembler } from '../../src/core/assembler.ts'
import { FrameDecoder, Rsv } from '../../src/core/decoder.ts'
import { encodeFrame } from '../../src/core/encoder.ts'
import { isWebSocketError, ProtocolError } from '../../src/core/errors.ts'
import type { Frame } from '../../src/core/frame.ts'
import { fragmentMessage } from '../../src/core/fragmenter.ts'
import { mask } from '../../src/core/mask.ts'
import { Message } from '../../src/core/message.ts'
import { concat, cut } from '../helpers/bytes.ts'

const RUNS = { numRuns: 300 }

const dataFrame = fc.record({
  fin: fc.boolean(), rsv1: fc.boolean(), rsv2: fc.constant(false), rsv3: fc.constant(false),
  opcode: fc.constantFrom(0x0, 0x1, 0x2),
  payload: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 65530, maxLength: 65600 })),
}) as fc.Arbitrary<Frame>
const controlFrame = fc.record({
  fin: fc.constant(true), rsv1: fc.constant(false), rsv2: fc.constant(false), rsv3: fc.constant(false),
  opcode: fc.constantFrom(0x8, 0x9, 0xa), payload: fc.uint8Array({ maxLength: 125 }),
}) as fc.Arbitrary<Frame>
const frames = fc.array(fc.oneof({ weight: 3, arbitrary: dataFrame }, { weight: 1, arbitrary: controlFrame }), { minLength: 1, maxLength: 12 })

const shape = (f: Frame) => [f.fin, f.rsv1, f.opcode, Buffer.from(f.payload.buffer, f.payload.byteOffset, f.payload.length).toString("base64")]

test('any valid frames, encoded and cut at arbitrary points (down to one byte), decode identically', () => {
  fc.assert(
    fc.property(frames, fc.boolean(), fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (input, masked, points, bytewise) => {
      const chunks: Uint8Array[] = []
      for (const frame of input) encodeFrame(frame, { mask: masked }, chunks)
      const stream = concat(...chunks)
      const pieces = bytewise && stream.length < 2000
        ? Array.from(stream, (b) => Uint8Array.of(b))
        : cut(stream, points.map((p) => p % (stream.length + 1)))
      const decoder = new FrameDecoder({ role: masked ? 'server' : 'client', allowedRsv: Rsv.RSV1 })
      const out: Frame[] = []
      for (const piece of pieces) {
        decoder.push(piece)
        for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(f)
      }
      assert.equal(out.map(shape), input.map(shape))
      assert.is(decoder.buffered, 0)
    }),
    RUNS,
  )
})

test('random bytes either decode to frames or throw the library\'s own errors, and always stop', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.constantFrom(undefined, 'client', 'server'), (data, chunk, role) => {
      const decoder = new FrameDecoder({ role: role as 'client' | 'server' | undefined, maxFrameSize: 1000 })
      let steps = 0
      try {
        for (let i = 0; i < data.length; i += chunk) {
          decoder.push(data.slice(i, i + chunk))
          while (decoder.next() !== undefined) assert.ok(++steps <= data.length, 'bounded: at most one frame per two bytes fed')
        }
      } catch (error) {
        assert.ok(isWebSocketError(error), `not a wsflow error: ${String(error)}`)
        assert.instance(error, ProtocolError)
        assert.ok([1002, 1009].includes((error as ProtocolError).closeCode))
      }
    }),
    { numRuns: 2000 },
  )
})

test('unmask fast path equals a naive loop at every offset, alignment and length', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(3), fc.nat(3), (data, key, offset, align) => {
      const backing = new Uint8Array(data.length + 4)
      backing.set(data, align)
      const view = backing.subarray(align, align + data.length)
      mask(view, key, offset)
      const expected = data.map((b, i) => b ^ key[(offset + i) & 3]!)
      assert.equal([...view], [...expected])
    }),
    RUNS,
  )
})

test('fragment then assemble is the identity', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => Message.text(s)), fc.uint8Array({ maxLength: 3000 }).map((b) => Message.binary(b))), fc.integer({ min: 1, max: 400 }), (message, size) => {
      const assembler = new MessageAssembler()
      const frames = fragmentMessage(message, size)
      let result: Message | undefined
      frames.forEach((frame, i) => {
        const m = assembler.push(frame)
        assert.is(m === undefined, i < frames.length - 1)
        result = m
      })
      assert.is(result!.type, message.type)
      assert.equal([...result!.data], [...message.data])
    }),
    RUNS,
  )
})

test.run()
