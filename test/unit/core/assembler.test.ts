import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MessageAssembler } from '../../../src/core/assembler.ts'
import { Opcode } from '../../../src/core/constants.ts'
import { InvalidArgumentError, InvalidDataError, MessageTooBigError, ProtocolError } from '../../../src/core/errors.ts'
import { createFrame } from '../../../src/core/frame.ts'
import { bytes, throwsError, utf8 } from '../../helpers/bytes.ts'

test('a single-frame message is handed out without a copy', () => {
  const a = new MessageAssembler()
  const payload = utf8('hi')
  const m = a.push(createFrame(Opcode.TEXT, payload))!
  assert.is(m.type, 'text')
  assert.is(m.data, payload)
  assert.is(m.text(), 'hi')
  const b = a.push(createFrame(Opcode.BINARY, bytes(1, 2)))!
  assert.is(b.type, 'binary')
  assert.not.ok(a.inMessage)
})

test('fragments are joined in order; control frames are not its business', () => {
  const a = new MessageAssembler()
  assert.is(a.push(createFrame(Opcode.TEXT, utf8('Hel'), false)), undefined)
  assert.ok(a.inMessage)
  assert.is(a.buffered, 3)
  assert.is(a.push(createFrame(Opcode.CONTINUATION, new Uint8Array(0), false)), undefined)
  const m = a.push(createFrame(Opcode.CONTINUATION, utf8('lo')))!
  assert.is(m.text(), 'Hello')
  assert.not.ok(a.inMessage)
  throwsError(() => a.push(createFrame(Opcode.PING, new Uint8Array(0))), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test('a fragmented message does not keep the chunks its fragments came from', () => {
  const a = new MessageAssembler()
  const big = new Uint8Array(65536)
  a.push(createFrame(Opcode.BINARY, big.subarray(0, 10), false))
  const m = a.push(createFrame(Opcode.CONTINUATION, big.subarray(10, 20)))!
  assert.is(m.data.length, 20)
  assert.is.not(m.data.buffer, big.buffer)
})

test('continuation rules (RFC 6455 §5.4)', () => {
  throwsError(() => new MessageAssembler().push(createFrame(Opcode.CONTINUATION, bytes(1))), ProtocolError, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002)
  const a = new MessageAssembler()
  a.push(createFrame(Opcode.TEXT, utf8('a'), false))
  throwsError(() => a.push(createFrame(Opcode.BINARY, bytes(1))), ProtocolError, 'WS_ERR_EXPECTED_CONTINUATION', 1002)
  throwsError(() => a.push(createFrame(Opcode.TEXT, utf8('b'), false)), ProtocolError, 'WS_ERR_EXPECTED_CONTINUATION', 1002)
})

test('max message size across fragments (1009), inclusive', () => {
  const a = new MessageAssembler({ maxMessageSize: 10 })
  assert.ok(a.push(createFrame(Opcode.BINARY, new Uint8Array(10))))
  throwsError(() => a.push(createFrame(Opcode.BINARY, new Uint8Array(11))), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  const b = new MessageAssembler({ maxMessageSize: 10 })
  b.push(createFrame(Opcode.BINARY, new Uint8Array(6), false))
  assert.is(b.push(createFrame(Opcode.CONTINUATION, new Uint8Array(4), false)), undefined)
  throwsError(() => b.push(createFrame(Opcode.CONTINUATION, new Uint8Array(1))), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
})

test('max fragments (1009)', () => {
  const a = new MessageAssembler({ maxFragments: 3 })
  a.push(createFrame(Opcode.BINARY, bytes(1), false))
  a.push(createFrame(Opcode.CONTINUATION, bytes(2), false))
  a.push(createFrame(Opcode.CONTINUATION, bytes(3), false))
  throwsError(() => a.push(createFrame(Opcode.CONTINUATION, bytes(4))), MessageTooBigError, 'WS_ERR_TOO_MANY_FRAGMENTS', 1009)
})

test('a 4 MiB message as 65,536 fragments of 64 bytes is accepted', () => {
  const a = new MessageAssembler()
  const piece = Uint8Array.from({ length: 64 }, (_, i) => i)
  a.push(createFrame(Opcode.BINARY, piece, false))
  for (let i = 1; i < 65535; i++) assert.is(a.push(createFrame(Opcode.CONTINUATION, piece, false)), undefined)
  const m = a.push(createFrame(Opcode.CONTINUATION, piece))!
  assert.is(m.data.length, 4 * 1024 * 1024)
  assert.equal([...m.data.subarray(4 * 1024 * 1024 - 64)], [...piece])
})

test('UTF-8 fails fast: on the fragment holding the first bad byte, not at the end', () => {
  const a = new MessageAssembler()
  a.push(createFrame(Opcode.TEXT, utf8('valid '), false))
  // 0xce 0xba is κ; split across fragments it is still valid
  a.push(createFrame(Opcode.CONTINUATION, bytes(0xce), false))
  a.push(createFrame(Opcode.CONTINUATION, bytes(0xba), false))
  throwsError(() => a.push(createFrame(Opcode.CONTINUATION, bytes(0xed, 0xa0, 0x80), false)), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
})

test('text truncated at the end of a message (1007); binary is not checked', () => {
  throwsError(() => new MessageAssembler().push(createFrame(Opcode.TEXT, bytes(0x41, 0xe2, 0x82))), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
  const a = new MessageAssembler()
  a.push(createFrame(Opcode.TEXT, bytes(0x41, 0xe2), false))
  throwsError(() => a.push(createFrame(Opcode.CONTINUATION, bytes(0x82))), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
  assert.ok(new MessageAssembler().push(createFrame(Opcode.BINARY, bytes(0xff, 0xfe))))
})

test('reset forgets an unfinished message', () => {
  const a = new MessageAssembler()
  a.push(createFrame(Opcode.TEXT, bytes(0xe2), false))
  a.reset()
  assert.not.ok(a.inMessage)
  assert.is(a.push(createFrame(Opcode.TEXT, utf8('ok')))!.text(), 'ok')
})


test('check applies the same rules without keeping payloads (streaming)', () => {
  const a = new MessageAssembler({ maxMessageSize: 8 })
  assert.is(a.check(createFrame(Opcode.TEXT, utf8('abc'), false)), 'text')
  assert.ok(a.inMessage)
  assert.is(a.buffered, 0, 'nothing kept')
  assert.is(a.check(createFrame(Opcode.CONTINUATION, bytes(0xce), false)), 'text')
  throwsError(() => a.check(createFrame(Opcode.BINARY, bytes(1))), ProtocolError, 'WS_ERR_EXPECTED_CONTINUATION', 1002)
  assert.is(a.check(createFrame(Opcode.CONTINUATION, bytes(0xba))), 'text')
  assert.not.ok(a.inMessage)
  throwsError(() => a.check(createFrame(Opcode.CONTINUATION, bytes(1))), ProtocolError, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002)
  assert.is(a.check(createFrame(Opcode.BINARY, new Uint8Array(8))), 'binary')
  throwsError(() => a.check(createFrame(Opcode.BINARY, new Uint8Array(9))), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  throwsError(() => new MessageAssembler().check(createFrame(Opcode.PONG, bytes())), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  throwsError(() => new MessageAssembler().check(createFrame(Opcode.TEXT, bytes(0xc0))), InvalidDataError, 'WS_ERR_INVALID_UTF8', 1007)
})

test.run()
