/**
 * Checks the checker: the peer's independent frame codec on the RFC's own bytes (§5.7), and the
 * verdicts the harness gives for outcomes wsflow should never produce.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EMPTY_CLOSE, type Expectation } from './cases.ts'
import { judge } from './harness.ts'
import type { Peer, PeerEvent } from './peer.ts'
import { Op, WireReader, encodeWireFrame, hex, utf8 } from './wire.ts'

function readAll(bytes: Uint8Array, step = bytes.length): ReturnType<WireReader['next']>[] {
  const reader = new WireReader()
  const frames = []
  for (let i = 0; i < bytes.length; i += step) {
    reader.push(bytes.slice(i, i + step))
    for (let f = reader.next(); f !== undefined; f = reader.next()) frames.push(f)
  }
  assert.is(reader.length, 0)
  return frames
}

test('wire: RFC 6455 §5.7 examples', () => {
  const [unmasked] = readAll(hex(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f))
  assert.equal({ fin: unmasked!.fin, opcode: unmasked!.opcode, masked: unmasked!.masked, payload: unmasked!.payload }, { fin: true, opcode: 1, masked: false, payload: utf8('Hello') })
  const [masked] = readAll(hex(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58))
  assert.ok(masked!.masked)
  assert.equal(masked!.payload, utf8('Hello'))
  const fragmented = readAll(hex(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f))
  assert.equal(fragmented.map((f) => [f!.fin, f!.opcode]), [[false, 1], [true, 0]])
  const [long16] = readAll(new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...new Uint8Array(256)]))
  assert.is(long16!.payload.length, 256)
  const [long64] = readAll(new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...new Uint8Array(65536)]), 1000)
  assert.is(long64!.payload.length, 65536)
})

test('wire: encode then read, cut at every byte, masked and not', () => {
  for (const masked of [false, true]) {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536]) {
      const payload = Uint8Array.from({ length }, (_, i) => i & 0xff)
      const bytes = encodeWireFrame({ opcode: Op.BINARY, payload, fin: false, rsv: 5 }, masked)
      for (const step of length < 200 ? [1, 2, 3, 7] : [997]) {
        const [frame] = readAll(bytes, step)
        assert.equal({ fin: frame!.fin, rsv: frame!.rsv, opcode: frame!.opcode, masked: frame!.masked }, { fin: false, rsv: 5, opcode: 2, masked })
        assert.ok(Buffer.from(frame!.payload).equals(payload))
      }
    }
  }
})

/** A finished peer as the harness sees it, without a socket. */
function fakePeer(over: Partial<Record<keyof Peer, unknown>>): Peer {
  return {
    events: [] as PeerEvent[],
    violations: [] as string[],
    closeReceived: { code: 1002, reason: new Uint8Array(0), at: 1 },
    closeSent: { code: 1002, echo: true, at: 1 },
    closedByMe: false,
    tcpClosedBy: 'remote',
    failFastMissed: false,
    ...over,
  } as unknown as Peer
}
const failWith = (code: number, more: Partial<Expectation> = {}): Expectation => ({ ok: [[]], ...more, close: { byPeer: false, codes: [code] } })
const echoed: Expectation = { ok: [[{ kind: 'text', data: utf8('hi') }]], close: { byPeer: true, codes: [1000] } }
const hiEvent: PeerEvent = { kind: 'text', data: utf8('hi'), frames: 1 }
const normalClose = { closeReceived: { code: 1000, reason: new Uint8Array(0), at: 1 }, closeSent: { code: 1000, echo: false, at: 0 }, closedByMe: true }

test('judge: OK outcomes', () => {
  assert.is(judge(failWith(1002), fakePeer({}), []).verdict, 'OK')
  assert.is(judge(echoed, fakePeer({ ...normalClose, events: [hiEvent] }), []).verdict, 'OK')
  const empty = { ok: [[]], close: { byPeer: true, codes: [1000, EMPTY_CLOSE] } }
  assert.is(judge(empty, fakePeer({ ...normalClose, closeReceived: { code: undefined, reason: new Uint8Array(0), at: 1 } }), []).verdict, 'OK')
})

test('judge: FAILED outcomes', () => {
  const verdict = (e: Expectation, p: Peer, extra: string[] = []): string => judge(e, p, extra).verdict
  assert.is(verdict(failWith(1007), fakePeer({})), 'FAILED', 'wrong close code')
  assert.is(verdict(failWith(1002), fakePeer({ closeReceived: undefined, closeSent: undefined })), 'FAILED', 'no close frame')
  assert.is(verdict(failWith(1002), fakePeer({ tcpClosedBy: 'timeout' })), 'FAILED', 'hang')
  assert.is(verdict(failWith(1002), fakePeer({ violations: ['masked'] })), 'FAILED', 'protocol violation')
  assert.is(verdict(failWith(1002), fakePeer({}), ['crash']), 'FAILED', 'extra failure')
  assert.is(verdict(failWith(1002), fakePeer(normalClose)), 'FAILED', 'did not fail the connection')
  assert.is(verdict(echoed, fakePeer({ events: [hiEvent] })), 'FAILED', 'failed a valid exchange')
  assert.is(verdict(echoed, fakePeer({ ...normalClose })), 'FAILED', 'missing echo')
  assert.is(verdict(echoed, fakePeer({ ...normalClose, events: [hiEvent, hiEvent] })), 'FAILED', 'extra echo')
})

test('judge: NON-STRICT outcomes', () => {
  const lenient = failWith(1002, { ok: [[{ kind: 'text', data: utf8('hi') }]], nonStrict: [[]] })
  assert.is(judge(lenient, fakePeer({}), []).verdict, 'NON-STRICT')
  assert.is(judge(failWith(1007, { failFast: true }), fakePeer({ closeReceived: { code: 1007, reason: new Uint8Array(0), at: 1 }, failFastMissed: true }), []).verdict, 'NON-STRICT')
  assert.is(judge(failWith(1002), fakePeer({ closeReceived: { code: undefined, reason: new Uint8Array(0), at: 1 } }), []).verdict, 'NON-STRICT')
})

test.run()
