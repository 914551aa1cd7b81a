/**
 * The words of the learner's lens: what each opcode, close code and broken rule means, in plain
 * language with the RFC section beside it, and the small formatting helpers (hex, bits, previews)
 * that `explain` and `trace` share.
 */
import { FrameErrorCode, isValidUtf8 } from '../frames/index.js';

/** Who sent the bytes. Frames from a client are masked, from a server not (RFC 6455 §5.1). */
export type Side = 'client' | 'server';

export const other = (side: Side): Side => (side === 'client' ? 'server' : 'client');

/** `client → server` or `server → client`. */
export const direction = (from: Side): string => `${from} → ${other(from)}`;

/** Opcode names (RFC 6455 §5.2, §11.8). */
export function opcodeName(opcode: number): string {
  switch (opcode) {
    case 0x0:
      return 'Continuation';
    case 0x1:
      return 'Text';
    case 0x2:
      return 'Binary';
    case 0x8:
      return 'Close';
    case 0x9:
      return 'Ping';
    case 0xa:
      return 'Pong';
    default:
      return `reserved opcode 0x${opcode.toString(16)}`;
  }
}

/** What an opcode is for, with its section (RFC 6455 §5.2, §5.4–§5.6). */
export function opcodeMeaning(opcode: number): string {
  switch (opcode) {
    case 0x0:
      return 'Continuation: the next fragment of a message (§5.4)';
    case 0x1:
      return 'Text: a message of UTF-8 text (§5.6)';
    case 0x2:
      return 'Binary: a message of raw bytes (§5.6)';
    case 0x8:
      return 'Close: starts or answers the closing handshake (§5.5.1)';
    case 0x9:
      return 'Ping: the peer must answer with a Pong (§5.5.2)';
    case 0xa:
      return 'Pong: the answer to a Ping, same payload (§5.5.3)';
    default:
      return opcode < 8
        ? `reserved for future data frames (0x3–0x7, §5.2)`
        : `reserved for future control frames (0xB–0xF, §5.2)`;
  }
}

/**
 * Close codes: the name and when it is used (RFC 6455 §7.4.1, and the IANA registry of §11.7 for
 * 1012–1014). In our own words.
 */
const CLOSE_MEANINGS: Readonly<Record<number, string>> = {
  1000: 'Normal Closure: the purpose of the connection was fulfilled',
  1001: 'Going Away: a server shutting down or a page being left',
  1002: 'Protocol Error: the peer broke a rule of the protocol',
  1003: 'Unsupported Data: a kind of message the endpoint cannot take',
  1004: 'reserved, no meaning defined: never sent',
  1005: 'No Status Received: only reported locally for a Close without a code, never sent',
  1006: 'Abnormal Closure: only reported locally when TCP ended without a Close, never sent',
  1007: 'Invalid Payload Data: e.g. a text message that is not UTF-8',
  1008: 'Policy Violation: a message against the endpoint\'s policy',
  1009: 'Message Too Big: a message larger than the endpoint accepts',
  1010: 'Mandatory Extension: the client needed an extension the server did not accept',
  1011: 'Internal Error: the server hit an unexpected condition',
  1012: 'Service Restart (IANA registry)',
  1013: 'Try Again Later (IANA registry)',
  1014: 'Bad Gateway (IANA registry)',
  1015: 'TLS Handshake failure: only reported locally, never sent',
};

/** `1000 Normal Closure: …`, or what range an unnamed code falls in (RFC 6455 §7.4.2). */
export function closeMeaning(code: number): string {
  const known = CLOSE_MEANINGS[code];
  if (known !== undefined) return known;
  if (code < 1000) return 'unused (0–999 are not used, §7.4.2)';
  if (code < 3000) return 'reserved for future RFCs (1016–2999, §7.4.2)';
  if (code < 4000) return 'registered with IANA by libraries and frameworks (3000–3999, §7.4.2)';
  if (code < 5000) return 'private use by applications (4000–4999, §7.4.2)';
  return 'outside every range of §7.4.2 (5000 and above)';
}

/** The short name of a close code: `Normal Closure`, or its range: `private use`. */
export function closeName(code: number): string {
  const known = CLOSE_MEANINGS[code];
  if (known !== undefined) return known.split(':')[0].replace(/ \(IANA registry\)$/, '').replace(/, no meaning defined$/, '');
  if (code >= 3000 && code < 4000) return 'registered';
  if (code >= 4000 && code < 5000) return 'private use';
  return 'not a valid code';
}

/**
 * Why each rule exists, for the learner who just saw it broken. Keyed by the frame codec's stable
 * error codes (src/frames/codes.ts), so the lens names exactly the rule the receiver enforces.
 */
const RULE_WHY: Readonly<Partial<Record<FrameErrorCode, string>>> = {
  [FrameErrorCode.ExpectedMask]:
    'Clients mask every frame so that a script cannot choose the bytes a proxy sees on the wire (§10.3).',
  [FrameErrorCode.UnexpectedMask]: 'Servers never mask: masking protects intermediaries from hostile clients only (§5.1, §10.3).',
  [FrameErrorCode.UnexpectedRsv]: 'RSV1–3 belong to extensions; one that was not negotiated cannot be understood (§5.2, §9).',
  [FrameErrorCode.InvalidOpcode]: 'A receiver cannot know what a reserved opcode means, so it cannot go on (§5.2).',
  [FrameErrorCode.FragmentedControlFrame]:
    'Control frames are never split, so that one can always be sent between two fragments of a message (§5.4, §5.5).',
  [FrameErrorCode.ControlFrameTooBig]:
    'Control frames are short (≤ 125 bytes, so the 7-bit length always fits) and can be handled at once (§5.5).',
  [FrameErrorCode.InvalidPayloadLength]: 'The 64-bit length is an unsigned 63-bit number: its top bit must be 0 (§5.2).',
  [FrameErrorCode.UnexpectedContinuation]: 'A continuation frame only makes sense after a Text or Binary frame without FIN (§5.4).',
  [FrameErrorCode.ExpectedContinuation]:
    'Fragments of one message are not interleaved with another message; only control frames may come between them (§5.4).',
  [FrameErrorCode.InvalidUtf8]: 'Text messages are UTF-8 by definition; a receiver that finds otherwise fails the connection (§8.1).',
  [FrameErrorCode.MessageTooBig]: 'Every receiver has a size limit; past it the data cannot be held (§10.4).',
  [FrameErrorCode.InvalidClosePayload]: 'A Close payload is empty, or a 2-byte code then an optional reason (§5.5.1).',
  [FrameErrorCode.InvalidCloseCode]:
    'Only codes of §7.4.1 and the ranges of §7.4.2 go on the wire; 1005, 1006 and 1015 are for local reports only.',
};

/** Why the rule behind `code` exists, or undefined for codes the lens does not meet. */
export function ruleWhy(code: string): string | undefined {
  return RULE_WHY[code as FrameErrorCode];
}

// ---- formatting ---------------------------------------------------------------------------------

/** `81 05 48` — bytes as spaced hex. */
export function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/** `1000 0001` — a byte as two nibbles of bits. */
export function bits(byte: number): string {
  const b = byte.toString(2).padStart(8, '0');
  return `${b.slice(0, 4)} ${b.slice(4)}`;
}

/** `1 byte`, `5 bytes`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The longest prefix of `bytes` that ends on a whole UTF-8 character: a preview cut at a byte
 * count may split a character, which says nothing about the text being invalid.
 */
export function wholeCharacters(bytes: Buffer): Buffer {
  let end = bytes.length;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the lead byte of the last character.
  let lead = end - 1;
  while (lead > end - 4 && lead > 0 && (bytes[lead] & 0xc0) === 0x80) lead--;
  const b = bytes[lead];
  if (b >= 0xc0) {
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    if (end - lead < size) end = lead;
  }
  return bytes.subarray(0, end);
}

/**
 * The preview of the first bytes of a payload of `total` bytes, as text when they are UTF-8 (a
 * character cut by the preview's end does not count against it), else as hex.
 */
export function preview(bytes: Buffer, total: number, options: { text: boolean; chars: number; hexBytes: number }): string {
  const rest = (shown: number): string => (total > shown ? ` … ${plural(total - shown, 'more byte')}` : '');
  if (options.text) {
    const whole = bytes.length < total ? wholeCharacters(bytes) : bytes;
    if (isValidUtf8(whole)) {
      const text = whole.toString('utf8');
      const chars = Array.from(text);
      if (chars.length <= options.chars) return `${JSON.stringify(text)}${rest(whole.length)}`;
      const cut = chars.slice(0, options.chars).join('');
      return `${JSON.stringify(cut)}${rest(Buffer.byteLength(cut))}`;
    }
  }
  const shown = bytes.subarray(0, options.hexBytes);
  return `${hexBytes(shown)}${rest(shown.length)}`;
}
