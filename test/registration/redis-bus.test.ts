// RedisBus against a real redis-server of the test's own: counts from PUBLISH, a node's own
// messages skipped, Redis hung (SIGSTOP), stopped and restarted empty; hubs on it in one process;
// and `serve --redis` in process (its flag, a missing package, an unreachable Redis, the log lines).
import t from 'tap';
import { once } from 'node:events';
import { createClient } from 'redis';
import { WebSocketServer } from '../../src/server/server.js';
import { RedisBus, type RedisClientLike } from '../../src/registration/redis-bus.js';
import { RegistrationHub } from '../../src/registration/hub.js';
import { connectAndRegister, type Registration } from '../../src/registration/client.js';
import { SERVE_USAGE, main, parseServeArgs, type RedisModule, type ServeIO } from '../../src/registration/serve.js';
import { freePort, noRedis, startRedis, type RedisServer } from './fixtures/redis-server.js';

if (noRedis !== undefined) {
  t.comment(`skipped: ${noRedis}`);
  t.pass('skipped: ' + noRedis);
} else {
  run();
}

/** Waits (bounded) until `ok()` holds. */
async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nextMessage = (r: Registration) => once(r, 'message') as Promise<[unknown, string]>;

function run() {
  let redis: RedisServer;
  const clients: { disconnect(): Promise<unknown>; isOpen: boolean }[] = [];
  t.before(async () => {
    redis = await startRedis();
  });
  t.teardown(async () => {
    for (const c of clients) if (c.isOpen) await c.disconnect().catch(() => {});
    await redis.stop();
  });

  async function bus(options: { prefix?: string; timeout?: number } = {}, offlineQueue = false) {
    const client = createClient({
      url: redis.url,
      disableOfflineQueue: !offlineQueue,
      socket: { reconnectStrategy: () => 100 },
    });
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    const b = new RedisBus(client as unknown as RedisClientLike, options);
    await b.connect();
    const got: [string | undefined, string][] = [];
    b.open((to, text) => got.push([to, text]));
    return { bus: b, got, client };
  }

  t.test('PUBLISH counts the other nodes; a node never gets its own', async (t) => {
    const a = await bus();
    const b = await bus();
    const other = await bus({ prefix: 'other-app:' });
    t.teardown(() => Promise.all([a.bus.close(), b.bus.close(), other.bus.close()]));
    t.equal(a.bus.isUp, true);
    t.equal(await a.bus.publish('k', 'x'), 0, 'nobody holds k');
    await b.bus.subscribe('k');
    t.equal(await a.bus.publish('k', 'to k'), 1);
    t.equal(await b.bus.publish('k', 'from b'), 0, 'its own subscription is not another node');
    t.equal(await a.bus.publish(undefined, 'to all'), 1, 'b (other-app is another prefix)');
    await until(() => b.got.length === 2, 'b got both');
    t.same(b.got, [['k', 'to k'], [undefined, 'to all']]);
    t.same(a.got, [], 'a got nothing of its own');
    t.same(other.got, []);
    const unopened = await new RedisBus(a.client as unknown as RedisClientLike).connect();
    t.equal(await a.bus.publish(undefined, 'before any hub'), 2, 'b, and a node without a hub yet, which drops it');
    await until(() => b.got.length === 3, 'b got it');
    await unopened.close();
    b.bus.unsubscribe('k');
    await until(async () => (await a.bus.publish('k', 'gone?')) === 0, 'unsubscribed');
    t.throws(() => new RedisBus(a.client as unknown as RedisClientLike, { timeout: 0 }), { code: 'WS_ERR_INVALID_OPTION' });
    t.throws(() => new RedisBus(a.client as unknown as RedisClientLike, { prefix: 1 } as never), { code: 'WS_ERR_INVALID_OPTION' });
  });

  t.test('Redis hung: publish and subscribe give up after the timeout instead of waiting', async (t) => {
    const a = await bus({ timeout: 200 }, true);
    t.teardown(() => a.bus.close());
    const pid = redis.pid();
    process.kill(pid, 'SIGSTOP');
    try {
      await t.rejects(a.bus.publish('k', 'x'), /did not answer within 200 ms/);
      await a.bus.subscribe('k'); // settles, never rejects
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(async () => (await a.bus.publish('k', 'x').catch(() => -1)) >= 0, 'Redis answering again');
  });

  t.test('a publish in flight when Redis dies: rejected with the connection\'s error, not left to the timeout', async (t) => {
    const a = await bus({ timeout: 60_000 }, true);
    t.teardown(() => a.bus.close());
    const pid = redis.pid();
    process.kill(pid, 'SIGSTOP');
    const inflight = a.bus.publish('k', 'x');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(pid, 'SIGKILL');
    const error = await inflight.then(() => undefined, (e: Error) => e);
    t.ok(error instanceof Error, 'rejected');
    t.notMatch(error?.message, /did not answer/, 'by the connection, long before the 60 s timeout');
    await redis.stop();
    await redis.restart();
    await until(async () => (await a.bus.publish('k', 'x').catch(() => -1)) >= 0, 'Redis answering again');
  });

  t.test('Redis stopped and restarted empty: down, up, everything subscribed again', async (t) => {
    const a = await bus({ timeout: 300 });
    const b = await bus({ timeout: 300 });
    t.teardown(() => Promise.all([a.bus.close(), b.bus.close()]));
    await b.bus.subscribe('before');
    const events: string[] = [];
    b.bus.on('down', (error) => events.push('down ' + (error instanceof Error)));
    b.bus.on('up', () => events.push('up'));
    const down = once(a.bus, 'down');
    await redis.stop();
    await down;
    await t.rejects(a.bus.publish('before', 'x'), 'not connected: rejected at once');
    await b.bus.subscribe('while-down'); // fails inside, settles; held for the reconnection
    await redis.restart();
    await Promise.all([a.bus.isUp || once(a.bus, 'up'), b.bus.isUp || once(b.bus, 'up')]);
    t.same(events, ['down true', 'up'], 'one line each way');
    t.equal(await a.bus.publish('before', '1'), 1, 'a key held before Redis went away');
    t.equal(await a.bus.publish('while-down', '2'), 1, 'a key registered while it was away');
    t.equal(await a.bus.publish(undefined, '3'), 1, 'the broadcast channel');
    await until(() => b.got.length === 3, 'b got all three');
    t.same(b.got.map(([to]) => to), ['before', 'while-down', undefined]);
  });

  t.test('two hubs on RedisBus: accepted only once routable from the other node', async (t) => {
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const { bus: b } = await bus();
        const wss = new WebSocketServer({ port: 0 });
        const hub = new RegistrationHub({ bus: b }).attach(wss);
        await wss.ready;
        t.teardown(async () => {
          hub.detach();
          await wss.close();
          await b.close();
        });
        return { url: wss.url };
      }),
    );
    const alice = await connectAndRegister(nodes[0].url);
    // The moment bob is accepted, alice's message reaches him: his key was subscribed first.
    const bob = await connectAndRegister(nodes[1].url);
    t.teardown(() => (alice.close(), bob.close()));
    const toBob = nextMessage(bob);
    alice.registeredSend({ hi: 'bob' }, bob.publicKey);
    t.same(await toBob, [{ hi: 'bob' }, alice.publicKey]);
    const toAlice = nextMessage(alice);
    bob.registeredSend('hello all');
    t.same(await toAlice, ['hello all', bob.publicKey]);
  });

  t.test('serve --redis: the flag, a missing package, an unreachable Redis, and the lines when Redis goes and comes back', async (t) => {
    t.match(SERVE_USAGE, '--redis redis://HOST:PORT');
    t.equal((parseServeArgs(['--redis', 'redis://127.0.0.1:6379'], {}) as { redis: string }).redis, 'redis://127.0.0.1:6379');
    t.equal((parseServeArgs([], {}) as { redis?: string }).redis, undefined, 'one node by default');
    for (const bad of ['http://x', 'redis://', 'not a url', '127.0.0.1:6379']) {
      t.throws(() => parseServeArgs(['--redis', bad], {}), /--redis must be a redis:\/\/ or rediss:\/\/ URL \(redis:\/\/HOST:PORT\)/, bad);
    }
    t.equal((parseServeArgs(['--redis', 'rediss://u:p@redis.example:6380'], {}) as { redis: string }).redis, 'rediss://u:p@redis.example:6380');
    const io = (signal?: AbortSignal) => {
      const out: string[] = [];
      const err: string[] = [];
      return { out, err, sink: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), signal } as ServeIO };
    };
    const missing = io();
    const notFound = Object.assign(new Error("Cannot find package 'redis'"), { code: 'ERR_MODULE_NOT_FOUND' });
    t.equal(await main(['--port', '0', '--redis', redis.url], missing.sink, '/nonexistent', () => Promise.reject(notFound)), 1);
    t.same(missing.err, [
      "simpatico-ws serve: --redis needs the redis package (node-redis 4 or later), which cannot be loaded (ERR_MODULE_NOT_FOUND): run 'npm install redis'.",
    ]);
    const broken = io();
    t.equal(await main(['--port', '0', '--redis', redis.url], broken.sink, '/nonexistent', () => Promise.reject(new Error('boom'))), 1);
    t.match(broken.err[0], /cannot be loaded \(boom\)/);

    const nowhere = io();
    const port = await freePort();
    t.equal(await main(['--port', '0', '--redis', `redis://someone:secret@127.0.0.1:${port}`], nowhere.sink, '/nonexistent'), 1);
    t.match(nowhere.err.join('\n'), `cannot connect to Redis at redis://someone:***@127.0.0.1:${port}:`, 'the password is not printed');
    t.notMatch(nowhere.err.join('\n'), 'secret');

    // A port already taken: the Redis connections are closed again, and the exit is 1.
    const blocker = new WebSocketServer({ port: 0 });
    await blocker.ready;
    const taken = io();
    t.equal(await main(['--port', String(blocker.address().port), '--redis', redis.url], taken.sink, '/nonexistent'), 1);
    t.match(taken.err.join('\n'), /cannot listen/);
    await blocker.close();

    const ac = new AbortController();
    const running = io(ac.signal);
    const done = main(['--port', '0', '--redis', redis.url, '--quiet'], running.sink, '/nonexistent', () => import('redis') as Promise<RedisModule>);
    await until(() => running.out.some((l) => l.includes('one node of many')), 'serve started');
    t.match(running.out.join('\n'), new RegExp(`through Redis at ${redis.url} \\(node [0-9a-f]{16}\\)`));
    await redis.stop();
    await until(() => running.err.some((l) => l.includes('is unreachable')), 'the down line');
    await redis.restart();
    await until(() => running.err.some((l) => l.includes('is back: routing')), 'the up line');
    t.same(
      running.err.filter((l) => l.includes('Redis at')),
      [
        running.err.find((l) => l.includes('is unreachable')),
        `simpatico-ws serve: Redis at ${redis.url} is back: routing across nodes again`,
      ],
      'one line down, one line back',
    );
    t.match(running.err.find((l) => l.includes('is unreachable')), /messages reach this node's connections only until it is back/);
    ac.abort();
    t.equal(await done, 0);
  });
}
