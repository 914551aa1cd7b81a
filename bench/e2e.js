// End-to-end benchmark: throughput, latency and handshakes of echo servers, side by side in one run.
//
//   npm run bench:e2e              (builds, then runs this file; BENCH_QUICK=1 for a smoke run)
//
// All servers start once and stay up; for each case, each round runs every server in turn (order
// rotating between rounds), each measurement a fresh load-generator process. Prints a markdown table,
// stores bench/results/latest.json (section "e2e") and regenerates BENCHMARKS.md. See lib/config.js
// for the settings and BENCHMARKS.md for the method.
import { loadConfig } from './lib/config.js';
import { SERVER_DEFS, cpuSeconds, runLoadgen, serverAvailable, setAffinity, startServer } from './lib/processes.js';
import { CPU_CAPTION, figure, renderCpuTable, renderErrors, renderTable, renderTargets, saveSection, writeBenchmarksMd } from './lib/report.js';
import { summarize } from './lib/stats.js';

const cfg = loadConfig();

/** The in-flight window per connection: deep enough to keep a server busy, bounded in bytes (≤ 512 KiB). */
const windowFor = (/** @type {number} */ size) => Math.max(8, Math.min(128, Math.floor((512 * 1024) / size)));

/**
 * cpuBound: the case keeps a process busy, so with BENCH_PIN=auto the server and the load generator
 * get a core each; the others are ping-pong (one operation in flight) and run unpinned.
 * @typedef {{ id: string, kind: 'throughput' | 'latency' | 'handshake', label: string, job: any, cpuBound: boolean }} Case
 */
/** @type {Case[]} */
const CASES = [];
for (const size of [64, 16384]) {
  for (const connections of [1, 10, 100]) {
    const sizeLabel = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
    CASES.push({
      id: `${size}-${connections}`,
      kind: 'throughput',
      label: `${sizeLabel} × ${connections} conn`,
      job: { mode: 'throughput', size, connections, window: windowFor(size) },
      cpuBound: true,
    });
  }
}
CASES.push({ id: 'latency', kind: 'latency', label: 'ping-pong 64 B', job: { mode: 'latency', size: 64 }, cpuBound: false });
CASES.push({
  id: 'handshakes-seq',
  kind: 'handshake',
  label: 'handshakes, sequential',
  job: { mode: 'handshake', concurrency: 1 },
  cpuBound: false,
});
CASES.push({
  id: 'handshakes-50',
  kind: 'handshake',
  label: 'handshakes, 50 concurrent',
  job: { mode: 'handshake', concurrency: 50 },
  cpuBound: true,
});

if (cfg.cases) {
  const unknown = cfg.cases.filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length) throw new RangeError(`BENCH_CASES: unknown ${unknown.join(', ')}; known: ${CASES.map((c) => c.id).join(', ')}`);
  CASES.splice(0, CASES.length, ...CASES.filter((c) => cfg.cases?.includes(c.id)));
}

/** @param {unknown[]} list @param {number} r */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

async function main() {
  const started = Date.now();
  const defs = SERVER_DEFS.filter((d) => cfg.servers.includes(d.id));
  /** @type {import('./lib/report.js').ServerEntry[]} */
  const entries = [];
  /** @type {import('./lib/processes.js').RunningServer[]} */
  const running = [];
  for (const def of defs) {
    if (!serverAvailable(def)) {
      console.error(`# ${def.label}: ${def.script} not found (run npm run build); skipped`);
      entries.push({ id: def.id, label: def.label, available: false, error: `${def.script} not found` });
      continue;
    }
    try {
      const s = await startServer(def, cfg);
      const mem = await s.memory();
      // A server that does not echo correctly is not benchmarked: its figures would mean nothing.
      const check = await runLoadgen({ mode: 'verify', host: s.host, port: s.port, raw: def.raw, durationMs: 0 }, { pin: null });
      if (check.error) {
        await s.stop();
        throw new Error(`does not echo correctly: ${check.error}`);
      }
      running.push(s);
      entries.push({ id: def.id, label: def.label, available: true, info: mem.info });
      console.error(`# ${def.label}: ${s.url} pid ${s.pid}${mem.info ? ' ' + JSON.stringify(mem.info) : ''}`);
    } catch (err) {
      console.error(`# ${def.label}: failed to start: ${/** @type {Error} */ (err).message}`);
      entries.push({ id: def.id, label: def.label, available: false, error: String(/** @type {Error} */ (err).message) });
    }
  }
  console.error(
    `# ${cfg.quick ? 'quick' : 'full'} run: ${cfg.rounds} rounds, ${cfg.warmupMs} ms warm-up + ${cfg.durationMs} ms measured, ` +
      (cfg.pin
        ? `server on CPU ${cfg.pin.server}, load generator on CPU ${cfg.pin.loadgen}${cfg.pinAll ? '' : ' in the CPU-bound cases'}`
        : 'not pinned'),
  );

  /** @type {Record<string, Record<string, any[]>>} per case, per server, the per-round loadgen results */
  const raw = {};
  try {
    for (const c of CASES) {
      raw[c.id] = Object.fromEntries(running.map((s) => [s.def.id, []]));
      // A server that died in an earlier case is started again, so that one crash costs one case, not the
      // rest of the run; the crash stays visible as failed rounds and in the server's entry.
      for (let i = 0; i < running.length; i++) {
        if (!running[i].exited()) continue;
        const dead = running[i];
        const entry = entries.find((e) => e.id === dead.def.id);
        const st = dead.exitStatus();
        const tail = dead.stderr().trim().split('\n').slice(-3).join(' ');
        const why = `code ${st?.code}, signal ${st?.signal}${tail ? `; ${tail}` : ''}`;
        if (entry) (entry.crashes ??= []).push(`before "${c.label}": ${why}`);
        console.error(`# ${dead.def.label} had exited (${why}); starting it again`);
        try {
          running[i] = await startServer(dead.def, cfg);
        } catch (err) {
          console.error(`# ${dead.def.label}: restart failed: ${/** @type {Error} */ (err).message}`);
        }
      }
      const pin = cfg.pin && (cfg.pinAll || c.cpuBound) ? cfg.pin : null;
      for (const s of running) {
        try {
          if (cfg.pin && !s.exited()) setAffinity(s.pid, pin ? pin.server : cfg.allCpus);
        } catch {
          // it exited just now: its rounds will say so
        }
      }
      for (let r = 0; r < cfg.rounds; r++) {
        for (const s of /** @type {typeof running} */ (rotate(running, r))) {
          if (s.exited()) {
            const st = s.exitStatus();
            raw[c.id][s.def.id].push({ error: `server exited (code ${st?.code}, signal ${st?.signal})` });
            continue;
          }
          /** @type {Record<string, number | null>} */
          const cpuAt = {};
          const res = await runLoadgen(
            { ...c.job, host: s.host, port: s.port, raw: s.def.raw, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs },
            { pin },
            (phase) => {
              cpuAt[phase] = cpuSeconds(s.pid);
              cpuAt[`${phase}Wall`] = performance.now();
            },
          );
          if (cpuAt.start != null && cpuAt.end != null && cpuAt.endWall != null && cpuAt.startWall != null) {
            res.serverCpu = (cpuAt.end - cpuAt.start) / ((cpuAt.endWall - cpuAt.startWall) / 1000);
            // Server CPU time per operation: unlike rates, it barely moves when other processes take the
            // machine's cores, so it is the figure to trust on a busy machine.
            const ops = res.messages ?? res.handshakes ?? res.samples;
            if (ops) res.serverUsPerOp = ((cpuAt.end - cpuAt.start) * 1e6) / ops;
          }
          raw[c.id][s.def.id].push(res);
          if (res.error) console.error(`# ${c.label}, ${s.def.label}, round ${r + 1}: ${res.error}`);
        }
      }
      console.error(`# done: ${c.label} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  } finally {
    for (const s of running) {
      const exit = await s.stop();
      const e = entries.find((x) => x.id === s.def.id);
      if (e) e.exit = exit;
      if (!exit.clean) console.error(`# ${s.def.label} did not exit cleanly on SIGTERM: ${JSON.stringify(exit)}`);
    }
  }

  const figures = buildFigures(raw);
  const section = {
    date: new Date().toISOString(),
    quick: cfg.quick,
    rounds: cfg.rounds,
    warmupMs: cfg.warmupMs,
    durationMs: cfg.durationMs,
    pinned: cfg.pin,
    pinAll: cfg.pinAll,
    seconds: Math.round((Date.now() - started) / 1000),
    servers: entries,
    cases: CASES.map((c) => ({ id: c.id, label: c.label, job: c.job, pinned: !!cfg.pin && (cfg.pinAll || c.cpuBound) })),
    figures,
    raw,
  };
  console.log(renderTable(figures, entries));
  const errs = renderErrors(figures);
  if (errs) console.log(`\nFailures:\n${errs}`);
  for (const e of entries) for (const x of e.crashes ?? []) console.log(`${e.label} exited ${x}`);
  console.log(`\n${CPU_CAPTION}\n\n${renderCpuTable(figures, entries)}`);
  if (entries.some((e) => e.id === 'simpatico' && e.available)) console.log(`\n${renderTargets(figures)}`);
  if (cfg.write) {
    writeBenchmarksMd(saveSection('e2e', section));
    console.error('# wrote bench/results/latest.json and BENCHMARKS.md');
  }
}

/** @param {Record<string, Record<string, any[]>>} raw */
function buildFigures(raw) {
  /** @type {import('./lib/report.js').Figure[]} */
  const figures = [];
  /** @param {Case} c @param {(r: any) => number} pick */
  const per = (c, pick) =>
    Object.fromEntries(Object.entries(raw[c.id] ?? {}).map(([id, list]) => [id, list.map((r) => (r.error ? r.error : pick(r)))]));
  /** @param {Case} c */
  const cpu = (c) =>
    Object.fromEntries(
      Object.entries(raw[c.id] ?? {}).map(([id, list]) => {
        const ok = list.filter((r) => !r.error);
        const med = (/** @type {number[]} */ xs) => (xs.length ? summarize(xs).median : null);
        const pick = (/** @type {string} */ k) => med(ok.map((r) => r[k]).filter((x) => x != null));
        return [id, { server: pick('serverCpu'), loadgen: pick('loadgenCpu'), serverUsPerOp: pick('serverUsPerOp') }];
      }),
    );
  for (const c of CASES) {
    if (c.kind === 'throughput') {
      const base = { group: 'throughput', better: /** @type {const} */ ('higher') };
      figures.push({ ...figure({ ...base, id: `msgs-${c.id}`, label: `${c.label}`, unit: 'msg/s' }, per(c, (r) => r.msgsPerSec)), cpu: cpu(c) });
      figures.push({ ...figure({ ...base, id: `mbps-${c.id}`, label: `${c.label}`, unit: 'MB/s' }, per(c, (r) => r.mbPerSec)), cpu: cpu(c), cpuShared: true });
    } else if (c.kind === 'latency') {
      const base = { group: 'latency', better: /** @type {const} */ ('lower'), unit: 'µs' };
      figures.push({ ...figure({ ...base, id: 'latency-p50', label: `p50 ${c.label}` }, per(c, (r) => r.p50)), cpu: cpu(c) });
      figures.push({ ...figure({ ...base, id: 'latency-p99', label: `p99 ${c.label}` }, per(c, (r) => r.p99)), cpu: cpu(c), cpuShared: true });
    } else {
      const f = figure({ group: 'handshake', better: 'higher', unit: '/s', id: c.id, label: c.label }, per(c, (r) => r.perSec));
      figures.push({ ...f, cpu: cpu(c) });
    }
  }
  return figures;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
