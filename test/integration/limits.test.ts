/**
 * Limits against hostile peers, over loopback: maxMessageSize and maxFrameSize (1009), maxFragments,
 * a frame refused from its header alone, invalid UTF-8 (1007, fail-fast across fragments), protocol
 * violations (1002). The failing connection gets a clear close code; the server lives on.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket } from 'ws'
import { ConnectionClosedError, InvalidDataError, MessageTooBigError, ProtocolError, connect, serve, type ConnectionOptions, type Server, type WebSocket } from '../../src/index.ts'
import { PAIRS, withPair, type PairOptions, type Peer, type PeerEnd } from '../helpers/peers.ts'
import { closePayload, rawConnect, rawServe, socketClosed, type RawFrame } from '../helpers/raw.ts'
import { rejection, sleep, within } from '../helpers/timing.ts'

/** Asserts that a wsflow peer's iterator threw ConnectionClosedError(closeCode) caused by `cause`. */
function assertFailedWith(end: unknown, closeCode: number, cause: new (...args: never[]) => Error, errorCode: string, label: string): void {
  assert.ok(typeof end === 'object' && end !== null && 'end' in end, `${label}: expected the end of the stream`)
  const error = (end as PeerEnd).error
  assert.instance(error, ConnectionClosedError, `${label}: ${String(error)}`)
  assert.is((error as ConnectionClosedError).closeCode, closeCode, `${label}: closeCode`)
  const reason = (error as Error).cause
  assert.instance(reason, cause, `${label}: cause ${String(reason)}`)
  assert.is((reason as { code?: string }).code, errorCode, `${label}: cause code`)
}

/** For each pair, the directions whose receiver is wsflow, with options putting `limits` on that receiver. */
function limitedDirections(limits: ConnectionOptions, extra: PairOptions = {}): { kind: (typeof PAIRS)[number]; to: 'client' | 'server'; options: PairOptions }[] {
  const out: { kind: (typeof PAIRS)[number]; to: 'client' | 'server'; options: PairOptions }[] = []
  for (const kind of PAIRS) {
    if (kind.server === 'wsflow') out.push({ kind, to: 'server', options: { ...extra, server: { ...extra.server, ...limits } } })
    if (kind.client === 'wsflow') out.push({ kind, to: 'client', options: { ...extra, client: { ...extra.client, ...limits } } })
  }
  return out
}

const ends = (pair: { client: Peer; server: Peer }, to: 'client' | 'server'): [Peer, Peer] => (to === 'server' ? [pair.client, pair.server] : [pair.server, pair.client])

for (const { kind, to, options } of limitedDirections({ maxMessageSize: 1000 }, { both: { fragmentSize: 400 } })) {
  test(`[${kind.name}] maxMessageSize on the ${to}: a fragmented message of 1200 bytes → the sender sees 1009`, async () => {
    await withPair(kind, options, async (pair) => {
      const [sender, receiver] = ends(pair, to)
      await sender.sendFragmented(new Uint8Array(1000).fill(1), 400) // exactly the limit: fine
      assert.is((await receiver.receive()).data.length, 1000)
      void sender.sendFragmented(new Uint8Array(1200).fill(2), 400).catch(() => undefined)
      const info = await within(sender.closed, 3000, 'sender closed')
      assert.is(info.code, 1009, `${sender.impl} sender's close code`)
      assert.is(info.reason, 'message too big')
      assertFailedWith(await receiver.receiveOrEnd(), 1009, MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', `${to} receiver`)
      // The failing side does not process the echoed close frame (RFC 6455 §7.1.7 allows that), so
      // its own `closed` reports no completed handshake; the close code is on its iterator's error.
      assert.is((await within(receiver.closed, 3000, 'receiver closed')).wasClean, false)
    })
  })
}

for (const { kind, to, options } of limitedDirections({ maxFrameSize: 100, maxMessageSize: 10_000 })) {
  test(`[${kind.name}] maxFrameSize on the ${to}: a frame of 101 bytes → the sender sees 1009`, async () => {
    await withPair(kind, options, async (pair) => {
      const [sender, receiver] = ends(pair, to)
      await sender.send(new Uint8Array(100)) // exactly the limit: fine
      assert.is((await receiver.receive()).data.length, 100)
      void sender.send(new Uint8Array(101)).catch(() => undefined)
      const info = await within(sender.closed, 3000, 'sender closed')
      assert.is(info.code, 1009, `${sender.impl} sender's close code`)
      assertFailedWith(await receiver.receiveOrEnd(), 1009, MessageTooBigError, 'WS_ERR_FRAME_TOO_BIG', `${to} receiver`)
    })
  })
}

test('[ws client ↔ wsflow server] maxFragments: too many fragments → 1009', async () => {
  await withPair(PAIRS[2]!, { server: { maxFragments: 10 } }, async (pair) => {
    await pair.client.sendFragmented('0123456789', 1) // 10 fragments: fine
    assert.is(new TextDecoder().decode((await pair.server.receive()).data), '0123456789')
    void pair.client.sendFragmented('0123456789A', 1).catch(() => undefined)
    assert.is((await within(pair.client.closed, 3000, 'closed')).code, 1009)
    assertFailedWith(await pair.server.receiveOrEnd(), 1009, MessageTooBigError, 'WS_ERR_TOO_MANY_FRAGMENTS', 'server')
  })
})

// ---- raw peers: the server side ----

interface ServerUnderTest {
  server: Server
  outcomes: unknown[]
  errors: unknown[]
}

async function echoServer(options: Parameters<typeof serve>[0] = {}): Promise<ServerUnderTest> {
  const outcomes: unknown[] = []
  const errors: unknown[] = []
  const server = await serve({ ...options, host: '127.0.0.1', port: 0, onError: (error) => errors.push(error) }, async (ws: WebSocket) => {
    try {
      for await (const message of ws) await ws.send(message)
      outcomes.push('ended')
    } catch (error) {
      outcomes.push(error)
      throw error
    }
  })
  return { server, outcomes, errors }
}

/** Asserts the server still serves: a fresh wsflow client gets an echo. */
async function assertStillServes(server: Server): Promise<void> {
  const ws = await connect(`ws://127.0.0.1:${server.port}/`)
  await ws.send('alive?')
  const reply = await within(ws[Symbol.asyncIterator]().next(), 2000, 'echo')
  assert.is(reply.value?.text(), 'alive?')
  await within(ws.close(), 2000, 'close')
}

const enc = (text: string): Uint8Array => new TextEncoder().encode(text)

const HOSTILE: { name: string; frames: RawFrame[]; code: number; cause: new (...args: never[]) => Error; errorCode: string }[] = [
  { name: 'invalid UTF-8 in a text frame', frames: [{ opcode: 0x1, payload: Uint8Array.of(0x68, 0x69, 0xff, 0xfe) }], code: 1007, cause: InvalidDataError, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'an overlong encoding (0xc0 0x80)', frames: [{ opcode: 0x1, payload: Uint8Array.of(0xc0, 0x80) }], code: 1007, cause: InvalidDataError, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'a UTF-16 surrogate (ED A0 80)', frames: [{ opcode: 0x1, payload: Uint8Array.of(0xed, 0xa0, 0x80) }], code: 1007, cause: InvalidDataError, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'text cut inside a code point at the final frame', frames: [{ opcode: 0x1, fin: false, payload: enc('ok ') }, { opcode: 0x0, payload: enc('€').subarray(0, 2) }], code: 1007, cause: InvalidDataError, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'invalid UTF-8 in a close reason', frames: [{ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8, 0xff) }], code: 1007, cause: InvalidDataError, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'an unmasked frame from a client', frames: [{ opcode: 0x1, payload: enc('hi'), mask: false }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_EXPECTED_MASK' },
  { name: 'RSV1 without an extension', frames: [{ opcode: 0x1, rsv1: true, payload: enc('hi') }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_UNEXPECTED_RSV' },
  { name: 'a reserved opcode (0x3)', frames: [{ opcode: 0x3, payload: enc('hi') }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_INVALID_OPCODE' },
  { name: 'a ping of 126 bytes', frames: [{ opcode: 0x9, payload: new Uint8Array(126) }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_INVALID_CONTROL_FRAME' },
  { name: 'a fragmented ping', frames: [{ opcode: 0x9, fin: false, payload: enc('p') }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_INVALID_CONTROL_FRAME' },
  { name: 'a continuation with nothing to continue', frames: [{ opcode: 0x0, payload: enc('x') }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_UNEXPECTED_CONTINUATION' },
  { name: 'a new message inside a fragmented one', frames: [{ opcode: 0x1, fin: false, payload: enc('a') }, { opcode: 0x1, payload: enc('b') }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_EXPECTED_CONTINUATION' },
  { name: 'a close code that may not be sent (1005)', frames: [{ opcode: 0x8, payload: closePayload(1005) }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_INVALID_CLOSE_CODE' },
  { name: 'a close payload of one byte', frames: [{ opcode: 0x8, payload: Uint8Array.of(0x03) }], code: 1002, cause: ProtocolError, errorCode: 'WS_ERR_INVALID_CLOSE_PAYLOAD' },
]

test('wsflow server: hostile frames from a raw client get the right close code; the server lives on', async () => {
  const sut = await echoServer()
  try {
    for (const [i, row] of HOSTILE.entries()) {
      const client = await rawConnect({ port: sut.server.port }, '/')
      try {
        for (const frame of row.frames) client.send(frame)
        const close = await client.reader.nextClose(2000).catch((error: unknown) => assert.unreachable(`${row.name}: ${String(error)}`))
        assert.is(close!.code, row.code, `${row.name}: close code`)
        assert.is(close!.masked, false, `${row.name}: a server's close frame is unmasked`)
        assert.not.match(close!.reason, /Error|at /, `${row.name}: no internal details in the reason`)
        await socketClosed(client.socket, 3000) // the server closes TCP after failing
        for (let n = 0; n < 100 && sut.outcomes.length <= i; n++) await sleep(10)
        const outcome = sut.outcomes[i]
        assert.instance(outcome, ConnectionClosedError, `${row.name}: handler outcome ${String(outcome)}`)
        assert.is((outcome as ConnectionClosedError).closeCode, row.code, `${row.name}: iterator closeCode`)
        assert.instance((outcome as Error).cause, row.cause, `${row.name}: cause`)
        assert.is(((outcome as Error).cause as { code?: string }).code, row.errorCode, `${row.name}: cause code`)
      } finally {
        await client.destroy()
      }
    }
    assert.is(sut.errors.length, HOSTILE.length, 'each failure reached onError')
    await assertStillServes(sut.server)
  } finally {
    await within(sut.server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow server: invalid UTF-8 fails fast, in the first fragment, before the message ends', async () => {
  const sut = await echoServer()
  try {
    const client = await rawConnect({ port: sut.server.port }, '/')
    try {
      client.send({ opcode: 0x1, fin: false, payload: Uint8Array.of(0x61, 0xff) }) // no final fragment follows
      const close = await client.reader.nextClose(2000)
      assert.is(close.code, 1007)
    } finally {
      await client.destroy()
    }
  } finally {
    await within(sut.server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow server: a frame is refused from its header alone (10 MiB declared, no payload sent) → 1009', async () => {
  const sut = await echoServer({ maxFrameSize: 1024 * 1024 })
  try {
    const client = await rawConnect({ port: sut.server.port }, '/')
    try {
      // header + masking key only: a server that waited for the payload would never answer
      client.send({ opcode: 0x2, payload: new Uint8Array(0), declaredLength: 10 * 1024 * 1024 })
      const close = await client.reader.nextClose(2000)
      assert.is(close.code, 1009)
    } finally {
      await client.destroy()
    }
  } finally {
    await within(sut.server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow server: a 64-bit length with the top bit set is refused at once', async () => {
  const sut = await echoServer()
  try {
    const client = await rawConnect({ port: sut.server.port }, '/')
    try {
      client.socket.write(Uint8Array.of(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4))
      const close = await client.reader.nextClose(2000)
      assert.ok(close.code === 1002 || close.code === 1009, `close code ${close.code}`)
    } finally {
      await client.destroy()
    }
  } finally {
    await within(sut.server.close({ timeout: 500 }), 3000, 'server close')
  }
})

// ---- raw peers: the client side ----

const CLIENT_HOSTILE: { name: string; frame: RawFrame; code: number; errorCode: string }[] = [
  { name: 'invalid UTF-8 text', frame: { opcode: 0x1, payload: Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80) }, code: 1007, errorCode: 'WS_ERR_INVALID_UTF8' },
  { name: 'a masked frame from a server', frame: { opcode: 0x1, payload: enc('hi'), mask: true }, code: 1002, errorCode: 'WS_ERR_UNEXPECTED_MASK' },
  { name: 'a frame over maxFrameSize', frame: { opcode: 0x2, payload: new Uint8Array(2000) }, code: 1009, errorCode: 'WS_ERR_FRAME_TOO_BIG' },
]

for (const row of CLIENT_HOSTILE) {
  test(`wsflow client: ${row.name} from a raw server → close ${row.code}, the iterator throws`, async () => {
    const raw = await rawServe()
    try {
      const ws = await connect(`${raw.url}/`, { maxFrameSize: 1000, closeTimeout: 1000 })
      const peer = await raw.accepted()
      const next = rejection(ws[Symbol.asyncIterator]().next(), 3000, 'iterator')
      peer.send(row.frame)
      const close = await peer.reader.nextClose(2000)
      assert.is(close.code, row.code, 'close code sent by the client')
      assert.is(close.masked, true, "a client's close frame is masked")
      peer.socket.end()
      const error = await next
      assert.instance(error, ConnectionClosedError)
      assert.is((error as ConnectionClosedError).closeCode, row.code)
      assert.is(((error as Error).cause as { code?: string }).code, row.errorCode)
      assert.is((await within(ws.closed, 3000, 'closed')).code, 1006, 'no close frame came back: 1006')
    } finally {
      await raw.close()
    }
  })
}

test('maxFrameSize follows maxMessageSize: a 100 MiB message sent by ws as one frame is taken with maxMessageSize 200 MiB, refused with 1009 under the default 64 MiB', async () => {
  const MiB = 1024 * 1024
  const sizes: number[] = []
  const roomy = await serve({ host: '127.0.0.1', port: 0, maxMessageSize: 200 * MiB }, async (ws) => {
    for await (const message of ws) {
      sizes.push(message.data.length)
      await ws.send(String(message.data.length))
    }
  })
  const strict = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    for await (const _ of ws) {
      // the message never arrives
    }
  })
  try {
    const payload = new Uint8Array(100 * MiB).fill(3)
    for (const [server, expect] of [[roomy, 'echo'], [strict, 1009]] as const) {
      const client = new WsSocket(`ws://127.0.0.1:${server.port}/`, { maxPayload: 0 })
      await within(new Promise((resolve, reject) => {
        client.once('open', resolve)
        client.once('error', reject)
      }), 3000, 'open')
      const answer = new Promise<string | number>((resolve) => {
        client.once('message', (data) => resolve(String(data)))
        client.once('close', (code) => resolve(code))
      })
      client.send(payload) // ws sends a message as one frame
      const got = await within(answer, 30_000, 'the answer')
      if (expect === 'echo') assert.is(got, String(100 * MiB))
      else assert.is(got, 1009)
      client.terminate()
    }
    assert.equal(sizes, [100 * MiB])
  } finally {
    await roomy.close({ timeout: 500 })
    await strict.close({ timeout: 500 })
  }
})

test.run()
