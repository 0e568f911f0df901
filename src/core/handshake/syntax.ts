/**
 * Small pieces of HTTP syntax (RFC 9110 §5.5, §5.6) shared by the handshake modules.
 * @module
 */

import { InvalidArgumentError } from '../errors.ts'

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
const TCHAR: Uint8Array = (() => {
  const table = new Uint8Array(128)
  const chars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1
  return table
})()

/** Returns true if `code` is a tchar (RFC 9110 §5.6.2). */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1
}

/** Returns true if `text` is a token (RFC 9110 §5.6.2: token = 1*tchar). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false
  return true
}

/** Returns true if `text` holds only visible ASCII characters (VCHAR, RFC 5234 §B.1): no space, control or non-ASCII. */
export function isVisibleAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code <= 0x20 || code >= 0x7f) return false
  }
  return true
}

/** Returns true for optional whitespace, SP or HTAB (RFC 9110 §5.6.3). */
export function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/**
 * Returns true if `text` is a valid field value (RFC 9110 §5.5): field-vchar (VCHAR / obs-text),
 * SP and HTAB only, so no NUL, CR, LF or other control character, and no char above U+00FF.
 */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) return false
  }
  return true
}

/** Removes leading and trailing OWS (SP and HTAB, RFC 9110 §5.6.3); unlike trim() it keeps other spaces. */
export function trimWhitespace(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && isWhitespace(text.charCodeAt(start))) start++
  while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

/**
 * Splits a comma-separated list (RFC 9110 §5.6.1: `#element`), trimming OWS around elements and
 * dropping empty ones, as a recipient MUST accept and ignore them.
 */
export function splitList(value: string): string[] {
  const elements: string[] = []
  for (const part of value.split(',')) {
    const element = trimWhitespace(part)
    if (element !== '') elements.push(element)
  }
  return elements
}

/** Returns true if the comma-separated list `value` holds `token`, compared ASCII case-insensitively. */
export function hasListToken(value: string, token: string): boolean {
  const wanted = token.toLowerCase()
  return splitList(value).some((element) => element.toLowerCase() === wanted)
}

/**
 * Checks application-supplied header fields before they are serialised, and returns them as lines
 * `Name: value\r\n`; throws InvalidArgumentError on a name that is not a token, a value with CR,
 * LF, NUL or another control character (header injection), or a name in `reserved`.
 */
export function formatHeaderLines(headers: Iterable<readonly [string, string]>, reserved: ReadonlySet<string>): string {
  let lines = ''
  for (const [name, value] of headers) {
    if (!isToken(name)) throw new InvalidArgumentError(`invalid header name ${JSON.stringify(name)}`)
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new InvalidArgumentError(`invalid value for header ${name}: CR, LF, NUL and control characters are not allowed`)
    }
    if (reserved.has(name.toLowerCase())) throw new InvalidArgumentError(`header ${name} is set by the handshake and cannot be overridden`)
    lines += `${name}: ${trimWhitespace(value)}\r\n`
  }
  return lines
}

/** Throws InvalidArgumentError unless `value` is a valid field value (see {@link isFieldValue}). */
export function assertFieldValue(what: string, value: string): void {
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new InvalidArgumentError(`invalid ${what}: CR, LF, NUL and control characters are not allowed`)
  }
}
