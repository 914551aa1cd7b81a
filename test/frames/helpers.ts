/**
 * Test helpers for the frame codec: an independent frame builder (so that tests of the parser do
 * not trust the encoder), a recording sink, and feeders that push the same bytes in many chunkings.
 */
import { Receiver, type ReceiverOptions, type ReceiverSink } from '../../src/frames/index.js';
import type { WebSocketError } from '../../src/errors.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export interface BuildOptions {
  fin?: boolean;
  rsv?: number; // 0..7: RSV1 = 4, RSV2 = 2, RSV3 = 1
  opcode: number;
  payload?: Buffer | string;
  key?: Buffer | number[]; // masks the frame
  /** Force the length form: 7, 16 or 64 bits (to test non-minimal encodings). */
  lengthForm?: 7 | 16 | 64;
  /** Raw 7-bit length / extended length override, for malformed headers. */
  rawLength?: { len7: number; ext?: Buffer };
}

/** Builds a frame byte by byte from RFC 6455 §5.2, independently of src/frames/encode.ts. */
export function buildFrame(o: BuildOptions): Buffer {
  const payload = typeof o.payload === 'string' ? Buffer.from(o.payload) : (o.payload ?? Buffer.alloc(0));
  const fin = o.fin ?? true;
  const bytes: number[] = [(fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | o.opcode];
  const maskBit = o.key ? 0x80 : 0;
  const n = payload.length;
  if (o.rawLength) {
    bytes.push(maskBit | o.rawLength.len7, ...(o.rawLength.ext ?? []));
  } else {
    const form = o.lengthForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
    if (form === 7) bytes.push(maskBit | n);
    else if (form === 16) bytes.push(maskBit | 126, (n >> 8) & 0xff, n & 0xff);
    else {
      bytes.push(maskBit | 127);
      const hi = Math.floor(n / 2 ** 32);
      const lo = n % 2 ** 32;
      bytes.push((hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff);
      bytes.push((lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
    }
  }
  const body = Buffer.from(payload);
  if (o.key) {
    const key = Buffer.from(o.key);
    bytes.push(...key);
    for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
  }
  return Buffer.concat([Buffer.from(bytes), body]);
}

/** A masked client frame with a fixed key (servers receive these). */
export const client = (o: Omit<BuildOptions, 'key'>): Buffer => buildFrame({ ...o, key: [0x37, 0xfa, 0x21, 0x3d] });
/** An unmasked server frame (clients receive these). */
export const server = (o: Omit<BuildOptions, 'key'>): Buffer => buildFrame(o);

export type Event =
  | ['message', string, boolean, boolean]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string, number | undefined];

/** A sink that records everything as plain tuples (payloads as hex), for deep equality. */
export class RecordingSink implements ReceiverSink {
  readonly events: Event[] = [];
  readonly payloads: Buffer[] = [];
  readonly errors: WebSocketError[] = [];
  onMessage(data: Buffer, isBinary: boolean, rsv1: boolean): void {
    this.payloads.push(data);
    this.events.push(['message', data.toString('hex'), isBinary, rsv1]);
  }
  onPing(payload: Buffer): void {
    this.events.push(['ping', payload.toString('hex')]);
  }
  onPong(payload: Buffer): void {
    this.events.push(['pong', payload.toString('hex')]);
  }
  onClose(code: number, reason: string): void {
    this.events.push(['close', code, reason]);
  }
  onError(error: WebSocketError): void {
    this.errors.push(error);
    this.events.push(['error', error.code, error.closeCode]);
  }
}

/** Feeds `chunks` (copied: the receiver unmasks in place) to a fresh receiver; returns its events. */
export function receive(options: ReceiverOptions, chunks: Buffer[]): { events: Event[]; receiver: Receiver } {
  const sink = new RecordingSink();
  const receiver = new Receiver(options, sink);
  for (const chunk of chunks) receiver.push(Buffer.from(chunk));
  return { events: sink.events, receiver };
}

/**
 * The chunkings every stream is tested with: whole, 1 byte at a time, and split in two at every
 * position (for streams over 2 KiB: every position in the first and last 32 bytes and 256 evenly
 * spaced ones in between, to keep the run short).
 */
export function* chunkings(stream: Buffer): Generator<Buffer[]> {
  yield [stream];
  const bytes: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
  yield bytes;
  const n = stream.length;
  const at = new Set<number>();
  const step = n <= 2048 ? 1 : Math.ceil(n / 256);
  for (let i = 1; i < n; i += step) at.add(i);
  for (let i = 1; i < Math.min(n, 33); i++) at.add(i);
  for (let i = Math.max(1, n - 32); i < n; i++) at.add(i);
  for (const i of at) yield [stream.subarray(0, i), stream.subarray(i)];
}

/** Events for a stream fed in every chunking; throws unless all chunkings agree. */
export function receiveAll(options: ReceiverOptions, stream: Buffer): Event[] {
  let expected: Event[] | undefined;
  let expectedJson = '';
  for (const chunks of chunkings(stream)) {
    const { events } = receive(options, chunks);
    const json = JSON.stringify(events);
    if (expected === undefined) {
      expected = events;
      expectedJson = json;
    } else if (json !== expectedJson) {
      throw new Error(`chunking [${chunks.map((c) => c.length).join(',')}] gave ${json}, whole stream gave ${expectedJson}`);
    }
  }
  return expected as Event[];
}

/** Marsaglia's xorshift32, seeded: unsigned 32-bit integers, so that property tests are reproducible. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** The same generator as numbers in [0, 1). */
export function prng(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 4294967296;
}
