/**
 * core/protocol on byte literals, in the style of python websockets' test_protocol.py: feed bytes,
 * read the events and the bytes it wants to send. Client frames are masked with the key 00 00 00 00
 * so that their payloads read as plain bytes.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, InvalidArgumentError, ProtocolError } from '../../../src/core/errors.ts'
import { Protocol, SEND_EOF, type ProtocolEvent, type ProtocolHandler, type ProtocolOptions, type ProtocolOutput } from '../../../src/core/protocol.ts'
import { prepareMessage } from '../../../src/core/prepared.ts'
import { RecordingHandler, RecordingOutput } from '../../../src/core/protocol-recorder.ts'
import { DEFAULTS } from '../../../src/core/defaults.ts'
import { bytes, concat } from '../../helpers/bytes.ts'

const ZERO_KEY = (): Uint8Array => new Uint8Array(4)
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const client = (options: Partial<ProtocolOptions> = {}): Protocol => new Protocol({ role: 'client', generateMaskingKey: ZERO_KEY, ...options })
const server = (options: Partial<ProtocolOptions> = {}): Protocol => new Protocol({ role: 'server', ...options })
/** A frame as a client sends it: masked with the zero key. */
const masked = (b0: number, payload: Uint8Array): Uint8Array => concat(bytes(b0, 0x80 | payload.length, 0, 0, 0, 0), payload)
/** A frame as a server sends it. */
const plain = (b0: number, payload: Uint8Array): Uint8Array => concat(bytes(b0, payload.length), payload)
const close = (code: number, reason = ''): Uint8Array => concat(bytes(code >> 8, code & 0xff), utf8(reason))
const hex = (chunks: Uint8Array[]): string[] => chunks.map((c) => (c === SEND_EOF ? 'EOF' : Buffer.from(c).toString('hex')))
const h = (...chunks: Uint8Array[]): string[] => hex(chunks)
const types = (events: ProtocolEvent[]): string[] => events.map((e) => e.type)

test('client: a text frame is a message event; nothing to send', () => {
  const p = client()
  p.receiveData(plain(0x81, utf8('Hello')))
  const [event] = p.eventsReceived()
  assert.is(event?.type, 'message')
  assert.is(event?.type === 'message' && event.message.text(), 'Hello')
  assert.equal(p.dataToSend(), [])
  assert.is(p.readyState, 'open')
})

test('server: a ping between fragments is answered with its payload at once, then the message completes', () => {
  const p = server()
  p.receiveData(concat(masked(0x01, utf8('Hel')), masked(0x89, utf8('hi')), masked(0x80, utf8('lo'))))
  const events = p.eventsReceived()
  assert.equal(types(events), ['ping', 'message'])
  assert.is(events[1]?.type === 'message' && events[1].message.text(), 'Hello')
  assert.equal(hex(p.dataToSend()), h(plain(0x8a, utf8('hi'))))
})

test('server: a pong is an event and is not answered', () => {
  const p = server()
  p.receiveData(masked(0x8a, utf8('x')))
  assert.equal(types(p.eventsReceived()), ['pong'])
  assert.equal(p.dataToSend(), [])
})

test("client: the server's close is echoed with its code and reason; the client waits for the server's EOF, then sends its own", () => {
  const p = client()
  p.receiveData(plain(0x88, close(1000, 'bye')))
  assert.equal(p.eventsReceived(), [{ type: 'close', code: 1000, reason: 'bye' }])
  assert.equal(hex(p.dataToSend()), h(masked(0x88, close(1000, 'bye'))))
  assert.is(p.readyState, 'closing')
  assert.equal(p.closeReceived, { code: 1000, reason: 'bye' })
  assert.equal(p.closeSent, { code: 1000, reason: 'bye' })
  assert.is(p.receiveEof(), true)
  assert.equal(hex(p.dataToSend()), ['EOF'])
  const outcome = p.connectionClosed()
  assert.equal(outcome, { code: 1000, reason: 'bye', wasClean: true, error: undefined })
  assert.is(p.readyState, 'closed')
})

test("server: the client's close is echoed and the server closes TCP first (RFC 6455 §7.1.1)", () => {
  const p = server()
  p.receiveData(masked(0x88, close(1001)))
  assert.equal(hex(p.dataToSend()), [...h(plain(0x88, close(1001))), 'EOF'])
})

test('a close frame without a code is echoed empty and ends cleanly with 1005', () => {
  const p = server()
  p.receiveData(masked(0x88, bytes()))
  assert.equal(hex(p.dataToSend()), [...h(plain(0x88, bytes())), 'EOF'])
  assert.equal(p.connectionClosed(), { code: 1005, reason: '', wasClean: true, error: undefined })
})

test("the peer's close with 4000 ends with a ConnectionClosedError (clean); the same code after this side's close() does not", () => {
  const p = server()
  p.receiveData(masked(0x88, close(4000, 'app')))
  const outcome = p.connectionClosed()
  assert.instance(outcome.error, ConnectionClosedError)
  assert.is(outcome.error?.closeCode, 4000)
  assert.is(outcome.error?.reason, 'app')
  assert.is(outcome.error?.wasClean, true)

  const q = server()
  assert.is(q.close(4000, 'mine'), true)
  assert.equal(hex(q.dataToSend()), h(plain(0x88, close(4000, 'mine'))))
  assert.is(q.close(1000), false, 'a second close sends nothing')
  q.receiveData(masked(0x88, close(4000, 'mine')))
  assert.equal(hex(q.dataToSend()), ['EOF'])
  assert.equal(q.connectionClosed(), { code: 4000, reason: 'mine', wasClean: true, error: undefined })
})

test('close() validates before writing: an invalid code or a long reason throws and nothing is sent', () => {
  const p = client()
  assert.throws(() => p.close(1005), (e: unknown) => e instanceof InvalidArgumentError)
  assert.throws(() => p.close(1000, 'x'.repeat(124)), (e: unknown) => e instanceof InvalidArgumentError)
  assert.equal(p.dataToSend(), [])
  assert.is(p.readyState, 'open')
})

test('a frame that breaks the RFC fails the connection: close 1002 with a fixed reason, EOF, and later bytes are discarded', () => {
  const p = server()
  p.receiveData(plain(0x81, utf8('unmasked')))
  const events = p.eventsReceived()
  assert.equal(types(events), ['fail'])
  assert.instance(p.failure, ProtocolError)
  assert.is(p.failure?.code, 'WS_ERR_EXPECTED_MASK')
  assert.equal(hex(p.dataToSend()), [...h(plain(0x88, close(1002, 'protocol error'))), 'EOF'])
  p.receiveData(bytes(1, 2, 3))
  assert.is(p.discarded, 3)
  assert.is(p.canSend, false)
  assert.is(p.fail(new Error('later')), p.failure, 'the first failure stays')
  const outcome = p.connectionClosed()
  assert.is(outcome.code, 1006)
  assert.is(outcome.wasClean, false)
  assert.is(outcome.error?.closeCode, 1002)
  assert.is(outcome.error?.cause, p.failure)
})

test('bytes after a close frame in the same chunk are discarded (RFC 6455 §5.5.1)', () => {
  const p = server()
  p.receiveData(concat(masked(0x88, close(1000)), masked(0x81, utf8('late'))))
  assert.equal(types(p.eventsReceived()), ['close'])
  assert.is(p.discarded, 10)
  p.receiveData(bytes(9))
  assert.is(p.discarded, 11)
})

test('an error that is not a ProtocolError fails with 1011; a failure after the close was sent only ends TCP', () => {
  const p = server()
  const failure = p.fail(new TypeError('bug'))
  assert.is(failure.closeCode, 1011)
  assert.instance(failure.cause, TypeError)
  assert.equal(hex(p.dataToSend()), [...h(plain(0x88, close(1011, 'internal error'))), 'EOF'])

  const q = client()
  q.close(1000)
  q.dataToSend()
  q.fail(new ProtocolError('WS_ERR_PROTOCOL', 'x'))
  assert.equal(hex(q.dataToSend()), ['EOF'])

  const r = client()
  r.connectionClosed()
  r.fail(new ProtocolError('WS_ERR_PROTOCOL', 'x'))
  assert.equal(r.dataToSend(), [], 'nothing is written once closed')
  assert.is(r.connectionClosed().error?.closeCode, 1006, 'no close frame was sent')

  const s = server()
  s.fail(new ProtocolError('WS_ERR_PROTOCOL', 'policy', 1008))
  assert.equal(hex(s.dataToSend()), [...h(plain(0x88, close(1008))), 'EOF'], 'a code without a fixed reason is sent without one')

  const t = server()
  t.receiveData(masked(0x88, close(1000)))
  t.dataToSend()
  t.fail(new ProtocolError('WS_ERR_PROTOCOL', 'x'))
  assert.equal(t.dataToSend(), [], 'the EOF is sent once')
})

test('deferClose: the echo waits for flushClose, data may still be sent before it, then close and EOF go out', () => {
  const p = server({ deferClose: true })
  p.receiveData(concat(masked(0x82, bytes(1, 2)), masked(0x88, close(1000, 'done'))))
  assert.equal(types(p.eventsReceived()), ['message', 'close'])
  assert.equal(p.dataToSend(), [], 'nothing yet')
  assert.is(p.closePending, true)
  assert.is(p.readyState, 'closing')
  assert.is(p.canSend, true)
  assert.is(p.send('binary', bytes(1, 2)), true)
  p.flushClose()
  p.flushClose() // once only
  assert.equal(hex(p.dataToSend()), [...h(plain(0x82, bytes(1, 2)), plain(0x88, close(1000, 'done'))), 'EOF'])
  assert.is(p.canSend, false)
  assert.is(p.send('text', utf8('late')), false)
})

test("deferClose: the application's own close answers the peer's close with its code", () => {
  const p = server({ deferClose: true })
  p.receiveData(masked(0x88, close(1000)))
  assert.is(p.close(4001, 'own'), true)
  assert.equal(hex(p.dataToSend()), [...h(plain(0x88, close(4001, 'own'))), 'EOF'])
  assert.equal(p.connectionClosed(), { code: 1000, reason: '', wasClean: true, error: undefined })
})

test('deferClose: a failure waits too; close() then gives way to it; the flush sends 1009 and EOF', () => {
  const p = server({ deferClose: true, maxMessageSize: 4 })
  p.receiveData(concat(masked(0x82, bytes(1)), masked(0x82, bytes(1, 2, 3, 4, 5))))
  assert.equal(types(p.eventsReceived()), ['message', 'fail'])
  assert.equal(p.dataToSend(), [])
  assert.is(p.close(1000), false)
  assert.is(p.send('binary', bytes(1)), true, 'the answer to the message before the failure still goes out')
  p.flushClose()
  assert.equal(hex(p.dataToSend()), [...h(plain(0x82, bytes(1)), plain(0x88, close(1009, 'message too big'))), 'EOF'])
})

test("deferClose: the peer's EOF while the echo waits is expected: the echo goes out at once, then this side's EOF", () => {
  const p = client({ deferClose: true })
  p.receiveData(plain(0x88, close(1000)))
  assert.equal(p.dataToSend(), [])
  assert.is(p.receiveEof(), true)
  assert.equal(hex(p.dataToSend()), [...h(masked(0x88, close(1000))), 'EOF'])
  assert.is(p.closePending, false)
})

test('deferClose: a failure while the echo waits replaces the echo with its own code', () => {
  const p = client({ deferClose: true, compression: true })
  p.receiveData(concat(plain(0xc1, bytes(0xaa)), plain(0x88, close(1000))))
  assert.equal(types(p.eventsReceived()), ['compressed', 'close'])
  p.receiveInflated('text', bytes(0xff))
  p.flushClose()
  assert.equal(hex(p.dataToSend()), [...h(masked(0x88, close(1007, 'invalid data'))), 'EOF'])
  p.receiveInflated('text', utf8('ignored once failed'))
  assert.equal(types(p.eventsReceived()), ['fail'])
})

test('an EOF in the middle of the connection is not expected: the layer above drops it (1006)', () => {
  const p = server()
  assert.is(p.receiveEof(), false)
  const cause = new Error('reset')
  const outcome = p.connectionClosed(cause)
  assert.is(outcome.code, 1006)
  assert.is(outcome.error?.cause, cause)
  assert.is(client().connectionClosed().error?.cause, undefined)
  const q = client()
  q.close(1000)
  assert.is(q.connectionClosed().error?.closeCode, 1006, 'a close sent and never answered')
})

test('permessage-deflate: RSV1 on the first frame marks a compressed message, handed up; the inflated text is checked', () => {
  const p = client({ compression: true })
  p.receiveData(concat(plain(0x41, bytes(1)), plain(0x80, bytes(2)), plain(0x82, bytes(3))))
  const events = p.eventsReceived()
  assert.equal(events.map((e) => (e.type === 'compressed' ? `${e.messageType}:${e.payload.join()}:${e.fin}` : e.type)), ['text:1:false', 'text:2:true', 'message'])
  p.receiveInflated('text', utf8('héllo'))
  const [inflated] = p.eventsReceived()
  assert.is(inflated?.type === 'message' && inflated.message.text(), 'héllo')
  p.receiveInflated('binary', bytes(0xff))
  assert.equal(types(p.eventsReceived()), ['message'], 'binary is not checked')
  p.receiveInflated('text', bytes(0xc3))
  assert.is(p.failure?.closeCode, 1007)
})

test('permessage-deflate: RSV1 on a continuation or a control frame fails with 1002 (RFC 7692 §6.1); without the extension any RSV1 does', () => {
  const a = client({ compression: true })
  a.receiveData(concat(plain(0x41, bytes(1)), plain(0xc0, bytes(2))))
  assert.is(a.failure?.code, 'WS_ERR_UNEXPECTED_RSV')
  const b = client({ compression: true })
  b.receiveData(plain(0xc9, bytes()))
  assert.is(b.failure?.code, 'WS_ERR_UNEXPECTED_RSV')
  const c = client()
  c.receiveData(plain(0xc1, bytes(1)))
  assert.is(c.failure?.closeCode, 1002)
})

test('streaming: data frames go up as fragments as they arrive', () => {
  const p = server({ streaming: true })
  p.receiveData(concat(masked(0x02, bytes(1, 2)), masked(0x80, bytes(3))))
  assert.equal(p.eventsReceived().map((e) => (e.type === 'fragment' ? [e.messageType, [...e.payload], e.first, e.fin] : e.type)), [
    ['binary', [1, 2], true, false],
    ['binary', [3], false, true],
  ])
})

test('buffered counts the bytes of a frame in progress', () => {
  const p = server()
  p.receiveData(bytes(0x81, 0x85, 0, 0))
  assert.is(p.buffered, 4)
  assert.equal(p.eventsReceived(), [])
})

test('send: a message past fragmentSize goes out as frames, RSV1 on the first only; a client masks', () => {
  const p = server({ fragmentSize: 2 })
  p.send('text', utf8('abcde'), true)
  assert.equal(hex(p.dataToSend()), h(plain(0x41, utf8('ab')), plain(0x00, utf8('cd')), plain(0x80, utf8('e'))))
  const q = client()
  q.send('binary', bytes(7))
  assert.equal(hex(q.dataToSend()), h(masked(0x82, bytes(7))))
  const r = server({ fragmentSize: 1 })
  r.send('binary', bytes(1, 2))
  r.sendFragment('binary', bytes(3), true)
  assert.equal(hex(r.dataToSend()), h(plain(0x02, bytes(1)), plain(0x80, bytes(2)), plain(0x82, bytes(3))))
})

test('send: a large unmasked payload is queued as it is, after its header', () => {
  const p = server()
  const payload = new Uint8Array(2000).fill(5)
  p.send('binary', payload)
  const [header, body] = p.dataToSend()
  assert.equal([...header!], [0x82, 126, 2000 >> 8, 2000 & 0xff])
  assert.equal(body, payload)
})

test('sendFragment: the first fragment carries the type, the rest are continuations; no other message until it ends', () => {
  const p = server()
  p.sendFragment('text', utf8('a'), false, true)
  assert.throws(() => p.send('text', utf8('x')), (e: unknown) => e instanceof InvalidArgumentError)
  assert.is(p.sendPrepared(prepareMessage('x').frame), false)
  p.sendFragment('text', utf8('b'), true)
  assert.equal(hex(p.dataToSend()), h(plain(0x41, utf8('a')), plain(0x80, utf8('b'))))
  p.close()
  assert.is(p.sendFragment('text', utf8('c'), true), false)
})

test('sendPrepared writes the prepared bytes as they are', () => {
  const p = server()
  const prepared = prepareMessage('hi')
  assert.is(p.sendPrepared(prepared.frame), true)
  assert.is(prepared.frame, prepared.frame, 'encoded once')
  assert.equal(hex(p.dataToSend()), h(plain(0x81, utf8('hi'))))
  p.close()
  assert.is(p.sendPrepared(prepared.frame), false)
})

test('ping and pong: at most 125 bytes (RFC 6455 §5.5); nothing once this side closed', () => {
  const p = server()
  assert.is(p.ping(utf8('p')), true)
  assert.is(p.pong(utf8('q')), true)
  assert.equal(hex(p.dataToSend()), h(plain(0x89, utf8('p')), plain(0x8a, utf8('q'))))
  assert.throws(() => p.ping(new Uint8Array(126)), (e: unknown) => e instanceof InvalidArgumentError)
  assert.throws(() => p.pong(new Uint8Array(126)), (e: unknown) => e instanceof InvalidArgumentError)
  p.close()
  assert.is(p.ping(bytes()), false)
  assert.is(p.pong(bytes()), false)
  p.connectionClosed()
  assert.is(p.close(), false)
})

test('a custom handler and output are called directly; the recorders cannot be read then', () => {
  const seen: string[] = []
  const written: Uint8Array[] = []
  let buffer = new Uint8Array(0)
  const output: ProtocolOutput = {
    get buffer() {
      return buffer
    },
    reserve(length) {
      buffer = new Uint8Array(length)
      written.push(buffer)
      return 0
    },
    write(chunks) {
      written.push(...chunks)
    },
    end() {
      seen.push('end')
    },
  }
  const handler: ProtocolHandler = {
    onMessage: (m) => seen.push(`message ${m.text()}`),
    onFragment: () => seen.push('fragment'),
    onCompressed: () => seen.push('compressed'),
    onPing: () => seen.push('ping'),
    onPong: () => seen.push('pong'),
    onCloseFrame: (code) => seen.push(`close ${code}`),
    onFail: (e) => seen.push(`fail ${e.code}`),
  }
  const p = new Protocol({ role: 'server' }, handler, output)
  p.receiveData(concat(masked(0x81, utf8('a')), masked(0x88, close(1000))))
  assert.equal(seen, ['message a', 'end', 'close 1000'], 'the echo and the EOF are written before the event')
  assert.equal(hex(written), h(plain(0x88, close(1000))))
  assert.throws(() => p.dataToSend(), (e: unknown) => e instanceof InvalidArgumentError)
  assert.throws(() => p.eventsReceived(), (e: unknown) => e instanceof InvalidArgumentError)
})

test('protocols made from one options object share their settings, made anew when the object changes', () => {
  const options: ProtocolOptions = { role: 'server', fragmentSize: 2 }
  const a = new Protocol(options)
  const b = new Protocol(options)
  a.send('text', utf8('abc'))
  b.send('text', utf8('abc'))
  assert.equal(hex(a.dataToSend()), hex(b.dataToSend()))
  options.fragmentSize = 10
  const c = new Protocol(options)
  c.send('text', utf8('abc'))
  assert.equal(hex(c.dataToSend()), h(plain(0x81, utf8('abc'))))
})

test('server: while the output is not writable, pings are owed and only the latest is answered at flushPong (RFC 6455 §5.5.3)', () => {
  const output = new RecordingOutput()
  const p = new Protocol({ role: 'server' }, undefined, output)
  assert.is(p.flushPong(), false) // none owed
  output.writable = false
  p.receiveData(concat(masked(0x89, utf8('a')), masked(0x89, utf8('b'))))
  assert.equal(types(p.eventsReceived()), ['ping', 'ping'])
  assert.equal(p.dataToSend(), [])
  assert.is(p.pongOwed, true)
  output.writable = true
  // Owed pongs stay owed until flushed, even once writable: the order of answers is kept.
  p.receiveData(masked(0x89, utf8('c')))
  assert.equal(p.dataToSend(), [])
  assert.is(p.flushPong(), true)
  assert.equal(hex(p.dataToSend()), h(plain(0x8a, utf8('c'))))
  assert.is(p.pongOwed, false)
  p.receiveData(masked(0x89, utf8('d')))
  assert.equal(hex(p.dataToSend()), h(plain(0x8a, utf8('d'))))
})

test('server: a peer that pings on while reading none of the pongs fails with 1008 after maxOwedPings', () => {
  const output = new RecordingOutput()
  const p = new Protocol({ role: 'server' }, undefined, output)
  output.writable = false
  const ping = masked(0x89, utf8('x'))
  for (let i = 0; i < DEFAULTS.maxOwedPings; i++) p.receiveData(ping)
  assert.is(p.failure, undefined)
  p.receiveData(ping)
  assert.instance(p.failure, ProtocolError)
  assert.is(p.failure!.code, 'WS_ERR_TOO_MANY_PINGS')
  assert.is(p.failure!.closeCode, 1008)
  const sent = concat(...p.dataToSend())
  // The close frame only (no pong): 0x88, its length, 1008 and the reason.
  assert.is(sent[0], 0x88)
  assert.is(sent.length, 2 + sent[1]!)
  assert.is((sent[2]! << 8) | sent[3]!, 1008)
  // Owed pongs are not written after this side's close frame.
  assert.is(p.flushPong(), false)
  assert.equal(p.dataToSend(), [])
})

test('server: a pong owed when the connection closed is not written', () => {
  const output = new RecordingOutput()
  const p = new Protocol({ role: 'server' }, undefined, output)
  output.writable = false
  p.receiveData(masked(0x89, utf8('a')))
  p.connectionClosed(undefined)
  assert.is(p.flushPong(), false)
  assert.equal(p.dataToSend(), [])
})

test('server: bytes after the peer\'s close frame are discarded up to maxDiscard, then the output is destroyed', () => {
  const output = new RecordingOutput()
  const p = new Protocol({ role: 'server' }, new RecordingHandler(), output)
  p.receiveData(masked(0x88, close(1000)))
  const junk = new Uint8Array(64 * 1024)
  for (let sent = 0; sent < DEFAULTS.maxDiscard; sent += junk.length) p.receiveData(junk)
  assert.is(p.discarded, DEFAULTS.maxDiscard)
  assert.is(output.destroyed, false)
  p.receiveData(bytes(0))
  assert.is(output.destroyed, true)
})

test('server: invalid UTF-8 inside one text frame fails with 1007 as soon as the bad byte arrives, before the frame is whole (Autobahn 6.4.3)', () => {
  const p = server()
  const payload = concat(utf8('κόσμε'), bytes(0xf4, 0x90, 0x80, 0x80), utf8('edited'))
  const frame = masked(0x81, payload)
  p.receiveData(frame.subarray(0, 8)) // header, key and two valid bytes
  assert.equal(p.eventsReceived(), [])
  assert.is(p.failure, undefined)
  p.receiveData(frame.subarray(8, 6 + 14)) // up to the invalid sequence
  assert.is(p.failure?.closeCode, 1007)
  assert.is(p.failure?.code, 'WS_ERR_INVALID_UTF8')
})

test('server: a handler that holds pongs (a message before the ping is still being inflated) gets them owed, written at flushPong', () => {
  let hold = true
  const handler = Object.assign(new RecordingHandler(), { holdPongs: () => hold })
  const p = new Protocol({ role: 'server' }, handler, new RecordingOutput())
  p.receiveData(masked(0x89, utf8('a')))
  assert.equal(p.dataToSend(), [])
  assert.is(p.pongOwed, true)
  hold = false
  assert.is(p.flushPong(), true)
  assert.equal(hex(p.dataToSend()), h(plain(0x8a, utf8('a'))))
  p.receiveData(masked(0x89, utf8('b')))
  assert.equal(hex(p.dataToSend()), h(plain(0x8a, utf8('b'))))
})

test('server: a pong owed when the connection failed is not written ahead of the waiting close (deferClose)', () => {
  let hold = true
  const handler = Object.assign(new RecordingHandler(), { holdPongs: () => hold })
  const p = new Protocol({ role: 'server', deferClose: true }, handler, new RecordingOutput())
  p.receiveData(masked(0x89, utf8('a')))
  p.fail(new ProtocolError('WS_ERR_INVALID_UTF8', 'bad', 1007))
  hold = false
  assert.is(p.flushPong(), false)
  assert.equal(p.dataToSend(), [])
  p.flushClose()
  const sent = concat(...p.dataToSend())
  assert.is(sent[0], 0x88)
})

test.run()
