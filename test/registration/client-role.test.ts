// The client role on its own: what it answers, what it reports, and what it ignores.
import t from 'tap';
import { decodeBase64url, encodeBase64url } from '../../src/registration/core/base64url.js';
import { registrationMessage } from '../../src/registration/core/crypto.js';
import { RegistrationClientRole } from '../../src/registration/core/client-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { WebSocketError } from '../../src/errors.js';
import { HOST } from './fixtures/roles.js';

async function make(host = HOST) {
  const keyPair = await nodeCrypto.generateKeyPair();
  return { keyPair, role: new RegistrationClientRole({ crypto: nodeCrypto, keyPair, host }) };
}

t.test('answers a challenge with its key and a signature over domain, host and nonce', async (t) => {
  const { keyPair, role } = await make('Chat.Example:8080');
  t.equal(role.publicKey, encodeBase64url(keyPair.publicKey));
  t.equal(role.registered, false);
  const events = await role.receive(JSON.stringify({ challenge: 'abc_-123' }));
  t.equal(events.length, 1);
  const answer = JSON.parse((events[0] as { text: string }).text);
  t.same(Object.keys(answer), ['publicKey', 'response']);
  const sig = decodeBase64url(answer.response) as Uint8Array;
  t.equal(sig.length, 64);
  t.ok(await nodeCrypto.verify(keyPair.publicKey, registrationMessage('chat.example:8080', 'abc_-123'), sig), 'host lowercased');
  t.same(
    registrationMessage('h:1', 'N'),
    new TextEncoder().encode('simpatico-registration-v1\nh:1\nN'),
    'the signed bytes are exactly the documented string',
  );
});

t.test('accepted: registration, then heartbeats; another key is ignored', async (t) => {
  const { role } = await make();
  t.same(await role.receive(JSON.stringify({ publicKey: 'someone-else', response: 'x', accepted: true })), []);
  t.equal(role.registered, false);
  t.same(await role.receive(JSON.stringify({ publicKey: role.publicKey, response: 'x', accepted: true })), [
    { type: 'accepted', publicKey: role.publicKey, heartbeat: false },
  ]);
  t.equal(role.registered, true);
  t.same(await role.receive(JSON.stringify({ publicKey: role.publicKey, response: 'y', accepted: true })), [
    { type: 'accepted', publicKey: role.publicKey, heartbeat: true },
  ]);
});

t.test('rejected with a challenge: reports it and answers again by itself', async (t) => {
  const { role } = await make();
  const events = await role.receive(JSON.stringify({ publicKey: role.publicKey, response: 'x', accepted: false, retries: 2, challenge: 'n2' }));
  t.same(events[0], { type: 'rejected', retries: 2, reason: undefined });
  t.equal(events[1].type, 'send');
  t.equal(JSON.parse((events[1] as { text: string }).text).publicKey, role.publicKey);
});

t.test('rejected with no retries: failed with a WebSocketError, then deaf', async (t) => {
  for (const msg of [
    { accepted: false, retries: 0, reason: 'bad signature' },
    { accepted: false, retries: 0 },
    { accepted: false, retries: 2 }, // no challenge to answer
    { accepted: false, retries: 2, challenge: 'bad challenge!' },
  ]) {
    const { role } = await make();
    const events = await role.receive(JSON.stringify({ publicKey: role.publicKey, response: 'x', ...msg }));
    t.equal(events.length, 1);
    const failed = events[0] as { type: string; error: WebSocketError };
    t.equal(failed.type, 'failed');
    t.ok(failed.error instanceof WebSocketError);
    t.equal(failed.error.code, 'WS_ERR_REGISTRATION_REJECTED');
    t.equal(failed.error.closeCode, 1008);
    t.equal(failed.error.side, 'remote');
    t.match(failed.error.message, msg.reason === undefined ? /refused registration of key [\w-]+\. Check/ : /\(bad signature\)/);
    t.match(failed.error.message, 'signed for "chat.example:8080"');
    t.same(await role.receive(JSON.stringify({ challenge: 'abc' })), [], 'a failed client answers nothing more');
  }
});

t.test('routed messages and server notices', async (t) => {
  const { role } = await make();
  t.same(await role.receive(JSON.stringify({ from: 'K', data: { x: [1] } })), [{ type: 'message', from: 'K', data: { x: [1] } }]);
  t.same(await role.receive(JSON.stringify({ from: 'K', data: null })), [{ type: 'message', from: 'K', data: null }]);
  t.same(await role.receive(JSON.stringify({ error: 'unknown recipient', to: 'K' })), [{ type: 'notice', error: 'unknown recipient', to: 'K' }]);
  t.same(await role.receive(JSON.stringify({ error: 'not registered' })), [{ type: 'notice', error: 'not registered', to: undefined }]);
});

t.test('anything unrecognised is ignored, never thrown', async (t) => {
  const { role } = await make();
  for (const text of ['', 'nope', '[]', '7', 'null', '{}', '{"challenge":5}', '{"challenge":""}', `{"challenge":"${'a'.repeat(257)}"}`,
    '{"challenge":"a b"}', '{"challenge":"abc","accepted":"yes"}', '{"accepted":true}', '{"accepted":false}', '{"from":"k"}', '{"error":1}']) {
    t.same(await role.receive(text), [], JSON.stringify(text.slice(0, 30)));
  }
});

t.test('registeredSend builds routed messages only once registered', async (t) => {
  const { role } = await make();
  const err = t.throws(() => role.registeredSend('hi')) as WebSocketError;
  t.equal(err.code, 'WS_ERR_NOT_REGISTERED');
  t.equal(err.side, 'local');
  await role.receive(JSON.stringify({ publicKey: role.publicKey, response: 'x', accepted: true }));
  t.equal(role.registeredSend('hello there 0'), '{"data":"hello there 0"}');
  t.equal(role.registeredSend({ a: 1 }, 'KEY'), '{"to":"KEY","data":{"a":1}}');
  const bad = t.throws(() => role.registeredSend('x', 5 as unknown as string)) as WebSocketError;
  t.ok(bad instanceof WebSocketError, 'a wrong `to` is a WebSocketError, like every error of the library');
  t.equal(bad.code, 'WS_ERR_INVALID_ARGUMENT');
  t.equal(bad.side, 'local');
  t.match(bad.message, 'to must be a public key string, got number');
});
