// The Deflater (RFC 7692 §7.2.1): the tail removed, the send policy (threshold, "not smaller"),
// context takeover and its reset, windows 8..15 checked by an independent decoder, sharing.
import zlib from 'node:zlib';
import t from 'tap';
import { Deflater, Inflater, ZlibPool, compressShared, shareKeyOf } from '../../src/deflate/index.js';
import { decodeDeflate, json, random } from './helpers.js';

const pool = new ZlibPool();

t.test('the payload is a sync-flushed DEFLATE run without its final 00 00 ff ff', async (t) => {
  for (const size of [1, 100, 1024, 16 * 1024, 200 * 1024]) {
    const data = json(size, size);
    const payload = new Deflater({ pool, noContextTakeover: true }).deflate(data);
    const flushed = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    t.same(payload, flushed.subarray(0, flushed.length - 4), `${size} bytes: what zlib's sync flush gives, minus 4 octets`);
    t.same(flushed.subarray(-4), Buffer.from([0, 0, 0xff, 0xff]));
    t.same(decodeDeflate(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])])).output, data, 'and it decodes back');
  }
});

t.test('output over the 64 KiB scratch buffer, with the tail split across pieces', async (t) => {
  // Level 0 stores the data, so the output is the input plus 5-octet block headers: some of these
  // sizes put the 4 tail octets across the boundary of two 64 KiB output pieces.
  for (let size = 65500; size < 65540; size++) {
    const data = random(size, size);
    const payload = new Deflater({ pool, level: 0, noContextTakeover: true }).deflate(data);
    const round = new Inflater({ pool, noContextTakeover: true }).inflate(payload);
    if (!Buffer.isBuffer(round) || !round.equals(data)) t.fail(`${size} bytes did not round-trip`);
  }
  t.pass('40 sizes round-trip');
});

t.test('compress(): under the threshold, or not smaller, the message goes uncompressed', async (t) => {
  const deflater = new Deflater({ pool, noContextTakeover: true });
  t.equal(deflater.threshold, 1024, 'the default threshold is 1 KiB, as ws');
  t.equal(deflater.compress(json(1023)), undefined, '1023 bytes: under the threshold');
  const payload = deflater.compress(json(1024));
  t.ok(payload !== undefined && payload.length < 1024, `1024 bytes of JSON: ${payload?.length} compressed`);
  t.equal(deflater.compress(random(4096)), undefined, 'random bytes do not get smaller');
  t.equal(new Deflater({ pool, threshold: 0 }).compress(Buffer.from('Hello')), undefined, '7 octets are not smaller than 5');
  const repeated = new Deflater({ pool, threshold: 0 }).compress(Buffer.from('HelloHelloHello'));
  t.ok(repeated !== undefined && repeated.length < 15, `15 octets of repeats: ${repeated?.length} compressed`);
  t.same(new Inflater({ pool }).inflate(repeated as Buffer), Buffer.from('HelloHelloHello'));
  // Exactly the size of the message is "not smaller".
  const data = Buffer.from('HelloHelloHello');
  const exact = new Deflater({ pool, threshold: 0 }).deflate(data).length;
  t.equal(new Deflater({ pool, threshold: 0 }).compress(data.subarray(0, exact)), undefined, `${exact} bytes deflate to at least ${exact}`);
});

t.test('with context takeover, a message given up on resets the window, so both sides stay in step', async (t) => {
  const deflater = new Deflater({ pool, threshold: 0 });
  const inflater = new Inflater({ pool });
  const messages = [json(2000, 1), random(3000, 2), json(2000, 1), json(500, 3), random(64, 4), json(2000, 1), Buffer.from('x'), json(9000, 5)];
  const sent: string[] = [];
  for (const message of messages) {
    const payload = deflater.compress(message);
    // The receiver inflates compressed messages only; uncompressed ones never reach its window.
    const received = payload === undefined ? message : inflater.inflate(payload);
    sent.push(payload === undefined ? 'plain' : 'deflated');
    t.same(received, message);
  }
  t.strictSame(sent, ['deflated', 'plain', 'deflated', 'deflated', 'plain', 'deflated', 'plain', 'deflated']);
  // The third message, after the reset, cannot have used the first: it is as long as a first message.
  const alone = new Deflater({ pool, threshold: 0 }).deflate(json(2000, 1)).length;
  const again = new Deflater({ pool, threshold: 0 });
  again.deflate(json(2000, 1));
  t.ok(again.deflate(json(2000, 1)).length < alone / 4, 'with takeover a repeated message costs a few bytes');
});

t.test('context takeover keeps one engine from the first message; without it, none between messages', async (t) => {
  const local = new ZlibPool();
  const takeover = new Deflater({ pool: local });
  t.equal(takeover.holdsEngine, false, 'nothing before the first message');
  t.equal(takeover.compress(json(10)), undefined, 'under the threshold: no engine either');
  t.equal(takeover.holdsEngine, false);
  takeover.compress(json(5000));
  t.equal(takeover.holdsEngine, true);
  t.match(local.stats, { lent: 1, created: 1 });
  takeover.close();
  t.equal(takeover.holdsEngine, false);
  t.match(local.stats, { lent: 0, idle: 1 }, 'close() gives the engine back');

  const bounded = new Deflater({ pool: local, noContextTakeover: true });
  for (let i = 0; i < 10; i++) {
    bounded.compress(json(5000, i));
    t.equal(bounded.holdsEngine, false);
  }
  t.match(local.stats, { lent: 0, idle: 1, created: 1 }, 'one engine served eleven messages');
  t.throws(() => takeover.compress(json(5000)), { code: 'WS_ERR_CODEC_CLOSED', side: 'local' });
  t.throws(() => takeover.deflate(json(5)), { code: 'WS_ERR_CODEC_CLOSED' });
  t.throws(() => takeover.compress(json(5)), { code: 'WS_ERR_CODEC_CLOSED' }, 'also under the threshold');
});

t.test('windows 8..15: every back-reference stays inside the agreed window', async (t) => {
  // Fresh random bytes, each 16 followed by 32 copied from some distance up to 40000 back, so a
  // compressor finds matches at every distance its window allows.
  const fresh = random(120000, 7);
  const parts: number[] = [];
  for (let i = 0; parts.length < 120000; i++) {
    for (let j = 0; j < 16; j++) parts.push(fresh[(i * 16 + j) % fresh.length] as number);
    const distance = 1 + ((i * 7919) % Math.min(parts.length - 1, 40000));
    for (let j = 0; j < 32; j++) parts.push(parts[parts.length - distance] as number);
  }
  const data = Buffer.from(parts.slice(0, 120000));
  for (let bits = 8; bits <= 15; bits++) {
    const deflater = new Deflater({ pool, windowBits: bits, threshold: 0 });
    const first = deflater.deflate(data.subarray(0, 60000));
    const second = deflater.deflate(data.subarray(60000));
    const tail = Buffer.from([0, 0, 0xff, 0xff]);
    const one = decodeDeflate(Buffer.concat([first, tail]));
    const two = decodeDeflate(Buffer.concat([second, tail]), one.output);
    t.same(Buffer.concat([one.output, two.output]), data, `${bits} bits: decodes back`);
    const distance = Math.max(one.maxDistance, two.maxDistance);
    t.ok(distance <= 2 ** bits, `${bits} bits: farthest back-reference ${distance} <= ${2 ** bits}`);
    // zlib reaches back at most 2^bits - 262 octets (8 runs as 9: 250): most of the window is used.
    t.ok(distance > Math.max(2 ** bits, 512) - 262 - 64, `${bits} bits: the window is used (${distance})`);
    // And an inflater with exactly that window reads both messages.
    const inflater = new Inflater({ pool, windowBits: bits });
    t.same(Buffer.concat([inflater.inflate(first) as Buffer, inflater.inflate(second) as Buffer]), data);
  }
  t.equal(new Deflater({ pool, windowBits: 8 }).settings.windowBits, 9, '8 runs as zlib windowBits 9');
});

t.test('levels and memLevels: all valid, all decodable', async (t) => {
  const data = json(20000);
  const sizes: number[] = [];
  for (const level of [-1, 0, 1, 6, 9]) {
    for (const memLevel of [1, 8, 9]) {
      const payload = new Deflater({ pool, level, memLevel, noContextTakeover: true }).deflate(data);
      t.same(new Inflater({ pool, noContextTakeover: true }).inflate(payload), data);
      if (memLevel === 8) sizes.push(payload.length);
    }
  }
  t.ok(sizes[1]! > data.length && sizes[2]! < sizes[1]! && sizes[4]! <= sizes[2]!, `sizes by level -1, 0, 1, 6, 9: ${sizes.join(', ')}`);
  t.equal(sizes[0], sizes[3], 'level -1 is zlib default, 6');
});

t.test('options are checked when the deflater is made', async (t) => {
  const invalid = { code: 'WS_ERR_INVALID_OPTION', side: 'local' };
  t.throws(() => new Deflater({ windowBits: 7 }), { ...invalid, message: 'new Deflater(): option windowBits must be a whole number from 8 to 15; got 7 (a number).' });
  t.throws(() => new Deflater({ level: 10 }), { ...invalid, message: /level must be a whole number from -1 to 9; got 10/ });
  t.throws(() => new Deflater({ memLevel: 0 }), { ...invalid, message: /memLevel must be a whole number from 1 to 9; got 0/ });
  t.throws(() => new Deflater({ threshold: -1 }), { ...invalid, message: /threshold must be a whole number of bytes from 0 to 2\^53 - 1; got -1/ });
  t.throws(() => new Deflater({ noContextTakeover: 1 } as never), { ...invalid, message: /noContextTakeover must be true or false/ });
  t.throws(() => new Deflater({ pool: 'shared' } as never), { ...invalid, message: /pool must be an object/ });
  t.throws(() => new Deflater({ windowbits: 9 } as never), { ...invalid, message: /did you mean "windowBits"/ });
});

t.test('a broadcast compresses once for every recipient without context takeover', async (t) => {
  const message = json(8000);
  const shared = compressShared(message, { pool });
  t.ok(shared !== undefined);
  // Every such deflater produces the same bytes, whatever it compressed before.
  for (const history of [[], [json(3000, 9)], [json(100, 1), json(50000, 2)]]) {
    const deflater = new Deflater({ pool, noContextTakeover: true });
    for (const earlier of history) deflater.compress(earlier);
    t.equal(deflater.shareKey, shareKeyOf({ pool }));
    t.same(deflater.compress(message), shared);
  }
  t.equal(new Deflater({ pool }).shareKey, undefined, 'with takeover, nothing is shared');
  t.not(shareKeyOf({ windowBits: 10 }), shareKeyOf({}), 'another window, another key');
  t.equal(shareKeyOf({ windowBits: 8 }), shareKeyOf({ windowBits: 9 }), '8 runs as 9');
  t.equal(compressShared(json(100)), undefined, 'the threshold applies');
  // Compressed with a smaller window, the bytes are valid for any recipient allowing more.
  const small = compressShared(message, { windowBits: 9, pool }) as Buffer;
  for (let bits = 9; bits <= 15; bits++) t.same(new Inflater({ pool, windowBits: bits }).inflate(small), message, `a ${bits}-bit inflater reads 9-bit bytes`);
});
