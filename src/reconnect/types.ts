/**
 * What the reconnecting client needs of a connection and of a `connect` function: the shape that
 * the Node client (`client/connect.ts`) and the browser client both have, so that one
 * implementation serves both.
 * @module
 */
import type { Message, Outgoing } from '../core/message.ts'
import type { CloseInfo } from '../core/transport.ts'

/** A connection as the reconnecting client uses it: wsflow's `WebSocket`, on Node or in the browser. */
export interface ReconnectableSocket extends AsyncIterable<Message> {
  /** `'connecting'`, `'open'`, `'closing'` or `'closed'`. */
  readonly readyState: string
  /** Resolves with how the connection ended. */
  readonly closed: Promise<CloseInfo>
  /** Sends a message; resolves when it is handed to the socket, rejects if it never can be. */
  send(data: Outgoing): Promise<void>
  /** Starts the closing handshake and resolves with how the connection ended. */
  close(code?: number, reason?: string): Promise<CloseInfo>
}

/** A `connect(url, options)` function: wsflow's Node client or its browser client. */
export type ConnectFunction<W extends ReconnectableSocket, O> = (url: string | URL, options: O) => Promise<W>
