/**
 * `simpatico-ws explain HEX…`: frames decoded field by field (RFC 6455 §5.2), for a learner.
 *
 * The bytes go through a `WireReader` (the frame decoder of src/frames, watched), so every verdict
 * — valid, or which rule is broken and with which close code — is the one a simpatico-ws receiver
 * reaches. This file only puts the reader's findings next to the bytes they came from.
 */
import { DEFAULT_MAX_PAYLOAD, FrameErrorCode, Utf8Validator, isValidUtf8 } from '../frames/index.js';
import { InputError } from './input.js';
import { Lines } from './layout.js';
import { type FrameHeader, type ReadFailure, type ReadFrame, type ReadMessage, WireReader } from './reader.js';
import { type Side, bits, closeMeaning, direction, hexBytes, opcodeMeaning, opcodeName, other, plural, preview, ruleWhy } from './words.js';

export interface ExplainOptions {
  /** Who sent the bytes; without it, the first frame's MASK bit decides (§5.1). */
  from?: Side;
}

export interface Explanation {
  lines: string[];
  /** Whether a receiver accepts the bytes (no rule broken). */
  valid: boolean;
}

/** Payload bytes shown per row: 12 spaced hex bytes and a "… N more bytes" fit 80 columns. */
const ROW_BYTES = 12;
/** Characters of text shown in a preview. */
const TEXT_CHARS = 48;

/** Column layout of a frame block: byte ranges at 2 (then their hex at 16), fields and payload rows at 4. */
const AT = 2;
const RANGE = 14;
const FIELD = 4;
const SUB = 12;

/**
 * Explains `bytes` as a stream of frames from one side. Throws an `InputError` when the bytes end
 * inside a frame (a truncated frame cannot be explained, only completed).
 */
export function explainFrames(bytes: Buffer, options: ExplainOptions = {}): Explanation {
  const input = Buffer.from(bytes); // the reader unmasks in place: keep the masked original to show
  const inferred = options.from === undefined;
  // §5.1: a client masks every frame, a server none; byte 1's top bit is MASK.
  const from: Side = options.from ?? (input.length >= 2 && (input[1] & 0x80) !== 0 ? 'client' : 'server');
  const frames: ReadFrame[] = [];
  const out = new Lines();
  let failure: ReadFailure | undefined;
  const reader = new WireReader(
    { from },
    {
      frame: (frame) => {
        frames.push(frame);
        frameBlock(out, input, frame);
      },
      message: (message) => messageBlock(out, message),
      failure: (f) => (failure = f),
    },
  );
  reader.push(Buffer.from(input));
  const incomplete = reader.incomplete();
  if (incomplete !== undefined) {
    const { frame, offset, missing, have } = incomplete;
    const index = frame?.index ?? frames.length + 1;
    throw new InputError(
      `truncated: the input ends inside frame ${index} (byte ${offset} on, ${plural(have, 'byte')} given), which still needs ${missing}`,
    );
  }

  const intro = new Lines();
  const count = plural(frames.length + (failure === undefined ? 0 : 1), 'frame');
  if (inferred) {
    intro.text(0, `${plural(input.length, 'byte')}, ${count}, read as ${direction(from)}: frame 1 is ${from === 'client' ? 'masked, and only clients mask' : 'not masked, and servers never mask'} (RFC 6455 §5.1). Check it with --from.`);
  } else {
    intro.text(0, `${plural(input.length, 'byte')}, ${count}, from the ${from} (${direction(from)}): its frames ${from === 'client' ? 'must be masked' : 'must not be masked'} (RFC 6455 §5.1).`);
  }
  intro.blank();
  const lines = [...intro.lines, ...out.lines];
  const end = new Lines();
  if (failure !== undefined) {
    failureBlock(end, input, failure, frames, from);
  } else {
    if (reader.ignored > 0) {
      const start = input.length - reader.ignored;
      end.text(0, `Not read: ${span(start, input.length - 1)} (${plural(reader.ignored, 'byte')}) come after a Close frame, and nothing after a Close is data (§5.5.1).`).blank();
    }
    end.text(0, `✓ Valid: ${other(from) === 'server' ? 'a server' : 'a client'} accepts these bytes.`);
  }
  return { lines: [...lines, ...end.lines], valid: failure === undefined };
}

/** A complete frame, field by field. */
function frameBlock(out: Lines, input: Buffer, frame: ReadFrame): void {
  const last = frame.offset + frame.headerSize + frame.length - 1;
  const what = [opcodeName(frame.opcode), frame.fin ? 'FIN' : 'no FIN', `${frame.length}-byte payload`];
  if (frame.message !== undefined) {
    what.push(frame.fin && frame.fragment === 1 ? `message ${frame.message}` : `part ${frame.fragment} of message ${frame.message}`);
  }
  out.text(0, `Frame ${frame.index}, bytes ${frame.offset}–${last}: ${what.join(', ')}`);
  headerRows(out, input, frame, frame.maskKey);
  payloadRows(out, input, frame, frame.payload, frame.maskKey, frame.utf8);
  out.blank();
}

/** Bytes 0 and 1, the extended length and the masking key (when it was read): as far as the header was read. */
function headerRows(out: Lines, input: Buffer, frame: FrameHeader, maskKey: Buffer | undefined): void {
  const at = frame.offset;
  const b0 = input[at];
  const b1 = input[at + 1];
  out.row(AT, `byte ${at}`, RANGE, `${hexBytes(input.subarray(at, at + 1))} = ${bits(b0)}`);
  const field = (name: string, value: string, text: string): void => {
    out.row(FIELD, `${name.padEnd(7)} ${value}`, 14, text);
  };
  const control = frame.opcode >= 8;
  field(
    'FIN',
    frame.fin ? '1' : '0',
    frame.fin
      ? control
        ? 'set, as on every control frame (§5.5)'
        : 'the last (or only) frame of its message (§5.2)'
      : control
        ? 'not set: but a control frame is never fragmented (§5.5)'
        : 'more fragments of this message follow (§5.4)',
  );
  const rsv = `${frame.rsv1 ? 1 : 0}${frame.rsv2 ? 1 : 0}${frame.rsv3 ? 1 : 0}`;
  field(
    'RSV1–3',
    rsv,
    rsv === '000'
      ? 'no extension is negotiated, so all three are 0 (§5.2)'
      : `${frame.rsv1 ? 'RSV1 (permessage-deflate, RFC 7692) ' : ''}${frame.rsv2 || frame.rsv3 ? 'RSV2/RSV3 ' : ''}set: only a negotiated extension may (§5.2, §9)`,
  );
  field('opcode', bits(b0).slice(5), `0x${frame.opcode.toString(16)} ${opcodeMeaning(frame.opcode)}`);
  out.row(AT, `byte ${at + 1}`, RANGE, `${hexBytes(input.subarray(at + 1, at + 2))} = ${bits(b1)}`);
  field(
    'MASK',
    frame.masked ? '1' : '0',
    frame.masked
      ? 'masked, as clients send (§5.1): a 4-byte key follows (§5.3)'
      : 'not masked, as servers send (§5.1)',
  );
  const len7 = b1 & 0x7f;
  field(
    'length',
    String(len7),
    len7 === 126
      ? 'the length is in the next 2 bytes (16-bit form, §5.2)'
      : len7 === 127
        ? 'the length is in the next 8 bytes (64-bit form, §5.2)'
        : '7-bit form: lengths 0–125 fit in this field (§5.2)',
  );
  let pos = at + 2;
  if (frame.lengthForm === 16 || frame.lengthForm === 64) {
    const size = frame.lengthForm === 16 ? 2 : 8;
    const range = `bytes ${pos}–${pos + size - 1}`;
    const raw = hexBytes(input.subarray(pos, pos + size));
    const value = frame.length === undefined ? 'its top bit must be 0 (§5.2)' : `${frame.length} (big-endian, §5.2)`;
    if (size === 2) out.row(AT, range, RANGE, `${raw}: extended length ${value}`);
    else out.row(AT, range, RANGE, raw).row(FIELD, '', SUB, `extended length ${value}`);
    if (frame.length !== undefined && frame.length < (frame.lengthForm === 16 ? 126 : 65536)) {
      out.row(FIELD, 'note', SUB, `${frame.length} fits a shorter form; senders MUST use the shortest (§5.2), though receivers, this one included, accept a longer one.`);
    }
    pos += size;
  }
  // The decoder reads the key only once the header passed its checks.
  if (maskKey !== undefined) out.row(AT, `bytes ${pos}–${pos + 3}`, RANGE, `${hexBytes(maskKey)}: masking key (§5.3)`);
}

/** The payload: masked and unmasked side by side, then as text, close code or hex. */
function payloadRows(
  out: Lines,
  input: Buffer,
  frame: FrameHeader & { headerSize: number; length: number },
  data: Buffer,
  key: Buffer | undefined,
  utf8: 'complete' | 'partial' | undefined,
): void {
  const start = frame.offset + frame.headerSize;
  const range = frame.length === 0 ? '' : span(start, start + frame.length - 1);
  const about =
    frame.opcode === 8
      ? frame.length === 0
        ? 'no payload: a Close without a status code, reported as 1005 (§5.5.1, §7.1.5)'
        : 'a 2-byte status code, then a UTF-8 reason (§5.5.1)'
      : frame.length === 0
        ? 'no payload'
        : key === undefined
          ? ''
          : 'unmasked as byte i XOR key[i mod 4] (§5.3)';
  out.row(AT, range, RANGE, `payload, ${plural(frame.length, 'byte')}${about === '' ? '' : `: ${about}`}`);
  if (frame.length === 0) return;
  const shown = data.subarray(0, ROW_BYTES);
  const more = frame.length > shown.length ? ` … ${plural(frame.length - shown.length, 'more byte')}` : '';
  if (key !== undefined) {
    const masked = input.subarray(start, start + shown.length);
    const keyRow = Buffer.alloc(shown.length);
    for (let i = 0; i < shown.length; i++) keyRow[i] = key[i & 3];
    out.row(FIELD, 'masked', SUB, hexBytes(masked) + more);
    out.row(FIELD, 'XOR key', SUB, hexBytes(keyRow));
    out.row(FIELD, 'unmasked', SUB, hexBytes(shown) + more);
  } else {
    out.row(FIELD, 'bytes', SUB, hexBytes(shown) + more);
  }
  if (frame.opcode === 8) {
    if (data.length >= 2) {
      const code = data.readUInt16BE(0);
      out.row(FIELD, 'code', SUB, `${hexBytes(data.subarray(0, 2))} = ${code}, ${closeMeaning(code)} (§7.4)`);
      const reason = data.subarray(2);
      if (reason.length > 0) out.row(FIELD, 'reason', SUB, isValidUtf8(reason) ? preview(reason, reason.length, { text: true, chars: TEXT_CHARS, hexBytes: ROW_BYTES }) : `${hexBytes(reason)} (not UTF-8)`);
    }
    return;
  }
  if (utf8 !== undefined) {
    const whole = utf8 === 'complete' ? data : wholeStart(data);
    if (whole !== undefined && isValidUtf8(whole)) {
      out.row(FIELD, 'as text', SUB, preview(whole, whole.length, { text: true, chars: TEXT_CHARS, hexBytes: ROW_BYTES }));
    }
    out.row(
      FIELD,
      'UTF-8',
      SUB,
      utf8 === 'partial'
        ? 'valid so far, but it ends inside a character: the next fragment must finish it (§5.6, §8.1)'
        : frame.fin
          ? 'valid: the message is UTF-8 text (§5.6)'
          : 'valid so far, ending on a whole character (§5.6)',
    );
    return;
  }
  if (frame.opcode === 9 || frame.opcode === 10) {
    if (isValidUtf8(data)) out.row(FIELD, 'as text', SUB, preview(data, data.length, { text: true, chars: TEXT_CHARS, hexBytes: ROW_BYTES }));
  }
}

/** `byte 7` or `bytes 7–9`. */
function span(first: number, last: number): string {
  return first === last ? `byte ${first}` : `bytes ${first}–${last}`;
}

/** The fragment, when it starts on a whole character (it is not empty: empty payloads show no rows). */
function wholeStart(data: Buffer): Buffer | undefined {
  return (data[0] & 0xc0) === 0x80 ? undefined : data;
}

/** A message, once its last frame arrived. */
function messageBlock(out: Lines, message: ReadMessage): void {
  const kind = message.binary ? 'Binary' : 'Text';
  const frames = message.frames === 1 ? 'in one frame' : `reassembled from frames ${message.firstFrame}–${message.firstFrame + message.frames - 1} (§5.4)`;
  out.text(0, `Message ${message.index}: ${kind}, ${plural(message.length, 'byte')}, ${frames}`);
  const data = message.preview;
  if (data.length > 0) {
    out.text(2, message.binary ? preview(data, message.length, { text: false, chars: 0, hexBytes: 16 }) : preview(data, message.length, { text: true, chars: 60, hexBytes: 16 }));
  }
  if (message.length > DEFAULT_MAX_PAYLOAD) {
    out.text(2, `note: over simpatico-ws's default maxPayload of ${DEFAULT_MAX_PAYLOAD} bytes; its server would close with 1009 Message Too Big (§10.4).`);
  }
  out.blank();
}

/** The frame that broke a rule, as far as it was read, then the rule and the close code. */
function failureBlock(out: Lines, input: Buffer, failure: ReadFailure, frames: readonly ReadFrame[], from: Side): void {
  const { error, frame } = failure;
  const kind = opcodeName(frame.opcode);
  out.text(0, `Frame ${frame.index}, from byte ${frame.offset}: ${kind}${frame.length === undefined ? '' : `, ${frame.length}-byte payload`}`);
  headerRows(out, input, frame, failure.maskKey);
  // Rules about the payload (UTF-8 text, a Close payload) are broken once it is read; the others
  // stop the decoder at the header, before any payload.
  const inPayload = error.code === FrameErrorCode.InvalidUtf8 || error.code === FrameErrorCode.InvalidCloseCode || error.code === FrameErrorCode.InvalidClosePayload;
  if (inPayload) {
    const header = frame as FrameHeader & { headerSize: number; length: number };
    payloadRows(out, input, header, failure.payload, failure.maskKey, undefined);
    if (error.code === FrameErrorCode.InvalidUtf8 && frame.opcode !== 8) out.row(FIELD, 'UTF-8', SUB, utf8Verdict(frames, failure));
  }
  out.blank();
  const closeCode = error.closeCode as number;
  out.text(0, `✗ Frame ${frame.index} breaks a rule: ${error.message}`);
  const why = ruleWhy(error.code);
  if (why !== undefined) out.text(2, `Why: ${why}`);
  out.text(2, `A ${other(from)} receiving it fails the connection (§7.1.7) and sends Close ${closeCode}, ${closeMeaning(closeCode)} (§7.4.1).`);
  out.text(2, `Error code: ${error.code}`);
  const unread = input.length - frame.offset;
  out.text(2, `Not read: ${span(frame.offset, input.length - 1)} (${plural(unread, 'byte')}), from this frame on: after failing, a receiver processes no more data (§7.1.7).`);
  out.blank();
  out.text(0, `✗ Invalid: ${other(from) === 'server' ? 'a server' : 'a client'} closes with ${closeCode}.`);
}

/** Where a text message stops being UTF-8: the first byte that cannot continue it, or its end. */
function utf8Verdict(frames: readonly ReadFrame[], failure: ReadFailure): string {
  const message = failure.frame.message as number;
  const earlier = frames.filter((f) => f.message === message).map((f) => f.payload);
  const text = Buffer.concat([...earlier, failure.payload]);
  const validator = new Utf8Validator();
  for (let i = 0; i < text.length; i++) {
    if (!validator.stepRange(text, i, i + 1)) {
      return `byte ${i} of the message (0x${text[i].toString(16).padStart(2, '0')}) cannot come there in UTF-8 (RFC 3629 §4): the receiver fails at once, without waiting for the rest (§8.1).`;
    }
  }
  return 'the message ends inside a character: its last bytes start one that never finishes (§8.1).';
}
