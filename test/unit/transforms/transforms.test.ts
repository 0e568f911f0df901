import { pipe } from 'it-pipe'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Opcode } from '../../../src/core/constants.ts'
import { encodeFrame } from '../../../src/core/encoder.ts'
import { ConnectionClosedError, InvalidDataError, ProtocolError } from '../../../src/core/errors.ts'
import { createFrame, type Frame } from '../../../src/core/frame.ts'
import type { Message } from '../../../src/core/message.ts'
import { buildClosePayload } from '../../../src/core/close-payload.ts'
import { assembleMessages, decodeFrames, encodeFrames, flatten, fragmentMessages } from '../../../src/transforms/index.ts'
import { bytes, concat, rejectsError } from '../../helpers/bytes.ts'

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

test('round trip through the four stages with it-pipe, masked, fragmented', async () => {
  const input = ['hello', 'ünïcödé ✓'.repeat(50), new Uint8Array(3000).fill(9), '']
  const messages = await pipe(
    input,
    fragmentMessages({ fragmentSize: 100 }),
    encodeFrames({ mask: true }),
    decodeFrames({ role: 'server' }),
    assembleMessages(),
    async (source: AsyncIterable<Message>) => collect(source),
  )
  assert.equal(messages.map((m) => m.type), ['text', 'text', 'binary', 'text'])
  assert.is(messages[0]!.text(), 'hello')
  assert.is(messages[1]!.text(), 'ünïcödé ✓'.repeat(50))
  assert.equal(messages[2]!.data, new Uint8Array(3000).fill(9))
  assert.is(messages[3]!.text(), '')
})

test('decodeFrames passes one batch per chunk, not one item per frame', async () => {
  const chunk = concat(...[1, 2, 3].map((n) => concat(...encodeFrame(createFrame(Opcode.BINARY, bytes(n))))))
  const batches = await collect(decodeFrames()([chunk, chunk.slice(0, 2), chunk.slice(2)]))
  assert.equal(batches.map((b) => b.length), [3, 3])
  const frames = await collect(flatten(decodeFrames()([chunk])))
  assert.equal(frames.map((f) => f.payload[0]), [1, 2, 3])
})

test('a stream that ends in the middle of a frame throws ConnectionClosedError (1006)', async () => {
  await rejectsError(collect(decodeFrames()([bytes(0x82, 0x05, 1, 2)])), ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
})

test('decoder errors surface from the stage', async () => {
  await rejectsError(collect(decodeFrames({ role: 'server' })([bytes(0x82, 0x00)])), ProtocolError, 'WS_ERR_EXPECTED_MASK', 1002)
})

test('control frames between fragments go to onControlFrame; close ends the stream', async () => {
  const seen: number[] = []
  const frames: Frame[] = [
    createFrame(Opcode.TEXT, bytes(0x61), false),
    createFrame(Opcode.PING, bytes(1)),
    createFrame(Opcode.CONTINUATION, bytes(0x62)),
    createFrame(Opcode.CLOSE, buildClosePayload(1000, 'done')),
    createFrame(Opcode.TEXT, bytes(0x63)),
  ]
  const messages = await collect(assembleMessages({ onControlFrame: (f) => seen.push(f.opcode) })([frames]))
  assert.equal(messages.map((m) => m.text()), ['ab'])
  assert.equal(seen, [Opcode.PING, Opcode.CLOSE])
})

test('an invalid close payload or invalid text is an error of its own class', async () => {
  await rejectsError(collect(assembleMessages()([createFrame(Opcode.CLOSE, bytes(0x03))])), ProtocolError, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002)
  await rejectsError(collect(assembleMessages()([createFrame(Opcode.TEXT, bytes(0xff))])), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
})

test('encodeFrames joins a batch of small frames into one chunk and passes large payloads through', async () => {
  const small = await collect(encodeFrames()([[createFrame(Opcode.BINARY, bytes(1)), createFrame(Opcode.BINARY, bytes(2))]]))
  assert.equal(small.map((c) => [...c]), [[0x82, 1, 1, 0x82, 1, 2]])
  const big = new Uint8Array(70000)
  const chunks = await collect(encodeFrames()([[createFrame(Opcode.BINARY, big), createFrame(Opcode.BINARY, big)]]))
  assert.is(chunks.length, 4)
  assert.is(chunks[1], big)
  const single = await collect(encodeFrames()([createFrame(Opcode.BINARY, big)]))
  assert.is(single.length, 2, 'a lone large frame: header, then the payload uncopied')
  assert.is(single[1], big)
})

test('fragmentMessages accepts arrays of outgoing values', async () => {
  const batches = await collect(fragmentMessages()([['a', bytes(1)], [], 'b']))
  assert.equal(batches.map((b) => b.map((f) => f.opcode)), [[Opcode.TEXT, Opcode.BINARY], [Opcode.TEXT]])
})

test.run()
