// A message in assembly is bounded by its bytes, whatever its fragment count (src/frames/payload-buffer.ts):
// it holds at most its payload + 64 KiB, allocates at most 64 KiB ahead of the bytes received, and
// costs no memory per fragment. Every assertion is on the bytes held (bufferedBytes) or on the
// number of buffers holding them, never on a duration.
import t from 'tap';
import { FrameParser, Receiver } from '../../src/frames/index.js';
import { RecordingSink, client, hex } from './helpers.js';

/** The stated bound: room allocated beyond the bytes received (MAX_AHEAD in payload-buffer.ts). */
const AHEAD = 64 * 1024;
/** bufferedBytes also counts the bytes of a header field gathered across pushes: fewer than 8. */
const FIELD = 8;
const MiB = 1024 * 1024;

/** How many Buffers hold the message in progress (white-box: the property is "no list per fragment"). */
function buffersHeld(receiver: Receiver): number {
  const payload = (receiver as unknown as { payloadBuffer?: { segments: Buffer[]; block: Buffer | undefined } }).payloadBuffer;
  if (payload === undefined) return 0;
  return payload.segments.length + (payload.block === undefined ? 0 : 1);
}

function fragmented(data: Buffer, size: number, opcode: number): { stream: Buffer; header: number } {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) {
    frames.push(client({ opcode: at === 0 ? opcode : 0, fin: at + size >= data.length, payload: data.subarray(at, at + size) }));
  }
  return { stream: Buffer.concat(frames), header: frames[0].length - size };
}

t.test('Autobahn 9.3.1, 9.3.2, 9.4.1, 9.4.2: 4 MiB in 64-byte and 256-byte fragments at maxPayload 64 MiB', (t) => {
  const text = Buffer.alloc(4 * MiB);
  for (let i = 0; i < text.length; i++) text[i] = 0x20 + (i % 95);
  const binary = Buffer.alloc(4 * MiB);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 31) & 0xff;
  for (const [opcode, data] of [[1, text], [2, binary]] as const) {
    for (const size of [64, 256]) {
      const { stream, header } = fragmented(data, size, opcode);
      const sink = new RecordingSink();
      const receiver = new Receiver({ role: 'server', maxPayload: 64 * MiB }, sink);
      let excess = 0;
      let buffers = 0;
      // 64 KiB socket reads, each in memory of its own.
      for (let at = 0; at < stream.length; at += 65536) {
        const chunk = Buffer.from(stream.subarray(at, at + 65536));
        receiver.push(chunk);
        if (sink.events.length > 0) break;
        // Payload bytes received so far: whole frames, then the part of the last one past its header.
        const end = at + chunk.length;
        const frame = header + size;
        const received = Math.floor(end / frame) * size + Math.max(0, (end % frame) - header);
        excess = Math.max(excess, receiver.bufferedBytes - received);
        buffers = Math.max(buffers, buffersHeld(receiver));
      }
      const what = `${opcode === 1 ? 'text' : 'binary'} in ${data.length / size} fragments of ${size} bytes`;
      t.equal(sink.events.length, 1, `${what}: one event`);
      t.ok(sink.payloads[0]?.equals(data), `${what}: delivered intact`);
      t.same(sink.events[0]?.slice(2), [opcode === 2, false]);
      t.ok(excess <= AHEAD, `${what}: at most payload + 64 KiB held (${excess} bytes over)`);
      // Blocks double up to 64 KiB, then 64 KiB each: 4 MiB is about 64 of them, not 65,536 pieces.
      t.ok(buffers <= 4 * MiB / AHEAD + 16, `${what}: ${buffers} buffers held`);
      t.equal(receiver.bufferedBytes, 0);
    }
  }
  t.end();
});

t.test('100,000 empty fragments and then a 1-byte one hold nothing but that byte', (t) => {
  const sink = new RecordingSink();
  const receiver = new Receiver({ role: 'server' }, sink);
  const empty = client({ opcode: 0, fin: false });
  receiver.push(Buffer.concat([client({ opcode: 2, fin: false }), ...Array.from({ length: 100_000 }, () => empty)]));
  t.same(sink.events, []);
  t.equal(receiver.bufferedBytes, 0, 'no memory for the empty fragments');
  t.equal(buffersHeld(receiver), 0);
  t.same([receiver.inProgress, receiver.announcedBytes], [true, 0]);
  const last = client({ opcode: 0, payload: hex('2a') });
  receiver.push(last.subarray(0, 6));
  t.equal(receiver.bufferedBytes, 0, 'the last header');
  t.same(receiver.announcedBytes, 1);
  receiver.push(last.subarray(6));
  t.same(sink.events, [['message', '2a', true, false]]);
  t.equal(receiver.bufferedBytes, 0);
  t.end();
});

t.test('a message trickled one byte per push holds at most its payload so far + 64 KiB', (t) => {
  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  for (const size of [data.length, 1000, 7]) {
    const { stream, header } = fragmented(data, size, 2);
    const sink = new RecordingSink();
    const receiver = new Receiver({ role: 'server' }, sink);
    let excess = 0;
    let most = 0;
    for (let at = 0; at < stream.length && sink.events.length === 0; at++) {
      receiver.push(stream.subarray(at, at + 1));
      const frame = header + size;
      const end = at + 1;
      const received = Math.floor(end / frame) * size + Math.max(0, (end % frame) - header);
      excess = Math.max(excess, receiver.bufferedBytes - received);
      most = Math.max(most, receiver.bufferedBytes);
    }
    t.ok(sink.payloads[0]?.equals(data), `${size}-byte fragments: delivered intact`);
    t.ok(excess <= AHEAD + FIELD, `${size}-byte fragments: at most 64 KiB (and a header field) over the payload received (${excess})`);
    t.ok(most <= data.length + AHEAD, `${size}-byte fragments: at most payload + 64 KiB in all (${most})`);
    if (size === data.length) t.equal(excess, AHEAD, 'one frame: the first byte gets exactly 64 KiB of room, no more');
  }
  t.end();
});

t.test('a 1 MiB frame announced, 1 byte sent: 1 byte + 64 KiB allocated, not 1 MiB', (t) => {
  const head = client({ opcode: 2, payload: Buffer.alloc(MiB) }).subarray(0, 14 + 1);
  const receiver = new Receiver({ role: 'server', maxPayload: 64 * MiB }, new RecordingSink());
  receiver.push(Buffer.from(head));
  t.equal(receiver.bufferedBytes, 1 + AHEAD);
  t.same([receiver.inProgress, receiver.announcedBytes], [true, MiB]);
  const parser = new FrameParser({ role: 'server', maxPayload: 64 * MiB });
  parser.push(Buffer.from(head));
  t.equal(parser.bufferedBytes, 1 + AHEAD, 'the FrameParser too');
  // Below 64 KiB the room is what the header announced, exactly.
  const small = new Receiver({ role: 'server' }, new RecordingSink());
  small.push(Buffer.from(client({ opcode: 2, payload: Buffer.alloc(3000) }).subarray(0, 8 + 1)));
  t.equal(small.bufferedBytes, 3000);
  t.end();
});

t.test('room is never more than maxPayload allows', (t) => {
  // 900 bytes held at maxPayload 1000: small fragments get room for the last 100 bytes, not 900.
  const sink = new RecordingSink();
  const receiver = new Receiver({ role: 'server', maxPayload: 1000 }, sink);
  receiver.push(client({ opcode: 2, fin: false, payload: Buffer.alloc(900, 1) }).subarray(0, 8 + 1));
  t.equal(receiver.bufferedBytes, 900, 'the first fragment, at its size');
  receiver.push(Buffer.concat([client({ opcode: 2, fin: false, payload: Buffer.alloc(900, 1) }).subarray(8 + 1), client({ opcode: 0, fin: false, payload: 'ab' })]));
  t.equal(receiver.bufferedBytes, 1000, 'a block of 2 bytes + room for the 98 that may still come');
  receiver.push(client({ opcode: 0, payload: Buffer.alloc(98, 2) }));
  t.same(sink.payloads[0], Buffer.concat([Buffer.alloc(900, 1), Buffer.from('ab'), Buffer.alloc(98, 2)]));
  t.equal(receiver.bufferedBytes, 0);
  t.end();
});

t.test('after a large piece of a frame with more than 64 KiB to come, no room: the large reads that follow are kept', (t) => {
  const data = Buffer.alloc(MiB);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const frame = client({ opcode: 2, payload: data });
  const sink = new RecordingSink();
  const receiver = new Receiver({ role: 'server', maxPayload: 64 * MiB }, sink);
  const own = (from: number, to: number) => {
    const chunk = Buffer.allocUnsafeSlow(to - from);
    frame.copy(chunk, 0, from, to);
    return chunk;
  };
  receiver.push(own(0, 14 + 30000));
  t.equal(receiver.bufferedBytes, 30000, 'the header shares the first read: its 30,000 bytes are copied, with no room');
  let at = 14 + 30000;
  receiver.push(own(at, (at += 65536)));
  t.equal(receiver.bufferedBytes, 30000 + 65536, 'a read that is all payload: kept');
  // A small read: it gets room again (at most 64 KiB), and the next reads fill it.
  receiver.push(own(at, (at += 100)));
  t.equal(receiver.bufferedBytes, 30000 + 65536 + 100 + AHEAD);
  while (at < frame.length) receiver.push(own(at, (at = Math.min(frame.length, at + 65536))));
  t.ok(sink.payloads[0]?.equals(data), 'delivered intact');
  t.equal(receiver.bufferedBytes, 0);
  t.end();
});
