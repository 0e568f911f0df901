import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  acceptResponse,
  buildOffers,
  negotiate,
  parseWindowBits,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from '../../../../src/core/deflate/index.ts'
import { InvalidArgumentError, ProtocolError } from '../../../../src/core/errors.ts'
import { formatExtensions, parseExtensions, type ExtensionOffer } from '../../../../src/core/handshake/extensions.ts'
import { throwsError } from '../../../helpers/bytes.ts'

const DEFAULTS: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }

/** One extension element, e.g. `permessage-deflate; client_max_window_bits=10`. */
function ext(text: string): ExtensionOffer {
  const [offer] = parseExtensions(text)
  return offer!
}

// ------------------------------------------------------------------------------------------
// window bits

test('parseWindowBits: 8 to 15 as decimal without leading zeros; nothing else', () => {
  for (let bits = 8; bits <= 15; bits++) assert.is(parseWindowBits(String(bits)), bits)
  for (const bad of ['0', '7', '16', '08', '010', '015', 'abc', '', '9 ', ' 9', '+9', '9.0', '1e1', '0x9', '-8', '１０']) {
    assert.is(parseWindowBits(bad), undefined, bad)
  }
})

// ------------------------------------------------------------------------------------------
// client: offers

test('buildOffers: one offer, a parameter per option, client_max_window_bits always', () => {
  const cases: [PerMessageDeflateOptions | undefined, string][] = [
    [undefined, 'permessage-deflate; client_max_window_bits'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: true }, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_max_window_bits'],
    [{ clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover; client_max_window_bits'],
    [{ serverNoContextTakeover: false, clientNoContextTakeover: false }, 'permessage-deflate; client_max_window_bits'],
    [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits'],
    [
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 9 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9',
    ],
  ]
  for (const [options, expected] of cases) {
    const offers = buildOffers(options)
    assert.is(offers.length, 1)
    assert.is(formatExtensions(offers), expected, JSON.stringify(options))
  }
})

test('own options with window bits outside 8-15 are a programming error on every entry point', () => {
  for (const options of [{ serverMaxWindowBits: 7 }, { serverMaxWindowBits: 16 }, { clientMaxWindowBits: 0 }, { clientMaxWindowBits: 9.5 }, { serverMaxWindowBits: Number.NaN }]) {
    throwsError(() => buildOffers(options), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
    throwsError(() => acceptResponse(ext('permessage-deflate'), options), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
    throwsError(() => negotiate([ext('permessage-deflate')], options), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
  }
})

// ------------------------------------------------------------------------------------------
// client: responses

test('acceptResponse: valid responses and the parameters they agree on', () => {
  const cases: [string, PerMessageDeflateOptions, Partial<DeflateParams>][] = [
    ['permessage-deflate', {}, {}],
    // §7.1.1.1: the server may add server_no_context_takeover even if not offered.
    ['permessage-deflate; server_no_context_takeover', {}, { serverNoContextTakeover: true }],
    ['permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }, { serverNoContextTakeover: true }],
    // §7.1.1.2: the server may require client_no_context_takeover; offered, it holds anyway.
    ['permessage-deflate; client_no_context_takeover', {}, { clientNoContextTakeover: true }],
    ['permessage-deflate', { clientNoContextTakeover: true }, { clientNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }, { clientNoContextTakeover: true }],
    // §7.1.2.1: server_max_window_bits, offered or not.
    ['permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }, { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }, { serverMaxWindowBits: 9 }],
    ['permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }, { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_max_window_bits=12', {}, { serverMaxWindowBits: 12 }],
    ['permessage-deflate; server_max_window_bits="12"', {}, { serverMaxWindowBits: 12 }],
    // §7.1.2.2: client_max_window_bits, picked by the server or bounded by our value.
    ['permessage-deflate; client_max_window_bits=11', {}, { clientMaxWindowBits: 11 }],
    ['permessage-deflate; client_max_window_bits=8', { clientMaxWindowBits: true }, { clientMaxWindowBits: 8 }],
    ['permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }, { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 }, { clientMaxWindowBits: 9 }],
    ['permessage-deflate', { clientMaxWindowBits: 10 }, { clientMaxWindowBits: 10 }],
    [
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
      { serverNoContextTakeover: true, serverMaxWindowBits: 10 },
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
    ],
    // Parameter order does not matter.
    ['permessage-deflate; client_max_window_bits=9; server_max_window_bits=10', {}, { clientMaxWindowBits: 9, serverMaxWindowBits: 10 }],
  ]
  for (const [response, options, expected] of cases) {
    assert.equal(acceptResponse(ext(response), options), { ...DEFAULTS, ...expected }, `${response} with ${JSON.stringify(options)}`)
  }
})

test('acceptResponse: every invalid response fails with WS_ERR_EXTENSION and close code 1010', () => {
  const cases: [string, PerMessageDeflateOptions][] = [
    // RFC 7692 §5: unknown parameters.
    ['permessage-deflate; foo', {}],
    ['permessage-deflate; foo=1', {}],
    ['permessage-deflate; Server_No_Context_Takeover', {}],
    // duplicates
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}],
    ['permessage-deflate; client_no_context_takeover; client_no_context_takeover', {}],
    ['permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', {}],
    ['permessage-deflate; client_max_window_bits=10; client_max_window_bits=11', {}],
    // values where none belongs
    ['permessage-deflate; server_no_context_takeover=1', {}],
    ['permessage-deflate; client_no_context_takeover=true', {}],
    // invalid window bits
    ...['0', '7', '16', '08', 'abc', '"08"', '1O'].flatMap((v): [string, PerMessageDeflateOptions][] => [
      [`permessage-deflate; server_max_window_bits=${v}`, {}],
      [`permessage-deflate; client_max_window_bits=${v}`, {}],
    ]),
    // §7.1.2.1 / §7.1.2.2: a window parameter without a value in a response
    ['permessage-deflate; server_max_window_bits', {}],
    ['permessage-deflate; client_max_window_bits', {}],
    // §7.1.1.1: offered server_no_context_takeover, not confirmed
    ['permessage-deflate', { serverNoContextTakeover: true }],
    // §7.1.2.1: offered server_max_window_bits, not confirmed or larger
    ['permessage-deflate', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=15', { serverMaxWindowBits: 8 }],
    // §7.1.2.2: client_max_window_bits larger than the value offered
    ['permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 10 }],
  ]
  for (const [response, options] of cases) {
    let caught: unknown
    try {
      acceptResponse(ext(response), options)
    } catch (error) {
      caught = error
    }
    assert.instance(caught, ProtocolError, response)
    assert.is((caught as ProtocolError).code, 'WS_ERR_EXTENSION', response)
    assert.is((caught as ProtocolError).closeCode, 1010, response)
  }
})

test('acceptResponse: another extension is a programming error', () => {
  throwsError(() => acceptResponse(ext('x-webkit-deflate-frame')), InvalidArgumentError, 'WS_ERR_INVALID_ARGUMENT')
})

// ------------------------------------------------------------------------------------------
// server

interface ServerCase {
  offer: string
  options?: PerMessageDeflateOptions
  response: string | undefined
  params?: Partial<DeflateParams>
}

function checkServer(cases: ServerCase[]): void {
  for (const { offer, options, response, params } of cases) {
    const label = `${offer} with ${JSON.stringify(options ?? {})}`
    const result = negotiate(parseExtensions(offer), options)
    if (response === undefined) {
      assert.is(result, undefined, label)
      continue
    }
    assert.ok(result, label)
    assert.is(formatExtensions([result!.response]), response, label)
    assert.equal(result!.params, { ...DEFAULTS, ...params }, label)
  }
}

test('negotiate: no context takeover, offered or required by the server', () => {
  checkServer([
    { offer: 'permessage-deflate', response: 'permessage-deflate' },
    // §7.1.1.1: offered, it MUST be in the response; the server MAY add it anyway.
    { offer: 'permessage-deflate; server_no_context_takeover', response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    { offer: 'permessage-deflate', options: { serverNoContextTakeover: true }, response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    { offer: 'permessage-deflate; server_no_context_takeover', options: { serverNoContextTakeover: false }, response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    // §7.1.1.2: the client's hint is echoed; the server MAY require it.
    { offer: 'permessage-deflate; client_no_context_takeover', response: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    { offer: 'permessage-deflate', options: { clientNoContextTakeover: true }, response: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    {
      offer: 'permessage-deflate; client_no_context_takeover; server_no_context_takeover',
      response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      params: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    },
  ])
})

test('negotiate: server_max_window_bits offered is an upper bound; the server may lower its own window', () => {
  checkServer([
    // §7.1.2.1: offered, the response has the same or a smaller value.
    { offer: 'permessage-deflate; server_max_window_bits=10', response: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; server_max_window_bits=8', response: 'permessage-deflate; server_max_window_bits=8', params: { serverMaxWindowBits: 8 } },
    { offer: 'permessage-deflate; server_max_window_bits=15', response: 'permessage-deflate; server_max_window_bits=15', params: {} },
    { offer: 'permessage-deflate; server_max_window_bits=10', options: { serverMaxWindowBits: 9 }, response: 'permessage-deflate; server_max_window_bits=9', params: { serverMaxWindowBits: 9 } },
    { offer: 'permessage-deflate; server_max_window_bits=10', options: { serverMaxWindowBits: 12 }, response: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    // not offered: the server may limit itself
    { offer: 'permessage-deflate', options: { serverMaxWindowBits: 11 }, response: 'permessage-deflate; server_max_window_bits=11', params: { serverMaxWindowBits: 11 } },
    { offer: 'permessage-deflate', options: { serverMaxWindowBits: 15 }, response: 'permessage-deflate', params: {} },
  ])
})

test('negotiate: client_max_window_bits, chosen by the server or bounded by the offer', () => {
  checkServer([
    // offered without a value: the server may pick one (§7.1.2.2)
    { offer: 'permessage-deflate; client_max_window_bits', response: 'permessage-deflate', params: {} },
    { offer: 'permessage-deflate; client_max_window_bits', options: { clientMaxWindowBits: true }, response: 'permessage-deflate', params: {} },
    { offer: 'permessage-deflate; client_max_window_bits', options: { clientMaxWindowBits: 10 }, response: 'permessage-deflate; client_max_window_bits=10', params: { clientMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; client_max_window_bits', options: { clientMaxWindowBits: 8 }, response: 'permessage-deflate; client_max_window_bits=8', params: { clientMaxWindowBits: 8 } },
    // offered with a value: the client's promise; the server may lower it
    { offer: 'permessage-deflate; client_max_window_bits=12', response: 'permessage-deflate', params: { clientMaxWindowBits: 12 } },
    { offer: 'permessage-deflate; client_max_window_bits=12', options: { clientMaxWindowBits: 10 }, response: 'permessage-deflate; client_max_window_bits=10', params: { clientMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; client_max_window_bits=9', options: { clientMaxWindowBits: 13 }, response: 'permessage-deflate; client_max_window_bits=9', params: { clientMaxWindowBits: 9 } },
    // not offered: the response MUST NOT have it, so a server that needs a bound declines
    { offer: 'permessage-deflate', options: { clientMaxWindowBits: 10 }, response: undefined },
    { offer: 'permessage-deflate', options: { clientMaxWindowBits: 15 }, response: 'permessage-deflate', params: {} },
    { offer: 'permessage-deflate', options: { clientMaxWindowBits: true }, response: 'permessage-deflate', params: {} },
  ])
})

test('negotiate: an offer with an unknown, duplicate or invalid parameter is declined', () => {
  const invalid = [
    'permessage-deflate; foo',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
    'permessage-deflate; server_max_window_bits=10; server_max_window_bits=11',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover=x',
    'permessage-deflate; server_max_window_bits',
    ...['0', '7', '16', '08', 'abc', '"08"'].flatMap((v) => [`permessage-deflate; server_max_window_bits=${v}`, `permessage-deflate; client_max_window_bits=${v}`]),
  ]
  checkServer(invalid.map((offer) => ({ offer, response: undefined })))
})

test('negotiate: offers are considered in the client\'s order; the first acceptable one wins', () => {
  checkServer([
    // a bad first offer is declined and the second accepted
    {
      offer: 'permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits',
      response: 'permessage-deflate',
      params: {},
    },
    {
      offer: 'permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate; client_max_window_bits',
      response: 'permessage-deflate; server_max_window_bits=10',
      params: { serverMaxWindowBits: 10 },
    },
    // an offer the server cannot accept (no client_max_window_bits) is declined for the next
    {
      offer: 'permessage-deflate; server_no_context_takeover, permessage-deflate; client_max_window_bits',
      options: { clientMaxWindowBits: 9 },
      response: 'permessage-deflate; client_max_window_bits=9',
      params: { clientMaxWindowBits: 9 },
    },
    // other extensions are skipped
    { offer: 'x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover', response: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    { offer: 'x-webkit-deflate-frame', response: undefined },
    { offer: 'permessage-deflate; foo, permessage-deflate; bar', response: undefined },
  ])
  assert.is(negotiate([]), undefined)
})

test('a response negotiated by the server is accepted by the client, for every combination', () => {
  const bools = [undefined, true]
  const bits = [undefined, 8, 10, 15]
  let count = 0
  for (const sNct of bools) for (const cNct of bools) for (const sBits of bits) for (const cBits of [...bits, true as const]) {
    const client: PerMessageDeflateOptions = { serverNoContextTakeover: sNct, clientNoContextTakeover: cNct, serverMaxWindowBits: sBits, clientMaxWindowBits: cBits }
    for (const server of [{}, { serverNoContextTakeover: true, serverMaxWindowBits: 9 }, { clientNoContextTakeover: true, clientMaxWindowBits: 9 }] as PerMessageDeflateOptions[]) {
      // Through the header text, as on the wire.
      const offers = parseExtensions(formatExtensions(buildOffers(client)))
      const negotiated = negotiate(offers, server)
      assert.ok(negotiated)
      const accepted = acceptResponse(parseExtensions(formatExtensions([negotiated!.response]))[0]!, client)
      assert.equal(accepted, negotiated!.params, `${JSON.stringify(client)} / ${JSON.stringify(server)}`)
      // The agreed windows respect both sides' bounds.
      if (sBits !== undefined) assert.ok(accepted.serverMaxWindowBits <= sBits)
      if (typeof cBits === 'number') assert.ok(accepted.clientMaxWindowBits <= cBits)
      if (server.serverMaxWindowBits !== undefined) assert.ok(accepted.serverMaxWindowBits <= server.serverMaxWindowBits)
      if (typeof server.clientMaxWindowBits === 'number') assert.ok(accepted.clientMaxWindowBits <= server.clientMaxWindowBits)
      count++
    }
  }
  assert.is(count, 2 * 2 * 4 * 5 * 3)
})

test.run()
