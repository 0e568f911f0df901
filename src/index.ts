/**
 * wsflow: WebSocket (RFC 6455) for Node.js, where a connection is an async iterable of messages
 * and an async sink for outgoing data, built on a sans-I/O core and public it-pipe transforms.
 * @module wsflow
 */
export * from './core/index.ts'
export * from './transforms/index.ts'
