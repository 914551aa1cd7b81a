// Incremental UTF-8 validation (RFC 3629 §4) against buffer.isUtf8, at every split point.
import { isUtf8 } from 'node:buffer';
import t from 'tap';
import { Utf8Validator, isValidUtf8 } from '../../src/frames/index.js';
import { hex, prng } from './helpers.js';

/** Feeds `data` to a fresh validator in the given pieces; the verdict for the whole text. */
const incremental = (data: Buffer, cuts: number[]): boolean => {
  const v = new Utf8Validator();
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    if (!v.write(data, start, cut)) return false;
    start = cut;
  }
  return v.complete;
};

// Tricky sequences: boundaries of each row of RFC 3629 §4's table, and the classic failures.
const samples: [string, string][] = [
  ['ascii', '48 65 6c 6c 6f'],
  ['2-byte min/max', 'c2 80 df bf'],
  ['3-byte E0 min', 'e0 a0 80'],
  ['3-byte overlong E0 9F', 'e0 9f bf'],
  ['3-byte E1-EC', 'e1 80 80 ec bf bf'],
  ['ED max (D7FF)', 'ed 9f bf'],
  ['surrogate ED A0', 'ed a0 80'],
  ['EE-EF', 'ee 80 80 ef bf bf'],
  ['4-byte F0 min', 'f0 90 80 80'],
  ['4-byte overlong F0 8F', 'f0 8f bf bf'],
  ['F1-F3', 'f1 80 80 80 f3 bf bf bf'],
  ['F4 max (10FFFF)', 'f4 8f bf bf'],
  ['F4 90 (above 10FFFF)', 'f4 90 80 80'],
  ['F5 lead', 'f5 80 80 80'],
  ['FF', 'ff'],
  ['C0 overlong', 'c0 80'],
  ['C1 overlong', 'c1 bf'],
  ['stray continuation', '80'],
  ['truncated 2-byte', 'c3'],
  ['truncated 3-byte', 'e2 82'],
  ['truncated 4-byte', 'f0 9f 98'],
  ['bad second byte', 'c3 28'],
  ['bad third byte', 'e2 82 28'],
  ['bad fourth byte', 'f0 9f 98 28'],
  ['five continuation bytes', 'f0 9f 98 80 80'],
  ['F8 lead with 3 continuations', 'f8 88 80 80'],
];

t.test('tricky samples, alone and padded past the native threshold, at every split', (t) => {
  for (const [name, bytes] of samples) {
    for (const [pre, post] of [
      ['', ''],
      ['a'.repeat(30), ''],
      ['', 'b'.repeat(30)],
      ['a'.repeat(30), 'b'.repeat(30)],
    ]) {
      const data = Buffer.concat([Buffer.from(pre), hex(bytes), Buffer.from(post)]);
      const expected = isUtf8(data);
      t.equal(isValidUtf8(data), expected, `${name} [${pre.length}+${post.length}] isValidUtf8`);
      let mismatches = 0;
      if (incremental(data, []) !== expected) mismatches++;
      for (let a = 0; a <= data.length; a++) {
        if (incremental(data, [a]) !== expected) mismatches++;
        for (let b = a; b <= Math.min(data.length, a + 5); b++) if (incremental(data, [a, b]) !== expected) mismatches++;
      }
      t.equal(mismatches, 0, `${name} [${pre.length}+${post.length}]: every split agrees with isUtf8 (${expected})`);
    }
  }
  t.end();
});

t.test('every 1- and 2-byte sequence agrees with isUtf8, whole and split', (t) => {
  let mismatches = 0;
  const pair = Buffer.alloc(2);
  for (let a = 0; a < 256; a++) {
    if (isValidUtf8(pair.subarray(0, 1).fill(a)) !== isUtf8(pair.subarray(0, 1))) mismatches++;
    for (let b = 0; b < 256; b++) {
      pair[0] = a;
      pair[1] = b;
      const expected = isUtf8(pair);
      if (isValidUtf8(pair) !== expected || incremental(pair, [1]) !== expected) mismatches++;
    }
  }
  t.equal(mismatches, 0);
  t.end();
});

t.test('seeded random text (mostly valid, sometimes corrupted) in random pieces', (t) => {
  const random = prng(20260101);
  const alphabet = ['a', 'é', '€', '😀', 'Ж', ' ', '\u{10FFFF}', '\uFFFD'];
  let mismatches = 0;
  let invalid = 0;
  for (let round = 0; round < 2000; round++) {
    let text = '';
    const length = (random() * 80) | 0;
    for (let i = 0; i < length; i++) text += alphabet[(random() * alphabet.length) | 0];
    const data = Buffer.from(text);
    if (data.length > 0 && random() < 0.5) data[(random() * data.length) | 0] = (random() * 256) | 0;
    const expected = isUtf8(data);
    if (!expected) invalid++;
    const cuts: number[] = [];
    for (let at = 0; at < data.length; at += 1 + ((random() * 40) | 0)) cuts.push(at);
    if (incremental(data, cuts) !== expected || isValidUtf8(data) !== expected) mismatches++;
  }
  t.equal(mismatches, 0);
  t.ok(invalid > 200, `the corpus has invalid samples too (${invalid})`);
  t.end();
});

t.test('after reset the validator starts clean', (t) => {
  const v = new Utf8Validator();
  t.ok(v.write(hex('e2 82'), 0, 2));
  t.notOk(v.complete);
  v.reset();
  t.ok(v.complete);
  t.ok(v.write(Buffer.from('ok'), 0, 2));
  t.end();
});
