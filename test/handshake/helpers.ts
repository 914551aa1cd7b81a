// Shared helpers for the handshake tests: feed bytes in chosen chunkings and normalise the outcome.
import {
  RequestHeadParser,
  ResponseHeadParser,
  type HeadParserOptions,
  type RequestHead,
  type ResponseHead,
} from '../../src/handshake/index.js';

/** The example request of the seed notes (003, 004), which is also RFC 6455 §1.2's. */
export const SEED_REQUEST =
  'GET /chat HTTP/1.1\r\n' +
  'Host: example.com:8000\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

export const SEED_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  '\r\n';

export type Outcome<T> =
  | { state: 'incomplete' }
  | { state: 'complete'; head: T; rest: string }
  | { state: 'error'; code: string; status: number | undefined; message: string };

/** Push `bytes` cut at `cuts` (sorted offsets); stop at the first non-incomplete answer. */
export function feed<T extends RequestHead | ResponseHead>(
  parser: { push(chunk: Buffer): import('../../src/handshake/index.js').HeadResult<T> },
  bytes: Buffer,
  cuts: readonly number[],
): Outcome<T> {
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const result = parser.push(bytes.subarray(bounds[i], bounds[i + 1]));
    if (result.state === 'complete') {
      // The rest of this chunk plus every chunk not pushed: all bytes after the head.
      const rest = Buffer.concat([result.rest, bytes.subarray(bounds[i + 1])]);
      return { state: 'complete', head: { ...result.head, headers: { ...result.head.headers } }, rest: rest.toString('latin1') };
    }
    if (result.state === 'error') {
      return { state: 'error', code: result.error.code, status: result.error.status, message: result.error.message };
    }
  }
  return { state: 'incomplete' };
}

export function parseRequest(text: string | Buffer, cuts: readonly number[] = [], options?: HeadParserOptions): Outcome<RequestHead> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return feed(new RequestHeadParser(options), bytes, cuts);
}

export function parseResponse(text: string | Buffer, cuts: readonly number[] = [], options?: HeadParserOptions): Outcome<ResponseHead> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return feed(new ResponseHeadParser(options), bytes, cuts);
}

/** Offsets 1..n-1: one byte per chunk. */
export function everyByte(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

/** A small seeded PRNG (mulberry32), so a failing random case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random sorted cut points for `length` bytes. */
export function randomCuts(random: () => number, length: number): number[] {
  const cuts = new Set<number>();
  const count = Math.floor(random() * 6);
  for (let i = 0; i < count && length > 1; i++) cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** Split a complete HTTP message into its head (parsed) and body. */
export function splitResponse(bytes: Buffer): { head: ResponseHead; body: string } {
  const parser = new ResponseHeadParser();
  const result = parser.push(bytes);
  if (result.state !== 'complete') throw new Error(`not a complete response: ${bytes.toString('latin1')}`);
  return { head: result.head, body: result.rest.toString('utf8') };
}
