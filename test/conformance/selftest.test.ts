/**
 * Checks the checker: the peer's independent frame codec on the RFC's own bytes (§5.7), and the
 * verdicts the harness gives for outcomes wsflow should never produce.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EMPTY_CLOSE, type Expectation } from './cases.ts'
import { judge } from './harness.ts'
import type { Peer, PeerEvent } from './peer.ts'
import { Op, WireReader, concat, encodeWireFrame, hex, utf8 } from './wire.ts'
import { PeerCodec, judgeResponse, offerProblems, parseExtensionList, walkDeflate, type PmceParams } from './pmce.ts'
import { constants, deflateRawSync } from 'node:zlib'

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

// ---------------------------------------------------------------------------------------------
// The peer's own permessage-deflate (pmce.ts)

const params = (over: Partial<PmceParams> = {}): PmceParams => ({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...over })

test('pmce: Sec-WebSocket-Extensions syntax', () => {
  assert.equal(parseExtensionList('permessage-deflate; client_max_window_bits, permessage-deflate ;server_max_window_bits="10" , x-foo'), [
    { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
    { name: 'x-foo', params: [] },
  ])
  for (const bad of ['permessage-deflate; =1', 'permessage-deflate; a="x', 'permessage-deflate x', ';a']) assert.throws(() => parseExtensionList(bad), bad)
  assert.equal(offerProblems(parseExtensionList('permessage-deflate; client_max_window_bits; server_max_window_bits=9')), [])
  assert.is(offerProblems(parseExtensionList('permessage-deflate; server_max_window_bits')).length, 1)
})

test('pmce: judging a response against the offers (RFC 7692 §5, §7.1)', () => {
  const judge = (offer: string, response: string): ReturnType<typeof judgeResponse> => judgeResponse(parseExtensionList(offer), parseExtensionList(response))
  const ok = judge('permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits=10; server_no_context_takeover')
  assert.equal(ok, { params: params({ clientMaxWindowBits: 10, serverNoContextTakeover: true }), problems: [] })
  assert.equal(judge('permessage-deflate; client_max_window_bits=9', 'permessage-deflate').params, params({ clientMaxWindowBits: 9 }), 'an offered value is a promise')
  assert.equal(judge('permessage-deflate; client_no_context_takeover', 'permessage-deflate').params, params({ clientNoContextTakeover: true }), 'so is client_no_context_takeover')
  assert.equal(judge('permessage-deflate', '').params, undefined)
  const broken: [string, string][] = [
    ['permessage-deflate; server_no_context_takeover', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate'],
    ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=11'],
    ['permessage-deflate', 'permessage-deflate; client_max_window_bits=10'],
    ['permessage-deflate; client_max_window_bits=9', 'permessage-deflate; client_max_window_bits=10'],
    ['permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits'],
    ['permessage-deflate', 'permessage-deflate; server_max_window_bits=16'],
    ['permessage-deflate', 'permessage-deflate; foo'],
    ['permessage-deflate', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['permessage-deflate', 'permessage-deflate, permessage-deflate'],
    ['x-other', 'permessage-deflate'],
  ]
  for (const [offer, response] of broken) assert.ok(judge(offer, response).problems.length > 0, `${offer} → ${response}`)
  // Several offers: the response must honour one of them.
  assert.equal(judge('permessage-deflate; server_max_window_bits=8, permessage-deflate', 'permessage-deflate').problems, [])
})

test('pmce: the RFC 7692 §7.2.3 examples inflate to "Hello"', () => {
  const codec = new PeerCodec(params(), 'client')
  const hello = utf8('Hello')
  for (const payload of [hex(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), hex(0xf2, 0x00, 0x11, 0x00, 0x00), hex(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00), hex(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00)]) {
    const { data, problems } = codec.inflate(payload)
    assert.equal(problems, [])
    assert.equal(data, hello)
  }
  // §7.2.3.2's second message refers to the first: without it, the walker reports the reference.
  assert.throws(() => new PeerCodec(params(), 'client').inflate(hex(0xf2, 0x00, 0x11, 0x00, 0x00)), /distance too far back/)
  assert.ok(walkDeflate(concat([hex(0xf2, 0x00, 0x11, 0x00, 0x00), hex(0, 0, 0xff, 0xff)]), 32768, 0).problems.some((p) => p.includes('before the start')))
  assert.equal(codec.inflate(hex(0x00)).data, new Uint8Array(0), '§7.2.3.6: one 00 octet is an empty message')
  assert.equal(walkDeflate(concat([hex(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00), hex(0, 0, 0xff, 0xff)]), 32768, 0).final, true, '§7.2.3.4: BFINAL')
})

/** Text with repeats at distances up to 40,000 bytes. */
function repetitive(length: number, seed: number): Uint8Array {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']
  let x = seed
  let out = ''
  while (out.length < length) {
    x = (x * 1103515245 + 12345) >>> 0
    out += `${words[x % words.length]}-${(x >>> 8) % 997} `
  }
  return utf8(out.slice(0, length))
}

test('pmce: the peer compresses within every window and context takeover mode it agrees to', () => {
  for (let bits = 8; bits <= 15; bits++) {
    for (const noContextTakeover of [false, true]) {
      const agreed = params({ clientMaxWindowBits: bits, clientNoContextTakeover: noContextTakeover })
      const sender = new PeerCodec(agreed, 'client')
      const receiver = new PeerCodec(agreed, 'server')
      let history = 0
      for (const [k, n] of [3000, 40_000, 100, 70_000].entries()) {
        const data = repetitive(n, k + 1)
        const payload = sender.compress(data)
        // The receiver's walk checks every distance against the window and the history.
        const walked = walkDeflate(concat([payload, hex(0, 0, 0xff, 0xff)]), 1 << bits, noContextTakeover ? 0 : Math.min(history, 1 << bits))
        assert.equal(walked.problems, [], `bits ${bits}, no context takeover ${noContextTakeover}, message ${k}`)
        assert.ok(walked.maxDistance <= (bits === 8 ? 250 : 1 << bits))
        const { data: out, problems } = receiver.inflate(payload)
        assert.equal(problems, [])
        assert.ok(Buffer.from(out).equals(data))
        history += n
      }
    }
  }
})

test('pmce: the walker catches references beyond the window or before the message', () => {
  const data = concat([repetitive(20_000, 9), repetitive(20_000, 9)])
  const wide = deflateRawSync(data, { windowBits: 15, finishFlush: constants.Z_SYNC_FLUSH })
  assert.ok(walkDeflate(wide, 1 << 15, 0).problems.length === 0)
  assert.ok(walkDeflate(wide, 1 << 10, 0).problems.some((p) => p.includes('beyond the 1024-byte window')))
  const withDictionary = deflateRawSync(data.subarray(0, 5000), { dictionary: data.subarray(0, 5000), finishFlush: constants.Z_SYNC_FLUSH })
  assert.ok(walkDeflate(withDictionary, 1 << 15, 0).problems.some((p) => p.includes('before the start of the message')))
  assert.equal(walkDeflate(withDictionary, 1 << 15, 5000).problems, [])
  assert.ok(walkDeflate(hex(0xff, 0xff), 1 << 15, 0).problems.some((p) => p.includes('reserved block type')))
  assert.ok(walkDeflate(hex(0x00, 0x05, 0x00, 0x00, 0x00), 1 << 15, 0).problems.some((p) => p.includes('LEN and NLEN')))
  assert.ok(walkDeflate(wide.subarray(0, 40), 1 << 15, 0).problems.some((p) => p.includes('middle of a block')))
})

test.run()
