/**
 * permessage-deflate (RFC 7692) parameter negotiation, sans-I/O: the client's offer, the server's
 * choice of an offer and its response, and the client's validation of that response. The result of
 * either side is the same {@link DeflateParams}, from which the Node layer (src/node/deflate.ts)
 * builds its zlib objects.
 *
 * Directions: the `server_*` parameters govern what the server compresses (and the client
 * decompresses); the `client_*` parameters govern what the client compresses (RFC 7692 §7.1).
 *
 * Window bits 8: negotiated like any value from 8 to 15 in both directions. zlib (1.2.9 and later)
 * cannot compress with a 256-byte window and raises a request for 8 to 9, but its compressor never
 * emits a match farther than the window minus 262 bytes (MAX_DIST), i.e. 250 bytes back with a
 * 512-byte window: every back-reference fits the 256-byte window the peer declared. See
 * `deflateWindowBits` in src/node/deflate.ts, whose tests check the distances.
 * @module
 */

import { InvalidArgumentError, ProtocolError } from '../errors.ts'
import type { ExtensionOffer, ExtensionParam } from '../handshake/extensions.ts'

/** The extension token of RFC 7692 §7. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate'

/** The smallest LZ77 window RFC 7692 §7.1.2 allows, as a base-2 logarithm (256 bytes). */
export const MIN_WINDOW_BITS = 8

/** The largest LZ77 window, and the one used when none is negotiated (32 KiB; RFC 7692 §7.1.2). */
export const MAX_WINDOW_BITS = 15

/** The four extension parameters of RFC 7692 §7.1, by name. */
export const DeflateParam = {
  /** §7.1.1.1: the server does not keep its LZ77 window between messages. No value. */
  SERVER_NO_CONTEXT_TAKEOVER: 'server_no_context_takeover',
  /** §7.1.1.2: the client does not keep its LZ77 window between messages. No value. */
  CLIENT_NO_CONTEXT_TAKEOVER: 'client_no_context_takeover',
  /** §7.1.2.1: the largest window the server compresses with, 8-15. Always has a value. */
  SERVER_MAX_WINDOW_BITS: 'server_max_window_bits',
  /** §7.1.2.2: the largest window the client compresses with, 8-15; valueless in an offer only. */
  CLIENT_MAX_WINDOW_BITS: 'client_max_window_bits',
} as const

/** A parameter name of RFC 7692 §7.1. */
export type DeflateParam = (typeof DeflateParam)[keyof typeof DeflateParam]

/**
 * What this endpoint wants or accepts, as a client (what it offers and will take) or as a server
 * (what it adds to or requires of an offer). Window bits are base-2 logarithms, 8 to 15.
 */
export interface PerMessageDeflateOptions {
  /**
   * Client: ask the server not to keep its window between messages (the server must agree).
   * Server: never keep the window between messages, even if the client did not ask.
   */
  serverNoContextTakeover?: boolean | undefined
  /**
   * Client: promise not to keep the window between messages. Server: require the client not to
   * (RFC 7692 §7.1.1.2 lets the server add this to any response).
   */
  clientNoContextTakeover?: boolean | undefined
  /**
   * Client: the largest window the server may compress with (bounds this client's inflater
   * memory); a response that does not honour it fails the connection. Server: the largest window
   * it compresses with (bounds its deflater memory). Default: 15.
   */
  serverMaxWindowBits?: number | undefined
  /**
   * Client: `true` (the default) offers `client_max_window_bits` without a value, so that the
   * server may pick the window the client compresses with; a number also promises to compress
   * with at most that window. Server: a number is the largest window the client may compress with
   * (bounds this server's inflater memory); an offer that does not let the server say so is
   * declined. `true` on a server means no requirement.
   */
  clientMaxWindowBits?: number | true | undefined
}

/**
 * The agreed parameters of one connection. Each endpoint compresses with its own side's
 * parameters and decompresses with the peer's. Window bits are 8-15 (15 when not negotiated).
 */
export interface DeflateParams {
  /** The server resets its compression context after each message (RFC 7692 §7.1.1.1). */
  serverNoContextTakeover: boolean
  /** The client resets its compression context after each message (RFC 7692 §7.1.1.2). */
  clientNoContextTakeover: boolean
  /** The largest window the server compresses with, as a base-2 logarithm (RFC 7692 §7.1.2.1). */
  serverMaxWindowBits: number
  /** The largest window the client compresses with, as a base-2 logarithm (RFC 7692 §7.1.2.2). */
  clientMaxWindowBits: number
}

/** Parameters as read from one offer or response; `true` is a valueless client_max_window_bits. */
interface ReadParams {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  serverMaxWindowBits: number | undefined
  clientMaxWindowBits: number | true | undefined
}

/**
 * Reads a window-bits value: a decimal integer from 8 to 15 without leading zeros (RFC 7692
 * §7.1.2.1, §7.1.2.2). A quoted value arrives here already unescaped (RFC 6455 §9.1). Returns
 * undefined for anything else ("08", "7", "16", "0x9", "abc", "").
 */
export function parseWindowBits(value: string): number | undefined {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined
}

/**
 * Reads the parameters of an offer (`side` 'offer') or a response ('response'). Returns a
 * description of the first problem instead of throwing, so that the server can decline an offer
 * and the client can fail the connection with it. RFC 7692 §5.1 (server) and §5 (client): an
 * unknown parameter, a parameter given twice or an invalid value makes the offer or the response
 * unacceptable.
 */
function readParams(params: readonly ExtensionParam[], side: 'offer' | 'response'): ReadParams | string {
  const read: ReadParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined }
  const seen = new Set<string>()
  for (const [name, value] of params) {
    // RFC 7692 §5.1 / §5: multiple extension parameters with the same name are not acceptable.
    if (seen.has(name)) return `duplicate parameter ${name}`
    seen.add(name)
    switch (name) {
      case DeflateParam.SERVER_NO_CONTEXT_TAKEOVER:
      case DeflateParam.CLIENT_NO_CONTEXT_TAKEOVER:
        // RFC 7692 §7.1.1.1, §7.1.1.2: these parameters have no value.
        if (value !== true) return `parameter ${name} must have no value`
        if (name === DeflateParam.SERVER_NO_CONTEXT_TAKEOVER) read.serverNoContextTakeover = true
        else read.clientNoContextTakeover = true
        break
      case DeflateParam.SERVER_MAX_WINDOW_BITS: {
        // RFC 7692 §7.1.2.1: server_max_window_bits always has a value, 8 to 15.
        const bits = value === true ? undefined : parseWindowBits(value)
        if (bits === undefined) return `invalid value for ${name}`
        read.serverMaxWindowBits = bits
        break
      }
      case DeflateParam.CLIENT_MAX_WINDOW_BITS: {
        // RFC 7692 §7.1.2.2: valueless in an offer ("the client supports it"); in a response it
        // has a value, 8 to 15.
        if (value === true && side === 'offer') {
          read.clientMaxWindowBits = true
          break
        }
        const bits = value === true ? undefined : parseWindowBits(value)
        if (bits === undefined) return `invalid value for ${name}`
        read.clientMaxWindowBits = bits
        break
      }
      default:
        // RFC 7692 §5.1 / §5: an extension parameter not defined for use in an offer / a response.
        return `unknown parameter ${name}`
    }
  }
  return read
}

/** Throws InvalidArgumentError for window bits outside 8-15 in this endpoint's own options. */
function checkOptions(options: PerMessageDeflateOptions): void {
  for (const [name, bits] of [['serverMaxWindowBits', options.serverMaxWindowBits], ['clientMaxWindowBits', options.clientMaxWindowBits]] as const) {
    if (bits === undefined || bits === true) continue
    if (!Number.isInteger(bits) || bits < MIN_WINDOW_BITS || bits > MAX_WINDOW_BITS) {
      throw new InvalidArgumentError(`permessage-deflate ${name} must be an integer from 8 to 15, not ${String(bits)}`)
    }
  }
}

/**
 * Client: the permessage-deflate offers to send, in order of preference (RFC 7692 §5). Throws
 * InvalidArgumentError for window bits outside 8-15.
 *
 * One offer, with a parameter for each option:
 *
 * | option                         | offer parameter                           |
 * | ------------------------------ | ----------------------------------------- |
 * | serverNoContextTakeover: true  | server_no_context_takeover                |
 * | clientNoContextTakeover: true  | client_no_context_takeover                |
 * | serverMaxWindowBits: n         | server_max_window_bits=n                  |
 * | clientMaxWindowBits: true/none | client_max_window_bits (the server picks) |
 * | clientMaxWindowBits: n         | client_max_window_bits=n                  |
 *
 * No fallback offer: the response does not say which offer it accepts (RFC 7692 §5), so with a
 * second offer without `server_max_window_bits` the client would have to accept a response to
 * either, and the memory bound that `serverMaxWindowBits` asks for could silently be lost. A
 * client that prefers compression at any window size over a bound leaves `serverMaxWindowBits`
 * unset. `client_max_window_bits` is always offered (as browsers do): the client can compress
 * with any window, and a server that bounds its inflater's memory declines offers without it.
 */
export function buildOffers(options: PerMessageDeflateOptions = {}): ExtensionOffer[] {
  checkOptions(options)
  const params: ExtensionParam[] = []
  if (options.serverNoContextTakeover === true) params.push([DeflateParam.SERVER_NO_CONTEXT_TAKEOVER, true])
  if (options.clientNoContextTakeover === true) params.push([DeflateParam.CLIENT_NO_CONTEXT_TAKEOVER, true])
  if (options.serverMaxWindowBits !== undefined) params.push([DeflateParam.SERVER_MAX_WINDOW_BITS, String(options.serverMaxWindowBits)])
  const client = options.clientMaxWindowBits ?? true
  params.push([DeflateParam.CLIENT_MAX_WINDOW_BITS, client === true ? true : String(client)])
  return [{ name: PERMESSAGE_DEFLATE, params }]
}

/**
 * Client: validates the server's permessage-deflate response to the offer {@link buildOffers}
 * made from the same `options`, and returns the agreed parameters. Throws a ProtocolError
 * `WS_ERR_EXTENSION` with close code 1010: the client fails the connection (RFC 7692 §5, RFC 6455
 * §7.4.1) when the response has an unknown or duplicate parameter, an invalid value, or a
 * configuration the offer did not allow. Throws InvalidArgumentError for an extension that is not
 * permessage-deflate or for invalid options.
 *
 * | response parameter           | offered (from options)         | result                                  |
 * | ---------------------------- | ------------------------------ | --------------------------------------- |
 * | server_no_context_takeover   | either                         | serverNoContextTakeover (§7.1.1.1 MAY)  |
 * | (absent)                     | server_no_context_takeover     | fail: a server accepting MUST include it |
 * | (absent)                     | (not offered)                  | server keeps its context                |
 * | client_no_context_takeover   | either                         | clientNoContextTakeover (§7.1.1.2)      |
 * | (absent)                     | client_no_context_takeover     | clientNoContextTakeover (our promise)   |
 * | server_max_window_bits=m     | server_max_window_bits=n       | m <= n: m; m > n: fail (§7.1.2.1)       |
 * | server_max_window_bits=m     | (not offered)                  | m (the server limits itself, §7.1.2.1)  |
 * | (absent)                     | server_max_window_bits=n       | fail: accepting MUST include it         |
 * | (absent)                     | (not offered)                  | 15                                      |
 * | client_max_window_bits=m     | client_max_window_bits         | m (the server picked, §7.1.2.2)         |
 * | client_max_window_bits=m     | client_max_window_bits=n       | m <= n: m; m > n: fail                  |
 * | client_max_window_bits       | either                         | fail: a response needs a value          |
 * | (absent)                     | client_max_window_bits=n       | n (our promise, §7.1.2.2)               |
 * | (absent)                     | client_max_window_bits         | 15                                      |
 */
export function acceptResponse(response: ExtensionOffer, options: PerMessageDeflateOptions = {}): DeflateParams {
  checkOptions(options)
  if (response.name !== PERMESSAGE_DEFLATE) throw new InvalidArgumentError(`not a permessage-deflate response: ${response.name}`)
  const read = readParams(response.params, 'response')
  if (typeof read === 'string') throw fail(read)

  // RFC 7692 §7.1.1.1: a server that accepts an offer with server_no_context_takeover MUST
  // include it in its response; it MAY include it even if it was not offered.
  if (options.serverNoContextTakeover === true && !read.serverNoContextTakeover) {
    throw fail(`${DeflateParam.SERVER_NO_CONTEXT_TAKEOVER} was offered and not accepted`)
  }

  // RFC 7692 §7.1.2.1: a server accepts an offer with server_max_window_bits by including it
  // with the same or a smaller value; without an offer it may include any value 8-15.
  let serverMaxWindowBits = read.serverMaxWindowBits ?? MAX_WINDOW_BITS
  const offeredServerBits = options.serverMaxWindowBits
  if (offeredServerBits !== undefined) {
    if (read.serverMaxWindowBits === undefined) throw fail(`${DeflateParam.SERVER_MAX_WINDOW_BITS} was offered and not accepted`)
    if (read.serverMaxWindowBits > offeredServerBits) {
      throw fail(`${DeflateParam.SERVER_MAX_WINDOW_BITS}=${read.serverMaxWindowBits} is larger than the ${offeredServerBits} offered`)
    }
    serverMaxWindowBits = read.serverMaxWindowBits
  }

  // RFC 7692 §7.1.2.2: the response's client_max_window_bits (the offer always has the
  // parameter, see buildOffers) bounds the client's window; with a value in the offer, the
  // response may only lower it, and without one in the response the offered value stands.
  const offeredClientBits = options.clientMaxWindowBits ?? true
  let clientMaxWindowBits: number
  if (read.clientMaxWindowBits === undefined) {
    clientMaxWindowBits = offeredClientBits === true ? MAX_WINDOW_BITS : offeredClientBits
  } else {
    // readParams gives a response's client_max_window_bits a number (a valueless one fails).
    const bits = read.clientMaxWindowBits as number
    if (offeredClientBits !== true && bits > offeredClientBits) {
      throw fail(`${DeflateParam.CLIENT_MAX_WINDOW_BITS}=${bits} is larger than the ${offeredClientBits} offered`)
    }
    clientMaxWindowBits = bits
  }

  return {
    serverNoContextTakeover: read.serverNoContextTakeover,
    // RFC 7692 §7.1.1.2: offered, it is the client's promise even if the response omits it.
    clientNoContextTakeover: read.clientNoContextTakeover || options.clientNoContextTakeover === true,
    serverMaxWindowBits,
    clientMaxWindowBits,
  }
}

function fail(reason: string): ProtocolError {
  // RFC 7692 §5: the client MUST _Fail the WebSocket Connection_; 1010 says the extension the
  // client needed was not negotiated as it asked (RFC 6455 §7.4.1).
  return new ProtocolError('WS_ERR_EXTENSION', `invalid permessage-deflate response: ${reason}`, 1010)
}

/** The server's choice: the response to send for the accepted offer and the agreed parameters. */
export interface DeflateNegotiation {
  /** The permessage-deflate element of the Sec-WebSocket-Extensions response header. */
  response: ExtensionOffer
  /** The parameters agreed. */
  params: DeflateParams
}

/**
 * Server: picks the first acceptable permessage-deflate offer, in the client's order of preference
 * (RFC 7692 §5.1), and returns the response to send and the agreed parameters; undefined when no
 * offer is acceptable (the handshake goes on without compression). Offers of other extensions are
 * ignored. An offer with an unknown or duplicate parameter or an invalid value is declined (RFC
 * 7692 §5.1), and so is one that does not let the server bound the client's window when
 * `clientMaxWindowBits` asks for it. Throws InvalidArgumentError for invalid options.
 *
 * Each response parameter, by what the offer has and what the server's options say:
 *
 * | offer has                    | server option                  | response                      | agreed        |
 * | ---------------------------- | ------------------------------ | ----------------------------- | ------------- |
 * | server_no_context_takeover   | any                            | server_no_context_takeover    | true          |
 * | (absent)                     | serverNoContextTakeover: true  | server_no_context_takeover    | true          |
 * | (absent)                     | (unset)                        | -                             | false         |
 * | client_no_context_takeover   | any                            | client_no_context_takeover    | true          |
 * | (absent)                     | clientNoContextTakeover: true  | client_no_context_takeover    | true          |
 * | (absent)                     | (unset)                        | -                             | false         |
 * | server_max_window_bits=x     | serverMaxWindowBits: s         | server_max_window_bits=min    | min(s, x)     |
 * | server_max_window_bits=x     | (unset)                        | server_max_window_bits=x      | x             |
 * | (absent)                     | serverMaxWindowBits: s < 15    | server_max_window_bits=s      | s             |
 * | (absent)                     | (unset) or 15                  | -                             | 15            |
 * | client_max_window_bits=x     | clientMaxWindowBits: c         | client_max_window_bits=min    | min(c, x)     |
 * | client_max_window_bits=x     | (unset) or true                | -                             | x (promised)  |
 * | client_max_window_bits       | clientMaxWindowBits: c         | client_max_window_bits=c      | c             |
 * | client_max_window_bits       | (unset) or true                | -                             | 15            |
 * | (absent)                     | clientMaxWindowBits: c < 15    | decline the offer (§7.1.2.2)  | -             |
 * | (absent)                     | (unset), true or 15            | -                             | 15            |
 */
export function negotiate(offers: readonly ExtensionOffer[], options: PerMessageDeflateOptions = {}): DeflateNegotiation | undefined {
  checkOptions(options)
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue
    const read = readParams(offer.params, 'offer')
    // RFC 7692 §5.1: a server MUST decline an offer with an unknown or duplicate parameter or an
    // invalid value; it then considers the next offer.
    if (typeof read === 'string') continue
    const accepted = accept(read, options)
    if (accepted !== undefined) return accepted
  }
  return undefined
}

/** The server's response to one valid offer, or undefined to decline it. */
function accept(offer: ReadParams, options: PerMessageDeflateOptions): DeflateNegotiation | undefined {
  const params: ExtensionParam[] = []

  // RFC 7692 §7.1.1.1: accepting an offer with server_no_context_takeover, the server MUST include
  // it; it MAY include it in any response.
  const serverNoContextTakeover = offer.serverNoContextTakeover || options.serverNoContextTakeover === true
  if (serverNoContextTakeover) params.push([DeflateParam.SERVER_NO_CONTEXT_TAKEOVER, true])

  // RFC 7692 §7.1.1.2: the server MAY include client_no_context_takeover in any response; an
  // offer with it is the client's promise, echoed so that both sides say it.
  const clientNoContextTakeover = offer.clientNoContextTakeover || options.clientNoContextTakeover === true
  if (clientNoContextTakeover) params.push([DeflateParam.CLIENT_NO_CONTEXT_TAKEOVER, true])

  // RFC 7692 §7.1.2.1: with server_max_window_bits in the offer, the response MUST have it with the
  // same or a smaller value; without, the server MAY still limit its own window.
  const own = options.serverMaxWindowBits
  let serverMaxWindowBits = MAX_WINDOW_BITS
  if (offer.serverMaxWindowBits !== undefined) serverMaxWindowBits = Math.min(offer.serverMaxWindowBits, own ?? MAX_WINDOW_BITS)
  else if (own !== undefined) serverMaxWindowBits = own
  if (offer.serverMaxWindowBits !== undefined || serverMaxWindowBits < MAX_WINDOW_BITS) {
    params.push([DeflateParam.SERVER_MAX_WINDOW_BITS, String(serverMaxWindowBits)])
  }

  // RFC 7692 §7.1.2.2: without client_max_window_bits in the offer the response MUST NOT have it,
  // so a server that needs to bound the client's window declines such an offer. With a value, the
  // client compresses with at most that window whatever the response says.
  const wanted = options.clientMaxWindowBits === true ? undefined : options.clientMaxWindowBits
  let clientMaxWindowBits = MAX_WINDOW_BITS
  if (offer.clientMaxWindowBits === undefined) {
    if (wanted !== undefined && wanted < MAX_WINDOW_BITS) return undefined
  } else {
    const offered = offer.clientMaxWindowBits === true ? MAX_WINDOW_BITS : offer.clientMaxWindowBits
    clientMaxWindowBits = Math.min(offered, wanted ?? MAX_WINDOW_BITS)
    if (wanted !== undefined) params.push([DeflateParam.CLIENT_MAX_WINDOW_BITS, String(clientMaxWindowBits)])
  }

  return {
    response: { name: PERMESSAGE_DEFLATE, params },
    params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
  }
}
