/**
 * Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).
 *
 * A Close payload is empty, or a 2-byte big-endian status code followed by a UTF-8 reason. The whole
 * payload is a control frame payload, so at most 125 bytes: the reason gets at most 123.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocketError } from '../errors.js';
import { FrameErrorCode, localError, remoteError } from './codes.js';

/** Status codes of RFC 6455 §7.4.1 and the IANA registry (§11.7). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** §7.4.1: reported locally when a Close frame had no code; never sent. */
  NoStatus: 1005,
  /** §7.4.1: reported locally when the connection dropped without a Close frame; never sent. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** §7.4.1: reported locally when the TLS handshake failed; never sent. */
  TlsHandshake: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Longest reason that fits a control frame: 125 bytes of payload minus the 2-byte code (§5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether `code` may appear in a Close frame on the wire (RFC 6455 §7.4): 1000–1003 and
 * 1007–1014 (defined or registered), 3000–3999 (registered by libraries and frameworks) and
 * 4000–4999 (private use). 1004 is reserved, 1005, 1006 and 1015 are for local reporting only,
 * and 0–999, 1016–2999 and ≥ 5000 are not used.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * The payload of a Close frame: empty when `code` is undefined (§5.5.1 allows a body-less Close),
 * otherwise the 2-byte code then the UTF-8 reason. Throws a `WebSocketError` with side `'local'`
 * (`WS_ERR_INVALID_CLOSE_CODE`) for a code that may not be sent or a reason without a code, and
 * (`WS_ERR_CLOSE_REASON_TOO_LONG`) for a reason over 123 UTF-8 bytes.
 */
export function encodeClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '') {
      throw localError(FrameErrorCode.InvalidCloseCode, 'A close reason needs a close code (RFC 6455 §5.5.1).');
    }
    return EMPTY;
  }
  if (!isValidCloseCode(code)) {
    throw localError(
      FrameErrorCode.InvalidCloseCode,
      `Close code ${code} may not be sent: use 1000–1003, 1007–1014 or 3000–4999 (RFC 6455 §7.4).`,
    );
  }
  const reasonBytes = Buffer.byteLength(reason);
  if (reasonBytes > MAX_CLOSE_REASON_BYTES) {
    throw localError(
      FrameErrorCode.CloseReasonTooLong,
      `The close reason is ${reasonBytes} UTF-8 bytes; at most ${MAX_CLOSE_REASON_BYTES} fit a control frame (RFC 6455 §5.5).`,
    );
  }
  const payload = Buffer.allocUnsafe(2 + reasonBytes);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/**
 * Decodes a received Close payload (RFC 6455 §5.5.1). Empty → `{ code: 1005, reason: '' }` (§7.1.5:
 * no status code was received). A 1-byte payload or a code that may not be sent → a
 * `WebSocketError` with closeCode 1002; a reason that is not UTF-8 → closeCode 1007 (§8.1).
 */
export function decodeClosePayload(payload: Buffer): { code: number; reason: string } | WebSocketError {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (payload.length === 1) {
    return remoteError(
      FrameErrorCode.InvalidClosePayload,
      CloseCode.ProtocolError,
      'Invalid Close frame: a 1-byte payload cannot hold the 2-byte status code (RFC 6455 §5.5.1).',
    );
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    return remoteError(
      FrameErrorCode.InvalidCloseCode,
      CloseCode.ProtocolError,
      `Invalid Close frame: status code ${code} may not be sent (RFC 6455 §7.4).`,
    );
  }
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) {
    return remoteError(
      FrameErrorCode.InvalidUtf8,
      CloseCode.InvalidPayload,
      'Invalid Close frame: the reason is not valid UTF-8 (RFC 6455 §5.5.1).',
    );
  }
  return { code, reason: reason.toString('utf8') };
}
