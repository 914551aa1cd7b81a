// The load generator: its own process, never the server's (e2e.js and scale.js spawn it).
//
// Usage: node bench/lib/loadgen.js '<JSON job>'   → one JSON result line on stdout.
// Jobs (all addresses are loopback; every phase is bounded in time by `deadlineMs`):
//   { mode: 'throughput', host, port, raw, connections, size, window, warmupMs, durationMs, deflate? }
//        deflate: offers permessage-deflate and sends prebuilt compressed JSON text frames (wire.js)
//   { mode: 'latency',    host, port, raw, size, warmupMs, durationMs, maxSamples }
//   { mode: 'handshake',  host, port, raw, concurrency, warmupMs, durationMs }
//   { mode: 'verify',     host, port, raw }  one message of each of several sizes must come back intact
//   { mode: 'hold',       host, port, raw, connections, concurrency, localAddresses?, paused? }
//        opens the connections, prints {"ready":...}, waits for "close" on stdin, closes them, prints the result.
//        paused: the connections never read after the handshake (the broadcast benchmark's slow recipients).
//   { mode: 'send',       host, port, size, count }  one connection writes `count` binary messages, then
//        prints {"ready":...} once the kernel took them, and holds the connection until "close" on stdin.
//   ws-verify, ws-throughput, ws-hold: through ws's client, with permessage-deflate (see loadgen-ws.js).
// `raw: true` speaks to the raw TCP echo: the same bytes go out and echoed bytes are counted.
//
// Cheapness is the point: frames are prebuilt (wire.js), each TCP read of replies triggers one write
// of the same number of frames from the prebuilt buffer, and replies are walked, not decoded.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ReplyCounter,
  checkUpgradeResponse,
  encodeMaskedBinaryFrames,
  encodeMaskedClose,
  encodeMaskedDeflatedTextFrames,
  headerValue,
  parseServerFrame,
  unmaskedPayload,
  upgradeRequest,
} from './wire.js';
import { messageSet, wsHold, wsThroughput, wsVerify } from './loadgen-ws.js';

const job = JSON.parse(process.argv[2] ?? '{}');
const HEAD_LIMIT = 16 * 1024; // a response head larger than this is not an echo server's 101

/** Print the result and leave; the event loop may still hold sockets we no longer care about. */
function finish(/** @type {object} */ result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

/** Hard bound on the whole job, whatever the server does. */
const deadlineMs = job.deadlineMs ?? (job.warmupMs ?? 0) + (job.durationMs ?? 0) + 30_000;
setTimeout(() => finish({ error: `load generator deadline (${deadlineMs} ms) exceeded` }), deadlineMs).unref();

/**
 * Connect and, unless raw, perform the opening handshake. The socket comes back paused, so that
 * nothing the server sends is lost before the caller attaches its reader and resumes it.
 * @param {{ localAddress?: string }} [opts]
 * @returns {Promise<{ socket: net.Socket, rest: Buffer, extensions: string }>} rest: bytes that followed the
 *   response head; extensions: its Sec-WebSocket-Extensions value
 */
function open(opts = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: job.host, port: job.port, localAddress: opts.localAddress, noDelay: true });
    let settled = false;
    const fail = (/** @type {Error} */ err) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    const succeed = (/** @type {Buffer} */ rest, extensions = '') => {
      settled = true;
      socket.pause();
      socket.removeListener('error', fail);
      socket.removeListener('close', onClose);
      resolve({ socket, rest, extensions });
    };
    const onClose = () => fail(new Error('connection closed before the handshake completed'));
    socket.on('error', fail);
    socket.on('close', onClose);
    if (job.raw) {
      socket.once('connect', () => succeed(Buffer.alloc(0)));
      return;
    }
    socket.once('connect', () => socket.write(handshake.request));
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    const onData = (/** @type {Buffer} */ chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        if (size > HEAD_LIMIT) fail(new Error('response head too large'));
        return;
      }
      socket.removeListener('data', onData);
      const head = all.toString('latin1', 0, end);
      const problem = checkUpgradeResponse(head, handshake.accept);
      if (problem) fail(new Error(problem));
      else succeed(all.subarray(end + 4), headerValue(head, 'sec-websocket-extensions'));
    };
    socket.on('data', onData);
  });
}

/**
 * Open `count` connections with at most `concurrency` handshakes in progress.
 * @returns {Promise<{ sockets: { socket: net.Socket, rest: Buffer, extensions: string }[], failed: number, firstError: string | null }>}
 */
async function openMany(/** @type {number} */ count, /** @type {number} */ concurrency, /** @type {string[]} */ locals = []) {
  /** @type {{ socket: net.Socket, rest: Buffer, extensions: string }[]} */
  const sockets = [];
  let failed = 0;
  /** @type {string | null} */
  let firstError = null;
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      try {
        sockets.push(await open({ localAddress: locals.length ? locals[i % locals.length] : undefined }));
      } catch (err) {
        failed++;
        firstError ??= String(/** @type {Error} */ (err).message ?? err);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { sockets, failed, firstError };
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Tell the harness that the measured window starts or ends (it reads the server's CPU time there). */
function phase(/** @type {'start' | 'end'} */ name) {
  process.stdout.write(`{"phase":"${name}"}\n`);
}

/** CPU time this process spent between two process.cpuUsage() readings, as a share of wall time. */
function cpuShare(/** @type {NodeJS.CpuUsage} */ a, /** @type {NodeJS.CpuUsage} */ b, /** @type {number} */ ms) {
  return (b.user - a.user + b.system - a.system) / 1000 / ms;
}

// As browsers offer it (RFC 7692 §7.1.2.2: the client accepts any window the server asks of it).
const handshake = upgradeRequest(job.host, job.port, job.deflate ? 'permessage-deflate; client_max_window_bits' : '');

/**
 * The window's frames, back to back, and where frame k ends: binary frames of `size`, or with
 * `deflate` compressed JSON text (distinct messages, so that a server with context takeover is not
 * handed the same bytes over and over).
 */
function windowFrames(/** @type {number} */ size, /** @type {number} */ win) {
  if (job.deflate) {
    const set = messageSet(size);
    const { buffer, ends } = encodeMaskedDeflatedTextFrames(Array.from({ length: win }, (_, i) => set[i % set.length]));
    return { buffer, ends };
  }
  const { buffer, frameLength } = encodeMaskedBinaryFrames(size, win);
  return { buffer, ends: Array.from({ length: win }, (_, i) => (i + 1) * frameLength), frameLength };
}

async function throughput() {
  const { connections, size, window: win, warmupMs, durationMs } = job;
  const { buffer, ends, frameLength = 0 } = windowFrames(size, win);
  const opened = await openMany(connections, 64);
  if (opened.failed) return { error: `${opened.failed} connections failed: ${opened.firstError}` };
  /** @type {Record<string, number>} how many connections agreed to each Sec-WebSocket-Extensions value */
  const extensions = {};
  for (const o of opened.sockets) extensions[o.extensions] = (extensions[o.extensions] ?? 0) + 1;
  /** @type {ReplyCounter[]} */
  const counters = [];
  let messages = 0;
  let reads = 0;
  let writes = 0;
  let running = true;
  /** @type {string | null} */
  let error = null;
  /** @type {{ socket: net.Socket, owed: number }[]} sockets with replies not yet answered */
  let owing = [];
  let flushScheduled = false;
  const refillAt = job.refillAt ?? 1;
  const flush = () => {
    flushScheduled = false;
    const list = owing;
    owing = [];
    for (const s of list) {
      if (s.owed < refillAt) {
        owing.push(s); // not enough yet: stays on the list for a later flush
        continue;
      }
      if (running) {
        // Never more than the window: a refill is a prefix of the window's frames.
        s.socket.write(buffer.subarray(0, ends[Math.min(s.owed, win) - 1]));
        writes++;
      }
      s.owed = 0;
    }
  };
  for (const { socket, rest } of opened.sockets) {
    const state = { socket, owed: 0 };
    const counter = new ReplyCounter();
    counters.push(counter);
    let rawBytes = 0;
    const onChunk = (/** @type {Buffer} */ chunk) => {
      reads++;
      let done;
      if (job.raw) {
        // The raw echo returns our frames unparsed: completed frames are whole multiples of their length.
        const before = Math.floor(rawBytes / frameLength);
        rawBytes += chunk.length;
        done = Math.floor(rawBytes / frameLength) - before;
      } else {
        done = counter.push(chunk);
        if (counter.error || counter.closeReceived) {
          error ??= counter.error ?? 'server sent a Close frame';
          running = false;
        }
      }
      messages += done;
      if (running && done > 0) {
        // Refill the window: as many frames go out as came back. The refill waits for the end of this
        // poll phase so that all the reads of one wake-up cost one write per socket.
        if (state.owed === 0) owing.push(state);
        state.owed += done;
        if (!flushScheduled && state.owed >= refillAt) {
          flushScheduled = true;
          setImmediate(flush);
        }
      }
    };
    socket.on('data', onChunk);
    socket.on('error', (err) => {
      if (running) error ??= err.message;
    });
    socket.on('close', () => {
      if (running) error ??= 'server closed a connection';
    });
    if (rest.length) onChunk(rest);
    socket.resume();
    socket.write(buffer); // the initial window: `win` frames in flight
  }
  await sleep(warmupMs);
  const m0 = messages;
  const r0 = reads;
  const w0 = writes;
  phase('start');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(durationMs);
  const m1 = messages;
  const r1 = reads;
  const w1 = writes;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  phase('end');
  running = false;
  for (const { socket } of opened.sockets) socket.destroy();
  if (error) return { error };
  const seconds = (t1 - t0) / 1000;
  return {
    messages: m1 - m0,
    seconds,
    msgsPerSec: (m1 - m0) / seconds,
    mbPerSec: ((m1 - m0) * size) / seconds / 1e6,
    loadgenCpu: cpuShare(c0, c1, t1 - t0),
    // Reads and writes per message show who batches: one read per reply means the server wrote each one alone.
    readsPerMsg: (r1 - r0) / (m1 - m0),
    writesPerMsg: (w1 - w0) / (m1 - m0),
    ...(job.deflate && {
      extensions,
      // Replies with RSV1 among all replies, and their bytes: did the server compress, and how well.
      compressedShare: counters.reduce((n, c) => n + c.compressedFrames, 0) / Math.max(1, counters.reduce((n, c) => n + c.dataFrames, 0)),
      wireInPerMsg: counters.reduce((n, c) => n + c.payloadBytes, 0) / Math.max(1, counters.reduce((n, c) => n + c.dataFrames, 0)),
    }),
  };
}

async function latency() {
  const { size, warmupMs, durationMs } = job;
  const maxSamples = job.maxSamples ?? 1_000_000;
  const { buffer: frame, frameLength } = encodeMaskedBinaryFrames(size, 1);
  const { socket, rest } = await open();
  const samples = new Float64Array(maxSamples);
  let count = 0;
  let measuring = false;
  let running = true;
  /** @type {string | null} */
  let error = null;
  const counter = new ReplyCounter();
  let rawBytes = 0;
  let sentAt = 0;
  const send = () => {
    sentAt = performance.now();
    socket.write(frame);
  };
  const onChunk = (/** @type {Buffer} */ chunk) => {
    let done;
    if (job.raw) {
      rawBytes += chunk.length;
      done = rawBytes >= frameLength ? 1 : 0;
      if (done) rawBytes -= frameLength;
    } else {
      done = counter.push(chunk);
      if (counter.error || counter.closeReceived) {
        error ??= counter.error ?? 'server sent a Close frame';
        running = false;
      }
    }
    if (done === 0 || !running) return;
    if (measuring && count < maxSamples) samples[count++] = (performance.now() - sentAt) * 1000; // µs
    send();
  };
  socket.on('data', onChunk);
  socket.on('error', (err) => {
    if (running) error ??= err.message;
  });
  if (rest.length) onChunk(rest);
  socket.resume();
  send();
  await sleep(warmupMs);
  measuring = true;
  phase('start');
  await sleep(durationMs);
  phase('end');
  running = false;
  socket.destroy();
  if (error) return { error };
  const sorted = samples.subarray(0, count).sort();
  const at = (/** @type {number} */ q) => sorted[Math.min(count - 1, Math.floor(q * count))];
  return { samples: count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[count - 1] };
}

async function handshakes() {
  const { concurrency, warmupMs, durationMs } = job;
  const closeFrame = encodeMaskedClose();
  let completed = 0;
  let errors = 0;
  /** @type {string | null} */
  let firstError = null;
  let running = true;

  /** One connect → upgrade → close handshake → TCP close, resolved when the socket is fully closed. */
  const once = () =>
    new Promise((resolve) => {
      const socket = net.connect({ host: job.host, port: job.port, noDelay: true });
      let ok = false;
      let head = Buffer.alloc(0);
      let echoed = 0;
      const counter = new ReplyCounter();
      socket.on('connect', () => socket.write(handshake.request));
      socket.on('data', (chunk) => {
        if (job.raw) {
          // Raw TCP: the same request bytes make a round trip, then the client closes.
          echoed += chunk.length;
          if (echoed >= handshake.request.length && !ok) {
            ok = true;
            socket.end();
          }
          return;
        }
        if (counter.closeReceived) return;
        let data = chunk;
        if (head) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const problem = checkUpgradeResponse(head.toString('latin1', 0, end), handshake.accept);
          if (problem) {
            firstError ??= problem;
            socket.destroy();
            return;
          }
          data = head.subarray(end + 4);
          head = /** @type {any} */ (null);
          // RFC 6455 §7.1.2: start the closing handshake with a Close frame...
          socket.write(closeFrame);
        }
        counter.push(data);
        if (counter.closeReceived) {
          // ...and once the server's Close arrives, nothing more will be sent (§7.1.1): half-close our side.
          ok = true;
          socket.end();
        }
      });
      socket.on('error', (err) => {
        firstError ??= err.message;
      });
      socket.on('close', () => {
        if (ok) completed++;
        else errors++;
        resolve(undefined);
      });
    });

  async function worker() {
    // Bounded by time (running) and by failures.
    while (running && errors < 100) await once();
  }
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  const n0 = completed;
  phase('start');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(durationMs);
  const n1 = completed;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  phase('end');
  running = false;
  await Promise.race([Promise.all(workers), sleep(5000)]);
  if (errors >= 100 || n1 === n0) return { error: `handshakes failing: ${firstError ?? 'none completed'}` };
  const seconds = (t1 - t0) / 1000;
  return { handshakes: n1 - n0, seconds, perSec: (n1 - n0) / seconds, errors, loadgenCpu: cpuShare(c0, c1, t1 - t0) };
}

async function hold() {
  const t0 = performance.now();
  const { sockets, failed, firstError } = await openMany(job.connections, job.concurrency ?? 256, job.localAddresses);
  const openMs = performance.now() - t0;
  let lost = 0;
  for (const { socket } of sockets) {
    socket.on('error', () => {});
    socket.on('close', () => lost++);
    if (job.paused) continue; // left paused by open(): the kernel's buffers fill, then the server's
    socket.on('data', () => {}); // nothing is expected; keep reading so a stray frame cannot stall
    socket.resume();
  }
  process.stdout.write(JSON.stringify({ ready: true, opened: sockets.length, failed, firstError, openMs }) + '\n');
  await untilClose();
  const survived = sockets.length - lost;
  for (const { socket } of sockets) socket.destroy();
  return { opened: sockets.length, failed, survived, openMs };
}

/** Wait for the harness's "close" line (or stdin closing). */
function untilClose() {
  return new Promise((resolve) => {
    process.stdin.on('data', (d) => {
      if (String(d).includes('close')) resolve(undefined);
    });
    process.stdin.on('end', resolve);
  });
}

/** One connection sends `count` binary messages of `size` bytes (fresh masks each), then stays open. */
async function send() {
  const { socket } = await open();
  socket.on('error', () => {});
  socket.on('data', () => {}); // a broadcast skips its sender; anything else (a ping) is read and dropped
  socket.resume();
  const { buffer } = encodeMaskedBinaryFrames(job.size, job.count);
  await new Promise((resolve) => socket.write(buffer, resolve));
  process.stdout.write(JSON.stringify({ ready: true, sent: job.count, bytes: buffer.length }) + '\n');
  await untilClose();
  socket.destroy();
  return { sent: job.count };
}

/**
 * Before anything is measured: does this server echo correctly? The counters of the other modes only
 * walk frame headers, so a server returning wrong bytes would otherwise still score.
 */
async function verify() {
  const { socket, rest } = await open();
  /** @type {Buffer} */
  let pending = rest;
  /** @type {((b: Buffer) => void) | null} */
  let wake = null;
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    wake?.(pending);
  });
  socket.on('error', () => {});
  socket.resume();
  /** Wait until `test` finds what it needs in the received bytes (bounded by the job deadline). */
  const until = (/** @type {(b: Buffer) => any} */ test) =>
    new Promise((resolve) => {
      const check = (/** @type {Buffer} */ b) => {
        const got = test(b);
        if (got) {
          wake = null;
          resolve(got);
        }
      };
      wake = check;
      check(pending);
    });
  // Every payload-length encoding of RFC 6455 §5.2 (7-bit, 16-bit, 64-bit) and both benchmark sizes.
  for (const size of [0, 1, 64, 125, 126, 16384, 65535, 65536, 200_000]) {
    const { buffer: frame } = encodeMaskedBinaryFrames(size, 1);
    socket.write(frame);
    if (job.raw) {
      const echoed = /** @type {Buffer} */ (await until((b) => (b.length >= frame.length ? b : null)));
      if (!echoed.subarray(0, frame.length).equals(frame)) return { error: `raw echo of ${frame.length} bytes differs` };
      pending = echoed.subarray(frame.length);
      continue;
    }
    const reply = /** @type {NonNullable<ReturnType<typeof parseServerFrame>>} */ (await until(parseServerFrame));
    pending = pending.subarray(reply.length);
    if (!reply.fin || reply.opcode !== 0x2) return { error: `${size} B: expected one final binary frame, got opcode ${reply.opcode} fin ${reply.fin}` };
    if (!reply.payload.equals(unmaskedPayload(frame, size))) return { error: `${size} B: echoed payload differs` };
  }
  socket.destroy();
  return { ok: true };
}

const modes = /** @type {Record<string, () => Promise<object>>} */ ({
  throughput,
  latency,
  handshake: handshakes,
  hold,
  send,
  verify,
  'ws-verify': () => wsVerify(job),
  'ws-throughput': () => wsThroughput(job),
  'ws-hold': () => wsHold(job),
});
const run = modes[job.mode];
if (!run) finish({ error: `unknown mode ${job.mode}` });
else run().then(finish, (err) => finish({ error: String(err?.message ?? err) }));
