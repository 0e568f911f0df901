import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HttpHeaders } from '../../../../src/core/handshake/headers.ts'
import * as legacy from '../../../../src/core/legacy/index.ts'
import { LegacyVersion, detectLegacyVersion, unsupportedVersionError } from '../../../../src/core/legacy/versions.ts'

const detect = (fields: [string, string][]): LegacyVersion | undefined => detectLegacyVersion({ headers: new HttpHeaders(fields) })
const UPGRADE: [string, string] = ['Upgrade', 'WebSocket']

test('detectLegacyVersion: the table of the module', () => {
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Key', 'k'], ['Sec-WebSocket-Version', '13']]), undefined)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Version', '9']]), undefined)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Version', '8'], ['Sec-WebSocket-Version', '8']]), undefined)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Version', '8']]), LegacyVersion.HYBI_08)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Version', '7']]), LegacyVersion.HYBI_07)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Key1', '1 '], ['Sec-WebSocket-Key2', '1 ']]), LegacyVersion.HIXIE_76)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Key2', '1 ']]), LegacyVersion.HIXIE_76)
  assert.is(detect([UPGRADE]), LegacyVersion.HIXIE_75)
  assert.is(detect([['upgrade', 'websocket']]), LegacyVersion.HIXIE_75)
  assert.is(detect([UPGRADE, ['Sec-WebSocket-Key', 'k']]), undefined, 'an RFC 6455 request without its version')
  assert.is(detect([['Upgrade', 'h2c']]), undefined)
  assert.is(detect([]), undefined)
})

test('unsupportedVersionError: 426 with 13, and 8 and 7 when enabled', () => {
  const plain = unsupportedVersionError()
  assert.is(plain.status, 426)
  assert.is(plain.code, 'WS_ERR_UNSUPPORTED_VERSION')
  assert.equal({ ...plain.headers }, { 'sec-websocket-version': '13' })
  assert.equal({ ...unsupportedVersionError([LegacyVersion.HIXIE_76, LegacyVersion.HYBI_08]).headers }, { 'sec-websocket-version': '13, 8' })
  assert.equal({ ...unsupportedVersionError(Object.values(LegacyVersion)).headers }, { 'sec-websocket-version': '13, 8, 7' })
})

test('index exports every part', () => {
  for (const name of ['md5', 'validateHixieRequest', 'computeHixie76Answer', 'buildHixieResponse', 'hixieLocation', 'HixieDecoder', 'parseHixieFrames', 'encodeHixieText', 'encodeHixieClose', 'validateHybiRequest', 'detectLegacyVersion', 'unsupportedVersionError', 'LegacyVersion', 'HixieVersion', 'HIXIE_76_KEY3_LENGTH']) {
    assert.ok(name in legacy, `${name} exported`)
  }
})

test('src/core/legacy imports no node:*, uses no Buffer and no timers', () => {
  const dir = fileURLToPath(new URL('../../../../src/core/legacy/', import.meta.url))
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  assert.ok(files.length >= 6, files.join(', '))
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8')
    assert.not.match(source, /from\s+['"]node:/, `${file}: node:* import`)
    assert.not.match(source, /\bBuffer\b/, `${file}: Buffer`)
    assert.not.match(source, /\b(setTimeout|setInterval|setImmediate)\b/, `${file}: timers`)
  }
})

test.run()
