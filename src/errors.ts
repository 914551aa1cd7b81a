/**
 * The one error type of simpatico-ws.
 *
 * Failures are values: the frame parser and the handshake validator report a `WebSocketError`
 * instead of throwing it, and the connection layer turns it into the right close code (RFC 6455
 * §7.4.1) or HTTP status (RFC 9110 §15). It extends `Error` so that it can also reject a promise
 * with a stack trace when it reaches user code.
 *
 * The codes are a closed set: one table per layer, each code naming one rule —
 * {@link FrameErrorCode} (src/frames/codes.ts), {@link HandshakeErrorCode} (src/handshake/codes.ts),
 * {@link ConnectionErrorCode} (src/connection/codes.ts), {@link DeflateErrorCode}
 * (src/deflate/codes.ts) and {@link RegistrationErrorCode} (src/registration/core/codes.ts).
 * `ErrorCode` is their union, so a typo is a type error.
 */
import type { FrameErrorCode } from './frames/codes.js';
import type { HandshakeErrorCode } from './handshake/codes.js';
import type { ConnectionErrorCode } from './connection/codes.js';
import type { RegistrationErrorCode } from './registration/core/codes.js';
import type { DeflateErrorCode } from './deflate/codes.js';

export type { FrameErrorCode, HandshakeErrorCode, ConnectionErrorCode, RegistrationErrorCode, DeflateErrorCode };

/** Every code a {@link WebSocketError} can carry. */
export type ErrorCode = FrameErrorCode | HandshakeErrorCode | ConnectionErrorCode | RegistrationErrorCode | DeflateErrorCode;

/** Who broke the rules: the peer's bytes (`remote`), or this side's own call or state (`local`). */
export type ErrorSide = 'local' | 'remote';

/** What a {@link WebSocketError} carries besides its code and message. `side` is always stated. */
export interface ErrorDetails {
  side: ErrorSide;
  closeCode?: number;
  status?: number;
  cause?: unknown;
}

export class WebSocketError<C extends ErrorCode = ErrorCode> extends Error {
  /** A stable machine-readable code, e.g. `WS_ERR_INVALID_UTF8`. Match on this, not on the message. */
  readonly code: C;
  /** The close code the connection sends because of this error (1002, 1007, 1008, 1009, 1011, …). */
  readonly closeCode: number | undefined;
  /** The HTTP status a handshake failure answers with (400, 403, 405, 426, 431, …). */
  readonly status: number | undefined;
  /**
   * Who broke the rules: `remote` for the peer's bytes (a bad frame, a bad request),
   * `local` for this side's own misuse or state (sending after close, an invalid option).
   */
  readonly side: ErrorSide;

  constructor(code: C, message: string, details: ErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = details.closeCode;
    this.status = details.status;
    this.side = details.side;
  }
}
