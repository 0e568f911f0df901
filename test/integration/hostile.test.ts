// Hostile clients against one server, all at once, while a well-behaved client keeps being served:
// each gets the right close code or timeout, memory stays bounded, nothing crashes.
import { createConnection } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, serve, type Server, type WebSocket } from '../../src/index.ts'
import { rawConnect, socketClosed, type RawClient } from '../helpers/raw.ts'
import { sleep, within } from '../helpers/timing.ts'

const MiB = 1024 * 1024
let server: Server
const serverErrors: unknown[] = []
const serverSide = new Map<string, WebSocket>()

test.before(async () => {
  server = await serve(
    {
      host: '127.0.0.1', port: 0, maxMessageSize: MiB, closeTimeout: 300, handshakeTimeout: 1500,
      onError: (error) => serverErrors.push(error),
    },
    async (ws) => {
      const role = new URL(ws.request!.url, 'http://x').searchParams.get('role') ?? ''
      serverSide.set(role, ws)
      if (role === 'close-first') {
        await ws.close(1000, 'bye') // the raw client never answers
        return
      }
      if (role === 'flood-me') {
        // A client that never reads: send awaits drain, so what is buffered stays bounded.
        const chunk = new Uint8Array(64 * 1024)
        for (let i = 0; i < 2000 && ws.readyState === 'open'; i++) {
          await Promise.race([ws.send(chunk), sleep(1000)])
          if (ws.bufferedAmount > 8 * MiB) throw new Error(`bufferedAmount ${ws.bufferedAmount}`)
        }
        return
      }
      for await (const message of ws) await ws.send(message)
    },
  )
})

test.after(async () => {
  await server.close({ timeout: 500 })
})

async function closeCodeOf(client: RawClient): Promise<number> {
  const { code } = await client.reader.nextClose(3000)
  await socketClosed(client.socket, 3000)
  return code
}

test('hostile clients get the right close code or timeout while a good client keeps working', async () => {
  const rssBefore = process.memoryUsage().rss
  const good = await connect(`${server.url}?role=good`)
  const goodRounds = (async () => {
    let echoed = 0
    for (let i = 0; i < 50; i++) {
      await good.send(`ping ${i}`)
      const iterator = good[Symbol.asyncIterator]()
      const reply = await within(iterator.next(), 3000, 'echo to the good client')
      if (!reply.done && reply.value.text() === `ping ${i}`) echoed++
      await sleep(20)
    }
    return echoed
  })()

  const garbage = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=garbage')
    c.socket.write(Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff).map((b, i) => (i === 0 ? 0x83 : b))) // opcode 3: reserved
    return closeCodeOf(c)
  })()

  const hugeLength = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=huge')
    // a 64-bit length of 2^63 (top bit set): RFC 6455 §5.2 makes it a protocol error
    c.socket.write(Uint8Array.of(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4))
    return closeCodeOf(c)
  })()

  const almostHugeLength = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=almost-huge')
    // 2^63 - 1: a legal encoding, far over the limit
    c.socket.write(Uint8Array.of(0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4))
    return closeCodeOf(c)
  })()

  const endlessFragments = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=endless')
    const fragment = new Uint8Array(16 * 1024)
    c.send({ opcode: 0x2, fin: false, payload: fragment })
    // a never-ending fragmented message: 1009 once it passes 1 MiB, however it is cut
    for (let i = 0; i < 200 && !c.socket.destroyed; i++) {
      c.send({ opcode: 0x0, fin: false, payload: fragment })
      if (i % 16 === 0) await sleep(1)
    }
    return closeCodeOf(c)
  })()

  const emptyFragments = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=empty-fragments')
    c.send({ opcode: 0x2, fin: false })
    for (let i = 0; i < 20_000; i++) c.send({ opcode: 0x0, fin: false })
    await sleep(200)
    // a flood of empty fragments holds no memory; the connection is still usable for a ping
    c.send({ opcode: 0x9, payload: Uint8Array.of(7) })
    const pong = await c.reader.next(2000)
    await c.destroy()
    return pong.opcode
  })()

  const slowloris = (async () => {
    const socket = createConnection({ host: '127.0.0.1', port: server.port })
    socket.on('error', () => undefined)
    await new Promise((resolve) => socket.once('connect', resolve))
    const request = 'GET /?role=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
    let written = 0
    for (; written < request.length && !socket.destroyed && socket.writable; written++) {
      socket.write(request[written]!)
      await sleep(50) // one byte every 50 ms: the head would take 3 s, twice the handshake timeout
    }
    await socketClosed(socket, 5000)
    return { written, of: request.length }
  })()

  const noCloseReply = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=close-first')
    const { code } = await c.reader.nextClose(2000)
    await socketClosed(c.socket, 3000) // never answered: the server cuts it after closeTimeout (300 ms); rejects after 3 s
    return { code }
  })()

  const neverReads = (async () => {
    const c = await rawConnect({ port: server.port }, '/?role=flood-me')
    c.socket.pause() // TCP fills up; the server's sends must wait
    await sleep(800)
    const ws = serverSide.get('flood-me')
    const buffered = ws?.bufferedAmount ?? -1
    await c.destroy()
    return buffered
  })()

  const [codeGarbage, codeHuge, codeAlmostHuge, codeEndless, pongOpcode, slow, noReply, neverReadsBuffered, echoed] = await within(
    Promise.all([garbage, hugeLength, almostHugeLength, endlessFragments, emptyFragments, slowloris, noCloseReply, neverReads, goodRounds]),
    20_000,
    'all hostile clients',
  )
  assert.is(codeGarbage, 1002, 'reserved opcode')
  assert.is(codeHuge, 1002, '64-bit length with the top bit set')
  assert.is(codeAlmostHuge, 1009, 'length 2^63 - 1')
  assert.is(codeEndless, 1009, 'never-ending fragmented message')
  assert.is(pongOpcode, 0xa, 'empty fragments cost nothing; pings still answered')
  assert.ok(slow.written < slow.of, `a dribbled head is cut by the handshake timeout before it is complete (${slow.written} of ${slow.of} bytes written)`)
  assert.is(noReply.code, 1000)
  assert.ok(neverReadsBuffered >= 0 && neverReadsBuffered <= 8 * MiB, `bounded buffering for a client that never reads (${neverReadsBuffered} bytes)`)
  assert.is(echoed, 50, 'the good client was served throughout')
  await good.close()
  const rssGrowth = process.memoryUsage().rss - rssBefore
  assert.ok(rssGrowth < 64 * MiB, `memory grew by ${(rssGrowth / MiB).toFixed(1)} MiB`)
  assert.ok(serverErrors.every((e) => !(e instanceof TypeError || e instanceof RangeError)), 'no unexpected error reached onError')
})

test.run()
