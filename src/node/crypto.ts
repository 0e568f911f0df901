import { createHash } from 'node:crypto'

/** SHA-1 through Node's crypto module (native), for the handshake's accept key. */
export function nodeSha1(data: Uint8Array): Uint8Array {
  return createHash('sha1').update(data).digest()
}
