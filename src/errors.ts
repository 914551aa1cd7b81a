/**
 * The one error type of simpatico-ws.
 *
 * Failures are values: the frame parser and the handshake validator report a `WebSocketError`
 * instead of throwing it, and the connection layer turns it into the right close code (RFC 6455
 * §7.4.1) or HTTP status (RFC 9110 §15). It extends `Error` so that it can also reject a promise
 * with a stack trace when it reaches user code.
 */
export class WebSocketError extends Error {
  /** A stable machine-readable code, e.g. `WS_ERR_INVALID_UTF8`. Match on this, not on the message. */
  readonly code: string;
  /** The close code the connection sends because of this error (1002, 1007, 1008, 1009, 1011, …). */
  readonly closeCode: number | undefined;
  /** The HTTP status a handshake failure answers with (400, 403, 405, 426, 431, …). */
  readonly status: number | undefined;
  /**
   * Who broke the rules: `remote` for the peer's bytes (a bad frame, a bad request),
   * `local` for this side's own misuse or state (sending after close, an invalid option).
   */
  readonly side: 'local' | 'remote';

  constructor(
    code: string,
    message: string,
    details: { closeCode?: number; status?: number; side?: 'local' | 'remote'; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = details.closeCode;
    this.status = details.status;
    this.side = details.side ?? 'remote';
  }
}
