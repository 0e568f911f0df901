/**
 * The legacy versions through a real server (`legacy: legacyVersions()`), each against a
 * hand-written peer on a raw socket: the drafts' handshakes (hixie-76's example keys and answer,
 * key3 in a packet of its own), an echo in each version, the close of each, what is refused.
 */
import { createConnection, type Socket } from 'node:net'
import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serve, type CloseInfo, type Server, type WebSocket } from '../../src/index.ts'
import { legacyVersions, LegacyVersion } from '../../src/legacy/index.ts'
import { encodeRawFrame, FrameReader } from '../helpers/raw.ts'
import { within } from '../helpers/timing.ts'

interface Recorded {
  server: Server
  closes: CloseInfo[]
  sockets: WebSocket[]
}

async function echoServer(versions: LegacyVersion[] | 'none' = Object.values(LegacyVersion)): Promise<Recorded> {
  const closes: CloseInfo[] = []
  const sockets: WebSocket[] = []
  const server = await serve({ host: '127.0.0.1', port: 0, onError: () => undefined, ...(versions === 'none' ? {} : { legacy: legacyVersions(versions) }) }, async (ws) => {
    sockets.push(ws)
    void ws.closed.then((info) => closes.push(info))
    for await (const message of ws) {
      if (message.text() === 'send binary') await ws.send(Uint8Array.of(1, 2, 3))
      else await ws.send(message)
    }
  })
  return { server, closes, sockets }
}

/** A raw socket that collects every byte it receives. */
async function rawSocket(port: number): Promise<{ socket: Socket; received: () => Buffer; until(predicate: (bytes: Buffer) => boolean, what: string): Promise<Buffer>; closed: Promise<void> }> {
  const socket = createConnection({ host: '127.0.0.1', port })
  socket.on('error', () => undefined)
  await within(new Promise((resolve) => socket.once('connect', resolve)), 3000, 'connect')
  let bytes = Buffer.alloc(0)
  let wake: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk])
    wake?.()
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    resolve()
    wake?.()
  }))
  return {
    socket,
    received: () => bytes,
    closed,
    until: async (predicate, what) => within((async () => {
      for (let i = 0; i < 10_000 && !predicate(bytes); i++) {
        if (socket.destroyed) throw new Error(`closed while waiting for ${what}: ${bytes.toString('latin1')}`)
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
      return bytes
    })(), 3000, what),
  }
}

const headEnd = (bytes: Buffer): number => bytes.indexOf('\r\n\r\n')

async function closesOf(recorded: Recorded, count: number): Promise<CloseInfo[]> {
  await within((async () => {
    while (recorded.closes.length < count) await new Promise((resolve) => setImmediate(resolve))
  })(), 3000, 'the server side closed')
  return recorded.closes
}

test('hixie-76: the draft\'s example answered byte for byte (key3 in a later packet), an echo, the close 0xFF 0x00 both ways', async () => {
  const recorded = await echoServer()
  try {
    const raw = await rawSocket(recorded.server.port)
    // draft-hixie-thewebsocketprotocol-76 §1.3's example keys; key3 "^n:ds[4U" gives "8jKS'y:G*Co,Wxa-".
    raw.socket.write([
      'GET /demo HTTP/1.1', 'Host: example.com', 'Connection: Upgrade', 'Sec-WebSocket-Key2: 12998 5 Y3 1  .P00', 'Sec-WebSocket-Protocol: sample',
      'Upgrade: WebSocket', 'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5', 'Origin: http://example.com', '', '',
    ].join('\r\n'))
    // key3 in a write of its own once the head is handed to the kernel (a packet of its own, as slow clients send it).
    raw.socket.setNoDelay(true)
    await new Promise((resolve) => raw.socket.write('', resolve))
    raw.socket.write('^n:ds[4U', 'latin1')
    const response = await raw.until((b) => headEnd(b) >= 0 && b.length >= headEnd(b) + 4 + 16, 'the 101 and the answer')
    const head = response.subarray(0, headEnd(response)).toString('latin1')
    assert.match(head, /^HTTP\/1\.1 101 WebSocket Protocol Handshake\r\n/)
    assert.match(head, 'Sec-WebSocket-Origin: http://example.com')
    assert.match(head, 'Sec-WebSocket-Location: ws://example.com/demo')
    assert.match(head, 'Sec-WebSocket-Protocol: sample')
    const start = headEnd(response) + 4
    assert.is(response.subarray(start, start + 16).toString('latin1'), "8jKS'y:G*Co,Wxa-")
    raw.socket.write(Buffer.from([0x00, ...Buffer.from('héllo'), 0xff]))
    const echoed = await raw.until((b) => b.length >= start + 16 + 8, 'the echo')
    assert.equal([...echoed.subarray(start + 16)], [0x00, ...Buffer.from('héllo'), 0xff])
    assert.is(recorded.sockets[0]!.protocol, 'sample')
    raw.socket.write(Buffer.from([0xff, 0x00]))
    await within(raw.closed, 3000, 'the server closed TCP')
    assert.equal([...raw.received().subarray(start + 16 + 8)], [0xff, 0x00])
    assert.equal((await closesOf(recorded, 1))[0], { code: 1005, reason: '', wasClean: true })
  } finally {
    await recorded.server.close({ timeout: 500 })
  }
})

test('hixie-75: answered as the draft shows, an echo, TCP\'s end is the close; a binary send cuts the connection', async () => {
  const recorded = await echoServer()
  try {
    const raw = await rawSocket(recorded.server.port)
    raw.socket.write('GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\nOrigin: http://example.com\r\n\r\n\u0000hi\u00ff', 'latin1')
    const response = await raw.until((b) => headEnd(b) >= 0 && b.length >= headEnd(b) + 4 + 4, 'the 101 and the echo')
    const head = response.subarray(0, headEnd(response)).toString('latin1')
    assert.match(head, /^HTTP\/1\.1 101 Web Socket Protocol Handshake\r\n/)
    assert.match(head, 'WebSocket-Location: ws://example.com/demo')
    assert.equal([...response.subarray(headEnd(response) + 4)], [0x00, 0x68, 0x69, 0xff])
    raw.socket.end()
    await within(raw.closed, 3000, 'closed')
    assert.equal((await closesOf(recorded, 1))[0], { code: 1005, reason: '', wasClean: true })

    const binary = await rawSocket(recorded.server.port)
    binary.socket.write('GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: h\r\nOrigin: http://h\r\n\r\n\u0000send binary\u00ff', 'latin1')
    await within(binary.closed, 3000, 'the connection cut')
    assert.is((await closesOf(recorded, 2))[1]!.code, 1006)
  } finally {
    await recorded.server.close({ timeout: 500 })
  }
})

for (const version of [8, 7]) {
  test(`hybi-${String(version).padStart(2, '0')}: Sec-WebSocket-Version ${version} with Sec-WebSocket-Origin answered as RFC 6455, an echo, a close with its code`, async () => {
    const recorded = await echoServer()
    try {
      const raw = await rawSocket(recorded.server.port)
      const key = 'dGhlIHNhbXBsZSBub25jZQ=='
      raw.socket.write(`GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Version: ${version}\r\n\r\n`)
      const response = await raw.until((b) => headEnd(b) >= 0, 'the 101')
      const head = response.subarray(0, headEnd(response)).toString('latin1')
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
      assert.match(head, /^HTTP\/1\.1 101 /)
      assert.match(head, `Sec-WebSocket-Accept: ${accept}`)
      const reader = new FrameReader(raw.socket, response.subarray(headEnd(response) + 4))
      raw.socket.write(encodeRawFrame({ opcode: 0x1, payload: Buffer.from('hello'), mask: true }))
      const echo = await reader.next(3000)
      assert.is(Buffer.from(echo.payload).toString(), 'hello')
      raw.socket.write(encodeRawFrame({ opcode: 0x8, payload: Uint8Array.of(0x03, 0xe8), mask: true }))
      const close = await reader.nextClose(3000)
      assert.is(close.code, 1000)
      assert.equal((await closesOf(recorded, 1))[0], { code: 1000, reason: '', wasClean: true })
    } finally {
      await recorded.server.close({ timeout: 500 })
    }
  })
}

test('off by default, and per version: a server without legacy refuses hixie; one with hybi-08 only lists 13, 8 in its 426 for a version 7', async () => {
  const plain = await echoServer('none')
  const only8 = await echoServer([LegacyVersion.HYBI_08])
  try {
    const hixie = await rawSocket(plain.server.port)
    hixie.socket.write('GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: h\r\nOrigin: http://h\r\n\r\n')
    const refused = await hixie.until((b) => headEnd(b) >= 0, 'a refusal')
    assert.match(refused.toString('latin1'), /^HTTP\/1\.1 4\d\d /)
    const seven = await rawSocket(only8.server.port)
    seven.socket.write('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n')
    const answer = (await seven.until((b) => headEnd(b) >= 0, 'the 426')).toString('latin1')
    assert.match(answer, /^HTTP\/1\.1 426 /)
    assert.match(answer, /sec-websocket-version: 13, 8\r\n/i)
    hixie.socket.destroy()
    seven.socket.destroy()
  } finally {
    await plain.server.close({ timeout: 500 })
    await only8.server.close({ timeout: 500 })
  }
})

test.run()
