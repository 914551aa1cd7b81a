// The Inflater (RFC 7692 §7.2.2): every chunking gives the same message, pieces come out as they
// go in, maxPayload holds to the byte, and every failure has its close code.
import zlib from 'node:zlib';
import t from 'tap';
import { Deflater, Inflater, ZlibPool } from '../../src/deflate/index.js';
import { WebSocketError } from '../../src/errors.js';
import { cut, generator, json, random } from './helpers.js';

const pool = new ZlibPool();

/** Feed `pieces`, then end(): the message, or the error. */
function feed(inflater: Inflater, pieces: readonly Buffer[]): Buffer | WebSocketError {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const result = inflater.write(piece);
    if (!Array.isArray(result)) return result;
    out.push(...result);
  }
  const last = inflater.end();
  if (!Array.isArray(last)) return last;
  return Buffer.concat([...out, ...last]);
}

t.test('one message, split at every point and at every pair of points', async (t) => {
  const message = json(300);
  const payload = new Deflater({ pool, noContextTakeover: true }).deflate(message);
  let cases = 0;
  for (const noContextTakeover of [false, true]) {
    const inflater = new Inflater({ pool, noContextTakeover });
    for (let i = 0; i <= payload.length; i++) {
      for (let j = i; j <= payload.length; j++) {
        const result = feed(inflater, cut(payload, [i, j]));
        if (!Buffer.isBuffer(result) || !result.equals(message)) t.fail(`split at ${i} and ${j}: ${String(result)}`);
        cases++;
      }
    }
  }
  t.ok(cases > 20000, `${cases} chunkings, each the same message, on one inflater after another`);
});

t.test('context takeover across messages, each split at every point', async (t) => {
  const messages = [json(2000, 1), json(2000, 1), json(500, 2), json(2000, 1).subarray(100, 1800), json(3000, 3)];
  const deflater = new Deflater({ pool });
  const payloads = messages.map((m) => deflater.deflate(m));
  t.ok((payloads[1] as Buffer).length < (payloads[0] as Buffer).length / 10, 'the repeat refers back into the first message');
  for (let split = 1; split < 60; split++) {
    const inflater = new Inflater({ pool });
    for (const [i, payload] of payloads.entries()) {
      const at = Math.min(payload.length, (split * 7) % payload.length);
      const result = feed(inflater, cut(payload, [at]));
      if (!Buffer.isBuffer(result) || !result.equals(messages[i] as Buffer)) t.fail(`message ${i} split at ${at}`);
    }
  }
  t.pass('60 runs of five messages');
  // The window is what was agreed: an inflater holding less history cannot read the repeat.
  const small = new Inflater({ pool, windowBits: 9 });
  t.same(feed(small, [payloads[0] as Buffer]), messages[0]);
  t.match(feed(small, [payloads[1] as Buffer]), { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007 });
});

t.test('pieces come out as they go in: text can be checked before the message ends', async (t) => {
  const message = json(200 * 1024);
  const payload = new Deflater({ pool }).deflate(message);
  const inflater = new Inflater({ pool });
  const frames = cut(payload, [1000, 2000, 10000]);
  const first = inflater.write(frames[0] as Buffer) as Buffer[];
  const firstLength = first.reduce((n, b) => n + b.length, 0);
  t.ok(firstLength > 1000, `the first 1000 compressed bytes already gave ${firstLength} bytes`);
  t.same(Buffer.concat(first), message.subarray(0, firstLength), 'in order, from the start');
  t.equal(inflater.messageLength, firstLength);
  const rest = feed(inflater, frames.slice(1)) as Buffer;
  t.same(Buffer.concat([...first, rest]), message);
  t.equal(inflater.messageLength, 0, 'reset for the next message');
  t.ok(first.every((piece) => piece.buffer.byteLength === piece.length), 'each piece in memory of its own, at its size');
});

t.test('maxPayload holds to the byte, in every chunking', async (t) => {
  const message = json(5000);
  const payload = new Deflater({ pool }).deflate(message);
  for (const noContextTakeover of [false, true]) {
    for (let at = 0; at <= payload.length; at += 7) {
      t.same(feed(new Inflater({ pool, noContextTakeover, maxPayload: 5000 }), cut(payload, [at])), message);
      const over = feed(new Inflater({ pool, noContextTakeover, maxPayload: 4999 }), cut(payload, [at]));
      if (!(over instanceof WebSocketError) || over.code !== 'WS_ERR_MESSAGE_TOO_BIG' || over.closeCode !== 1009) t.fail(`4999, split at ${at}: ${String(over)}`);
    }
  }
  t.match(new Inflater({ pool, maxPayload: 4999 }).inflate(payload), {
    code: 'WS_ERR_MESSAGE_TOO_BIG',
    closeCode: 1009,
    side: 'remote',
    message: 'A compressed message inflates past maxPayload (4999 bytes) (RFC 6455 §10.4).',
  });
  // maxPayload 0 still takes empty messages, and Infinity takes anything.
  const zero = new Inflater({ pool, maxPayload: 0 });
  t.same(zero.inflate(Buffer.from([0x00])), Buffer.alloc(0));
  t.same(zero.inflate(Buffer.alloc(0)), Buffer.alloc(0));
  t.match(zero.inflate(new Deflater({ pool }).deflate(Buffer.from('x'))), { closeCode: 1009 });
  t.same(new Inflater({ pool, maxPayload: Infinity }).inflate(payload), message);
  t.equal(new Inflater().maxPayload, 1024 * 1024, 'the default is the frames layer’s 1 MiB');
});

t.test('a bomb fed frame by frame ends with 1009 having produced at most maxPayload bytes', async (t) => {
  // 16 MiB of zeros is about 16 KB of DEFLATE.
  const engine = zlib.createDeflateRaw();
  const pieces: Buffer[] = [];
  engine.on('data', (piece: Buffer) => pieces.push(piece));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 16; i++) engine.write(zeros);
  await new Promise<void>((resolve) => engine.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  engine.close();
  const bomb = Buffer.concat(pieces);
  t.ok(bomb.length < 20000, `${bomb.length} compressed bytes`);
  for (const maxPayload of [0, 1, 1000, 65536, 65537, 1024 * 1024]) {
    const inflater = new Inflater({ pool, maxPayload, noContextTakeover: true });
    let produced = 0;
    let error: unknown;
    for (let at = 0; at < bomb.length && error === undefined; at += 4096) {
      const result = inflater.write(bomb.subarray(at, at + 4096));
      if (Array.isArray(result)) produced += result.reduce((n, b) => n + b.length, 0);
      else error = result;
    }
    t.match(error, { code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 }, `maxPayload ${maxPayload}: 1009`);
    t.ok(produced <= maxPayload, `maxPayload ${maxPayload}: ${produced} bytes came out before the error`);
    t.equal(inflater.holdsEngine, false, 'the engine went back to the pool');
  }
});

t.test('bytes that are not DEFLATE fail with 1007, and failure is a state', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['ff', /invalid block type/],
    ['07', /invalid block type/], // BTYPE 11
    ['00 05 00 00 00', /invalid stored block lengths/],
    ['f2 00 11 00 00', /invalid distance too far back/], // a back-reference with no history
    ['04 c0 81 08 00 00 00 00 20 7f eb 0b 00', /invalid|incorrect/],
  ];
  const local = new ZlibPool();
  for (const [bytes, message] of bad) {
    const inflater = new Inflater({ pool: local });
    const error = inflater.inflate(Buffer.from(bytes.replace(/ /g, ''), 'hex'));
    t.type(error, WebSocketError, bytes);
    t.match(error, { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007, side: 'remote', message }, bytes);
    t.match((error as WebSocketError).cause, { message }, 'zlib’s own error is the cause');
    // Failed stays failed: the same error, whatever comes next.
    t.equal(inflater.write(Buffer.from([0x00])), error);
    t.equal(inflater.end(), error);
    t.equal(inflater.inflate(new Deflater({ pool }).deflate(Buffer.from('ok'))), error);
    t.equal(inflater.holdsEngine, false);
  }
  t.match(local.stats, { lent: 0, created: bad.length, closed: bad.length, idle: 0 }, 'a zlib error closes its engine: none is kept');
});

t.test('random and corrupted input: a typed result every time, never a throw', async (t) => {
  const next = generator(99);
  const valid = new Deflater({ pool }).deflate(json(3000));
  const local = new ZlibPool();
  const outcomes = { ok: 0, '1007': 0, '1009': 0 };
  for (let i = 0; i < 3000; i++) {
    let input: Buffer;
    if (i % 2 === 0) {
      input = random(1 + (next() % 64), i);
    } else {
      input = Buffer.from(valid);
      for (let k = 1 + (next() % 3); k > 0; k--) input[next() % input.length] ^= 1 << next() % 8;
    }
    const inflater = new Inflater({ pool: local, maxPayload: 10000, noContextTakeover: i % 4 < 2 });
    const result = inflater.inflate(input);
    inflater.close();
    if (Buffer.isBuffer(result)) outcomes.ok++;
    else if (result.closeCode === 1007 || result.closeCode === 1009) outcomes[String(result.closeCode) as '1007' | '1009']++;
    else t.fail(`unexpected ${String(result)}`);
  }
  t.ok(outcomes['1007'] > 1000 && outcomes.ok > 100, JSON.stringify(outcomes));
  t.match(local.stats, { lent: 0 }, 'every engine given back');
});

t.test('close(): the engine goes back, and later calls are a local bug', async (t) => {
  const local = new ZlibPool();
  const payload = new Deflater({ pool: local }).deflate(json(3000));
  const takeover = new Inflater({ pool: local });
  takeover.inflate(payload);
  t.equal(takeover.holdsEngine, true, 'with takeover the window stays between messages');
  takeover.close();
  t.equal(takeover.holdsEngine, false);
  t.throws(() => takeover.write(payload), { code: 'WS_ERR_CODEC_CLOSED', side: 'local' });
  t.throws(() => takeover.end(), { code: 'WS_ERR_CODEC_CLOSED' });
  const midMessage = new Inflater({ pool: local, noContextTakeover: true });
  midMessage.write(payload.subarray(0, 100));
  t.equal(midMessage.holdsEngine, true, 'held in the middle of a message');
  midMessage.close();
  t.match(local.stats, { lent: 1, idle: 1 }, 'given back on close (the deflater still holds its own)');
});

t.test('options are checked when the inflater is made', async (t) => {
  const invalid = { code: 'WS_ERR_INVALID_OPTION', side: 'local' };
  t.throws(() => new Inflater({ maxPayload: -1 }), { ...invalid, message: /maxPayload must be a whole number of bytes from 0 to 2\^53 - 1, or Infinity; got -1/ });
  t.throws(() => new Inflater({ maxPayload: 1.5 }), invalid);
  t.throws(() => new Inflater({ windowBits: 16 }), { ...invalid, message: /windowBits must be a whole number from 8 to 15; got 16/ });
  t.throws(() => new Inflater({ noContextTakeover: 'no' } as never), invalid);
  t.throws(() => new Inflater({ maxpayload: 1 } as never), { ...invalid, message: /did you mean "maxPayload"/ });
});
