/**
 * Data messages over loopback, in both directions, on every pair: wsflow ↔ wsflow, wsflow ↔ ws,
 * ws ↔ wsflow. Text (multi-byte UTF-8), binary (every byte value), empty, 16 MiB, fragmented,
 * ping/pong.
 */
import { randomBytes } from 'node:crypto'
import { createConnection, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, serve } from '../../src/index.ts'
import { PAIRS, directions, sameBytes, withPair } from '../helpers/peers.ts'
import { acceptFor, encodeRawFrame, rawConnect, rawServe } from '../helpers/raw.ts'
import { sleep, within } from '../helpers/timing.ts'

const decoder = new TextDecoder('utf-8', { fatal: true })
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const MULTI_BYTE = 'héllo wörld — € 😀🎉👩‍👩‍👧 中文字符 日本語 한국어 𝄞 \u0000 end'

const ALL_BYTES = new Uint8Array(256)
for (let i = 0; i < 256; i++) ALL_BYTES[i] = i

for (const kind of PAIRS) {
  test(`[${kind.name}] text with multi-byte UTF-8, both ways`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        await from.send(MULTI_BYTE)
        const message = await to.receive()
        assert.is(message.type, 'text', label)
        assert.is(decoder.decode(message.data), MULTI_BYTE, label)
      }
    })
  })

  test(`[${kind.name}] binary with all 256 byte values, both ways`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        await from.send(ALL_BYTES)
        const message = await to.receive()
        assert.is(message.type, 'binary', label)
        assert.ok(sameBytes(message.data, ALL_BYTES), label)
      }
    })
  })

  test(`[${kind.name}] empty text and empty binary messages, both ways`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        await from.send('')
        await from.send(new Uint8Array(0))
        await from.send('after')
        const text = await to.receive()
        const binary = await to.receive()
        const after = await to.receive()
        assert.equal([text.type, text.data.length], ['text', 0], `${label}: empty text`)
        assert.equal([binary.type, binary.data.length], ['binary', 0], `${label}: empty binary`)
        assert.is(decoder.decode(after.data), 'after', label)
      }
    })
  })

  test(`[${kind.name}] a 16 MiB binary message, both ways`, async () => {
    const big = new Uint8Array(randomBytes(16 * 1024 * 1024))
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        const sent = from.send(big)
        const message = await to.receive(15_000)
        await within(sent, 5000, 'send of 16 MiB')
        assert.is(message.type, 'binary', label)
        assert.is(message.data.length, big.length, label)
        assert.ok(sameBytes(message.data, big), `${label}: bytes differ`)
      }
    })
  })

  test(`[${kind.name}] many messages keep their order and types, both ways`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        const sends: Promise<void>[] = []
        for (let i = 0; i < 300; i++) sends.push(from.send(i % 3 === 0 ? Uint8Array.of(i & 0xff, i >> 8) : `#${i} ✓`))
        await within(Promise.all(sends), 5000, 'sends')
        for (let i = 0; i < 300; i++) {
          const message = await to.receive()
          if (i % 3 === 0) assert.equal([message.type, [...message.data]], ['binary', [i & 0xff, i >> 8]], `${label} #${i}`)
          else assert.equal([message.type, decoder.decode(message.data)], ['text', `#${i} ✓`], `${label} #${i}`)
        }
      }
    })
  })

  test(`[${kind.name}] fragmented messages (code points split across fragments), both ways`, async () => {
    const size = 7
    const text = MULTI_BYTE.repeat(20)
    const binary = new Uint8Array(randomBytes(1000))
    await withPair(kind, { both: { fragmentSize: size } }, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        await from.sendFragmented(text, size)
        await from.sendFragmented(binary, size)
        await from.sendFragmented('tiny', size) // one frame: smaller than a fragment
        const t = await to.receive()
        const b = await to.receive()
        const tiny = await to.receive()
        assert.equal([t.type, decoder.decode(t.data)], ['text', text], `${label}: text`)
        assert.is(b.type, 'binary', label)
        assert.ok(sameBytes(b.data, binary), `${label}: binary`)
        assert.is(decoder.decode(tiny.data), 'tiny', label)
      }
    })
  })

  test(`[${kind.name}] a ping is answered with a pong carrying its payload, both ways`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        await from.ping(Uint8Array.of(1, 2, 3, 0, 255), 2000).catch((error: unknown) => assert.unreachable(`${label}: ${String(error)}`))
        await from.ping(new Uint8Array(0), 2000)
        await from.ping(new Uint8Array(125).fill(7), 2000)
        // the connection still carries data afterwards
        await from.send('after ping')
        assert.is(decoder.decode((await to.receive()).data), 'after ping', label)
      }
    })
  })

  test(`[${kind.name}] wsflow ping() resolves with the round trip; unsolicited pongs are harmless`, async () => {
    await withPair(kind, {}, async (pair) => {
      for (const [from, to, label] of directions(pair)) {
        if (from.wsflow === undefined) continue
        const rtt = await within(from.wsflow.ping(), 2000, 'ping')
        assert.type(rtt, 'number')
        assert.ok(Number.isFinite(rtt) && rtt >= 0 && rtt < 2000, `${label}: rtt ${rtt}`)
        const rtts = await within(Promise.all([from.wsflow.ping('a'), from.wsflow.ping('b'), from.wsflow.ping('c')]), 2000, 'three pings')
        assert.is(rtts.length, 3)
        if (to.ws !== undefined) {
          // ws sees wsflow's unsolicited pong as a 'pong' event with its payload
          const pong = within(new Promise<Buffer>((resolve) => to.ws!.once('pong', resolve)), 2000, 'ws pong event')
          from.wsflow.pong('beat')
          assert.is((await pong).toString(), 'beat', label)
          // and wsflow ignores ws's unsolicited pong
          to.ws.pong(Buffer.from('unsolicited'))
        } else {
          to.wsflow!.pong('unsolicited')
        }
        await from.send('still fine')
        assert.is(decoder.decode((await to.receive()).data), 'still fine', label)
      }
    })
  })
}

test('wsflow fragmentSize puts several frames on the wire (client → raw server, masked)', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`, { fragmentSize: 4 })
    const peer = await raw.accepted()
    try {
      await ws.send('0123456789') // 10 bytes: 4 + 4 + 2
      const frames = [await peer.reader.next(), await peer.reader.next(), await peer.reader.next()]
      assert.equal(frames.map((f) => [f.opcode, f.fin, f.masked, new TextDecoder().decode(f.payload)]), [
        [0x1, false, true, '0123'],
        [0x0, false, true, '4567'],
        [0x0, true, true, '89'],
      ])
    } finally {
      ws.terminate()
      await within(ws.closed, 2000, 'client closed')
    }
  } finally {
    await raw.close()
  }
})

test('wsflow fragmentSize puts several frames on the wire (server → raw client, unmasked)', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, fragmentSize: 3 }, async (ws) => {
    await ws.send(Uint8Array.of(1, 2, 3, 4, 5, 6, 7))
    await ws.closed
  })
  try {
    const client = await rawConnect({ port: server.port }, '/')
    try {
      const frames = [await client.reader.next(), await client.reader.next(), await client.reader.next()]
      assert.equal(frames.map((f) => [f.opcode, f.fin, f.masked, [...f.payload]]), [
        [0x2, false, false, [1, 2, 3]],
        [0x0, false, false, [4, 5, 6]],
        [0x0, true, false, [7]],
      ])
    } finally {
      await client.destroy()
    }
  } finally {
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('wsflow client: frames in the same TCP write as the 101 response are not lost', async () => {
  const sockets = new Set<Socket>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.once('data', (request: Buffer) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? ''
      const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), encodeRawFrame({ opcode: 0x1, payload: utf8('early') }), encodeRawFrame({ opcode: 0x1, payload: utf8('bird') })]))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const ws = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    const iterator = ws[Symbol.asyncIterator]()
    assert.is((await within(iterator.next(), 2000, 'first')).value?.text(), 'early')
    assert.is((await within(iterator.next(), 2000, 'second')).value?.text(), 'bird')
    ws.terminate()
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('wsflow server: frames in the same TCP write as the upgrade request are not lost', async () => {
  const seen: string[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    for await (const message of ws) seen.push(message.text())
  })
  const socket = createConnection({ host: '127.0.0.1', port: server.port })
  socket.on('error', () => undefined)
  try {
    await within(new Promise((resolve) => socket.once('connect', resolve)), 2000, 'connect')
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    socket.write(Buffer.concat([Buffer.from(request, 'latin1'), encodeRawFrame({ opcode: 0x1, payload: utf8('eager'), mask: true }), encodeRawFrame({ opcode: 0x1, payload: utf8('client'), mask: true })]))
    for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(10)
    assert.equal(seen, ['eager', 'client'])
  } finally {
    socket.destroy()
    await within(server.close({ timeout: 300 }), 3000, 'server close')
  }
})

test('wsflow: leaving a for-await early keeps the connection open; a later loop resumes where it stopped', async () => {
  await withPair(PAIRS[2]!, {}, async (pair) => {
    const ws = pair.server.wsflow!
    for (let i = 0; i < 6; i++) await pair.client.send(`m${i}`)
    const first: string[] = []
    for await (const message of ws) {
      first.push(message.text())
      if (first.length === 2) break
    }
    assert.is(ws.readyState, 'open')
    await sleep(50)
    const second: string[] = []
    for await (const message of ws) {
      second.push(message.text())
      if (second.length === 4) break
    }
    assert.equal([...first, ...second], ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'])
    assert.is(ws.droppedMessages, 0)
    await ws.send('still open')
    assert.is(decoder.decode((await pair.client.receive()).data), 'still open')
  })
})

test('wsflow ping(): resolves when the matching pong arrives (not on another pong), with its round trip', async () => {
  const raw = await rawServe()
  try {
    const ws = await connect(`${raw.url}/`)
    const peer = await raw.accepted()
    try {
      let settled = false
      const ping = ws.ping('abc').finally(() => {
        settled = true
      })
      const frame = await peer.reader.next()
      assert.equal([frame.opcode, new TextDecoder().decode(frame.payload)], [0x9, 'abc'])
      peer.send({ opcode: 0xa, payload: utf8('other') }) // an unrelated pong
      await sleep(150)
      assert.is(settled, false, 'a pong with another payload must not answer the ping')
      peer.send({ opcode: 0xa, payload: frame.payload })
      const rtt = await within(ping, 2000, 'pong')
      assert.ok(rtt >= 140, `the round trip includes the delay: ${rtt} ms`)
      // wsflow answers the raw server's ping with the same payload
      peer.send({ opcode: 0x9, payload: Uint8Array.of(9, 8, 7) })
      const pong = await peer.reader.next()
      assert.equal([pong.opcode, pong.masked, [...pong.payload]], [0xa, true, [9, 8, 7]])
    } finally {
      ws.terminate()
    }
  } finally {
    await raw.close()
  }
})

test('wsflow server: pings between fragments are answered at once; empty fragments are fine', async () => {
  const seen: string[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    for await (const message of ws) seen.push(`${message.type}:${message.text()}`)
  })
  try {
    const client = await rawConnect({ port: server.port }, '/')
    try {
      client.send({ opcode: 0x1, fin: false, payload: new Uint8Array(0) })
      client.send({ opcode: 0x0, fin: false, payload: utf8('frag') })
      client.send({ opcode: 0x9, payload: utf8('mid') })
      const pong = await client.reader.next()
      assert.equal([pong.opcode, new TextDecoder().decode(pong.payload)], [0xa, 'mid'], 'pong before the message ends')
      client.send({ opcode: 0x0, fin: false, payload: new Uint8Array(0) })
      client.send({ opcode: 0x0, fin: true, payload: utf8('mented €') })
      client.send({ opcode: 0x2, fin: true, payload: new Uint8Array(0) })
      for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(10)
      assert.equal(seen, ['text:fragmented €', 'binary:'])
    } finally {
      await client.destroy()
    }
  } finally {
    await within(server.close({ timeout: 300 }), 3000, 'server close')
  }
})

test.run()
