// Turning per-round measurements into figures, tables, bench/results/latest.json and BENCHMARKS.md.
//
// latest.json holds one section per script (codec, e2e, scale), each with its own date, so running
// one script refreshes its part and keeps the others. BENCHMARKS.md is regenerated from the whole of
// latest.json every time; the block between the NOTES markers is carried over verbatim, so analysis
// written by hand (profiles, what would close a gap) survives a new run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCharts } from './charts.js';
import { ROOT } from './processes.js';
import { fmt, fmtRatio, fmtSummary, summarize } from './stats.js';

export const RESULTS = path.join(ROOT, 'bench/results/latest.json');
export const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
const NOTES_START = '<!-- notes:start (kept across runs; edit freely) -->';
const NOTES_END = '<!-- notes:end -->';

/** The subject and the references every ratio is taken against. */
const SUBJECT = 'simpatico';
const REFERENCES = ['ws', 'ws-js', 'raw'];

/**
 * @typedef {{ median: number, min: number, max: number, rounds: number[] }} Summary
 * @typedef {{ id: string, group: string, label: string, unit: string, better: 'higher' | 'lower',
 *   values: Record<string, Summary>, cpu?: Record<string, { server: number | null, loadgen: number | null, serverUsPerOp?: number | null }>,
 *   cpuShared?: boolean,
 *   errors?: Record<string, string> }} Figure
 * @typedef {{ id: string, label: string, available: boolean, error?: string, info?: any, exit?: any, crashes?: string[] }} ServerEntry
 */

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/**
 * Build a figure from per-server lists of per-round values (errors recorded as strings).
 * @param {Omit<Figure, 'values' | 'errors'>} meta
 * @param {Record<string, (number | string)[]>} perServer
 * @returns {Figure}
 */
export function figure(meta, perServer) {
  /** @type {Record<string, Summary>} */
  const values = {};
  /** @type {Record<string, string>} */
  const errors = {};
  for (const [id, list] of Object.entries(perServer)) {
    const nums = /** @type {number[]} */ (list.filter((v) => typeof v === 'number' && Number.isFinite(v)));
    const errs = list.filter((v) => typeof v === 'string');
    if (nums.length) values[id] = summarize(nums);
    if (errs.length) errors[id] = `${errs.length}/${list.length} rounds failed: ${errs[0]}`;
  }
  return { ...meta, values, ...(Object.keys(errors).length ? { errors } : {}) };
}

/** @param {Figure} f @param {string} ref @param {string} [subject] */
export function ratio(f, ref, subject = SUBJECT) {
  const a = f.values[subject]?.median;
  const b = f.values[ref]?.median;
  return a !== undefined && b !== undefined && b !== 0 ? a / b : NaN;
}

/** Load-generator CPU share from which a figure counts as limited by the load generator. */
const LOADGEN_LIMIT = 0.9;

/**
 * The markdown table of a list of figures, one column per server and one ratio column per reference
 * (simpatico-ws over each of ws, ws pure JS and raw net), or per pair given (`subject` over `ref`,
 * for tables of several configurations of each).
 * @param {Figure[]} figures
 * @param {ServerEntry[]} servers
 * @param {{ subject: string, ref: string }[]} [pairs]
 */
export function renderTable(figures, servers, pairs) {
  const cols = servers.filter((s) => s.available);
  const label = (/** @type {string} */ id) => cols.find((c) => c.id === id)?.label ?? id;
  const ratios = (pairs ?? REFERENCES.map((ref) => ({ subject: SUBJECT, ref }))).filter(
    (p) => cols.some((c) => c.id === p.subject) && cols.some((c) => c.id === p.ref),
  );
  const head = ['Figure', ...cols.map((c) => c.label), ...ratios.map((p) => (pairs ? `${label(p.subject)} ÷ ${label(p.ref)}` : `vs ${label(p.ref)}`))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  let marked = false;
  for (const f of figures) {
    const cells = cols.map((c) => {
      if (!f.values[c.id]) return f.errors?.[c.id] ? 'failed' : '–';
      // A load generator (nearly) always busy while the server was not: the load generator was the limit.
      // (Both busy: each has its own core, so the server was saturated and the figure stands.)
      const cpu = f.cpu?.[c.id];
      const busy = (cpu?.loadgen ?? 0) >= LOADGEN_LIMIT && (cpu?.server ?? 1) < LOADGEN_LIMIT;
      marked ||= busy;
      return `${fmtSummary(f.values[c.id])}${busy ? ' ‡' : ''}`;
    });
    const name = `${f.label} (${f.unit}, ${f.better} is better)`;
    lines.push(`| ${[name, ...cells, ...ratios.map((p) => fmtRatio(ratio(f, p.ref, p.subject)))].join(' | ')} |`);
  }
  if (marked) {
    lines.push(
      '',
      `‡ the load generator used ≥ ${LOADGEN_LIMIT * 100}% of its core and the server less: this figure is the load ` +
        "generator's limit, a floor for the server. " +
        'Compare server CPU time per operation in the CPU table instead.',
    );
  }
  return lines.join('\n');
}

export const CPU_CAPTION =
  'CPU during the measured windows, medians of rounds: server / load generator as a share of one core, then ' +
  'server CPU time per operation (steadier than rates on a busy machine: it does not count time the server waited for a core).';

/**
 * CPU used by the server and by the load generator during the measured windows (share of one core,
 * medians over rounds): shows which side was saturated.
 * @param {Figure[]} figures
 * @param {ServerEntry[]} servers
 */
export function renderCpuTable(figures, servers) {
  const cols = servers.filter((s) => s.available);
  const withCpu = figures.filter((f) => f.cpu && !f.cpuShared);
  if (!withCpu.length) return '';
  const head = ['Case', ...cols.map((c) => c.label)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  const ok = (/** @type {number | null | undefined} */ x) => x !== null && x !== undefined && Number.isFinite(x);
  const pct = (/** @type {number | null | undefined} */ x) => (ok(x) ? `${Math.round(/** @type {number} */ (x) * 100)}%` : '–');
  for (const f of withCpu) {
    const unit = f.group === 'throughput' ? 'msg' : f.group === 'handshake' ? 'handshake' : f.group === 'registration' ? 'registration' : 'round trip';
    const cell = (/** @type {{ server: number | null, loadgen: number | null, serverUsPerOp?: number | null }} */ c) =>
      `${pct(c.server)} / ${pct(c.loadgen)}${ok(c.serverUsPerOp) ? ` · ${fmt(/** @type {number} */ (c.serverUsPerOp))} µs/${unit}` : ''}`;
    lines.push(`| ${[f.label, ...cols.map((c) => (f.cpu?.[c.id] ? cell(f.cpu[c.id]) : '–'))].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Failures worth reading, one line each. @param {Figure[]} figures */
export function renderErrors(figures) {
  // Figures that share their rounds (msg/s and MB/s of one case) share their failures: list each once.
  const lines = new Set();
  for (const f of figures) for (const [id, e] of Object.entries(f.errors ?? {})) lines.add(`- ${f.label}, ${id}: ${e}`);
  return [...lines].join('\n');
}

/**
 * The issues' targets, checked against the figures they name. The subject is simpatico-ws with its
 * defaults unless `subject` names one of its configurations (bench/lib/processes.js VARIANT_DEFS).
 * kind 'ratio-min': subject/reference ≥ goal; 'ratio-max': subject/reference ≤ goal; 'delta-max': subject − reference ≤ goal;
 * 'max': subject ≤ goal (bytes).
 * @type {{ figure: string, subject?: string, against?: string, kind: 'ratio-min' | 'ratio-max' | 'delta-max' | 'max', goal: number, text: string }[]}
 */
export const TARGETS = [
  { figure: 'msgs-64-10', against: 'ws', kind: 'ratio-min', goal: 6, text: '64 B × 10 connections: at least 6× ws' },
  { figure: 'msgs-16384-10', against: 'ws', kind: 'ratio-min', goal: 1.3, text: '16 KiB × 10 connections: at least 1.3× ws (native addon)' },
  { figure: 'msgs-16384-10', against: 'raw', kind: 'ratio-min', goal: 0.9, text: '16 KiB × 10 connections: at least 0.9× raw TCP' },
  { figure: 'latency-p50', against: 'raw', kind: 'ratio-max', goal: 1.1, text: 'Latency p50 within 10% of raw TCP' },
  { figure: 'handshakes-seq', against: 'ws', kind: 'ratio-min', goal: 1.5, text: 'Handshakes/s sequential: at least 1.5× ws' },
  { figure: 'memory-rss', against: 'raw', kind: 'delta-max', goal: 300, text: 'Memory per idle connection: at most raw net + 300 B (RSS)' },
  // Issue 12: limits and heartbeat must not cost more memory than ws's 5.8 KB per idle connection.
  { figure: 'memory-rss', kind: 'max', goal: 5800, text: 'Issue 12: idle connection, default heartbeat (20 s + 20 s): at most 5.8 KB (RSS)' },
  { figure: 'idle-rss', subject: 'simpatico-hb-1s', against: 'ws', kind: 'ratio-max', goal: 1, text: 'Issue 12: heartbeat every 1 s, pings flowing (ws client): no worse than ws in the same table' },
  // Issue 13: permessage-deflate.
  ...['1024-10', '16384-10', '1024-10-frames', '16384-10-frames'].flatMap((id) =>
    [
      ['simpatico-deflate', 'memory-bounded'],
      ['simpatico-takeover', 'context takeover'],
      ...(id.endsWith('frames')
        ? [
            ['simpatico-deflate-tab', 'memory-bounded, text as Buffer'],
            ['simpatico-takeover-tab', 'context takeover, text as Buffer'],
          ]
        : []),
    ].map(([subject, mode]) => ({
      figure: `deflate-msgs-${id}`,
      subject,
      against: 'ws-deflate',
      kind: /** @type {const} */ ('ratio-min'),
      goal: 1.5,
      text: `Issue 13: ${id.startsWith('1024') ? '1 KiB' : '16 KiB'} JSON compressed, ${mode}, ${id.endsWith('frames') ? 'prebuilt frames' : 'ws client'}: at least 1.5× ws`,
    })),
  ),
  { figure: 'idle-rss', subject: 'simpatico-deflate', against: 'simpatico', kind: 'delta-max', goal: 1024, text: 'Issue 13: idle connection, deflate memory-bounded: within 1 KiB of uncompressed (RSS)' },
  // Issue 17: performance, round two (end to end and memory; the codec's targets are checked under its own table).
  { figure: 'msgs-64-10', against: 'raw', kind: 'ratio-min', goal: 0.6, text: 'Issue 17: 64 B × 10 connections: at least 0.6× raw TCP' },
  { figure: 'msgs-16384-10', against: 'raw', kind: 'ratio-min', goal: 0.95, text: 'Issue 17: 16 KiB × 10 connections: at least 0.95× raw TCP' },
  { figure: 'handshakes-seq', against: 'ws', kind: 'ratio-min', goal: 1.5, text: 'Issue 17: handshakes/s sequential: at least 1.5× ws' },
  { figure: 'handshakes-50', against: 'ws', kind: 'ratio-min', goal: 1.5, text: 'Issue 17: handshakes/s, 50 concurrent: at least 1.5× ws' },
  { figure: 'memory-rss', kind: 'max', goal: 4000, text: 'Issue 17: RSS per idle connection at 10,000: at most 4,000 B' },
  { figure: 'latency-p50', against: 'raw', kind: 'ratio-max', goal: 1.05, text: 'Issue 17: latency p50, 64 B: at most 1.05× raw TCP' },
  { figure: 'latency-p99', against: 'raw', kind: 'ratio-max', goal: 1.05, text: 'Issue 17: latency p99, 64 B: at most 1.05× raw TCP' },
  // Routing through the RegistrationHub against the same routing written on ws (bench/registration.js).
  { figure: 'reg-direct-msgs', against: 'ws', kind: 'ratio-min', goal: 3, text: 'Issue 17: registration routing, {"to"} messages/s: at least 3× the ws version' },
];

/** @param {Figure[]} figures */
export function renderTargets(figures) {
  const lines = ['| Target | Measured | Status |', '| --- | --- | --- |'];
  for (const t of TARGETS) {
    const f = figures.find((x) => x.id === t.figure);
    if (!f) continue;
    const a = f.values[t.subject ?? SUBJECT]?.median;
    const b = t.against === undefined ? undefined : f.values[t.against]?.median;
    let measured = '–';
    let status = 'not measured';
    if (t.kind === 'max' && a !== undefined) {
      measured = `${fmt(a)} B`;
      status = a <= t.goal ? 'met' : `missed by ${fmt(a - t.goal)} B`;
    } else if (a !== undefined && b !== undefined && t.against !== undefined) {
      if (t.kind === 'delta-max') {
        const d = a - b;
        measured = `${d >= 0 ? '+' : ''}${fmt(d)} B vs ${t.against}`;
        status = d <= t.goal ? 'met' : `missed by ${fmt(d - t.goal)} B`;
      } else {
        const r = a / b;
        measured = `${fmtRatio(r)} ${t.against}`;
        const ok = t.kind === 'ratio-min' ? r >= t.goal : r <= t.goal;
        const off = t.kind === 'ratio-min' ? 1 - r / t.goal : r / t.goal - 1;
        status = ok ? 'met' : `missed by ${(off * 100).toFixed(0)}%`;
      }
    }
    lines.push(`| ${t.text} | ${measured} | ${status} |`);
  }
  return lines.join('\n');
}

/** Read latest.json, replace one section, write it back atomically. @param {string} key @param {any} section */
export function saveSection(key, section) {
  /** @type {any} */
  let all = {};
  try {
    all = JSON.parse(fs.readFileSync(RESULTS, 'utf8'));
  } catch {
    // first run, or a file we cannot read: start over
  }
  all.machine = machine();
  // Each section keeps the machine it ran on: parts are run one at a time, and not always on the same one.
  all[key] = { ...section, machine: all.machine };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  const tmp = `${RESULTS}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
  fs.renameSync(tmp, RESULTS);
  return all;
}

/** ' · on MACHINE' when a section ran elsewhere than the latest part. @param {any} s @param {any} current */
function elsewhere(s, current) {
  const m = s.machine;
  if (!m || JSON.stringify(m) === JSON.stringify(current)) return '';
  return ` · on another machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`;
}

/** @param {any} s a section of latest.json */
function runLine(s) {
  const which = s.pinAll === false ? ' in the CPU-bound cases (ping-pong cases unpinned)' : '';
  const pin = s.pinned ? `server pinned to CPU ${s.pinned.server}, load generator to CPU ${s.pinned.loadgen}${which}` : 'not pinned';
  const timing = s.durationMs ? ` of ${s.warmupMs} ms warm-up + ${s.durationMs} ms measured` : '';
  return `${s.date} · ${s.quick ? 'quick run (BENCH_QUICK)' : 'full run'} · ${s.rounds} rounds${timing} · ${pin}${elsewhere(s, currentMachine)}`;
}

/** The machine of the latest part, for runLine. @type {any} */
let currentMachine = null;

const METHOD = `## Method

- **Processes.** Each server is an echo server in its own Node process: \`simpatico-ws echo\` (dist/cli.js),
  ws 8 with its defaults (bench/servers/ws-echo.js; masking by its native \`bufferutil\` addon), the same with
  \`WS_NO_BUFFER_UTIL=1\` (pure JavaScript), and a \`node:net\` echo without framing (bench/servers/raw-echo.js), the
  ceiling of what Node's sockets move. All listen on 127.0.0.1 and are started, read (the URL line on stdout),
  measured and stopped (SIGTERM) the same way. Before it is measured, a server must echo one binary message of each
  length encoding (0 B to 200 kB) intact, or it is left out; one that dies mid-run is started again and its failed
  rounds are listed. The load generator (bench/lib/loadgen.js) is a separate process, one
  per measurement. On Linux with two or more CPUs, in the CPU-bound cases (throughput, 50 concurrent handshakes,
  idle connections) the server is pinned to CPU 0 and the load generator to CPU 1 (\`taskset\`), so neither can take
  the other's core. The ping-pong cases (latency, sequential handshakes: one operation in flight, both processes
  mostly waiting) run unpinned: the scheduler then keeps the pair on one core, where pinning them apart would add a
  cross-core wake-up to every round trip (measured here, in a VM: p50 ~60 µs pinned against ~25 µs unpinned, for
  every server alike). \`BENCH_PIN=1\` pins every case, \`BENCH_PIN=0\` none.
- **Load generator.** Masked binary frames are encoded once, before the run, with a fresh mask per frame; each
  connection keeps a fixed window of frames in flight (128 at 64 B, 32 at 16 KiB) and, after each batch of reads,
  writes as many frames as came back in one write. Replies are walked (headers read, payloads skipped), not decoded.
  The raw echo gets the very same bytes, and echoed bytes divided by the frame length count as messages. The raw
  echo does less per byte than the load generator itself, so at 64 B its figure is the load generator's limit:
  a floor for the ceiling.
- **CPU.** The CPU table shows the share of a core each side used during the measured window (server: all
  its threads, from /proc/PID/task/*/schedstat; load generator: process.cpuUsage): a load generator near 100% while the server is
  not means a figure is a floor for the server, not its limit (marked ‡ in the table), and both well under 100% means other processes had the cores. It also
  gives the server's CPU time per message (or handshake, or round trip): the cost of the work itself, which stays
  put when a busy machine makes rates jump.
- **Figures.** Throughput: messages/s and MB/s (10^6 payload bytes echoed per second) at 1, 10 and 100 connections,
  after a warm-up on the same connections. Latency: one connection, one 64 B message in flight, p50 and p99 of the
  round trip. Handshakes/s: TCP connect, upgrade request, 101 response (Sec-WebSocket-Accept checked), client Close,
  server Close, TCP close — one at a time and 50 at a time (for raw TCP: connect, the same request bytes echoed,
  close). Memory: a fresh server per round is warmed with a few hundred connections, measured after forced GC
  (\`--expose-gc\`, asked over IPC by bench/servers/probe.js, preloaded in every server), then holds N idle upgraded
  connections and is measured again; RSS and V8 heapUsed deltas divided by N.
- **Compressed echo.** \`bench/compression.js\`: permessage-deflate on at both ends. The load generator is ws's
  client with \`perMessageDeflate\` for every server (bench/lib/loadgen-ws.js), 10 connections each keeping a window of
  messages in flight (32 of 1 KiB, 8 of 16 KiB); the messages are chat-like JSON text, a rotation of distinct ones
  (256 KiB of them, past deflate's 32 KiB window). Servers: ours with \`perMessageDeflate: true\` (memory-bounded: no
  context takeover either way), ours with context takeover both ways, ws with \`perMessageDeflate: true\` (context
  takeover both ways); and our two modes again with \`textAsBuffer: true\`, text handed to the echo as a Buffer as ws
  hands it (by default ours hands a string: the echo then decodes and re-encodes the UTF-8, work ws's echo does
  not do). Each must first echo the messages intact, agree to its mode's parameters and send compressed
  replies; every connection's agreement is checked again in every round. ws's client costs its core about as much as
  a server (figures marked ‡ are its limit), and with a synchronous server the two tend to take turns; so every case
  runs again with the load generator's own prebuilt compressed frames (each message compressed on its own, valid
  with or without context takeover; replies walked and their RSV1 counted, all must be compressed), which leave the
  server as the limit. Server CPU per message is the figure to compare in both.
- **Idle connections with compression and heartbeat.** The second table of \`bench/scale.js\`: the same method as the
  first, but the connections are ws clients (permessage-deflate offered, pings answered), each of which echoes one
  1 KiB JSON message before it idles (so that a connection with context takeover holds its zlib state, as a used one
  does), held 3 s before measuring; the heartbeat-1 s row must see every connection pinged. Every row's connections
  are checked to have agreed to its mode, or the row fails.
- **Broadcast.** \`bench/broadcast.js\`: a fresh server per round holds 200 clients that never read after their
  handshake (the load generator keeps their sockets paused) and one sender; each of the sender's 64 KiB messages is
  broadcast to the 200 (ours: \`server.broadcast()\`; ws: its documented loop over \`wss.clients\`). On loopback the
  kernel takes about 4 MB per connection before anything queues in the server, so the sender sends enough for both to
  queue well past that. Once the server has broadcast them all and its queues stopped changing, it is measured after
  forced GC: RSS and ArrayBuffer memory deltas per recipient (a frame shared by all recipients is held once), bytes
  queued per recipient (bufferedAmount: a shared frame counts for each), the largest queue, recipients still open.
- **Registration path.** \`bench/registration.js\`: our \`simpatico-ws serve\` (RegistrationHub; rate, burst,
  fan-out, refusal and connection limits far above the load, heartbeat off) and the same routing written on ws
  the obvious way (bench/servers/ws-registration.js: a challenge nonce, the answer's Ed25519 signature checked
  with node:crypto, a Map from key to socket, \`from\` stamped, broadcast as a loop over the map), both pinned to
  CPU 0, one load generator on CPU 1 driving both with our \`connectAndRegister\` client and the same code.
  Direct: 10 sender/receiver pairs, 64 messages in flight per sender, every delivery's \`from\` checked; broadcast:
  one of the 20 clients broadcasts to the other 19, 32 broadcasts in flight; latency is send → delivery, both
  in the load generator; registrations: connect, challenge, signed answer, accepted, close, 10 at a time (the key
  pair and signature made in the load generator, the same for both). Rounds alternate the two servers, after an
  unrecorded warm-up of each; the server's CPU time per message is read from /proc around each case.
- **Rounds.** Every figure is the median of several rounds, shown with its min–max. Servers are interleaved within
  each round, and the order rotates from round to round, so that noise on a shared machine falls on all of them
  alike. Ratios are the simpatico-ws median over the reference's median from the same run ("lower is better"
  figures: a ratio below 1 favours simpatico-ws).`;

/** Rewrite BENCHMARKS.md from everything in latest.json. @param {any} all */
export function writeBenchmarksMd(all) {
  let notes = '';
  try {
    const old = fs.readFileSync(BENCHMARKS_MD, 'utf8');
    const a = old.indexOf(NOTES_START);
    const b = old.indexOf(NOTES_END);
    if (a >= 0 && b > a) notes = old.slice(a + NOTES_START.length, b).trim();
  } catch {
    // no previous file
  }
  const m = all.machine ?? machine();
  currentMachine = m;
  const charts = writeCharts(all, TARGETS);
  /** The chart of a table, below it, if there is one. @param {string} name @param {string} alt */
  const chart = (name, alt) => (charts[name] ? [`![${alt}](${charts[name]})`, ''] : []);
  const out = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (or `bench:codec`, `bench:e2e`, `bench:scale`, `bench:compression`, `bench:broadcast`, `bench:registration`, `bench:cluster`',
    'for one part) from',
    '`bench/results/latest.json`; only the Notes section is written by hand. Numbers depend on the machine and on',
    'what else it is doing: compare columns within one run, not with other machines.',
    '',
    `Machine (of the latest part; a section run elsewhere says so): ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (V8 ${m.v8}), ${m.os}.`,
    '',
  ];
  /** @type {Figure[]} */
  const figures = [
    ...(all.e2e?.figures ?? []),
    ...(all.scale?.figures ?? []),
    ...(all.scale?.variants?.figures ?? []),
    ...(all.compression?.figures ?? []),
    ...(all.registration?.figures ?? []),
  ];
  if (figures.length) out.push('## Targets', '', renderTargets(figures), '');
  if (all.e2e) {
    out.push('## End to end', '', runLine(all.e2e), '', renderTable(all.e2e.figures, all.e2e.servers), '');
    out.push(...chart('e2e', 'End to end: ratios to ws, ws pure JS and raw TCP'));
    const errs = renderErrors(all.e2e.figures);
    if (errs) out.push('Failures:', '', errs, '');
    const crashes = (all.e2e.servers ?? []).flatMap((/** @type {ServerEntry} */ e) => (e.crashes ?? []).map((x) => `- ${e.label} exited ${x}`));
    if (crashes.length) out.push('Server crashes (each server was started again):', '', ...crashes, '');
    const cpu = renderCpuTable(all.e2e.figures, all.e2e.servers);
    if (cpu) out.push(CPU_CAPTION, '', cpu, '');
  }
  if (all.scale) {
    out.push('## Memory per idle connection', '', `${runLine(all.scale)} · ${all.scale.connections} connections`, '');
    out.push(renderTable(all.scale.figures, all.scale.servers), '');
    out.push(...chart('scale', 'Memory per idle connection: ratios to ws, ws pure JS and raw TCP'));
    const errs = renderErrors(all.scale.figures);
    if (errs) out.push('Failures:', '', errs, '');
    const v = all.scale.variants;
    if (v) {
      out.push(`### Compression and heartbeat, at ${v.connections} connections`, '', v.caption, '', renderTable(v.figures, v.servers, v.pairs), '');
      out.push(...chart('scale-variants', 'Idle connections with compression and heartbeat: ratios of the pairs'));
      const verrs = renderErrors(v.figures);
      if (verrs) out.push('Failures:', '', verrs, '');
      if (v.notes?.length) out.push(...v.notes.map((/** @type {string} */ n) => `- ${n}`), '');
    }
  }
  if (all.compression) {
    const c = all.compression;
    out.push('## Compressed echo (permessage-deflate)', '', `${runLine(c)} · ${c.connections} connections · ws's client with permessage-deflate for every server`, '');
    out.push(renderTable(c.figures, c.servers, c.pairs), '');
    out.push(...chart('compression', 'Compressed echo: ratios of our modes to ws'));
    const errs = renderErrors(c.figures);
    if (errs) out.push('Failures:', '', errs, '');
    const cpu = renderCpuTable(c.figures, c.servers);
    if (cpu) out.push(CPU_CAPTION, '', cpu, '');
  }
  if (all.broadcast) {
    const b = all.broadcast;
    out.push('## Broadcast to clients that never read', '', `${runLine(b)} · ${b.messages} × ${b.size / 1024} KiB to ${b.recipients} recipients`, '');
    out.push(renderTable(b.figures, b.servers), '');
    out.push(...chart('broadcast', 'Broadcast: ratios to ws'));
    const errs = renderErrors(b.figures);
    if (errs) out.push('Failures:', '', errs, '');
    if (b.closes) out.push(b.closes, '');
  }
  if (all.registration) {
    const r = all.registration;
    out.push(
      '## Registration path',
      '',
      `${runLine(r)} · our RegistrationHub (\`simpatico-ws serve\`, limits far above the load, heartbeat off) against the same routing on ws (bench/servers/ws-registration.js)`,
      '',
      renderTable(r.figures, r.servers),
      '',
      ...chart('registration', 'Registration path: ratios to the ws version'),
    );
    const errs = renderErrors(r.figures);
    if (errs) out.push('Failures:', '', errs, '');
    const cpu = renderCpuTable(r.figures, r.servers);
    if (cpu) out.push(CPU_CAPTION, '', cpu, '');
  }
  if (all.cluster) {
    out.push('## Many nodes', '', `${all.cluster.date} · output of \`node bench/cluster.js\`${elsewhere(all.cluster, m)}`, '', all.cluster.output.trim().replace(/^## Many nodes: /, ''), '');
  }
  if (all.codec) {
    out.push('## Codec', '', `${all.codec.date} · output of \`node bench/codec.js\`${elsewhere(all.codec, m)}`, '', all.codec.output.trim(), '');
    out.push(...chart('codec', 'Codec: ratios to ws pure JS and ws native'), ...chart('codec-2', 'Codec: binary decode as a fraction of the XOR loop'));
  }
  out.push('## Notes', '', NOTES_START, notes, NOTES_END, '', METHOD, '');
  fs.writeFileSync(BENCHMARKS_MD, out.join('\n'));
}
