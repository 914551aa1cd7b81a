/**
 * The reference decoder: RFC 6455 §5.2–§5.6 read straight off the page, a whole input at once.
 *
 * Start reading here. This file is written to be followed, not to be fast: it walks the input one
 * frame at a time, checks each rule where the RFC states it, and copies what it keeps. The codec
 * proper (decoder.ts, parser.ts, receiver.ts) applies exactly the same rules to bytes that arrive
 * in any chunking, without copying; the tests hold it to this file, input by input
 * (test/fuzz/frames.test.ts).
 *
 * A frame on the wire (§5.2):
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *     | |1|2|3|       |K|             |                               |
 *     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *     |     Extended payload length continued, if payload len == 127  |
 *     + - - - - - - - - - - - - - - - +-------------------------------+
 *     |                               |Masking-key, if MASK set to 1  |
 *     +-------------------------------+-------------------------------+
 *     | Masking-key (continued)       |          Payload Data         |
 *     +-------------------------------- - - - - - - - - - - - - - - - +
 *
 * Rules are checked in the order their fields come on the wire, so the first rule a frame breaks is
 * the error reported: the first two bytes (RSV bits, opcode, the control frame rules, MASK), then
 * the length, then what the frame means for the message around it (§5.4) and the size limit
 * (§10.4) — all before a single payload byte is looked at — then the payload (UTF-8, §8.1; the Close
 * payload, §5.5.1). Bytes at the end that do not complete a frame are not decoded, except that
 * text already known to be invalid fails at once (§8.1 allows failing as soon as it is known).
 */
import { TextDecoder } from 'node:util';
import { WebSocketError } from '../errors.js';
import { CloseCode, isValidCloseCode } from './close.js';
import { FrameErrorCode as E, remoteError } from './codes.js';
import { applyMask } from './mask.js';
import { DEFAULT_MAX_PAYLOAD, type Frame, type FrameBits, Opcode, isControlOpcode, isKnownOpcode } from './opcodes.js';

/** Options of the reference decoder: the same meaning as the Receiver's and FrameParser's. */
export interface ReferenceOptions {
  /** §5.1: a server fails unmasked frames, a client fails masked ones. */
  role: 'server' | 'client';
  /** Largest message (for {@link decodeMessages}) or frame payload (for {@link decodeFrames}); default 1 MiB. */
  maxPayload?: number;
  /** An extension (permessage-deflate, RFC 7692) has claimed RSV1; default false. */
  allowRsv1?: boolean;
}

/** What {@link decodeMessages} finds, in order. */
export type ReferenceEvent =
  | { type: 'message'; data: Buffer; binary: boolean; rsv1: boolean }
  | { type: 'ping'; payload: Buffer }
  | { type: 'pong'; payload: Buffer }
  | { type: 'close'; code: number; reason: string };

/**
 * Decodes `input` into frames, checking only what one frame can break on its own (§5.1, §5.2,
 * §5.5 and `maxPayload` per frame): what a {@link FrameParser} reports. Stops at the first broken
 * rule, whose error (with its close code) is returned after the frames before it.
 */
export function decodeFrames(input: Buffer, options: ReferenceOptions): { frames: Frame[]; error: WebSocketError | undefined } {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    const header = readHeader(input, at, options);
    if (header === undefined) return { frames, error: undefined };
    if (!('fin' in header)) return { frames, error: header };
    if (header.length > maxPayload) return { frames, error: tooBig(`Frame payload of ${header.length} bytes exceeds maxPayload (${maxPayload}).`) };
    const payload = readPayload(input, header);
    if (payload === undefined || payload.data.length < header.length) return { frames, error: undefined };
    const { fin, rsv1, rsv2, rsv3, opcode, masked } = header;
    frames.push({ fin, rsv1, rsv2, rsv3, opcode, masked, payload: payload.data });
    at = payload.end;
  }
}

/**
 * Decodes `input` into messages and control frames (§5.4–§5.6): what a {@link Receiver} reports.
 * Stops at the first broken rule, whose error (with its close code) is returned after the events
 * before it, or after a Close frame (§5.5.1: nothing after it is data).
 */
export function decodeMessages(input: Buffer, options: ReferenceOptions): { events: ReferenceEvent[]; error: WebSocketError | undefined } {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const events: ReferenceEvent[] = [];
  /** The message being received (§5.4): its first frame's type, its frames so far, its text decoder. */
  let message: { binary: boolean; rsv1: boolean; parts: Buffer[]; announced: number; text: TextDecoder | undefined } | undefined;
  let at = 0;
  for (;;) {
    const header = readHeader(input, at, options);
    if (header === undefined) return { events, error: undefined };
    if (!('fin' in header)) return { events, error: header };
    const { fin, rsv1, opcode, length } = header;

    if (isControlOpcode(opcode)) {
      // §5.4: control frames may come in the middle of a message; they are not part of it.
      const payload = readPayload(input, header);
      if (payload === undefined || payload.data.length < length) return { events, error: undefined };
      if (opcode === Opcode.Ping) events.push({ type: 'ping', payload: payload.data });
      else if (opcode === Opcode.Pong) events.push({ type: 'pong', payload: payload.data });
      else {
        // §5.5.1: after a Close, nothing more is data (a message in progress is abandoned).
        const close = closeFrame(payload.data);
        if (close instanceof WebSocketError) return { events, error: close };
        events.push({ type: 'close', ...close });
        return { events, error: undefined };
      }
      at = payload.end;
      continue;
    }

    // §5.4: a message is one Text or Binary frame, then Continuation frames, the last with FIN.
    if (opcode === Opcode.Continuation) {
      if (message === undefined) return { events, error: protocolError(E.UnexpectedContinuation, 'Continuation frame with no message to continue (RFC 6455 §5.4).') };
      // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
      if (rsv1) return { events, error: protocolError(E.UnexpectedRsv, 'RSV1 set on a continuation frame (RFC 7692 §6.1).') };
    } else {
      if (message !== undefined) return { events, error: protocolError(E.ExpectedContinuation, 'A new data frame inside a fragmented message (RFC 6455 §5.4).') };
      // §5.6: a Text message is UTF-8, unless an extension (RSV1) has transformed it.
      const text = opcode === Opcode.Text && !rsv1 ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) : undefined;
      message = { binary: opcode === Opcode.Binary, rsv1, parts: [], announced: 0, text };
    }
    // §10.4: the limit is on the whole message, and the headers tell its size before the payload.
    const announced = message.announced + length;
    if (announced > maxPayload) return { events, error: tooBig(`Message of ${announced} bytes or more exceeds maxPayload (${maxPayload}).`) };
    message.announced = announced;

    const payload = readPayload(input, header);
    if (payload === undefined) return { events, error: undefined };
    // §8.1: text that is not UTF-8 fails the connection as soon as that is known, even mid-frame…
    if (message.text !== undefined && !utf8(message.text, payload.data, false)) return { events, error: invalidText('Text message') };
    if (payload.data.length < length) return { events, error: undefined };
    message.parts.push(payload.data);
    if (fin) {
      // …and a text message may not end inside a character.
      if (message.text !== undefined && !utf8(message.text, Buffer.alloc(0), true)) return { events, error: invalidText('Text message') };
      events.push({ type: 'message', data: Buffer.concat(message.parts), binary: message.binary, rsv1: message.rsv1 });
      message = undefined;
    }
    at = payload.end;
  }
}

/** A Close payload (§5.5.1): empty, or a 2-byte status code that may be sent (§7.4) and a UTF-8 reason. */
function closeFrame(data: Buffer): { code: number; reason: string } | WebSocketError {
  if (data.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (data.length === 1) return protocolError(E.InvalidClosePayload, 'A 1-byte Close payload cannot hold a status code (RFC 6455 §5.5.1).');
  const code = data.readUInt16BE(0);
  if (!isValidCloseCode(code)) return protocolError(E.InvalidCloseCode, `Close status code ${code} may not be sent (RFC 6455 §7.4).`);
  try {
    return { code, reason: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data.subarray(2)) };
  } catch {
    return invalidText('Close reason');
  }
}

/** A frame header, read up to its payload length; the masking key comes after (see readPayload). */
interface Header extends FrameBits {
  length: number;
  /** Offset just past the length fields. */
  end: number;
}

/** The header at `input[at]`, the rule it breaks, or undefined when the input ends inside it. */
function readHeader(input: Buffer, at: number, options: ReferenceOptions): Header | WebSocketError | undefined {
  if (input.length - at < 2) return undefined;
  const b0 = input[at];
  const b1 = input[at + 1];
  const fin = (b0 & 0x80) !== 0;
  const rsv1 = (b0 & 0x40) !== 0;
  const rsv2 = (b0 & 0x20) !== 0;
  const rsv3 = (b0 & 0x10) !== 0;
  const opcode = b0 & 0x0f;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  // §5.2: RSV1–3 MUST be 0 unless an extension defines them (permessage-deflate defines RSV1).
  if (rsv2 || rsv3 || (rsv1 && options.allowRsv1 !== true)) return protocolError(E.UnexpectedRsv, 'RSV bits set that no negotiated extension defines (RFC 6455 §5.2).');
  // §5.2: opcodes 3–7 and 11–15 are reserved.
  if (!isKnownOpcode(opcode)) return protocolError(E.InvalidOpcode, `Reserved opcode ${opcode} (RFC 6455 §5.2).`);
  if (isControlOpcode(opcode)) {
    // §5.5: control frames are never fragmented and carry at most 125 bytes.
    if (!fin) return protocolError(E.FragmentedControlFrame, 'A control frame without FIN (RFC 6455 §5.5).');
    if (len7 > 125) return protocolError(E.ControlFrameTooBig, 'A control frame payload over 125 bytes (RFC 6455 §5.5).');
    // RFC 7692 §6: RSV1 belongs to the first frame of a data message.
    if (rsv1) return protocolError(E.UnexpectedRsv, 'RSV1 set on a control frame (RFC 7692 §6).');
  }
  // §5.1: a client masks every frame it sends; a server masks none.
  const expectMask = options.role === 'server';
  if (masked !== expectMask) {
    return expectMask
      ? protocolError(E.ExpectedMask, 'Unmasked frame from a client (RFC 6455 §5.1).')
      : protocolError(E.UnexpectedMask, 'Masked frame from a server (RFC 6455 §5.1).');
  }
  // §5.2: 0–125 is the length; 126 means a 16-bit length follows, 127 a 64-bit one (network order).
  let length = len7;
  let end = at + 2;
  if (len7 === 126) {
    if (input.length - end < 2) return undefined;
    length = input.readUInt16BE(end);
    end += 2;
  } else if (len7 === 127) {
    if (input.length - end < 8) return undefined;
    const big = input.readBigUInt64BE(end);
    end += 8;
    // §5.2: "the most significant bit MUST be 0".
    if (big >= 2n ** 63n) return protocolError(E.InvalidPayloadLength, '64-bit payload length with its most significant bit set (RFC 6455 §5.2).');
    // Past 2^53 a JavaScript number cannot count the bytes.
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return tooBig(`Payload length ${big} is beyond 2^53 - 1.`);
    length = Number(big);
  }
  return { fin, rsv1, rsv2, rsv3, opcode, masked, length, end };
}

/**
 * The masking key (§5.3) and as much of the payload as the input holds, unmasked; undefined when
 * the input ends inside the key. `end` is the offset past the payload.
 */
function readPayload(input: Buffer, header: Header): { data: Buffer; end: number } | undefined {
  let at = header.end;
  let key: Buffer | undefined;
  if (header.masked) {
    if (input.length - at < 4) return undefined;
    key = input.subarray(at, at + 4);
    at += 4;
  }
  const bytes = input.subarray(at, Math.min(at + header.length, input.length));
  return { data: key === undefined ? Buffer.from(bytes) : applyMask(bytes, key), end: at + bytes.length };
}

/** Feeds `bytes` to a UTF-8 decoder; false when they are not (a prefix of) valid UTF-8, or, at `end`, not complete. */
function utf8(decoder: TextDecoder, bytes: Buffer, end: boolean): boolean {
  try {
    decoder.decode(bytes, { stream: !end });
    return true;
  } catch {
    return false;
  }
}

function protocolError(code: E, message: string): WebSocketError {
  return remoteError(code, CloseCode.ProtocolError, message);
}

function tooBig(message: string): WebSocketError {
  return remoteError(E.MessageTooBig, CloseCode.MessageTooBig, `${message} (RFC 6455 §10.4)`);
}

function invalidText(what: string): WebSocketError {
  return remoteError(E.InvalidUtf8, CloseCode.InvalidPayload, `${what} is not valid UTF-8 (RFC 6455 §8.1).`);
}
