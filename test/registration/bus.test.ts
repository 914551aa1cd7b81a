// The bus between nodes without Redis: MemoryBus on its own, the role's publish option and
// deliver(), hubs in one process sharing a MemoryBus (a cluster's routing, over real sockets), and
// a hub on a bus the test controls (accepted only once subscribed; the bus's failures answered).
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer } from '../../src/server/server.js';
import { MemoryBus, type Bus, type BusDeliver } from '../../src/registration/bus.js';
import { RegistrationHub, type RegistrationHubOptions } from '../../src/registration/hub.js';
import { connectAndRegister, type Registration } from '../../src/registration/client.js';
import { RegistrationClientRole } from '../../src/registration/core/client-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { rawPeer, type RawPeer } from './fixtures/raw-peer.js';
import { registered, sentTo, server } from './fixtures/roles.js';

const nextMessage = (r: Registration) => once(r, 'message') as Promise<[unknown, string]>;
const nextNotice = (r: Registration) => once(r, 'notice') as Promise<[string, string | undefined]>;

/** Waits (bounded: 2 s) until `ok()` holds. */
async function until(ok: () => boolean, what: string) {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error('timed out waiting for ' + what);
}

async function node(t: { teardown(fn: () => unknown): void }, options: RegistrationHubOptions = {}) {
  const wss = new WebSocketServer({ port: 0 });
  const hub = new RegistrationHub(options).attach(wss);
  await wss.ready;
  t.teardown(async () => {
    hub.detach();
    await wss.close();
  });
  return { hub, url: wss.url, port: wss.address().port };
}

t.test('MemoryBus: alone it reaches nobody; peers get what they subscribed and every broadcast, never their own', async (t) => {
  const a = new MemoryBus();
  const got: [string, string | undefined, string][] = [];
  const open = (name: string, bus: MemoryBus) => bus.open((to, text) => got.push([name, to, text]));
  open('a', a);
  t.equal(a.publish('k', 'x'), 0, 'a node alone');
  t.equal(a.publish(undefined, 'x'), 0);
  const b = a.peer();
  const c = a.peer();
  open('b', b);
  t.equal(a.publish(undefined, 'to all'), 1, 'c has not opened: it is not a node yet');
  open('c', c);
  b.subscribe('k');
  c.subscribe('k');
  t.equal(a.publish('k', 'to k'), 2);
  c.unsubscribe('k');
  t.equal(a.publish('k', 'to k again'), 1);
  t.equal(b.publish('k', 'from b'), 0, 'its own subscription does not count');
  c.close();
  t.equal(a.publish(undefined, 'after c left'), 1);
  t.same(got, [
    ['b', undefined, 'to all'],
    ['b', 'k', 'to k'],
    ['c', 'k', 'to k'],
    ['b', 'k', 'to k again'],
    ['b', undefined, 'after c left'],
  ]);
});

t.test('the role with publish: every routed message is offered to other nodes, unknown recipient left to the caller', async (t) => {
  const s = server({ publish: true, fanout: 1, fanoutBurst: 1 });
  const alice = await registered(s, 'a');
  const bob = await registered(s, 'b');
  const toBob = bob.publicKey;
  const out = await s.receive('a', JSON.stringify({ to: toBob, data: 1 }), 0);
  const text = `{"from":"${alice.publicKey}","data":1}`;
  t.same(out, [
    { type: 'broadcast', conns: ['b'], text },
    { type: 'publish', conn: 'a', to: toBob, text, delivered: 1 },
  ]);
  t.same(await s.receive('a', JSON.stringify({ to: 'elsewhere', data: 2 }), 0), [
    { type: 'publish', conn: 'a', to: 'elsewhere', text: `{"from":"${alice.publicKey}","data":2}`, delivered: 0 },
  ], 'no local connection: no reply, the bus decides');
  t.same(sentTo(await s.receive('a', JSON.stringify({ data: 3 }), 0), 'a'), [{ error: 'fan-out limit exceeded' }], 'spent: nothing published');
  const c = server({ publish: true });
  await registered(c, 'x');
  t.same(await c.receive('x', '{"data":4}', 0), [{ type: 'publish', conn: 'x', to: undefined, text: `{"from":"${c.keyOf('x')}","data":4}`, delivered: 0 }],
    'a broadcast with nobody else here is still published');
});

t.test('the role: deliver() hands another node\'s message to this node\'s registered connections; accepted comes after registered', async (t) => {
  const s = server();
  const alice = await registered(s, 'a');
  await registered(s, 'b');
  s.open('c', 'chat.example:8080', 0); // challenged, not registered: not a recipient
  t.same(s.deliver(alice.publicKey, 'T'), [{ type: 'broadcast', conns: ['a'], text: 'T' }]);
  t.same(s.deliver(undefined, 'B'), [{ type: 'broadcast', conns: ['a', 'b'], text: 'B' }]);
  t.same(s.deliver('nobody-here', 'T'), []);
  t.same(server().deliver(undefined, 'B'), [], 'no connections, no action');

  const r = server();
  const cl = await (await import('./fixtures/roles.js')).client();
  const [challenge] = sentTo(r.open('z', 'chat.example:8080', 0), 'z');
  const answer = (await cl.receive(JSON.stringify(challenge)))[0] as { text: string };
  const types = (await r.receive('z', answer.text, 0)).map((a) => a.type);
  t.same(types, ['registered', 'send', 'timer'], 'the key is registered (and subscribed) before the client is told');
});

t.test('three hubs on one MemoryBus: one key space over real sockets', async (t) => {
  const bus1 = new MemoryBus();
  const [n1, n2, n3] = [await node(t, { bus: bus1 }), await node(t, { bus: bus1.peer() }), await node(t, { bus: bus1.peer() })];
  const alice = await connectAndRegister(n1.url);
  const bob = await connectAndRegister(n2.url);
  const twin = await nodeCrypto.generateKeyPair();
  const carolOn1 = await connectAndRegister(n1.url, twin);
  const carolOn3 = await connectAndRegister(n3.url, twin);
  t.teardown(() => [alice, bob, carolOn1, carolOn3].forEach((r) => r.close()));

  const toBob = nextMessage(bob);
  alice.registeredSend('across', bob.publicKey);
  t.same(await toBob, ['across', alice.publicKey], 'direct to another node, from stamped by the first');

  const both = Promise.all([nextMessage(carolOn1), nextMessage(carolOn3)]);
  bob.registeredSend('to both tabs', carolOn1.publicKey);
  t.same(await both, [['to both tabs', bob.publicKey], ['to both tabs', bob.publicKey]]);

  const everyone = Promise.all([nextMessage(bob), nextMessage(carolOn1), nextMessage(carolOn3)]);
  alice.registeredSend('hello all');
  t.same((await everyone).map(([data]) => data), ['hello all', 'hello all', 'hello all']);

  const notice = nextNotice(alice);
  alice.registeredSend('?', 'nobody-anywhere');
  t.same(await notice, ['unknown recipient', 'nobody-anywhere']);

  // Bob leaves node 2: node 2 unsubscribes, and his key is unknown everywhere.
  const gone = once(n2.hub, 'unregistered');
  bob.close();
  await gone;
  const unknown = nextNotice(alice);
  alice.registeredSend('still there?', bob.publicKey);
  t.same(await unknown, ['unknown recipient', bob.publicKey]);

  // Exactly once: a broadcast from node 1 is not delivered back to node 1 through the bus.
  const seen: unknown[] = [];
  carolOn1.on('message', (data) => seen.push(data));
  const last = nextMessage(carolOn3);
  alice.registeredSend('once');
  await last;
  const marker = nextMessage(carolOn1);
  carolOn3.registeredSend('marker', carolOn1.publicKey);
  await marker;
  t.same(seen, ['once', 'marker']);
});

t.test('the hub rejects a bus that is not one, and takes no publish option', async (t) => {
  t.throws(() => new RegistrationHub({ bus: {} as Bus }), { code: 'WS_ERR_INVALID_OPTION', message: /option bus .*open, subscribe, unsubscribe and publish/ });
  t.throws(() => new RegistrationHub({ publish: true } as RegistrationHubOptions), { code: 'WS_ERR_INVALID_OPTION', message: /publish/ });
});

/** A bus whose answers the test gives: subscriptions wait for `release`, publishes answer `answer`. */
function heldBus() {
  const waiting: (() => void)[] = [];
  const published: [string | undefined, string][] = [];
  const unsubscribed: string[] = [];
  let deliver: BusDeliver = () => {};
  const bus = {
    answer: (() => Promise.resolve(0)) as (to: string | undefined) => Promise<number>,
    open: (d: BusDeliver) => void (deliver = d),
    subscribe: () => new Promise<void>((resolve) => waiting.push(resolve)),
    unsubscribe: (key: string) => void unsubscribed.push(key),
    publish(to: string | undefined, text: string) {
      published.push([to, text]);
      return bus.answer(to);
    },
  };
  return { bus, waiting, published, unsubscribed, deliver: (to: string | undefined, text: string) => deliver(to, text) };
}

/** A raw peer that has answered its challenge: the server has accepted it, the bus not yet subscribed. */
async function answered(port: number): Promise<{ peer: RawPeer; role: RegistrationClientRole }> {
  const peer = await rawPeer(port);
  const role = new RegistrationClientRole({ crypto: nodeCrypto, keyPair: await nodeCrypto.generateKeyPair(), host: `127.0.0.1:${port}` });
  const [answer] = await role.receive(await peer.next());
  peer.send((answer as { text: string }).text);
  return { peer, role };
}

t.test('accepted only once the key is subscribed; what was routed to it meanwhile follows, bounded', async (t) => {
  const held = heldBus();
  const { port, hub } = await node(t, { bus: held.bus, maxBufferedAmount: 100_000 });
  // Bob first: his subscription is released at once.
  const bobRegistering = connectAndRegister(`ws://127.0.0.1:${port}/`);
  await until(() => held.waiting.length === 1, 'bob subscribing');
  held.waiting.shift()!();
  const bob = await bobRegistering;
  t.teardown(() => bob.close());

  const { peer: alice, role } = await answered(port);
  t.teardown(() => alice.destroy());
  await until(() => held.waiting.length === 1, 'alice subscribing');
  t.same(hub.keys().includes(role.publicKey as string), true, 'the role routes to her already');
  const big = 'x'.repeat(60_000);
  held.deliver(role.publicKey, '{"from":"far","data":"from another node"}');
  bob.registeredSend(big, role.publicKey);
  bob.registeredSend(big, role.publicKey); // over maxBufferedAmount while held: dropped
  await until(() => held.published.length === 2, 'bob\'s messages routed');
  const notice = nextNotice(bob);
  bob.registeredSend('?', 'nobody');
  t.same(await notice, ['unknown recipient', 'nobody'], 'others are answered meanwhile, not held');
  held.waiting.shift()!();
  t.match(JSON.parse(await alice.next()), { publicKey: role.publicKey, accepted: true }, 'accepted first');
  t.same(JSON.parse(await alice.next()), { from: 'far', data: 'from another node' }, 'then what waited, in order');
  t.same(JSON.parse(await alice.next()), { from: bob.publicKey, data: big });
  bob.registeredSend('after', role.publicKey);
  t.same(JSON.parse(await alice.next()), { from: bob.publicKey, data: 'after' }, 'the second big one, past the bound, was dropped; now straight through');
});

t.test('a connection that closes while its key is being subscribed is forgotten; the bus\'s answers become replies', async (t) => {
  const held = heldBus();
  const { port, hub } = await node(t, { bus: held.bus });
  const { peer, role } = await answered(port);
  await until(() => held.waiting.length === 1, 'subscribing');
  const gone = once(hub, 'unregistered');
  peer.destroy();
  await gone;
  t.same(held.unsubscribed, [role.publicKey], 'its key is unsubscribed');
  held.waiting.shift()!(); // nothing left to tell
  t.same(hub.keys(), []);

  const registering = connectAndRegister(`ws://127.0.0.1:${port}/`);
  await until(() => held.waiting.length === 1, 'subscribing');
  held.waiting.shift()!();
  const alice = await registering;
  t.teardown(() => alice.close());
  held.bus.answer = (to) => (to === 'k1' || to === 'k6' ? Promise.resolve(0) : to === 'k2' ? Promise.resolve(1) : Promise.reject(new Error('down')));
  const unknown = nextNotice(alice);
  alice.registeredSend(1, 'k1');
  t.same(await unknown, ['unknown recipient', 'k1'], 'no other node took it');
  alice.registeredSend(2, 'k2'); // another node took it: no reply
  const unreachable = nextNotice(alice);
  alice.registeredSend(3, 'k3');
  t.same(await unreachable, ['other nodes unreachable', 'k3'], 'the bus could not tell: an error reply, not silence');
  alice.registeredSend('to all, bus down'); // nothing local, nothing to answer
  const own = nextNotice(alice);
  const self = nextMessage(alice);
  alice.registeredSend(5, alice.publicKey); // delivered here: no reply even though the bus is down
  t.same(await self, [5, alice.publicKey]);
  alice.registeredSend(6, 'k6');
  t.same(await own, ['unknown recipient', 'k6'], 'the messages in between got no reply');
  t.same(held.published.map(([to]) => to), ['k1', 'k2', 'k3', undefined, alice.publicKey, 'k6']);
});
