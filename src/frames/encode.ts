/**
 * Encoding frames (RFC 6455 §5.2): the header fields drawn in reference.ts, written in the order a
 * receiver reads them, with the shortest length form §5.2 requires.
 *
 * The header is built apart from the payload, so that a large payload is never copied just to
 * prepend a few bytes: the caller hands `[header, payload]` to `socket.writev` (or cork + write).
 */
import { mask } from './mask-fast.js';
import { writeMaskKey } from './mask-key.js';

/** Largest length a JavaScript number counts exactly; the 64-bit form's MSB is then always 0 (§5.2). */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/** Bytes the header of a frame with this payload length takes (2, 4 or 10, plus 4 when masked). */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  // §5.2: 0–125 fit the 7-bit field; up to 65535 use the 16-bit form (126); the rest the 64-bit form (127).
  return (payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header at `target[offset]`; when `masked`, appends a fresh 4-byte key from the
 * pooled random source (the key is then at `target[end - 4 .. end)`). Returns the offset just past
 * the header. Always uses the shortest length form, as §5.2 requires ("the minimal number of bytes
 * MUST be used"). Throws a RangeError for a length that is not a safe non-negative integer.
 */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  fin: boolean,
  opcode: number,
  payloadLength: number,
  masked: boolean,
  rsv1 = false,
): number {
  if (!(payloadLength >= 0 && payloadLength <= MAX_LENGTH && Number.isInteger(payloadLength))) {
    throw new RangeError(`Invalid payload length ${payloadLength}: expected an integer from 0 to 2^53 - 1.`);
  }
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let at = offset + 2;
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength < 65536) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
    at += 2;
  } else {
    target[offset + 1] = maskBit | 127;
    // §5.2: a 64-bit unsigned length, network byte order, most significant bit 0 (true below 2^53).
    target.writeUInt32BE(Math.floor(payloadLength / 0x1_0000_0000), offset + 2);
    target.writeUInt32BE(payloadLength >>> 0, offset + 6);
    at += 8;
  }
  if (masked) {
    writeMaskKey(target, at);
    at += 4;
  }
  return at;
}

/** Options of {@link encodeFrame}. */
export interface EncodeOptions {
  /** FIN bit, default true: the last (or only) frame of a message (§5.4). */
  fin?: boolean;
  /** RSV1 bit, default false: set only when a negotiated extension says so (§5.2). */
  rsv1?: boolean;
  /** Mask the payload with a fresh key, default false. Clients MUST mask, servers MUST NOT (§5.1). */
  mask?: boolean;
}

/**
 * A whole frame as chunks for `writev`: `[header, payload]`, or just `[header]` when the payload is
 * empty. An unmasked payload is passed through, not copied; a masked frame gets a masked COPY, so
 * the caller's buffer is never mutated.
 */
export function encodeFrame(opcode: number, payload: Buffer, options?: EncodeOptions): Buffer[] {
  const fin = options === undefined || options.fin !== false;
  const rsv1 = options !== undefined && options.rsv1 === true;
  const masked = options !== undefined && options.mask === true;
  const length = payload.length;
  const header = Buffer.allocUnsafe(frameHeaderSize(length, masked));
  const end = writeFrameHeader(header, 0, fin, opcode, length, masked, rsv1);
  if (length === 0) return [header];
  if (!masked) return [header, payload];
  const copy = Buffer.allocUnsafe(length);
  mask(payload, header, end - 4, copy, 0);
  return [header, copy];
}
