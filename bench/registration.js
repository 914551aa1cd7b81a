// The registration path (issue 17): registered clients sending `{"to": KEY, "data": …}` to each
// other, and broadcasts `{"data": …}`, through our RegistrationHub (`simpatico-ws serve`, its CLI),
// side by side with the same routing written on ws the obvious way (bench/servers/ws-registration.js:
// a Map from key to socket, a challenge nonce, the answer's Ed25519 signature checked with
// node:crypto). One load generator (this file with --load, its own process; raw sockets, prebuilt
// masked frames and a frame scanner, bench/lib/loadgen-registration.js, so that it costs less than
// the server it measures) drives both servers with the same bytes: both speak
// src/registration/PROTOCOL.md. Our limits are set far above the load (as bench/cluster.js does) and
// our heartbeat is off, as the ws version has none: what is measured is routing, not the limits.
//
//   npm run bench:registration     (builds first; about 2 minutes; BENCH_QUICK=1 for a smoke run)
//
// Cases, in every round for each server (the order of the two servers alternating from round to round):
// - direct: PAIRS sender/receiver pairs, each sender keeping at most WINDOW messages in flight to its
//   receiver's key for SECONDS; messages/s counts deliveries, latency is send → delivery (both ends in
//   the load generator, one clock). Every delivery must be exactly `{"from":SENDER_KEY,"data":SEQ}`, in order.
// - broadcast: one of the same 2 × PAIRS clients broadcasts, at most BROADCAST_WINDOW broadcasts in
//   flight, to the 2 × PAIRS − 1 others; messages/s counts deliveries.
// - registrations: REGISTRATIONS clients, 10 at a time, each connecting, answering the challenge
//   (key pair made and signature computed in the load generator, the same work for both servers)
//   and closed once accepted: what the Ed25519 verification allows per second.
// Before it is measured, each server must refuse an answer signed for another host (both really verify).
// Every figure is the median of the rounds with min–max; ratios are ours over ws's from the same run.
// Server CPU during each case gives its CPU time per message. Stores the "registration" section of
// bench/results/latest.json and regenerates BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './lib/config.js';
import { ROOT, cpuSeconds, setAffinity, spawnUntilLine, stopChild } from './lib/processes.js';
import { FrameScanner, FrameTemplate, closeRegistered, deliveredSeq, maskedPong, openRegistered, rawRegistrations } from './lib/loadgen-registration.js';
import { CPU_CAPTION, figure, renderCpuTable, renderErrors, renderTable, renderTargets, saveSection, writeBenchmarksMd } from './lib/report.js';

const cfg = loadConfig();
const PAIRS = 10;
const WINDOW = 64;
const BROADCAST_WINDOW = 32;
const SECONDS = cfg.quick ? 1 : 3;
const WARMUP_SECONDS = cfg.quick ? 0.3 : 1;
const ROUNDS = cfg.rounds;
const REGISTRATIONS = cfg.quick ? 100 : 300;
/** Bound on one case past its SECONDS: a message lost on the way must not hold the run. */
const GIVE_UP_MS = 10_000;

const SERVERS = [
  {
    id: 'simpatico',
    label: 'simpatico-ws RegistrationHub',
    // Limits far above the load, heartbeat off (the ws version has neither).
    args: ['dist/cli.js', 'serve', '--port', '0', '--quiet', '--heartbeat', '0', '--rate', '1e9', '--burst', '1000000000',
      '--fanout', '1e9', '--fanout-burst', '1000000000', '--refusals-per-minute', '1000000000', '--max-connections', '100000',
      '--max-connections-per-address', '100000', '--max-handshakes-per-address', '100000'],
    pattern: /WebSocket endpoint (ws:\/\/\S+)\)/,
  },
  { id: 'ws', label: 'ws + a Map', args: ['bench/servers/ws-registration.js'], pattern: /^(ws:\/\/\S+)$/ },
];

/** Spawns a server and resolves with it and its URL, from the first stdout match of its pattern (bounded: 30 s). */
async function start(def) {
  const { child, match } = await spawnUntilLine(process.execPath, def.args, def.pattern, def.label);
  return { child, url: match[1] };
}

async function harness() {
  const started = Date.now();
  /** @type {Record<string, { child: import('node:child_process').ChildProcess, url: string }>} */
  const running = {};
  try {
    for (const def of SERVERS) {
      running[def.id] = await start(def);
      if (cfg.pin) setAffinity(/** @type {number} */ (running[def.id].child.pid), cfg.pin.server);
    }
    console.error(
      `# ${cfg.quick ? 'quick' : 'full'} run: ${ROUNDS} rounds × (direct ${PAIRS} pairs, broadcast to ${2 * PAIRS - 1}, ${REGISTRATIONS} registrations), ` +
        `${SECONDS} s per case` + (cfg.pin ? `, servers on CPU ${cfg.pin.server}, load generator on CPU ${cfg.pin.loadgen}` : ''),
    );
    const urls = Object.fromEntries(SERVERS.map((d) => [d.id, running[d.id].url]));
    const gen = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', JSON.stringify(urls)], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (cfg.pin) setAffinity(/** @type {number} */ (gen.pid), cfg.pin.loadgen);
    let results = null;
    // The load generator asks for the server's CPU time at the start and end of each case and waits
    // for the answer, so the window read is the window measured.
    gen.on('message', (/** @type {any} */ m) => {
      if (m.type === 'cpu') gen.send({ type: 'cpu', id: m.id, seconds: cpuSeconds(running[m.server].child.pid) });
      else if (m.type === 'progress') console.error(`# ${m.text}`);
      else if (m.type === 'results') results = m.results;
    });
    const [code] = await once(gen, 'exit');
    if (code !== 0 || results === null) throw new Error(`the load generator exited with ${code}`);
    report(results, Math.round((Date.now() - started) / 1000));
  } finally {
    for (const r of Object.values(running)) await stopChild(r.child);
  }
}

/** @param {any} results @param {number} seconds */
function report(results, seconds) {
  const entries = SERVERS.map((d) => ({ id: d.id, label: d.label, available: true }));
  const pick = (/** @type {string} */ kase, /** @type {string} */ key) =>
    Object.fromEntries(SERVERS.map((d) => [d.id, results[d.id][kase].map((/** @type {any} */ r) => (r.error ?? r[key]))]));
  const median = (/** @type {number[]} */ xs) => {
    const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const cpu = (/** @type {string} */ kase) =>
    Object.fromEntries(SERVERS.map((d) => {
      const rs = results[d.id][kase].filter((/** @type {any} */ r) => !r.error);
      return [d.id, {
        server: median(rs.map((/** @type {any} */ r) => r.serverCpu / r.seconds)),
        loadgen: median(rs.map((/** @type {any} */ r) => r.loadgenCpu / r.seconds)),
        serverUsPerOp: median(rs.map((/** @type {any} */ r) => (r.serverCpu * 1e6) / r.count)),
      }];
    }));
  const g = (/** @type {string} */ id, /** @type {string} */ group, /** @type {string} */ label, /** @type {string} */ unit, /** @type {'higher' | 'lower'} */ better) =>
    ({ id, group, label, unit, better });
  const direct = `{"to"}, ${PAIRS} pairs × ${WINDOW} in flight`;
  const broadcast = `broadcast to ${2 * PAIRS - 1}, ${BROADCAST_WINDOW} in flight`;
  const figures = [
    { ...figure(g('reg-direct-msgs', 'throughput', direct, 'msg/s', 'higher'), pick('direct', 'rate')), cpu: cpu('direct') },
    figure(g('reg-direct-p50', 'latency', `${direct}, p50`, 'ms', 'lower'), pick('direct', 'p50')),
    figure(g('reg-direct-p99', 'latency', `${direct}, p99`, 'ms', 'lower'), pick('direct', 'p99')),
    { ...figure(g('reg-broadcast-msgs', 'throughput', `${broadcast}, deliveries`, 'msg/s', 'higher'), pick('broadcast', 'rate')), cpu: cpu('broadcast') },
    figure(g('reg-broadcast-p50', 'latency', `${broadcast}, p50`, 'ms', 'lower'), pick('broadcast', 'p50')),
    figure(g('reg-broadcast-p99', 'latency', `${broadcast}, p99`, 'ms', 'lower'), pick('broadcast', 'p99')),
    { ...figure(g('reg-registrations', 'registration', 'registrations, 10 at once', '/s', 'higher'), pick('registrations', 'rate')), cpu: cpu('registrations') },
    // The server's own cost, per round: steadier than rates when the load generator is the limit (‡).
    figure(g('reg-direct-cpu', 'cpu', '{"to"}: server CPU per delivery', 'µs', 'lower'), pick('direct', 'usPerOp')),
    figure(g('reg-broadcast-cpu', 'cpu', 'broadcast: server CPU per delivery', 'µs', 'lower'), pick('broadcast', 'usPerOp')),
    figure(g('reg-registrations-cpu', 'cpu', 'server CPU per registration', 'µs', 'lower'), pick('registrations', 'usPerOp')),
  ];
  console.log(renderTargets(figures), '\n');
  console.log(renderTable(figures, entries), '\n');
  console.log(CPU_CAPTION, '\n');
  console.log(renderCpuTable(figures, entries));
  const errs = renderErrors(figures);
  if (errs) console.log(`\nFailures:\n${errs}`);
  if (cfg.write) {
    const section = {
      date: new Date().toISOString(),
      quick: cfg.quick,
      rounds: ROUNDS,
      durationMs: SECONDS * 1000,
      warmupMs: WARMUP_SECONDS * 1000,
      pinned: cfg.pin,
      clientPairs: PAIRS,
      window: WINDOW,
      broadcastWindow: BROADCAST_WINDOW,
      registrations: REGISTRATIONS,
      seconds,
      servers: entries,
      figures,
      raw: results,
    };
    writeBenchmarksMd(saveSection('registration', section));
    console.error('# wrote bench/results/latest.json and BENCHMARKS.md');
  }
  if (errs) process.exitCode = 1;
}

// ---- the load generator (its own process) ----

let asked = 0;
/** @type {Map<number, (seconds: number) => void>} */
const answers = new Map();

// Here, below every top-level declaration the two roles use (a top-level await above them would
// leave them uninitialised while it waits).
if (process.argv.includes('--load')) await load(JSON.parse(process.argv[process.argv.indexOf('--load') + 1]));
else await harness();

/** The server's CPU seconds so far, read by the harness from /proc. @param {string} server */
function serverCpu(server) {
  const id = ++asked;
  return new Promise((resolve) => {
    answers.set(id, resolve);
    /** @type {NonNullable<typeof process.send>} */ (process.send)({ type: 'cpu', id, server });
  });
}

/** @param {Record<string, string>} urls */
async function load(urls) {
  process.on('message', (/** @type {any} */ m) => {
    if (m.type === 'cpu') (answers.get(m.id)?.(m.seconds ?? NaN), answers.delete(m.id));
  });
  const send = /** @type {NonNullable<typeof process.send>} */ (process.send).bind(process);
  /** @type {Record<string, Client[]>} */
  const clients = {};
  /** @type {Record<string, any>} */
  const results = {};
  for (const d of SERVERS) {
    // Both must really verify: an answer signed for another host is refused, or nothing here means anything.
    const forged = await openRegistered(urls[d.id], 'another-host.invalid').then(
      (r) => (closeRegistered(r.socket), null),
      (/** @type {any} */ e) => e,
    );
    if (forged?.refused !== true) {
      throw new Error(`${d.label} did not refuse a signature for another host (${forged === null ? 'accepted' : forged.message})`);
    }
    clients[d.id] = [];
    for (let i = 0; i < 2 * PAIRS; i++) clients[d.id].push(await openRegistered(urls[d.id]));
    results[d.id] = { direct: [], broadcast: [], registrations: [] };
    // Warm-up: the same cases, unrecorded, so that neither server is measured while its code is cold.
    await direct(clients[d.id], WARMUP_SECONDS);
    await broadcast(clients[d.id], WARMUP_SECONDS);
    await rawRegistrations(urls[d.id], Math.ceil(REGISTRATIONS / 5));
  }
  /** Runs one case with the server's and our CPU time around it. */
  const measured = async (/** @type {string} */ server, /** @type {() => Promise<any>} */ run) => {
    const cpu0 = await serverCpu(server);
    const own0 = process.cpuUsage();
    const r = await run();
    const own = process.cpuUsage(own0);
    const cpu1 = await serverCpu(server);
    if (r.error) return r;
    return { ...r, serverCpu: cpu1 - cpu0, loadgenCpu: (own.user + own.system) / 1e6, usPerOp: ((cpu1 - cpu0) * 1e6) / r.count };
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const d of order) {
      const c = clients[d.id];
      const r = results[d.id];
      r.direct.push(await measured(d.id, () => direct(c, SECONDS)));
      r.broadcast.push(await measured(d.id, () => broadcast(c, SECONDS)));
      r.registrations.push(await measured(d.id, () => rawRegistrations(urls[d.id], REGISTRATIONS)));
      const f = (/** @type {any} */ x) => (x.error ? `error: ${x.error}` : Math.round(x.rate).toLocaleString('en'));
      send({ type: 'progress', text: `round ${round + 1}/${ROUNDS} ${d.id}: direct ${f(r.direct.at(-1))} msg/s, broadcast ${f(r.broadcast.at(-1))} msg/s, ${f(r.registrations.at(-1))} registrations/s` });
    }
  }
  for (const list of Object.values(clients)) for (const c of list) closeRegistered(c.socket);
  send({ type: 'results', results }, () => process.exit(0));
}

/** @typedef {{ socket: import('node:net').Socket, publicKey: string, keyBytes: Buffer }} Client */

/** Latency percentiles of sampled values (ms). @param {number[]} xs */
function percentiles(xs) {
  xs.sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Reads `socket` through a frame scanner until the returned stop() is called (the socket is paused
 * again and its listener removed). A text the server sends where none is expected is counted in
 * `unexpected` by the caller's `onText`.
 * @param {Client} client @param {(buf: Buffer, start: number, end: number) => void} onText @param {() => void} afterChunk
 */
function reading(client, onText, afterChunk) {
  const scanner = new FrameScanner(onText, (payload) => client.socket.write(maskedPong(payload)));
  const onData = (/** @type {Buffer} */ chunk) => {
    scanner.push(chunk);
    afterChunk();
  };
  client.socket.on('data', onData);
  client.socket.resume();
  return {
    scanner,
    stop() {
      client.socket.off('data', onData);
      client.socket.pause();
    },
  };
}

/**
 * Direct routing: client 2i sends `{"to": KEY of 2i+1, "data": SEQ}`, WINDOW in flight each, for
 * `seconds`. Each receiver must get its sender's numbers in order, `from` its sender's key; each
 * TCP read of deliveries makes the sender write as many new messages, in one write.
 * @param {Client[]} clients @param {number} seconds
 */
async function direct(clients, seconds) {
  const latencies = [];
  let delivered = 0;
  let wrong = 0;
  let unexpected = 0;
  /** @type {string[]} */
  const scannerErrors = [];
  let running = true;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PAIRS }, (_, i) => new Promise((resolve) => {
      const sender = clients[2 * i];
      const receiver = clients[2 * i + 1];
      const template = new FrameTemplate(receiver.publicKey);
      const sentAt = new Float64Array(WINDOW);
      let sent = 0;
      let expected = 0;
      const done = () => {
        clearTimeout(give);
        rx.stop();
        tx.stop();
        for (const s of [rx.scanner, tx.scanner]) if (s.error !== null) scannerErrors.push(s.error);
        resolve(undefined);
      };
      const give = setTimeout(done, seconds * 1000 + GIVE_UP_MS);
      const pump = (/** @type {number} */ now) => {
        const n = WINDOW - (sent - expected);
        if (n <= 0) return;
        for (let k = 0; k < n; k++) sentAt[(sent + k) % WINDOW] = now;
        sender.socket.write(template.frames(sent, n));
        sent += n;
      };
      const rx = reading(receiver, (buf, start, stop) => {
        const seq = deliveredSeq(buf, start, stop, sender.keyBytes);
        if (seq !== expected) return void wrong++;
        if (seq % 16 === 0) latencies.push(performance.now() - sentAt[seq % WINDOW]);
        expected++;
        delivered++;
      }, () => {
        const now = performance.now();
        if (now >= end) running = false;
        if (rx.scanner.error !== null || wrong > 0) running = false;
        if (running) pump(now);
        else if (expected === sent || rx.scanner.error !== null || wrong > 0) done();
      });
      const tx = reading(sender, () => void unexpected++, () => {});
      pump(performance.now());
    })),
  );
  const secs = (performance.now() - t0) / 1000;
  if (scannerErrors.length > 0) return { error: scannerErrors[0] };
  if (wrong > 0) return { error: `${wrong} deliveries out of order, or not {"from": SENDER, "data": SEQ} with the sender's key` };
  if (unexpected > 0) return { error: `${unexpected} texts to a sender (an error reply?)` };
  if (running) return { error: `deliveries stopped before the end of the run (${delivered} delivered)` };
  return { rate: delivered / secs, count: delivered, seconds: secs, ...percentiles(latencies) };
}

/**
 * Broadcast: client 0 broadcasts `{"data": SEQ}`, BROADCAST_WINDOW in flight (a broadcast is in
 * flight until every other client got it); each of the others must get every number in order.
 * @param {Client[]} clients @param {number} seconds
 */
async function broadcast(clients, seconds) {
  const [sender, ...receivers] = clients;
  const W = BROADCAST_WINDOW;
  const template = new FrameTemplate(undefined);
  const latencies = [];
  /** Deliveries still expected per broadcast in flight, and when it was sent, by SEQ % W. */
  const left = new Int32Array(W);
  const sentAt = new Float64Array(W);
  let sent = 0;
  /** Every broadcast below this reached every receiver (each receives in order, so they complete in order). */
  let completed = 0;
  let delivered = 0;
  let stray = 0;
  let unexpected = 0;
  let running = true;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  /** @type {{ scanner: FrameScanner, stop(): void }[]} */
  const readers = [];
  await new Promise((resolve) => {
    const done = () => {
      clearTimeout(give);
      for (const r of readers) r.stop();
      resolve(undefined);
    };
    const give = setTimeout(done, seconds * 1000 + GIVE_UP_MS);
    const failed = () => stray > 0 || readers.some((r) => r.scanner.error !== null);
    const pump = (/** @type {number} */ now) => {
      while (completed < sent && left[completed % W] === 0) completed++;
      const n = W - (sent - completed);
      if (n <= 0) return;
      for (let k = 0; k < n; k++) {
        left[(sent + k) % W] = receivers.length;
        sentAt[(sent + k) % W] = now;
      }
      sender.socket.write(template.frames(sent, n));
      sent += n;
    };
    const afterChunk = () => {
      const now = performance.now();
      if (now >= end || failed()) running = false;
      if (running) return pump(now);
      while (completed < sent && left[completed % W] === 0) completed++;
      if (completed === sent || failed()) done();
    };
    for (const receiver of receivers) {
      let expected = 0;
      readers.push(reading(receiver, (buf, start, stop) => {
        const seq = deliveredSeq(buf, start, stop, sender.keyBytes);
        if (seq !== expected) return void stray++;
        expected++;
        delivered++;
        if (seq % 16 === 0) latencies.push(performance.now() - sentAt[seq % W]);
        left[seq % W]--;
      }, afterChunk));
    }
    readers.push(reading(sender, () => void unexpected++, () => {}));
    pump(performance.now());
  });
  const secs = (performance.now() - t0) / 1000;
  const errors = readers.map((r) => r.scanner.error).filter((e) => e !== null);
  if (errors.length > 0) return { error: errors[0] };
  if (stray > 0) return { error: `${stray} deliveries out of order, or not {"from": SENDER, "data": SEQ} with the sender's key` };
  if (unexpected > 0) return { error: `${unexpected} texts to the broadcaster (an error reply?)` };
  if (completed < sent) return { error: `${sent - completed} broadcasts not delivered to every recipient` };
  return { rate: delivered / secs, count: delivered, seconds: secs, ...percentiles(latencies) };
}
