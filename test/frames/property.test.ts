// Property tests (seeded): random frames, masks and chunkings round-trip through encode and decode.
import t from 'tap';
import { FrameParser, Opcode, Receiver, encodeFrame } from '../../src/frames/index.js';
import { RecordingSink, prng } from './helpers.js';

const random = prng(0xc0dec);
const int = (n: number) => (random() * n) | 0;
const SIZES = [0, 1, 2, 3, 4, 5, 125, 126, 127, 1000, 65535, 65536, 70001];
const randomBytes = (n: number) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};
/** Cuts `stream` at random points: sometimes 1-byte pieces, sometimes large. */
const randomChunks = (stream: Buffer): Buffer[] => {
  const chunks: Buffer[] = [];
  const scale = [1, 3, 17, 300, 70000][int(5)];
  for (let i = 0; i < stream.length; ) {
    const n = 1 + int(scale);
    chunks.push(Buffer.from(stream.subarray(i, i + n)));
    i += n;
  }
  return chunks;
};

t.test('frames: encodeFrame → FrameParser in random chunkings, both roles', (t) => {
  let mismatches = 0;
  for (let round = 0; round < 300; round++) {
    const masked = random() < 0.5;
    const frames: { opcode: number; fin: boolean; rsv1: boolean; payload: Buffer }[] = [];
    const count = 1 + int(6);
    for (let i = 0; i < count; i++) {
      const control = random() < 0.3;
      const opcode = control ? [8, 9, 10][int(3)] : [0, 1, 2][int(3)];
      const size = control ? int(126) : random() < 0.7 ? SIZES[int(SIZES.length)] : int(3000);
      frames.push({ opcode, fin: control || random() < 0.5, rsv1: !control && random() < 0.3, payload: randomBytes(size) });
    }
    const originals = frames.map((f) => Buffer.from(f.payload));
    const stream = Buffer.concat(frames.flatMap((f) => encodeFrame(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1, mask: masked })));
    const parser = new FrameParser({ role: masked ? 'server' : 'client', allowRsv1: true, maxPayload: 1 << 20 });
    const out = randomChunks(stream).flatMap((chunk) => parser.push(chunk));
    const ok =
      parser.error === undefined &&
      out.length === frames.length &&
      out.every((f, i) => f.opcode === frames[i].opcode && f.fin === frames[i].fin && f.rsv1 === frames[i].rsv1 && f.masked === masked && f.payload.equals(originals[i])) &&
      frames.every((f, i) => f.payload.equals(originals[i])); // encodeFrame never touched the caller's payload
    if (!ok) mismatches++;
  }
  t.equal(mismatches, 0);
  t.end();
});

t.test('messages: random fragmentation with interleaved pings, masked, random chunkings, through the Receiver', (t) => {
  let mismatches = 0;
  const alphabet = ['a', 'é', '€', '😀', ' '];
  for (let round = 0; round < 200; round++) {
    const expected: unknown[] = [];
    const parts: Buffer[] = [];
    for (let m = 0, count = 1 + int(5); m < count; m++) {
      const binary = random() < 0.5;
      let data: Buffer;
      if (binary) data = randomBytes(SIZES[int(SIZES.length)]);
      else {
        let text = '';
        for (let i = 0, n = int(2000); i < n; i++) text += alphabet[int(alphabet.length)];
        data = Buffer.from(text);
      }
      expected.push(['message', data.toString('hex'), binary, false]);
      // Cut the message into fragments anywhere (also inside code points), with pings in between.
      let at = 0;
      let first = true;
      do {
        const n = random() < 0.3 ? data.length - at : int(data.length - at + 1);
        const fin = at + n === data.length;
        parts.push(...encodeFrame(first ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation, data.subarray(at, at + n), { fin, mask: true }));
        if (!fin && random() < 0.3) {
          const ping = randomBytes(int(126));
          parts.push(...encodeFrame(Opcode.Ping, ping, { mask: true }));
          expected.push(['ping', ping.toString('hex')]);
        }
        at += n;
        first = false;
        if (fin) break;
      } while (true);
    }
    const sink = new RecordingSink();
    const receiver = new Receiver({ role: 'server' }, sink);
    for (const chunk of randomChunks(Buffer.concat(parts))) receiver.push(chunk);
    // Pings come out when they arrive, messages when complete: compare as sorted-by-kind sequences.
    const kinds = (events: unknown[], kind: string) => JSON.stringify(events.filter((e) => (e as string[])[0] === kind));
    if (kinds(sink.events, 'message') !== kinds(expected, 'message') || kinds(sink.events, 'ping') !== kinds(expected, 'ping') || sink.events.length !== expected.length) {
      mismatches++;
    }
  }
  t.equal(mismatches, 0);
  t.end();
});
