/**
 * ws's internal Receiver and unmask, loaded by file path: ws's package "exports" only expose its
 * entry point, so `ws/lib/receiver.js` cannot be imported by name.
 * @module
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'

const require = createRequire(import.meta.url)
const wsLib = join(dirname(require.resolve('ws')), 'lib')

/** Options of ws's Receiver (lib/receiver.js), as far as the benches use them. */
export interface ReceiverOptions {
  isServer?: boolean
  maxPayload?: number
  skipUTF8Validation?: boolean
  allowSynchronousEvents?: boolean
}

/** ws's frame parser and message assembler: a Writable fed with socket chunks, emitting 'message'. */
export interface WsReceiver extends Writable {
  _write(chunk: Buffer, encoding: string, callback: (error?: Error | null) => void): void
}

/** The Receiver class of the installed ws. */
export const Receiver = require(join(wsLib, 'receiver.js')) as new (options?: ReceiverOptions) => WsReceiver

/** ws's unmask (lib/buffer-util.js): native bufferutil from 32 bytes when installed, else a JS byte loop. */
export const wsUnmask = (require(join(wsLib, 'buffer-util.js')) as { unmask(buffer: Buffer, mask: Buffer): void }).unmask
