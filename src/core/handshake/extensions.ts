/**
 * The Sec-WebSocket-Extensions header field (RFC 6455 §9.1): parsing offers and responses, and
 * serialising them.
 *
 * ```
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-token = registered-token
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 * @module
 */

import { HandshakeError, InvalidArgumentError } from '../errors.ts'
import { isToken, isTokenChar, isWhitespace } from './syntax.ts'

/** One extension parameter: [name, value], the value `true` when the parameter has none. */
export type ExtensionParam = [name: string, value: string | true]

/**
 * One extension in a Sec-WebSocket-Extensions list: its name and its parameters in order,
 * duplicates kept (an extension such as permessage-deflate must reject duplicate parameters).
 */
export interface ExtensionOffer {
  /** The extension token, e.g. `permessage-deflate`. */
  name: string
  /** The parameters in the order sent, e.g. `[['client_max_window_bits', true]]`. */
  params: ExtensionParam[]
}

const COMMA = 0x2c
const SEMICOLON = 0x3b
const EQUALS = 0x3d
const DQUOTE = 0x22
const BACKSLASH = 0x5c

function invalid(reason: string): HandshakeError {
  return new HandshakeError(`invalid Sec-WebSocket-Extensions header: ${reason}`, 400)
}

/**
 * Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1) into its extensions, in order; several
 * offers of one extension stay separate, in the client's order of preference. Several header
 * fields are parsed as one value joined with ", " (RFC 9110 §5.3). Empty list elements are
 * ignored (RFC 9110 §5.6.1), so an empty value gives an empty list. Throws HandshakeError 400 on
 * bad syntax.
 */
export function parseExtensions(value: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = []
  const length = value.length
  let i = 0

  const skipWhitespace = (): void => {
    while (i < length && isWhitespace(value.charCodeAt(i))) i++
  }
  const readToken = (what: string): string => {
    const start = i
    while (i < length && isTokenChar(value.charCodeAt(i))) i++
    if (i === start) throw invalid(`expected ${what} at offset ${i}`)
    return value.slice(start, i)
  }
  // RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
  const readQuotedString = (): string => {
    i++ // the opening DQUOTE
    let text = ''
    while (i < length) {
      let code = value.charCodeAt(i++)
      if (code === DQUOTE) return text
      if (code === BACKSLASH) {
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (i === length) break
        code = value.charCodeAt(i++)
        if (!isQuotedPairChar(code)) throw invalid('invalid character in quoted-string')
      } else if (!isQuotedTextChar(code)) {
        throw invalid('invalid character in quoted-string')
      }
      text += String.fromCharCode(code)
    }
    throw invalid('unterminated quoted-string')
  }

  for (;;) {
    skipWhitespace()
    if (i === length) break
    // RFC 9110 §5.6.1: a recipient MUST accept empty list elements and ignore them.
    if (value.charCodeAt(i) === COMMA) {
      i++
      continue
    }
    const name = readToken('an extension token')
    const params: ExtensionParam[] = []
    skipWhitespace()
    while (i < length && value.charCodeAt(i) === SEMICOLON) {
      i++
      skipWhitespace()
      const paramName = readToken('a parameter name')
      let paramValue: string | true = true
      skipWhitespace()
      if (i < length && value.charCodeAt(i) === EQUALS) {
        i++
        skipWhitespace()
        if (i < length && value.charCodeAt(i) === DQUOTE) {
          paramValue = readQuotedString()
          // RFC 6455 §9.1: with the quoted-string syntax, the value after unescaping MUST conform
          // to the token ABNF.
          if (!isToken(paramValue)) throw invalid(`quoted value of ${paramName} is not a token`)
        } else {
          paramValue = readToken(`a value for ${paramName}`)
        }
        skipWhitespace()
      }
      params.push([paramName, paramValue])
    }
    offers.push({ name, params })
    if (i < length) {
      if (value.charCodeAt(i) !== COMMA) throw invalid(`unexpected character at offset ${i}`)
      i++
    }
  }
  return offers
}

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4). */
function isQuotedTextChar(code: number): boolean {
  return code === 0x09 || code === 0x20 || code === 0x21 || (code >= 0x23 && code <= 0x5b) ||
    (code >= 0x5d && code <= 0x7e) || (code >= 0x80 && code <= 0xff)
}

/** The char after "\" in a quoted-pair: HTAB / SP / VCHAR / obs-text (RFC 9110 §5.6.4). */
function isQuotedPairChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff)
}

/**
 * Serialises extensions as a Sec-WebSocket-Extensions value (RFC 6455 §9.1), e.g.
 * `permessage-deflate; client_max_window_bits, permessage-deflate`. A value that is not a token is
 * written as a quoted-string with `"` and `\` escaped. Throws InvalidArgumentError on a name that is
 * not a token or a value with control characters.
 */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers.map(formatExtension).join(', ')
}

function formatExtension(offer: ExtensionOffer): string {
  if (!isToken(offer.name)) throw new InvalidArgumentError(`invalid extension name ${JSON.stringify(offer.name)}`)
  let text = offer.name
  for (const [name, value] of offer.params) {
    if (!isToken(name)) throw new InvalidArgumentError(`invalid parameter name ${JSON.stringify(name)} in extension ${offer.name}`)
    text += `; ${name}`
    if (value === true) continue
    if (isToken(value)) {
      text += `=${value}`
      continue
    }
    let quoted = '="'
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i)
      if (!isQuotedPairChar(code)) throw new InvalidArgumentError(`invalid value for parameter ${name} in extension ${offer.name}`)
      quoted += code === DQUOTE || code === BACKSLASH ? `\\${value.charAt(i)}` : value.charAt(i)
    }
    text += `${quoted}"`
  }
  return text
}
