import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { hasListToken, isFieldValue, isToken, splitList, trimWhitespace } from '../../../../src/core/handshake/syntax.ts'

test('tokens (RFC 9110 §5.6.2)', () => {
  for (const t of ['a', 'websocket', "!#$%&'*+-.^_`|~09AZaz"]) assert.ok(isToken(t), t)
  for (const t of ['', 'a b', 'a,b', 'a;b', 'a"', 'a(', 'a/b', 'a:b', 'a=b', 'é', 'a\x00', 'a\x7f']) assert.not.ok(isToken(t), t)
})

test('field values (RFC 9110 §5.5)', () => {
  for (const v of ['', 'a b\tc', '\xe9\xff', '~']) assert.ok(isFieldValue(v), v)
  for (const v of ['\r', '\n', '\x00', '\x1f', '\x7f', '\u0100']) assert.not.ok(isFieldValue(v), JSON.stringify(v))
})

test('lists (RFC 9110 §5.6.1) and OWS', () => {
  assert.equal(splitList(' a ,\t, b,,c\t'), ['a', 'b', 'c'])
  assert.equal(splitList(''), [])
  assert.ok(hasListToken('keep-alive, UPGRADE', 'upgrade'))
  assert.not.ok(hasListToken('keep-alive upgrade', 'upgrade'))
  assert.is(trimWhitespace(' \t a b \t '), 'a b')
  assert.is(trimWhitespace('\u00a0a\u00a0'), '\u00a0a\u00a0')
  assert.is(trimWhitespace(' \t '), '')
})

test.run()
