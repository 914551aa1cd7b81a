// Memory per idle connection: each server holding N open, upgraded, idle connections (default 10,000).
//
//   npm run bench:scale            (builds, then runs this file; BENCH_QUICK=1 for a smoke run)
//
// Per round and per server (order rotating between rounds), a FRESH server process is started and
// warmed with a few hundred connections opened and closed (so that lazily compiled code and
// one-time allocations are not charged to the connections), then measured after forced GC, then
// made to hold N connections from a load-generator process and measured again. The figures are the
// RSS and V8 heapUsed deltas divided by N. Stores the "scale" section of bench/results/latest.json
// and regenerates BENCHMARKS.md.
import { loadConfig } from './lib/config.js';
import { SERVER_DEFS, childFdLimit, holdLoadgen, serverAvailable, startServer } from './lib/processes.js';
import { figure, renderErrors, renderTable, renderTargets, saveSection, writeBenchmarksMd } from './lib/report.js';

const cfg = loadConfig();
const WARM_CONNECTIONS = 500;
/** Linux gives each local address its own ephemeral ports once a socket is bound; beyond this many
 * connections the load generator spreads them over 127.0.0.1, 127.0.0.2, … (all loopback). */
const PER_SOURCE_ADDRESS = 20_000;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/** @param {unknown[]} list @param {number} r */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

async function main() {
  const started = Date.now();
  const fdLimit = childFdLimit();
  let connections = cfg.idleConnections;
  /** @type {string[]} */
  const notes = [];
  // Each side holds one descriptor per connection, plus a few dozen of its own.
  if (Number.isFinite(fdLimit) && fdLimit < connections + 100) {
    notes.push(`file-descriptor limit ${fdLimit} (hard) is below ${connections} connections; measured ${fdLimit - 100} instead`);
    connections = fdLimit - 100;
  }
  const localAddresses =
    connections > PER_SOURCE_ADDRESS
      ? Array.from({ length: Math.ceil(connections / PER_SOURCE_ADDRESS) }, (_, i) => `127.0.0.${i + 1}`)
      : [];
  console.error(
    `# ${cfg.quick ? 'quick' : 'full'} run: ${cfg.scaleRounds} rounds × ${connections} idle connections, fd limit ${fdLimit}, ` +
      (cfg.pin ? `server on CPU ${cfg.pin.server}, load generator on CPU ${cfg.pin.loadgen}` : 'not pinned'),
  );
  for (const n of notes) console.error(`# ${n}`);

  const defs = SERVER_DEFS.filter((d) => cfg.servers.includes(d.id));
  /** @type {import('./lib/report.js').ServerEntry[]} */
  const entries = defs.map((d) => ({ id: d.id, label: d.label, available: serverAvailable(d) }));
  for (const e of entries) if (!e.available) console.error(`# ${e.label}: not built; skipped`);
  const usable = defs.filter((d) => entries.find((e) => e.id === d.id)?.available);

  /** @type {Record<string, any[]>} */
  const raw = Object.fromEntries(usable.map((d) => [d.id, []]));
  for (let r = 0; r < cfg.scaleRounds; r++) {
    for (const def of /** @type {typeof usable} */ (rotate(usable, r))) {
      /** @type {any} */
      const res = await measure(def, connections, localAddresses).catch((err) => ({ error: String(err?.message ?? err) }));
      raw[def.id].push(res);
      if (res.error) console.error(`# ${def.label}, round ${r + 1}: ${res.error}`);
      else if (res.info) {
        const e = entries.find((x) => x.id === def.id);
        if (e) e.info = res.info;
      }
    }
    console.error(`# done: round ${r + 1} (${Math.round((Date.now() - started) / 1000)} s)`);
  }

  /** @param {(x: any) => number} pick */
  const per = (pick) => Object.fromEntries(Object.entries(raw).map(([id, list]) => [id, list.map((x) => (x.error ? x.error : pick(x)))]));
  const base = { group: 'memory', unit: 'bytes/conn', better: /** @type {const} */ ('lower') };
  const figures = [
    figure({ ...base, id: 'memory-rss', label: `RSS per idle connection at ${connections}` }, per((x) => x.rssPerConnection)),
    figure({ ...base, id: 'memory-heap', label: `V8 heap per idle connection at ${connections}` }, per((x) => x.heapPerConnection)),
  ];
  console.log(renderTable(figures, entries));
  const errs = renderErrors(figures);
  if (errs) console.log(`\nFailures:\n${errs}`);
  if (entries.some((e) => e.id === 'simpatico' && e.available)) console.log(`\n${renderTargets(figures)}`);
  if (cfg.write) {
    const section = {
      date: new Date().toISOString(),
      quick: cfg.quick,
      rounds: cfg.scaleRounds,
      pinned: cfg.pin,
      connections,
      fdLimit,
      localAddresses,
      notes,
      seconds: Math.round((Date.now() - started) / 1000),
      servers: entries,
      figures,
      raw,
    };
    writeBenchmarksMd(saveSection('scale', section));
    console.error('# wrote bench/results/latest.json and BENCHMARKS.md');
  }
}

/**
 * One server, one round.
 * @param {import('./lib/processes.js').ServerDef} def
 * @param {number} connections
 * @param {string[]} localAddresses
 */
async function measure(def, connections, localAddresses) {
  const server = await startServer(def, cfg);
  try {
    const job = { host: server.host, port: server.port, raw: def.raw, concurrency: 256 };
    const warm = await holdLoadgen({ ...job, connections: Math.min(WARM_CONNECTIONS, connections) }, cfg);
    const warmDone = await warm.close();
    if (warm.ready.error || warmDone.error) return { error: `warm-up: ${warm.ready.error ?? warmDone.error}` };
    await sleep(300); // let the server see every close before the baseline
    const before = await server.memory();
    const hold = await holdLoadgen({ ...job, connections, localAddresses }, cfg);
    if (hold.ready.error) return { error: hold.ready.error };
    if (hold.ready.failed) {
      await hold.close();
      return { error: `${hold.ready.failed} of ${connections} connections failed: ${hold.ready.firstError}` };
    }
    await sleep(500); // the server may still be finishing the last handshakes
    const after = await server.memory();
    const done = await hold.close();
    const n = hold.ready.opened;
    if (done.survived !== undefined && done.survived < n) {
      return { error: `${n - done.survived} of ${n} idle connections were closed while held` };
    }
    if (server.exited()) return { error: `server exited: ${server.stderr().trim().split('\n').slice(-2).join(' ')}` };
    return {
      connections: n,
      openMs: hold.ready.openMs,
      gc: after.gc,
      info: after.info,
      before: pick(before),
      after: pick(after),
      rssPerConnection: (after.rss - before.rss) / n,
      heapPerConnection: (after.heapUsed - before.heapUsed) / n,
      externalPerConnection: (after.external - before.external) / n,
    };
  } finally {
    await server.stop();
  }
}

/** @param {import('./lib/processes.js').MemoryReport} m */
function pick(m) {
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
