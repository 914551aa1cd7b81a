// The server role, driven message by message with real Ed25519 signatures: acceptance, every
// rejection cause, the retry countdown, timeouts, heartbeats, routing and limits.
import t from 'tap';
import { encodeBase64url } from '../../src/registration/core/base64url.js';
import { registrationMessage } from '../../src/registration/core/crypto.js';
import { RegistrationServerRole } from '../../src/registration/core/server-role.js';
import { WebSocketError } from '../../src/errors.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { HOST, client, closeOf, recipients, registered, sentTo, server, textOf } from './fixtures/roles.js';

/** Signs `nonce` for `host` with a fresh key and returns the answer text. */
async function forgedAnswer(nonce: string, host = HOST, publicKey?: string) {
  const kp = await nodeCrypto.generateKeyPair();
  const sig = await nodeCrypto.sign(kp, registrationMessage(host, nonce));
  return JSON.stringify({ publicKey: publicKey ?? encodeBase64url(kp.publicKey), response: encodeBase64url(sig) });
}

t.test('open sends a fresh 32-byte base64url challenge and asks for the registration deadline', async (t) => {
  const s = server({ registerTimeout: 5000 });
  const out = s.open('a', 'Chat.Example:8080', 100);
  const [msg] = sentTo(out, 'a');
  t.same(Object.keys(msg), ['challenge']);
  t.match(msg.challenge, /^[A-Za-z0-9_-]{43}$/);
  t.same(out.find((a) => a.type === 'timer'), { type: 'timer', conn: 'a', at: 5100 });
  t.same(s.open('a', HOST, 100), [], 'opening the same connection twice does nothing');
  const [other] = sentTo(s.open('b', HOST, 100), 'b');
  t.not(other.challenge, msg.challenge, 'every connection gets its own nonce');
});

t.test('a valid answer is accepted and the key becomes routable', async (t) => {
  const s = server({ heartbeatInterval: 1000 });
  const c = await client('CHAT.example:8080'); // the host is compared lowercase, as Host is
  const [challenge] = sentTo(s.open('a', HOST, 0), 'a');
  const answer = JSON.parse(textOf(await c.receive(JSON.stringify(challenge))));
  t.same(Object.keys(answer), ['publicKey', 'response']);
  t.equal(answer.publicKey, c.publicKey);
  const out = await s.receive('a', JSON.stringify(answer), 10);
  t.same(sentTo(out, 'a'), [{ publicKey: c.publicKey, response: answer.response, accepted: true }]);
  t.same(out.filter((a) => a.type !== 'send'), [
    { type: 'registered', conn: 'a', publicKey: c.publicKey },
    { type: 'timer', conn: 'a', at: 1010 },
  ]);
  t.same(s.keys(), [c.publicKey]);
  t.equal(s.keyOf('a'), c.publicKey);
  t.same(s.connectionsOf(c.publicKey), ['a']);
  t.same(s.connectionsOf('nobody'), []);
});

t.test('each rejection cause gets a new challenge, its reason and the retries left', async (t) => {
  const cases: [string, (nonce: string) => Promise<string>][] = [
    ['bad signature', async (n) => forgedAnswer(n, HOST, (await client()).publicKey)],
    ['bad signature', async (n) => forgedAnswer(n, 'evil.example')], // signed for another host
    ['bad signature', async (n) => forgedAnswer(n + 'x')], // signed another nonce
    ['malformed key', async (n) => JSON.stringify({ publicKey: 'not*base64', response: JSON.parse(await forgedAnswer(n)).response })],
    ['malformed key', async (n) => JSON.stringify({ publicKey: 'AAAA', response: JSON.parse(await forgedAnswer(n)).response })],
    ['malformed signature', async (n) => JSON.stringify({ publicKey: JSON.parse(await forgedAnswer(n)).publicKey, response: 'AAAA' })],
    ['malformed signature', async (n) => JSON.stringify({ publicKey: JSON.parse(await forgedAnswer(n)).publicKey, response: '' })],
  ];
  for (const [reason, make] of cases) {
    const s = server();
    const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
    const answer = await make(challenge);
    const out = await s.receive('a', answer, 1);
    const [reply] = sentTo(out, 'a');
    t.equal(reply.reason, reason, reason);
    t.same(Object.keys(reply), ['publicKey', 'response', 'accepted', 'retries', 'challenge', 'reason']);
    t.equal(reply.accepted, false);
    t.equal(reply.retries, 3);
    t.equal(reply.publicKey, JSON.parse(answer).publicKey, 'the answer is echoed back');
    t.not(reply.challenge, challenge, 'a retry gets a new nonce');
    t.equal(closeOf(out), undefined);
    t.same(s.keys(), []);
  }
});

t.test('bytes that are no curve point are refused, not thrown', async (t) => {
  const s = server();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const good = JSON.parse(await forgedAnswer(challenge));
  const out = await s.receive('a', JSON.stringify({ publicKey: encodeBase64url(new Uint8Array(32).fill(0xff)), response: good.response }), 0);
  t.equal(sentTo(out, 'a')[0].reason, 'bad signature');
});

t.test('a small-order key is refused: its all-zero "signature" would verify for any nonce', async (t) => {
  const zero = new Uint8Array(32);
  // The forgery works against plain Ed25519 verification, so the check is needed, not decorative.
  t.equal(await nodeCrypto.verify(zero, registrationMessage(HOST, 'x'), new Uint8Array(64)), true);
  for (const key of [zero, Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : i === 31 ? 0x80 : 0))]) {
    const s = server();
    sentTo(s.open('a', HOST, 0), 'a');
    const out = await s.receive('a', JSON.stringify({ publicKey: encodeBase64url(key), response: encodeBase64url(new Uint8Array(64)) }), 0);
    t.equal(sentTo(out, 'a')[0].reason, 'weak key');
    t.same(s.keys(), []);
  }
});

t.test('the retry countdown ends with retries 0, no challenge, and close 1008', async (t) => {
  const s = server({ retries: 2 });
  let [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await s.receive('a', await forgedAnswer(challenge, 'wrong.host'), 1);
    const [reply] = sentTo(out, 'a');
    seen.push(reply.retries);
    if (reply.retries === 0) {
      t.equal(reply.challenge, undefined);
      t.same(closeOf(out), { type: 'close', conn: 'a', code: 1008, reason: 'registration failed' });
    } else {
      challenge = reply.challenge;
    }
  }
  t.same(seen, [2, 1, 0]);
  t.same(await s.receive('a', '{"data":1}', 2), [], 'a closed connection is forgotten');
  t.same(s.tick('a', 99_999), []);
  t.same(s.closed('a'), []);
});

t.test('retries: 0 refuses the first wrong answer outright; a retry can still succeed', async (t) => {
  const s0 = server({ retries: 0 });
  const [{ challenge }] = sentTo(s0.open('a', HOST, 0), 'a');
  const out = await s0.receive('a', await forgedAnswer(challenge, 'x'), 0);
  t.equal(sentTo(out, 'a')[0].retries, 0);
  t.equal(closeOf(out)?.code, 1008);

  const s = server();
  const c = await client();
  const [first] = sentTo(s.open('b', HOST, 0), 'b');
  const rejected = sentTo(await s.receive('b', await forgedAnswer(first.challenge, 'x'), 0), 'b')[0];
  const events = await c.receive(JSON.stringify(rejected));
  t.same(events[0], { type: 'rejected', retries: 3, reason: 'bad signature' });
  const accepted = sentTo(await s.receive('b', textOf(events), 0), 'b')[0];
  t.equal(accepted.accepted, true);
});

t.test('a nonce is single-use: replaying an accepted answer fails everywhere', async (t) => {
  const s = server({ heartbeatInterval: 100 });
  const c = await client();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const answer = textOf(await c.receive(JSON.stringify({ challenge })));
  t.equal(sentTo(await s.receive('a', answer, 0), 'a')[0].accepted, true);
  t.same(sentTo(await s.receive('a', answer, 0), 'a'), [{ error: 'no challenge pending' }], 'nothing outstanding');
  // The same answer on a second connection (an eavesdropper replaying it) does not verify.
  sentTo(s.open('b', HOST, 0), 'b');
  t.equal(sentTo(await s.receive('b', answer, 0), 'b')[0].reason, 'bad signature');
  // Nor on the same connection once a heartbeat has issued a new nonce.
  sentTo(s.tick('a', 100), 'a');
  t.equal(sentTo(await s.receive('a', answer, 100), 'a')[0].reason, 'bad signature');
});

t.test('a second answer while the first is being verified finds no challenge', async (t) => {
  const s = server();
  const c = await client();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const answer = textOf(await c.receive(JSON.stringify({ challenge })));
  const first = s.receive('a', answer, 0);
  const second = await s.receive('a', answer, 0);
  t.same(sentTo(second, 'a'), [{ error: 'no challenge pending' }]);
  t.equal(sentTo(await first, 'a')[0].accepted, true);
});

t.test('an expired challenge is refused even with a valid signature', async (t) => {
  const s = server({ nonceTtl: 1000, registerTimeout: 60_000 });
  const c = await client();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const answer = textOf(await c.receive(JSON.stringify({ challenge })));
  const [reply] = sentTo(await s.receive('a', answer, 1001), 'a');
  t.equal(reply.reason, 'expired challenge');
  t.equal(reply.retries, 3);
  const fresh = await c.receive(JSON.stringify(reply));
  t.equal(sentTo(await s.receive('a', textOf(fresh), 1002), 'a')[0].accepted, true, 'the new challenge can be answered');
});

t.test('expectedHosts replaces the Host header', async (t) => {
  const s = server({ expectedHosts: ['Public.Example', 'public.example:8443'] });
  const c = await client('public.example:8443');
  const [{ challenge }] = sentTo(s.open('a', 'internal:8080', 0), 'a');
  t.equal(sentTo(await s.receive('a', textOf(await c.receive(JSON.stringify({ challenge }))), 0), 'a')[0].accepted, true);
  const wrong = await client('internal:8080');
  const [{ challenge: n2 }] = sentTo(s.open('b', 'internal:8080', 0), 'b');
  t.equal(sentTo(await s.receive('b', textOf(await wrong.receive(JSON.stringify({ challenge: n2 }))), 0), 'b')[0].reason, 'bad signature');
});

t.test('without a Host and without expectedHosts nothing verifies, not even a signature for ""', async (t) => {
  const s = server();
  const c = await client('');
  const [{ challenge }] = sentTo(s.open('a', ' ', 0), 'a');
  t.equal(sentTo(await s.receive('a', textOf(await c.receive(JSON.stringify({ challenge }))), 0), 'a')[0].reason, 'bad signature');
});

t.test('the registration timeout closes with 1008; an early tick re-arms the timer', async (t) => {
  const s = server({ registerTimeout: 1000 });
  s.open('a', HOST, 0);
  t.same(s.tick('a', 999), [{ type: 'timer', conn: 'a', at: 1000 }]);
  t.same(s.tick('a', 1000), [{ type: 'close', conn: 'a', code: 1008, reason: 'registration timeout' }]);
});

t.test('heartbeat: a fresh challenge every interval, answered with the same key', async (t) => {
  const s = server({ heartbeatInterval: 1000, heartbeatTimeout: 300 });
  const c = await registered(s, 'a', 0);
  const hb = s.tick('a', 1000);
  const [ping] = sentTo(hb, 'a');
  t.same(Object.keys(ping), ['challenge']);
  t.same(hb.find((a) => a.type === 'timer'), { type: 'timer', conn: 'a', at: 1300 });
  const events = await c.receive(JSON.stringify(ping));
  const out = await s.receive('a', textOf(events), 1100);
  const [ok] = sentTo(out, 'a');
  t.equal(ok.accepted, true);
  t.equal(out.filter((a) => a.type === 'registered').length, 0, 'already registered');
  t.same(out.find((a) => a.type === 'timer'), { type: 'timer', conn: 'a', at: 2100 });
  t.same(await c.receive(JSON.stringify(ok)), [{ type: 'accepted', publicKey: c.publicKey, heartbeat: true }]);
  t.same(s.keys(), [c.publicKey]);
});

t.test('heartbeat: no answer in time closes 1008 and unregisters the key', async (t) => {
  const s = server({ heartbeatInterval: 1000, heartbeatTimeout: 300 });
  const c = await registered(s, 'a', 0);
  s.tick('a', 1000);
  const out = s.tick('a', 1300);
  t.same(out, [
    { type: 'unregistered', conn: 'a', publicKey: c.publicKey },
    { type: 'close', conn: 'a', code: 1008, reason: 'heartbeat timeout' },
  ]);
  t.same(s.keys(), []);
});

t.test('heartbeat: a different key, or wrong answers until retries run out, fail the connection', async (t) => {
  const s = server({ heartbeatInterval: 1000, retries: 1 });
  await registered(s, 'a', 0);
  const [{ challenge }] = sentTo(s.tick('a', 1000), 'a');
  const other = await client();
  const [reply] = sentTo(await s.receive('a', textOf(await other.receive(JSON.stringify({ challenge }))), 1001), 'a');
  t.equal(reply.reason, 'key changed');
  t.equal(reply.retries, 1);
  const out = await s.receive('a', await forgedAnswer(reply.challenge, 'x'), 1002);
  t.equal(sentTo(out, 'a')[0].retries, 0);
  t.same(closeOf(out), { type: 'close', conn: 'a', code: 1008, reason: 'heartbeat failed' });
  t.same(s.keys(), []);
});

t.test('the phase of a connection: CHALLENGED → REGISTERED ⇄ HEARTBEAT → forgotten', async (t) => {
  const s = server({ heartbeatInterval: 1000, heartbeatTimeout: 500 });
  t.equal(s.phaseOf('a'), undefined, 'unknown before open');
  const c = await client();
  const [challenge] = sentTo(s.open('a', HOST, 0), 'a');
  t.equal(s.phaseOf('a'), 'challenged');
  t.equal(s.keyOf('a'), undefined, 'no key while challenged');
  // An answer while CHALLENGED that is refused keeps it CHALLENGED, with a new challenge.
  const refused = sentTo(await s.receive('a', await forgedAnswer(challenge.challenge, 'x'), 0), 'a')[0];
  t.equal(s.phaseOf('a'), 'challenged');
  const ok = await s.receive('a', textOf(await c.receive(JSON.stringify(refused))), 0);
  t.equal(sentTo(ok, 'a')[0].accepted, true);
  t.equal(s.phaseOf('a'), 'registered');
  t.same(sentTo(await s.receive('a', textOf(await c.receive(JSON.stringify(refused))), 0), 'a'), [{ error: 'no challenge pending' }], 'REGISTERED has no challenge');
  const [beat] = sentTo(s.tick('a', 1000), 'a');
  t.equal(s.phaseOf('a'), 'heartbeat');
  t.equal(s.keyOf('a'), c.publicKey, 'still routable while the heartbeat is outstanding');
  await s.receive('a', textOf(await c.receive(JSON.stringify(beat))), 1100);
  t.equal(s.phaseOf('a'), 'registered', 'a valid heartbeat answer returns to REGISTERED');
  s.tick('a', 2100);
  t.equal(s.phaseOf('a'), 'heartbeat');
  t.equal(closeOf(s.tick('a', 2600))?.reason, 'heartbeat timeout');
  t.equal(s.phaseOf('a'), undefined, 'a closed connection is forgotten');
});

t.test('heartbeatInterval 0 turns heartbeats off', async (t) => {
  const s = server({ heartbeatInterval: 0 });
  const c = await client();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const out = await s.receive('a', textOf(await c.receive(JSON.stringify({ challenge }))), 0);
  t.same(out.find((a) => a.type === 'timer'), { type: 'timer', conn: 'a', at: null });
  t.same(s.tick('a', 1e12), [{ type: 'timer', conn: 'a', at: null }]);
});

t.test('routing: direct, broadcast, every connection of a key, unknown recipient', async (t) => {
  const s = server();
  const alice = await registered(s, 'a1');
  await registered(s, 'a2', 0, alice); // the same key from a second tab
  const bob = await registered(s, 'b');
  s.open('u', HOST, 0); // connected, never registered: receives nothing routed

  // One action, one text, for every recipient: the caller encodes it once.
  const direct = await s.receive('b', bob.registeredSend({ hi: [1, 2] }, alice.publicKey), 0);
  t.same(direct, [{ type: 'broadcast', conns: ['a1', 'a2'], text: JSON.stringify({ from: bob.publicKey, data: { hi: [1, 2] } }) }]);
  const broadcast = await s.receive('a1', alice.registeredSend('hello there 0'), 0);
  t.equal(broadcast.length, 1);
  t.same(recipients(broadcast).sort(), ['a2', 'b'], 'every other registered connection, not the sender');
  t.same(sentTo(broadcast, 'b'), [{ from: alice.publicKey, data: 'hello there 0' }]);
  const self = await s.receive('a1', alice.registeredSend(null, alice.publicKey), 0);
  t.same(recipients(self), ['a1', 'a2'], 'to your own key reaches every connection of it');

  t.same(sentTo(await s.receive('b', JSON.stringify({ to: 'nobody', data: 1 }), 0), 'b'), [{ error: 'unknown recipient', to: 'nobody' }]);

  // Closing one tab keeps the key routable through the other; closing both removes it.
  t.same(s.closed('a1'), [{ type: 'unregistered', conn: 'a1', publicKey: alice.publicKey }]);
  t.same(recipients(await s.receive('b', bob.registeredSend(1, alice.publicKey), 0)), ['a2']);
  s.closed('a2');
  t.same(sentTo(await s.receive('b', bob.registeredSend(1, alice.publicKey), 0), 'b')[0].error, 'unknown recipient');
  t.same(s.keys(), [bob.publicKey]);
  t.same(s.closed('u'), [], 'an unregistered connection closes without unregistering anything');
});

t.test('`from` is set by the server: a spoofed from is ignored', async (t) => {
  const s = server();
  const alice = await registered(s, 'a');
  const mallory = await registered(s, 'm');
  const out = await s.receive('m', JSON.stringify({ to: alice.publicKey, from: alice.publicKey, data: 'trust me' }), 0);
  t.same(sentTo(out, 'a'), [{ from: mallory.publicKey, data: 'trust me' }]);
});

t.test('messages before registration do not travel', async (t) => {
  const s = server();
  const bob = await registered(s, 'b');
  s.open('u', HOST, 0);
  const out = await s.receive('u', JSON.stringify({ to: bob.publicKey, data: 'x' }), 0);
  t.same(out, [{ type: 'send', conn: 'u', text: '{"error":"not registered"}' }]);
  t.same(sentTo(await s.receive('u', '{"data":1}', 0), 'u'), [{ error: 'not registered' }]);
});

t.test('malformed input gets an error reply and costs a token', async (t) => {
  const s = server();
  await registered(s, 'a');
  const cases: [string, string][] = [
    ['not json', 'invalid JSON'],
    ['', 'invalid JSON'],
    ['[1,2]', 'invalid message'],
    ['"text"', 'invalid message'],
    ['null', 'invalid message'],
    ['{}', 'invalid message'],
    ['{"to":"k"}', 'invalid message'],
    ['{"to":5,"data":1}', 'invalid message'],
    ['{"publicKey":"k"}', 'invalid message'],
    ['{"publicKey":1,"response":"x"}', 'invalid message'],
    ['{"publicKey":"k","response":"x","data":1}', 'invalid message'],
    ['{"data":1,"data":2}', 'invalid message'], // which one? JSON.parse would keep the last; we refuse
    ['{"to":"k","t\\u006f":"j","data":1}', 'invalid message'], // the same member, spelt with an escape
    [`{"data":${'['.repeat(20000)}${']'.repeat(20000)}}`, 'nesting too deep'],
  ];
  for (const [text, error] of cases) {
    t.same(sentTo(await s.receive('a', text, 0), 'a'), [{ error }], JSON.stringify(text.slice(0, 40)));
  }
});

t.test('data is forwarded as the sender wrote it, byte for byte, never re-serialised', async (t) => {
  const s = server({ maxMessageBytes: 256 });
  const alice = await registered(s, 'a');
  const bob = await registered(s, 'b');
  const cases: [string, string][] = [
    ['{"data": [1e20, 1.0, -0, "\\u00e9", {"b":2,"a":1}] }', '[1e20, 1.0, -0, "\\u00e9", {"b":2,"a":1}]'],
    ['{"data":"hello there 0"}', '"hello there 0"'],
    ['{"data":null,"from":"forged"}', 'null'],
    ['{\n"data"\t:\r\n{ }\n}', '{ }'],
  ];
  for (const [sent, data] of cases) {
    const [action] = await s.receive('a', sent, 0);
    t.same(action, { type: 'broadcast', conns: ['b'], text: `{"from":"${alice.publicKey}","data":${data}}` }, sent);
  }
  // `to` is a JSON string like any other: its escapes are decoded before the lookup.
  const escaped = bob.publicKey.replace(/^./, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  t.same((await s.receive('a', `{"to":"${escaped}","data":7}`, 0))[0], { type: 'broadcast', conns: ['b'], text: `{"from":"${alice.publicKey}","data":7}` });

  // The size rule: the largest message (256 bytes) leaves as at most 256 + FORWARD_OVERHEAD (53).
  const largest = `{"data":"${'x'.repeat(256 - 11)}"}`;
  t.equal(largest.length, 256);
  const [out] = await s.receive('a', largest, 0);
  t.equal((out as { text: string }).text.length, 256 + 53);
});

t.test('nesting: 32 deep is routed, 33 deep is refused with "nesting too deep" and the connection stays', async (t) => {
  const s = server();
  const alice = await registered(s, 'a');
  await registered(s, 'b');
  const deep = (depth: number) => `{"data":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  t.same(sentTo(await s.receive('a', deep(32), 0), 'b'), [{ from: alice.publicKey, data: JSON.parse(deep(32)).data }]);
  const out = await s.receive('a', deep(33), 0);
  t.same(out, [{ type: 'send', conn: 'a', text: '{"error":"nesting too deep"}' }], 'only the sender hears of it');
  t.same(sentTo(await s.receive('a', deep(2), 0), 'b').length, 1, 'still open and routing');
});

t.test('limits: size closes 1009, binary 1003, rate 1008', async (t) => {
  const s = server({ maxMessageBytes: 256 });
  const bob = await registered(s, 'b');
  await registered(s, 'a');
  // 82 three-byte characters: 93 UTF-16 units but 257 UTF-8 bytes.
  t.same(closeOf(await s.receive('a', JSON.stringify({ data: '€'.repeat(82) }), 0)), { type: 'close', conn: 'a', code: 1009, reason: 'message too big' });
  t.same(s.keys(), [bob.publicKey], 'closing unregisters');
  await registered(s, 'c');
  t.equal(closeOf(await s.receive('c', JSON.stringify({ data: 'x'.repeat(246) }), 0))?.code, 1009);
  t.equal((await s.receive('b', JSON.stringify({ data: '€'.repeat(81) }), 0)).length, 0, '254 bytes pass');
  t.equal((await s.receive('b', JSON.stringify({ data: 'x'.repeat(60) }), 0)).length, 0, '71 bytes pass');

  await registered(s, 'd');
  const actions = s.receiveBinary('d');
  t.same(actions.at(-1), { type: 'close', conn: 'd', code: 1003, reason: 'binary messages are not supported' });
  t.same(s.receiveBinary('d'), [], 'already closed');

  // The token bucket: 3 at once (the registration answer used one), then 10 per second.
  const r = server({ rate: 10, burst: 3 });
  await registered(r, 'x', 0);
  const key = r.keys()[0];
  t.same(await r.receive('x', '{"data":1}', 0), []);
  t.same(await r.receive('x', '{"data":1}', 0), []);
  t.same(await r.receive('x', '{"data":1}', 50), [
    { type: 'unregistered', conn: 'x', publicKey: key },
    { type: 'close', conn: 'x', code: 1008, reason: 'rate limit exceeded' },
  ]);
  await registered(r, 'y', 1000);
  t.same(await r.receive('y', '{"data":1}', 1000), []);
  t.same(await r.receive('y', '{"data":1}', 1000), []);
  t.same(await r.receive('y', '{"data":1}', 1100), [], '100 ms at 10/s refills one token');
  const yKey = r.keyOf('y');
  t.same(await r.receive('y', '{"data":1}', 900), [
    { type: 'unregistered', conn: 'y', publicKey: yKey },
    { type: 'close', conn: 'y', code: 1008, reason: 'rate limit exceeded' },
  ], 'a clock that goes backwards refills nothing');
});

t.test('control frames cost a token of the same bucket: a Ping flood is closed 1008', async (t) => {
  const s = server({ rate: 10, burst: 3 });
  t.same(s.receiveControl('nobody', 0), [], 'an unknown connection');
  s.open('u', HOST, 0); // unregistered: it pays all the same
  t.same(s.receiveControl('u', 0), []);
  t.same(s.receiveControl('u', 0), []);
  t.same(await s.receive('u', '{"data":1}', 0), [{ type: 'send', conn: 'u', text: '{"error":"not registered"}' }], 'messages and pings share it');
  t.same(s.receiveControl('u', 0), [{ type: 'close', conn: 'u', code: 1008, reason: 'rate limit exceeded' }]);
  t.same(s.receiveControl('u', 0), [], 'already closed');

  await registered(s, 'r', 1000);
  const key = s.keyOf('r');
  t.same(s.receiveControl('r', 1000), []);
  t.same(s.receiveControl('r', 1100), [], '100 ms at 10/s refills one');
  t.same(s.receiveControl('r', 1100), []);
  t.same(s.receiveControl('r', 1100), [
    { type: 'unregistered', conn: 'r', publicKey: key },
    { type: 'close', conn: 'r', code: 1008, reason: 'rate limit exceeded' },
  ]);
});

t.test('fan-out: each delivery costs the sender one token; a message it cannot pay for goes to nobody', async (t) => {
  // 10 deliveries per second, 5 at once; three recipients, so a broadcast costs 3.
  const s = server({ fanout: 10, fanoutBurst: 5, rate: 1000, burst: 1000 });
  await registered(s, 'a');
  for (const r of ['b', 'c', 'd']) await registered(s, r);
  const send = async (now: number) => s.receive('a', '{"data":"x"}', now);
  t.same(recipients(await send(0)), ['b', 'c', 'd'], '5 tokens: delivered, 2 left');
  t.same(recipients(await send(0)), ['b', 'c', 'd'], '2 tokens, at least one: delivered, and 1 owed');
  const refused = await send(0);
  t.same(refused, [{ type: 'send', conn: 'a', text: '{"error":"fan-out limit exceeded"}' }], 'in debt: nobody gets it, the sender is told');
  t.same(await send(100), refused, '100 ms repay 1 token: the balance is 0, still refused');
  t.same(recipients(await send(200)), ['b', 'c', 'd'], 'after 200 ms the balance is 1: delivered');
  t.equal(s.phaseOf('a'), 'registered', 'refusals do not close the connection');

  // A broadcast larger than the burst still goes out once, and is then repaid in time.
  const big = server({ fanout: 10, fanoutBurst: 2, rate: 1000, burst: 1000 });
  await registered(big, 'a');
  for (const r of ['b', 'c', 'd', 'e', 'f']) await registered(big, r);
  t.equal(recipients(await big.receive('a', '{"data":1}', 0)).length, 5, '5 recipients with a burst of 2');
  t.same(sentTo(await big.receive('a', '{"data":1}', 300), 'a'), [{ error: 'fan-out limit exceeded' }], 'a debt of 3 is not repaid in 300 ms');
  t.equal(recipients(await big.receive('a', '{"data":1}', 400)).length, 5, 'repaid after 400 ms');

  // A direct message to a key with two connections costs two.
  const direct = server({ fanout: 1, fanoutBurst: 2, rate: 1000, burst: 1000 });
  const alice = await registered(direct, 'a1');
  await registered(direct, 'a2', 0, alice);
  await registered(direct, 'b');
  t.same(recipients(await direct.receive('b', JSON.stringify({ to: alice.publicKey, data: 1 }), 0)), ['a1', 'a2']);
  t.same(sentTo(await direct.receive('b', JSON.stringify({ to: alice.publicKey, data: 1 }), 0), 'b'), [{ error: 'fan-out limit exceeded' }]);
  t.same(await direct.receive('b', JSON.stringify({ to: 'nobody', data: 1 }), 0), [
    { type: 'send', conn: 'b', text: '{"error":"unknown recipient","to":"nobody"}' },
  ], 'an unknown recipient costs nothing to deliver');
});

t.test('fan-out bounds a flood: deliveries never exceed the burst plus the rate times the time, plus one broadcast', async (t) => {
  const fanout = 500;
  const s = server({ fanout, rate: 1e6, burst: 1e6 });
  await registered(s, 'sender');
  const n = 99;
  for (let i = 0; i < n; i++) await registered(s, `r${i}`);
  // 19 broadcasts per second for 10 simulated seconds: 18,810 deliveries asked for.
  let delivered = 0;
  let refused = 0;
  for (let i = 0; i < 190; i++) {
    const out = await s.receive('sender', '{"data":"hello"}', (i * 1000) / 19);
    delivered += recipients(out).length;
    if (sentTo(out, 'sender').length > 0) refused++;
  }
  const seconds = (189 * 1000) / 19 / 1000;
  t.ok(delivered <= 2 * fanout + fanout * seconds + n, `${delivered} deliveries in ${seconds.toFixed(2)} s`);
  t.ok(delivered >= fanout * seconds - n, 'and the budget is really spent, not refused outright');
  t.equal(delivered % n, 0, 'whole broadcasts only: a message goes to all or to none');
  t.equal(refused + delivered / n, 190);
});

t.test('invalid options throw WS_ERR_INVALID_OPTION naming the option, the value and what is accepted', async (t) => {
  const bad: [Record<string, unknown>, string][] = [
    [{ retries: -1 }, 'option retries must be a whole number from 0 to 1000; got -1 (a number).'],
    [{ retries: 1.5 }, 'option retries must be a whole number from 0 to 1000; got 1.5 (a number).'],
    [{ retries: 1001 }, 'option retries must be a whole number from 0 to 1000; got 1001 (a number).'],
    [{ nonceTtl: 0 }, 'option nonceTtl must be a number of milliseconds above 0 and at most 2^31 - 1; got 0 (a number).'],
    [{ registerTimeout: Number.NaN }, 'option registerTimeout must be a number of milliseconds above 0 and at most 2^31 - 1; got NaN (a number).'],
    [{ heartbeatInterval: -5 }, 'option heartbeatInterval must be one of 0, or a number of milliseconds above 0 and at most 2^31 - 1; got -5 (a number).'],
    [{ heartbeatTimeout: 2 ** 31 }, 'option heartbeatTimeout must be a number of milliseconds above 0 and at most 2^31 - 1; got 2147483648 (a number).'],
    [{ maxMessageBytes: 255 }, 'option maxMessageBytes must be a whole number of bytes from 256 to 2^31 - 1; got 255 (a number).'],
    [{ rate: 0 }, 'option rate must be a number above 0 and at most 2^53 - 1; got 0 (a number).'],
    [{ burst: '3' }, 'option burst must be a whole number from 1 to 2^53 - 1; got "3" (a string).'],
    [{ fanout: -1 }, 'option fanout must be a number above 0 and at most 2^53 - 1; got -1 (a number).'],
    [{ fanoutBurst: 0.5 }, 'option fanoutBurst must be a whole number from 1 to 2^53 - 1; got 0.5 (a number).'],
    [{ expectedHosts: [] }, 'option expectedHosts must be a non-empty array of host[:port] strings, as clients put them in the URL; got an array of 0.'],
    [{ expectedHosts: 'a.example' }, 'option expectedHosts must be a non-empty array of host[:port] strings'],
    [{ expectedHosts: ['a.example', ' '] }, 'option expectedHosts must be a non-empty array'],
    [{ crypto: {} }, 'option crypto must be an object with randomBytes, verify, sign and generateKeyPair functions'],
    [{ crypto: undefined }, 'option crypto is required: an object with randomBytes'],
    [{ retrys: 2 }, 'unknown option "retrys"; did you mean "retries"? Known options: crypto, expectedHosts, retries,'],
    [{ heartbeat: 2 }, 'unknown option "heartbeat"'],
  ];
  for (const [options, message] of bad) {
    const error = t.throws(() => new RegistrationServerRole({ crypto: nodeCrypto, ...options } as never)) as WebSocketError;
    t.ok(error instanceof WebSocketError, JSON.stringify(options));
    t.equal(error.code, 'WS_ERR_INVALID_OPTION');
    t.equal(error.side, 'local');
    t.match(error.message, `new RegistrationServerRole(): ${message}`);
  }
  t.throws(() => new RegistrationServerRole(undefined as never), { code: 'WS_ERR_INVALID_OPTION', message: /option crypto is required/ });
  t.throws(() => new RegistrationServerRole(7 as never), { code: 'WS_ERR_INVALID_OPTION', message: /options must be an object, got 7 \(a number\)/ });
  t.doesNotThrow(() => new RegistrationServerRole({ crypto: nodeCrypto, retries: 0, heartbeatInterval: 0, burst: undefined }));
});

t.test('a connection that closes while its answer is being verified gets nothing', async (t) => {
  const s = server();
  const c = await client();
  const [{ challenge }] = sentTo(s.open('a', HOST, 0), 'a');
  const pending = s.receive('a', textOf(await c.receive(JSON.stringify({ challenge }))), 0);
  s.closed('a');
  t.same(await pending, []);
  t.same(s.keys(), [], 'and its key is never registered');
});

t.test('a timer that would not change is not asked for again', async (t) => {
  const s = server({ heartbeatInterval: 1000, heartbeatTimeout: 1000 });
  const c = await registered(s, 'a', 0);
  const [ping] = sentTo(s.tick('a', 1000), 'a'); // heartbeat deadline: 2000
  const out = await s.receive('a', textOf(await c.receive(JSON.stringify(ping))), 1000); // next heartbeat: 2000
  t.same(out.map((a) => a.type), ['send']);
});

t.test('receiveText: actions at once for every message but an answer, which is a promise', async (t) => {
  const s = server();
  const a = await registered(s, 'a');
  const b = await registered(s, 'b');
  const routed = s.receiveText('a', JSON.stringify({ to: b.publicKey, data: [1, 'x'] }), 1);
  t.ok(Array.isArray(routed), 'a routed message needs no promise');
  t.same(routed, [{ type: 'broadcast', conns: ['b'], text: `{"from":"${a.publicKey}","data":[1,"x"]}` }]);
  const invalid = s.receiveText('a', '{"data":', 1);
  t.same(invalid, [{ type: 'send', conn: 'a', text: '{"error":"invalid JSON"}' }], 'so does an invalid one');
  t.same(s.receiveText('nobody', '{"data":1}', 1), [], 'an unknown connection gets nothing');
  const [challenge] = sentTo(s.open('c', HOST, 0), 'c');
  const answer = s.receiveText('c', await forgedAnswer(challenge.challenge), 1);
  t.ok(answer instanceof Promise, 'an answer waits for its signature check');
  t.same(sentTo(await answer, 'c').map((m) => m.accepted), [true]);
  t.same(await s.receive('a', JSON.stringify({ to: b.publicKey, data: 2 }), 1), [
    { type: 'broadcast', conns: ['b'], text: `{"from":"${a.publicKey}","data":2}` },
  ], 'receive is the same, as a promise');
});
