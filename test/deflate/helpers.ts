// Helpers for the codec tests: a small independent DEFLATE decoder (RFC 1951) that reports how far
// back each match reaches, payload generators, and chunkings.
import { xorshift32 } from '../frames/helpers.js';

/**
 * Decode a raw DEFLATE stream (RFC 1951 §3.2) written from scratch for the tests, independent of
 * zlib: returns the output, the farthest back-reference, and whether it ended at a BFINAL block.
 * `history` is output from earlier messages (context takeover), which matches may refer into.
 * Stops at the end of the input, which must fall on a block boundary (as after a sync flush).
 */
export function decodeDeflate(input: Buffer, history: Buffer = Buffer.alloc(0)): { output: Buffer; maxDistance: number; final: boolean } {
  let bitBuffer = 0;
  let bitCount = 0;
  let position = 0;
  const out: number[] = [...history];
  let maxDistance = 0;

  const bits = (n: number): number => {
    while (bitCount < n) {
      if (position >= input.length) throw new Error('ran out of input inside a block');
      bitBuffer |= (input[position++] as number) << bitCount;
      bitCount += 8;
    }
    const value = bitBuffer & ((1 << n) - 1);
    bitBuffer >>>= n;
    bitCount -= n;
    return value;
  };

  interface Huffman {
    count: number[];
    symbol: number[];
  }
  const build = (lengths: number[]): Huffman => {
    const count = new Array<number>(16).fill(0);
    for (const length of lengths) count[length]++;
    count[0] = 0;
    const offsets = new Array<number>(16).fill(0);
    for (let len = 1; len < 16; len++) offsets[len] = (offsets[len - 1] as number) + (count[len - 1] as number);
    const symbol = new Array<number>(lengths.length).fill(0);
    lengths.forEach((length, s) => {
      if (length !== 0) symbol[offsets[length]++] = s;
    });
    return { count, symbol };
  };
  const decode = (h: Huffman): number => {
    // Canonical codes (RFC 1951 §3.2.2), read one bit at a time, most significant first.
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const count = h.count[len] as number;
      if (code - first < count) return h.symbol[index + code - first] as number;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('invalid Huffman code');
  };

  const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
  const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
  const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
  const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

  const codes = (lit: Huffman, dist: Huffman): void => {
    for (;;) {
      const symbol = decode(lit);
      if (symbol < 256) {
        out.push(symbol);
      } else if (symbol === 256) {
        return;
      } else {
        const l = symbol - 257;
        const length = (LBASE[l] as number) + bits(LEXT[l] as number);
        const d = decode(dist);
        const distance = (DBASE[d] as number) + bits(DEXT[d] as number);
        if (distance > out.length) throw new Error(`distance ${distance} before the start of the data`);
        maxDistance = Math.max(maxDistance, distance);
        for (let i = 0; i < length; i++) out.push(out[out.length - distance] as number);
      }
    }
  };

  const fixedLit = build([...new Array(144).fill(8), ...new Array(112).fill(9), ...new Array(24).fill(7), ...new Array(8).fill(8)]);
  const fixedDist = build(new Array(30).fill(5));
  const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

  let final = false;
  while (!final && position < input.length) {
    final = bits(1) === 1;
    const type = bits(2);
    if (type === 0) {
      bitBuffer = 0; // stored block: skip to the byte boundary
      bitCount = 0;
      const length = input.readUInt16LE(position);
      const nlength = input.readUInt16LE(position + 2);
      if ((length ^ 0xffff) !== nlength) throw new Error('stored block lengths do not match');
      position += 4;
      out.push(...input.subarray(position, position + length));
      position += length;
    } else if (type === 1) {
      codes(fixedLit, fixedDist);
    } else if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      const lengths = new Array<number>(19).fill(0);
      for (let i = 0; i < ncode; i++) lengths[ORDER[i] as number] = bits(3);
      const lencode = build(lengths);
      const all: number[] = [];
      while (all.length < nlen + ndist) {
        const symbol = decode(lencode);
        if (symbol < 16) all.push(symbol);
        else if (symbol === 16) all.push(...new Array(3 + bits(2)).fill(all[all.length - 1]));
        else if (symbol === 17) all.push(...new Array(3 + bits(3)).fill(0));
        else all.push(...new Array(11 + bits(7)).fill(0));
      }
      codes(build(all.slice(0, nlen)), build(all.slice(nlen)));
    } else {
      throw new Error('invalid block type 3');
    }
  }
  return { output: Buffer.from(out.slice(history.length)), maxDistance, final };
}

/** A seeded xorshift32 generator (the frames tests' own). */
export const generator = xorshift32;

/** `size` bytes of chat-like JSON (compressible, with some non-ASCII), the same for a seed. */
export function json(size: number, seed = 1): Buffer {
  const next = generator(seed);
  const names = ['josé', 'ana', 'wei', 'zoë', 'li'];
  const words = ['héllo', 'world', 'price', '5€', 'ok', '✓', 'lorem', 'ipsum'];
  let text = '';
  while (Buffer.byteLength(text) < size) {
    text += `{"id":${next() % 100000},"user":"${names[next() % names.length]}","msg":"${words[next() % words.length]} ${words[next() % words.length]}","ts":${1700000000 + (next() % 1000000)}},`;
  }
  return Buffer.from(text).subarray(0, size);
}

/** `size` random bytes (incompressible). */
export function random(size: number, seed = 1): Buffer {
  const next = generator(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

/** `bytes` cut at the sorted offsets `cuts`. */
export function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const bounds = [0, ...cuts, bytes.length];
  const pieces: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) pieces.push(bytes.subarray(bounds[i], bounds[i + 1]));
  return pieces;
}
