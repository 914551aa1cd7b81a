// Compressed echo throughput (issue 13): permessage-deflate (RFC 7692) on at both ends, side by side
// with ws in the same run.
//
//   npm run bench:compression      (builds, then runs this file; BENCH_QUICK=1 for a smoke run)
//
// Servers: simpatico-ws with `perMessageDeflate: true` (the memory-bounded mode: no context takeover
// either way; `simpatico-ws echo --permessage-deflate`), simpatico-ws with context takeover both ways
// (bench/servers/simpatico-echo.js), both again with `textAsBuffer: true` (text handed to the echo as a
// Buffer, as ws hands it, so that the echo does no UTF-8 decoding and re-encoding that ws's does not
// do), and ws with `perMessageDeflate: true` (context takeover both
// ways, its default). The load generator is ws's client with permessage-deflate for every server
// (bench/lib/loadgen-ws.js), so the client side is the same whichever server it measures: it
// compresses what it sends and inflates what comes back; and, since that client costs its core about as
// much as a server, again with the load generator's own prebuilt compressed frames (each message
// compressed on its own, valid under any agreement; replies walked, their RSV1 counted), which leave
// the server as the limit. Messages are chat-like JSON text of 1 KiB
// and 16 KiB (bench/lib/codec-workloads.js), distinct ones in rotation. Before it is measured, each
// server must echo them intact, agree to the extension with the parameters of its mode and send its
// replies compressed (fewer bytes on the wire than in the payload), or the run fails.
//
// Figures, medians of rounds (servers rotating within each round): messages/s, the server's CPU time
// per message (µs; the figure to trust on a busy machine), and bytes on the wire per reply; each with
// its ratio to ws from the same run. Stores the "compression" section of bench/results/latest.json and
// regenerates BENCHMARKS.md.
import { loadConfig } from './lib/config.js';
import { VARIANT_DEFS, cpuSeconds, runLoadgen, serverAvailable, startServer } from './lib/processes.js';
import { CPU_CAPTION, figure, renderCpuTable, renderErrors, renderTable, renderTargets, saveSection, writeBenchmarksMd } from './lib/report.js';
import { summarize } from './lib/stats.js';

const cfg = loadConfig();
const SERVERS = ['simpatico-deflate', 'simpatico-takeover', 'simpatico-deflate-tab', 'simpatico-takeover-tab', 'ws-deflate'];
const DEFS = SERVERS.map((id) => /** @type {import('./lib/processes.js').ServerDef} */ (VARIANT_DEFS.find((d) => d.id === id)));
const PAIRS = [
  { subject: 'simpatico-deflate', ref: 'ws-deflate' },
  { subject: 'simpatico-takeover', ref: 'ws-deflate' },
  { subject: 'simpatico-deflate-tab', ref: 'ws-deflate' },
  { subject: 'simpatico-takeover-tab', ref: 'ws-deflate' },
];
const CONNECTIONS = 10;
/**
 * In flight per connection: enough to keep a server busy (ws's zlib queue included), ~128 KiB.
 * client 'ws': ws's client compresses each message and inflates each reply, as an application would;
 * it costs its core about as much as the server, so these rows are often the client's limit.
 * client 'frames': the load generator's own prebuilt compressed frames (bench/lib/wire.js), replies
 * walked, not inflated: the client costs next to nothing, and the rows show what the server itself can do.
 */
const CASES = [
  { id: '1024-10', client: 'ws', size: 1024, window: 32, label: `1 KiB JSON × ${CONNECTIONS} conn, ws client` },
  { id: '16384-10', client: 'ws', size: 16384, window: 8, label: `16 KiB JSON × ${CONNECTIONS} conn, ws client` },
  { id: '1024-10-frames', client: 'frames', size: 1024, window: 32, label: `1 KiB JSON × ${CONNECTIONS} conn, prebuilt frames` },
  { id: '16384-10-frames', client: 'frames', size: 16384, window: 8, label: `16 KiB JSON × ${CONNECTIONS} conn, prebuilt frames` },
];

/**
 * What each server must have agreed to (RFC 7692 §7.1.1): both no_context_takeover parameters in the
 * memory-bounded mode, neither with context takeover.
 * @type {Record<string, (ext: string) => boolean>}
 */
const AGREED = {
  'simpatico-deflate': (e) => /^permessage-deflate\b/.test(e) && /server_no_context_takeover/.test(e) && /client_no_context_takeover/.test(e),
  'simpatico-takeover': (e) => /^permessage-deflate\b/.test(e) && !/no_context_takeover/.test(e),
  'simpatico-deflate-tab': (e) => /^permessage-deflate\b/.test(e) && /server_no_context_takeover/.test(e) && /client_no_context_takeover/.test(e),
  'simpatico-takeover-tab': (e) => /^permessage-deflate\b/.test(e) && !/no_context_takeover/.test(e),
  'ws-deflate': (e) => /^permessage-deflate\b/.test(e) && !/no_context_takeover/.test(e),
};

/** @param {unknown[]} list @param {number} r */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

async function main() {
  const started = Date.now();
  /** @type {import('./lib/report.js').ServerEntry[]} */
  const entries = [];
  /** @type {import('./lib/processes.js').RunningServer[]} */
  const running = [];
  let failures = 0;
  for (const def of DEFS) {
    if (!serverAvailable(def)) {
      console.error(`# ${def.label}: ${def.script} not found (run npm run build); skipped`);
      entries.push({ id: def.id, label: def.label, available: false, error: `${def.script} not found` });
      failures++;
      continue;
    }
    const s = await startServer(def, cfg);
    const check = await runLoadgen({ mode: 'ws-verify', host: s.host, port: s.port, sizes: CASES.map((c) => c.size), durationMs: 0 }, { pin: null });
    const problem = check.error ?? (!AGREED[def.id](check.extensions) ? `agreed to '${check.extensions}', not what its mode must answer` : null) ??
      (!(check.replyWireRatio < 0.9) ? `replies are not compressed (${check.replyWireRatio?.toFixed(2)} wire bytes per payload byte)` : null);
    if (problem) {
      // A server that does not compress as configured would make every figure of this table meaningless.
      console.error(`# ${def.label}: self-check failed: ${problem}`);
      entries.push({ id: def.id, label: def.label, available: false, error: problem });
      failures++;
      await s.stop();
      continue;
    }
    running.push(s);
    entries.push({ id: def.id, label: def.label, available: true, info: { extensions: check.extensions, replyWireRatio: check.replyWireRatio } });
    console.error(`# ${def.label}: ${s.url} pid ${s.pid}; agreed '${check.extensions}'; replies ${(check.replyWireRatio * 100).toFixed(0)}% of their payload on the wire`);
  }
  console.error(
    `# ${cfg.quick ? 'quick' : 'full'} run: ${cfg.rounds} rounds, ${cfg.warmupMs} ms warm-up + ${cfg.durationMs} ms measured, ` +
      (cfg.pin ? `server on CPU ${cfg.pin.server}, load generator on CPU ${cfg.pin.loadgen}` : 'not pinned'),
  );

  /** @type {Record<string, Record<string, any[]>>} */
  const raw = {};
  try {
    for (const c of CASES) {
      raw[c.id] = Object.fromEntries(running.map((s) => [s.def.id, []]));
      for (let r = 0; r < cfg.rounds; r++) {
        for (const s of /** @type {typeof running} */ (rotate(running, r))) {
          if (s.exited()) {
            raw[c.id][s.def.id].push({ error: `server exited (${JSON.stringify(s.exitStatus())})` });
            continue;
          }
          /** @type {Record<string, number | null>} */
          const cpuAt = {};
          const mode = c.client === 'ws' ? { mode: 'ws-throughput' } : { mode: 'throughput', deflate: true, raw: false };
          const res = await runLoadgen(
            { ...mode, host: s.host, port: s.port, connections: CONNECTIONS, size: c.size, window: c.window, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs },
            cfg,
            (phase) => {
              cpuAt[phase] = cpuSeconds(s.pid);
              cpuAt[`${phase}Wall`] = performance.now();
            },
          );
          if (!res.error) {
            const agreed = Object.keys(res.extensions ?? {});
            if (agreed.length !== 1 || !AGREED[s.def.id](agreed[0])) res.error = `connections agreed to ${JSON.stringify(res.extensions)}`;
            // The frames client walks the replies: every one must have come compressed (RSV1).
            else if (c.client === 'frames' && !(res.compressedShare >= 0.99)) res.error = `only ${(res.compressedShare * 100).toFixed(0)}% of the replies were compressed`;
          }
          if (!res.error && cpuAt.start != null && cpuAt.end != null && cpuAt.endWall != null && cpuAt.startWall != null) {
            res.serverCpu = (cpuAt.end - cpuAt.start) / ((cpuAt.endWall - cpuAt.startWall) / 1000);
            res.serverUsPerOp = ((cpuAt.end - cpuAt.start) * 1e6) / res.messages;
          }
          raw[c.id][s.def.id].push(res);
          if (res.error) {
            failures++;
            console.error(`# ${c.label}, ${s.def.label}, round ${r + 1}: ${res.error}`);
          }
        }
      }
      console.error(`# done: ${c.label} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  } finally {
    for (const s of running) await s.stop();
  }

  const figures = buildFigures(raw);
  console.log(renderTable(figures, entries, PAIRS));
  const errs = renderErrors(figures);
  if (errs) console.log(`\nFailures:\n${errs}`);
  console.log(`\n${CPU_CAPTION}\n\n${renderCpuTable(figures, entries)}`);
  console.log(`\n${renderTargets(figures)}`);
  if (cfg.write) {
    const section = {
      date: new Date().toISOString(),
      quick: cfg.quick,
      rounds: cfg.rounds,
      warmupMs: cfg.warmupMs,
      durationMs: cfg.durationMs,
      pinned: cfg.pin,
      connections: CONNECTIONS,
      pairs: PAIRS,
      seconds: Math.round((Date.now() - started) / 1000),
      servers: entries,
      cases: CASES,
      figures,
      raw,
    };
    writeBenchmarksMd(saveSection('compression', section));
    console.error('# wrote bench/results/latest.json and BENCHMARKS.md');
  }
  if (failures) process.exitCode = 1;
}

/** @param {Record<string, Record<string, any[]>>} raw */
function buildFigures(raw) {
  /** @type {import('./lib/report.js').Figure[]} */
  const figures = [];
  for (const c of CASES) {
    /** @param {(r: any) => number} pick */
    const per = (pick) => Object.fromEntries(Object.entries(raw[c.id] ?? {}).map(([id, list]) => [id, list.map((r) => (r.error ? r.error : pick(r)))]));
    const cpu = Object.fromEntries(
      Object.entries(raw[c.id] ?? {}).map(([id, list]) => {
        const ok = list.filter((r) => !r.error);
        const med = (/** @type {string} */ k) => {
          const xs = ok.map((r) => r[k]).filter((x) => x != null);
          return xs.length ? summarize(xs).median : null;
        };
        return [id, { server: med('serverCpu'), loadgen: med('loadgenCpu'), serverUsPerOp: med('serverUsPerOp') }];
      }),
    );
    figures.push({ ...figure({ group: 'compression', id: `deflate-msgs-${c.id}`, label: c.label, unit: 'msg/s', better: 'higher' }, per((r) => r.msgsPerSec)), cpu });
    figures.push({
      ...figure({ group: 'compression', id: `deflate-cpu-${c.id}`, label: `${c.label}, server CPU per message`, unit: 'µs', better: 'lower' }, per((r) => r.serverUsPerOp)),
    });
    if (c.client === 'ws') {
      figures.push(
        figure({ group: 'compression', id: `deflate-wire-${c.id}`, label: `${c.label}, bytes on the wire per reply`, unit: 'B', better: 'lower' }, per((r) => r.wireInPerMsg)),
      );
    }
  }
  return figures;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
