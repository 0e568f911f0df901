/**
 * The opening handshake's nonce and proof: Sec-WebSocket-Key (RFC 6455 §4.1) and
 * Sec-WebSocket-Accept (RFC 6455 §4.2.2).
 * @module
 */

import { encodeBase64 } from './base64.ts'
import { sha1 } from './sha1.ts'

/** The globally unique identifier of RFC 6455 §1.3, appended to the key before hashing. */
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** A SHA-1 function: takes bytes and returns the 20-byte digest. */
export type Sha1Function = (data: Uint8Array) => Uint8Array

const encoder = new TextEncoder()

/**
 * Computes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4):
 * base64(SHA-1(key + GUID)).
 *
 * `key` is used exactly as received (RFC 6455 §4.2.2: without trimming or decoding). `hash`
 * defaults to the portable {@link sha1}; the Node layer passes the faster one of Node's crypto module.
 */
export function computeAccept(key: string, hash: Sha1Function = sha1): string {
  return encodeBase64(hash(encoder.encode(key + GUID)))
}

/**
 * Generates a Sec-WebSocket-Key: 16 bytes from the platform's CSPRNG, base64-encoded
 * (RFC 6455 §4.1: "a randomly selected 16-byte value ... base64-encoded").
 */
export function generateKey(): string {
  // RFC 6455 §4.1: the nonce MUST be selected randomly for each connection.
  return encodeBase64(globalThis.crypto.getRandomValues(new Uint8Array(16)))
}
