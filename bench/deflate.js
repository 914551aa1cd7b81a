// The permessage-deflate benchmark: simpatico-ws's codec (compiled, ../dist/deflate), which runs
// zlib synchronously on the main thread, side by side with ws's PerMessageDeflate, which runs the
// same zlib on Node's thread pool; plus zlib's documented one-shot calls, and the memory of one
// engine at each window size.
//
//   npm run build && node bench/deflate.js          (about 2 minutes)
//   BENCH_QUICK=1 node bench/deflate.js             (about 40 seconds)
//
// Workloads: chat-like JSON text of 1 KiB and 16 KiB (the sizes of the question "sync or thread
// pool?"), and 256 KiB. Each row compresses (or inflates) a batch of messages, the same bytes for
// every implementation; ws runs one connection at a time (its latency) and 8 connections at once
// (its throughput: several messages on the thread pool, which here has 2 cores to run on). Rounds
// alternate the implementations, so that a noisy neighbour hits them alike; each figure is the
// median of the rounds, and every row shows its ratio to ws one-at-a-time of the same round set.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fmt, fmtRatio, summarize } from './lib/stats.js';
import { payload } from './lib/codec-workloads.js';

const require = createRequire(import.meta.url);
// ws does not export its codec; it sits next to its entry point.
const PerMessageDeflate = require(path.join(path.dirname(require.resolve('ws')), 'lib', 'permessage-deflate.js'));
const { Deflater, Inflater, ZlibPool } = await import('../dist/deflate/index.js');

const QUICK = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0';
const ROUNDS = QUICK ? 5 : 11;
const SIZES = [1024, 16 * 1024, 256 * 1024];
const BATCH_BYTES = QUICK ? 1 << 20 : 4 << 20; // payload bytes per batch
const PARALLEL = 8;

function check(condition, what) {
  if (!condition) throw new Error(`benchmark self-check failed: ${what}`);
}

/** ws's codec for one side of a connection, with its parameters accepted. */
function wsCodec(takeover) {
  const codec = new PerMessageDeflate({ isServer: true, threshold: 0, serverNoContextTakeover: !takeover, clientNoContextTakeover: !takeover }, true, 0);
  codec.accept([takeover ? {} : { server_no_context_takeover: [true], client_no_context_takeover: [true] }]);
  return codec;
}
const wsCompress = (codec, data) => new Promise((resolve, reject) => codec.compress(data, true, (error, out) => (error ? reject(error) : resolve(out))));
const wsDecompress = (codec, data) => new Promise((resolve, reject) => codec.decompress(data, true, (error, out) => (error ? reject(error) : resolve(out))));

/** `count` messages through `one` (which may be async), one after another. */
async function sequential(count, one) {
  for (let i = 0; i < count; i++) await one(i);
}

/** Implementations per operation. Each makes a fresh per-connection state and returns a batch runner. */
function implementations(op, takeover, message, compressed) {
  const pool = new ZlibPool();
  const ours = {
    name: 'simpatico-ws (sync, main thread)',
    setup() {
      if (op === 'compress') {
        const d = new Deflater({ noContextTakeover: !takeover, threshold: 0, pool });
        return (count) => {
          for (let i = 0; i < count; i++) d.deflate(message);
        };
      }
      const inf = new Inflater({ noContextTakeover: !takeover, maxPayload: Infinity, pool });
      return (count) => {
        for (let i = 0; i < count; i++) inf.inflate(compressed);
      };
    },
  };
  const ws1 = {
    name: 'ws (thread pool), 1 connection',
    setup() {
      const codec = wsCodec(takeover);
      return op === 'compress' ? (count) => sequential(count, () => wsCompress(codec, message)) : (count) => sequential(count, () => wsDecompress(codec, compressed));
    },
  };
  const wsN = {
    name: `ws (thread pool), ${PARALLEL} connections`,
    setup() {
      const codecs = Array.from({ length: PARALLEL }, () => wsCodec(takeover));
      const each = op === 'compress' ? (codec) => wsCompress(codec, message) : (codec) => wsDecompress(codec, compressed);
      return (count) => Promise.all(codecs.map((codec, k) => sequential(Math.ceil(count / PARALLEL) - (k < count % PARALLEL || count % PARALLEL === 0 ? 0 : 1), () => each(codec))));
    },
  };
  const list = [ours, ws1, wsN];
  if (!takeover) {
    // zlib's documented synchronous calls: an engine made and freed per message (no takeover possible).
    list.push({
      name: 'zlib one-shot sync (deflateRawSync / inflateRawSync)',
      setup() {
        return op === 'compress'
          ? (count) => {
              for (let i = 0; i < count; i++) zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
            }
          : (count) => {
              const tailed = Buffer.concat([compressed, Buffer.from([0, 0, 0xff, 0xff])]);
              for (let i = 0; i < count; i++) zlib.inflateRawSync(tailed, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
            };
      },
    });
  }
  return list;
}

async function speed() {
  const rows = [];
  for (const size of SIZES) {
    const message = payload('text', size);
    const count = Math.max(8, Math.round(BATCH_BYTES / size));
    for (const takeover of [true, false]) {
      // Context takeover inflates a stream of messages: compress `count` copies in sequence and
      // replay that sequence; without it, every message is the same bytes.
      const d = new Deflater({ noContextTakeover: !takeover, threshold: 0 });
      const first = d.deflate(message);
      const steady = d.deflate(message); // with takeover, what a repeated message costs
      // Self-checks: both codecs read each other's bytes.
      const check1 = wsCodec(takeover);
      const inflated = await wsDecompress(check1, first);
      check(Buffer.compare(inflated, message) === 0, `ws inflates our ${size}-byte message`);
      const theirs = await wsCompress(wsCodec(takeover), message);
      check(Buffer.compare(new Inflater({ maxPayload: Infinity }).inflate(theirs), message) === 0, `we inflate ws's ${size}-byte message`);

      for (const op of ['compress', 'inflate']) {
        // Inflating with takeover needs the sequence the compressor produced; a fresh inflater
        // per batch reads [first, steady, steady, ...]. Without takeover each message is `first`.
        const impls = implementations(op, takeover, message, first);
        const perRound = impls.map(() => []);
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, impl] of impls.entries()) {
            if (op === 'inflate' && takeover) {
              // Feed the stream: first message, then repeats that refer back.
              const runner = takeoverInflateRunner(impl.name, first, steady);
              const t0 = process.hrtime.bigint();
              await runner(count);
              perRound[i].push(count / (Number(process.hrtime.bigint() - t0) / 1e9));
              continue;
            }
            const runner = impl.setup();
            await runner(2); // warm-up of this state
            const t0 = process.hrtime.bigint();
            await runner(count);
            perRound[i].push(count / (Number(process.hrtime.bigint() - t0) / 1e9));
          }
        }
        const wsMedian = summarize(perRound[1]).median;
        for (const [i, impl] of impls.entries()) {
          const s = summarize(perRound[i]);
          rows.push({ size, takeover, op, name: impl.name, median: s.median, min: s.min, max: s.max, ratio: s.median / wsMedian, bytes: takeover ? steady.length : first.length });
        }
      }
    }
  }
  return rows;
}

/** With takeover, inflating means reading the compressor's stream in order: message 1 full, then repeats. */
function takeoverInflateRunner(name, first, steady) {
  if (name.startsWith('simpatico')) {
    return (count) => {
      const inf = new Inflater({ maxPayload: Infinity });
      inf.inflate(first);
      for (let i = 1; i < count; i++) inf.inflate(steady);
      inf.close();
    };
  }
  if (name.includes('1 connection')) {
    return async (count) => {
      const codec = wsCodec(true);
      await wsDecompress(codec, first);
      for (let i = 1; i < count; i++) await wsDecompress(codec, steady);
    };
  }
  return (count) =>
    Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const codec = wsCodec(true);
        await wsDecompress(codec, first);
        for (let i = 1; i < count / PARALLEL; i++) await wsDecompress(codec, steady);
      }),
    );
}

/** RSS of one engine of each kind and window, in a child process each (see --memory below). */
async function memory() {
  const { execFileSync } = await import('node:child_process');
  const rows = [];
  for (const kind of ['deflate', 'inflate']) {
    for (const bits of [8, 9, 10, 11, 12, 13, 14, 15]) {
      const samples = [];
      for (let r = 0; r < (QUICK ? 1 : 3); r++) {
        samples.push(Number(execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--memory', kind, String(bits)], { encoding: 'utf8' })));
      }
      rows.push({ kind, bits, kib: summarize(samples).median / 1024 });
    }
  }
  return rows;
}

/** Child: make 200 engines, run enough data through each to touch its whole window, report RSS per engine. */
async function memoryChild(kind, bits) {
  const { ZlibEngine } = await import('../dist/deflate/engine.js');
  const N = 200;
  const data = payload('binary', 1 << 16, 7); // random: fills the window, no long matches
  const compressed = zlib.deflateRawSync(data, { windowBits: Math.max(9, bits), finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const out = Buffer.allocUnsafe(1 << 17);
  const engines = [];
  globalThis.gc();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < N; i++) {
    const engine = new ZlibEngine(kind, { windowBits: kind === 'deflate' ? Math.max(9, bits) : bits, level: -1, memLevel: 8 });
    const input = kind === 'deflate' ? data : compressed;
    engine.run(zlib.constants.Z_SYNC_FLUSH, input, 0, input.length, out, 0, out.length);
    engines.push(engine);
  }
  globalThis.gc();
  process.stdout.write(String((process.memoryUsage().rss - before) / N));
}

if (process.argv[2] === '--memory') {
  await memoryChild(process.argv[3], Number(process.argv[4]));
} else {
  console.log(`# permessage-deflate: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}, zlib ${process.versions.zlib}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`# ${ROUNDS} rounds; messages per second, median (min–max); ratio to ws with 1 connection in the same run\n`);
  const rows = await speed();
  console.log('| message | takeover | operation | implementation | msg/s | ratio | payload on the wire |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.size / 1024} KiB JSON | ${r.takeover ? 'yes' : 'no'} | ${r.op} | ${r.name} | ${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)}) | ${fmtRatio(r.ratio)} | ${r.bytes} B |`);
  }
  console.log('\n# memory of one engine (RSS, KiB, median of child processes of 200 engines; deflate at memLevel 8; deflate 8 runs as 9)\n');
  const mem = await memory();
  console.log(`| kind | ${[8, 9, 10, 11, 12, 13, 14, 15].map((b) => `${b} bits`).join(' | ')} |`);
  console.log(`|---|${[8, 9, 10, 11, 12, 13, 14, 15].map(() => '---').join('|')}|`);
  for (const kind of ['deflate', 'inflate']) {
    console.log(`| ${kind} | ${mem.filter((m) => m.kind === kind).map((m) => m.kib.toFixed(0)).join(' | ')} |`);
  }
  console.log(`\n# load at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
