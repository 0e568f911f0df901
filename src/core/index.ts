/**
 * wsflow's sans-I/O protocol core: frames, masking, UTF-8, close payloads, message assembly and
 * fragmentation, the opening handshake and errors. No I/O, no `node:*`, no timers: it runs in
 * Node, browsers and workers alike.
 * @module wsflow/core
 */
export { ByteQueue, EMPTY } from './byte-queue.ts'
export { concatBytes } from './bytes.ts'
export { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE, MAX_CONTROL_PAYLOAD, NEED_MORE, Opcode, isControlOpcode, type NeedMore } from './constants.ts'
export { FrameDecoder, PIECE_SIZE, Rsv, parseFrames, type DecodeOptions, type DecodeProgress } from './decoder.ts'
export { encodeFrame, frameHeaderLength, generateMaskingKey, writeFrame, writeFrameHeader, writeFrameTo, writeMaskingKey, type EncodeOptions, type FrameOutput } from './encoder.ts'
export { mask, maskInto } from './mask.ts'
export { createFrame, type Frame } from './frame.ts'
export { Message, toMessage, type MessageType, type Outgoing } from './message.ts'
export { MessageAssembler, type AssembleOptions } from './assembler.ts'
export { fragmentMessage } from './fragmenter.ts'
export { Utf8Validator, isValidUtf8 } from './utf8.ts'
export * from './close-payload.ts'
export * from './errors.ts'
export * from './handshake/index.ts'
export * from './deflate/index.ts'
export { Protocol, SEND_EOF, type CloseFrame, type CloseOutcome, type ProtocolEvent, type ProtocolHandler, type ProtocolOptions, type ProtocolOutput, type ReadyState } from './protocol.ts'
export { PreparedMessage, prepareMessage } from './prepared.ts'
export { DEFAULTS } from './defaults.ts'
export type { CloseInfo, MessageCodec, RequestInfo, Transport, TransportHandlers } from './transport.ts'
