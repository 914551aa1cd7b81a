// Masking (RFC 6455 §5.3): the fast word loop of mask-fast.ts, at every length, alignment, key
// offset and phase, against the three-line rule of mask.ts (applyMask).
import t from 'tap';
import { applyMask, mask, unmask } from '../../src/frames/index.js';
import { hex, prng } from './helpers.js';

const reference = (data: Uint8Array, key: Uint8Array, keyOffset: number, phase: number): Buffer =>
  applyMask(data, key.subarray(keyOffset, keyOffset + 4), phase);

t.test('applyMask is §5.3 as written: the RFC 5.7 example, and its own inverse', (t) => {
  const key = hex('37 fa 21 3d');
  t.same(applyMask(Buffer.from('Hello'), key), hex('7f 9f 4d 51 58'));
  t.same(applyMask(hex('7f 9f 4d 51 58'), key), Buffer.from('Hello'));
  // A piece that starts at payload offset 2 takes key byte 2 first.
  t.same(applyMask(Buffer.from('llo'), key, 2), hex('4d 51 58'));
  const data = Buffer.from('abc');
  applyMask(data, key);
  t.same(data, Buffer.from('abc'), 'the input is left alone');
  t.end();
});

const random = prng(0x5eed);
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (random() * 256) | 0;
  return b;
};

t.test('unmask: every length to 140, every alignment, key offset and phase', (t) => {
  const key = bytes(7);
  let checked = 0;
  for (let n = 0; n <= 140; n++) {
    const data = bytes(n);
    for (let align = 0; align < 4; align++) {
      for (const keyOffset of [0, 3]) {
        for (let phase = 0; phase < 4; phase++) {
          const backing = Buffer.alloc(n + 8);
          const view = backing.subarray(align, align + n);
          data.copy(view);
          unmask(view, key, keyOffset, phase);
          if (!view.equals(reference(data, key, keyOffset, phase))) t.fail(`n=${n} align=${align} keyOffset=${keyOffset} phase=${phase}`);
          // Bytes around the view are untouched.
          if (backing.subarray(0, align).some((b) => b !== 0) || backing.subarray(align + n).some((b) => b !== 0)) t.fail('wrote outside the view');
          checked++;
        }
      }
    }
  }
  t.equal(checked, 141 * 4 * 2 * 4);
  t.end();
});

t.test('unmask defaults to key offset 0 and phase 0, and is its own inverse', (t) => {
  const key = Buffer.from([1, 2, 3, 4]);
  const data = bytes(1000);
  const copy = Buffer.from(data);
  unmask(copy, key);
  t.same(copy, reference(data, key, 0, 0));
  unmask(copy, key);
  t.same(copy, data);
  t.end();
});

t.test('a payload split anywhere unmasks like the whole (phase = offset mod 4)', (t) => {
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const data = bytes(300);
  const expected = reference(data, key, 0, 0);
  for (let at = 0; at <= 300; at++) {
    const copy = Buffer.from(data);
    unmask(copy.subarray(0, at), key, 0, 0);
    unmask(copy.subarray(at), key, 0, at & 3);
    if (!copy.equals(expected)) t.fail(`split at ${at}`);
  }
  t.pass('all 301 splits');
  t.end();
});

t.test('mask copies and masks, leaving the source alone', (t) => {
  const key = bytes(9);
  for (let n = 0; n <= 140; n++) {
    const source = bytes(n);
    const before = Buffer.from(source);
    for (const targetOffset of [0, 1, 2, 3, 6]) {
      for (const keyOffset of [0, 5]) {
        const target = Buffer.alloc(n + targetOffset + 3);
        mask(source, key, keyOffset, target, targetOffset);
        if (!target.subarray(targetOffset, targetOffset + n).equals(reference(source, key, keyOffset, 0))) {
          t.fail(`n=${n} targetOffset=${targetOffset} keyOffset=${keyOffset}`);
        }
        if (target.subarray(0, targetOffset).some((b) => b !== 0) || target.subarray(targetOffset + n).some((b) => b !== 0)) t.fail('wrote outside');
      }
    }
    if (!source.equals(before)) t.fail('source mutated');
  }
  const big = bytes(1 << 20);
  const target = Buffer.alloc(big.length + 1);
  mask(big, key, 1, target, 1);
  t.same(target.subarray(1), reference(big, key, 1, 0), '1 MiB at an odd offset');
  t.end();
});

t.test('word views: buffers over many ArrayBuffers, large ones, and resizable ones', (t) => {
  const key = Buffer.from([9, 8, 7, 6]);
  // Alternating between ArrayBuffers exercises the per-buffer view cache.
  const a = bytes(200);
  const b = bytes(200);
  const ea = reference(a, key, 0, 1);
  const eb = reference(b, key, 0, 2);
  unmask(a.subarray(0, 100), key, 0, 1);
  unmask(b.subarray(0, 100), key, 0, 2);
  unmask(a.subarray(100), key, 0, (1 + 100) & 3);
  unmask(b.subarray(100), key, 0, (2 + 100) & 3);
  t.same(a, ea);
  t.same(b, eb);
  // A range of a buffer past the cache limit (the range itself below the WebAssembly threshold): a view of just the range.
  const big = bytes(300 * 1024);
  const ebig = reference(big.subarray(1000, 5000), key, 0, 0);
  unmask(big.subarray(1000, 5000), key);
  t.same(big.subarray(1000, 5000), ebig);
  // A resizable ArrayBuffer that grows after a first unmask.
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const ab = new Resizable(64, { maxByteLength: 1024 });
  const first = Buffer.from(ab, 0, 64);
  unmask(first, key);
  t.same(first, reference(Buffer.alloc(64), key, 0, 0));
  ab.resize(1024);
  const later = Buffer.from(ab, 512, 256);
  unmask(later, key);
  t.same(later, reference(Buffer.alloc(256), key, 0, 0), 'bytes past the original length are unmasked too');
  t.end();
});

t.test('mask at every source and target alignment, long enough for the one-pass word loop', (t) => {
  const key = bytes(6);
  let wrong = 0;
  let cases = 0;
  for (const n of [1023, 1024, 1025, 1026, 1027, 4099, 70001]) {
    const data = bytes(n);
    for (let sourceAlign = 0; sourceAlign < 4; sourceAlign++) {
      const sourceBacking = Buffer.alloc(n + 4);
      const source = sourceBacking.subarray(sourceAlign, sourceAlign + n);
      data.copy(source);
      for (let targetOffset = 0; targetOffset < 4; targetOffset++) {
        for (const keyOffset of [0, 2]) {
          const target = Buffer.alloc(n + 8);
          mask(source, key, keyOffset, target, targetOffset);
          cases++;
          if (!target.subarray(targetOffset, targetOffset + n).equals(reference(data, key, keyOffset, 0))) wrong++;
          if (target.subarray(0, targetOffset).some((b) => b !== 0) || target.subarray(targetOffset + n).some((b) => b !== 0)) wrong++;
          if (!source.equals(data)) wrong++;
        }
      }
    }
  }
  t.equal(wrong, 0, `${cases} cases`);
  t.end();
});
