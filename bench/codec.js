// The codec benchmark: simpatico-ws's frame codec (compiled, ../dist/frames) side by side with ws's
// Receiver and Sender, in ws's two configurations, plus the physical limits of the same bytes.
//
//   npm run bench:codec                 (builds first; about 2–3 minutes)
//   BENCH_QUICK=1 npm run bench:codec   (shorter samples, about 1.5 minutes)
//
// ws picks its masking code when it is loaded (WS_NO_BUFFER_UTIL=1 → pure JS, else the bufferutil
// addon), so each ws configuration runs in a child process of this run (`--peer=ws-js`,
// `--peer=ws-native`) on the same workloads, measuring each row when the main process asks, right
// before or after simpatico-ws measures it.
//
// Rows: decoding masked client frames fed in 64 KiB chunks (the server side), encoding unmasked
// (server) and masked (client) frames, at 16 B … 1 MiB, binary and text; and decoding one 1 MiB
// message in 64-byte and 1 KiB fragments (the shape of Autobahn 9.3/9.4: what a fragment costs). Text decoding includes
// UTF-8 validation; text encoding starts from a JavaScript string (the send path). Every operation
// handles ~1 MiB of payload (N messages of one size); figures are medians of benchmark.js samples.
import { fork } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';
import { fmt, fmtRatio } from './lib/stats.js';
import { KINDS, SIZES, decodeStream, feeder, messagesPerOp, payload } from './lib/codec-workloads.js';

const require = createRequire(import.meta.url);
const QUICK = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0';
const MAX_TIME = QUICK ? 0.1 : 0.5; // seconds of sampling per row and implementation (benchmark.js maxTime)
const peer = process.argv.find((a) => a.startsWith('--peer='))?.slice('--peer='.length);

/** Runs `fn` (one operation) under benchmark.js; returns the median operations per second. */
function measure(fn) {
  fn(); // warm up and fail early
  const bench = new Benchmark(fn, { maxTime: MAX_TIME, minSamples: 5, initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  const sample = [...bench.stats.sample].sort((a, b) => a - b); // seconds per operation
  const n = sample.length;
  const median = n % 2 ? sample[(n - 1) / 2] : (sample[n / 2 - 1] + sample[n / 2]) / 2;
  return 1 / median;
}

function check(condition, what) {
  if (!condition) throw new Error(`benchmark self-check failed: ${what}`);
}

/**
 * Workload keys: `${op}:${kind}:${size}`, op ∈ decode | encode | encode-masked, and
 * decode-fragmented, whose size is the fragment size of one message of FRAGMENTED_MESSAGE bytes.
 */
const ROWS = [];
for (const op of ['decode', 'encode', 'encode-masked']) for (const kind of KINDS) for (const size of SIZES) ROWS.push({ op, kind, size });
const FRAGMENTS = [64, 1024];
const FRAGMENTED_MESSAGE = 1024 * 1024;
for (const kind of KINDS) for (const size of FRAGMENTS) ROWS.push({ op: 'decode-fragmented', kind, size });

/** Messages and payload bytes one operation of a row handles. */
const perOp = (op, size) => (op === 'decode-fragmented' ? { messages: 1, bytes: FRAGMENTED_MESSAGE } : { messages: messagesPerOp(size), bytes: messagesPerOp(size) * size });

/**
 * One message of FRAGMENTED_MESSAGE bytes in masked fragments of `fragment` bytes, built here from
 * RFC 6455 §5.2 and §5.3 (a seeded key per frame), independently of both codecs. Text fragments are
 * cut anywhere, also inside a character (§5.4 allows it).
 */
function fragmentedStream(kind, fragment) {
  const data = payload(kind, FRAGMENTED_MESSAGE);
  let x = 0x9e3779b9;
  const frames = [];
  for (let at = 0; at < data.length; at += fragment) {
    const piece = data.subarray(at, at + fragment);
    const n = piece.length;
    const head = n < 126 ? 2 : 4;
    const frame = Buffer.allocUnsafe(head + 4 + n);
    frame[0] = (at + fragment >= data.length ? 0x80 : 0) | (at === 0 ? (kind === 'text' ? 1 : 2) : 0);
    if (n < 126) frame[1] = 0x80 | n;
    else {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    frame.writeUInt32BE(x >>> 0, head);
    for (let i = 0; i < n; i++) frame[head + 4 + i] = piece[i] ^ frame[head + (i & 3)];
    frames.push(frame);
  }
  return { pristine: Buffer.concat(frames), count: 1, size: FRAGMENTED_MESSAGE };
}

// ---------------------------------------------------------------------------------------------
// The implementations. Each returns, for a row, the function doing one operation.

async function simpatico() {
  const { Receiver, encodeFrame, Opcode } = await import('../dist/frames/index.js');
  return {
    decode({ pristine, count, size }) {
      let messages = 0;
      let bytes = 0;
      const sink = {
        onMessage(data) {
          messages++;
          bytes += data.length;
        },
        onPing() {},
        onPong() {},
        onClose() {},
        onError(error) {
          throw error;
        },
      };
      const receiver = new Receiver({ role: 'server', maxPayload: 64 * 1024 * 1024 }, sink);
      const feed = feeder(pristine);
      const push = (chunk) => receiver.push(chunk);
      return () => {
        messages = bytes = 0;
        feed(push);
        check(messages === count && bytes === count * size, `simpatico decoded ${messages}/${count}`);
      };
    },
    encode(kind, size, masked) {
      const count = messagesPerOp(size);
      const data = payload(kind, size);
      const text = data.toString();
      const options = { mask: masked };
      let total = 0;
      return kind === 'binary'
        ? () => {
            for (let i = 0; i < count; i++) total += encodeFrame(Opcode.Binary, data, options).length;
          }
        : () => {
            for (let i = 0; i < count; i++) total += encodeFrame(Opcode.Text, Buffer.from(text), options).length;
          };
    },
  };
}

function wsCodec() {
  // ws exports its Receiver and Sender (lib/receiver.js, lib/sender.js) on the main module.
  const { Receiver, Sender } = require('ws');
  return {
    decode({ pristine, count, size }) {
      let messages = 0;
      let bytes = 0;
      const receiver = new Receiver({ isServer: true, maxPayload: 0 });
      receiver.on('message', (data) => {
        messages++;
        bytes += data.length;
      });
      receiver.on('error', (error) => {
        throw error;
      });
      const feed = feeder(pristine);
      const done = () => {};
      // _write is what the Writable machinery calls; calling it directly leaves stream overhead out,
      // as simpatico-ws's receiver has none.
      const push = (chunk) => receiver._write(chunk, 'buffer', done);
      return () => {
        messages = bytes = 0;
        feed(push);
        check(messages === count && bytes === count * size, `ws decoded ${messages}/${count}`);
      };
    },
    encode(kind, size, masked) {
      const count = messagesPerOp(size);
      const data = payload(kind, size);
      const text = data.toString();
      // readOnly: true makes ws mask a copy, as simpatico-ws always does (the caller's data is kept).
      const options = { fin: true, rsv1: false, opcode: kind === 'binary' ? 2 : 1, mask: masked, readOnly: true };
      let total = 0;
      return kind === 'binary'
        ? () => {
            for (let i = 0; i < count; i++) total += Sender.frame(data, options).length;
          }
        : () => {
            for (let i = 0; i < count; i++) total += Sender.frame(text, options).length;
          };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Physical limits on the same payload bytes, message by message.

function physicalRows(size) {
  const count = messagesPerOp(size);
  const binary = payload('binary', size);
  const text = payload('text', size);
  const sources = [];
  const targets = [];
  const texts = [];
  for (let i = 0; i < count; i++) {
    sources.push(Buffer.from(binary));
    targets.push(Buffer.allocUnsafe(size));
    texts.push(Buffer.from(text));
  }
  const copy = measure(() => {
    for (let i = 0; i < count; i++) sources[i].copy(targets[i]);
  });
  // A plain Int32 XOR loop over each (aligned) payload: the ceiling of word-at-a-time masking in JS.
  const words = sources.map(() => new Int32Array(Math.ceil(size / 4)));
  const key = 0x3d21fa37;
  const xor = measure(() => {
    for (let i = 0; i < count; i++) {
      const w = words[i];
      const n = w.length;
      for (let j = 0; j < n; j++) w[j] ^= key;
    }
  });
  let valid = 0;
  const utf8 = measure(() => {
    for (let i = 0; i < count; i++) if (isUtf8(texts[i])) valid++;
  });
  check(valid > 0, 'isUtf8');
  return { copy, xor, utf8 };
}

// ---------------------------------------------------------------------------------------------
// ws runs in two long-lived child processes, one per configuration, that measure a row when asked.
// The main process measures each row for all three implementations back to back (rotating the
// order), so that the load of a shared machine drifts over all of them alike.

const rowFunction = (codec, key) => {
  const [op, kind, size] = key.split(':');
  if (op === 'decode') return codec.decode({ ...decodeStream(kind, Number(size)), size: Number(size) });
  if (op === 'decode-fragmented') return codec.decode(fragmentedStream(kind, Number(size)));
  return codec.encode(kind, Number(size), op === 'encode-masked');
};

function nativeLoaded() {
  try {
    require('bufferutil');
    return true;
  } catch {
    return false;
  }
}

function startPeer(name) {
  const env = { ...process.env };
  if (name === 'ws-js') env.WS_NO_BUFFER_UTIL = '1';
  else delete env.WS_NO_BUFFER_UTIL;
  const child = fork(fileURLToPath(import.meta.url), [`--peer=${name}`], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map();
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  child.on('message', (m) => {
    if (m.ready) return ready(m);
    pending.get(m.key)?.(m.opsPerSec);
    pending.delete(m.key);
  });
  child.on('exit', (code) => {
    if (pending.size > 0) {
      console.error(`${name} exited (code ${code}) during a measurement`);
      process.exit(1);
    }
  });
  return {
    ready: readyPromise,
    ask: (key) => new Promise((resolve) => {
      pending.set(key, resolve);
      child.send({ key });
    }),
    stop: () => child.disconnect(),
  };
}

if (peer !== undefined) {
  // Child: ws in one configuration, measuring rows on request.
  const native = peer === 'ws-native';
  if (native && !nativeLoaded()) throw new Error('bufferutil is not installed: cannot measure ws-native');
  const codec = wsCodec();
  process.on('message', ({ key }) => process.send({ key, opsPerSec: measure(rowFunction(codec, key)) }));
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, native });
} else {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  process.stderr.write(`codec bench: ${QUICK ? 'quick' : 'full'} run, ${ROWS.length} rows × 3 implementations + physical limits…\n`);
  const wsJs = startPeer('ws-js');
  const wsNative = startPeer('ws-native');
  const nativeInfo = await wsNative.ready;
  await wsJs.ready;
  const codec = await simpatico();
  const ours = {};
  const js = {};
  const native = {};
  const physical = {};
  for (let r = 0; r < ROWS.length; r++) {
    const { op, kind, size } = ROWS[r];
    const key = `${op}:${kind}:${size}`;
    const steps = [
      async () => (ours[key] = measure(rowFunction(codec, key))),
      async () => (js[key] = await wsJs.ask(key)),
      async () => (native[key] = await wsNative.ask(key)),
    ];
    for (let i = 0; i < 3; i++) await steps[(r + i) % 3]();
    if (op === 'decode' && kind === 'binary') physical[size] = physicalRows(size);
    process.stderr.write(`  ${key} (${elapsed()})\n`);
  }
  wsJs.stop();
  wsNative.stop();

  const label = (size) => (size >= 1048576 ? `${size / 1048576} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
  const mbs = (opsPerSec, size, op = 'decode') => (opsPerSec * perOp(op, size).bytes) / 1e6;
  const lines = [];
  lines.push(`### Codec (${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, ${QUICK ? 'quick' : 'full'} run)`);
  lines.push('');
  lines.push('MB/s of payload and messages/s, medians of benchmark.js samples; each operation handles ~1 MiB.');
  lines.push('Decode = masked client frames fed in 64 KiB chunks to the server-side receiver (one Buffer.copy of the stream per');
  lines.push('operation restores the masked bytes, for every implementation). Text decode validates UTF-8; text encode starts from a string.');
  lines.push('');
  lines.push('| row | size | simpatico MB/s | msgs/s | ws-js MB/s | ws-native MB/s | vs ws-js | vs ws-native |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const { op, kind, size } of ROWS) {
    const key = `${op}:${kind}:${size}`;
    const o = ours[key];
    const what = op === 'decode-fragmented' ? `${label(FRAGMENTED_MESSAGE)} in ${label(size)} fragments` : label(size);
    lines.push(`| ${op} ${kind} | ${what} | ${fmt(mbs(o, size, op))} | ${fmt(o * perOp(op, size).messages)} | ${fmt(mbs(js[key], size, op))} | ${fmt(mbs(native[key], size, op))} | ${fmtRatio(o / js[key])} | ${fmtRatio(o / native[key])} |`);
  }
  lines.push('');
  // Issue 17's codec targets, against ws with bufferutil in this run.
  const CODEC_TARGETS = [
    ...['decode:binary:16', 'decode:binary:1024', 'decode:binary:65536', 'decode:binary:1048576', 'decode:text:65536'].map((key) => ({ key, goal: 1.2 })),
    ...['encode-masked:binary:65536', 'encode-masked:binary:1048576'].map((key) => ({ key, goal: 1.0 })),
  ];
  lines.push('| Issue 17 target (vs ws-native) | Measured | Status |');
  lines.push('| --- | --- | --- |');
  for (const { key, goal } of CODEC_TARGETS) {
    const [op, kind, size] = key.split(':');
    const r = ours[key] / native[key];
    lines.push(`| ${op} ${kind} ${label(Number(size))}: at least ${goal.toFixed(1)}× | ${fmtRatio(r)} | ${r >= goal ? 'met' : `missed by ${((1 - r / goal) * 100).toFixed(0)}%`} |`);
  }
  lines.push('');
  lines.push('Physical limits on the same payloads, message by message (MB/s), and simpatico binary decode as a fraction of the XOR loop:');
  lines.push('');
  lines.push('| size | Buffer.copy | Int32 XOR loop | buffer.isUtf8 (text) | decode binary / XOR |');
  lines.push('|---:|---:|---:|---:|---:|');
  for (const size of SIZES) {
    const p = physical[size];
    const xor = mbs(p.xor, size);
    lines.push(`| ${label(size)} | ${fmt(mbs(p.copy, size))} | ${fmt(xor)} | ${fmt(mbs(p.utf8, size))} | ${fmtRatio(mbs(ours[`decode:binary:${size}`], size) / xor)} |`);
  }
  lines.push('');
  lines.push(`ws-native used bufferutil: ${nativeInfo.native ? 'yes' : 'NO'}. Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}. Total ${elapsed()}.`);
  console.log(lines.join('\n'));
}
