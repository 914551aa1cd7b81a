// What an idle connection holds in the V8 heap, object by object: a server is warmed (as in
// bench/scale.js), snapshotted, made to hold N idle connections from the load generator, and
// snapshotted again; the table is the difference, grouped by the snapshot's node type and name
// (an object's constructor, a closure's function name), as count and shallow bytes per connection.
//
//   node bench/heap-census.js [SERVER] [N]     SERVER: simpatico (default), ws, ws-js, raw, or a
//                                              variant id of bench/lib/processes.js; N default 2000
//
// Needs dist/ (npm run build). Prints the table; writes nothing into the repository.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_DEFS, VARIANT_DEFS, ROOT, holdLoadgen, startServer } from './lib/processes.js';

const id = process.argv[2] ?? 'simpatico';
const connections = Number(process.argv[3] ?? 2000);
const def0 = [...SERVER_DEFS, ...VARIANT_DEFS].find((d) => d.id === id);
if (def0 === undefined) throw new RangeError(`unknown server ${id}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'census-'));
const probe = pathToFileURL(path.join(ROOT, 'bench/lib/census-probe.js')).href;
const def = { ...def0, env: { ...def0.env, CENSUS_DIR: dir, NODE_OPTIONS: `--import=${probe}` } };
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Signals the server and waits (bounded: 60 s) for its snapshot number `n`. */
async function snapshot(/** @type {number} */ pid, /** @type {number} */ n) {
  // The server runs under `bash -c … exec`, so the pid is node's own.
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600 && !fs.existsSync(path.join(dir, `${n}.done`)); i++) await sleep(100);
  if (!fs.existsSync(path.join(dir, `${n}.done`))) throw new Error(`no snapshot ${n} within 60 s`);
  return census(JSON.parse(fs.readFileSync(path.join(dir, `${n}.heapsnapshot`), 'utf8')));
}

/** Count and shallow size per "type name" of a snapshot. */
function census(/** @type {any} */ snap) {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const [T, N, S] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  /** @type {Map<string, { count: number, bytes: number }>} */
  const groups = new Map();
  let total = 0;
  const nodes = snap.nodes;
  const via = process.env.CENSUS_VIA === '1' ? retainers(snap) : undefined;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + T]];
    let name = snap.strings[nodes[i + N]];
    // Strings and numbers by type only: their names are their contents.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'bigint') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = via === undefined ? `${type}: ${name}` : `${type}: ${name} ← ${via[i / stride]}`;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + S];
    total += nodes[i + S];
    groups.set(key, g);
  }
  return { groups, total };
}

/**
 * CENSUS_VIA=1: for each node, what holds it (the first strong edge to it): "Parent.edge", so that
 * the rows say whose field an object is.
 */
function retainers(/** @type {any} */ snap) {
  const meta = snap.snapshot.meta;
  const stride = meta.node_fields.length;
  const estride = meta.edge_fields.length;
  const [ET, EN, ETO] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const etypes = meta.edge_types[0];
  const [N, EC] = ['name', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const nodes = snap.nodes;
  const edges = snap.edges;
  /** @type {string[]} */
  const out = new Array(nodes.length / stride).fill('');
  /** @type {Int32Array} */
  const parentOf = new Int32Array(nodes.length / stride).fill(-1);
  let e = 0;
  for (let i = 0; i < nodes.length; i += stride) {
    const parent = snap.strings[nodes[i + N]].slice(0, 30);
    for (let k = 0; k < nodes[i + EC]; k++, e += estride) {
      const type = etypes[edges[e + ET]];
      if (type === 'weak' || type === 'shortcut') continue;
      const child = edges[e + ETO] / stride;
      if (out[child] !== '') continue;
      const name = type === 'element' || type === 'hidden' ? `[${edges[e + EN]}]` : snap.strings[edges[e + EN]];
      out[child] = `${parent}.${name}`;
      parentOf[child] = i / stride;
    }
  }
  // CENSUS_DEPTH=n: the path of n retainers ("Grandparent.field ← Parent.field").
  const depth = Number(process.env.CENSUS_DEPTH ?? 1);
  if (depth <= 1) return out;
  return out.map((label, node) => {
    let path = label;
    for (let d = 1, p = parentOf[node]; d < depth && p >= 0; d++, p = parentOf[p]) path += ` ← ${out[p]}`;
    return path;
  });
}

const server = await startServer(def, { pin: null });
try {
  const job = { host: server.host, port: server.port, raw: def.raw, concurrency: 256 };
  const warm = await holdLoadgen({ ...job, connections: Math.min(500, connections) }, { pin: null });
  await warm.close();
  await sleep(300);
  const before = await snapshot(server.pid, 0);
  const hold = await holdLoadgen({ ...job, connections }, { pin: null });
  if (hold.ready.error || hold.ready.failed) throw new Error(`hold: ${hold.ready.error ?? hold.ready.firstError}`);
  await sleep(500);
  const after = await snapshot(server.pid, 1);
  const mem = await server.memory();
  await hold.close();
  const n = hold.ready.opened;
  const rows = [];
  for (const [key, g] of after.groups) {
    const b = before.groups.get(key) ?? { count: 0, bytes: 0 };
    const count = (g.count - b.count) / n;
    const bytes = (g.bytes - b.bytes) / n;
    if (Math.abs(bytes) >= 1 || Math.abs(count) >= 0.5) rows.push({ key, count, bytes });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  console.log(`${def.label}: ${n} idle connections; heap snapshot delta ${((after.total - before.total) / n).toFixed(0)} B/conn (rss now ${mem.rss})`);
  console.log('| node (type: name) | per conn | bytes/conn |');
  console.log('|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.key.replace(/\|/g, '\\|')} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`);
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
