// The engine pool: bounded idle engines, nothing held by idle connections without context
// takeover, engines broken by zlib never reused; and the check of the zlib internals.
import t from 'tap';
import { Deflater, Inflater, ZlibPool } from '../../src/deflate/index.js';
import { assertInternals, checkInternals, ZlibEngine } from '../../src/deflate/engine.js';
import { json } from './helpers.js';

const DEFLATE = { windowBits: 15, level: -1, memLevel: 8 };

t.test('the pool never keeps more than maxIdle idle engines per configuration', async (t) => {
  const pool = new ZlibPool();
  t.equal(pool.maxIdle, 4, 'default 4');
  const engines = Array.from({ length: 10 }, () => pool.acquire('deflate', DEFLATE));
  t.strictSame(pool.stats, { idle: 0, lent: 10, created: 10, closed: 0 });
  for (const engine of engines) pool.release(engine);
  t.strictSame(pool.stats, { idle: 4, lent: 0, created: 10, closed: 6 });
  // Idle engines are lent again before any is made.
  const again = Array.from({ length: 5 }, () => pool.acquire('deflate', DEFLATE));
  t.strictSame(pool.stats, { idle: 0, lent: 5, created: 11, closed: 6 });
  t.ok(engines.slice(0, 4).every((e) => again.includes(e)), 'the four kept engines came back');
  for (const engine of again) pool.release(engine);
  // Another configuration is another shelf.
  const other = pool.acquire('deflate', { ...DEFLATE, windowBits: 10 });
  const inflate = pool.acquire('inflate', { windowBits: 15, level: 0, memLevel: 0 });
  t.not(other.key, engines[0]?.key);
  pool.release(other);
  pool.release(inflate);
  t.strictSame(pool.stats, { idle: 6, lent: 0, created: 13, closed: 7 });
  pool.clear();
  t.strictSame(pool.stats, { idle: 0, lent: 0, created: 13, closed: 13 });
  t.ok(engines.every((e) => e.closed), 'every engine is closed');

  const none = new ZlibPool({ maxIdle: 0 });
  none.release(none.acquire('inflate', { windowBits: 15, level: 0, memLevel: 0 }));
  t.strictSame(none.stats, { idle: 0, lent: 0, created: 1, closed: 1 }, 'maxIdle 0 keeps nothing');
});

t.test('a released engine starts afresh: nothing of one borrower reaches the next', async (t) => {
  const pool = new ZlibPool({ maxIdle: 1 });
  const first = new Deflater({ pool, noContextTakeover: true, threshold: 0 });
  const hello = first.deflate(Buffer.from('Hello'));
  t.same(first.deflate(Buffer.from('Hello')), hello, 'the same engine, reset: the same bytes');
  t.equal(pool.stats.created, 1);
});

t.test('without context takeover, 200 connections hold no zlib state between messages', async (t) => {
  const pool = new ZlibPool();
  const connections = Array.from({ length: 200 }, () => ({
    deflater: new Deflater({ pool, noContextTakeover: true }),
    inflater: new Inflater({ pool, noContextTakeover: true }),
  }));
  const message = json(4000);
  const payload = connections[0]!.deflater.compress(message) as Buffer;
  let mostLent = 0;
  for (let round = 0; round < 3; round++) {
    for (const { deflater, inflater } of connections) {
      t.same(deflater.compress(message), payload);
      const pieces = inflater.write(payload) as Buffer[];
      mostLent = Math.max(mostLent, pool.stats.lent);
      pieces.push(...(inflater.end() as Buffer[]));
      if (deflater.holdsEngine || inflater.holdsEngine) t.fail('an engine held after the message');
    }
  }
  t.equal(mostLent, 1, 'one engine lent at a time');
  t.strictSame(pool.stats, { idle: 2, lent: 0, created: 2, closed: 0 }, 'one deflater and one inflater served 1200 messages');

  // Fragmented messages held open on every connection at once: one inflater each, for that span.
  const started = connections.map(({ inflater }) => inflater.write(payload.subarray(0, 10)) as Buffer[]);
  t.match(pool.stats, { lent: 200, idle: 1 }, 'each open message holds an engine');
  let whole = 0;
  for (const [i, { inflater }] of connections.entries()) {
    const rest = [...(inflater.write(payload.subarray(10)) as Buffer[]), ...(inflater.end() as Buffer[])];
    if (Buffer.concat([...(started[i] as Buffer[]), ...rest]).equals(message)) whole++;
  }
  t.equal(whole, 200, 'every message arrived whole');
  t.match(pool.stats, { lent: 0, idle: 5 }, 'given back when they end; the pool keeps 4 inflaters and its deflater');
  t.ok(pool.stats.closed >= 195, 'the rest were closed');
});

t.test('with context takeover, each connection holds its engine from its first message', async (t) => {
  const pool = new ZlibPool();
  const connections = Array.from({ length: 20 }, () => ({ deflater: new Deflater({ pool }), inflater: new Inflater({ pool }) }));
  t.equal(pool.stats.created, 0, 'nothing before the first message');
  for (const { deflater, inflater } of connections) inflater.inflate(deflater.compress(json(2000)) as Buffer);
  t.match(pool.stats, { lent: 40, created: 40 });
  for (const { deflater, inflater } of connections) {
    deflater.close();
    inflater.close();
  }
  t.match(pool.stats, { lent: 0, idle: 8 }, 'closing gives them back; the pool keeps 4 of each');
});

t.test('options of the pool are checked', async (t) => {
  t.throws(() => new ZlibPool({ maxIdle: -1 }), { code: 'WS_ERR_INVALID_OPTION', side: 'local', message: /maxIdle must be a whole number from 0 to 1024; got -1/ });
  t.throws(() => new ZlibPool({ maxIdle: 2000 }), { code: 'WS_ERR_INVALID_OPTION' });
  t.throws(() => new ZlibPool({ max: 1 } as never), { code: 'WS_ERR_INVALID_OPTION', message: /unknown option "max"/ });
});

t.test('the zlib internals are checked, and their absence fails loudly', async (t) => {
  t.equal(checkInternals({ _handle: { writeSync() {} }, _writeState: new Uint32Array(2) }), undefined);
  t.equal(checkInternals({}), 'zlib streams have no _handle.writeSync()');
  t.equal(checkInternals({ _handle: null, _writeState: new Uint32Array(2) }), 'zlib streams have no _handle.writeSync()');
  t.equal(checkInternals({ _handle: { write() {} }, _writeState: new Uint32Array(2) }), 'zlib streams have no _handle.writeSync()');
  t.equal(checkInternals({ _handle: { writeSync() {} } }), 'zlib streams have no _writeState');
  t.equal(checkInternals({ _handle: { writeSync() {} }, _writeState: new Uint32Array(1) }), 'zlib streams have no _writeState');
  t.equal(checkInternals({ _handle: { writeSync() {} }, _writeState: [0, 0] }), 'zlib streams have no _writeState');
  t.throws(() => assertInternals({}), {
    code: 'WS_ERR_ZLIB_UNSUPPORTED',
    side: 'local',
    message: `permessage-deflate cannot run on Node.js ${process.version}: zlib streams have no _handle.writeSync(). Turn perMessageDeflate off, or use a Node.js version this release was tested with.`,
  });
  // The running Node.js has them: an engine is made, and a zlib error is reported as a value.
  const engine = new ZlibEngine('inflate', { windowBits: 15, level: 0, memLevel: 0 });
  const out = Buffer.alloc(16);
  t.match(engine.run(2, Buffer.from([0xff]), 0, 1, out, 0, 16), { message: 'invalid block type' });
  t.equal(engine.closed, true, 'an engine zlib failed is closed');
  await new Promise((resolve) => setImmediate(resolve)); // the stream's 'error' event finds its listener
});
