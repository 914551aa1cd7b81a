/**
 * Masking (RFC 6455 §5.3) fast: the rule of mask.ts, `octet i ^ key[i mod 4]`, for the codec's
 * hottest loop (a server unmasks every byte it receives).
 *
 * From 8 KiB it hands the range to mask-wasm.ts (WebAssembly SIMD). Below, it works 64 bits at a
 * time: the bytes up to the first 8-byte-aligned address go one by one, the aligned middle goes
 * through a `BigUint64Array` view with the key repeated and rotated into one 64-bit word, and the
 * last 0–7 bytes go one by one again. (V8 compiles 64-bit BigInt XOR on typed
 * arrays to plain machine XORs; measured here it moves twice the bytes of the same loop over an
 * `Int32Array`.)
 */

import { kernel, WASM_THRESHOLD, xorRangeWasm } from './mask-wasm.js';

/**
 * Below this many bytes a plain byte loop beats the word loop's setup. Measured here (a range of a
 * 64 KiB chunk, as socket reads come): the byte loop takes ~52 ns for 63 bytes and grows ~0.6 ns a
 * byte; the word loop ~65 ns from 64 to 128 bytes. They cross near 85 bytes.
 */
const WORD_THRESHOLD = 96;

/** Scratch to turn the key, twice, into one 64-bit word in the platform's byte order (no endianness test). */
const keyBytes = new Uint8Array(8);
const keyWord = new BigUint64Array(keyBytes.buffer);

/**
 * One `BigUint64Array` over a whole (small) ArrayBuffer, reused while frames keep coming from the
 * same one: a 64 KiB socket chunk holds many frames, and creating a typed array view per frame
 * would cost more than XORing a 1 KiB payload. Only buffers up to `VIEW_CACHE_LIMIT` are cached, so
 * the cache keeps at most that much memory alive.
 */
const VIEW_CACHE_LIMIT = 256 * 1024;
let cachedBuffer: ArrayBufferLike | undefined = undefined;
let cachedView: BigUint64Array<ArrayBufferLike> = new BigUint64Array(0);

function wordView(buffer: ArrayBufferLike, byteOffset: number, words: number): BigUint64Array {
  if (buffer === cachedBuffer) return cachedView;
  // A resizable or growable buffer could outgrow a cached fixed-length view: never cache those.
  const flexible = (buffer as { resizable?: boolean }).resizable === true || (buffer as { growable?: boolean }).growable === true;
  if (flexible || buffer.byteLength > VIEW_CACHE_LIMIT) return new BigUint64Array(buffer, byteOffset, words);
  cachedBuffer = buffer;
  cachedView = new BigUint64Array(buffer, 0, buffer.byteLength >>> 3);
  return cachedView;
}

/**
 * XORs `buffer[start .. end)` in place with the masking key `key` — its four bytes as one unsigned
 * 32-bit number, first byte highest (see {@link readKey}) — where `buffer[start]` takes key byte
 * `phase` (0..3). Internal: the Receiver calls it on chunk ranges before slicing them, and
 * `mask`/`unmask` are thin wrappers. A key held as a number costs a connection no Buffer.
 */
export function xorRange(buffer: Uint8Array, start: number, end: number, key: number, phase: number): void {
  let i = start;
  // Large ranges: WebAssembly SIMD, sixteen bytes at a time (mask-wasm.ts says when it pays).
  if (end - start >= WASM_THRESHOLD && kernel !== undefined) return xorRangeWasm(kernel, buffer, start, end, key, phase);
  if (end - start >= WORD_THRESHOLD) {
    // Head: byte by byte up to the first 8-byte-aligned address. At most 7 bytes.
    const head = (8 - ((buffer.byteOffset + start) & 7)) & 7;
    for (let j = 0; j < head; j++) buffer[i + j] ^= keyByte(key, phase + j);
    i += head;
    // The aligned part starts at key byte (phase + head) mod 4; spell the key out from there, twice.
    const rotation = phase + head;
    for (let j = 0; j < 8; j++) keyBytes[j] = keyByte(key, rotation + j);
    const word = keyWord[0];
    const words = (end - i) >>> 3;
    const view = wordView(buffer.buffer, buffer.byteOffset + i, words);
    // Index of the first word in `view`: 0 for a fresh view, the absolute word index for the cached one.
    let w = view === cachedView ? (buffer.byteOffset + i) >>> 3 : 0;
    const stop = w + words;
    // Unrolled by 4: fewer loop checks per word.
    for (const last = stop - 3; w < last; w += 4) {
      view[w] ^= word;
      view[w + 1] ^= word;
      view[w + 2] ^= word;
      view[w + 3] ^= word;
    }
    for (; w < stop; w++) view[w] ^= word;
    i += words << 3;
    // The tail starts on a word boundary of the aligned part, so its key starts at keyBytes[0].
    for (let j = 0; i < end; i++, j++) buffer[i] ^= keyBytes[j];
    return;
  }
  const k0 = keyByte(key, phase);
  const k1 = keyByte(key, phase + 1);
  const k2 = keyByte(key, phase + 2);
  const k3 = keyByte(key, phase + 3);
  for (const last = end - 3; i < last; i += 4) {
    buffer[i] ^= k0;
    buffer[i + 1] ^= k1;
    buffer[i + 2] ^= k2;
    buffer[i + 3] ^= k3;
  }
  if (i < end) buffer[i++] ^= k0;
  if (i < end) buffer[i++] ^= k1;
  if (i < end) buffer[i] ^= k2;
}

/**
 * Unmasks (or masks: XOR is its own inverse) `buffer` in place with the 4-byte key at
 * `key[keyOffset]`. `phase` (0..3) is the key byte that `buffer[0]` takes: when a payload is split
 * across TCP chunks, a piece that starts at payload offset `n` is unmasked with phase `n & 3`
 * (RFC 6455 §5.3: the key index is the byte's position in the whole payload, mod 4).
 */
export function unmask(buffer: Buffer, key: Buffer, keyOffset = 0, phase = 0): void {
  xorRange(buffer, 0, buffer.length, readKey(key, keyOffset), phase);
}

/** The four key bytes at `bytes[offset]` as one unsigned 32-bit number, first byte highest. */
export function readKey(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** Key byte `index` mod 4 of a key held as a number. */
function keyByte(key: number, index: number): number {
  return (key >>> (24 - ((index & 3) << 3))) & 0xff;
}

/**
 * Copies `source` into `target` at `targetOffset`, masked: `target[targetOffset + i] =
 * source[i] ^ key[keyOffset + (i & 3)]`. `source` is left untouched (RFC 6455 §5.3 masking as a
 * client sends: the caller's data must not change under it). `source` may be the very bytes of
 * `target` at `targetOffset` (masking in place), but must not otherwise overlap it or the key.
 */
export function mask(source: Buffer, key: Buffer, keyOffset: number, target: Buffer, targetOffset: number): void {
  const length = source.length;
  if (length < WORD_THRESHOLD) {
    const k0 = key[keyOffset];
    const k1 = key[keyOffset + 1];
    const k2 = key[keyOffset + 2];
    const k3 = key[keyOffset + 3];
    let i = 0;
    for (const last = length - 3; i < last; i += 4) {
      target[targetOffset + i] = source[i] ^ k0;
      target[targetOffset + i + 1] = source[i + 1] ^ k1;
      target[targetOffset + i + 2] = source[i + 2] ^ k2;
      target[targetOffset + i + 3] = source[i + 3] ^ k3;
    }
    if (i < length) target[targetOffset + i] = source[i++] ^ k0;
    if (i < length) target[targetOffset + i] = source[i++] ^ k1;
    if (i < length) target[targetOffset + i] = source[i] ^ k2;
    return;
  }
  xorCopy(source, 0, length, readKey(key, keyOffset), 0, target, targetOffset);
}

/**
 * Writes `source[start .. end)` XOR the masking key to `target` from `targetStart`, where
 * `source[start]` takes key byte `phase` (0..3) of `key` (a number, as in {@link xorRange}).
 * Internal: the one pass that both copies and (un)masks, for bytes that must be copied anyway — a
 * client's masked send, or a piece of a frame that spans TCP chunks on its way into the message's
 * buffer (payload-buffer.ts). Unmasking in place first and copying after would move every byte
 * twice more (§5.3 lets the XOR happen wherever the bytes are). `source` may be `target` at the
 * same offset, and must not otherwise overlap it.
 */
export function xorCopy(source: Uint8Array, start: number, end: number, key: number, phase: number, target: Uint8Array, targetStart: number): void {
  // Large: through WebAssembly's memory, from source to target (two copies in cache, no third).
  if (end - start >= WASM_THRESHOLD && kernel !== undefined) return xorRangeWasm(kernel, source, start, end, key, phase, target, targetStart);
  // Copy (a memcpy, faster still than the XOR), then XOR the copy in place by 64-bit words.
  if (source.buffer !== target.buffer || source.byteOffset + start !== target.byteOffset + targetStart) {
    target.set(source.subarray(start, end), targetStart);
  }
  xorRange(target, targetStart, targetStart + end - start, key, phase);
}
