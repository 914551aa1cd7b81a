// FrameParser: frames as they are on the wire, frame-level rules only, in every chunking.
import t from 'tap';
import { type Frame, FrameErrorCode, FrameParser, type FrameParserOptions } from '../../src/frames/index.js';
import { chunkings, client, hex, server } from './helpers.js';

/** Parses `stream` in every chunking; returns frames (payload as hex) and the error code, checking all agree. */
const parseAll = (options: FrameParserOptions, stream: Buffer) => {
  let expected: string | undefined;
  let result: unknown;
  for (const chunks of chunkings(stream)) {
    const parser = new FrameParser(options);
    const frames: Frame[] = [];
    for (const chunk of chunks) frames.push(...parser.push(Buffer.from(chunk)));
    const out = {
      frames: frames.map((f) => ({ ...f, payload: f.payload.toString('hex') })),
      error: parser.error ? [parser.error.code, parser.error.closeCode] : undefined,
    };
    const json = JSON.stringify(out);
    if (expected === undefined) {
      expected = json;
      result = out;
    } else if (json !== expected) throw new Error(`chunking [${chunks.map((c) => c.length)}] gave ${json}, expected ${expected}`);
  }
  return result as { frames: (Omit<Frame, 'payload'> & { payload: string })[]; error?: [string, number] };
};

const S = { role: 'server' } as const;
const C = { role: 'client' } as const;

t.test('frames come out with all their bits, whatever the message structure', (t) => {
  const stream = Buffer.concat([
    client({ opcode: 0, payload: 'no message to continue: fine at frame level' }),
    client({ opcode: 2, fin: false, rsv: 4, payload: Buffer.alloc(300, 9) }),
    client({ opcode: 9 }),
  ]);
  const { frames, error } = parseAll({ role: 'server', allowRsv1: true }, stream);
  t.equal(error, undefined);
  t.same(
    frames.map((f) => [f.fin, f.rsv1, f.rsv2, f.rsv3, f.opcode, f.masked, f.payload.length / 2]),
    [
      [true, false, false, false, 0, true, 43],
      [false, true, false, false, 2, true, 300],
      [true, false, false, false, 9, true, 0],
    ],
  );
  t.end();
});

t.test('length boundaries 0, 125, 126, 65535, 65536', (t) => {
  for (const n of [0, 125, 126, 65535, 65536]) {
    const payload = Buffer.alloc(n, 0x5a);
    const { frames } = parseAll(C, server({ opcode: 2, payload }));
    t.equal(frames.length, 1);
    t.equal(frames[0].payload, payload.toString('hex'), `${n} bytes`);
  }
  t.end();
});

t.test('frame-level failures with their close codes', (t) => {
  const cases: [string, FrameParserOptions, Buffer, string, number][] = [
    ['unmasked client frame', S, server({ opcode: 1, payload: 'x' }), FrameErrorCode.ExpectedMask, 1002],
    ['masked server frame', C, client({ opcode: 1, payload: 'x' }), FrameErrorCode.UnexpectedMask, 1002],
    ['RSV3', S, client({ opcode: 1, rsv: 1 }), FrameErrorCode.UnexpectedRsv, 1002],
    ['opcode 7', S, client({ opcode: 7 }), FrameErrorCode.InvalidOpcode, 1002],
    ['fragmented ping', S, client({ opcode: 9, fin: false }), FrameErrorCode.FragmentedControlFrame, 1002],
    ['126-byte pong', S, client({ opcode: 10, payload: Buffer.alloc(126) }), FrameErrorCode.ControlFrameTooBig, 1002],
    ['64-bit MSB', C, server({ opcode: 2, rawLength: { len7: 127, ext: hex('ff ff ff ff ff ff ff ff') } }), FrameErrorCode.InvalidPayloadLength, 1002],
    ['over maxPayload', { role: 'client', maxPayload: 4 }, server({ opcode: 2, payload: 'abcde' }), FrameErrorCode.MessageTooBig, 1009],
  ];
  for (const [name, options, stream, code, closeCode] of cases) {
    t.same(parseAll(options, stream), { frames: [], error: [code, closeCode] }, name);
  }
  // maxPayload is per frame here: two 4-byte frames are fine.
  const two = Buffer.concat([server({ opcode: 1, fin: false, payload: 'abcd' }), server({ opcode: 0, payload: 'efgh' })]);
  t.equal(parseAll({ role: 'client', maxPayload: 4 }, two).frames.length, 2);
  t.end();
});

t.test('frames before an error are returned; after it, nothing', (t) => {
  const parser = new FrameParser(C);
  const frames = parser.push(Buffer.concat([server({ opcode: 1, payload: 'a' }), server({ opcode: 4 }), server({ opcode: 1, payload: 'b' })]));
  t.equal(frames.length, 1);
  t.equal(parser.error?.code, FrameErrorCode.InvalidOpcode);
  t.same(parser.push(server({ opcode: 1, payload: 'c' })), []);
  t.end();
});

t.test('a payload across chunks is joined; bufferedBytes is the memory held for it', (t) => {
  const parser = new FrameParser(S);
  const frame = client({ opcode: 2, payload: Buffer.alloc(1000, 3) });
  t.same(parser.push(Buffer.from(frame.subarray(0, 5))), []);
  t.equal(parser.bufferedBytes, 1, 'the first mask key byte');
  t.same(parser.push(Buffer.from(frame.subarray(5, 600))), []);
  t.equal(parser.bufferedBytes, 1000, '592 bytes came: one buffer of the announced 1000 (within 64 KiB of them)');
  const [out] = parser.push(Buffer.from(frame.subarray(600)));
  t.same(out.payload, Buffer.alloc(1000, 3));
  t.equal(parser.bufferedBytes, 0);
  t.end();
});
