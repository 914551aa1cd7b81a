// Workloads of the codec benchmark (bench/codec.js), built the same way in every process so that
// simpatico-ws, ws pure-JS and ws with bufferutil all see identical bytes.
//
// Each workload is one "operation" of about 1 MiB of payload: N messages of one size, N = 1 MiB /
// size (at least 1). Decode streams are masked client frames, built here byte by byte with keys
// from a seeded generator (no dependency on either codec's encoder), then cut into 64 KiB chunks.

export const SIZES = [16, 125, 1024, 16 * 1024, 64 * 1024, 1024 * 1024];
export const KINDS = ['binary', 'text'];
export const CHUNK = 64 * 1024;
const OP_BYTES = 1024 * 1024;

/** A seeded xorshift32 generator: the same bytes in every process and run. */
function generator(seed) {
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

/**
 * A payload of exactly `size` bytes: random bytes for binary; for text, chat-like JSON with some
 * 2- and 3-byte UTF-8 characters (about 10% of bytes non-ASCII), cut on a code point boundary and
 * padded with spaces.
 */
export function payload(kind, size, seed = size) {
  const next = generator(seed * 2654435761 + (kind === 'text' ? 1 : 0));
  if (kind === 'binary') {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = next() & 0xff;
    return b;
  }
  const words = ['{"user":"josé",', '"msg":"héllo wörld",', '"price":"5€",', '"ok":"✓"}', ' lorem ipsum dolor sit amet,'];
  const parts = [];
  for (let bytes = 0; bytes < size; ) {
    const word = words[next() % words.length];
    parts.push(word);
    bytes += Buffer.byteLength(word);
  }
  let b = Buffer.from(parts.join(''));
  let end = size;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // do not cut inside a code point
  b = Buffer.concat([b.subarray(0, end), Buffer.alloc(size - end, 0x20)]);
  return b;
}

export function messagesPerOp(size) {
  return Math.max(1, Math.floor(OP_BYTES / size));
}

/** RFC 6455 §5.2 header + §5.3 masking, written out independently of both codecs. */
function maskedFrame(opcode, data, next) {
  const n = data.length;
  const headerLength = (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(n, 6);
  }
  const k = headerLength - 4;
  frame.writeUInt32BE(next(), k);
  for (let i = 0; i < n; i++) frame[headerLength + i] = data[i] ^ frame[k + (i & 3)];
  return frame;
}

/** The decode workload: one stream of masked frames (one message = one frame) and its 64 KiB cuts. */
export function decodeStream(kind, size) {
  const count = messagesPerOp(size);
  const data = payload(kind, size);
  const next = generator(0x5eed + size);
  const frames = [];
  for (let i = 0; i < count; i++) frames.push(maskedFrame(kind === 'text' ? 1 : 2, data, next));
  const pristine = Buffer.concat(frames);
  return { pristine, count, data };
}

/**
 * Feeds `pristine` in 64 KiB chunks to `push`, each chunk in memory of its own as a socket read
 * delivers it (a receiver may keep a view of a chunk; a view of one big buffer would pin all of it).
 * Both receivers unmask in place, so each operation starts from a fresh copy of the masked bytes:
 * one Buffer.copy of the stream per operation, the same for every implementation (its cost is the
 * Buffer.copy row).
 */
export function feeder(pristine) {
  const chunks = [];
  for (let at = 0; at < pristine.length; at += CHUNK) chunks.push(Buffer.allocUnsafeSlow(Math.min(pristine.length - at, CHUNK)));
  return (push) => {
    for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) {
      pristine.copy(chunks[i], 0, at, at + chunks[i].length);
      push(chunks[i]);
    }
  };
}
