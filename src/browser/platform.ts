/**
 * The parts of the browser's `WebSocket` and `WebSocketStream` that the browser client uses,
 * typed here (the project compiles without the DOM library) and found on `globalThis` at run time.
 * @module
 */

/** The events of the platform `WebSocket` that the client listens to. */
export interface PlatformEvent {
  readonly type: string
}

/** A `message` event: a string for a text message, an ArrayBuffer for binary (binaryType 'arraybuffer'). */
export interface PlatformMessageEvent extends PlatformEvent {
  readonly data: unknown
}

/** A `close` event. */
export interface PlatformCloseEvent extends PlatformEvent {
  readonly code: number
  readonly reason: string
  readonly wasClean: boolean
}

/** The platform `WebSocket` (WHATWG HTML, "The WebSocket interface"). */
export interface PlatformWebSocket {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  readonly protocol: string
  readonly extensions: string
  send(data: string | ArrayBufferView | ArrayBuffer): void
  close(code?: number, reason?: string): void
  addEventListener(type: string, listener: (event: never) => void): void
  removeEventListener(type: string, listener: (event: never) => void): void
}

/** The platform `WebSocket` constructor. */
export type PlatformWebSocketConstructor = new (url: string, protocols?: string | string[]) => PlatformWebSocket

/** What `WebSocketStream.opened` resolves with. */
export interface WebSocketStreamConnection {
  readonly readable: { getReader(): { read(): Promise<{ done: boolean; value?: unknown }>; cancel(reason?: unknown): Promise<void>; releaseLock(): void } }
  readonly writable: { getWriter(): PlatformWriter }
  readonly protocol: string
  readonly extensions: string
}

/** A `WritableStreamDefaultWriter` of a WebSocketStream. */
export interface PlatformWriter {
  readonly desiredSize: number | null
  readonly ready: Promise<void>
  write(chunk: string | Uint8Array): Promise<void>
  releaseLock(): void
}

/** What `WebSocketStream.closed` resolves with. */
export interface WebSocketStreamCloseInfo {
  readonly closeCode?: number
  readonly reason?: string
}

/** The platform `WebSocketStream` (WHATWG WebSockets, "The WebSocketStream interface"; Chromium 124+). */
export interface PlatformWebSocketStream {
  readonly opened: Promise<WebSocketStreamConnection>
  readonly closed: Promise<WebSocketStreamCloseInfo>
  close(closeInfo?: { closeCode?: number; reason?: string }): void
}

/** The platform `WebSocketStream` constructor. */
export type PlatformWebSocketStreamConstructor = new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }) => PlatformWebSocketStream

/** The platform `WebSocket` constructor, or undefined where there is none. */
export function platformWebSocket(): PlatformWebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: PlatformWebSocketConstructor }).WebSocket
}

/** The platform `WebSocketStream` constructor, or undefined where there is none (`typeof WebSocketStream`). */
export function platformWebSocketStream(): PlatformWebSocketStreamConstructor | undefined {
  return (globalThis as { WebSocketStream?: PlatformWebSocketStreamConstructor }).WebSocketStream
}
