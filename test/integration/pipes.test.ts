/**
 * The connection in pipelines: `ws.sink` with it-pipe (sends everything, then closes with 1000),
 * `ws` as an it-pipe source, and `ws.bytes()` through `stream.pipeline` into a file.
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { pipe } from 'it-pipe'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Message } from '../../src/index.ts'
import { PAIRS, withPair, type Peer } from '../helpers/peers.ts'
import { within } from '../helpers/timing.ts'

const decoder = new TextDecoder()

/** Both ends of a pair where `sender` is a wsflow peer. */
function wsflowSenders(pair: { client: Peer; server: Peer }): [Peer, Peer, string][] {
  const out: [Peer, Peer, string][] = []
  if (pair.client.impl === 'wsflow') out.push([pair.client, pair.server, `wsflow client → ${pair.server.impl} server`])
  if (pair.server.impl === 'wsflow') out.push([pair.server, pair.client, `wsflow server → ${pair.client.impl} client`])
  return out
}

for (const kind of PAIRS) {
  test(`[${kind.name}] await pipe(['a', 'b'], ws.sink) sends both, then closes with 1000`, async () => {
    for (const index of [0, 1]) {
      await withPair(kind, {}, async (pair) => {
        const entry = wsflowSenders(pair)[index]
        if (entry === undefined) return
        const [sender, receiver, label] = entry
        await within(pipe(['a', 'b'], sender.wsflow!.sink), 3000, 'pipe into sink')
        assert.is(decoder.decode((await receiver.receive()).data), 'a', label)
        assert.is(decoder.decode((await receiver.receive()).data), 'b', label)
        assert.equal(await receiver.receiveOrEnd(), { end: true, error: undefined }, `${label}: then the end`)
        assert.equal(await within(receiver.closed, 2000, 'receiver closed'), { code: 1000, reason: '', wasClean: true }, label)
        assert.is((await within(sender.closed, 2000, 'sender closed')).code, 1000, label)
      })
    }
  })

  test(`[${kind.name}] a sink whose source throws closes with 1011 and rethrows`, async () => {
    await withPair(kind, {}, async (pair) => {
      const [sender, receiver, label] = wsflowSenders(pair)[0]!
      async function* failing(): AsyncGenerator<string> {
        yield 'before'
        throw new Error('source failed')
      }
      let caught: unknown
      try {
        await within(sender.wsflow!.sink(failing()), 3000, 'sink')
      } catch (error) {
        caught = error
      }
      assert.instance(caught, Error, label)
      assert.is((caught as Error).message, 'source failed', label)
      assert.is(decoder.decode((await receiver.receive()).data), 'before', label)
      assert.is((await within(receiver.closed, 2000, 'closed')).code, 1011, label)
    })
  })
}

test('it-pipe: a wsflow server echoes through pipe(ws, transform, ws.sink)', async () => {
  const kind = PAIRS[2]! // ws client ↔ wsflow server
  await withPair(kind, {}, async (pair) => {
    const ws = pair.server.wsflow!
    const done = pipe(
      ws,
      async function* (source: AsyncIterable<Message>) {
        for await (const message of source) yield message.text().toUpperCase()
      },
      ws.sink,
    )
    for (const word of ['alpha', 'beta', 'ünïcode']) {
      await pair.client.send(word)
      assert.is(decoder.decode((await pair.client.receive()).data), word.toUpperCase())
    }
    pair.client.close(1000, 'enough')
    await within(done, 3000, 'pipe ends when the client closes')
    const info = await within(pair.client.closed, 2000, 'closed')
    assert.equal([info.code, info.wasClean], [1000, true])
    assert.equal(await within(pair.server.closed, 2000, 'closed'), { code: 1000, reason: 'enough', wasClean: true })
  })
})

for (const kind of PAIRS) {
  test(`[${kind.name}] bytes() piped with stream.pipeline into a file holds every payload`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wsflow-bytes-'))
    try {
      await withPair(kind, {}, async (pair) => {
        const receivers = [pair.client, pair.server].filter((p) => p.impl === 'wsflow')
        for (const [i, receiver] of receivers.entries()) {
          if (i > 0) return // one receiver per pair: the pair ends with the close
          const sender = receiver === pair.client ? pair.server : pair.client
          const file = join(dir, `capture-${receiver.role}.bin`)
          const parts = [new TextEncoder().encode('text part ✓\n'), Uint8Array.of(0, 1, 2, 255), new Uint8Array(200_000).fill(0x41), new Uint8Array(0)]
          const written = pipeline(receiver.wsflow!.bytes(), createWriteStream(file))
          for (const part of parts) await sender.send(part)
          sender.close(1000)
          await within(written, 5000, 'pipeline')
          const content = new Uint8Array(await readFile(file))
          const expected = Buffer.concat(parts)
          assert.is(content.length, expected.length, `${receiver.role}: length`)
          assert.ok(Buffer.compare(content, expected) === 0, `${receiver.role}: content`)
        }
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
}

test.run()
