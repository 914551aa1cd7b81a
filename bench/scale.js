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
import os from 'node:os';
import { SERVER_DEFS, VARIANT_DEFS, childFdLimit, holdLoadgen, serverAvailable, startServer } from './lib/processes.js';
import { figure, renderErrors, renderTable, renderTargets, saveSection, writeBenchmarksMd } from './lib/report.js';

const cfg = loadConfig();
const WARM_CONNECTIONS = 500;
/** Linux gives each local address its own ephemeral ports once a socket is bound; beyond this many
 * connections the load generator spreads them over 127.0.0.1, 127.0.0.2, … (all loopback). */
const PER_SOURCE_ADDRESS = 20_000;

/**
 * The second table (issues 12 and 13): idle connections held by ws's client, which offers
 * permessage-deflate and answers pings by itself, each after echoing one 1 KiB JSON message (so that
 * a connection with context takeover holds its zlib state, as a used connection does). Every server
 * of the table meets this same client, the defaults of the first table included.
 * BENCH_SCALE_VARIANTS=0 leaves it out; BENCH_VARIANTS=a,b keeps a subset of its servers; BENCH_IDLE_EXCHANGE=0
 * measures connections that never sent a message.
 */
const VARIANTS = process.env.BENCH_VARIANTS?.split(',').map((v) => v.trim()).filter(Boolean) ?? [
  'simpatico',
  'simpatico-hb-off',
  'simpatico-hb-1s',
  'simpatico-deflate',
  'simpatico-takeover',
  'ws',
  'ws-deflate',
];
const VARIANT_PAIRS = [
  { subject: 'simpatico', ref: 'ws' },
  { subject: 'simpatico-hb-off', ref: 'ws' },
  { subject: 'simpatico-hb-1s', ref: 'ws' },
  { subject: 'simpatico-deflate', ref: 'ws-deflate' },
  { subject: 'simpatico-takeover', ref: 'ws-deflate' },
  { subject: 'simpatico-deflate', ref: 'simpatico' },
];
/** The message each connection echoes before it idles (BENCH_IDLE_EXCHANGE bytes; 0: none). */
const EXCHANGE = Number(process.env.BENCH_IDLE_EXCHANGE ?? 1024);
/**
 * Held this long after the last connection echoed its message before measuring. With a 1 s heartbeat,
 * pings flow meanwhile: a connection heard from within an interval is pinged at the end of the next
 * one (src/driver.ts), so 2 s after its message, plus up to one sweep tick (250 ms).
 */
const SETTLE_MS = 3000;
/** Connections of the second table in a quick run (a smoke run: 7 servers × 3 rounds). */
const QUICK_VARIANT_CONNECTIONS = 1000;
/**
 * What each server must have agreed to with ws's client (the 101's Sec-WebSocket-Extensions, RFC 7692
 * §7.1.1), or the row measures something else: checked on every held connection.
 * @type {Record<string, (ext: string) => boolean>}
 */
const AGREED = {
  simpatico: (e) => e === '',
  'simpatico-hb-off': (e) => e === '',
  'simpatico-hb-1s': (e) => e === '',
  ws: (e) => e === '',
  'simpatico-deflate': (e) => /^permessage-deflate\b/.test(e) && /server_no_context_takeover/.test(e) && /client_no_context_takeover/.test(e),
  'simpatico-takeover': (e) => /^permessage-deflate\b/.test(e) && !/no_context_takeover/.test(e),
  'ws-deflate': (e) => /^permessage-deflate\b/.test(e) && !/no_context_takeover/.test(e),
};
/** Memory a held connection with context takeover may cost, server and client together (zlib windows): for the free-memory check. */
const TAKEOVER_BYTES = 700 * 1024;

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
  const variantConnections = cfg.quick ? Math.min(connections, QUICK_VARIANT_CONNECTIONS) : connections;
  const variants = process.env.BENCH_SCALE_VARIANTS === '0' ? null : await runVariants(variantConnections, localAddresses, started);
  if (variants) {
    console.log(`\n${VARIANT_CAPTION}\n\n${renderTable(variants.figures, variants.servers, VARIANT_PAIRS)}`);
    const verrs = renderErrors(variants.figures);
    if (verrs) console.log(`\nFailures:\n${verrs}`);
    for (const n of variants.notes) console.log(`- ${n}`);
  }
  const allFigures = [...figures, ...(variants?.figures ?? [])];
  if (entries.some((e) => e.id === 'simpatico' && e.available)) console.log(`\n${renderTargets(allFigures)}`);
  if (variants && Object.values(variants.raw).flat().some((x) => x.error)) process.exitCode = 1;
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
      ...(variants && { variants }),
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
      ...perConnection(before, after, n),
    };
  } finally {
    await server.stop();
  }
}

export const VARIANT_CAPTION =
  "Through ws's client (permessage-deflate offered, pings answered), each connection idle after echoing one " +
  `${EXCHANGE ? `${EXCHANGE} B JSON message` : 'no message'}, held ${SETTLE_MS / 1000} s before measuring; every connection checked to have agreed to its mode.`;

/**
 * The second table: every variant, a fresh server per round, order rotating.
 * @param {number} connections
 * @param {string[]} localAddresses
 * @param {number} started
 */
async function runVariants(connections, localAddresses, started) {
  const unknown = VARIANTS.filter((id) => !AGREED[id]);
  if (unknown.length) throw new RangeError(`BENCH_VARIANTS: unknown ${unknown.join(', ')}; known: ${Object.keys(AGREED).join(', ')}`);
  const defs = VARIANTS.map((id) => /** @type {import('./lib/processes.js').ServerDef} */ ([...SERVER_DEFS, ...VARIANT_DEFS].find((d) => d.id === id)));
  const usable = defs.filter(serverAvailable);
  /** @type {string[]} */
  const notes = [];
  /** @type {Record<string, any[]>} */
  const raw = Object.fromEntries(usable.map((d) => [d.id, []]));
  for (let r = 0; r < cfg.scaleRounds; r++) {
    for (const def of /** @type {typeof usable} */ (rotate(usable, r))) {
      let n = connections;
      if (AGREED[def.id]('permessage-deflate') && os.freemem() < n * TAKEOVER_BYTES + 2 ** 31) {
        // Context takeover: zlib windows on both sides of every connection. Fewer, rather than swap or an OOM kill.
        n = Math.max(1000, Math.floor((os.freemem() - 2 ** 31) / TAKEOVER_BYTES));
        notes.push(`${def.label}, round ${r + 1}: ${n} connections, not ${connections}: ${Math.round(os.freemem() / 2 ** 20)} MiB free`);
      }
      /** @type {any} */
      const res = await measureVariant(def, n, localAddresses).catch((err) => ({ error: String(err?.message ?? err) }));
      raw[def.id].push(res);
      if (res.error) console.error(`# ${def.label}, round ${r + 1}: ${res.error}`);
    }
    console.error(`# done: variants, round ${r + 1} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  /** @param {(x: any) => number} pickFn */
  const per = (pickFn) => Object.fromEntries(Object.entries(raw).map(([id, list]) => [id, list.map((x) => (x.error ? x.error : pickFn(x)))]));
  const base = { group: 'memory', unit: 'bytes/conn', better: /** @type {const} */ ('lower') };
  const figures = [
    figure({ ...base, id: 'idle-rss', label: `RSS per idle connection at ${connections}, ws client` }, per((x) => x.rssPerConnection)),
    figure({ ...base, id: 'idle-heap', label: `V8 heap per idle connection at ${connections}, ws client` }, per((x) => x.heapPerConnection)),
    figure({ ...base, id: 'idle-external', label: 'External (Buffer, zlib) memory per idle connection' }, per((x) => x.externalPerConnection)),
    figure({ ...base, id: 'idle-pings', unit: 'pings/conn', better: /** @type {any} */ ('neither'), label: 'Pings answered per connection while held' }, per((x) => x.pings / x.connections)),
  ];
  /** @type {import('./lib/report.js').ServerEntry[]} */
  const servers = defs.map((d) => ({ id: d.id, label: d.label, available: usable.includes(d) }));
  return { connections, exchange: EXCHANGE, settleMs: SETTLE_MS, caption: VARIANT_CAPTION, pairs: VARIANT_PAIRS, servers, figures, notes, raw };
}

/**
 * One variant, one round: warmed, measured, made to hold `connections` ws clients that each echoed
 * one message, measured again once they have idled SETTLE_MS.
 * @param {import('./lib/processes.js').ServerDef} def
 * @param {number} connections
 * @param {string[]} localAddresses
 */
async function measureVariant(def, connections, localAddresses) {
  const server = await startServer(def, cfg);
  try {
    const job = { mode: 'ws-hold', host: server.host, port: server.port, concurrency: 128, exchange: EXCHANGE };
    const warm = await holdLoadgen({ ...job, connections: Math.min(cfg.quick ? 200 : WARM_CONNECTIONS, connections) }, cfg);
    const warmDone = await warm.close();
    if (warm.ready.error || warmDone.error) return { error: `warm-up: ${warm.ready.error ?? warmDone.error}` };
    await sleep(300);
    const before = await server.memory();
    const hold = await holdLoadgen({ ...job, connections, localAddresses }, cfg);
    if (hold.ready.error) return { error: hold.ready.error };
    const problem = hold.ready.failed
      ? `${hold.ready.failed} of ${connections} connections failed: ${hold.ready.firstError}`
      : hold.ready.exchangeFailed
        ? `${hold.ready.exchangeFailed} of ${connections} connections did not echo their message`
        : agreementProblem(def.id, hold.ready.extensions);
    if (problem) {
      await hold.close();
      // Loudly: a row whose connections did not negotiate as configured would measure something else.
      return { error: `self-check failed: ${problem}` };
    }
    await sleep(SETTLE_MS);
    const after = await server.memory();
    const done = await hold.close();
    const n = hold.ready.opened;
    if (done.error) return { error: done.error };
    if (done.survived < n) return { error: `${n - done.survived} of ${n} idle connections were closed while held` };
    // With a 1 s heartbeat, every connection went silent for more than 1 s: each must have been pinged.
    if (def.id === 'simpatico-hb-1s' && done.pinged < n) return { error: `self-check failed: only ${done.pinged} of ${n} connections were pinged` };
    if (server.exited()) return { error: `server exited: ${server.stderr().trim().split('\n').slice(-2).join(' ')}` };
    return {
      connections: n,
      openMs: hold.ready.openMs,
      extensions: hold.ready.extensions,
      pings: done.pings,
      pinged: done.pinged,
      gc: after.gc,
      before: pick(before),
      after: pick(after),
      ...perConnection(before, after, n),
    };
  } finally {
    await server.stop();
  }
}

/** @param {string} id @param {Record<string, number>} extensions how many connections agreed to each value */
function agreementProblem(id, extensions) {
  const values = Object.keys(extensions ?? {});
  const wrong = values.filter((v) => !AGREED[id](v));
  return wrong.length ? `connections agreed to ${JSON.stringify(extensions)}, not what this row's mode must answer` : null;
}

/** @param {import('./lib/processes.js').MemoryReport} m */
function pick(m) {
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/** What `n` connections cost each, between two readings of the server's memory. */
function perConnection(before, after, n) {
  return {
    rssPerConnection: (after.rss - before.rss) / n,
    heapPerConnection: (after.heapUsed - before.heapUsed) / n,
    externalPerConnection: (after.external - before.external) / n,
  };
}
