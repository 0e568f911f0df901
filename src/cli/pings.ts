/**
 * The periodic ping of `--ping-interval`, shared by the piped and the interactive client.
 * @module
 */
import type { WebSocket } from '../index.ts'

/** Pings every `interval` ms while the connection is open (each ping waits at most `max(interval, 1 s)`); returns the stopper. */
export function startPings(ws: WebSocket, interval: number, print: (rtt: number) => void, onFailure: (error: unknown) => void): () => void {
  const timer = setInterval(() => {
    if (ws.readyState !== 'open') return
    ws.ping(undefined, { timeout: Math.max(interval, 1000) }).then(print, onFailure)
  }, interval)
  timer.unref()
  return () => clearInterval(timer)
}
