/**
 * Masking (RFC 6455 §5.3): every byte of a client-to-server payload is XORed with one of the
 * four bytes of a masking key, `octet i ^ key[i mod 4]`. The same XOR both masks and unmasks.
 *
 * This is the server's hottest loop, so it works a 32-bit word at a time: the bytes up to the
 * first 4-byte-aligned address go one by one, the aligned middle goes through an `Int32Array`
 * view with the key rotated into one word, and the last 0–3 bytes go one by one again.
 */
import { randomFillSync } from 'node:crypto';

/** Below this many bytes a plain byte loop beats the word loop's setup. */
const WORD_THRESHOLD = 32;

/** From this many bytes `mask` reads and writes words in one pass when source and target align alike. */
const FUSED_THRESHOLD = 1024;

/** Scratch to turn four key bytes into one word in the platform's byte order (no endianness test). */
const keyBytes = new Uint8Array(4);
const keyWord = new Int32Array(keyBytes.buffer);

/**
 * One `Int32Array` over a whole (small) ArrayBuffer, reused while frames keep coming from the same
 * one: a 64 KiB socket chunk holds many frames, and creating a typed array view per frame would cost
 * more than XORing a 1 KiB payload. Only buffers up to `VIEW_CACHE_LIMIT` are cached, so the cache
 * keeps at most that much memory alive.
 */
const VIEW_CACHE_LIMIT = 256 * 1024;
let cachedBuffer: ArrayBufferLike | undefined = undefined;
let cachedView: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordView(buffer: ArrayBufferLike, byteOffset: number, words: number): Int32Array {
  if (buffer === cachedBuffer) return cachedView;
  // A resizable or growable buffer could outgrow a cached fixed-length view: never cache those.
  const flexible = (buffer as { resizable?: boolean }).resizable === true || (buffer as { growable?: boolean }).growable === true;
  if (flexible || buffer.byteLength > VIEW_CACHE_LIMIT) return new Int32Array(buffer, byteOffset, words);
  cachedBuffer = buffer;
  cachedView = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  return cachedView;
}

/**
 * XORs `buffer[start .. end)` in place with the key at `key[keyOffset .. keyOffset + 4)`, where
 * `buffer[start]` takes key byte `phase` (0..3). Internal: the Receiver calls it on chunk ranges
 * before slicing them, and `mask`/`unmask` are thin wrappers.
 */
export function xorRange(
  buffer: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
  keyOffset: number,
  phase: number,
): void {
  // k0..k3: the key bytes for positions start, start+1, start+2, start+3.
  const k0 = key[keyOffset + (phase & 3)];
  const k1 = key[keyOffset + ((phase + 1) & 3)];
  const k2 = key[keyOffset + ((phase + 2) & 3)];
  const k3 = key[keyOffset + ((phase + 3) & 3)];
  let i = start;
  if (end - start >= WORD_THRESHOLD) {
    // Head: byte by byte up to the first aligned address. At most 3 bytes.
    const head = (4 - ((buffer.byteOffset + start) & 3)) & 3;
    keyBytes[0] = k0;
    keyBytes[1] = k1;
    keyBytes[2] = k2;
    keyBytes[3] = k3;
    for (let j = 0; j < head; j++) buffer[i + j] ^= keyBytes[j];
    i += head;
    // The key byte for position start+j is k[j & 3]; rotate by `head` for the aligned part.
    keyBytes[0] = head === 0 ? k0 : head === 1 ? k1 : head === 2 ? k2 : k3;
    keyBytes[1] = head === 0 ? k1 : head === 1 ? k2 : head === 2 ? k3 : k0;
    keyBytes[2] = head === 0 ? k2 : head === 1 ? k3 : head === 2 ? k0 : k1;
    keyBytes[3] = head === 0 ? k3 : head === 1 ? k0 : head === 2 ? k1 : k2;
    const word = keyWord[0];
    const words = (end - i) >>> 2;
    const view = wordView(buffer.buffer, buffer.byteOffset + i, words);
    // Index of the first word in `view`: 0 for a fresh view, the absolute word index for the cached one.
    let w = view === cachedView ? (buffer.byteOffset + i) >>> 2 : 0;
    const stop = w + words;
    // Unrolled by 8: fewer loop checks per word; V8 keeps the bounds checks cheap.
    for (const last = stop - 7; w < last; w += 8) {
      view[w] ^= word;
      view[w + 1] ^= word;
      view[w + 2] ^= word;
      view[w + 3] ^= word;
      view[w + 4] ^= word;
      view[w + 5] ^= word;
      view[w + 6] ^= word;
      view[w + 7] ^= word;
    }
    for (; w < stop; w++) view[w] ^= word;
    i += words << 2;
    // The tail starts on a word boundary of the aligned part, so its key starts at keyBytes[0].
    const t0 = keyBytes[0];
    const t1 = keyBytes[1];
    const t2 = keyBytes[2];
    if (i < end) buffer[i++] ^= t0;
    if (i < end) buffer[i++] ^= t1;
    if (i < end) buffer[i] ^= t2;
    return;
  }
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
  xorRange(buffer, 0, buffer.length, key, keyOffset, phase);
}

/**
 * Copies `source` into `target` at `targetOffset`, masked: `target[targetOffset + i] =
 * source[i] ^ key[keyOffset + (i & 3)]`. `source` is left untouched (RFC 6455 §5.3 masking as a
 * client sends: the caller's data must not change under it).
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
  const to = target.byteOffset + targetOffset;
  if (length < FUSED_THRESHOLD || ((source.byteOffset ^ to) & 3) !== 0) {
    // Different alignments (or a short payload): copy (a memcpy, far faster than the XOR), then XOR
    // the copy in place by words.
    source.copy(target, targetOffset);
    xorRange(target, targetOffset, targetOffset + length, key, keyOffset, 0);
    return;
  }
  // Same alignment mod 4: one pass, reading source words and writing masked target words.
  const head = (4 - (to & 3)) & 3;
  for (let j = 0; j < head; j++) target[targetOffset + j] = source[j] ^ key[keyOffset + j];
  keyBytes[0] = key[keyOffset + (head & 3)];
  keyBytes[1] = key[keyOffset + ((head + 1) & 3)];
  keyBytes[2] = key[keyOffset + ((head + 2) & 3)];
  keyBytes[3] = key[keyOffset + ((head + 3) & 3)];
  const word = keyWord[0];
  const words = (length - head) >>> 2;
  const from = new Int32Array(source.buffer, source.byteOffset + head, words);
  const into = new Int32Array(target.buffer, to + head, words);
  let w = 0;
  for (const last = words - 7; w < last; w += 8) {
    into[w] = from[w] ^ word;
    into[w + 1] = from[w + 1] ^ word;
    into[w + 2] = from[w + 2] ^ word;
    into[w + 3] = from[w + 3] ^ word;
    into[w + 4] = from[w + 4] ^ word;
    into[w + 5] = from[w + 5] ^ word;
    into[w + 6] = from[w + 6] ^ word;
    into[w + 7] = from[w + 7] ^ word;
  }
  for (; w < words; w++) into[w] = from[w] ^ word;
  for (let i = head + (words << 2), k = 0; i < length; i++, k++) target[targetOffset + i] = source[i] ^ keyBytes[k];
}

/**
 * Masking keys come from `crypto.randomFillSync` (RFC 6455 §5.3: "derived from a strong source of
 * entropy"), drawn 8 KiB at a time: one system call per 2048 frames instead of one per frame.
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Copies a fresh 4-byte masking key into `target[offset .. offset + 4)`. */
export function writeMaskKey(target: Buffer, offset: number): void {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  target[offset] = pool[poolOffset];
  target[offset + 1] = pool[poolOffset + 1];
  target[offset + 2] = pool[poolOffset + 2];
  target[offset + 3] = pool[poolOffset + 3];
  poolOffset += 4;
}
