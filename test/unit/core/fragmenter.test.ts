import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Opcode } from '../../../src/core/constants.ts'
import { InvalidArgumentError } from '../../../src/core/errors.ts'
import { fragmentMessage } from '../../../src/core/fragmenter.ts'
import { Message, toMessage } from '../../../src/core/message.ts'
import { throwsError } from '../../helpers/bytes.ts'

test('one frame by default; empty message is one empty frame', () => {
  const [f, ...rest] = fragmentMessage(Message.text('hello'))
  assert.is(rest.length, 0)
  assert.equal([f!.fin, f!.opcode, f!.rsv1], [true, Opcode.TEXT, false])
  const [e] = fragmentMessage(Message.binary(new Uint8Array(0)), 4)
  assert.equal([e!.fin, e!.opcode, e!.payload.length], [true, Opcode.BINARY, 0])
})

test('fragments of at most fragmentSize bytes, views of the data, RSV1 on the first only', () => {
  const data = Uint8Array.from({ length: 10 }, (_, i) => i)
  const frames = fragmentMessage(Message.binary(data), 4, true)
  assert.equal(frames.map((f) => [f.fin, f.opcode, f.rsv1, [...f.payload]]), [
    [false, Opcode.BINARY, true, [0, 1, 2, 3]],
    [false, Opcode.CONTINUATION, false, [4, 5, 6, 7]],
    [true, Opcode.CONTINUATION, false, [8, 9]],
  ])
  assert.is(frames[1]!.payload.buffer, data.buffer)
})

test('fragmentSize must be at least 1', () => {
  throwsError(() => fragmentMessage(Message.text('x'), 0), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  throwsError(() => fragmentMessage(Message.text('x'), Number.NaN), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test('toMessage: strings are text, bytes binary without a copy', () => {
  const m = toMessage('ünï')
  assert.is(m.type, 'text')
  assert.is(m.text(), 'ünï')
  assert.is(m.size, 5)
  assert.ok(m.isText)
  const u8 = new Uint8Array([1, 2, 3, 4])
  assert.is(toMessage(u8).data, u8)
  assert.is(toMessage(m), m)
  const view = toMessage(new Uint16Array(u8.buffer, 2, 1))
  assert.equal([view.type, [...view.data]], ['binary', [3, 4]])
  assert.is(toMessage(new DataView(u8.buffer)).data.buffer, u8.buffer)
  assert.equal([...toMessage(u8.buffer).data], [1, 2, 3, 4])
  throwsError(() => toMessage(42 as unknown as string), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test('Message text, json and toString', () => {
  const m = new Message('text', new TextEncoder().encode('{"a":[1,2]}'))
  assert.equal(m.json(), { a: [1, 2] })
  assert.is(String(m), '{"a":[1,2]}')
  const b = Message.binary(Uint8Array.of(0x68, 0x69, 0xff))
  assert.is(b.text(), 'hi\ufffd')
  assert.not.ok(b.isText)
  assert.is(String(b), '[binary message, 3 bytes]')
})

test.run()
