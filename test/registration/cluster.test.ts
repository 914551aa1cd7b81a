// Many nodes, one address space: three real `simpatico-ws serve --redis` processes on one
// redis-server of the test's own, clients on different nodes. Direct, one key on two nodes,
// broadcast, unknown key, the order of 1,000 messages, a spoofed `from`; then the faults: a node
// SIGKILLed, Redis stopped, Redis back (empty) with the clients still connected. Every wait bounded.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectAndRegister, type Registration } from '../../src/registration/client.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { noRedis, startRedis, type RedisServer } from './fixtures/redis-server.js';

interface Node {
  url: string;
  out: string[];
  err: string[];
  child: ChildProcess;
}

/**
 * Why dist/ cannot stand for src/ (missing, or older than a source), or undefined. The nodes run on
 * the build (`npm test` builds first): three processes compiling the TS sources at once take tens of
 * seconds on a busy machine. What they run is covered in process by redis-bus.test.ts.
 */
function staleBuild(dir = 'src', built = buildTime()): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path === join('src', 'registration', 'browser')) continue; // built to dist/web
      const stale = staleBuild(path, built);
      if (stale !== undefined) return stale;
    } else if (entry.name.endsWith('.ts')) {
      const js = join('dist', path.slice('src/'.length)).replace(/\.ts$/, '.js');
      if (!existsSync(js)) return `${js} is missing`;
      // tsc -b leaves an output whose text did not change as it was, but records every build here.
      if (built < statSync(path).mtimeMs) return `dist/ was built before ${path} changed`;
    }
  }
  return undefined;
}

function buildTime(): number {
  try {
    return statSync(join('dist', '.build', 'esm.tsbuildinfo')).mtimeMs;
  } catch {
    return 0;
  }
}

/** Starts `simpatico-ws serve --redis` as its own process, from the build. */
async function serve(redisUrl: string): Promise<Node> {
  const args = ['dist/cli.js', 'serve', '--port', '0', '--redis', redisUrl, '--rate', '5000', '--burst', '5000', '--fanout', '100000'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => err.push(l));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start in 20 s: ' + err.join('\n'))), 20_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      out.push(l);
      const m = /WebSocket endpoint (ws:\/\/\S+)\)/.exec(l);
      if (m !== null) (clearTimeout(timer), resolve(m[1]));
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`serve exited with ${code}: ${err.join('\n')}`))));
  });
  return { url, out, err, child };
}

async function stop(node: Node) {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = once(node.child, 'exit');
  node.child.kill('SIGTERM');
  await exited;
}

/** Waits (bounded) until `ok()` holds. */
async function until(ok: () => boolean, what: string, ms: number) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything a registration receives, messages and notices, in order. */
function inbox(r: Registration) {
  const got: unknown[] = [];
  r.on('message', (data, from) => got.push({ data, from }));
  r.on('notice', (error, to) => got.push({ error, to }));
  return got;
}

if (noRedis !== undefined) {
  t.comment(`skipped: ${noRedis}`);
  t.pass('skipped: ' + noRedis);
} else {
  let redis: RedisServer;
  let nodes: Node[] = [];
  const regs: Registration[] = [];
  const join = async (node: Node, keyPair?: Awaited<ReturnType<typeof nodeCrypto.generateKeyPair>>) => {
    const r = await connectAndRegister(node.url, keyPair);
    regs.push(r);
    return { r, got: inbox(r) };
  };

  t.before(async () => {
    const stale = staleBuild();
    if (stale !== undefined) throw new Error(`${stale}: run 'npm run build' first (npm test does).`);
    redis = await startRedis();
    nodes = await Promise.all([serve(redis.url), serve(redis.url), serve(redis.url)]);
  });
  t.teardown(async () => {
    for (const r of regs) r.close();
    await Promise.all(nodes.map(stop));
    await redis.stop();
  });

  t.test('three nodes, one key space', async (t) => {
    const [n1, n2, n3] = nodes;
    for (const n of nodes) t.match(n.out.join('\n'), /one node of many, through Redis at redis:\/\/127\.0\.0\.1:\d+ \(node [0-9a-f]{16}\)/);
    const alice = await join(n1);
    const dave = await join(n1);
    const bob = await join(n2);
    const twin = await nodeCrypto.generateKeyPair();
    const carol2 = await join(n2, twin);
    const carol3 = await join(n3, twin);
    const erin = await join(n3); // only on node 3: killed later

    // Direct, and a spoofed from: the sending node stamps the key it verified.
    alice.r.registeredSend('hi bob', bob.r.publicKey);
    alice.r.socket.send(JSON.stringify({ to: bob.r.publicKey, from: 'someone-important', data: 'spoofed?' }));
    await until(() => bob.got.length === 2, 'bob gets both', 3000);
    t.same(bob.got, [
      { data: 'hi bob', from: alice.r.publicKey },
      { data: 'spoofed?', from: alice.r.publicKey },
    ]);

    // One key on two nodes: each connection gets it exactly once.
    bob.r.registeredSend('to both tabs', carol2.r.publicKey);
    await until(() => carol2.got.length === 1 && carol3.got.length === 1, 'both tabs', 3000);

    // A broadcast: every other registered connection on every node, exactly once.
    alice.r.registeredSend('hello all');
    for (const x of [dave, bob, carol2, carol3, erin]) await until(() => x.got.some((m) => (m as { data: unknown }).data === 'hello all'), 'broadcast', 3000);

    // An unknown key anywhere: answered within a second.
    alice.r.registeredSend('?', 'no-such-key-anywhere');
    await until(() => alice.got.length === 1, 'the unknown-recipient reply', 1000);
    t.same(alice.got, [{ error: 'unknown recipient', to: 'no-such-key-anywhere' }], 'alice never got her own broadcast');

    // 1,000 messages from one sender to one key on another node arrive in order.
    const before = bob.got.length;
    for (let i = 0; i < 1000; i++) alice.r.registeredSend(i, bob.r.publicKey);
    await until(() => bob.got.length >= before + 1000, 'the 1,000 messages', 10_000);
    t.same(bob.got.slice(before).map((m) => (m as { data: unknown }).data), Array.from({ length: 1000 }, (_, i) => i));

    // Exactly once, counted after everything settled: a marker behind each stream.
    bob.r.registeredSend('marker', carol2.r.publicKey);
    await until(() => carol2.got.length === 3 && carol3.got.length === 3, 'markers', 3000);
    t.same(carol3.got.map((m) => (m as { data: unknown }).data), ['to both tabs', 'hello all', 'marker']);
    t.same(carol2.got.map((m) => (m as { data: unknown }).data), ['to both tabs', 'hello all', 'marker']);
    t.same(dave.got.map((m) => (m as { data: unknown }).data), ['hello all']);

    // A node SIGKILLed: within 3 s its keys are unknown elsewhere; the others carry on.
    n3.child.kill('SIGKILL');
    await once(n3.child, 'exit');
    const asked = alice.got.length;
    alice.r.registeredSend('still there?', erin.r.publicKey);
    await until(() => alice.got.length > asked, 'a reply about erin', 3000);
    t.same(alice.got.at(-1), { error: 'unknown recipient', to: erin.r.publicKey });
    alice.r.registeredSend('only one tab left', carol2.r.publicKey);
    await until(() => carol2.got.length === 4, 'carol on node 2', 3000);

    // Redis stopped: every node stays up; its own node is still reached; another node's key gets an error within 3 s.
    await redis.stop();
    await until(() => n1.err.some((l) => l.includes('is unreachable')) && n2.err.some((l) => l.includes('is unreachable')), 'the down lines', 3000);
    alice.r.registeredSend('same node', dave.r.publicKey);
    await until(() => dave.got.length === 2, 'dave, on the same node', 3000);
    alice.r.registeredSend('anyone here?');
    await until(() => dave.got.length === 3, 'a broadcast reaches the same node', 3000);
    const mark = alice.got.length;
    alice.r.registeredSend('to bob, far away', bob.r.publicKey);
    alice.r.registeredSend('to nobody', 'no-such-key-anywhere');
    await until(() => alice.got.length === mark + 2, 'two error replies', 3000);
    t.same(alice.got.slice(mark), [
      { error: 'other nodes unreachable', to: bob.r.publicKey },
      { error: 'other nodes unreachable', to: 'no-such-key-anywhere' },
    ]);
    t.equal(n1.child.exitCode, null, 'node 1 is up');
    t.equal(n2.child.exitCode, null, 'node 2 is up');

    // Redis back on the same address, empty: within 5 s the clients that stayed connected are routed again.
    const bobHad = bob.got.length;
    await redis.restart();
    await until(() => n1.err.some((l) => l.includes('is back: routing')) && n2.err.some((l) => l.includes('is back: routing')), 'the up lines', 5000);
    alice.r.registeredSend('welcome back', bob.r.publicKey);
    await until(() => bob.got.length === bobHad + 1, 'bob, across nodes again', 3000);
    t.same(bob.got.at(-1), { data: 'welcome back', from: alice.r.publicKey });
    for (const n of [n1, n2]) t.equal(n.err.filter((l) => l.includes('Redis at')).length, 2, 'one line down, one back');
  });
}
