// WireReader: the frames, messages and failures of one direction, in any chunking, held to the
// Receiver's verdict (same error code, same close code, same messages) on valid and invalid input.
import t from 'tap';
import { Receiver } from '../../src/frames/index.js';
import { type ReadFailure, type ReadFrame, type ReadMessage, WireReader } from '../../src/learn/reader.js';
import type { Side } from '../../src/learn/words.js';
import { RecordingSink, buildFrame, chunkings, client, hex, prng, server } from '../frames/helpers.js';

interface Seen {
  frames: ReadFrame[];
  messages: ReadMessage[];
  failure: ReadFailure | undefined;
  reader: WireReader;
}

function read(from: Side, chunks: Buffer[], options: { allowRsv1?: boolean; keep?: number } = {}): Seen {
  const seen: Seen = { frames: [], messages: [], failure: undefined, reader: undefined as unknown as WireReader };
  seen.reader = new WireReader(
    { from, ...options },
    {
      frame: (f) => seen.frames.push(f),
      message: (m) => seen.messages.push(m),
      failure: (f) => {
        if (seen.failure !== undefined) throw new Error('a second failure');
        seen.failure = f;
      },
    },
  );
  for (const chunk of chunks) seen.reader.push(Buffer.from(chunk));
  return seen;
}

/** What the reader concluded, in the Receiver's terms. */
function verdict(seen: Seen): unknown[] {
  const out: unknown[] = seen.messages.map((m) => ['message', m.preview.toString('hex'), m.binary, m.compressed]);
  const close = seen.frames.find((f) => f.close !== undefined);
  if (close?.close !== undefined) out.push(['close', close.close.code, close.close.reason]);
  if (seen.failure !== undefined) out.push(['error', seen.failure.error.code, seen.failure.error.closeCode]);
  return out;
}

/** The Receiver's conclusion on the same bytes, pings and pongs left out (the reader reports them as frames). */
function receiverVerdict(from: Side, stream: Buffer, allowRsv1 = false): unknown[] {
  const sink = new RecordingSink();
  const receiver = new Receiver({ role: from === 'client' ? 'server' : 'client', maxPayload: Infinity, allowRsv1 }, sink);
  receiver.push(Buffer.from(stream));
  return sink.events.filter((e) => e[0] !== 'ping' && e[0] !== 'pong');
}

t.test('a masked frame: every header field, the key, the offsets and the length form', (t) => {
  const seen = read('client', [hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')]);
  t.equal(seen.frames.length, 1);
  const f = seen.frames[0];
  t.match(f, { index: 1, offset: 0, fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, masked: true, lengthForm: 7, length: 5, headerSize: 6, message: 1, fragment: 1, utf8: 'complete' });
  t.same(f.maskKey, hex('37 fa 21 3d'));
  t.same(f.payload, Buffer.from('Hello'));
  t.same(seen.messages, [{ index: 1, firstFrame: 1, frames: 1, binary: false, compressed: false, length: 5, preview: Buffer.from('Hello') }]);
  t.equal(seen.reader.bytesRead, 11);
  t.equal(seen.reader.incomplete(), undefined);
  t.end();
});

t.test('the three length forms, and offsets that follow each other', (t) => {
  const frames = [
    server({ opcode: 2, payload: Buffer.alloc(125, 1) }),
    server({ opcode: 2, payload: Buffer.alloc(126, 2) }),
    server({ opcode: 2, payload: Buffer.alloc(65536, 3) }),
    server({ opcode: 2, payload: Buffer.alloc(3, 4), lengthForm: 64 }),
  ];
  const seen = read('server', [Buffer.concat(frames)]);
  t.same(
    seen.frames.map((f) => [f.lengthForm, f.length, f.headerSize, f.offset]),
    [
      [7, 125, 2, 0],
      [16, 126, 4, 127],
      [64, 65536, 10, 127 + 130],
      [64, 3, 10, 127 + 130 + 65546],
    ],
  );
  t.end();
});

t.test('keep: data payloads and message previews are cut, control payloads kept whole, the rest counted', (t) => {
  const stream = Buffer.concat([
    client({ opcode: 1, fin: false, payload: 'a'.repeat(100) }),
    client({ opcode: 9, payload: 'p'.repeat(125) }),
    client({ opcode: 0, payload: 'b'.repeat(100) }),
  ]);
  for (const chunks of chunkings(stream)) {
    const seen = read('client', chunks, { keep: 10 });
    t.same(
      seen.frames.map((f) => [f.opcode, f.length, f.payload.toString()]),
      [
        [1, 100, 'a'.repeat(10)],
        [9, 125, 'p'.repeat(125)],
        [0, 100, 'b'.repeat(10)],
      ],
    );
    t.same(seen.messages.map((m) => [m.length, m.frames, m.preview.toString()]), [[200, 2, 'a'.repeat(10)]]);
    t.ok(seen.reader.heldBytes <= 8, `nothing held between frames (${seen.reader.heldBytes})`);
    if (chunks.length > 2) break; // the byte-by-byte chunking is enough of the long ones
  }
  // Mid-frame, the reader holds at most the preview, however much payload went by.
  const big = read('client', [client({ opcode: 2, payload: Buffer.alloc(100_000) }).subarray(0, 90_000)], { keep: 16 });
  t.ok(big.reader.heldBytes <= 32, `held ${big.reader.heldBytes} bytes of a 100000-byte frame`);
  t.match(big.reader.incomplete(), { offset: 0, have: 90_000, missing: '10014 more payload bytes' });
  t.end();
});

t.test('UTF-8 across fragments: the state after each one', (t) => {
  // "é" is c3 a9: split between two fragments, the first ends inside the character.
  const seen = read('server', [hex('01 01 c3 80 01 a9')]);
  t.same(
    seen.frames.map((f) => f.utf8),
    ['partial', 'complete'],
  );
  t.equal(seen.messages[0].preview.toString(), 'é');
  t.end();
});

t.test('incomplete(): where the input stopped, in every part of a frame', (t) => {
  const cases: [string, string, number][] = [
    ['81', 'the 2 bytes every frame header starts with', 1],
    ['82 7e 01', 'its 16-bit extended length (2 bytes after byte 1)', 3],
    ['82 7f 00 00', 'its 64-bit extended length (8 bytes after byte 1)', 4],
    ['81 85 37 fa', 'its 4-byte masking key', 4],
    ['81 05 48', '4 more payload bytes', 3],
  ];
  for (const [bytes, missing, have] of cases) {
    const input = hex(bytes);
    const from: Side = (input[1] ?? 0) & 0x80 ? 'client' : 'server';
    // An empty Text frame first, masked as the direction requires.
    const first = from === 'client' ? hex('81 80 00 00 00 00') : hex('81 00');
    const seen = read(from, [first, input]);
    t.match(seen.reader.incomplete(), { offset: first.length, missing, have }, bytes);
    t.equal(seen.frames.length, 1, 'the complete frame before it was read');
  }
  t.equal(read('server', [hex('81 00')]).reader.incomplete(), undefined, 'nothing pending between frames');
  t.end();
});

t.test('after a Close, nothing is read: the rest is counted as ignored', (t) => {
  const seen = read('server', [hex('88 02 03 e8 81 01 41 ff')]);
  t.same(seen.frames.map((f) => f.close), [{ code: 1000, reason: '' }]);
  t.equal(seen.reader.ignored, 4);
  t.ok(seen.reader.done);
  t.equal(seen.reader.incomplete(), undefined);
  const empty = read('server', [hex('88 00')]);
  t.same(empty.frames[0].close, { code: 1005, reason: '' }, 'a Close without a payload reports 1005 (§7.1.5)');
  t.end();
});

t.test('failures: the frame as far as it was read, the key and the payload when they were', (t) => {
  const opcode = read('server', [hex('83 00')]).failure as ReadFailure;
  t.match(opcode.frame, { index: 1, offset: 0, opcode: 3 });
  t.equal(opcode.frame.length, undefined, 'a reserved opcode stops the decoder before the length');
  const msb = read('server', [hex('81 05 48 65 6c 6c 6f 82 7f 80 00 00 00 00 00 00 00')]).failure as ReadFailure;
  t.match(msb.frame, { index: 2, offset: 7, lengthForm: 64 });
  const utf8 = read('client', [client({ opcode: 1, payload: hex('48 ff') })]).failure as ReadFailure;
  t.match(utf8, { error: { code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 }, frame: { length: 2, headerSize: 6, message: 1 } });
  t.same(utf8.maskKey, hex('37 fa 21 3d'));
  t.same(utf8.payload, hex('48 ff'));
  const close = read('server', [hex('88 01 03')]).failure as ReadFailure;
  t.same(close.payload, hex('03'));
  t.equal(read('server', [hex('88 01 03')]).reader.ignored, 0, 'a failure is not a Close: nothing counted as ignored');
  t.end();
});

t.test('RSV1 on a continuation, even with permessage-deflate: the Receiver\'s 1002 (RFC 7692 §6.1)', (t) => {
  const stream = Buffer.concat([buildFrame({ opcode: 1, rsv: 4, fin: false, payload: 'a' }), buildFrame({ opcode: 0, rsv: 4, payload: 'b' })]);
  const seen = read('server', [stream], { allowRsv1: true });
  t.match(seen.failure, { error: { code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002, message: /continuation frame \(RFC 7692 §6\.1\)/ }, frame: { index: 2 } });
  t.same(verdict(seen), receiverVerdict('server', stream, true));
  t.end();
});

t.test('RSV1 with permessage-deflate negotiated: compressed messages are reported, not validated as text', (t) => {
  const seen = read('server', [buildFrame({ opcode: 1, rsv: 4, payload: hex('ff fe') })], { allowRsv1: true });
  t.same(seen.messages.map((m) => [m.compressed, m.length]), [[true, 2]]);
  t.equal(seen.frames[0].utf8, undefined);
  t.equal(seen.failure, undefined);
  t.end();
});

// Every rule, one stream each: the reader's verdict must be the Receiver's.
const RULES: [string, Side, Buffer][] = [
  ['unmasked client frame', 'client', server({ opcode: 1, payload: 'x' })],
  ['masked server frame', 'server', client({ opcode: 1, payload: 'x' })],
  ['RSV2', 'server', buildFrame({ opcode: 1, rsv: 2 })],
  ['RSV1 without an extension', 'server', buildFrame({ opcode: 1, rsv: 4 })],
  ['reserved data opcode', 'server', buildFrame({ opcode: 3 })],
  ['reserved control opcode', 'server', buildFrame({ opcode: 11 })],
  ['fragmented Ping', 'server', buildFrame({ opcode: 9, fin: false })],
  ['Ping of 126 bytes', 'server', buildFrame({ opcode: 9, payload: Buffer.alloc(126) })],
  ['64-bit length MSB', 'server', hex('82 7f 80 00 00 00 00 00 00 00')],
  ['length past 2^53', 'server', hex('82 7f 00 20 00 00 00 00 00 00')],
  ['continuation with nothing to continue', 'server', buildFrame({ opcode: 0, payload: 'x' })],
  ['new message inside a fragmented one', 'server', Buffer.concat([buildFrame({ opcode: 1, fin: false, payload: 'a' }), buildFrame({ opcode: 2 })])],
  ['invalid UTF-8', 'server', buildFrame({ opcode: 1, payload: hex('c3 28') })],
  ['text ending inside a character', 'server', buildFrame({ opcode: 1, payload: hex('e2 82') })],
  ['invalid UTF-8 split over fragments', 'server', Buffer.concat([buildFrame({ opcode: 1, fin: false, payload: hex('e2') }), buildFrame({ opcode: 0, payload: hex('28') })])],
  ['Close of 1 byte', 'server', hex('88 01 03')],
  ['Close 1005', 'server', hex('88 02 03 ed')],
  ['Close 999', 'server', hex('88 02 03 e7')],
  ['Close reason not UTF-8', 'server', hex('88 03 03 e8 ff')],
  ['a Ping between fragments, then more', 'client', Buffer.concat([client({ opcode: 1, fin: false, payload: 'He' }), client({ opcode: 9 }), client({ opcode: 0, payload: 'llo' })])],
  ['empty frames', 'server', Buffer.concat([buildFrame({ opcode: 1, fin: false }), buildFrame({ opcode: 0, fin: false }), buildFrame({ opcode: 0 })])],
];

t.test('one stream per rule: the same verdict as the Receiver, in every chunking', (t) => {
  for (const [name, from, stream] of RULES) {
    const expected = receiverVerdict(from, stream);
    for (const chunks of chunkings(stream)) {
      const got = verdict(read(from, chunks));
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        t.same(got, expected, `${name}, chunks [${chunks.map((c) => c.length)}]`);
        break;
      }
    }
    t.pass(name);
  }
  t.end();
});

t.test('random streams: the reader agrees with the Receiver (property)', (t) => {
  const random = prng(6455);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const outcomes = { failed: 0, messages: 0 };
  const payloads = [Buffer.alloc(0), Buffer.from('Hi'), Buffer.from('héllo'), hex('c3'), hex('a9'), hex('ff'), Buffer.alloc(130, 0x61), hex('03 e8'), hex('03 e8 6f 6b'), hex('0f a0'), hex('03')];
  for (let run = 0; run < 2000; run++) {
    const from: Side = random() < 0.5 ? 'client' : 'server';
    const allowRsv1 = random() < 0.2;
    const frames: Buffer[] = [];
    for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i++) {
      const masked = random() < 0.95 ? from === 'client' : from !== 'client';
      frames.push(
        buildFrame({
          opcode: pick([0, 0, 1, 1, 2, 8, 9, 10, 3, 11]),
          fin: random() < 0.7,
          rsv: random() < 0.1 ? pick([1, 2, 4]) : 0,
          payload: pick(payloads),
          key: masked ? [random() * 256, random() * 256, random() * 256, random() * 256].map(Math.floor) : undefined,
        }),
      );
    }
    const stream = Buffer.concat(frames);
    const expected = receiverVerdict(from, stream, allowRsv1);
    const seen = read(from, [stream], { allowRsv1 });
    const got = verdict(seen);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.same(got, expected, `run ${run}: ${stream.toString('hex')}`);
      break;
    }
    if (seen.failure !== undefined) outcomes.failed++;
    if (seen.messages.length > 0) outcomes.messages++;
  }
  // The generator must reach both sides of the verdict, or the agreement proves little.
  t.ok(outcomes.failed > 200 && outcomes.messages > 200, `failures in ${outcomes.failed} streams, messages in ${outcomes.messages}`);
  t.pass('2000 random streams agree');
  t.end();
});
