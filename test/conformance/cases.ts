/**
 * The case table: sections 1-10 of the Autobahn TestSuite, rewritten from its case list, with
 * RFC 6455 as the oracle, plus extras marked "not in Autobahn" (5.21-5.22, the `/frag` variants of
 * 6.5-6.23, 9.9 limits, 10.1.2, 10.2 wsflow's own fragmentation, 11.x). Autobahn's numbering is
 * followed where it is known; within 6.5 and 6.23 the vectors are this suite's own choice.
 *
 * Each case drives a {@link Peer} and returns what it expects, the way Autobahn does: the events
 * (echoed messages, pongs) that make it OK, those that make it NON-STRICT, and how the connection
 * must close: by the peer (a normal close the other side echoes) or by wsflow failing it with one
 * of the listed codes. Payloads are built inside `run`, so the big ones exist only while they run.
 * @module
 */
import type { PerMessageDeflateConfig } from '../../src/index.ts'
import type { Chop, ExtensionAnswer, Peer } from './peer.ts'
import { UTF8_GROUPS } from './utf8-vectors.ts'
import { Op, concat, encodeWireFrame, hex, utf8, type FrameSpec } from './wire.ts'

/** An event the peer expects from wsflow. */
export interface ExpectedEvent {
  kind: 'text' | 'binary' | 'ping' | 'pong'
  data: Uint8Array
}

/** The code a close frame without a payload stands for in {@link Expectation.close}. */
export const EMPTY_CLOSE = 1005

/** What a case expects (Autobahn's `expected` and `expectedClose`). */
export interface Expectation {
  /** Event sequences that make the case OK (any one of them). */
  ok: ExpectedEvent[][]
  /** Event sequences that make the case NON-STRICT. */
  nonStrict?: ExpectedEvent[][] | undefined
  /**
   * How the connection must close: `byPeer` true when the fuzzing peer starts the closing handshake
   * (a valid exchange), false when wsflow must fail the connection; `codes` are the close codes
   * accepted in wsflow's close frame ({@link EMPTY_CLOSE} for none).
   */
  close: { byPeer: boolean; codes: number[] }
  /** wsflow must fail before the peer sends the rest (UTF-8 fail-fast); late failure is NON-STRICT. */
  failFast?: boolean | undefined
  /** Further checks on what was received; each string returned is a failure. */
  check?: ((peer: Peer) => string[]) | undefined
  /** Autobahn calls the case informational: any sane outcome is OK. */
  informational?: boolean | undefined
  /** Measurements to report with the verdict (never change it). */
  info?: ((peer: Peer) => string[]) | undefined
}

/** Connection options of the wsflow endpoint a case needs (default: none, as users write it). */
export interface WsflowOptions {
  maxMessageSize?: number
  fragmentSize?: number
}

/** The frames of one message cut into data frames of `size` bytes (at least one frame). */
export function splitFrames(opcode: number, payload: Uint8Array, size: number): FrameSpec[] {
  return fragments(opcode, payload, size)
}

/**
 * permessage-deflate (RFC 7692) for a case: what wsflow is configured with, what the peer offers
 * (server role) or answers (client role), and whether the handshake must agree on it.
 */
export interface DeflateSetup {
  /** wsflow's `perMessageDeflate` option (serve() or connect()); default true. */
  wsflow?: boolean | PerMessageDeflateConfig | undefined
  /** Server role: the peer's Sec-WebSocket-Extensions offer; default {@link DEFAULT_OFFER}; '' sends no offer. */
  offer?: string | undefined
  /** Client role: the fake server's answer to wsflow's offers; default {@link acceptOffer}(). */
  answer?: ExtensionAnswer | undefined
  /** Whether the handshake must agree on permessage-deflate (default true). */
  negotiated?: boolean | undefined
}

/** What browsers offer: permessage-deflate, letting the server pick the client's window. */
export const DEFAULT_OFFER = 'permessage-deflate; client_max_window_bits'

/**
 * An answer that accepts wsflow's first permessage-deflate offer as a server does (RFC 7692 §7.1):
 * echoing server_no_context_takeover and server_max_window_bits when offered (the latter lowered
 * to `serverMaxWindowBits` if given), adding `server_no_context_takeover` /
 * `client_no_context_takeover` when asked, and `client_max_window_bits=n` only when the offer has
 * that parameter (§7.1.2.2).
 */
export function acceptOffer(ask: { serverNoContextTakeover?: boolean; clientNoContextTakeover?: boolean; serverMaxWindowBits?: number; clientMaxWindowBits?: number } = {}): ExtensionAnswer {
  return (offers) => {
    const offer = offers.find((o) => o.name === 'permessage-deflate')
    if (offer === undefined) return undefined
    const has = (name: string): string | true | undefined => offer.params.find(([n]) => n === name)?.[1]
    const parts = ['permessage-deflate']
    if (has('server_no_context_takeover') !== undefined || ask.serverNoContextTakeover === true) parts.push('server_no_context_takeover')
    if (ask.clientNoContextTakeover === true) parts.push('client_no_context_takeover')
    const offeredServer = has('server_max_window_bits')
    if (offeredServer !== undefined || ask.serverMaxWindowBits !== undefined) {
      const bits = Math.min(typeof offeredServer === 'string' ? Number(offeredServer) : 15, ask.serverMaxWindowBits ?? 15)
      parts.push(`server_max_window_bits=${bits}`)
    }
    const offeredClient = has('client_max_window_bits')
    if (offeredClient !== undefined && ask.clientMaxWindowBits !== undefined) {
      parts.push(`client_max_window_bits=${Math.min(ask.clientMaxWindowBits, offeredClient === true ? 15 : Number(offeredClient))}`)
    }
    return parts.join('; ')
  }
}

/** One conformance case. */
export interface Case {
  id: string
  section: string
  description: string
  /** Sends the case's frames and returns the expectation. */
  run(peer: Peer): Promise<Expectation>
  /** How long to wait for the expected events, in milliseconds (default 1000). */
  waitMs?: number | undefined
  /** Options of the wsflow endpoint. */
  options?: WsflowOptions | undefined
  /** Runs in one role only. */
  only?: 'server' | 'client' | undefined
  /**
   * The application on the wsflow side: 'echo' (default) echoes every message; 'close-on-request'
   * echoes too, but calls `ws.close(1000, 'bye')` when it receives the text "close-me".
   */
  app?: 'echo' | 'close-on-request' | undefined
  /** Client role: the first frames go out in the same TCP segment as the 101 response. */
  coalesceHandshake?: boolean | undefined
  /** permessage-deflate: negotiate it as this says (default: wsflow's client offers it as usual, nothing accepts it). */
  deflate?: DeflateSetup | undefined
}

// ---------------------------------------------------------------------------------------------
// Builders

export const text = (data: Uint8Array | string): ExpectedEvent => ({ kind: 'text', data: typeof data === 'string' ? utf8(data) : data })
export const binary = (data: Uint8Array): ExpectedEvent => ({ kind: 'binary', data })
export const pong = (data: Uint8Array | string = new Uint8Array(0)): ExpectedEvent => ({ kind: 'pong', data: typeof data === 'string' ? utf8(data) : data })

/** Expect these events, then a normal close started by the peer and echoed with 1000. */
export function echo(...events: ExpectedEvent[]): Expectation {
  return { ok: [events], close: { byPeer: true, codes: [1000] } }
}

/** Expect wsflow to fail the connection with `code` (one of them); `ok` events may come first. */
export function fail(code: number | number[], more: Partial<Expectation> = {}): Expectation {
  return { ok: [[]], ...more, close: { byPeer: false, codes: typeof code === 'number' ? [code] : code } }
}

/** Expect wsflow to answer the peer's close frame with one of `codes`. */
function closeWith(codes: number[], more: Partial<Expectation> = {}): Expectation {
  return { ok: [[]], ...more, close: { byPeer: true, codes } }
}

const f = (opcode: number, payload: Uint8Array | string = new Uint8Array(0), more: Partial<FrameSpec> = {}): FrameSpec => ({ opcode, payload, ...more })
const frag = (opcode: number, payload: Uint8Array | string, fin: boolean): FrameSpec => ({ opcode, payload, fin })
const octets: Chop = { octets: 1 }

function repeat(pattern: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length]!
  return out
}
const TEXT_PATTERN = utf8('BAsd7&jh23')
const BINARY_PATTERN = hex(0x00, 0xfe, 0x23, 0xfa, 0xf0)
const bigText = (n: number): Uint8Array => repeat(TEXT_PATTERN, n)
const bigBinary = (n: number): Uint8Array => repeat(BINARY_PATTERN, n)

/** Splits a payload into data frames of `size` bytes (at least one frame). */
function fragments(opcode: number, payload: Uint8Array, size: number): FrameSpec[] {
  const out: FrameSpec[] = []
  for (let offset = 0; offset < payload.length || out.length === 0; offset += size) {
    const end = Math.min(payload.length, offset + size)
    out.push({ opcode: out.length === 0 ? opcode : Op.CONT, payload: payload.subarray(offset, end), fin: end >= payload.length })
  }
  return out
}

const KiB = 1024
const MiB = 1024 * 1024
const sizeName = (n: number): string => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`)

export const cases: Case[] = []
let section = ''
function add(id: string, description: string, run: (p: Peer) => Promise<Expectation>, more: Partial<Case> = {}): void {
  cases.push({ id, section, description, run, ...more })
}

// ---------------------------------------------------------------------------------------------
section = '1 Framing'
{
  const lengths = [0, 125, 126, 127, 128, 65535, 65536]
  lengths.forEach((n, i) => {
    add(`1.1.${i + 1}`, `text message, payload ${n} bytes`, async (p) => {
      const payload = repeat(utf8('*'), n)
      await p.send(f(Op.TEXT, payload))
      return echo(text(payload))
    })
  })
  add('1.1.8', 'text message, payload 65536 bytes, sent in chops of 997 octets', async (p) => {
    const payload = repeat(utf8('*'), 65536)
    await p.send(f(Op.TEXT, payload), { octets: 997 })
    return echo(text(payload))
  })
  lengths.forEach((n, i) => {
    add(`1.2.${i + 1}`, `binary message, payload ${n} bytes`, async (p) => {
      const payload = repeat(hex(0xfe), n)
      await p.send(f(Op.BINARY, payload))
      return echo(binary(payload))
    })
  })
  add('1.2.8', 'binary message, payload 65536 bytes, sent in chops of 997 octets', async (p) => {
    const payload = repeat(hex(0xfe), 65536)
    await p.send(f(Op.BINARY, payload), { octets: 997 })
    return echo(binary(payload))
  })
}

// ---------------------------------------------------------------------------------------------
section = '2 Pings/Pongs'
add('2.1', 'ping without payload', async (p) => {
  await p.send(f(Op.PING))
  return echo(pong())
})
add('2.2', 'ping with small text payload', async (p) => {
  await p.send(f(Op.PING, 'Hello, world!'))
  return echo(pong('Hello, world!'))
})
add('2.3', 'ping with small binary (non UTF-8) payload', async (p) => {
  const payload = hex(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff)
  await p.send(f(Op.PING, payload))
  return echo(pong(payload))
})
add('2.4', 'ping with binary payload of 125 octets', async (p) => {
  const payload = repeat(hex(0xfe), 125)
  await p.send(f(Op.PING, payload))
  return echo(pong(payload))
})
add('2.5', 'ping with binary payload of 126 octets (a control frame over 125 bytes)', async (p) => {
  await p.send(f(Op.PING, repeat(hex(0xfe), 126)))
  return fail(1002)
})
add('2.6', 'ping with binary payload of 125 octets, sent in chops of 1 octet', async (p) => {
  const payload = repeat(hex(0xfe), 125)
  await p.send(f(Op.PING, payload), octets)
  return echo(pong(payload))
})
add('2.7', 'unsolicited pong without payload', async (p) => {
  await p.send(f(Op.PONG))
  return echo()
})
add('2.8', 'unsolicited pong with payload', async (p) => {
  await p.send(f(Op.PONG, 'unsolicited pong payload'))
  return echo()
})
add('2.9', 'unsolicited pong with payload, then ping with payload', async (p) => {
  await p.send([f(Op.PONG, 'unsolicited pong payload'), f(Op.PING, 'ping payload')])
  return echo(pong('ping payload'))
})
for (const [id, chop, how] of [['2.10', 'whole', ''], ['2.11', octets, ', sent in chops of 1 octet']] as const) {
  add(id, `10 pings with payload${how}`, async (p) => {
    const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`)
    await p.send(payloads.map((x) => f(Op.PING, x)), chop)
    // RFC 6455 §5.5.3: an endpoint MAY answer only the most recent of several pings.
    return { ...echo(...payloads.map((x) => pong(x))), nonStrict: [[pong(payloads[9]!)]] }
  })
}

// ---------------------------------------------------------------------------------------------
section = '3 Reserved bits'
add('3.1', 'small text message with RSV = 1', async (p) => {
  await p.send(f(Op.TEXT, 'Hello, world!', { rsv: 1 }))
  return fail(1002)
})
for (const [id, rsv, chop, how] of [['3.2', 2, 'whole', 'in one chop'], ['3.3', 3, 'frames', 'frame-wise'], ['3.4', 4, octets, 'octet-wise']] as const) {
  add(id, `small text message, then text with RSV = ${rsv}, then ping (${how})`, async (p) => {
    await p.send([f(Op.TEXT, 'Hello, world!'), f(Op.TEXT, 'Hello, world!', { rsv }), f(Op.PING, 'Hello, world!')], chop)
    // Autobahn: the echo of the first message is OK; failing before echoing it is NON-STRICT.
    return fail(1002, { ok: [[text('Hello, world!')]], nonStrict: [[]] })
  })
}
add('3.5', 'small binary message with RSV = 5', async (p) => {
  await p.send(f(Op.BINARY, hex(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff), { rsv: 5 }))
  return fail(1002)
})
add('3.6', 'ping with RSV = 6', async (p) => {
  await p.send(f(Op.PING, 'Hello, world!', { rsv: 6 }))
  return fail(1002)
})
add('3.7', 'close with RSV = 7', async (p) => {
  await p.send(f(Op.CLOSE, hex(0x03, 0xe8), { rsv: 7 }))
  return fail(1002)
})

// ---------------------------------------------------------------------------------------------
section = '4 Opcodes'
for (const [group, first] of [['4.1', 3], ['4.2', 11]] as const) {
  const kind = group === '4.1' ? 'non-control' : 'control'
  add(`${group}.1`, `frame with reserved ${kind} opcode ${first}`, async (p) => {
    await p.send(f(first))
    return fail(1002)
  })
  add(`${group}.2`, `frame with reserved ${kind} opcode ${first + 1} and payload`, async (p) => {
    await p.send(f(first + 1, 'reserved opcode payload'))
    return fail(1002)
  })
  const variants = [['whole', 'in one chop'], ['frames', 'frame-wise'], [octets, 'octet-wise']] as const
  variants.forEach(([chop, how], i) => {
    const opcode = first + 2 + i
    add(`${group}.${3 + i}`, `small text message, then reserved ${kind} opcode ${opcode}${i > 0 ? ' with payload' : ''}, then ping (${how})`, async (p) => {
      await p.send([f(Op.TEXT, 'Hello, world!'), f(opcode, i > 0 ? 'reserved opcode payload' : ''), f(Op.PING, 'Hello, world!')], chop)
      return fail(1002, { ok: [[text('Hello, world!')]], nonStrict: [[]] })
    })
  })
}

// ---------------------------------------------------------------------------------------------
section = '5 Fragmentation'
add('5.1', 'ping in 2 fragments', async (p) => {
  await p.send([frag(Op.PING, 'fragment1', false), frag(Op.CONT, 'fragment2', true)])
  return fail(1002)
})
add('5.2', 'pong in 2 fragments', async (p) => {
  await p.send([frag(Op.PONG, 'fragment1', false), frag(Op.CONT, 'fragment2', true)])
  return fail(1002)
})
for (const [id, chop, how] of [['5.3', 'whole', ''], ['5.4', octets, ', octet-wise chops'], ['5.5', 'frames', ', frame-wise chops']] as const) {
  add(id, `text message in 2 fragments${how}`, async (p) => {
    await p.send([frag(Op.TEXT, 'fragment1', false), frag(Op.CONT, 'fragment2', true)], chop)
    return echo(text('fragment1fragment2'))
  })
}
for (const [id, chop, how] of [['5.6', 'whole', ''], ['5.7', octets, ', octet-wise chops'], ['5.8', 'frames', ', frame-wise chops']] as const) {
  add(id, `text message in 2 fragments with a ping between them${how}`, async (p) => {
    await p.send([frag(Op.TEXT, 'fragment1', false), f(Op.PING, 'ping payload'), frag(Op.CONT, 'fragment2', true)], chop)
    return echo(pong('ping payload'), text('fragment1fragment2'))
  })
}
for (const [base, fin] of [[9, true], [12, false]] as const) {
  const variants = [['whole', ''], ['frames', ', frame-wise chops'], [octets, ', octet-wise chops']] as const
  variants.forEach(([chop, how], i) => {
    add(`5.${base + i}`, `continuation frame (FIN = ${fin}) with nothing to continue, then a text message${how}`, async (p) => {
      await p.send([frag(Op.CONT, 'non-continuation payload', fin), f(Op.TEXT, 'Hello, world!')], chop)
      return fail(1002)
    })
  })
}
add('5.15', 'text in 2 fragments, then continuation FIN = false with nothing to continue, then a text message', async (p) => {
  await p.send([frag(Op.TEXT, 'fragment1', false), frag(Op.CONT, 'fragment2', true), frag(Op.CONT, 'fragment3', false), f(Op.TEXT, 'fragment4')])
  return fail(1002, { ok: [[text('fragment1fragment2')]], nonStrict: [[]] })
})
add('5.16', '2x: continuation (FIN = false) with nothing to continue, text fragment, continuation (FIN = true)', async (p) => {
  const once = [frag(Op.CONT, 'fragment1', false), frag(Op.TEXT, 'fragment2', false), frag(Op.CONT, 'fragment3', true)]
  await p.send([...once, ...once])
  return fail(1002)
})
add('5.17', '2x: continuation (FIN = true) with nothing to continue, text fragment, continuation (FIN = true)', async (p) => {
  const once = [frag(Op.CONT, 'fragment1', true), frag(Op.TEXT, 'fragment2', false), frag(Op.CONT, 'fragment3', true)]
  await p.send([...once, ...once])
  return fail(1002)
})
add('5.18', 'text in 2 fragments, both with opcode text (the second is not a continuation)', async (p) => {
  await p.send([frag(Op.TEXT, 'fragment1', false), frag(Op.TEXT, 'fragment2', true)])
  return fail(1002)
})
for (const [id, chop, how] of [['5.19', 'whole', ''], ['5.20', 'frames', ', every frame a separate write']] as const) {
  add(id, `text in 5 fragments with pings between them, pausing 100 ms twice${how}`, async (p) => {
    await p.send([frag(Op.TEXT, 'fragment1', false), frag(Op.CONT, 'fragment2', false), f(Op.PING, 'pongme 1!')], chop)
    await p.sleep(100)
    await p.send([frag(Op.CONT, 'fragment3', false), frag(Op.CONT, 'fragment4', false), f(Op.PING, 'pongme 2!')], chop)
    await p.sleep(100)
    await p.send(frag(Op.CONT, 'fragment5', true), chop)
    return echo(pong('pongme 1!'), pong('pongme 2!'), text('fragment1fragment2fragment3fragment4fragment5'))
  })
}
add('5.21', 'close in 2 fragments (not in Autobahn)', async (p) => {
  await p.send([frag(Op.CLOSE, hex(0x03, 0xe8), false), frag(Op.CONT, 'reason', true)])
  return fail(1002)
})
add('5.22', 'text fragment (FIN = false) never continued, then a normal close (not in Autobahn)', async (p) => {
  await p.send(frag(Op.TEXT, 'fragment1', false))
  await p.sleep(20)
  await p.sendClose(1000)
  return closeWith([1000])
})

// ---------------------------------------------------------------------------------------------
section = '6 UTF-8 handling'
const KOSME = hex(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5) // κόσμε
const HELLO_UTF8 = utf8('Hello-µ@ßöäüàá-UTF-8!!')
add('6.1.1', 'empty text message', async (p) => {
  await p.send(f(Op.TEXT))
  return echo(text(''))
})
add('6.1.2', 'text message of 3 empty fragments', async (p) => {
  await p.send([frag(Op.TEXT, '', false), frag(Op.CONT, '', false), frag(Op.CONT, '', true)])
  return echo(text(''))
})
add('6.1.3', 'text message of an empty, a non-empty and an empty fragment', async (p) => {
  await p.send([frag(Op.TEXT, '', false), frag(Op.CONT, 'middle frame payload', false), frag(Op.CONT, '', true)])
  return echo(text('middle frame payload'))
})
add('6.2.1', 'valid UTF-8 text in one fragment', async (p) => {
  await p.send(f(Op.TEXT, HELLO_UTF8))
  return echo(text(HELLO_UTF8))
})
add('6.2.2', 'valid UTF-8 text in 2 fragments split at a code point boundary', async (p) => {
  await p.send([frag(Op.TEXT, HELLO_UTF8.subarray(0, 12), false), frag(Op.CONT, HELLO_UTF8.subarray(12), true)])
  return echo(text(HELLO_UTF8))
})
add('6.2.3', 'valid UTF-8 text in 1-octet fragments (splitting code points)', async (p) => {
  await p.send(fragments(Op.TEXT, HELLO_UTF8, 1))
  return echo(text(HELLO_UTF8))
})
add('6.2.4', 'valid UTF-8 text "κόσμε" in 1-octet fragments (splitting code points)', async (p) => {
  await p.send(fragments(Op.TEXT, KOSME, 1))
  return echo(text(KOSME))
})
const INVALID_KOSME = concat([KOSME, hex(0xed, 0xa0, 0x80), utf8('edited')])
add('6.3.1', 'invalid UTF-8 text (κόσμε, a surrogate, "edited") in one fragment', async (p) => {
  await p.send(f(Op.TEXT, INVALID_KOSME))
  return fail(1007)
})
add('6.3.2', 'invalid UTF-8 text (κόσμε, a surrogate, "edited") in 1-octet fragments', async (p) => {
  await p.send(fragments(Op.TEXT, INVALID_KOSME, 1))
  return fail(1007)
})

const FAIL_FAST_WAIT_MS = 500
/** Sends `first` chunks, waits for wsflow to fail, then (if it did not) the rest. */
async function failFast(p: Peer, sendFirst: () => Promise<void>, sendRest: () => Promise<void>): Promise<Expectation> {
  await sendFirst()
  if (!(await p.waitClose(FAIL_FAST_WAIT_MS))) {
    p.failFastMissed = true
    p.note(`wsflow has not failed after ${FAIL_FAST_WAIT_MS} ms: sending the rest`)
    await sendRest()
  }
  return fail(1007, { failFast: true })
}
const P1 = KOSME
const F4908080 = hex(0xf4, 0x90, 0x80, 0x80) // U+110000: beyond Unicode
const EDITED = utf8('edited')
add('6.4.1', 'fail fast: text fragments κόσμε | F4 90 80 80 (invalid) | pause | "edited"', (p) =>
  failFast(p, () => p.send([frag(Op.TEXT, P1, false), frag(Op.CONT, F4908080, false)], 'frames'), () => p.send(frag(Op.CONT, EDITED, true))))
add('6.4.2', 'fail fast: text fragments κόσμε | F4 90 (the invalid octet) | pause | 80 80 "edited"', (p) =>
  failFast(p, () => p.send([frag(Op.TEXT, P1, false), frag(Op.CONT, hex(0xf4, 0x90), false)], 'frames'), () => p.send(frag(Op.CONT, concat([hex(0x80, 0x80), EDITED]), true))))
/** One text frame cut into raw chops at payload offsets `cut1` and `cut2`, pausing before the last. */
function chopped(p: Peer, cut1: number, cut2: number): Promise<Expectation> {
  const payload = concat([P1, F4908080, EDITED])
  const frames: Uint8Array[] = []
  const bytes = encodeForRole(p, payload)
  const header = bytes.length - payload.length
  frames.push(bytes.subarray(0, header + cut1), bytes.subarray(header + cut1, header + cut2), bytes.subarray(header + cut2))
  return failFast(
    p,
    async () => {
      await p.sendRaw(frames[0]!)
      await p.sleep(5)
      await p.sendRaw(frames[1]!)
    },
    () => p.sendRaw(frames[2]!),
  )
}
add('6.4.3', 'fail fast inside one frame: κόσμε | F4 90 80 80 | pause | "edited", as 3 chops of one text frame', (p) => chopped(p, P1.length, P1.length + 4))
add('6.4.4', 'fail fast inside one frame: κόσμε | F4 90 | pause | 80 80 "edited", as 3 chops of one text frame', (p) => chopped(p, P1.length, P1.length + 2))

function encodeForRole(p: Peer, payload: Uint8Array): Uint8Array {
  p.note(`→ text (one frame, sent in raw chops) ${payload.length} B`)
  return encodeWireFrame({ opcode: Op.TEXT, payload }, p.role === 'client')
}

// Markus Kuhn's UTF-8 stress test (utf8-vectors.ts), each vector in one frame and in 1-octet fragments.
for (const { group, title, vectors } of UTF8_GROUPS) {
  vectors.forEach(({ bytes, valid }, i) => {
    const payload = Uint8Array.from(bytes)
    const shown = bytes.length > 12 ? `${bytes.length} bytes` : bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')
    const id = `6.${group}.${i + 1}`
    const expect = (): Expectation => (valid ? echo(text(payload)) : fail(1007))
    add(id, `${title}: ${shown} (${valid ? 'valid' : 'invalid'}), one frame`, async (p) => {
      await p.send(f(Op.TEXT, payload))
      return expect()
    })
    add(`${id}/frag`, `${title}: ${shown} (${valid ? 'valid' : 'invalid'}), in 1-octet fragments (not in Autobahn)`, async (p) => {
      await p.send(fragments(Op.TEXT, payload, 1))
      return expect()
    })
  })
}

// ---------------------------------------------------------------------------------------------
section = '7 Close handling'
add('7.1.1', 'text message followed by a close frame (one write)', async (p) => {
  await p.send([f(Op.TEXT, 'Hello World!'), f(Op.CLOSE, hex(0x03, 0xe8))])
  // RFC 6455 §5.5.1 lets an endpoint stop sending data once it has a close frame to answer.
  return closeWith([1000], { ok: [[text('Hello World!')]], nonStrict: [[]] })
})
add('7.1.2', 'two close frames', async (p) => {
  await p.send([f(Op.CLOSE, hex(0x03, 0xe8)), f(Op.CLOSE, hex(0x03, 0xe8))])
  return closeWith([1000])
})
add('7.1.3', 'ping after a close frame (no pong expected)', async (p) => {
  await p.send([f(Op.CLOSE, hex(0x03, 0xe8)), f(Op.PING, 'Hello World!')])
  return closeWith([1000])
})
add('7.1.4', 'text message after a close frame (no echo expected)', async (p) => {
  await p.send([f(Op.CLOSE, hex(0x03, 0xe8)), f(Op.TEXT, 'Hello World!')])
  return closeWith([1000])
})
add('7.1.5', 'text fragment, close frame, then the last fragment', async (p) => {
  await p.send([frag(Op.TEXT, 'fragment1', false), f(Op.CLOSE, hex(0x03, 0xe8)), frag(Op.CONT, 'fragment2', true)])
  return closeWith([1000])
})
add('7.1.6', '256 KiB text message, close frame, then a ping (informational)', async (p) => {
  const payload = bigText(256 * KiB)
  await p.send([f(Op.TEXT, payload), f(Op.CLOSE, hex(0x03, 0xe8)), f(Op.PING, 'Hello World!')])
  return closeWith([1000], { ok: [[text(payload)], []], informational: true })
})
add('7.3.1', 'close frame with payload length 0', async (p) => {
  await p.sendClose()
  return closeWith([1000, EMPTY_CLOSE])
})
add('7.3.2', 'close frame with payload length 1', async (p) => {
  await p.send(f(Op.CLOSE, hex(0x03)))
  return closeWith([1002])
})
add('7.3.3', 'close frame with payload length 2 (code 1000)', async (p) => {
  await p.sendClose(1000)
  return closeWith([1000])
})
add('7.3.4', 'close frame with code 1000 and a reason', async (p) => {
  await p.sendClose(1000, 'Hello World!')
  return closeWith([1000])
})
add('7.3.5', 'close frame with code 1000 and a 123-byte reason (125 bytes, the maximum)', async (p) => {
  await p.sendClose(1000, repeat(utf8('*'), 123))
  return closeWith([1000])
})
add('7.3.6', 'close frame with code 1000 and a 124-byte reason (126 bytes: too long)', async (p) => {
  await p.sendClose(1000, repeat(utf8('*'), 124))
  return closeWith([1002])
})
add('7.5.1', 'close frame with a reason that is not UTF-8', async (p) => {
  await p.sendClose(1000, INVALID_KOSME)
  return closeWith([1002, 1007])
})
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
VALID_CODES.forEach((code, i) => {
  add(`7.7.${i + 1}`, `close frame with valid code ${code}`, async (p) => {
    await p.sendClose(code)
    return closeWith([1000, code])
  })
})
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999]
INVALID_CODES.forEach((code, i) => {
  add(`7.9.${i + 1}`, `close frame with invalid code ${code}`, async (p) => {
    await p.sendClose(code)
    return closeWith([1002])
  })
})
;[5000, 65535].forEach((code, i) => {
  add(`7.13.${i + 1}`, `close frame with code ${code}, outside the defined ranges`, async (p) => {
    await p.sendClose(code)
    return closeWith([1002])
  })
})

// ---------------------------------------------------------------------------------------------
section = '9 Limits and performance'
const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB]
for (const [group, kind] of [['9.1', 'text'], ['9.2', 'binary']] as const) {
  SIZES.forEach((n, i) => {
    add(`${group}.${i + 1}`, `${kind} message of ${sizeName(n)}`, async (p) => {
      const payload = kind === 'text' ? bigText(n) : bigBinary(n)
      await p.send(f(kind === 'text' ? Op.TEXT : Op.BINARY, payload))
      return echo(kind === 'text' ? text(payload) : binary(payload))
    }, { waitMs: 15_000 })
  })
}
const FRAGMENT_SIZES = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB]
for (const [group, kind] of [['9.3', 'text'], ['9.4', 'binary']] as const) {
  FRAGMENT_SIZES.forEach((size, i) => {
    add(`${group}.${i + 1}`, `${kind} message of 4 MiB in fragments of ${sizeName(size)}`, async (p) => {
      const payload = kind === 'text' ? bigText(4 * MiB) : bigBinary(4 * MiB)
      await p.send(fragments(kind === 'text' ? Op.TEXT : Op.BINARY, payload, size))
      return echo(kind === 'text' ? text(payload) : binary(payload))
    }, { waitMs: 15_000 })
  })
}
const CHOPS = [64, 128, 256, 512, 1024, 2048]
for (const [group, kind] of [['9.5', 'text'], ['9.6', 'binary']] as const) {
  CHOPS.forEach((chop, i) => {
    add(`${group}.${i + 1}`, `${kind} message of 1 MiB sent in chops of ${chop} octets`, async (p) => {
      const payload = kind === 'text' ? bigText(MiB) : bigBinary(MiB)
      await p.send(f(kind === 'text' ? Op.TEXT : Op.BINARY, payload), { octets: chop })
      return echo(kind === 'text' ? text(payload) : binary(payload))
    }, { waitMs: 15_000 })
  })
}
const ROUND_TRIP_SIZES = [0, 16, 64, 256, KiB, 4 * KiB]
for (const [group, kind] of [['9.7', 'text'], ['9.8', 'binary']] as const) {
  ROUND_TRIP_SIZES.forEach((n, i) => {
    add(`${group}.${i + 1}`, `1000 ${kind} messages of ${sizeName(n)}, each awaiting its echo`, async (p) => {
      const payload = kind === 'text' ? bigText(n) : bigBinary(n)
      const event = kind === 'text' ? text(payload) : binary(payload)
      for (let k = 0; k < 1000 && !p.stopped; k++) {
        await p.send(f(kind === 'text' ? Op.TEXT : Op.BINARY, payload))
        if (!(await p.waitEvents(k + 1, 2000))) break
      }
      return echo(...Array.from({ length: 1000 }, () => event))
    }, { waitMs: 15_000 })
  })
}
const LIMIT = MiB
add('9.9.1', `a 1 MiB + 1 text frame to an endpoint with maxMessageSize 1 MiB (not in Autobahn)`, async (p) => {
  await p.send(f(Op.TEXT, bigText(LIMIT + 1)))
  return fail(1009)
}, { options: { maxMessageSize: LIMIT } })
add('9.9.2', 'a message of exactly maxMessageSize (1 MiB) in 16 fragments (not in Autobahn)', async (p) => {
  const payload = bigBinary(LIMIT)
  await p.send(fragments(Op.BINARY, payload, LIMIT / 16))
  return echo(binary(payload))
}, { options: { maxMessageSize: LIMIT }, waitMs: 5000 })
add('9.9.3', '17 fragments of 64 KiB (1 MiB + 64 KiB) to maxMessageSize 1 MiB (not in Autobahn)', async (p) => {
  await p.send(fragments(Op.BINARY, bigBinary(LIMIT + 64 * KiB), 64 * KiB))
  return fail(1009)
}, { options: { maxMessageSize: LIMIT } })
add('9.9.4', 'a header announcing a 2^40-byte binary frame, no payload: fail at the header (not in Autobahn)', async (p) => {
  const header = p.role === 'client' ? hex(0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4) : hex(0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0)
  p.note(`→ raw header ${Array.from(header, (b) => b.toString(16).padStart(2, '0')).join(' ')}`)
  await p.sendRaw(header)
  return fail(1009)
})

// ---------------------------------------------------------------------------------------------
section = '10 Auto-fragmentation'
add('10.1.1', 'text message of 65536 bytes auto-fragmented into frames of 1300 bytes', async (p) => {
  const payload = bigText(65536)
  await p.send(fragments(Op.TEXT, payload, 1300))
  return echo(text(payload))
})
add('10.1.2', 'binary message of 65536 bytes auto-fragmented into frames of 1300 bytes (not in Autobahn)', async (p) => {
  const payload = bigBinary(65536)
  await p.send(fragments(Op.BINARY, payload, 1300))
  return echo(binary(payload))
})
add('10.2.1', "wsflow's own fragmentation: fragmentSize 1300 echoing 65535 bytes of multi-byte text (not in Autobahn)", async (p) => {
  const pattern = utf8('κόσμε-😀') // 15 bytes: 4369 whole copies, so no code point is cut
  const payload = repeat(pattern, pattern.length * Math.floor(65536 / pattern.length))
  await p.send(f(Op.TEXT, payload))
  const want = Math.ceil(payload.length / 1300)
  return {
    ...echo(text(payload)),
    check: (peer) => {
      const frames = peer.events[0]?.frames ?? 0
      return frames === want ? [] : [`expected the echo in ${want} frames of 1300 bytes, got ${frames}`]
    },
  }
}, { options: { fragmentSize: 1300 } })

// ---------------------------------------------------------------------------------------------
section = '11 Extras (not in Autobahn)'
add('11.1', 'a frame masked the wrong way for the role (unmasked from a client, masked from a server)', async (p) => {
  await p.send(f(Op.TEXT, 'Hello, world!', { mask: p.role !== 'client' }))
  return fail(1002)
})
add('11.2', 'a 64-bit payload length with its most significant bit set', async (p) => {
  const header = p.role === 'client' ? hex(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4) : hex(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 5)
  p.note(`→ raw header ${Array.from(header, (b) => b.toString(16).padStart(2, '0')).join(' ')}`)
  await p.sendRaw(header)
  return fail([1002, 1009])
})
add('11.3', 'text message with a 16-bit length field holding 5 (non-minimal encoding, §5.2 "minimal number of bytes")', async (p) => {
  const key = [1, 2, 3, 4]
  const payload = utf8('Hello')
  const masked = p.role === 'client'
  const body = masked ? payload.map((b, i) => b ^ key[i & 3]!) : payload
  const header = masked ? hex(0x81, 0xfe, 0, 5, ...key) : hex(0x81, 0x7e, 0, 5)
  p.note(`→ raw text frame with 16-bit length 5`)
  await p.sendRaw(concat([header, body]))
  // The MUST is on the sender; a receiver may accept it (OK) or fail with 1002 (also OK).
  return { ok: [[text('Hello')], []], close: { byPeer: true, codes: [1000, 1002] }, informational: true }
})
add('11.4', "frames in the same TCP segment as the server's 101 response (client role only)", async (p) => {
  await p.send([f(Op.TEXT, 'early text'), f(Op.PING, 'early ping')])
  // The pong is due at once; the echo waits for the application, so either order is right.
  return { ...echo(text('early text'), pong('early ping')), ok: [[text('early text'), pong('early ping')], [pong('early ping'), text('early text')]] }
}, { only: 'client', coalesceHandshake: true })
add('11.5', 'a ping after wsflow started the closing handshake, before its close is answered: §5.5.2 still requires a pong', async (p) => {
  p.echoClose = false // hold back the answer to wsflow's close frame
  await p.send(f(Op.TEXT, 'close-me'))
  if (await p.waitUntil(() => p.closeReceived !== undefined, 1000)) {
    // RFC 6455 §5.5.2: upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response,
    // unless it already received a Close frame. wsflow sent one; it has not received one.
    await p.send(f(Op.PING, 'ping while closing'))
    await p.waitUntil(() => p.events.length > 0 || p.tcpClosed, 300)
  }
  await p.sendClose(1000)
  return { ok: [[pong('ping while closing')]], close: { byPeer: false, codes: [1000] } }
}, { app: 'close-on-request' })
add('11.6', 'data messages after wsflow started the closing handshake, before its close is answered: read, not echoed, no failure', async (p) => {
  p.echoClose = false
  await p.send(f(Op.TEXT, 'close-me'))
  if (await p.waitUntil(() => p.closeReceived !== undefined, 1000)) {
    // RFC 6455 §5.5.1: the peer may keep sending until it answers; wsflow may send no data any more.
    await p.send([f(Op.TEXT, 'late text'), frag(Op.BINARY, hex(1, 2), false), frag(Op.CONT, hex(3), true)])
    await p.sleep(50)
  }
  await p.sendClose(1000)
  return { ok: [[]], close: { byPeer: false, codes: [1000] } }
}, { app: 'close-on-request' })
