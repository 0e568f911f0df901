/**
 * The legacy opening handshakes on a socket the server handed over: hybi-07/08 answered as RFC
 * 6455 (the same Sec-WebSocket-Accept), hixie-76 once the 8 bytes of key3 after the head have
 * arrived (they may come in a later packet), hixie-75 at once; then the connection.
 * @module
 */
import type { ConnectionOptions } from '../connection/options.ts'
import { WebSocket } from '../connection/websocket.ts'
import { HandshakeError } from '../core/errors.ts'
import { computeAccept } from '../core/handshake/accept.ts'
import { buildResponse } from '../core/handshake/server.ts'
import { buildHixieResponse, computeHixie76Answer, HIXIE_76_KEY3_LENGTH, HixieVersion, hixieLocation, validateHixieRequest } from '../core/legacy/hixie-handshake.ts'
import { validateHybiRequest } from '../core/legacy/hybi-handshake.ts'
import { detectLegacyVersion, LegacyVersion } from '../core/legacy/versions.ts'
import { allocateUninitialized } from '../node/allocate.ts'
import { nodeSha1 } from '../node/crypto.ts'
import type { Duplex, IncomingMessage, Socket } from '../node/platform.ts'
import { toRequestHead, toRequestInfo } from '../node/request.ts'
import { SocketTransport } from '../node/transport.ts'
import type { LegacyUpgradeContext } from '../server/server.ts'
import { HixieTransport } from './hixie-transport.ts'

/** Completes a legacy handshake of one of `enabled`, or returns undefined for a request of another version. */
export async function upgradeLegacy(enabled: readonly LegacyVersion[], request: IncomingMessage, socket: Duplex, head: Uint8Array, context: LegacyUpgradeContext): Promise<WebSocket | undefined> {
  const requestHead = toRequestHead(request)
  const version = detectLegacyVersion(requestHead)
  if (version === undefined || !enabled.includes(version)) return undefined
  const info = toRequestInfo(request)
  const { options, init } = context
  if (version === LegacyVersion.HYBI_07 || version === LegacyVersion.HYBI_08) {
    const hybi = validateHybiRequest(requestHead)
    const accepted = await context.verify(info, hybi.origin)
    if (socket.destroyed) return undefined
    socket.write(buildResponse({ accept: computeAccept(hybi.key, nodeSha1), headers: accepted?.headers }), 'latin1')
    const tcp = socket as Socket
    if (tcp.timeout !== undefined && tcp.timeout > 0) tcp.setTimeout(0)
    // hybi-07/08 frame as RFC 6455 does; compression was not in those drafts' handshake here.
    return new WebSocket(new SocketTransport(tcp), { role: 'server', request: info, head, ...init, data: accepted?.data }, options, allocateUninitialized)
  }
  const hixie = validateHixieRequest(requestHead)
  const accepted = await context.verify(info, hixie.origin)
  let rest = head
  let answer: Uint8Array | undefined
  if (hixie.version === HixieVersion.HIXIE_76) {
    const key3 = await readKey3(socket, head)
    answer = computeHixie76Answer(hixie.key1!, hixie.key2!, key3.key)
    rest = key3.rest
  }
  if (socket.destroyed) return undefined
  socket.write(buildHixieResponse({ version: hixie.version, origin: hixie.origin, location: hixieLocation(hixie, context.secure), protocol: hixie.protocol, answer, headers: accepted?.headers }))
  const tcp = socket as Socket
  if (tcp.timeout !== undefined && tcp.timeout > 0) tcp.setTimeout(0)
  const hixieOptions: ConnectionOptions = { ...options, stallTimeout: 0, streaming: false }
  const transport = new HixieTransport(new SocketTransport(tcp), hixie.version, rest, options.maxMessageSize ?? 64 * 1024 * 1024)
  const ws = new WebSocket(transport, { role: 'server', request: info, protocol: hixie.protocol ?? '', ...init, data: accepted?.data }, hixieOptions, allocateUninitialized)
  tcp.resume() // paused while key3 was read, so that no byte was lost before the transport listened
  return ws
}

/** Reads the 8 bytes of hixie-76's key3 that follow the request head (some may have come with it). */
function readKey3(socket: Duplex, head: Uint8Array): Promise<{ key: Uint8Array; rest: Uint8Array }> {
  if (head.length >= HIXIE_76_KEY3_LENGTH) return Promise.resolve({ key: head.subarray(0, HIXIE_76_KEY3_LENGTH), rest: head.subarray(HIXIE_76_KEY3_LENGTH) })
  return new Promise((resolve, reject) => {
    let received = head
    const onData = (chunk: Uint8Array): void => {
      const joined = new Uint8Array(received.length + chunk.length)
      joined.set(received)
      joined.set(chunk, received.length)
      received = joined
      if (received.length < HIXIE_76_KEY3_LENGTH) return
      done()
      socket.pause()
      resolve({ key: received.subarray(0, HIXIE_76_KEY3_LENGTH), rest: received.subarray(HIXIE_76_KEY3_LENGTH) })
    }
    const onClose = (): void => {
      done()
      reject(new HandshakeError('the client closed before sending the 8 bytes of key3', 400))
    }
    const done = (): void => {
      socket.off('data', onData)
      socket.off('close', onClose)
    }
    // The server's handshake deadline (408) bounds the wait.
    socket.on('data', onData)
    socket.on('close', onClose)
    socket.resume()
  })
}
