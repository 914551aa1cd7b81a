// Many nodes: registered clients sending to keys on the same node and on another node, through
// `simpatico-ws serve --redis` (2 nodes, one redis-server of its own), and registrations per second
// (the cost of an Ed25519 verification round trip). The load generator runs in its own process
// (this file with --load), the two nodes and Redis in theirs.
//
//   npm run build && node bench/cluster.js      (about a minute; BENCH_QUICK=1 for a smoke run)
//
// Each case: PAIRS sender/receiver pairs, each sender keeping at most WINDOW messages in flight to its
// receiver's key for SECONDS; messages/s counts deliveries, latency is send → delivery of one message
// (both ends in the load generator's process, one clock). Every figure is a median of ROUNDS rounds
// with min–max; the ratio compares cases measured in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnUntilLine, stopChild } from './lib/processes.js';
import { registrations } from './lib/registrations.js';
import { fmtRatio, fmtSummary, summarize } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0';
const PAIRS = 10;
const WINDOW = 64;
const SECONDS = quick ? 1 : 3;
const ROUNDS = quick ? 1 : 3;
const REGISTRATIONS = quick ? 50 : 200;

if (process.argv.includes('--load')) await load(process.argv[process.argv.indexOf('--load') + 1]);
else await harness();

async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Spawns `command args` and resolves with the first stdout match of `pattern` (bounded: 30 s). */
function start(command, args, pattern) {
  return spawnUntilLine(command, args, pattern);
}

async function harness() {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('## Many nodes: skipped, redis-server is not installed (Debian: apt-get install redis-server)');
    return;
  }
  const port = await freePort();
  const redis = await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
  const url = `redis://127.0.0.1:${port}`;
  // Limits far above the load: what is measured is routing, not the rate limits.
  const serveArgs = ['dist/cli.js', 'serve', '--port', '0', '--redis', url, '--quiet', '--rate', '1e9', '--burst', '1000000000',
    '--fanout', '1e9', '--fanout-burst', '1000000000', '--refusals-per-minute', '1000000000', '--max-connections', '100000'];
  const nodes = [];
  try {
    for (let i = 0; i < 2; i++) nodes.push(await start(process.execPath, serveArgs, /WebSocket endpoint (ws:\/\/\S+)\)/));
    const [a, b] = nodes.map((n) => n.match[1]);
    const gen = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', JSON.stringify({ a, b })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    gen.stdout.on('data', (d) => (out += d));
    const [code] = await once(gen, 'exit');
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    report(JSON.parse(out));
  } finally {
    for (const n of nodes) await stopChild(n.child);
    await stopChild(redis.child);
  }
}

function report(results) {
  const same = summarize(results.same.map((r) => r.rate));
  const cross = summarize(results.cross.map((r) => r.rate));
  const line = (name, runs) => {
    const rate = summarize(runs.map((r) => r.rate));
    const p50 = summarize(runs.map((r) => r.p50));
    const p99 = summarize(runs.map((r) => r.p99));
    return `| ${name} | ${fmtSummary(rate)} | ${fmtSummary(p50)} | ${fmtSummary(p99)} |`;
  };
  console.log(`## Many nodes: 2 × serve --redis, one redis-server (${PAIRS} pairs, ${WINDOW} in flight each, ${SECONDS} s × ${ROUNDS} rounds)\n`);
  console.log('| Case | messages/s | p50 ms | p99 ms |');
  console.log('|---|---|---|---|');
  console.log(line('same node (sender and receiver on node 1)', results.same));
  console.log(line('cross node (sender on 1, receiver on 2)', results.cross));
  console.log(`\nCross-node / same-node messages/s: ${fmtRatio(cross.median / same.median)}`);
  console.log(`Registrations/s (connect, challenge, Ed25519 answer verified, accepted; ${results.registrations.count} at 10 at once): ` +
    `${fmtSummary(summarize(results.registrations.rates))}`);
}

// ---- the load generator (its own process) ----

async function load(spec) {
  const { a, b } = JSON.parse(spec);
  const { connectAndRegister } = await import('../dist/esm/registration.js');
  const all = [];
  const pairs = async (senderUrl, receiverUrl) => {
    const out = [];
    for (let i = 0; i < PAIRS; i++) {
      const sender = await connectAndRegister(senderUrl);
      const receiver = await connectAndRegister(receiverUrl);
      all.push(sender, receiver);
      out.push({ sender, receiver });
    }
    return out;
  };
  const samePairs = await pairs(a, a);
  const crossPairs = await pairs(a, b);
  const results = { same: [], cross: [], registrations: { count: REGISTRATIONS, rates: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    results.same.push(await measure(samePairs));
    results.cross.push(await measure(crossPairs));
  }
  for (let round = 0; round < ROUNDS; round++) results.registrations.rates.push((await registrations(connectAndRegister, a, REGISTRATIONS)).rate);
  for (const r of all) r.close();
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}

/** One timed run over `pairs`: every sender keeps WINDOW messages in flight to its receiver. */
async function measure(pairs) {
  const latencies = [];
  let delivered = 0;
  let running = true;
  const end = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    pairs.map(({ sender, receiver }) => new Promise((resolve) => {
      let inFlight = 0;
      // At most once: a message lost on the way must not hold the run past its time.
      const give = setTimeout(() => (receiver.off('message', onMessage), resolve()), SECONDS * 1000 + 5000);
      const send = () => {
        while (running && inFlight < WINDOW) {
          inFlight++;
          sender.registeredSend(performance.now(), receiver.publicKey);
        }
      };
      const onMessage = (sent) => {
        inFlight--;
        delivered++;
        if (delivered % 16 === 0) latencies.push(performance.now() - sent);
        if (Date.now() >= end) running = false;
        if (running) send();
        else if (inFlight === 0) (clearTimeout(give), receiver.off('message', onMessage), resolve());
      };
      receiver.on('message', onMessage);
      send();
    })),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rate: delivered / seconds, p50: at(0.5), p99: at(0.99) };
}

