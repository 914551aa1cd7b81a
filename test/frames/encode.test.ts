// Encoding (RFC 6455 §5.2): header bytes for every length form, bits, masking keys, and writev chunks.
import t from 'tap';
import { FrameParser, Opcode, encodeFrame, frameHeaderSize, isControlOpcode, isKnownOpcode, writeFrameHeader } from '../../src/frames/index.js';
import { hex } from './helpers.js';

t.test('frameHeaderSize at every boundary', (t) => {
  const cases: [number, number][] = [
    [0, 2],
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
    [2 ** 53 - 1, 10],
  ];
  for (const [n, size] of cases) {
    t.equal(frameHeaderSize(n, false), size, `${n} unmasked`);
    t.equal(frameHeaderSize(n, true), size + 4, `${n} masked`);
  }
  t.end();
});

t.test('writeFrameHeader: the three length forms, FIN, RSV1, opcode, at an offset', (t) => {
  const cases: [number, string][] = [
    [0, '82 00'],
    [125, '82 7d'],
    [126, '82 7e 00 7e'],
    [65535, '82 7e ff ff'],
    [65536, '82 7f 00 00 00 00 00 01 00 00'],
    [2 ** 32 + 5, '82 7f 00 00 00 01 00 00 00 05'],
    [2 ** 53 - 1, '82 7f 00 1f ff ff ff ff ff ff'],
  ];
  for (const [n, expected] of cases) {
    const out = Buffer.alloc(3 + 10);
    const end = writeFrameHeader(out, 3, true, Opcode.Binary, n, false);
    t.same(out.subarray(3, end), hex(expected), `length ${n}`);
    t.equal(end - 3, frameHeaderSize(n, false));
  }
  const out = Buffer.alloc(2);
  writeFrameHeader(out, 0, false, Opcode.Text, 3, false, true);
  t.same(out, hex('41 03'), 'no FIN, RSV1, text');
  writeFrameHeader(out, 0, false, Opcode.Continuation, 0, false);
  t.same(out, hex('00 00'));
  t.end();
});

t.test('writeFrameHeader refuses lengths that cannot be encoded exactly', (t) => {
  const out = Buffer.alloc(14);
  for (const bad of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
    t.throws(() => writeFrameHeader(out, 0, true, Opcode.Binary, bad, false), RangeError, `${bad}`);
  }
  t.end();
});

t.test('masked headers carry a fresh key each time, from the pool (refilled past 8 KiB)', (t) => {
  const keys = new Set<string>();
  const out = Buffer.alloc(14);
  let wrong = 0;
  for (let i = 0; i < 5000; i++) {
    const end = writeFrameHeader(out, 0, true, Opcode.Text, 70000, true);
    if (end !== 14 || out[1] !== 0xff) wrong++;
    keys.add(out.subarray(10, 14).toString('hex'));
  }
  t.equal(wrong, 0, 'MASK bit and 64-bit length form every time');
  // 5000 draws of 32 random bits: a repeat is possible but has probability ~0.3%; allow a few.
  t.ok(keys.size >= 4990, `distinct keys: ${keys.size}`);
  t.end();
});

t.test('encodeFrame: [header, payload] for writev, the payload not copied unless masked', (t) => {
  const payload = Buffer.from('hello');
  const plain = encodeFrame(Opcode.Text, payload);
  t.equal(plain.length, 2);
  t.same(plain[0], hex('81 05'));
  t.equal(plain[1], payload, 'the same Buffer object');
  t.same(encodeFrame(Opcode.Close, Buffer.alloc(0)), [hex('88 00')], 'empty: just the header');
  t.same(encodeFrame(Opcode.Ping, Buffer.alloc(0), { mask: true }).length, 1);
  t.same(encodeFrame(Opcode.Binary, payload, { fin: false, rsv1: true })[0], hex('42 05'));
  const before = Buffer.from(payload);
  const [header, masked] = encodeFrame(Opcode.Text, payload, { mask: true });
  t.same(payload, before, 'the caller buffer is untouched');
  t.not(masked, payload);
  t.equal(header.length, 6);
  t.same(header.subarray(0, 2), hex('81 85'));
  for (let i = 0; i < 5; i++) t.equal(masked[i], payload[i] ^ header[2 + (i & 3)]);
  const frames = new FrameParser({ role: 'server' }).push(Buffer.concat([header, masked]));
  t.same(frames[0].payload, payload);
  t.end();
});

t.test('opcode classes (§5.2, §5.5)', (t) => {
  const control: number[] = [];
  const known: number[] = [];
  for (let op = 0; op < 16; op++) {
    if (isControlOpcode(op)) control.push(op);
    if (isKnownOpcode(op)) known.push(op);
  }
  t.same(control, [8, 9, 10, 11, 12, 13, 14, 15]);
  t.same(known, [Opcode.Continuation, Opcode.Text, Opcode.Binary, Opcode.Close, Opcode.Ping, Opcode.Pong]);
  t.end();
});
