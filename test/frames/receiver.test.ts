// The Receiver: message assembly, control frames and every failure with its close code, each stream
// fed whole, 1 byte at a time and split at every position (receiveAll checks they all agree).
import t from 'tap';
import { FrameErrorCode, Opcode, Receiver } from '../../src/frames/index.js';
import { RecordingSink, buildFrame, client, hex, receive, receiveAll, server } from './helpers.js';

const S = { role: 'server' } as const;
const C = { role: 'client' } as const;
const msg = (data: string | Buffer, binary = false, rsv1 = false) => ['message', Buffer.from(data).toString('hex'), binary, rsv1];
const err = (code: string, closeCode: number) => ['error', code, closeCode];

t.test('every payload length boundary, both roles, text and binary', (t) => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(n, 0x61);
    for (const opcode of [Opcode.Text, Opcode.Binary]) {
      t.same(receiveAll(S, client({ opcode, payload })), [msg(payload, opcode === 2)], `server, ${n} bytes, opcode ${opcode}`);
      t.same(receiveAll(C, server({ opcode, payload })), [msg(payload, opcode === 2)], `client, ${n} bytes, opcode ${opcode}`);
    }
  }
  t.end();
});

t.test('non-minimal length encodings are accepted (the minimal-length MUST of §5.2 binds senders)', (t) => {
  t.same(receiveAll(C, server({ opcode: 2, payload: 'abc', lengthForm: 16 })), [msg('abc', true)]);
  t.same(receiveAll(C, server({ opcode: 2, payload: 'abc', lengthForm: 64 })), [msg('abc', true)]);
  t.end();
});

t.test('64-bit lengths: MSB set fails with 1002, over 2^53 with 1009, before any payload', (t) => {
  const msb = server({ opcode: 2, rawLength: { len7: 127, ext: hex('80 00 00 00 00 00 00 00') } });
  t.same(receiveAll(C, msb), [err(FrameErrorCode.InvalidPayloadLength, 1002)]);
  const huge = server({ opcode: 2, rawLength: { len7: 127, ext: hex('00 20 00 00 00 00 00 00') } }); // 2^53
  t.same(receiveAll(C, huge), [err(FrameErrorCode.MessageTooBig, 1009)]);
  t.same(receiveAll({ role: 'client', maxPayload: Infinity }, huge), [err(FrameErrorCode.MessageTooBig, 1009)]);
  const justBelow = server({ opcode: 2, rawLength: { len7: 127, ext: hex('00 1f ff ff ff ff ff ff') } }); // 2^53 - 1
  t.same(receiveAll(C, justBelow), [err(FrameErrorCode.MessageTooBig, 1009)], 'over the default maxPayload');
  const { events, receiver } = receive({ role: 'client', maxPayload: Infinity }, [justBelow, Buffer.alloc(10)]);
  t.same(events, [], 'with no limit, 2^53 - 1 is a length we can count');
  t.equal(receiver.bufferedBytes, 10 + 65536, 'the 10 bytes that came and 64 KiB of room, not the announced length');
  t.end();
});

t.test('maxPayload applies to the whole message and is checked on the header', (t) => {
  const opts = { role: 'server', maxPayload: 10 } as const;
  t.same(receiveAll(opts, client({ opcode: 2, payload: Buffer.alloc(10) })), [msg(Buffer.alloc(10), true)]);
  t.same(receiveAll(opts, client({ opcode: 2, payload: Buffer.alloc(11) })), [err(FrameErrorCode.MessageTooBig, 1009)]);
  const split = Buffer.concat([client({ opcode: 1, fin: false, payload: '12345' }), client({ opcode: 0, fin: false, payload: '67890' }), client({ opcode: 0, payload: '' })]);
  t.same(receiveAll(opts, split), [msg('1234567890')]);
  const over = Buffer.concat([client({ opcode: 1, fin: false, payload: '12345' }), client({ opcode: 0, payload: '678901' })]);
  t.same(receiveAll(opts, over), [err(FrameErrorCode.MessageTooBig, 1009)]);
  // Only the header of a 2 MiB frame: the error comes before a single payload byte is held.
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  r.push(client({ opcode: 2, payload: Buffer.alloc(2 * 1024 * 1024) }).subarray(0, 14));
  t.same(sink.events, [err(FrameErrorCode.MessageTooBig, 1009)]);
  t.equal(r.bufferedBytes, 0);
  t.equal(r.error?.closeCode, 1009);
  t.match(r.error?.message, /maxPayload/);
  t.equal(r.error?.side, 'remote');
  // Control frames are not counted against the message.
  const withPing = Buffer.concat([client({ opcode: 2, fin: false, payload: Buffer.alloc(6) }), client({ opcode: 9, payload: 'pingpingping' }), client({ opcode: 0, payload: Buffer.alloc(4) })]);
  t.same(receiveAll(opts, withPing), [['ping', Buffer.from('pingpingping').toString('hex')], msg(Buffer.alloc(10), true)]);
  t.end();
});

t.test('fragments cost their bytes, not a count: maxPayload alone caps a message in many frames (1009)', (t) => {
  const frames = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => client({ opcode: i === 0 ? 1 : 0, fin: i === n - 1, payload: 'x' })));
  // There is no fragment cap: 4,097 one-byte fragments (once refused with 1009) are one message.
  t.same(receive(S, [frames(4097)]).events, [msg('x'.repeat(4097))]);
  t.same(receiveAll({ role: 'server', maxPayload: 5 }, frames(5)), [msg('xxxxx')]);
  t.same(receiveAll({ role: 'server', maxPayload: 5 }, frames(6)), [err(FrameErrorCode.MessageTooBig, 1009)]);
  t.same(receiveAll({ role: 'server', maxPayload: 1 }, frames(1)), [msg('x')]);
  // The count starts again with each message.
  t.same(receiveAll({ role: 'server', maxPayload: 2 }, Buffer.concat([frames(2), frames(2)])), [msg('xx'), msg('xx')]);
  t.end();
});

t.test('the masking rule of §5.1', (t) => {
  t.same(receiveAll(S, server({ opcode: 1, payload: 'hi' })), [err(FrameErrorCode.ExpectedMask, 1002)]);
  t.same(receiveAll(C, client({ opcode: 1, payload: 'hi' })), [err(FrameErrorCode.UnexpectedMask, 1002)]);
  t.same(receiveAll(S, server({ opcode: 9 })), [err(FrameErrorCode.ExpectedMask, 1002)]);
  t.end();
});

t.test('RSV bits (§5.2) and RSV1 for an extension (RFC 7692 §6)', (t) => {
  for (const rsv of [1, 2, 4, 7]) {
    t.same(receiveAll(S, client({ opcode: 2, rsv, payload: 'a' })), [err(FrameErrorCode.UnexpectedRsv, 1002)], `rsv ${rsv}`);
  }
  const ext = { role: 'server', allowRsv1: true } as const;
  t.same(receiveAll(ext, client({ opcode: 2, rsv: 4, payload: 'a' })), [msg('a', true, true)]);
  t.same(receiveAll(ext, client({ opcode: 2, rsv: 2, payload: 'a' })), [err(FrameErrorCode.UnexpectedRsv, 1002)]);
  t.same(receiveAll(ext, client({ opcode: 9, rsv: 4, payload: 'a' })), [err(FrameErrorCode.UnexpectedRsv, 1002)]);
  const cont = Buffer.concat([client({ opcode: 1, rsv: 4, fin: false, payload: 'a' }), client({ opcode: 0, rsv: 4, payload: 'b' })]);
  t.same(receiveAll(ext, cont), [err(FrameErrorCode.UnexpectedRsv, 1002)]);
  // A compressed text message is not validated here: its bytes are not text until inflated.
  const compressed = Buffer.concat([client({ opcode: 1, rsv: 4, fin: false, payload: hex('ff') }), client({ opcode: 0, payload: hex('c3') })]);
  t.same(receiveAll(ext, compressed), [msg(hex('ffc3'), false, true)]);
  t.same(receiveAll(ext, client({ opcode: 1, rsv: 4, payload: hex('ff') })), [msg(hex('ff'), false, true)]);
  t.end();
});

t.test('reserved opcodes 3–7 and 11–15 fail with 1002', (t) => {
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    t.same(receiveAll(S, client({ opcode, payload: 'a' })), [err(FrameErrorCode.InvalidOpcode, 1002)], `opcode ${opcode}`);
    t.same(receiveAll(C, server({ opcode })), [err(FrameErrorCode.InvalidOpcode, 1002)], `opcode ${opcode}, client`);
  }
  t.end();
});

t.test('control frames: FIN required, payload at most 125 (§5.5)', (t) => {
  for (const opcode of [8, 9, 10]) {
    t.same(receiveAll(S, client({ opcode, fin: false })), [err(FrameErrorCode.FragmentedControlFrame, 1002)]);
    t.same(receiveAll(S, client({ opcode, payload: Buffer.alloc(126) })), [err(FrameErrorCode.ControlFrameTooBig, 1002)]);
    t.same(receiveAll(S, client({ opcode, payload: Buffer.alloc(126), lengthForm: 64 })), [err(FrameErrorCode.ControlFrameTooBig, 1002)]);
  }
  const ping125 = Buffer.alloc(125, 0x70);
  t.same(receiveAll(S, client({ opcode: 9, payload: ping125 })), [['ping', ping125.toString('hex')]]);
  t.same(receiveAll(C, server({ opcode: 10, payload: ping125 })), [['pong', ping125.toString('hex')]]);
  t.same(receiveAll(C, server({ opcode: 9 })), [['ping', '']]);
  // A 3-byte payload with a non-minimal 16-bit length is still ≤ 125 bytes: fine.
  t.same(receiveAll(C, server({ opcode: 9, payload: 'abc', lengthForm: 16 })), [err(FrameErrorCode.ControlFrameTooBig, 1002)], 'extended length forms are refused outright for control frames');
  t.end();
});

t.test('fragmentation (§5.4): order, interleaved control frames, empty fragments', (t) => {
  const stream = Buffer.concat([
    client({ opcode: 1, fin: false, payload: 'Hel' }),
    client({ opcode: 9, payload: 'p1' }),
    client({ opcode: 0, fin: false, payload: '' }),
    client({ opcode: 10, payload: 'p2' }),
    client({ opcode: 0, payload: 'lo' }),
    client({ opcode: 2, payload: hex('0102') }),
    client({ opcode: 2, fin: false, payload: '' }),
    client({ opcode: 0, payload: '' }),
    client({ opcode: 1, payload: '' }),
  ]);
  t.same(receiveAll(S, stream), [
    ['ping', Buffer.from('p1').toString('hex')],
    ['pong', Buffer.from('p2').toString('hex')],
    msg('Hello'),
    msg(hex('0102'), true),
    msg('', true),
    msg(''),
  ]);
  t.end();
});

t.test('continuation without a message, and a data frame inside one, fail with 1002', (t) => {
  t.same(receiveAll(S, client({ opcode: 0, payload: 'a' })), [err(FrameErrorCode.UnexpectedContinuation, 1002)]);
  const done = Buffer.concat([client({ opcode: 1, payload: 'a' }), client({ opcode: 0, payload: 'b' })]);
  t.same(receiveAll(S, done), [msg('a'), err(FrameErrorCode.UnexpectedContinuation, 1002)]);
  for (const [first, second] of [
    [1, 1],
    [1, 2],
    [2, 1],
    [2, 2],
  ]) {
    const s = Buffer.concat([client({ opcode: first, fin: false, payload: 'a' }), client({ opcode: second, payload: 'b' })]);
    t.same(receiveAll(S, s), [err(FrameErrorCode.ExpectedContinuation, 1002)], `opcode ${second} inside ${first}`);
  }
  t.end();
});

t.test('text must be UTF-8 (§8.1): start, middle and end of a fragmented message, and single frames', (t) => {
  const frag = (...parts: Buffer[]) => Buffer.concat(parts.map((p, i) => client({ opcode: i === 0 ? 1 : 0, fin: i === parts.length - 1, payload: p })));
  const valid = frag(Buffer.from('caf'), hex('c3'), hex('a9'), Buffer.from(' €'), hex('f0 9f'), hex('98 80'));
  t.same(receiveAll(S, valid), [msg('café €😀')]);
  const bad = err(FrameErrorCode.InvalidUtf8, 1007);
  t.same(receiveAll(S, frag(hex('ff'), Buffer.from('ok'))), [bad], 'at the start');
  t.same(receiveAll(S, frag(Buffer.from('ok'), hex('c3 28'), Buffer.from('ok'))), [bad], 'in the middle');
  t.same(receiveAll(S, frag(Buffer.from('ok'), Buffer.from('ok'), hex('ed a0 80'))), [bad], 'a surrogate at the end');
  t.same(receiveAll(S, frag(Buffer.from('ok'), hex('e2 82'))), [bad], 'ends inside a code point');
  t.same(receiveAll(S, frag(Buffer.from('ok'), hex('e2'), Buffer.alloc(0))), [bad], 'ends inside a code point, then an empty final frame');
  t.same(receiveAll(S, client({ opcode: 1, payload: hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64') })), [bad], 'single frame');
  t.same(receiveAll(S, client({ opcode: 1, payload: Buffer.concat([Buffer.alloc(100, 0x61), hex('c0 80')]) })), [bad], 'long single frame');
  t.same(receiveAll(S, client({ opcode: 1, payload: hex('e2 82') })), [bad], 'single frame ending inside a code point');
  t.same(receiveAll(S, client({ opcode: 2, payload: hex('ff') })), [msg(hex('ff'), true)], 'binary is not validated');
  t.end();
});

t.test('invalid text fails fast: at the TCP chunk holding the bad byte, mid-frame and mid-fragment', (t) => {
  const payload = Buffer.concat([Buffer.alloc(1000, 0x61), hex('f4 90 80 80'), Buffer.alloc(1000, 0x62)]);
  const frame = client({ opcode: 1, payload });
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  r.push(Buffer.from(frame.subarray(0, 1010)));
  t.same(sink.events, [err(FrameErrorCode.InvalidUtf8, 1007)], 'the frame is not complete, but the error is out');
  // In a later fragment, inside a TCP chunk that ends mid-frame.
  const sink2 = new RecordingSink();
  const r2 = new Receiver(S, sink2);
  r2.push(client({ opcode: 1, fin: false, payload: 'fine' }));
  const second = client({ opcode: 0, payload: Buffer.concat([Buffer.from('ok'), hex('f8'), Buffer.alloc(50, 0x61)]) });
  r2.push(second.subarray(0, 10));
  t.same(sink2.events, [err(FrameErrorCode.InvalidUtf8, 1007)]);
  // A truncated code point is not an error while more may come: E2 82 | AC.
  const sink3 = new RecordingSink();
  const r3 = new Receiver(S, sink3);
  const euro = client({ opcode: 1, payload: Buffer.concat([Buffer.alloc(40, 0x61), hex('e2 82 ac')]) });
  r3.push(Buffer.from(euro.subarray(0, euro.length - 1)));
  t.same(sink3.events, []);
  r3.push(Buffer.from(euro.subarray(euro.length - 1)));
  t.same(sink3.events, [msg(Buffer.concat([Buffer.alloc(40, 0x61), hex('e2 82 ac')]))]);
  t.end();
});

t.test('Close frames (§5.5.1, §7.4)', (t) => {
  const close = (payload: Buffer) => client({ opcode: 8, payload });
  const code = (n: number, reason = '') => Buffer.concat([Buffer.from([n >> 8, n & 0xff]), Buffer.from(reason)]);
  t.same(receiveAll(S, close(Buffer.alloc(0))), [['close', 1005, '']]);
  t.same(receiveAll(S, close(code(1000, 'bye ☃'))), [['close', 1000, 'bye ☃']]);
  for (const n of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    t.same(receiveAll(S, close(code(n))), [['close', n, '']], `code ${n}`);
  }
  for (const n of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
    t.same(receiveAll(S, close(code(n))), [err(FrameErrorCode.InvalidCloseCode, 1002)], `code ${n}`);
  }
  t.same(receiveAll(S, close(hex('03'))), [err(FrameErrorCode.InvalidClosePayload, 1002)]);
  t.same(receiveAll(S, close(Buffer.concat([code(1000), hex('ff')]))), [err(FrameErrorCode.InvalidUtf8, 1007)]);
  const longest = 'r'.repeat(123);
  t.same(receiveAll(C, server({ opcode: 8, payload: code(4000, longest) })), [['close', 4000, longest]]);
  // Nothing after a Close counts, not even garbage; a Close ends a message in progress.
  const after = Buffer.concat([client({ opcode: 1, fin: false, payload: 'partial' }), close(code(1001)), client({ opcode: 1, payload: 'late' }), hex('ff ff ff')]);
  const { events, receiver } = receive(S, [after]);
  t.same(events, [['close', 1001, '']]);
  t.equal(receiver.error, undefined);
  t.equal(receiver.bufferedBytes, 0);
  t.same(receiveAll(S, after), [['close', 1001, '']]);
  t.end();
});

t.test('after an error: onError once, error set, all further input ignored, never a throw', (t) => {
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  r.push(Buffer.concat([client({ opcode: 1, payload: 'ok' }), client({ opcode: 3 }), client({ opcode: 1, payload: 'no' })]));
  r.push(client({ opcode: 1, payload: 'still no' }));
  r.push(hex('ff ff ff ff'));
  t.same(sink.events, [msg('ok'), err(FrameErrorCode.InvalidOpcode, 1002)]);
  t.equal(r.error?.code, FrameErrorCode.InvalidOpcode);
  t.equal(r.error?.name, 'WebSocketError');
  t.match(r.error?.message, /opcode 3.*§5\.2/);
  t.end();
});

t.test('payloads within one chunk are views of it, unmasked in place (zero-copy)', (t) => {
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  const chunk = Buffer.concat([client({ opcode: 2, payload: Buffer.alloc(300, 1) }), client({ opcode: 1, payload: 'hello' })]);
  r.push(chunk);
  t.equal(sink.payloads.length, 2);
  t.equal(sink.payloads[0].buffer, chunk.buffer);
  t.equal(sink.payloads[0].byteOffset, chunk.byteOffset + 8);
  t.equal(sink.payloads[1].buffer, chunk.buffer);
  t.equal(sink.payloads[1].toString(), 'hello');
  // A large piece in a chunk that is all payload is kept as that chunk: a fragmented message held
  // in it alone is delivered as a view of it.
  const sink2 = new RecordingSink();
  const r2 = new Receiver(C, sink2);
  const big = Buffer.alloc(20000, 7);
  const alone = Buffer.allocUnsafeSlow(big.length);
  big.copy(alone);
  r2.push(server({ opcode: 2, fin: false, payload: big }).subarray(0, 4));
  r2.push(alone);
  r2.push(server({ opcode: 0, payload: '' }));
  t.equal(sink2.payloads[0].buffer, alone.buffer);
  t.same(sink2.payloads[0], big);
  // A piece that shares its chunk with anything else (here its header) is copied: a view would
  // keep the whole chunk alive.
  const sink3 = new RecordingSink();
  const r3 = new Receiver(C, sink3);
  const chunk3 = Buffer.concat([server({ opcode: 2, fin: false, payload: big }), server({ opcode: 0, payload: '' })]);
  r3.push(chunk3);
  t.not(sink3.payloads[0].buffer, chunk3.buffer);
  t.same(sink3.payloads[0], big);
  t.end();
});

t.test('bufferedBytes is the memory held: header bytes, and payload buffers at their full size', (t) => {
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  t.equal(r.bufferedBytes, 0);
  // A frame of 20,000 bytes spanning chunks: one buffer of its exact size (within 64 KiB of what came).
  const text = client({ opcode: 1, payload: Buffer.alloc(20000, 0x61) });
  r.push(Buffer.from(text.subarray(0, 3)));
  t.equal(r.bufferedBytes, 1, 'one byte of the 16-bit length');
  r.push(Buffer.from(text.subarray(3, 8 + 500)));
  t.equal(r.bufferedBytes, 20000, 'the message buffer, at the announced size');
  r.push(Buffer.from(text.subarray(508, 8 + 1800)));
  t.equal(r.bufferedBytes, 20000);
  r.push(Buffer.from(text.subarray(1808)));
  t.equal(r.bufferedBytes, 0, 'delivered');
  const ping = client({ opcode: 9, payload: 'abcdef' });
  r.push(Buffer.from(ping.subarray(0, 9)));
  t.equal(r.bufferedBytes, 6, 'the ping payload buffer, at its size');
  r.push(Buffer.from(ping.subarray(9)));
  t.equal(r.bufferedBytes, 0);
  // A frame of 100,000 bytes: 64 KiB of room at most beyond what came, filled by what comes next;
  // then a chunk that is all payload is kept as it is, counted at its size.
  const binary = Buffer.alloc(100000);
  for (let i = 0; i < binary.length; i++) binary[i] = i & 0xff;
  const frame = client({ opcode: 2, payload: binary });
  const alone = (from: number, to: number) => {
    const chunk = Buffer.allocUnsafeSlow(to - from);
    frame.copy(chunk, 0, from, to);
    return chunk;
  };
  r.push(Buffer.from(frame.subarray(0, 14 + 500)));
  t.equal(r.bufferedBytes, 500 + 65536, '500 bytes, and 64 KiB of room');
  r.push(alone(514, 514 + 65536));
  t.equal(r.bufferedBytes, 500 + 65536, 'a chunk of payload fills the room (copied)');
  r.push(alone(514 + 65536, 514 + 65536 + 20000));
  t.equal(r.bufferedBytes, 500 + 65536 + 20000, 'a chunk of 20,000 bytes of payload, with no room left for it: kept');
  r.push(frame.subarray(514 + 65536 + 20000, frame.length - 1));
  t.equal(r.bufferedBytes, 100000, 'the rest but one byte, in a block with room for that byte: the payload, exactly');
  r.push(Buffer.concat([frame.subarray(frame.length - 1), client({ opcode: 10, payload: 'x' })]));
  t.equal(r.bufferedBytes, 0);
  t.same(sink.events, [msg(Buffer.alloc(20000, 0x61)), ['ping', Buffer.from('abcdef').toString('hex')], msg(binary, true), ['pong', '78']]);
  t.end();
});

t.test('inProgress and announcedBytes follow the frame and message in progress', (t) => {
  const sink = new RecordingSink();
  const r = new Receiver(S, sink);
  const state = () => [r.inProgress, r.announcedBytes];
  t.same(state(), [false, 0]);
  const first = client({ opcode: 1, fin: false, payload: Buffer.alloc(300, 0x61) });
  r.push(first.subarray(0, 1));
  t.same(state(), [true, 0], 'one header byte: a frame has started, nothing announced yet');
  r.push(first.subarray(1, 4));
  t.same(state(), [true, 300], 'the length is known');
  r.push(first.subarray(4, 100));
  t.same(state(), [true, 300], 'payload arriving');
  r.push(first.subarray(100));
  t.same(state(), [true, 300], 'between the fragments of a message');
  const ping = client({ opcode: 9, payload: 'abc' });
  r.push(ping.subarray(0, 4));
  t.same(state(), [true, 303], 'a control frame inside the message counts too');
  r.push(ping.subarray(4));
  t.same(state(), [true, 300]);
  const last = client({ opcode: 0, payload: Buffer.alloc(50, 0x62) });
  r.push(last.subarray(0, 2));
  t.same(state(), [true, 350]);
  r.push(last.subarray(2));
  t.same(state(), [false, 0], 'the message is delivered');
  const pong = client({ opcode: 10, payload: 'xy' });
  r.push(pong.subarray(0, 6));
  t.same(state(), [true, 2], 'a control frame on its own');
  r.push(pong.subarray(6));
  t.same(state(), [false, 0]);
  const single = client({ opcode: 2, payload: Buffer.alloc(70000) });
  r.push(Buffer.from(single.subarray(0, 20)));
  t.same(state(), [true, 70000]);
  r.push(Buffer.from(single.subarray(20)));
  t.same(state(), [false, 0]);
  // Ended: a Close, or a failure, leaves nothing in progress.
  r.push(Buffer.concat([client({ opcode: 2, fin: false, payload: 'a' }), client({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }), client({ opcode: 2, fin: false, payload: 'b' }).subarray(0, 3)]));
  t.same(state(), [false, 0], 'after a Close');
  const failed = new Receiver(S, new RecordingSink());
  failed.push(Buffer.concat([client({ opcode: 2, fin: false, payload: 'a' }), client({ opcode: 2, payload: 'b' })]));
  t.equal(failed.error?.code, FrameErrorCode.ExpectedContinuation);
  t.same([failed.inProgress, failed.announcedBytes], [false, 0], 'after a failure');
  t.same(sink.events.map((e) => e[0]), ['ping', 'message', 'pong', 'message', 'close']);
  t.end();
});

t.test('a message trickling in small pieces is coalesced into blocks', (t) => {
  // 40 KiB in 100-byte fragments fed 1 byte at a time, then large pieces in between.
  const parts: Buffer[] = [];
  const expected: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    const p = Buffer.alloc(i % 50 === 0 ? 3000 : 100, i & 0xff);
    expected.push(p);
    parts.push(client({ opcode: i === 0 ? 2 : 0, fin: i === 399, payload: p }));
  }
  const stream = Buffer.concat(parts);
  const whole = receive(S, [stream]).events;
  const bytes: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
  const trickled = receive(S, bytes).events;
  t.same(whole, [msg(Buffer.concat(expected), true)]);
  t.same(trickled, whole);
  const uneven: Buffer[] = [];
  for (let i = 0, n = 1; i < stream.length; i += n, n = 1 + ((n * 7 + 3) % 1500)) uneven.push(stream.subarray(i, i + n));
  t.same(receive(S, uneven).events, whole);
  t.end();
});

t.test('a sink that stops pushing leaves the receiver consistent', (t) => {
  const events: string[] = [];
  let r: Receiver | undefined = undefined;
  const sink = {
    onMessage: (d: Buffer) => events.push(`m:${d}`),
    onPing: () => events.push(`ping, buffered ${r?.bufferedBytes}`),
    onPong: () => undefined,
    onClose: () => undefined,
    onError: () => undefined,
  };
  r = new Receiver(S, sink);
  r.push(Buffer.concat([client({ opcode: 1, fin: false, payload: 'ab' }), client({ opcode: 9 }), client({ opcode: 0, payload: 'c' })]));
  t.same(events, ['ping, buffered 2', 'm:abc']);
  t.end();
});

t.test('options are validated (local errors, thrown)', (t) => {
  const sink = new RecordingSink();
  t.throws(() => new Receiver({ role: 'peer' } as never, sink), { code: FrameErrorCode.InvalidOption, side: 'local' });
  t.throws(() => new Receiver(null as never, sink), { code: FrameErrorCode.InvalidOption });
  t.throws(() => new Receiver({} as never, sink), { code: FrameErrorCode.InvalidOption, message: /role is required/ });
  t.throws(() => new Receiver(undefined as never, sink), { code: FrameErrorCode.InvalidOption, message: /^new Receiver\(\): option role is required/ });
  t.throws(() => new Receiver({ role: 'server', maxPayload: -1 }, sink), { code: FrameErrorCode.InvalidOption });
  t.throws(() => new Receiver({ role: 'server', maxPayload: 1.5 }, sink), {
    code: FrameErrorCode.InvalidOption,
    message: 'new Receiver(): option maxPayload must be a whole number of bytes from 0 to 2^53 - 1, or Infinity (no limit); got 1.5 (a number).',
  });
  t.throws(() => new Receiver({ role: 'server', allowRsv1: 1 } as never, sink), { code: FrameErrorCode.InvalidOption, message: /allowRsv1/ });
  // maxFragments is gone: fragments cost their bytes against maxPayload. Passing it is a mistake, said so.
  t.throws(() => new Receiver({ role: 'server', maxFragments: 4096 } as never, sink), { code: FrameErrorCode.InvalidOption, message: /unknown option "maxFragments"/ });
  t.ok(new Receiver({ role: 'server', maxPayload: 0, allowRsv1: false }, sink));
  t.ok(new Receiver({ role: 'server', maxPayload: Infinity, allowRsv1: undefined }, sink));
  t.same(receiveAll({ role: 'server', maxPayload: 0 }, client({ opcode: 1 })), [msg('')]);
  t.end();
});

t.test('buildFrame sanity: the helper matches the RFC example', (t) => {
  t.same(buildFrame({ opcode: 1, payload: 'Hello', key: [0x37, 0xfa, 0x21, 0x3d] }), hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
  t.end();
});
