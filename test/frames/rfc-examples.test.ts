// RFC 6455 §5.7, byte for byte: decoding (FrameParser and Receiver, in every chunking) and encoding.
import t from 'tap';
import { FrameParser, Opcode, encodeFrame, mask, writeFrameHeader } from '../../src/frames/index.js';
import { hex, receiveAll } from './helpers.js';

const HELLO = Buffer.from('Hello');
const unmaskedText = hex('81 05 48 65 6c 6c 6f');
const maskedText = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
const fragmented = hex('01 03 48 65 6c  80 02 6c 6f');
const ping = hex('89 05 48 65 6c 6c 6f');
const maskedPong = hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58');
const bin256Header = hex('82 7e 01 00');
const bin64kHeader = hex('82 7f 00 00 00 00 00 01 00 00');

t.test('a single-frame unmasked text message', (t) => {
  t.same(receiveAll({ role: 'client' }, unmaskedText), [['message', HELLO.toString('hex'), false, false]]);
  const frames = new FrameParser({ role: 'client' }).push(Buffer.from(unmaskedText));
  t.same(frames, [{ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, masked: false, payload: HELLO }]);
  t.same(Buffer.concat(encodeFrame(Opcode.Text, HELLO)), unmaskedText);
  t.end();
});

t.test('a single-frame masked text message', (t) => {
  t.same(receiveAll({ role: 'server' }, maskedText), [['message', HELLO.toString('hex'), false, false]]);
  const frames = new FrameParser({ role: 'server' }).push(Buffer.from(maskedText));
  t.same(frames, [{ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, masked: true, payload: HELLO }]);
  // The RFC's key 37 fa 21 3d, through our header writer and mask().
  const out = Buffer.alloc(11);
  const end = writeFrameHeader(out, 0, true, Opcode.Text, 5, true);
  t.equal(end, 6);
  hex('37 fa 21 3d').copy(out, 2);
  mask(HELLO, out, 2, out, 6);
  t.same(out, maskedText);
  t.end();
});

t.test('a fragmented unmasked text message', (t) => {
  t.same(receiveAll({ role: 'client' }, fragmented), [['message', HELLO.toString('hex'), false, false]]);
  const frames = new FrameParser({ role: 'client' }).push(Buffer.from(fragmented));
  t.same(
    frames.map((f) => [f.fin, f.opcode, f.payload.toString()]),
    [
      [false, 1, 'Hel'],
      [true, 0, 'lo'],
    ],
  );
  t.same(Buffer.concat([...encodeFrame(Opcode.Text, Buffer.from('Hel'), { fin: false }), ...encodeFrame(Opcode.Continuation, Buffer.from('lo'))]), fragmented);
  t.end();
});

t.test('unmasked Ping and masked Pong', (t) => {
  t.same(receiveAll({ role: 'client' }, ping), [['ping', HELLO.toString('hex')]]);
  t.same(receiveAll({ role: 'server' }, maskedPong), [['pong', HELLO.toString('hex')]]);
  t.same(Buffer.concat(encodeFrame(Opcode.Ping, HELLO)), ping);
  const [header, payload] = encodeFrame(Opcode.Pong, HELLO, { mask: true });
  t.same(header.subarray(0, 2), hex('8a 85'));
  const parsed = new FrameParser({ role: 'server' }).push(Buffer.concat([header, payload]));
  t.same(parsed[0].payload, HELLO);
  t.end();
});

t.test('256 bytes and 64 KiB binary messages in single unmasked frames', (t) => {
  for (const [size, header] of [
    [256, bin256Header],
    [65536, bin64kHeader],
  ] as const) {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
    const [encodedHeader, encodedPayload] = encodeFrame(Opcode.Binary, payload);
    t.same(encodedHeader, header, `${size}-byte header`);
    t.equal(encodedPayload, payload, 'unmasked payload is passed through, not copied');
    const frames = new FrameParser({ role: 'client' }).push(Buffer.concat([header, payload]));
    t.equal(frames.length, 1);
    t.same(frames[0].payload, payload);
    const events = receiveAll({ role: 'client' }, Buffer.concat([header, payload]));
    t.same(events, [['message', payload.toString('hex'), true, false]]);
  }
  t.end();
});
