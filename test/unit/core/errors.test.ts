import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CloseCode, ConnectionClosedError, HandshakeError, InvalidDataError, MessageTooBigError, ProtocolError,
  StallError, InvalidArgumentError, WebSocketError, isWebSocketError,
} from '../../../src/core/errors.ts'

test('protocol errors carry class, code and close code together', () => {
  const e = new ProtocolError('WS_ERR_INVALID_OPCODE', 'bad opcode 3')
  assert.instance(e, WebSocketError)
  assert.instance(e, Error)
  assert.is(e.name, 'ProtocolError')
  assert.is(e.code, 'WS_ERR_INVALID_OPCODE')
  assert.is(e.closeCode, 1002)
  const d = new InvalidDataError('WS_ERR_INVALID_UTF8', 'bad utf-8')
  assert.instance(d, ProtocolError)
  assert.is(d.closeCode, CloseCode.INVALID_DATA)
  const b = new MessageTooBigError('WS_ERR_MESSAGE_TOO_BIG', 'too big', 10)
  assert.is(b.closeCode, 1009)
  assert.is(b.limit, 10)
})

test('handshake, stall, closed and argument errors', () => {
  const h = new HandshakeError('wrong version', 426, { 'sec-websocket-version': '13' }, 'WS_ERR_UNSUPPORTED_VERSION')
  assert.is(h.status, 426)
  assert.equal(h.headers, { 'sec-websocket-version': '13' })
  assert.is(new HandshakeError('x').status, 400)
  assert.is(new StallError(500).timeout, 500)
  const c = new ConnectionClosedError(1006, '', false)
  assert.is(c.closeCode, 1006)
  assert.is(c.wasClean, false)
  assert.match(c.message, '1006')
  assert.match(new ConnectionClosedError(4000, 'bye', true).message, '4000 bye')
  assert.is(new InvalidArgumentError('no').code, 'WS_ERR_INVALID_ARGUMENT')
})

test('isWebSocketError brand check', () => {
  assert.ok(isWebSocketError(new StallError(1)))
  assert.not.ok(isWebSocketError(new Error('x')))
  assert.not.ok(isWebSocketError(null))
  assert.not.ok(isWebSocketError('WS_ERR_PROTOCOL'))
})

test.run()
