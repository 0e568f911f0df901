/**
 * The opening handshake of RFC 6455 (§4), sans-I/O: accept keys, the HTTP head parser, request
 * and response building and validation, subprotocol selection and the Sec-WebSocket-Extensions
 * grammar.
 * @module
 */

export { GUID, computeAccept, generateKey } from './accept.ts'
export type { Sha1Function } from './accept.ts'
export { decodeBase64, encodeBase64 } from './base64.ts'
export { buildRequest, validateResponse } from './client.ts'
export type { BuildRequestOptions, HandshakeResponse, ResponseHead, ValidateResponseOptions } from './client.ts'
export { formatExtensions, parseExtensions } from './extensions.ts'
export type { ExtensionOffer, ExtensionParam } from './extensions.ts'
export { HttpHeaders } from './headers.ts'
export type { HeaderField } from './headers.ts'
export { DEFAULT_HTTP_HEAD_LIMITS, HttpHeadParser } from './http-head.ts'
export type { HttpHead, HttpHeadLimits, HttpHeadParserOptions, HttpRequestHead, HttpResponseHead } from './http-head.ts'
export { buildErrorResponse, buildResponse, selectSubprotocol, validateRequest } from './server.ts'
export type { BuildResponseOptions, HandshakeRequest, RequestHead } from './server.ts'
export { sha1 } from './sha1.ts'
