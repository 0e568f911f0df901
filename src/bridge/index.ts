/**
 * Bridges between WebSockets and byte streams: {@link bridge} for a WebSocket and a TCP socket,
 * and the it-pipe duplexes {@link webSocketBytes} and {@link streamDuplex}.
 * @module
 */
export { bridge, type BridgeOptions, type BridgeResult } from './bridge.ts'
export { streamDuplex, webSocketBytes, type ByteDuplex } from './duplex.ts'
