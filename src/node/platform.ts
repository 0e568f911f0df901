/**
 * The parts of Node's platform that the server, the client and the one-port server use (HTTP and
 * HTTPS servers, TCP and TLS sockets, streams), in one place: `node/` is the only folder that
 * imports `node:*`, so the layers above it name what they need of the platform here.
 * @module
 */
export { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
export { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
export { connect as netConnect, createServer as createNetServer, isIP, type AddressInfo, type LookupFunction, type NetConnectOpts, type Server as NetServer, type Socket } from 'node:net'
export { Duplex, PassThrough } from 'node:stream'
export { connect as tlsConnect, createSecureContext, TLSSocket, type ConnectionOptions as TlsConnectionOptions, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls'
