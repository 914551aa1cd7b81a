// Masking in WebAssembly SIMD (mask.wat through mask-wasm.ts) against the three-line rule of
// mask.ts: every length to 300 at every alignment and phase, the edges of its 16 KiB pieces, and
// random sizes to 16 MiB; the committed bytes are what mask.wat assembles to.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as frames from '../../src/frames/index.js';
import { applyMask, unmask } from '../../src/frames/index.js';
import { MASK_WASM } from '../../src/frames/mask-wasm-bytes.js';
import { PIECE, WASM_THRESHOLD, kernel, loadKernel, xorRangeWasm, type Kernel } from '../../src/frames/mask-wasm.js';
import { prng } from './helpers.js';

const random = prng(0x3a5c);
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (random() * 256) | 0;
  return b;
};
const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const keyNumber = key.readUInt32BE(0);

t.test('the kernel loads on every Node this package supports (WebAssembly SIMD is on since Node 16)', (t) => {
  t.ok(kernel, 'the module compiled and instantiated');
  t.equal(Buffer.from(MASK_WASM, 'base64').subarray(0, 4).toString('latin1'), '\0asm', 'the bytes are a WebAssembly module');
  t.end();
});

const k = kernel as Kernel;

t.test('every length 0..300, every alignment and phase, against applyMask', (t) => {
  let wrong = 0;
  let checked = 0;
  for (let n = 0; n <= 300; n++) {
    const data = bytes(n);
    for (let align = 0; align < 16; align++) {
      for (let phase = 0; phase < 4; phase++) {
        const backing = Buffer.alloc(n + 32, 0xee);
        data.copy(backing, align);
        xorRangeWasm(k, backing, align, align + n, keyNumber, phase);
        const expected = applyMask(data, key, phase);
        if (!backing.subarray(align, align + n).equals(expected)) wrong++;
        // The bytes around the range are left alone.
        if (backing[align + n] !== 0xee || (align > 0 && backing[align - 1] !== 0xee)) wrong++;
        checked++;
      }
    }
  }
  t.equal(wrong, 0, `${checked} ranges unmasked as §5.3 says, neighbours untouched`);
  t.end();
});

t.test('the edges of the 16 KiB pieces, and random sizes to 16 MiB', (t) => {
  const sizes = [PIECE - 1, PIECE, PIECE + 1, 2 * PIECE + 3, 3 * PIECE + 5, WASM_THRESHOLD, WASM_THRESHOLD - 1];
  for (let i = 0; i < 6; i++) sizes.push(1 + Math.floor(random() * (16 << 20)));
  sizes.push(16 << 20);
  for (const n of sizes) {
    const data = bytes(n);
    const phase = n & 3;
    const copy = Buffer.from(data);
    xorRangeWasm(k, copy, 0, n, keyNumber, phase);
    t.ok(copy.equals(applyMask(data, key, phase)), `${n} bytes, phase ${phase}`);
  }
  t.end();
});

t.test('unmask() takes this path from the threshold on, and is its own inverse there', (t) => {
  const data = bytes(WASM_THRESHOLD * 3 + 7);
  const copy = Buffer.from(data);
  unmask(copy.subarray(5), key, 0, 2);
  t.ok(copy.subarray(5).equals(applyMask(data.subarray(5), key, 2)));
  unmask(copy.subarray(5), key, 0, 2);
  t.ok(copy.equals(data));
  t.end();
});

t.test('bytes that are not a module: no kernel, the JavaScript path stays', (t) => {
  t.equal(loadKernel(Buffer.from('not wasm').toString('base64')), undefined);
  t.end();
});

t.test('mask-wasm-bytes.ts is what mask.wat assembles to (node scripts/build-wasm.js)', (t) => {
  t.doesNotThrow(() => execFileSync(process.execPath, ['scripts/build-wasm.js', '--check'], { stdio: 'pipe' }));
  t.end();
});

t.test('mask() from a source to a target through the kernel, the source left alone', (t) => {
  const data = bytes(3 * PIECE + 11);
  const before = Buffer.from(data);
  const target = Buffer.alloc(data.length + 9, 0xee);
  const { mask } = frames;
  mask(data, Buffer.concat([Buffer.from([1, 2]), key]), 2, target, 5);
  t.ok(target.subarray(5, 5 + data.length).equals(applyMask(data, key)), 'masked into the target at its offset');
  t.ok(data.equals(before), 'the source is untouched');
  t.equal(target[4], 0xee);
  t.equal(target[5 + data.length], 0xee);
  // And in place (the source is the target's own bytes).
  const inPlace = Buffer.from(before);
  mask(inPlace, key, 0, inPlace, 0);
  t.ok(inPlace.equals(applyMask(before, key)));
  t.end();
});
