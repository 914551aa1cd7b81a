// Unmasking while copying (src/frames/mask-fast.ts `xorCopy`, used by payload-buffer.ts for the
// pieces of a frame that spans TCP chunks): every path compared with applyMask (mask.ts, the
// three-line rule of RFC 6455 §5.3) on every length 0–300, every alignment and phase, the edges of
// the WebAssembly pieces, random sizes to 16 MiB, and frames cut at chunk boundaries anywhere.
import t from 'tap';
import { applyMask, FrameParser, Receiver } from '../../src/frames/index.js';
import { readKey, xorCopy } from '../../src/frames/mask-fast.js';
import { PIECE, WASM_THRESHOLD } from '../../src/frames/mask-wasm.js';
import { PayloadBuffer } from '../../src/frames/payload-buffer.js';
import { Utf8Validator } from '../../src/frames/utf8.js';
import { RecordingSink, buildFrame, prng } from './helpers.js';

const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const keyNumber = readKey(key, 0);

function bytes(n: number, seed = n + 1): Buffer {
  const random = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (random() * 256) | 0;
  return b;
}

/** xorCopy from `data` at source alignment `sa` into a fresh target at alignment `ta`, with `phase`; checked against applyMask, and the source and the target's surroundings left alone. */
function check(data: Buffer, sa: number, ta: number, phase: number): string | undefined {
  const n = data.length;
  const source = Buffer.alloc(n + sa + 1, 0xaa);
  data.copy(source, sa);
  const target = Buffer.alloc(n + ta + 1, 0xee);
  xorCopy(source, sa, sa + n, keyNumber, phase, target, ta);
  if (!target.subarray(ta, ta + n).equals(applyMask(data, key, phase))) return 'masked bytes';
  if (!source.subarray(sa, sa + n).equals(data)) return 'source changed';
  if ((ta > 0 && target[ta - 1] !== 0xee) || target[ta + n] !== 0xee) return 'wrote outside the range';
  return undefined;
}

t.test('xorCopy: every length 0..300, every source and target alignment, every phase', (t) => {
  let failures = 0;
  let cases = 0;
  for (let n = 0; n <= 300; n++) {
    const data = bytes(n);
    for (let sa = 0; sa < 8; sa++) {
      for (let ta = 0; ta < 8; ta++) {
        for (let phase = 0; phase < 4; phase++) {
          cases++;
          const wrong = check(data, sa, ta, phase);
          if (wrong !== undefined && failures++ < 5) t.fail(`length ${n}, alignments ${sa}/${ta}, phase ${phase}: ${wrong}`);
        }
      }
    }
  }
  t.equal(failures, 0, `${cases} cases`);
  t.end();
});

t.test('xorCopy: the threshold and the edges of the 16 KiB pieces, and random sizes to 16 MiB', (t) => {
  const sizes = [WASM_THRESHOLD - 1, WASM_THRESHOLD, WASM_THRESHOLD + 1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE + 3, 4 * PIECE];
  const random = prng(17);
  for (let i = 0; i < 5; i++) sizes.push(1 + Math.floor(random() * 16 * 1024 * 1024));
  sizes.push(16 * 1024 * 1024);
  for (const n of sizes) {
    const data = bytes(n, 3);
    const phase = n & 3;
    const alignment = n % 7;
    t.equal(check(data, alignment, 7 - alignment, phase), undefined, `${n} bytes, phase ${phase}`);
  }
  // In place: the source is the target at the same offset.
  const data = bytes(3 * PIECE + 5);
  const inPlace = Buffer.from(data);
  xorCopy(inPlace, 1, inPlace.length, keyNumber, 2, inPlace, 1);
  t.ok(inPlace.subarray(1).equals(applyMask(data.subarray(1), key, 2)));
  t.equal(inPlace[0], data[0]);
  t.end();
});

/** `data` masked from payload offset 0, cut at `cuts`, each piece in memory of its own (as socket reads come). */
function maskedPieces(data: Buffer, cuts: number[]): { piece: Buffer; phase: number }[] {
  const masked = applyMask(data, key);
  const out: { piece: Buffer; phase: number }[] = [];
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    const piece = Buffer.allocUnsafeSlow(cut - at);
    masked.copy(piece, 0, at, cut);
    out.push({ piece, phase: at & 3 });
    at = cut;
  }
  return out;
}

t.test('PayloadBuffer: masked pieces, copied into blocks or kept as they are, unmask to the payload', (t) => {
  const random = prng(5);
  for (let round = 0; round < 40; round++) {
    const n = 1 + Math.floor(random() * 300_000);
    const data = bytes(n, round);
    const cuts = new Set<number>();
    const count = Math.floor(random() * 12);
    for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(random() * (n - 1)));
    const sorted = [...cuts].filter((c) => c > 0 && c < n).sort((a, b) => a - b);
    const buffer = new PayloadBuffer();
    for (const { piece, phase } of maskedPieces(data, sorted)) buffer.add(piece, n, n, keyNumber, phase);
    t.equal(buffer.length, n);
    if (!buffer.take().equals(data)) t.fail(`${n} bytes cut at ${sorted.join(',')}`);
  }
  // A whole-memory piece of 16 KiB or more after a full block is kept, and unmasked in place.
  const data = bytes(40_000, 9);
  const buffer = new PayloadBuffer();
  const pieces = maskedPieces(data, [3, 20_003]);
  buffer.add(pieces[0].piece, 3, 3, keyNumber, pieces[0].phase); // a block of exactly 3 bytes: full
  buffer.add(pieces[1].piece, 20_003, 40_000, keyNumber, pieces[1].phase);
  t.ok(pieces[1].piece.equals(data.subarray(3, 20_003)), 'the kept chunk itself was unmasked in place (phase 3)');
  t.equal(buffer.memory, 3 + 20_000, 'kept, not copied: no block for it');
  buffer.add(pieces[2].piece, 40_000, 40_000, keyNumber, pieces[2].phase);
  t.ok(buffer.take().equals(data));
  t.end();
});

t.test('Receiver and FrameParser: masked frames cut anywhere across chunks deliver the payload', (t) => {
  const random = prng(11);
  const keys = [key, Buffer.from([1, 2, 3, 4]), Buffer.from([0xff, 0, 0x80, 0x7f])];
  for (let round = 0; round < 30; round++) {
    const n = round < 4 ? [WASM_THRESHOLD, PIECE + 1, 65_536, 70_001][round] : 1 + Math.floor(random() * 200_000);
    const data = bytes(n, 100 + round);
    // Binary, in 1–3 fragments with different keys; the FrameParser gets the same frames.
    const fragments = 1 + (round % 3);
    const frames: Buffer[] = [];
    const size = Math.ceil(n / fragments);
    for (let f = 0, at = 0; at < n || f === 0; f++, at += size) {
      const last = at + size >= n;
      frames.push(buildFrame({ opcode: f === 0 ? 2 : 0, fin: last, payload: data.subarray(at, at + size), key: keys[f % 3] }));
      if (last) break;
    }
    const stream = Buffer.concat(frames);
    // Chunks of random sizes (some large), each in memory of its own.
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const len = Math.min(stream.length - at, 1 + Math.floor(random() * (random() < 0.5 ? 100 : 70_000)));
      const chunk = Buffer.allocUnsafeSlow(len);
      stream.copy(chunk, 0, at, at + len);
      chunks.push(chunk);
      at += len;
    }
    const sink = new RecordingSink();
    const receiver = new Receiver({ role: 'server', maxPayload: Infinity }, sink);
    const parser = new FrameParser({ role: 'server', maxPayload: Infinity });
    const parsed: Buffer[] = [];
    for (const chunk of chunks) {
      const copy = Buffer.allocUnsafeSlow(chunk.length);
      chunk.copy(copy);
      receiver.push(chunk);
      for (const frame of parser.push(copy)) parsed.push(frame.payload);
    }
    t.same(sink.errors, [], `round ${round}: no error`);
    t.equal(sink.payloads.length, 1);
    if (!sink.payloads[0]?.equals(data)) t.fail(`round ${round}: ${n} bytes in ${fragments} fragments, ${chunks.length} chunks (Receiver)`);
    if (!Buffer.concat(parsed).equals(data)) t.fail(`round ${round}: ${n} bytes (FrameParser)`);
  }
  t.end();
});

t.test('PayloadBuffer: a check sees the unmasked bytes as they land, and stops at the first bad one', (t) => {
  const text = Buffer.from('héllo wörld, ✓ '.repeat(3000)); // 54,000 bytes of valid UTF-8
  const n = text.length;
  const run = (bad: number | undefined, cuts: number[], keep: boolean): boolean => {
    const data = Buffer.from(text);
    if (bad !== undefined) data[bad] = 0xff; // never valid in UTF-8
    const buffer = new PayloadBuffer();
    const validator = new Utf8Validator();
    for (const { piece, phase } of maskedPieces(data, cuts)) {
      // keep: the first piece gets a block of exactly its size, so a later large piece is kept as it is.
      if (!buffer.add(piece, keep ? piece.length : n, n, keyNumber, phase, validator)) return false;
    }
    return validator.complete && buffer.take().equals(data);
  };
  t.ok(run(undefined, [5, 30_000], false), 'valid text, copied: held and unmasked');
  t.ok(run(undefined, [5, 30_000], true), 'valid text, a chunk kept');
  t.notOk(run(3, [5, 30_000], false), 'bad byte in the first block');
  t.notOk(run(10, [5, 30_000], false), 'bad byte in the room of a block');
  t.notOk(run(40_000, [5, 30_000], true), 'bad byte in a kept chunk');
  t.notOk(run(30_001, [5, 30_000], true), 'bad byte in a new block after a kept chunk');
  t.end();
});

t.test('Receiver: masked text cut anywhere is validated as it lands, and fails at the chunk with the bad byte', (t) => {
  const text = Buffer.from('{"user":"josé","msg":"héllo wörld","price":"5€"} '.repeat(3000));
  const random = prng(23);
  for (let round = 0; round < 20; round++) {
    let end = 1000 + Math.floor(random() * (text.length - 1000));
    while ((text[end] & 0xc0) === 0x80) end--; // cut on a code point boundary
    const data = Buffer.from(text.subarray(0, end));
    const bad = round % 2 === 1 ? Math.floor(random() * data.length) : -1;
    if (bad >= 0) data[bad] = 0xff;
    const stream = Buffer.concat([buildFrame({ opcode: 1, fin: false, payload: data.subarray(0, 700), key }), buildFrame({ opcode: 0, payload: data.subarray(700), key: [9, 8, 7, 6] })]);
    const sink = new RecordingSink();
    const receiver = new Receiver({ role: 'server', maxPayload: Infinity }, sink);
    let failedAt = -1;
    for (let at = 0; at < stream.length; ) {
      const len = Math.min(stream.length - at, 1 + Math.floor(random() * 40_000));
      const chunk = Buffer.allocUnsafeSlow(len);
      stream.copy(chunk, 0, at, at + len);
      receiver.push(chunk);
      at += len;
      if (failedAt < 0 && sink.errors.length > 0) failedAt = at;
    }
    if (bad < 0) {
      t.ok(sink.errors.length === 0 && sink.payloads[0]?.equals(data), `round ${round}: ${data.length} bytes of text`);
    } else {
      t.equal(sink.errors[0]?.closeCode, 1007, `round ${round}: invalid text fails with 1007`);
      const second = data.length - 700 < 65536 ? 8 : 14; // the second header: 16- or 64-bit length form
      const badAt = bad < 700 ? 8 + bad : 8 + 700 + second + bad - 700; // its offset in the stream
      t.ok(failedAt > badAt - 4 && failedAt - badAt <= 40_000 + 3, `round ${round}: failed at the chunk holding byte ${badAt} (or the one completing its code point)`);
    }
  }
  t.end();
});
