// The one client session both clients share (core/client-session.ts), driven by the real server
// role through a transport that records what the session sends and closes. Real Ed25519.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ClientSession, type SessionEvent } from '../../src/registration/core/client-session.js';
import type { Ed25519KeyPair, RegistrationCrypto } from '../../src/registration/core/crypto.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { WebSocketError } from '../../src/errors.js';
import { HOST, sentTo, server } from './fixtures/roles.js';

/** A session whose transport records its texts and its close, and whose events are collected. */
function session(options: { crypto?: RegistrationCrypto; keyPair?: Ed25519KeyPair | Promise<Ed25519KeyPair>; timeout?: number } = {}) {
  const sent: string[] = [];
  const closes: [number, string][] = [];
  const events: SessionEvent[] = [];
  let onSend: (text: string) => void = () => undefined;
  const s = new ClientSession(
    {
      send: (text) => {
        sent.push(text);
        onSend(text);
      },
      close: (code, reason) => closes.push([code, reason]),
    },
    { crypto: options.crypto ?? nodeCrypto, keyPair: options.keyPair ?? nodeCrypto.generateKeyPair(), host: HOST, timeout: options.timeout },
    (event) => events.push(event),
  );
  const nextSend = () => new Promise<string>((resolve) => (onSend = resolve));
  return { s, sent, closes, events, nextSend };
}

/** Lets every queued step of the session run (each is a few microtasks plus a signature). */
const settle = () => new Promise((r) => setTimeout(r, 20));

t.test('registers against the real server role, then routes, heartbeats and reports notices', async (t) => {
  const role = server({ heartbeatInterval: 1000 });
  const { s, events, nextSend } = session();
  t.equal(s.publicKey, undefined, 'the key pair is still being made');
  const answer = nextSend();
  s.receive(sentTo(role.open('c', HOST, 0), 'c').map((m) => JSON.stringify(m))[0]);
  const out = await role.receive('c', await answer, 0);
  t.equal(JSON.parse(await answer).publicKey, s.publicKey);
  t.equal(s.isRegistered, false);
  s.receive(JSON.stringify(sentTo(out, 'c')[0]));
  t.equal(await s.registered, s.publicKey, 'registered resolves with the key');
  t.equal(s.isRegistered, true);
  t.same(events, [{ type: 'registered', publicKey: s.publicKey, heartbeat: false }]);
  t.equal(s.encode('hello there 0'), '{"data":"hello there 0"}');

  // A heartbeat, a routed message and a notice, in the order they arrive.
  const beat = nextSend();
  s.receive(JSON.stringify(sentTo(role.tick('c', 1000), 'c')[0]));
  s.receive('{"from":"K","data":[1e20]}');
  s.receive('{"error":"unknown recipient","to":"K"}');
  const ok = await role.receive('c', await beat, 1001);
  s.receive(JSON.stringify(sentTo(ok, 'c')[0]));
  await settle();
  t.same(events.slice(1), [
    { type: 'message', from: 'K', data: [1e20] },
    { type: 'notice', error: 'unknown recipient', to: 'K' },
    { type: 'registered', publicKey: s.publicKey, heartbeat: true },
  ]);
});

t.test('texts are handled one at a time in order, even while a signature takes long', async (t) => {
  let release: () => void = () => undefined;
  const slow: RegistrationCrypto = {
    ...nodeCrypto,
    sign: async (k, m) => {
      await new Promise<void>((r) => (release = r));
      return nodeCrypto.sign(k, m);
    },
  };
  const keyPair = await nodeCrypto.generateKeyPair();
  const { s, sent, events } = session({ crypto: slow, keyPair });
  s.receive('{"challenge":"abc"}');
  // Already here, before the answer is signed: the acceptance and a message (a server that knew).
  s.receive(JSON.stringify({ publicKey: s.publicKey, response: 'x', accepted: true }));
  s.receive('{"from":"K","data":1}');
  await settle();
  t.same(sent, [], 'nothing sent while signing');
  t.same(events, [], 'and nothing handled past the challenge');
  release();
  await settle();
  t.equal(sent.length, 1);
  t.same(events.map((e) => e.type), ['registered', 'message'], 'then in order');
});

t.test('a refusal with retries is reported and answered; none left rejects registered', async (t) => {
  const { s, sent, events } = session();
  await settle();
  const key = s.publicKey;
  s.receive(JSON.stringify({ publicKey: key, response: 'x', accepted: false, retries: 1, challenge: 'n2', reason: 'bad signature' }));
  s.receive(JSON.stringify({ publicKey: key, response: 'y', accepted: false, retries: 0, reason: 'bad signature' }));
  const error = (await t.rejects(s.registered)) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_REJECTED');
  t.equal(error.side, 'remote');
  t.equal(error.closeCode, 1008);
  t.equal(sent.length, 1, 'the retry was answered');
  t.same(events[0], { type: 'rejected', retries: 1, reason: 'bad signature' });
  t.same(events[1], { type: 'error', error, pending: true });
  t.equal(events.length, 2);
});

t.test('a heartbeat refused for good is an error event after the registration, not a rejection', async (t) => {
  const { s, events } = session();
  await settle();
  s.receive(JSON.stringify({ publicKey: s.publicKey, response: 'x', accepted: true }));
  await s.registered;
  s.receive(JSON.stringify({ publicKey: s.publicKey, response: 'y', accepted: false, retries: 0, reason: 'key changed' }));
  await settle();
  const last = events.at(-1) as { type: string; error: WebSocketError; pending: boolean };
  t.equal(last.type, 'error');
  t.equal(last.pending, false);
  t.equal(last.error.code, 'WS_ERR_REGISTRATION_REJECTED');
});

t.test('a close before acceptance rejects with WS_ERR_REGISTRATION_CLOSED and the close code', async (t) => {
  const { s, events } = session();
  s.closed(1008, 'registration timeout');
  const error = (await t.rejects(s.registered)) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_CLOSED');
  t.equal(error.closeCode, 1008);
  t.equal(error.side, 'remote');
  t.equal(error.message, 'The connection closed (1008 registration timeout) before the server accepted the key.');
  t.same(events, [{ type: 'error', error, pending: true }]);

  const b = session();
  b.s.closed(1006, '');
  t.match(((await t.rejects(b.s.registered)) as unknown as Error).message, 'closed (1006) before');

  const c = session();
  await settle();
  c.s.receive(JSON.stringify({ publicKey: c.s.publicKey, response: 'x', accepted: true }));
  await c.s.registered;
  c.s.closed(1000, '');
  t.same(c.events.map((e) => e.type), ['registered'], 'a close after registration is no error');
});

t.test('its own timeout rejects, closes with 1000, and is cancelled by acceptance', async (t) => {
  const { s, closes, events } = session({ timeout: 10 });
  const error = (await t.rejects(s.registered)) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_TIMEOUT');
  t.equal(error.side, 'local');
  t.match(error.message, 'within 10 ms');
  t.same(closes, [[1000, 'registration timeout']]);
  t.equal(events.length, 1);

  const keyPair = await nodeCrypto.generateKeyPair();
  const ok = session({ timeout: 50, keyPair });
  ok.s.receive(JSON.stringify({ publicKey: ok.s.publicKey, response: 'x', accepted: true }));
  await ok.s.registered;
  await new Promise((r) => setTimeout(r, 80));
  t.same(ok.closes, [], 'no timeout after acceptance');

  const closed = session({ timeout: 10 });
  closed.s.closed(1001, 'going away');
  await t.rejects(closed.s.registered, { code: 'WS_ERR_REGISTRATION_CLOSED' });
  await new Promise((r) => setTimeout(r, 30));
  t.same(closed.closes, [], 'the timer went with the first failure');
});

t.test('no key pair: WS_ERR_NO_ED25519, the connection closed, texts ignored', async (t) => {
  const { s, sent, closes, events } = session({ keyPair: Promise.reject(new Error('Ed25519 not supported')) });
  const error = (await t.rejects(s.registered)) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_NO_ED25519');
  t.equal(error.side, 'local');
  t.match(error.message, 'cannot make an Ed25519 key (Error: Ed25519 not supported)');
  t.match(error.message, 'secure context');
  t.same(closes, [[1000, 'no key pair']]);
  s.receive('{"challenge":"abc"}');
  await settle();
  t.same(sent, []);
  t.equal(events.length, 1);
  t.throws(() => s.encode('x'), { code: 'WS_ERR_NOT_REGISTERED', message: /no key pair yet/ });
  t.equal(s.isRegistered, false);
});

t.test('a key pair that cannot sign: WS_ERR_REGISTRATION_SIGN_FAILED and a close, before or after registration', async (t) => {
  let fail = true;
  const picky: RegistrationCrypto = { ...nodeCrypto, sign: async (k, m) => (fail ? Promise.reject(new TypeError('not my key')) : nodeCrypto.sign(k, m)) };
  const keyPair = await nodeCrypto.generateKeyPair();
  const a = session({ crypto: picky, keyPair });
  a.s.receive('{"challenge":"abc"}');
  const error = (await t.rejects(a.s.registered)) as unknown as WebSocketError;
  t.equal(error.code, 'WS_ERR_REGISTRATION_SIGN_FAILED');
  t.equal(error.side, 'local');
  t.match(error.message, 'Signing the answer failed: TypeError: not my key');
  t.same(a.closes, [[1000, 'cannot sign']]);

  fail = false;
  const b = session({ crypto: picky, keyPair });
  b.s.receive('{"challenge":"abc"}');
  b.s.receive(JSON.stringify({ publicKey: b.s.publicKey, response: 'x', accepted: true }));
  await b.s.registered;
  fail = true;
  b.s.receive('{"challenge":"def"}');
  await settle();
  const last = b.events.at(-1) as { type: string; error: WebSocketError; pending: boolean };
  t.same([last.type, last.pending, last.error.code], ['error', false, 'WS_ERR_REGISTRATION_SIGN_FAILED']);
  t.same(b.closes, [[1000, 'cannot sign']]);
});

t.test('a listener that throws: the next text is still handled, and the error surfaces uncaught', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/registration/fixtures/throwing-session-listener.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number];
  t.not(code, 0, 'the bug is not swallowed: the process fails');
  t.match(stderr, /listener bug/);
  t.equal(stdout, 'second message handled\n');
});
