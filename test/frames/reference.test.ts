// The reference decoder (src/frames/reference.ts): the RFC 6455 §5.7 examples, every rule with its
// error code and close code, and inputs that end inside a frame. The fuzz tests hold the codec to it.
import t from 'tap';
import { FrameErrorCode as E, decodeFrames, decodeMessages, type ReferenceEvent } from '../../src/frames/index.js';
import { client, hex, server } from './helpers.js';

const S = { role: 'server' } as const;
const C = { role: 'client' } as const;
/** Events as plain tuples, then the error (code, closeCode, side) if any. */
function messages(input: Buffer, options: Parameters<typeof decodeMessages>[1]): unknown[] {
  const { events, error } = decodeMessages(input, options);
  const out: unknown[] = events.map((e: ReferenceEvent) =>
    e.type === 'message' ? [e.type, e.data.toString(e.binary ? 'hex' : 'utf8'), e.binary, e.rsv1] : e.type === 'close' ? [e.type, e.code, e.reason] : [e.type, e.payload.toString('hex')],
  );
  if (error !== undefined) out.push(['error', error.code, error.closeCode, error.side]);
  return out;
}
const err = (code: string, closeCode: number) => ['error', code, closeCode, 'remote'];

t.test('RFC 6455 §5.7: the examples, as frames and as messages', (t) => {
  const unmasked = hex('81 05 48 65 6c 6c 6f');
  const masked = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
  const fragmented = hex('01 03 48 65 6c 80 02 6c 6f');
  t.same(decodeFrames(unmasked, C), { frames: [{ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, masked: false, payload: Buffer.from('Hello') }], error: undefined });
  t.same(decodeFrames(masked, S).frames[0].payload, Buffer.from('Hello'));
  t.same(masked, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), 'the input is not unmasked in place');
  t.same(messages(masked, S), [['message', 'Hello', false, false]]);
  t.same(messages(fragmented, C), [['message', 'Hello', false, false]]);
  t.same(decodeFrames(fragmented, C).frames.map((f) => [f.fin, f.opcode, f.payload.toString()]), [[false, 1, 'Hel'], [true, 0, 'lo']]);
  t.same(messages(hex('89 05 48 65 6c 6c 6f'), C), [['ping', Buffer.from('Hello').toString('hex')]]);
  t.same(messages(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), S), [['pong', Buffer.from('Hello').toString('hex')]]);
  const big = Buffer.alloc(65536, 7);
  t.same(messages(Buffer.concat([hex('82 7e 01 00'), big.subarray(0, 256)]), C), [['message', big.subarray(0, 256).toString('hex'), true, false]]);
  t.same(messages(Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), big]), C), [['message', big.toString('hex'), true, false]]);
  t.end();
});

t.test('the frame rules, in the order their fields come on the wire', (t) => {
  const rows: [string, Buffer, object, string, number][] = [
    ['RSV2', client({ opcode: 1, rsv: 2 }), S, E.UnexpectedRsv, 1002],
    ['RSV1 without an extension', client({ opcode: 1, rsv: 4 }), S, E.UnexpectedRsv, 1002],
    ['RSV and a reserved opcode: RSV first', client({ opcode: 3, rsv: 1 }), S, E.UnexpectedRsv, 1002],
    ['reserved opcode 3', client({ opcode: 3 }), S, E.InvalidOpcode, 1002],
    ['reserved opcode 11', server({ opcode: 11 }), C, E.InvalidOpcode, 1002],
    ['a Ping without FIN', client({ opcode: 9, fin: false }), S, E.FragmentedControlFrame, 1002],
    ['a 126-byte Pong', client({ opcode: 10, payload: Buffer.alloc(126) }), S, E.ControlFrameTooBig, 1002],
    ['RSV1 on a Ping, with an extension', client({ opcode: 9, rsv: 4 }), { role: 'server', allowRsv1: true }, E.UnexpectedRsv, 1002],
    ['an unmasked frame to a server', server({ opcode: 1 }), S, E.ExpectedMask, 1002],
    ['a masked frame to a client', client({ opcode: 1 }), C, E.UnexpectedMask, 1002],
    ['a 64-bit length with its MSB set', server({ opcode: 2, rawLength: { len7: 127, ext: hex('80 00 00 00 00 00 00 00') } }), C, E.InvalidPayloadLength, 1002],
    ['a 64-bit length of 2^53', server({ opcode: 2, rawLength: { len7: 127, ext: hex('00 20 00 00 00 00 00 00') } }), { role: 'client', maxPayload: Infinity }, E.MessageTooBig, 1009],
    ['a frame over maxPayload', client({ opcode: 2, payload: Buffer.alloc(11) }), { role: 'server', maxPayload: 10 }, E.MessageTooBig, 1009],
  ];
  for (const [title, input, options, code, closeCode] of rows) {
    const o = options as Parameters<typeof decodeFrames>[1];
    t.same(decodeFrames(input, o).error?.code, code, `frames: ${title}`);
    t.same(messages(input, o), [err(code, closeCode)], `messages: ${title}`);
  }
  // maxPayload caps a frame in decodeFrames, a message in decodeMessages: control frames count only as frames.
  t.same(decodeFrames(client({ opcode: 9, payload: 'abc' }), { role: 'server', maxPayload: 2 }).error?.code, E.MessageTooBig);
  t.same(messages(client({ opcode: 9, payload: 'abc' }), { role: 'server', maxPayload: 2 }), [['ping', '616263']]);
  t.end();
});

t.test('the message rules (§5.4, §10.4) and text (§8.1)', (t) => {
  const frag = (...parts: [number, boolean, Buffer | string][]) => Buffer.concat(parts.map(([opcode, fin, payload]) => client({ opcode, fin, payload })));
  t.same(messages(frag([0, true, 'a']), S), [err(E.UnexpectedContinuation, 1002)]);
  t.same(messages(frag([1, false, 'a'], [2, true, 'b']), S), [err(E.ExpectedContinuation, 1002)]);
  t.same(messages(frag([1, false, 'a'], [9, true, 'p'], [0, true, 'b']), S), [['ping', '70'], ['message', 'ab', false, false]]);
  t.same(messages(Buffer.concat([client({ opcode: 1, rsv: 4, fin: false, payload: 'a' }), client({ opcode: 0, rsv: 4, payload: 'b' })]), { role: 'server', allowRsv1: true }), [err(E.UnexpectedRsv, 1002)]);
  t.same(messages(Buffer.concat([client({ opcode: 1, rsv: 4, payload: hex('ff') })]), { role: 'server', allowRsv1: true }), [['message', '\ufffd', false, true]], 'compressed text is not validated');
  const limit = { role: 'server', maxPayload: 5 } as const;
  t.same(messages(frag([2, false, 'abc'], [0, true, 'de']), limit), [['message', '6162636465', true, false]]);
  t.same(messages(frag([2, false, 'abc'], [0, true, 'def']), limit), [err(E.MessageTooBig, 1009)]);
  t.same(messages(frag([1, false, hex('e2 82')], [0, true, hex('ac')]), S), [['message', '€', false, false]], 'a character split across fragments');
  t.same(messages(frag([1, false, hex('e2 82')], [0, true, '']), S), [err(E.InvalidUtf8, 1007)], 'a message that ends inside a character');
  t.same(messages(frag([1, true, hex('ef bb bf 61')]), S), [['message', '\ufeffa', false, false]], 'a leading U+FEFF is text, not a byte-order mark');
  // Invalid text fails at once, even when the frame is not complete.
  const partial = client({ opcode: 1, payload: Buffer.concat([Buffer.from('ok'), hex('ff'), Buffer.alloc(100)]) }).subarray(0, 20);
  t.same(messages(partial, S), [err(E.InvalidUtf8, 1007)]);
  t.end();
});

t.test('Close frames (§5.5.1, §7.4): nothing after them is decoded', (t) => {
  const close = (payload: Buffer) => client({ opcode: 8, payload });
  t.same(messages(close(Buffer.alloc(0)), S), [['close', 1005, '']]);
  t.same(messages(Buffer.concat([close(hex('03 e8 62 79 65')), client({ opcode: 1, payload: 'late' }), hex('ff ff')]), S), [['close', 1000, 'bye']]);
  t.same(messages(Buffer.concat([client({ opcode: 1, fin: false, payload: 'partial' }), close(hex('03 e9'))]), S), [['close', 1001, '']], 'a Close abandons a message in progress');
  t.same(messages(close(hex('03')), S), [err(E.InvalidClosePayload, 1002)]);
  t.same(messages(close(hex('03 ed')), S), [err(E.InvalidCloseCode, 1002)], 'code 1005 may not be sent');
  t.same(messages(close(hex('03 e8 ff')), S), [err(E.InvalidUtf8, 1007)]);
  t.same(decodeFrames(close(hex('03')), S).error, undefined, 'a Close payload is a message rule, not a frame rule');
  t.end();
});

t.test('an input that ends inside a frame decodes what came before it, and no more', (t) => {
  const stream = Buffer.concat([client({ opcode: 2, payload: 'ab' }), client({ opcode: 9, payload: 'p' }), client({ opcode: 2, payload: Buffer.alloc(300, 1) })]);
  const whole = messages(stream, S);
  t.equal(whole.length, 3);
  for (let cut = 0; cut < stream.length; cut++) {
    const got = messages(stream.subarray(0, cut), S);
    const expected = cut < 8 ? [] : cut < 15 ? whole.slice(0, 1) : whole.slice(0, 2);
    if (JSON.stringify(got) !== JSON.stringify(expected)) t.fail(`cut at ${cut}: ${JSON.stringify(got)}`);
    const frames = decodeFrames(stream.subarray(0, cut), S);
    if (frames.error !== undefined || frames.frames.length !== expected.length) t.fail(`frames, cut at ${cut}`);
  }
  t.pass(`${stream.length} cuts`);
  t.end();
});
