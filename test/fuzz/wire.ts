/**
 * Frame streams for the fuzz tests: valid streams with the events they must produce, and mutations
 * of them. The codec is compared, input by input, with the reference decoder of
 * src/frames/reference.ts (whole input at once, written straight from RFC 6455 §5).
 */
import type { Random } from './run.js';

// The recording sink and its event tuples are the frames tests' own.
import { RecordingSink, type Event } from '../frames/helpers.js';
export { RecordingSink, type Event };

/** The close code each frame error code must carry (RFC 6455 §7.4.1). */
export const CLOSE_CODE_OF: Record<string, number> = {
  WS_ERR_EXPECTED_MASK: 1002,
  WS_ERR_UNEXPECTED_MASK: 1002,
  WS_ERR_UNEXPECTED_RSV: 1002,
  WS_ERR_INVALID_OPCODE: 1002,
  WS_ERR_FRAGMENTED_CONTROL_FRAME: 1002,
  WS_ERR_CONTROL_FRAME_TOO_BIG: 1002,
  WS_ERR_INVALID_PAYLOAD_LENGTH: 1002,
  WS_ERR_UNEXPECTED_CONTINUATION: 1002,
  WS_ERR_EXPECTED_CONTINUATION: 1002,
  WS_ERR_INVALID_CLOSE_PAYLOAD: 1002,
  WS_ERR_INVALID_CLOSE_CODE: 1002,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_MESSAGE_TOO_BIG: 1009,
};

export interface Limits {
  role: 'server' | 'client';
  maxPayload: number;
  allowRsv1: boolean;
}

/** A frame header (RFC 6455 §5.2). `length` may be any 64-bit value; `form` forces the length encoding. */
export function header(b0: number, length: bigint, key: Buffer | undefined, form?: 7 | 16 | 64): Buffer {
  const f = form ?? (length < 126n ? 7 : length < 65536n ? 16 : 64);
  const maskBit = key === undefined ? 0 : 0x80;
  let h: Buffer;
  if (f === 7) h = Buffer.from([b0, maskBit | Number(length & 0x7fn)]);
  else if (f === 16) {
    h = Buffer.from([b0, maskBit | 126, 0, 0]);
    h.writeUInt16BE(Number(length & 0xffffn), 2);
  } else {
    h = Buffer.alloc(10);
    h[0] = b0;
    h[1] = maskBit | 127;
    h.writeBigUInt64BE(BigInt.asUintN(64, length), 2);
  }
  return key === undefined ? h : Buffer.concat([h, key]);
}

function frame(r: Random, masked: boolean, b0: number, payload: Buffer): Buffer {
  const key = masked ? r.bytes(4) : undefined;
  // Non-minimal length encodings are legal to receive (§5.2's minimal rule binds senders); use them now
  // and then in data frames (a control frame's length must fit the 7-bit field, §5.5).
  const minimal = payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64;
  const form = (b0 & 0x08) === 0 && r.chance(0.1) ? r.pick([minimal, 16, 64].filter((f) => f >= minimal) as (7 | 16 | 64)[]) : undefined;
  const body = Buffer.from(payload);
  if (key !== undefined) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3] as number;
  return Buffer.concat([header(b0, BigInt(payload.length), key, form), body]);
}

const TEXT = ['a', 'Z', ' ', '~', 'é', 'ß', '€', '中', '😀', '𝄞', '\u0000', '\u007f', '\uffff', '\ufeff'];

function randomText(r: Random, maxBytes: number): Buffer {
  const target = r.int(maxBytes + 1);
  const parts: string[] = [];
  let bytes = 0;
  for (;;) {
    const c = r.pick(TEXT);
    const n = Buffer.byteLength(c);
    // Whole characters only, within maxBytes.
    if (bytes + n > target) break;
    parts.push(c);
    bytes += n;
  }
  return Buffer.from(parts.join(''));
}

/** A valid stream of messages and control frames, the events it must produce, and where its frames start. */
export interface Stream {
  bytes: Buffer;
  events: Event[];
  /** Offset of each frame header. */
  frames: number[];
}

/** Random valid traffic within `limits`, as a peer of the other role would send it. */
export function validStream(r: Random, limits: Limits): Stream {
  const masked = limits.role === 'server';
  const parts: Buffer[] = [];
  const frames: number[] = [];
  const events: Event[] = [];
  let size = 0;
  const add = (b: Buffer): void => {
    frames.push(size);
    parts.push(b);
    size += b.length;
  };
  const control = (): void => {
    const opcode = r.pick([9, 10]);
    const payload = r.bytes(r.chance(0.2) ? 125 : r.int(20));
    add(frame(r, masked, 0x80 | opcode, payload));
    events.push([opcode === 9 ? 'ping' : 'pong', payload.toString('hex')]);
  };
  const cap = Math.min(limits.maxPayload, r.chance(0.05) ? 70_000 : 2_000);
  for (let m = 0, count = r.int(5); m < count; m++) {
    if (r.chance(0.3)) control();
    const binary = r.chance(0.5);
    const rsv1 = limits.allowRsv1 && r.chance(0.3);
    // With RSV1 the text is "compressed": not validated by the codec, so any bytes will do.
    const data = binary || rsv1 ? r.bytes(r.int(cap + 1)) : randomText(r, cap);
    const fragments = r.chance(0.5) ? 1 : 1 + r.int(6);
    let at = 0;
    for (let f = 0; f < fragments; f++) {
      const last = f === fragments - 1;
      // Fragment boundaries fall anywhere, also inside a UTF-8 sequence (§5.4 allows it).
      const end = last ? data.length : at + r.int(data.length - at + 1);
      const opcode = f === 0 ? (binary ? 2 : 1) : 0;
      add(frame(r, masked, (last ? 0x80 : 0) | (f === 0 && rsv1 ? 0x40 : 0) | opcode, data.subarray(at, end)));
      at = end;
      if (!last && r.chance(0.2)) control();
    }
    events.push(['message', data.toString('hex'), binary, rsv1]);
  }
  if (r.chance(0.3)) {
    const code = r.pick([1000, 1001, 1003, 1008, 1011, 3000, 4999]);
    const reason = randomText(r, 30);
    const payload = r.chance(0.2) ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), reason]);
    add(frame(r, masked, 0x88, payload));
    events.push(['close', payload.length === 0 ? 1005 : code, payload.length === 0 ? '' : reason.toString('utf8')]);
  }
  return { bytes: Buffer.concat(parts), events, frames };
}

/** Length values that sit on the edges: the 7/16/64-bit forms, the limits, 2^53, 2^63 - 1, MSB set. */
export function edgeLengths(limits: Limits): bigint[] {
  const m = BigInt(limits.maxPayload);
  return [0n, 1n, 125n, 126n, 127n, 65535n, 65536n, m - 1n, m, m + 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n].filter((n) => n >= 0n);
}

const INTERESTING = [0x00, 0x01, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xff, 0xfe, 0xc0, 0xed, 0xf4, 0xf5];

/** One to three mutations of a stream: bit flips, byte sets, truncations, splices, rewritten headers and lengths. */
export function mutate(r: Random, stream: Stream, donor: Buffer, limits: Limits): Buffer {
  let bytes = Buffer.from(stream.bytes);
  const frames = stream.frames;
  if (frames.length > 0 && r.chance(0.15)) {
    // A whole frame repeated: extra fragments (now and then hundreds: a message growing past
    // maxPayload, or many empty fragments), a second Close, a data frame inside a message.
    const j = r.int(frames.length);
    const start = frames[j] as number;
    const copy = bytes.subarray(start, frames[j + 1] ?? bytes.length);
    const copies = Array.from({ length: r.chance(0.1) ? 1 + r.int(300) : 1 + r.int(3) }, () => copy);
    return Buffer.concat([bytes.subarray(0, start), ...copies, bytes.subarray(start)]);
  }
  // Header rewrites first, while the frame offsets still hold.
  if (frames.length > 0 && r.chance(0.6)) {
    // The last frame a third of the time: it is the Close, when the stream has one.
    const at = r.chance(0.33) ? (frames[frames.length - 1] as number) : r.pick(frames);
    const b1 = bytes[at + 1] as number;
    const len7 = b1 & 0x7f;
    const headerEnd = at + 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
    const key = (b1 & 0x80) !== 0 ? bytes.subarray(headerEnd, headerEnd + 4) : undefined;
    const rest = bytes.subarray(headerEnd + (key === undefined ? 0 : 4));
    let b0 = bytes[at] as number;
    let newKey: Buffer | undefined = key === undefined ? undefined : Buffer.from(key);
    let length = BigInt(len7 === 126 ? bytes.readUInt16BE(at + 2) : len7 === 127 ? bytes.readBigUInt64BE(at + 2) : len7);
    let form: 7 | 16 | 64 | undefined;
    // A Close gets its length rewritten half the time (0, 1 and 2-byte payloads are the edge cases of §5.5.1).
    switch ((b0 & 0x0f) === 8 && r.chance(0.5) ? 0 : r.int(4)) {
      case 0: // the length field rewritten, in any form it fits (a Close of 0, 1 or 2 bytes now and then)
        length = (b0 & 0x0f) === 8 && r.chance(0.6) ? BigInt(r.int(3)) : r.chance(0.7) ? r.pick(edgeLengths(limits)) : BigInt(r.int(70_000));
        form = r.pick([undefined, 16, 64] as const);
        if (form === 16 && length > 65535n) form = 64;
        break;
      case 1: // opcode and FIN; RSV bits now and then
        b0 = (r.chance(0.5) ? 0x80 : 0) | (r.chance(0.2) ? r.int(8) << 4 : 0) | r.int(16);
        break;
      case 2: // the MASK bit flipped: the key is then read as payload, or payload as key
        newKey = newKey === undefined ? Buffer.from(r.bytes(4)) : undefined;
        break;
      default: // FIN toggled
        b0 ^= 0x80;
    }
    bytes = Buffer.concat([bytes.subarray(0, at), header(b0, length, newKey, form), rest]);
  }
  for (let n = 1 + r.int(3), i = 0; i < n; i++) {
    const at = r.int(bytes.length + 1);
    switch (r.int(7)) {
      case 0: // bit flips
        if (bytes.length > 0) for (let k = 1 + r.int(3); k > 0; k--) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
        break;
      case 1:
        if (at < bytes.length) bytes[at] = r.pick(INTERESTING);
        break;
      case 2: // truncation
        bytes = bytes.subarray(0, at);
        break;
      case 3: // a splice of another stream
        bytes = Buffer.concat([bytes.subarray(0, at), donor.subarray(r.int(donor.length + 1))]);
        break;
      case 4: // a range deleted
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + r.int(16))]);
        break;
      case 5: // a range repeated
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + r.int(32)), bytes.subarray(at)]);
        break;
      default: // random bytes inserted
        bytes = Buffer.concat([bytes.subarray(0, at), r.bytes(1 + r.int(12)), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** Random bytes, or a soup of random headers and short payloads that parses further than noise. */
export function noise(r: Random): Buffer {
  if (r.chance(0.4)) return r.bytes(r.int(300));
  const parts: Buffer[] = [];
  for (let n = r.int(8), i = 0; i < n; i++) {
    parts.push(header(r.pick([0x81, 0x82, 0x01, 0x00, 0x80, 0x88, 0x89, 0x8a, r.int(256)]), BigInt(r.int(130)), r.chance(0.7) ? r.bytes(4) : undefined));
    parts.push(r.bytes(r.int(130)));
  }
  return Buffer.concat(parts);
}
