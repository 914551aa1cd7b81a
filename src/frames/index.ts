/**
 * The RFC 6455 frame codec: pure code, Buffers in, Buffers and values out, no I/O.
 *
 * Read in this order (each file comes after the files it imports):
 *
 * The rules, plainly:
 *   1. opcodes.ts         §5.2 opcodes and the `Frame` record
 *   2. codes.ts           the error table: one code per rule, each with its close code (§7.4.1)
 *   3. close.ts           §5.5.1, §7.4 close codes and Close payloads
 *   4. mask.ts            §5.3 masking, in three lines
 *   5. reference.ts       §5.2–§5.6 decoding a whole input at once: what the codec is tested against
 *
 * The codec, fast and incremental:
 *   6. mask-wasm-bytes.ts the assembled bytes of mask.wat (§5.3 in WebAssembly text: read that file)
 *   7. mask-wasm.ts       §5.3 again, 16 bytes at a time in WebAssembly SIMD, for large payloads
 *   8. mask-fast.ts       §5.3 again, 8 bytes at a time (and the choice of path by size)
 *   9. mask-key.ts        §5.3 masking keys from a strong random source
 *  10. encode.ts          §5.2 frame headers, written
 *  11. utf8.ts            §8.1 UTF-8 validation of text arriving in pieces
 *  12. decoder.ts         §5.2–§5.5 the frame state machine, bytes in any chunking
 *  13. payload-buffer.ts  a payload held while its pieces arrive, bounded by its bytes (§10.4)
 *  14. parser.ts          frames out (FrameParser)
 *  15. receiver.ts        §5.4 messages out (Receiver)
 */
export { DEFAULT_MAX_PAYLOAD, Opcode, isControlOpcode, isKnownOpcode, type Frame, type FrameBits } from './opcodes.js';
export { FrameErrorCode } from './codes.js';
export { CloseCode, MAX_CLOSE_REASON_BYTES, decodeClosePayload, encodeClosePayload, isValidCloseCode } from './close.js';
export { applyMask } from './mask.js';
export { decodeFrames, decodeMessages, type ReferenceEvent, type ReferenceOptions } from './reference.js';
export { mask, unmask } from './mask-fast.js';
export { encodeFrame, frameHeaderSize, writeFrameHeader, type EncodeOptions } from './encode.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export { FrameParser, type FrameParserOptions } from './parser.js';
export { Receiver, type ReceiverOptions, type ReceiverSink, type MessageInflater, type DecoderOptions } from './receiver.js';
