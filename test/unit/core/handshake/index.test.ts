import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as handshake from '../../../../src/core/handshake/index.ts'
import {
  HttpHeadParser, buildRequest, buildResponse, formatExtensions, generateKey, selectSubprotocol, validateRequest, validateResponse,
} from '../../../../src/core/handshake/index.ts'
import { latin1 } from './helpers.ts'

test('the index re-exports the public names', () => {
  const names = [
    'GUID', 'computeAccept', 'generateKey', 'decodeBase64', 'encodeBase64', 'buildRequest', 'validateResponse',
    'formatExtensions', 'parseExtensions', 'HttpHeaders', 'DEFAULT_HTTP_HEAD_LIMITS', 'HttpHeadParser',
    'buildErrorResponse', 'buildResponse', 'selectSubprotocol', 'validateRequest', 'sha1',
  ]
  assert.equal(Object.keys(handshake).sort(), [...names].sort())
})

test('a full opening handshake: client request -> server -> response -> client, frames after each head', () => {
  const key = generateKey()
  const extensions = formatExtensions([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }])
  const requestText = buildRequest({ host: 'localhost:8080', path: '/feed?x=1', key, protocols: ['v2', 'v1'], extensions, origin: 'https://app.example' })

  const serverParser = new HttpHeadParser({ kind: 'request' })
  const requestBytes = latin1(requestText)
  let requestHead
  for (let i = 0; i < requestBytes.length && requestHead === undefined; i += 5) requestHead = serverParser.push(requestBytes.subarray(i, i + 5))
  assert.ok(requestHead?.kind === 'request')
  if (requestHead?.kind !== 'request') return
  const request = validateRequest(requestHead)
  assert.is(request.path, '/feed?x=1')
  assert.is(request.origin, 'https://app.example')
  const protocol = selectSubprotocol(request.protocols, ['v1', 'v2'])
  assert.is(protocol, 'v1')
  const accepted = formatExtensions([{ name: request.extensions[0]?.name ?? '', params: [['server_no_context_takeover', true]] }])
  const responseText = buildResponse({ key: request.key, protocol, extensions: accepted })

  const clientParser = new HttpHeadParser({ kind: 'response' })
  const responseHead = clientParser.push(latin1(`${responseText}\x81\x02hi`))
  assert.ok(responseHead?.kind === 'response')
  if (responseHead?.kind !== 'response') return
  assert.equal([...clientParser.rest], [0x81, 0x02, 0x68, 0x69])
  const result = validateResponse(responseHead, { key, protocols: ['v2', 'v1'], extensions })
  assert.is(result.protocol, 'v1')
  assert.equal(result.extensions, [{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }])
})

test.run()
