/**
 * The stable error codes the frame codec reports, and the close code each one maps to
 * (RFC 6455 §7.4.1): protocol errors close with 1002, invalid text with 1007, anything over the
 * configured limits with 1009.
 */
import { WebSocketError } from '../errors.js';

export const FrameErrorCode = {
  /** §5.1: a server received an unmasked frame. 1002. */
  ExpectedMask: 'WS_ERR_EXPECTED_MASK',
  /** §5.1: a client received a masked frame. 1002. */
  UnexpectedMask: 'WS_ERR_UNEXPECTED_MASK',
  /** §5.2: RSV1, RSV2 or RSV3 set with no extension claiming it. 1002. */
  UnexpectedRsv: 'WS_ERR_UNEXPECTED_RSV',
  /** §5.2: a reserved opcode (3–7, 11–15). 1002. */
  InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
  /** §5.5: a control frame without FIN. 1002. */
  FragmentedControlFrame: 'WS_ERR_FRAGMENTED_CONTROL_FRAME',
  /**
   * §5.5: a control frame payload over 125 bytes: received, 1002; a ping or pong payload this side
   * was asked to send, thrown locally (by the connection layer).
   */
  ControlFrameTooBig: 'WS_ERR_CONTROL_FRAME_TOO_BIG',
  /** §5.2: a 64-bit payload length with its most significant bit set. 1002. */
  InvalidPayloadLength: 'WS_ERR_INVALID_PAYLOAD_LENGTH',
  /** §5.4: a continuation frame with no fragmented message to continue. 1002. */
  UnexpectedContinuation: 'WS_ERR_UNEXPECTED_CONTINUATION',
  /** §5.4: a new Text or Binary frame while a fragmented message is still open. 1002. */
  ExpectedContinuation: 'WS_ERR_EXPECTED_CONTINUATION',
  /** §5.6, §8.1: a text message or close reason that is not valid UTF-8. 1007. */
  InvalidUtf8: 'WS_ERR_INVALID_UTF8',
  /** §10.4: a message over `maxPayload` (or a length JavaScript cannot count, over 2^53). 1009. */
  MessageTooBig: 'WS_ERR_MESSAGE_TOO_BIG',
  /** §5.5.1: a Close payload of exactly 1 byte. 1002. */
  InvalidClosePayload: 'WS_ERR_INVALID_CLOSE_PAYLOAD',
  /** §7.4: a close code that may not be sent (1004–1006, 1015, < 1000, 1016–2999, ≥ 5000). 1002, or thrown locally. */
  InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
  /** §5.5: a close reason over 123 UTF-8 bytes would not fit a control frame. Thrown locally. */
  CloseReasonTooLong: 'WS_ERR_CLOSE_REASON_TOO_LONG',
  /** An option of the Receiver or FrameParser of the wrong type, out of range, or unknown. Thrown locally. */
  InvalidOption: 'WS_ERR_INVALID_OPTION',
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

/** A failure caused by the peer's bytes: RFC 6455 §7.1.7 "Fail the WebSocket Connection" with `closeCode`. */
export function remoteError(code: FrameErrorCode, closeCode: number, message: string): WebSocketError {
  return new WebSocketError(code, message, { closeCode, side: 'remote' });
}

/** A misuse of the API by this side (thrown, never sent on the wire). */
export function localError(code: FrameErrorCode, message: string): WebSocketError {
  return new WebSocketError(code, message, { side: 'local' });
}
