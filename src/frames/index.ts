/**
 * The RFC 6455 frame codec: pure code, Buffers in, Buffers and values out, no I/O.
 *
 * Read in this order: opcodes.ts (§5.2), encode.ts (§5.2 header), mask.ts (§5.3), decoder.ts
 * (§5.2–5.5 frame rules), parser.ts (frames), receiver.ts (§5.4 messages), utf8.ts (§8.1),
 * close.ts (§5.5.1, §7.4), codes.ts (the error table).
 */
export { DEFAULT_MAX_PAYLOAD, Opcode, isControlOpcode, isKnownOpcode, type Frame } from './opcodes.js';
export { CloseCode, MAX_CLOSE_REASON_BYTES, decodeClosePayload, encodeClosePayload, isValidCloseCode } from './close.js';
export { FrameErrorCode } from './codes.js';
export { encodeFrame, frameHeaderSize, writeFrameHeader, type EncodeOptions } from './encode.js';
export { mask, unmask } from './mask.js';
export { FrameParser, type FrameParserOptions } from './parser.js';
export { DEFAULT_MAX_FRAGMENTS, Receiver, type ReceiverOptions, type ReceiverSink } from './receiver.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
