import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import zlib from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { DeflateParams } from '../../../src/core/deflate/index.ts'
import { ConnectionClosedError, InvalidArgumentError, InvalidDataError, MessageTooBigError, ProtocolError } from '../../../src/core/errors.ts'
import {
  DEFAULT_INFLATE_MEMORY_LIMIT,
  DEFAULT_ZLIB_CONCURRENCY,
  setInflateMemoryLimit,
  PerMessageDeflate,
  deflateWindowBits,
  getZlibActivity,
  setZlibConcurrency,
  type PerMessageDeflateCodecOptions,
} from '../../../src/node/deflate.ts'
import { concat, cut, rejectsError, throwsError, utf8 } from '../../helpers/bytes.ts'

const TRAILER = Uint8Array.of(0x00, 0x00, 0xff, 0xff)
const DEFAULTS: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function pair(params: Partial<DeflateParams> = {}, options: PerMessageDeflateCodecOptions = {}): { client: PerMessageDeflate; server: PerMessageDeflate } {
  const agreed = { ...DEFAULTS, ...params }
  return { client: new PerMessageDeflate(agreed, 'client', options), server: new PerMessageDeflate(agreed, 'server', options) }
}

/** Repetitive text of `size` bytes (compresses well), varying with `seed`. */
function repetitive(size: number, seed = 0): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta ', 'épsilon ', 'ζeta ', 'eta ', '😀 ']
  let text = ''
  for (let i = seed; text.length < size; i++) text += words[(i * 7 + (i >> 3)) % words.length]
  return utf8(text).subarray(0, size)
}

/** Sends `data` from `sender` to `receiver` as one message, optionally cut into fragments. */
async function transfer(sender: PerMessageDeflate, receiver: PerMessageDeflate, data: Uint8Array, cuts: number[] = []): Promise<Uint8Array> {
  const compressed = await sender.compress(data)
  const fragments = cut(compressed, cuts)
  let message: Uint8Array | undefined
  for (let i = 0; i < fragments.length; i++) {
    const result = await receiver.decompress(fragments[i]!, i === fragments.length - 1)
    if (i < fragments.length - 1) assert.is(result, undefined)
    else message = result
  }
  return message!
}

function same(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`)
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected), `${label}: bytes`)
}

// ------------------------------------------------------------------------------------------
// A small DEFLATE decoder (RFC 1951) that reports the back-reference distances, to check what
// zlib's compressor emits for a given window size.

const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
const CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

interface Huffman { count: number[]; symbol: number[] }

function huffman(lengths: readonly number[]): Huffman {
  const count = new Array<number>(16).fill(0)
  for (const l of lengths) count[l]!++
  count[0] = 0
  const offs = [0, 0]
  for (let len = 1; len < 16; len++) offs[len + 1] = offs[len]! + count[len]!
  const symbol: number[] = []
  lengths.forEach((l, s) => {
    if (l !== 0) symbol[offs[l]!++] = s
  })
  return { count, symbol }
}

/** Inflates a raw DEFLATE stream; returns the output and the largest distance any match used. */
function inflateAndMeasure(data: Uint8Array): { output: Uint8Array; maxDistance: number } {
  let pos = 0
  let bit = 0
  const out: number[] = []
  let maxDistance = 0
  const bits = (n: number): number => {
    let v = 0
    for (let i = 0; i < n; i++) {
      if (pos >= data.length) throw new Error('out of input')
      v |= ((data[pos]! >> bit) & 1) << i
      if (++bit === 8) {
        bit = 0
        pos++
      }
    }
    return v
  }
  const decode = (h: Huffman): number => {
    let code = 0
    let first = 0
    let index = 0
    for (let len = 1; len < 16; len++) {
      code |= bits(1)
      const count = h.count[len]!
      if (code - count < first) return h.symbol[index + (code - first)]!
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    throw new Error('bad code')
  }
  const fixedLit = huffman([...new Array<number>(144).fill(8), ...new Array<number>(112).fill(9), ...new Array<number>(24).fill(7), ...new Array<number>(8).fill(8)])
  const fixedDist = huffman(new Array<number>(30).fill(5))
  while (pos < data.length) {
    const final = bits(1)
    const type = bits(2)
    if (type === 0) {
      if (bit !== 0) {
        bit = 0
        pos++
      }
      const len = data[pos]! | (data[pos + 1]! << 8)
      pos += 4
      for (let i = 0; i < len; i++) out.push(data[pos++]!)
    } else {
      let lit = fixedLit
      let dist = fixedDist
      if (type === 2) {
        const nlen = bits(5) + 257
        const ndist = bits(5) + 1
        const ncode = bits(4) + 4
        const cl = new Array<number>(19).fill(0)
        for (let i = 0; i < ncode; i++) cl[CLORDER[i]!] = bits(3)
        const clh = huffman(cl)
        const lengths: number[] = []
        while (lengths.length < nlen + ndist) {
          const sym = decode(clh)
          if (sym < 16) lengths.push(sym)
          else if (sym === 16) lengths.push(...new Array<number>(3 + bits(2)).fill(lengths[lengths.length - 1]!))
          else if (sym === 17) lengths.push(...new Array<number>(3 + bits(3)).fill(0))
          else lengths.push(...new Array<number>(11 + bits(7)).fill(0))
        }
        lit = huffman(lengths.slice(0, nlen))
        dist = huffman(lengths.slice(nlen))
      } else if (type !== 1) {
        throw new Error('bad block type')
      }
      for (;;) {
        const sym = decode(lit)
        if (sym < 256) out.push(sym)
        else if (sym === 256) break
        else {
          const length = LBASE[sym - 257]! + bits(LEXT[sym - 257]!)
          const dsym = decode(dist)
          const distance = DBASE[dsym]! + bits(DEXT[dsym]!)
          if (distance > out.length) throw new Error('distance too far back')
          maxDistance = Math.max(maxDistance, distance)
          for (let i = 0; i < length; i++) out.push(out[out.length - distance]!)
        }
      }
    }
    if (final) break
  }
  return { output: Uint8Array.from(out), maxDistance }
}

// ------------------------------------------------------------------------------------------
// round trips

const SIZES = [0, 1, 100, 1023, 1024, 64 * 1024, 1024 * 1024]

test('round trips both ways: text and binary, random and repetitive, of many sizes', async () => {
  for (const takeover of [true, false]) {
    const { client, server } = pair({ serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover })
    for (const size of SIZES) {
      for (const [kind, data] of [['repetitive', repetitive(size, size)], ['random', new Uint8Array(randomBytes(size))]] as const) {
        const label = `${kind} ${size} takeover=${takeover}`
        same(await transfer(client, server, data), data, `${label} client->server`)
        same(await transfer(server, client, data), data, `${label} server->client`)
      }
    }
    client.release()
    server.release()
  }
})

test('repetitive data compresses; context takeover makes a repeated message smaller still', async () => {
  const data = repetitive(8192)
  const takeover = new PerMessageDeflate(DEFAULTS, 'client', {})
  const first = await takeover.compress(data)
  const second = await takeover.compress(data)
  assert.ok(first.length < data.length / 4, `${first.length}`)
  assert.ok(second.length < first.length / 2, `second ${second.length} vs first ${first.length}`)
  const reset = new PerMessageDeflate({ ...DEFAULTS, clientNoContextTakeover: true }, 'client', {})
  const a = await reset.compress(data)
  const b = await reset.compress(data)
  same(a, b, 'no context takeover: each message compresses the same')
  takeover.release()
  reset.release()
})

test('window bits 8..15 in both directions, with and without context takeover', async () => {
  for (let bits = 8; bits <= 15; bits++) {
    for (const noTakeover of [false, true]) {
      const { client, server } = pair({ serverMaxWindowBits: bits, clientMaxWindowBits: bits, serverNoContextTakeover: noTakeover, clientNoContextTakeover: noTakeover })
      for (let i = 0; i < 3; i++) {
        const data = concat(repetitive(5000, i), new Uint8Array(randomBytes(300)), repetitive(3000, i))
        same(await transfer(client, server, data), data, `bits ${bits} c->s #${i}`)
        same(await transfer(server, client, data), data, `bits ${bits} s->c #${i}`)
      }
      client.release()
      server.release()
    }
  }
})

test('window bits 8: zlib compresses with 9, yet no match reaches farther than 256 bytes, across messages', async () => {
  assert.is(deflateWindowBits(8), 9)
  for (let bits = 9; bits <= 15; bits++) assert.is(deflateWindowBits(bits), bits)
  const codec = new PerMessageDeflate({ ...DEFAULTS, clientMaxWindowBits: 8 }, 'client', {})
  // Repeats at distances of 257 to 511 bytes: a compressor with a true 512-byte window would use them.
  const block = new Uint8Array(randomBytes(300))
  const messages = [concat(block, block, block), concat(new Uint8Array(randomBytes(100)), block), repetitive(20000), new Uint8Array(randomBytes(400)), concat(block, block)]
  const stream: Uint8Array[] = []
  for (const message of messages) stream.push(await codec.compress(message), TRAILER)
  const { output, maxDistance } = inflateAndMeasure(concat(...stream))
  same(output, concat(...messages), 'the decoder reproduces the messages')
  assert.ok(maxDistance > 0 && maxDistance <= 256, `max distance ${maxDistance}`)
  // zlib itself inflates it with an 8-bit window.
  same(new Uint8Array(zlib.inflateRawSync(concat(...stream), { windowBits: 8, finishFlush: zlib.constants.Z_SYNC_FLUSH })), concat(...messages), 'zlib inflate, 8 bits')
  // For comparison: a 9-bit window and a 10-bit one use up to window - 262 bytes.
  for (const [wb, limit] of [[9, 250], [10, 762]] as const) {
    const c = new PerMessageDeflate({ ...DEFAULTS, clientMaxWindowBits: wb }, 'client', {})
    const parts: Uint8Array[] = []
    for (const message of messages) parts.push(await c.compress(message), TRAILER)
    const measured = inflateAndMeasure(concat(...parts)).maxDistance
    assert.ok(measured <= limit, `bits ${wb}: ${measured}`)
    c.release()
  }
  codec.release()
})

test('a message fed to decompress in several fragments, including empty ones', async () => {
  const { client, server } = pair()
  const data = concat(repetitive(70000), new Uint8Array(randomBytes(20000)))
  // one-byte fragments, fragments everywhere
  for (const cuts of [[1], [1, 2, 3], [100, 5000, 5001, 20000], Array.from({ length: 50 }, (_, i) => i * 97 + 3)]) {
    same(await transfer(client, server, data, cuts), data, `cuts ${cuts.length}`)
  }
  // empty fragments, the last one too
  const message = await client.compress(data)
  assert.is(await server.decompress(new Uint8Array(0), false), undefined)
  assert.is(await server.decompress(message.subarray(0, 10), false), undefined)
  assert.is(await server.decompress(new Uint8Array(0), false), undefined)
  assert.is(await server.decompress(message.subarray(10), false), undefined)
  same((await server.decompress(new Uint8Array(0), true))!, data, 'empty last fragment')
  client.release()
  server.release()
})

test('empty messages: one 0x00 byte (RFC 7692 §7.2.3.6), also after another message with context takeover', async () => {
  const { client, server } = pair()
  const empty = new Uint8Array(0)
  const first = await client.compress(empty)
  assert.equal([...first], [0x00])
  same(await server.decompress(first, true) as Uint8Array, empty, 'first')
  await transfer(client, server, repetitive(100))
  const again = await client.compress(empty)
  assert.equal([...again], [0x00])
  same(await server.decompress(again, true) as Uint8Array, empty, 'again')
  same(await transfer(client, server, repetitive(100)), repetitive(100), 'after')
  client.release()
  server.release()
})

test('compress calls made at once come back in order and decode in order', async () => {
  const { client, server } = pair()
  const messages = Array.from({ length: 20 }, (_, i) => repetitive(500 + i * 300, i))
  const compressed = await Promise.all(messages.map((m) => client.compress(m)))
  const decoded = await Promise.all(compressed.map((c) => server.decompress(c, true)))
  decoded.forEach((d, i) => same(d!, messages[i]!, `message ${i}`))
  client.release()
  server.release()
})

// ------------------------------------------------------------------------------------------
// interop with plain zlib

test('interop: our output inflates with zlib inflateRaw once the trailer is appended', async () => {
  const codec = new PerMessageDeflate(DEFAULTS, 'server', {})
  const inflater = zlib.createInflateRaw()
  const inflate = (payload: Uint8Array): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk)
      }
      inflater.on('data', onData)
      inflater.once('error', reject)
      inflater.write(payload)
      inflater.write(TRAILER)
      inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        inflater.off('data', onData)
        inflater.off('error', reject)
        resolve(Buffer.concat(chunks))
      })
    })
  for (const data of [repetitive(3000), repetitive(3000), new Uint8Array(randomBytes(5000)), new Uint8Array(0), repetitive(200000)]) {
    const payload = await codec.compress(data)
    same(await inflate(payload), data, `size ${data.length}`)
  }
  const single = new PerMessageDeflate(DEFAULTS, 'client', {})
  const data = repetitive(10000)
  same(zlib.inflateRawSync(concat(await single.compress(data), TRAILER), { finishFlush: zlib.constants.Z_SYNC_FLUSH }), data, 'inflateRawSync')
  inflater.close()
  codec.release()
  single.release()
})

test('interop: zlib deflateRaw output decodes, with the sync-flush trailer stripped or with BFINAL set', async () => {
  const codec = new PerMessageDeflate({ ...DEFAULTS, clientNoContextTakeover: true }, 'server', {})
  for (const data of [repetitive(1), repetitive(5000), new Uint8Array(randomBytes(70000))]) {
    const flushed = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    same(flushed.subarray(flushed.length - 4), TRAILER, 'sync flush ends with the trailer')
    same((await codec.decompress(flushed.subarray(0, flushed.length - 4), true))!, data, `sync flush ${data.length}`)
  }
  // RFC 7692 §7.2.3.4: a message may end its DEFLATE stream with BFINAL; the next one starts afresh.
  const takeover = new PerMessageDeflate(DEFAULTS, 'server', {})
  for (const data of [repetitive(4000), repetitive(4000), new Uint8Array(randomBytes(3000))]) {
    same((await takeover.decompress(zlib.deflateRawSync(data), true))!, data, `BFINAL ${data.length}`)
    assert.not.ok(takeover.hasInflater, 'a finished stream is not kept')
  }
  codec.release()
  takeover.release()
})

// ------------------------------------------------------------------------------------------
// limits and errors

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

/** `bytes` zeros compressed with a sync flush and the trailer stripped, built 1 MiB at a time. */
async function bomb(bytes: number): Promise<Uint8Array> {
  const deflate = zlib.createDeflateRaw({ level: 9 })
  const chunks: Buffer[] = []
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk))
  const zeros = Buffer.alloc(1024 * 1024)
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve))
  }
  await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()))
  deflate.close()
  const all = Buffer.concat(chunks)
  return new Uint8Array(all.subarray(0, all.length - 4))
}

test('a zip bomb stops at maxMessageSize with 1009, without inflating it all or growing memory', async () => {
  const compressed = await bomb(64 * 1024 * 1024)
  assert.ok(compressed.length < 100 * 1024, `bomb of ${compressed.length} bytes`)
  const limit = 1024 * 1024
  const codec = new PerMessageDeflate(DEFAULTS, 'server', { maxMessageSize: limit })
  gc()
  const before = process.memoryUsage()
  let peakRss = before.rss
  let peakArrayBuffers = before.arrayBuffers
  let sampling = true
  const sample = (): void => {
    const now = process.memoryUsage()
    peakRss = Math.max(peakRss, now.rss)
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers)
    if (sampling) setImmediate(sample)
  }
  sample()
  let caught: unknown
  try {
    await codec.decompress(compressed.subarray(0, 1000), false)
    await codec.decompress(compressed.subarray(1000), true)
  } catch (error) {
    caught = error
  }
  sampling = false
  assert.instance(caught, MessageTooBigError)
  assert.is((caught as MessageTooBigError).code, 'WS_ERR_MESSAGE_TOO_BIG')
  assert.is((caught as MessageTooBigError).closeCode, 1009)
  assert.is((caught as MessageTooBigError).limit, limit)
  assert.not.ok(codec.hasInflater, 'the inflater was destroyed')
  const MiB = 1024 * 1024
  const grewRss = (peakRss - before.rss) / MiB
  const grewArrayBuffers = (peakArrayBuffers - before.arrayBuffers) / MiB
  assert.ok(grewArrayBuffers < 3, `arrayBuffers grew by ${grewArrayBuffers.toFixed(2)} MiB`)
  assert.ok(grewRss < 8, `rss grew by ${grewRss.toFixed(2)} MiB`)
  // The error sticks: the context is lost and the connection must be failed.
  await rejectsError(codec.decompress(new Uint8Array(1), true), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  codec.release()
})

test('the limit is on the inflated size: at the limit passes, one byte over fails', async () => {
  // Each message compressed on its own, so that any receiver can decode it.
  const { client } = pair({ clientNoContextTakeover: true })
  const data = repetitive(50000)
  const exact = new PerMessageDeflate(DEFAULTS, 'server', { maxMessageSize: data.length })
  same(await transfer(client, exact, data), data, 'exactly the limit')
  const under = new PerMessageDeflate(DEFAULTS, 'server', { maxMessageSize: data.length - 1 })
  await rejectsError(transfer(client, under, data), MessageTooBigError, 'WS_ERR_MESSAGE_TOO_BIG', 1009)
  const zero = new PerMessageDeflate(DEFAULTS, 'server', { maxMessageSize: 0 })
  same((await zero.decompress(await client.compress(new Uint8Array(0)), true))!, new Uint8Array(0), 'an empty message under a limit of 0')
  client.release()
  exact.release()
  under.release()
  zero.release()
})

test('invalid deflate data fails with 1007, and keeps failing', async () => {
  for (const bad of [Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0x07), utf8('not deflate at all')]) {
    const codec = new PerMessageDeflate(DEFAULTS, 'client', {})
    await rejectsError(codec.decompress(bad, true), InvalidDataError, 'WS_ERR_INVALID_COMPRESSED_DATA', 1007)
    assert.not.ok(codec.hasInflater)
    await rejectsError(codec.decompress(new Uint8Array(0), true), InvalidDataError, 'WS_ERR_INVALID_COMPRESSED_DATA', 1007)
    codec.release()
  }
  // A reference to a message the receiver never saw (context takeover out of step).
  const { client, server } = pair()
  const data = repetitive(5000)
  await client.compress(data)
  await rejectsError(transfer(client, server, data), InvalidDataError, 'WS_ERR_INVALID_COMPRESSED_DATA', 1007)
  client.release()
  server.release()
})

// ------------------------------------------------------------------------------------------
// memory: lazy creation, release, idle release

test('zlib objects are created lazily and kept with context takeover', async () => {
  const { client, server } = pair()
  assert.not.ok(client.hasDeflater)
  assert.not.ok(client.hasInflater)
  const data = repetitive(2000)
  await client.compress(data)
  assert.ok(client.hasDeflater)
  assert.not.ok(client.hasInflater)
  const compressed = await server.compress(data)
  assert.is(await client.decompress(compressed.subarray(0, 5), false), undefined)
  assert.ok(client.hasInflater)
  await client.decompress(compressed.subarray(5), true)
  assert.ok(client.hasInflater)
  await sleep(20)
  assert.ok(client.hasDeflater && client.hasInflater, 'no idle release by default')
  client.release()
  assert.not.ok(client.hasDeflater)
  assert.not.ok(client.hasInflater)
  client.release() // twice is fine
  await rejectsError(client.compress(data), ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
  await rejectsError(client.decompress(compressed, true), ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
  server.release()
})

test('without context takeover, zlib objects are released right after each message', async () => {
  const { client, server } = pair({ clientNoContextTakeover: true, serverNoContextTakeover: true })
  for (let i = 0; i < 3; i++) {
    const data = repetitive(3000, i)
    const compressed = await client.compress(data)
    assert.not.ok(client.hasDeflater)
    assert.is(await server.decompress(compressed.subarray(0, 10), false), undefined)
    assert.ok(server.hasInflater, 'kept within a message')
    same((await server.decompress(compressed.subarray(10), true))!, data, `message ${i}`)
    assert.not.ok(server.hasInflater)
  }
  client.release()
  server.release()
})

test('idleTimeout: without takeover reset and reused, then released; with takeover only the compressor is', async () => {
  const options = { idleTimeout: 30 }
  const none = pair({ clientNoContextTakeover: true, serverNoContextTakeover: true }, options)
  const data = repetitive(3000)
  const first = await none.client.compress(data)
  assert.ok(none.client.hasDeflater, 'kept for reuse')
  const second = await none.client.compress(data)
  same(second, first, 'reset between messages')
  same((await none.server.decompress(first, true))!, data, 'first')
  same((await none.server.decompress(second, true))!, data, 'second')
  assert.ok(none.server.hasInflater)
  await sleep(80)
  assert.not.ok(none.client.hasDeflater, 'compressor released when idle')
  assert.not.ok(none.server.hasInflater, 'decompressor released when idle')
  same(await transfer(none.client, none.server, data), data, 'after the idle release')

  const takeover = pair({}, options)
  for (let i = 0; i < 2; i++) same(await transfer(takeover.client, takeover.server, data), data, `takeover ${i}`)
  await sleep(80)
  assert.not.ok(takeover.client.hasDeflater, 'a takeover compressor can be released: the peer cannot tell')
  assert.ok(takeover.server.hasInflater, 'a takeover decompressor cannot')
  // The peer's inflater still has the old window; a fresh compressor's stream continues it.
  for (let i = 0; i < 3; i++) same(await transfer(takeover.client, takeover.server, data), data, `after idle ${i}`)
  // Each message restarts the idle time.
  const busy = pair({}, { idleTimeout: 150 })
  await transfer(busy.client, busy.server, data)
  await sleep(100)
  await busy.client.compress(data)
  await sleep(100)
  assert.ok(busy.client.hasDeflater, '100 ms after the last message of two, 200 ms after the first')
  await sleep(200)
  assert.not.ok(busy.client.hasDeflater)
  for (const p of [none, takeover, busy]) {
    p.client.release()
    p.server.release()
  }
})

test('release() during an operation rejects it and frees zlib at once', async () => {
  const codec = new PerMessageDeflate(DEFAULTS, 'server', {})
  const compressed = await bomb(32 * 1024 * 1024)
  const pending = codec.decompress(compressed, true)
  const queued = codec.decompress(Uint8Array.of(0x00), true)
  await sleep(1)
  assert.ok(codec.hasInflater)
  codec.release()
  assert.not.ok(codec.hasInflater)
  await rejectsError(pending, ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
  await rejectsError(queued, ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
  const activity = getZlibActivity()
  assert.is(activity.active, 0)

  const sender = new PerMessageDeflate(DEFAULTS, 'client', {})
  const sending = sender.compress(new Uint8Array(randomBytes(4 * 1024 * 1024)))
  await sleep(1)
  sender.release()
  await rejectsError(sending, ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')

  // Released while waiting for a turn of the global limiter: it never runs, and gives its turn back.
  setZlibConcurrency(1)
  const busy = new PerMessageDeflate(DEFAULTS, 'client', {})
  const waiting = new PerMessageDeflate(DEFAULTS, 'client', {})
  const running = busy.compress(new Uint8Array(randomBytes(1024 * 1024)))
  const starved = waiting.compress(repetitive(100))
  await sleep(0)
  assert.is(getZlibActivity().waiting, 1)
  waiting.release()
  await running
  await rejectsError(starved, ConnectionClosedError, 'WS_ERR_CONNECTION_CLOSED')
  assert.not.ok(waiting.hasDeflater)
  assert.equal(getZlibActivity(), { limit: 1, active: 0, waiting: 0, inflating: 0, inflateMemoryLimit: DEFAULT_INFLATE_MEMORY_LIMIT })
  setZlibConcurrency(DEFAULT_ZLIB_CONCURRENCY)
  busy.release()
})

test('isCompressible: every message with context takeover in the sending direction, from the threshold up without', () => {
  // Truth table: [server_no_context_takeover, client_no_context_takeover] -> does the client / the
  // server compress a message below the threshold? Each side looks at its own sending direction.
  const table: [boolean, boolean, boolean, boolean][] = [
    [false, false, true, true],
    [true, false, true, false],
    [false, true, false, true],
    [true, true, false, false],
  ]
  for (const [serverNoContextTakeover, clientNoContextTakeover, clientSmall, serverSmall] of table) {
    const { client, server } = pair({ serverNoContextTakeover, clientNoContextTakeover })
    const label = `snct ${serverNoContextTakeover}, cnct ${clientNoContextTakeover}`
    assert.is(client.isCompressible(new Uint8Array(1023)), clientSmall, `${label}: client, 1023 B`)
    assert.is(server.isCompressible(new Uint8Array(1023)), serverSmall, `${label}: server, 1023 B`)
    assert.is(client.isCompressible(new Uint8Array(0)), clientSmall, `${label}: client, 0 B`)
    assert.is(server.isCompressible(new Uint8Array(0)), serverSmall, `${label}: server, 0 B`)
    assert.ok(client.isCompressible(new Uint8Array(1024)), `${label}: client, 1024 B`)
    assert.ok(server.isCompressible(new Uint8Array(1024)), `${label}: server, 1024 B`)
  }
  const reset = { ...DEFAULTS, clientNoContextTakeover: true }
  const all = new PerMessageDeflate(reset, 'client', { threshold: 0 })
  assert.ok(all.isCompressible(new Uint8Array(0)))
  const some = new PerMessageDeflate(reset, 'client', { threshold: 10 })
  assert.not.ok(some.isCompressible(new Uint8Array(9)))
  assert.ok(some.isCompressible(new Uint8Array(10)))
  const takeover = new PerMessageDeflate(DEFAULTS, 'client', { threshold: 10 })
  assert.ok(takeover.isCompressible(new Uint8Array(9)), 'the threshold does not apply with context takeover')
})

test('small messages with context takeover compress against the window, and round-trip', async () => {
  const { client, server } = pair()
  let payload = 0
  let wire = 0
  for (let i = 0; i < 50; i++) {
    const text = utf8(`{"type":"message","id":"m-${String(i).padStart(6, '0')}","room":"general","from":{"id":"u-1002","name":"carol"},"text":"the build is green again ${i}","ts":${1718000000000 + i * 977}}`)
    const compressed = await client.compress(text)
    if (i > 0) {
      payload += text.length
      wire += compressed.length
    }
    same(await server.decompress(compressed, true) as Uint8Array, text, `message ${i}`)
  }
  // The first message fills the window; the next 49 (about 150 B each) refer to it.
  assert.ok(wire < payload / 3, `${wire} compressed bytes for ${payload} payload bytes`)
  // One byte and empty messages too (RFC 7692 §7.2.3.6 for the empty one), in both directions.
  for (const data of [Uint8Array.of(0x7b), new Uint8Array(0), utf8('}')]) {
    same(await transfer(client, server, data), data, `client ${data.length} B`)
    same(await transfer(server, client, data), data, `server ${data.length} B`)
  }
  client.release()
  server.release()
})

test('invalid options are a programming error', () => {
  const bad: [Partial<DeflateParams>, PerMessageDeflateCodecOptions][] = [
    [{ serverMaxWindowBits: 7 }, {}],
    [{ clientMaxWindowBits: 16 }, {}],
    [{ clientMaxWindowBits: 9.5 }, {}],
    [{}, { level: 10 }],
    [{}, { level: -2 }],
    [{}, { memLevel: 0 }],
    [{}, { memLevel: 10 }],
    [{}, { threshold: -1 }],
    [{}, { maxMessageSize: Number.NaN }],
    [{}, { idleTimeout: -5 }],
  ]
  for (const [params, options] of bad) {
    throwsError(() => new PerMessageDeflate({ ...DEFAULTS, ...params }, 'client', options), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  }
  for (const limit of [0, -1, 1.5, Number.NaN]) throwsError(() => setZlibConcurrency(limit), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test('level and memLevel are passed to zlib', async () => {
  const data = repetitive(20000)
  const stored = await new PerMessageDeflate(DEFAULTS, 'client', { level: 0 }).compress(data)
  const best = await new PerMessageDeflate(DEFAULTS, 'client', { level: 9, memLevel: 9 }).compress(data)
  assert.ok(stored.length > data.length, `level 0: ${stored.length}`)
  assert.ok(best.length < data.length / 10, `level 9: ${best.length}`)
  const server = new PerMessageDeflate(DEFAULTS, 'server', {})
  same((await server.decompress(stored, true))!, data, 'stored blocks')
  server.release()
})

// ------------------------------------------------------------------------------------------
// the global limit

test('the global zlib concurrency limit holds across many connections', async () => {
  assert.is(getZlibActivity().limit, DEFAULT_ZLIB_CONCURRENCY)
  setZlibConcurrency(3)
  const codecs = Array.from({ length: 40 }, () => pair())
  let peak = 0
  let sawWaiting = 0
  let sampling = true
  const sample = (): void => {
    const { active, waiting } = getZlibActivity()
    peak = Math.max(peak, active)
    sawWaiting = Math.max(sawWaiting, waiting)
    if (sampling) setImmediate(sample)
  }
  sample()
  const data = new Uint8Array(randomBytes(256 * 1024))
  const results = await Promise.all(codecs.map(async ({ client, server }) => transfer(client, server, data)))
  sampling = false
  results.forEach((r, i) => same(r, data, `connection ${i}`))
  assert.is(peak, 3, `peak ${peak}`)
  assert.ok(sawWaiting > 10, `waiting ${sawWaiting}`)
  assert.equal(getZlibActivity(), { limit: 3, active: 0, waiting: 0, inflating: 0, inflateMemoryLimit: DEFAULT_INFLATE_MEMORY_LIMIT })

  // Raising the limit starts waiting operations at once.
  setZlibConcurrency(1)
  const started = codecs.slice(0, 6).map(({ client }) => client.compress(data))
  await sleep(0)
  assert.ok(getZlibActivity().waiting >= 4, `${getZlibActivity().waiting}`)
  setZlibConcurrency(Infinity)
  assert.is(getZlibActivity().waiting, 0)
  assert.ok(getZlibActivity().active >= 5)
  await Promise.all(started)
  setZlibConcurrency(DEFAULT_ZLIB_CONCURRENCY)
  for (const { client, server } of codecs) {
    client.release()
    server.release()
  }
})

// ------------------------------------------------------------------------------------------
// measurement (printed, never asserted): WSFLOW_DEFLATE_MEMORY=1 to run

interface WsPerMessageDeflate {
  accept(configurations: object[]): object
  compress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void
  decompress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void
  cleanup(): void
}

if (process.env['WSFLOW_DEFLATE_MEMORY'] === '1') {
  test('memory per connection after one message each way, wsflow vs ws', async () => {
    const require = createRequire(import.meta.url)
    const WsPmd = require(join(dirname(require.resolve('ws')), 'lib', 'permessage-deflate.js')) as new (options: object) => WsPerMessageDeflate
    const N = 1000
    const data = repetitive(4096)
    const peer = new PerMessageDeflate(DEFAULTS, 'server', {})
    const incoming = await peer.compress(data)
    const MiB = 1024 * 1024
    const measure = async (label: string, create: () => Promise<unknown>): Promise<void> => {
      gc()
      await sleep(50)
      gc()
      const before = process.memoryUsage()
      const keep: unknown[] = []
      const start = performance.now()
      for (let i = 0; i < N; i++) keep.push(await create())
      const ms = performance.now() - start
      gc()
      await sleep(50)
      gc()
      const after = process.memoryUsage()
      const per = (a: number, b: number): string => `${((a - b) / N / 1024).toFixed(1)} KiB`
      console.log(`${label}: rss ${per(after.rss, before.rss)}, external ${per(after.external, before.external)}, heap ${per(after.heapUsed, before.heapUsed)} per connection; ${(ms / N * 1000).toFixed(0)} µs per connection`)
      void MiB
      return void keep.length
    }
    const wsflow = (noTakeover: boolean) => async (): Promise<unknown> => {
      const codec = new PerMessageDeflate({ ...DEFAULTS, serverNoContextTakeover: noTakeover, clientNoContextTakeover: noTakeover }, 'client', {})
      await codec.compress(data)
      await codec.decompress(incoming, true)
      return codec
    }
    const ws = (noTakeover: boolean) => async (): Promise<unknown> => {
      const pmd = new WsPmd({ isServer: false })
      pmd.accept([noTakeover ? { server_no_context_takeover: [true], client_no_context_takeover: [true] } : {}])
      await new Promise((resolve, reject) => pmd.compress(Buffer.from(data), true, (e, r) => (e ? reject(e) : resolve(r))))
      await new Promise((resolve, reject) => pmd.decompress(Buffer.from(incoming), true, (e, r) => (e ? reject(e) : resolve(r))))
      return pmd
    }
    // Alternated and repeated: the first rounds also pay for the allocator's growth.
    for (let round = 0; round < 2; round++) {
      for (const noTakeover of [false, true]) {
        const mode = noTakeover ? 'no takeover' : 'takeover'
        await measure(`ws     ${mode}`, ws(noTakeover))
        await measure(`wsflow ${mode}`, wsflow(noTakeover))
      }
    }
    peer.release()
  })
}

test('the inflated bytes all connections hold are bounded for the process: past the limit an inflation fails with 1013', async () => {
  setInflateMemoryLimit(1024 * 1024)
  try {
    // Three connections each with the first fragment of a bomb (600 KiB of zeros) inflated and held.
    const bomb = zlib.deflateRawSync(new Uint8Array(600 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    const receivers = [pair().server, pair().server, pair().server]
    assert.is(await receivers[0]!.decompress(bomb, false), undefined)
    assert.is(getZlibActivity().inflating, 600 * 1024)
    const second = await receivers[1]!.decompress(bomb, false).then(() => undefined, (error: unknown) => error)
    assert.instance(second, ProtocolError)
    assert.is((second as ProtocolError).code, 'WS_ERR_INFLATE_MEMORY')
    assert.is((second as ProtocolError).closeCode, 1013)
    // What the failed inflation held is given back; the first still holds its 600 KiB.
    assert.is(getZlibActivity().inflating, 600 * 1024)
    // Over the bound, a small message still inflates: the connections holding much are refused.
    const small = pair()
    setInflateMemoryLimit(512 * 1024)
    same((await transfer(small.client, small.server, utf8('still here')))!, utf8('still here'), 'a small message over the bound')
    setInflateMemoryLimit(1024 * 1024)
    small.client.release()
    small.server.release()
    const done = await receivers[0]!.decompress(TRAILER.subarray(0, 0), true)
    assert.is(done!.length, 600 * 1024)
    assert.is(getZlibActivity().inflating, 0)
    // With the memory back, another connection inflates as before.
    assert.is((await receivers[2]!.decompress(bomb, true))!.length, 600 * 1024)
    assert.is(getZlibActivity().inflating, 0)
    for (const receiver of receivers) receiver.release()
  } finally {
    setInflateMemoryLimit(DEFAULT_INFLATE_MEMORY_LIMIT)
  }
  throwsError(() => setInflateMemoryLimit(-1), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  throwsError(() => setInflateMemoryLimit(1.5), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

test.run()
