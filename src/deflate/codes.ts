/**
 * The stable error codes of permessage-deflate's codec (RFC 7692 §7.2), and the close code each
 * maps to. A message inflated past `maxPayload` is the frames layer's own rule (RFC 6455 §10.4)
 * and keeps its code, WS_ERR_MESSAGE_TOO_BIG with 1009, so a user matches one code for "too big"
 * whether the message came compressed or not.
 */
import { WebSocketError, type ErrorDetails } from '../errors.js';

export const DeflateErrorCode = {
  /** §7.2.2: a compressed message that is not valid DEFLATE data (zlib refused it). 1007. */
  InvalidCompressedData: 'WS_ERR_INVALID_COMPRESSED_DATA',
  /** The running Node.js lacks the zlib internals the codec drives (see engine.ts). Thrown locally. */
  ZlibUnsupported: 'WS_ERR_ZLIB_UNSUPPORTED',
  /** A Deflater or Inflater used after `close()`: a local bug. Thrown locally. */
  CodecClosed: 'WS_ERR_CODEC_CLOSED',
} as const;
export type DeflateErrorCode = (typeof DeflateErrorCode)[keyof typeof DeflateErrorCode];

/** Makes an error with one of this table's codes. */
export function deflateError(code: DeflateErrorCode, message: string, details: ErrorDetails): WebSocketError {
  return new WebSocketError(code, message, details);
}
