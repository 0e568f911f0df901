import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, ProtocolError } from '../../../src/core/errors.ts'
import { controlFrames } from '../../../src/transforms/control.ts'
import { bytes, concat } from '../../helpers/bytes.ts'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const masked = (b0: number, payload: Uint8Array): Uint8Array => concat(bytes(b0, 0x80 | payload.length, 0, 0, 0, 0), payload)
const hex = (chunks: Uint8Array[]): string => Buffer.from(concat(...chunks)).toString('hex')

test('controlFrames: pings between fragments are answered, messages come out in batches, the close is echoed and ends the stream', async () => {
  const written: Uint8Array[] = []
  const controls: string[] = []
  let ended = false
  const input = [
    concat(masked(0x01, utf8('he')), masked(0x89, utf8('p'))),
    concat(masked(0x80, utf8('llo')), masked(0x81, utf8('two'))),
    masked(0x88, bytes(0x03, 0xe8)),
    masked(0x81, utf8('never read')),
  ]
  const batches: string[][] = []
  for await (const batch of controlFrames({ role: 'server', write: (b) => written.push(b), end: () => (ended = true), onControl: (t) => controls.push(t) })(input)) {
    batches.push(batch.map((m) => m.text()))
  }
  assert.equal(batches, [['hello', 'two']])
  assert.equal(controls, ['ping', 'close'])
  assert.is(hex(written), '8a0170' + '880203e8', 'the pong, then the close echo')
  assert.ok(ended, 'the server half-closes after the close handshake')
})

test('controlFrames: a frame that breaks the RFC sends 1002 and throws; bytes that end without a close throw 1006', async () => {
  const written: Uint8Array[] = []
  let error: unknown
  try {
    for await (const _ of controlFrames({ role: 'server', write: (b) => written.push(b) })([bytes(0x81, 0x01, 0x61)])) void _
  } catch (e) {
    error = e
  }
  assert.instance(error, ProtocolError)
  assert.is(hex(written).slice(0, 8), '8810' + '03ea')
  let ended: unknown
  try {
    for await (const _ of controlFrames({ role: 'client', write: () => undefined })([])) void _
  } catch (e) {
    ended = e
  }
  assert.instance(ended, ConnectionClosedError)
  assert.is((ended as ConnectionClosedError).closeCode, 1006)
})

test('controlFrames: a client masks its answers; unsolicited pongs are reported only', async () => {
  const written: Uint8Array[] = []
  const controls: string[] = []
  const input = [bytes(0x8a, 0x00), bytes(0x89, 0x00), bytes(0x88, 0x00)]
  for await (const _ of controlFrames({ role: 'client', write: (b) => written.push(b), onControl: (t) => controls.push(t) })(input)) void _
  assert.equal(controls, ['pong', 'ping', 'close'])
  assert.is(written.length, 2)
  assert.is(written[0]![0], 0x8a)
  assert.is(written[0]![1], 0x80, 'masked, empty')
  assert.is(written[1]![0], 0x88)
})

test.run()
