// The Node binding over real sockets: RegistrationHub on a WebSocketServer, register() and
// connectAndRegister() as clients, real Ed25519, short timers through the options.
import t from 'tap';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../../src/server/server.js';
import { connect } from '../../src/client/connect.js';
import type { WebSocket } from '../../src/websocket.js';
import { WebSocketError } from '../../src/errors.js';
import { RegistrationHub, type RegistrationHubOptions } from '../../src/registration/hub.js';
import { connectAndRegister, register, type Registration } from '../../src/registration/client.js';
import { RegistrationClientRole } from '../../src/registration/core/client-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import type { RegistrationCrypto } from '../../src/registration/core/crypto.js';
import { rawPeer } from './fixtures/raw-peer.js';

async function hubServer(t: { teardown(fn: () => unknown): void }, options: RegistrationHubOptions = {}, serverOptions = {}) {
  const server = new WebSocketServer({ port: 0, ...serverOptions });
  const hub = new RegistrationHub(options).attach(server);
  await server.ready;
  t.teardown(async () => {
    hub.detach();
    await server.close();
  });
  return { server, hub, url: server.url };
}

/** The next message on a registration, as [data, from]. */
const nextMessage = (r: Registration) => once(r, 'message') as Promise<[unknown, string]>;
/** The close of a raw socket, as [code, reason]. */
const closed = (ws: WebSocket) => once(ws, 'close') as Promise<[number, string, boolean]>;
/** The next text message of a raw socket, parsed. */
const nextJson = async (ws: WebSocket) => JSON.parse(String((await once(ws, 'message'))[0]));

t.test('two clients register, then exchange direct and broadcast messages', async (t) => {
  const { url, hub } = await hubServer(t);
  const registered: string[] = [];
  hub.on('registered', (key) => registered.push(key));
  const alice = await connectAndRegister(url);
  const bob = await connectAndRegister(url, await nodeCrypto.generateKeyPair());
  t.not(alice.publicKey, bob.publicKey);
  t.same(registered, [alice.publicKey, bob.publicKey]);
  t.same(hub.keys().sort(), [alice.publicKey, bob.publicKey].sort());

  const toBob = nextMessage(bob);
  t.equal(alice.registeredSend({ text: 'hi bob' }, bob.publicKey), true);
  t.same(await toBob, [{ text: 'hi bob' }, alice.publicKey], 'direct, from set by the server');

  const toAlice = nextMessage(alice);
  bob.registeredSend('hello there 0');
  t.same(await toAlice, ['hello there 0', bob.publicKey], 'broadcast');

  const notice = once(alice, 'notice');
  alice.registeredSend('anyone?', 'no-such-key');
  t.same(await notice, ['unknown recipient', 'no-such-key']);

  const unregistered = once(hub, 'unregistered');
  const bobClosed = once(bob, 'close');
  bob.close(1000, 'bye');
  t.same((await unregistered)[0], bob.publicKey);
  t.same(await bobClosed, [1000, 'bye']);
  t.same(hub.keys(), [alice.publicKey]);
  alice.close();
});

t.test('a client whose signatures the server refuses sees the exception', async (t) => {
  const { url } = await hubServer(t, { retries: 1 });
  // It signs for another host, as it would if a malicious server had relayed the challenge.
  const error = (await t.rejects(connectAndRegister(url, undefined, { host: 'elsewhere.example' }))) as unknown as WebSocketError;
  t.ok(error instanceof WebSocketError);
  t.equal(error.code, 'WS_ERR_REGISTRATION_REJECTED');
  t.equal(error.closeCode, 1008);
  t.match(error.message, /bad signature/);
  t.match(error.message, /signed for "elsewhere\.example"/);
});

t.test('register() rejects when the connection closes first, or on its own timeout', async (t) => {
  const { url } = await hubServer(t, { registerTimeout: 100 });
  const kp = await nodeCrypto.generateKeyPair();
  // A crypto that never finishes signing: the server's registration timeout closes the connection.
  const stuck: RegistrationCrypto = { ...nodeCrypto, sign: () => new Promise(() => undefined) };
  const ws = await connect(url);
  const error = (await t.rejects(register(ws, kp, { crypto: stuck }))) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_CLOSED');
  t.equal(error.closeCode, 1008);
  t.match(error.message, /closed \(1008 registration timeout\)/);

  const ws2 = await connect(url);
  const timedOut = (await t.rejects(register(ws2, kp, { crypto: stuck, timeout: 20 }))) as unknown as WebSocketError;
  t.equal(timedOut.code, 'WS_ERR_REGISTRATION_TIMEOUT');
  t.equal(timedOut.side, 'local');
  t.equal((await closed(ws2))[0], 1000, 'and the client closes');

  t.throws(() => register({ url: '' } as WebSocket, kp), { code: 'WS_ERR_INVALID_ARGUMENT' });
  await t.rejects(connectAndRegister(url, kp, { crypto: stuck, timeout: 20 }), { code: 'WS_ERR_REGISTRATION_TIMEOUT' });
});

t.test('heartbeats: answered by register() automatically; unanswered ones close 1008', async (t) => {
  const { url, hub } = await hubServer(t, { heartbeatInterval: 50, heartbeatTimeout: 100 });
  const alice = await connectAndRegister(url);
  for (let i = 0; i < 2; i++) await once(alice, 'heartbeat');
  t.same(hub.keys(), [alice.publicKey], 'still registered after two heartbeats');

  // A client that registers and then stops answering.
  const ws = await connect(url);
  const role = new RegistrationClientRole({ crypto: nodeCrypto, keyPair: await nodeCrypto.generateKeyPair(), host: new URL(url).host });
  const answer = (await role.receive(JSON.stringify(await nextJson(ws))))[0] as { text: string };
  ws.send(answer.text);
  t.equal((await nextJson(ws)).accepted, true);
  t.same(Object.keys(await nextJson(ws)), ['challenge'], 'the heartbeat challenge');
  const [code, reason] = await closed(ws);
  t.same([code, reason], [1008, 'heartbeat timeout']);
  t.same(hub.keys(), [alice.publicKey]);
  alice.close();
});

t.test('heartbeatInterval 0: once registered, the registration deadline is cancelled and nothing more is asked', async (t) => {
  const { url, hub } = await hubServer(t, { heartbeatInterval: 0, registerTimeout: 100 });
  const alice = await connectAndRegister(url);
  let beats = 0;
  alice.on('heartbeat', () => beats++);
  let closedWith: number | undefined;
  alice.on('close', (code) => (closedWith = code));
  await new Promise((r) => setTimeout(r, 250)); // well past the 100 ms registration deadline
  t.equal(closedWith, undefined, 'not closed by the registration timer');
  t.equal(beats, 0, 'no heartbeat challenge');
  t.same(hub.keys(), [alice.publicKey]);
  alice.close();
});

t.test('a heartbeat refused for good is reported as failed', async (t) => {
  const { url } = await hubServer(t, { heartbeatInterval: 50, retries: 0 });
  const kp = await nodeCrypto.generateKeyPair();
  let signed = 0;
  // Good signatures for the registration, then garbage.
  const flaky: RegistrationCrypto = {
    ...nodeCrypto,
    sign: async (k, m) => (signed++ === 0 ? nodeCrypto.sign(k, m) : new Uint8Array(64)),
  };
  const alice = await connectAndRegister(url, kp, { crypto: flaky });
  const [error] = (await once(alice, 'failed')) as [WebSocketError];
  t.equal(error.code, 'WS_ERR_REGISTRATION_REJECTED');
  t.same(await once(alice, 'close'), [1008, 'heartbeat failed']);
});

t.test('limits over the wire: unregistered sends, binary, size, rate', async (t) => {
  const { url } = await hubServer(t, { maxMessageBytes: 1024, rate: 5, burst: 3 }, { maxPayload: 1024 });
  const ws = await connect(url);
  await nextJson(ws); // the challenge
  ws.send(JSON.stringify({ data: 'early' }));
  t.same(await nextJson(ws), { error: 'not registered' });
  ws.send('{oops');
  t.same(await nextJson(ws), { error: 'invalid JSON' });
  ws.send(JSON.stringify({ data: 1 }));
  t.same(await nextJson(ws), { error: 'not registered' });
  ws.send(JSON.stringify({ data: 2 })); // the fourth message inside the burst of 3
  t.same((await closed(ws)).slice(0, 2), [1008, 'rate limit exceeded']);

  const bin = await connect(url);
  bin.send(Buffer.from([1, 2, 3]));
  t.same((await closed(bin)).slice(0, 2), [1003, 'binary messages are not supported']);

  const big = await connect(url);
  big.send('x'.repeat(2000)); // refused by the connection layer's maxPayload before the role sees it
  t.equal((await closed(big))[0], 1009);
});

t.test('over the wire: 64,960 bytes of [1e20,…] arrive byte-identical, 53 bytes longer, not re-serialised', async (t) => {
  const { url } = await hubServer(t);
  const alice = await connectAndRegister(url);
  const bob = await connectAndRegister(url);
  const data = `[${Array(12_990).fill('1e20').join(',')}]`;
  const sent = `{"data":${data}}`;
  t.equal(sent.length, 64_960);
  const raw = once(bob.socket, 'message') as Promise<[string, boolean]>;
  alice.socket.send(sent);
  const [text] = await raw;
  t.equal(text, `{"from":"${alice.publicKey}","data":${data}}`, 'the sender\'s own bytes');
  t.equal(text.length, 64_960 + 53);
  t.not(JSON.stringify(JSON.parse(data)).length, data.length, 're-serialising would have changed them (1e20 → 100000000000000000000)');
  alice.close();
  bob.close();
});

t.test('over the wire: a sender over its fan-out budget is told, and nobody receives the message', async (t) => {
  const { url } = await hubServer(t, { fanout: 1, fanoutBurst: 1 });
  const alice = await connectAndRegister(url);
  const bob = await connectAndRegister(url);
  const received: unknown[] = [];
  bob.on('message', (data) => received.push(data));
  const first = nextMessage(bob);
  alice.registeredSend('one');
  await first;
  const notice = once(alice, 'notice');
  alice.registeredSend('two');
  t.same(await notice, ['fan-out limit exceeded', undefined]);
  // Bob's connection is in order: a message to himself arrives after anything sent before it.
  const echo = nextMessage(bob);
  bob.registeredSend('to myself', bob.publicKey);
  await echo;
  t.same(received, ['one', 'to myself'], '"two" never reached bob');
  alice.close();
  bob.close();
});

t.test('over the wire: a Ping flood is closed 1008 after at most a burst of Pongs; so is a Pong flood', async (t) => {
  const { url } = await hubServer(t, { rate: 20, burst: 40 });
  const ws = await connect(url);
  await nextJson(ws); // the challenge
  let pongs = 0;
  ws.on('pong', () => pongs++);
  const gone = closed(ws);
  for (let i = 0; i < 1000 && ws.readyState === 1; i++) {
    ws.ping();
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  t.same((await gone).slice(0, 2), [1008, 'rate limit exceeded']);
  t.ok(pongs <= 41, `${pongs} Pongs answered (burst 40, plus the Ping that was one too many)`);

  const quiet = await connect(url);
  await nextJson(quiet);
  const quietGone = closed(quiet);
  for (let i = 0; i < 1000 && quiet.readyState === 1; i++) {
    quiet.pong();
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  t.same((await quietGone).slice(0, 2), [1008, 'rate limit exceeded'], 'unsolicited Pongs are frames too');
});

t.test('over the wire: nesting 33 deep is answered "nesting too deep"', async (t) => {
  const { url } = await hubServer(t);
  const alice = await connectAndRegister(url);
  const notice = once(alice, 'notice');
  alice.socket.send(`{"data":${'['.repeat(32)}${']'.repeat(32)}}`);
  t.same(await notice, ['nesting too deep', undefined]);
  alice.close();
});

t.test('an address over its refusals is answered 429 with Retry-After; 127.0.0.2 is still served', async (t) => {
  let clock = 1_000_000;
  const server = new WebSocketServer({ port: 0, verifyClient: (request) => hub.verifyClient(request) });
  const hub = new RegistrationHub({ retries: 0, refusalsPerMinute: 3, now: () => clock }).attach(server);
  await server.ready;
  t.teardown(async () => {
    hub.detach();
    await server.close();
  });
  const { port } = server.address();
  // Three connections from 127.0.0.1, each refused once (signed for another host; no retries).
  for (let i = 0; i < 3; i++) {
    await t.rejects(connectAndRegister(server.url, undefined, { host: 'elsewhere.example' }), { code: 'WS_ERR_REGISTRATION_REJECTED' });
  }
  const refused = await rawPeer(port);
  t.match(refused.head, /^HTTP\/1\.1 429 /, 'the fourth connection from 127.0.0.1 is refused at the handshake');
  t.match(refused.head, /\r\nretry-after: 20(\r\n|$)/i, '3 a minute: one comes back in 20 s');
  refused.destroy();
  const seen = (await t.rejects(connect(server.url))) as unknown as WebSocketError;
  t.equal(seen.status, 429, 'a client sees the status');

  // Another address is served: 101, then the challenge.
  const other = await rawPeer(port, { localAddress: '127.0.0.2' });
  t.match(other.head, /^HTTP\/1\.1 101 /);
  t.same(Object.keys(JSON.parse(await other.next())), ['challenge']);
  other.destroy();

  // 19 s later still refused, with what is left of the wait; at 20 s served again.
  clock += 19_000;
  t.match((await rawPeer(port)).head, /\r\nretry-after: 1(\r\n|$)/i);
  clock += 1_000;
  const back = await connectAndRegister(server.url);
  t.same(hub.keys(), [back.publicKey], 'the address is served again');
  back.close();

  t.equal(hub.verifyClient({}), true, 'a request without an address (handleUpgrade on a strange socket) is served');
});

t.test('a key registered from two connections stays routable while one remains', async (t) => {
  const { url, hub } = await hubServer(t);
  const kp = await nodeCrypto.generateKeyPair();
  const tab1 = await connectAndRegister(url, kp);
  const tab2 = await connectAndRegister(url, kp);
  const bob = await connectAndRegister(url);
  const both = Promise.all([nextMessage(tab1), nextMessage(tab2)]);
  bob.registeredSend('to both tabs', tab1.publicKey);
  t.same((await both).map(([d]) => d), ['to both tabs', 'to both tabs']);
  const gone = once(hub, 'unregistered');
  tab1.close();
  await gone;
  const one = nextMessage(tab2);
  bob.registeredSend('to the tab left', tab2.publicKey);
  t.same((await one)[0], 'to the tab left');
  tab2.close();
  bob.close();
});

t.test('a crypto that throws closes that connection with 1011, nothing more', async (t) => {
  const broken: RegistrationCrypto = { ...nodeCrypto, verify: () => Promise.reject(new Error('hardware on fire')) };
  const { url, hub } = await hubServer(t, { crypto: broken });
  const ws = await connect(url);
  const challenge = await nextJson(ws);
  const role = new RegistrationClientRole({ crypto: nodeCrypto, keyPair: await nodeCrypto.generateKeyPair(), host: new URL(url).host });
  ws.send(((await role.receive(JSON.stringify(challenge)))[0] as { text: string }).text);
  t.same((await closed(ws)).slice(0, 2), [1011, 'internal error']);
  t.same(hub.keys(), []);
});

t.test('a crypto that fails after its connection closed changes nothing', async (t) => {
  let fail: (e: Error) => void = () => undefined;
  const verifying = new Promise<void>((called) => {
    fail = () => called(); // replaced below once verify runs
  });
  const late: RegistrationCrypto = {
    ...nodeCrypto,
    verify: () =>
      new Promise((_, reject) => {
        const calledBack = fail;
        fail = reject;
        calledBack(new Error('unused'));
      }),
  };
  const { url, hub, server } = await hubServer(t, { crypto: late });
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const ws = await connect(url);
  const [serverWs] = await accepted;
  const challenge = await nextJson(ws);
  const role = new RegistrationClientRole({ crypto: nodeCrypto, keyPair: await nodeCrypto.generateKeyPair(), host: new URL(url).host });
  ws.send(((await role.receive(JSON.stringify(challenge)))[0] as { text: string }).text);
  await verifying;
  const gone = closed(ws);
  ws.close(1000, 'bye');
  t.same((await gone).slice(0, 2), [1000, 'bye'], 'our own close, not a 1011');
  if (serverWs.readyState !== 3) await once(serverWs, 'close');
  t.equal(hub.role.phaseOf(serverWs), undefined, 'the role has forgotten the connection');
  fail(new Error('too late'));
  await new Promise((r) => setTimeout(r, 10));
  t.same(hub.keys(), []);
});

t.test('a recipient that does not read is closed, and never holds more than the limit plus one message', async (t) => {
  const limit = 64 * 1024;
  // closeTimeout: the sleeper never answers the close, so its socket is dropped after 300 ms.
  const { url, hub } = await hubServer(t, { maxBufferedAmount: limit, rate: 1e6, burst: 1e6 }, { maxPayload: 65536, closeTimeout: 300 });
  const serverSide = new Map<string, WebSocket>();
  hub.on('registered', (key, ws) => serverSide.set(key, ws));
  const sender = await connectAndRegister(url);
  const sleeper = await connectAndRegister(url);
  const towardsSleeper = serverSide.get(sleeper.publicKey)!;
  // Stop reading: the server's buffer towards the sleeper fills up.
  sleeper.socket.pause();
  const gone = once(hub, 'unregistered');
  const chunk = 'x'.repeat(60_000);
  const message = JSON.stringify({ from: sender.publicKey, data: chunk });
  let most = 0;
  let sent = 0;
  for (; sent < 400 && towardsSleeper.readyState === 1; sent++) {
    sender.registeredSend(chunk, sleeper.publicKey);
    await new Promise((r) => setImmediate(r));
    most = Math.max(most, towardsSleeper.bufferedAmount);
  }
  t.ok(sent < 400, `closed after ${sent} messages`);
  t.equal(towardsSleeper.readyState, 2, 'closing: the close frame waits behind what is buffered');
  // The check is made before each message: at most one message over the limit (plus its frame header and the close).
  t.ok(most <= limit + message.length + 4 + 40, `at most ${most} bytes held (limit ${limit}, message ${message.length})`);
  t.same((await gone)[0], sleeper.publicKey, 'unregistered once the connection is gone');
  sender.close();
  sleeper.socket.terminate();
});

t.test('a routed message is framed once: the same Buffer is queued for every recipient', async (t) => {
  const { url, hub } = await hubServer(t);
  const serverSide = new Map<string, WebSocket>();
  hub.on('registered', (key, ws) => serverSide.set(key, ws));
  const sender = await connectAndRegister(url);
  const others = await Promise.all(Array.from({ length: 5 }, () => connectAndRegister(url)));
  // Watch what reaches each recipient's queue (the connection layer's entry point for pre-framed bytes).
  const frames: Buffer[] = [];
  let perRecipientSends = 0;
  for (const other of others) {
    const ws = serverSide.get(other.publicKey)! as WebSocket & { sendEncoded(frame: Buffer): boolean };
    const sendEncoded = ws.sendEncoded.bind(ws);
    ws.sendEncoded = (frame: Buffer) => (frames.push(frame), sendEncoded(frame));
    const send = ws.send.bind(ws);
    ws.send = (...args: Parameters<WebSocket['send']>) => (perRecipientSends++, send(...args));
  }
  const data = { text: 'x'.repeat(2000) };
  const all = Promise.all(others.map((o) => nextMessage(o)));
  sender.registeredSend(data);
  t.same((await all).map(([d, from]) => [d, from]), others.map(() => [data, sender.publicKey]));
  t.equal(frames.length, 5, 'one frame per recipient');
  t.ok(frames.every((f) => f === frames[0]), 'one and the same Buffer object for all five');
  const text = JSON.stringify({ from: sender.publicKey, data });
  t.same(frames[0].subarray(4).toString(), text, 'an unmasked text frame of exactly the forwarded message');
  t.equal(frames[0][0], 0x81);
  t.equal(perRecipientSends, 0, 'no per-recipient send()');
  for (const r of [sender, ...others]) r.close();
});

t.test('hub and register() options are checked up front', async (t) => {
  const cases: [() => unknown, string][] = [
    [() => new RegistrationHub({ maxBufferedAmount: -1 }), 'new RegistrationHub(): option maxBufferedAmount must be a whole number of bytes from 1 to 2^53 - 1; got -1 (a number).'],
    [() => new RegistrationHub({ now: 5 } as never), 'new RegistrationHub(): option now must be a function; got 5 (a number).'],
    [() => new RegistrationHub({ refusalsPerMinute: 0 }), 'new RegistrationHub(): option refusalsPerMinute must be a whole number from 1 to 2^53 - 1; got 0 (a number).'],
    [() => new RegistrationHub({ crypto: 'node' } as never), 'new RegistrationHub(): option crypto must be an object with randomBytes'],
    [() => new RegistrationHub({ rate: '20' } as never), 'new RegistrationHub(): option rate must be a number above 0'],
    [() => new RegistrationHub({ heartbeatIntervall: 5 } as never), 'new RegistrationHub(): unknown option "heartbeatIntervall"; did you mean "heartbeatInterval"?'],
    [() => new RegistrationHub(null as never), 'new RegistrationHub(): options must be an object, got null.'],
    [() => register({ url: 'ws://h/' } as WebSocket, {} as never, { timeout: 0 }), 'register(): option timeout must be a number of milliseconds above 0'],
    [() => register({ url: 'ws://h/' } as WebSocket, {} as never, { host: 7 } as never), 'register(): option host must be a string; got 7 (a number).'],
    [() => register({ url: 'ws://h/' } as WebSocket, {} as never, { timout: 5 } as never), 'register(): unknown option "timout"; did you mean "timeout"?'],
  ];
  for (const [make, message] of cases) {
    const error = t.throws(make) as WebSocketError;
    t.equal(error.code, 'WS_ERR_INVALID_OPTION', message);
    t.equal(error.side, 'local');
    t.match(error.message, message);
  }
  await t.rejects(connectAndRegister('ws://127.0.0.1:1/', undefined, { timeout: -5 }), {
    code: 'WS_ERR_INVALID_OPTION',
    message: /^connectAndRegister\(\): option timeout/,
  });
});

t.test('the hub takes handleUpgrade connections of a node:http server', async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  const hub = new RegistrationHub();
  const http = createServer((_req, res) => res.end('page'));
  let n = 0;
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws, request) => {
      // Host as node:http gives it, as a list (the first counts), and missing altogether.
      const variants = [request, { headers: { host: [String(request.headers.host), 'x'] } }, { headers: {} }];
      hub.handle(ws, variants[n++ % 3]);
    }),
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  const alice = await connectAndRegister(`ws://127.0.0.1:${port}/`);
  const bob = await connectAndRegister(`ws://127.0.0.1:${port}/`);
  const got = nextMessage(bob);
  alice.registeredSend('over node:http', bob.publicKey);
  t.same(await got, ['over node:http', alice.publicKey]);
  // Without a Host header, and no expectedHosts, there is nothing a signature could name.
  await t.rejects(connectAndRegister(`ws://127.0.0.1:${port}/`, undefined, { timeout: 5000 }), /bad signature/);
  alice.close();
  bob.close();
  await wss.close();
  http.close();
  hub.detach();
});

t.test('detach stops taking new connections', async (t) => {
  const server = new WebSocketServer({ port: 0 });
  const hub = new RegistrationHub();
  t.equal(hub.attach(server).attach(server), hub, 'attaching twice is harmless');
  await server.ready;
  const alice = await connectAndRegister(server.url);
  t.same(hub.keys(), [alice.publicKey]);
  hub.detach();
  const ws = await connect(server.url);
  // An attached hub sends its challenge the moment a connection opens, before anything the server
  // does later; so if the close of the shutdown arrives first, no challenge was sent.
  const first = Promise.race([once(ws, 'message').then(() => 'message'), closed(ws).then(() => 'closed')]);
  const shutdown = server.close();
  t.equal(await first, 'closed');
  await shutdown;
});

t.test('register() ignores binary from the server and fails when the server just closes', async (t) => {
  const server = new WebSocketServer({ port: 0 });
  server.on('connection', (ws) => {
    ws.send(Buffer.from('{"challenge":"abc"}'));
    ws.close(4000, 'not a registration server');
  });
  await server.ready;
  const error = (await t.rejects(connectAndRegister(server.url))) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_CLOSED');
  t.equal(error.closeCode, 4000);
  t.match(error.message, '4000 not a registration server');
  await server.close();
});

t.test('a message for a connection that is closing is dropped, not sent', async (t) => {
  const { url, hub } = await hubServer(t);
  const serverSide = new Map<string, WebSocket>();
  hub.on('registered', (key, ws) => serverSide.set(key, ws));
  const alice = await connectAndRegister(url);
  const bob = await connectAndRegister(url);
  // Alice stops reading, so the server's close stays unanswered: her connection stays CLOSING.
  (alice.socket as unknown as { pause(): void }).pause();
  serverSide.get(alice.publicKey)!.close(1001, 'going away');
  bob.registeredSend('too late', alice.publicKey);
  const echo = nextMessage(bob);
  bob.registeredSend('to myself', bob.publicKey); // processed after the one before it
  t.same(await echo, ['to myself', bob.publicKey]);
  t.ok(hub.keys().includes(alice.publicKey), 'still registered until the close completes');
  alice.socket.terminate();
  bob.close();
});

t.test('onProtocol: a Node client hears the challenge as it came and the exact string it signed', async (t) => {
  const { server } = await hubServer(t);
  const events: { type: string; text?: string; message?: string; nonce?: string; host?: string; publicKey?: string; heartbeat?: boolean }[] = [];
  const keys = await nodeCrypto.generateKeyPair();
  const ws = await connect(server.url);
  const registration = await register(ws, keys, { onProtocol: (event) => events.push(event) });
  const challenge = JSON.parse(events.find((e) => e.type === 'received')!.text!);
  const signed = events.find((e) => e.type === 'signed')!;
  t.equal(signed.nonce, challenge.challenge, 'the nonce signed is the one that arrived');
  t.equal(signed.host, new URL(server.url).host, 'for the host connected to');
  t.equal(signed.message, `simpatico-registration-v1\n${signed.host}\n${signed.nonce}`, 'domain tag, host and nonce, one per line');
  t.equal(signed.heartbeat, false);
  t.equal(registration.publicKey, signed.publicKey);
  t.throws(() => register(ws, keys, { onProtocol: 'log' as never }), { code: 'WS_ERR_INVALID_OPTION' });
  // connectAndRegister passes it on too.
  const heard: string[] = [];
  const other = await connectAndRegister(server.url, undefined, { onProtocol: (event) => heard.push(event.type) });
  t.same(heard, ['received', 'signed', 'received'], 'the challenge, the answer, the acceptance');
  other.close();
  ws.close();
  await closed(ws);
});
