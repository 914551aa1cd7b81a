// The load generator's modes that speak through ws's client instead of prebuilt frames: the rows
// where the client must negotiate permessage-deflate (RFC 7692) and answer pings, which the
// frame-walking modes of loadgen.js do not do. Every server of those rows meets this same client,
// so the client side costs the same whichever server is measured.
//
// Jobs (run by loadgen.js, which bounds each by `deadlineMs`):
//   { mode: 'ws-verify',     host, port, sizes, deflate }  each text message comes back intact; reports the agreed extensions
//   { mode: 'ws-throughput', host, port, connections, size, window, deflate, warmupMs, durationMs }
//   { mode: 'ws-hold',       host, port, connections, concurrency, deflate, exchange, localAddresses? }
//        opens the connections, each echoes one message of `exchange` bytes, prints {"ready":...},
//        waits for "close" on stdin, closes them and prints the result (pings counted).
// Messages are chat-like JSON text (codec-workloads.js), several distinct ones in rotation, so that
// context takeover is not credited with compressing the same bytes over and over.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { payload } from './codec-workloads.js';

/** Distinct messages per size: at least 256 KiB of them, well past deflate's 32 KiB window. */
export function messageSet(/** @type {number} */ size) {
  const count = Math.max(4, Math.ceil((256 * 1024) / size));
  return Array.from({ length: count }, (_, i) => payload('text', size, size * 131 + i));
}

/**
 * One ws client, resolved once open, with the Sec-WebSocket-Extensions value of the 101 response.
 * @param {any} job
 * @param {string | undefined} localAddress
 * @returns {Promise<{ ws: WebSocket, extensions: string }>}
 */
function connect(job, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${job.host}:${job.port}/`, {
      perMessageDeflate: job.deflate !== false,
      localAddress,
      handshakeTimeout: 10_000,
    });
    let extensions = '';
    ws.on('upgrade', (res) => {
      extensions = String(res.headers['sec-websocket-extensions'] ?? '');
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      resolve({ ws, extensions });
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Open `count` clients, at most `concurrency` handshakes at a time. */
async function connectMany(/** @type {any} */ job, /** @type {number} */ count, /** @type {number} */ concurrency) {
  /** @type {{ ws: WebSocket, extensions: string }[]} */
  const clients = [];
  let failed = 0;
  /** @type {string | null} */
  let firstError = null;
  let next = 0;
  const locals = job.localAddresses ?? [];
  async function worker() {
    while (next < count) {
      const i = next++;
      try {
        clients.push(await connect(job, locals.length ? locals[i % locals.length] : undefined));
      } catch (err) {
        failed++;
        firstError ??= String(/** @type {Error} */ (err).message ?? err);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { clients, failed, firstError };
}

/** How many clients agreed to each Sec-WebSocket-Extensions value (one entry when all agree). */
function extensionCounts(/** @type {{ extensions: string }[]} */ clients) {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const c of clients) counts[c.extensions] = (counts[c.extensions] ?? 0) + 1;
  return counts;
}

/** Bytes read and written on the TCP socket under a ws client: what actually crossed the wire. */
const wire = (/** @type {any} */ ws) => ({ read: ws._socket?.bytesRead ?? 0, written: ws._socket?.bytesWritten ?? 0 });

/** The next message from `ws`, or its error. */
const nextMessage = (/** @type {WebSocket} */ ws) =>
  new Promise((resolve, reject) => {
    const onClose = (/** @type {number} */ code) => reject(new Error(`closed with ${code} before the echo`));
    ws.once('message', (data, isBinary) => {
      ws.removeListener('close', onClose);
      resolve({ data, isBinary });
    });
    ws.once('close', onClose);
  });

/** Every message size comes back as the same text; and whether the replies were compressed. */
export async function wsVerify(/** @type {any} */ job) {
  const { ws, extensions } = await connect(job, undefined);
  let bytes = 0;
  const w0 = wire(ws);
  for (const size of job.sizes) {
    for (const message of messageSet(size).slice(0, 4)) {
      const reply = nextMessage(ws);
      ws.send(message, { binary: false });
      const { data, isBinary } = /** @type {any} */ (await reply);
      if (isBinary) return { error: `${size} B: text came back as binary` };
      if (!Buffer.from(data).equals(message)) return { error: `${size} B: echoed text differs` };
      bytes += size;
    }
  }
  const w1 = wire(ws);
  ws.terminate();
  // Wire bytes per payload byte of the replies: well under 1 only if the server compressed them.
  return { ok: true, extensions, replyWireRatio: (w1.read - w0.read) / bytes };
}

/** Echo throughput: each connection keeps `window` messages in flight, one sent per one received. */
export async function wsThroughput(/** @type {any} */ job) {
  const { connections, size, window: win, warmupMs, durationMs } = job;
  const messages = messageSet(size);
  const opened = await connectMany(job, connections, 16);
  if (opened.failed) return { error: `${opened.failed} connections failed: ${opened.firstError}` };
  let count = 0;
  let running = true;
  /** @type {string | null} */
  let error = null;
  for (const { ws } of opened.clients) {
    let k = 0;
    const send = () => ws.send(messages[k++ % messages.length], { binary: false });
    ws.on('message', () => {
      count++;
      if (running) send();
    });
    ws.on('error', (err) => {
      if (running) error ??= err.message;
    });
    ws.on('close', (code) => {
      if (running) error ??= `server closed a connection (${code})`;
    });
    for (let i = 0; i < win; i++) send();
  }
  await sleep(warmupMs);
  const n0 = count;
  const w0 = opened.clients.map(({ ws }) => wire(ws));
  process.stdout.write('{"phase":"start"}\n');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(durationMs);
  const n1 = count;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const w1 = opened.clients.map(({ ws }) => wire(ws));
  process.stdout.write('{"phase":"end"}\n');
  running = false;
  for (const { ws } of opened.clients) ws.terminate();
  if (error) return { error };
  const seconds = (t1 - t0) / 1000;
  const read = w1.reduce((s, w, i) => s + w.read - w0[i].read, 0);
  const written = w1.reduce((s, w, i) => s + w.written - w0[i].written, 0);
  return {
    messages: n1 - n0,
    seconds,
    msgsPerSec: (n1 - n0) / seconds,
    mbPerSec: ((n1 - n0) * size) / seconds / 1e6,
    loadgenCpu: (c1.user - c0.user + c1.system - c0.system) / 1000 / (t1 - t0),
    // Bytes on the wire per message, each way: the compression both sides achieved.
    wireInPerMsg: read / (n1 - n0),
    wireOutPerMsg: written / (n1 - n0),
    extensions: extensionCounts(opened.clients),
  };
}

/** Idle connections that each echoed one message first (so that zlib state, if any, exists) and answer pings. */
export async function wsHold(/** @type {any} */ job) {
  const t0 = performance.now();
  const { clients, failed, firstError } = await connectMany(job, job.connections, job.concurrency ?? 128);
  let lost = 0;
  let pings = 0;
  let pinged = 0;
  let exchangeFailed = 0;
  const message = job.exchange ? messageSet(job.exchange)[0] : null;
  await Promise.all(
    clients.map(async ({ ws }) => {
      ws.on('error', () => {});
      if (message) {
        try {
          const reply = nextMessage(ws);
          ws.send(message, { binary: false });
          const { data } = /** @type {any} */ (await reply);
          if (!Buffer.from(data).equals(message)) exchangeFailed++;
        } catch {
          exchangeFailed++;
        }
      }
      let first = true;
      // ws's client answers every ping with a pong by itself (RFC 6455 §5.5.2); count them here.
      ws.on('ping', () => {
        pings++;
        if (first) pinged++;
        first = false;
      });
      ws.on('close', () => lost++);
    }),
  );
  const openMs = performance.now() - t0;
  const extensions = extensionCounts(clients);
  process.stdout.write(JSON.stringify({ ready: true, opened: clients.length, failed, firstError, exchangeFailed, openMs, extensions }) + '\n');
  await new Promise((resolve) => {
    process.stdin.on('data', (d) => {
      if (String(d).includes('close')) resolve(undefined);
    });
    process.stdin.on('end', resolve);
  });
  const survived = clients.length - lost;
  for (const { ws } of clients) ws.terminate();
  return { opened: clients.length, failed, survived, openMs, pings, pinged, extensions };
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
