// The session's protocol events (onProtocol), what the demo's protocol panel shows: every server
// text as it arrived, and for every answer the exact string signed. Driven by the real server
// role with real Ed25519; the server's side is taken from the server, not from the session.
import t from 'tap';
import { ClientSession, type ProtocolEvent, type SessionEvent } from '../../src/registration/core/client-session.js';
import { registrationMessage, SIGNATURE_DOMAIN, type RegistrationCrypto } from '../../src/registration/core/crypto.js';
import { decodeBase64url } from '../../src/registration/core/base64url.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { HOST, sentTo, server } from './fixtures/roles.js';
import { watchedCrypto } from './fixtures/watched-crypto.js';

/** A session with an onProtocol listener; its texts go out through `onSend`. */
async function session(crypto: RegistrationCrypto = nodeCrypto, host = HOST) {
  const sent: string[] = [];
  const events: SessionEvent[] = [];
  const protocol: ProtocolEvent[] = [];
  let onSend: (text: string) => void = () => undefined;
  const s = new ClientSession(
    {
      send: (text) => {
        sent.push(text);
        onSend(text);
      },
      close: () => undefined,
    },
    { crypto, keyPair: await nodeCrypto.generateKeyPair(), host, onProtocol: (e) => protocol.push(e) },
    (e) => events.push(e),
  );
  const nextSend = () => new Promise<string>((resolve) => (onSend = resolve));
  return { s, sent, events, protocol, nextSend };
}

const signed = (events: ProtocolEvent[]) => events.filter((e) => e.type === 'signed');

t.test('received and signed, in order, for the registration and a heartbeat; the server verified those bytes', async (t) => {
  // The server's view: the bytes its crypto verified, and whether they verified.
  const { crypto: watching, verified } = watchedCrypto();
  const role = server({ heartbeatInterval: 1000, crypto: watching });
  const { s, events, protocol, nextSend } = await session(nodeCrypto, 'Chat.Example:8080');
  const challenge = JSON.stringify(sentTo(role.open('c', HOST, 0), 'c')[0]);
  const answer = nextSend();
  s.receive(challenge);
  const accepted = JSON.stringify(sentTo(await role.receive('c', await answer, 0), 'c')[0]);
  s.receive(accepted);
  await s.registered;

  const nonce = JSON.parse(challenge).challenge as string;
  t.same(protocol.map((e) => e.type), ['received', 'signed', 'received']);
  t.same(protocol[0], { type: 'received', text: challenge }, 'the challenge as it arrived');
  t.same(protocol[2], { type: 'received', text: accepted });
  const first = protocol[1] as Extract<ProtocolEvent, { type: 'signed' }>;
  t.equal(first.message, `simpatico-registration-v1\nchat.example:8080\n${nonce}`, 'the host normalised as the server compares it');
  t.same([first.domain, first.host, first.nonce], [SIGNATURE_DOMAIN, 'chat.example:8080', nonce]);
  t.same(first.bytes, registrationMessage('chat.example:8080', nonce));
  t.equal(first.publicKey, s.publicKey);
  t.equal(first.answer, await answer, 'the answer that was sent');
  t.same(JSON.parse(first.answer), { publicKey: s.publicKey, response: first.signature });
  t.equal(decodeBase64url(first.signature)?.length, 64);
  t.equal(first.heartbeat, false);
  t.same(verified, [{ message: first.message, ok: true }], 'the server verified exactly the string reported');

  const beat = nextSend();
  const again = JSON.stringify(sentTo(role.tick('c', 1000), 'c')[0]);
  s.receive(again);
  const ok = JSON.stringify(sentTo(await role.receive('c', await beat, 1001), 'c')[0]);
  s.receive(ok);
  await new Promise((r) => setTimeout(r, 20));
  const second = signed(protocol)[1] as Extract<ProtocolEvent, { type: 'signed' }>;
  t.equal(second.nonce, JSON.parse(again).challenge);
  t.equal(second.heartbeat, true, 'a heartbeat challenge');
  t.equal(verified.at(-1)?.message, second.message);
  t.same(protocol.slice(3).map((e) => e.type), ['received', 'signed', 'received']);
  t.same(events.map((e) => e.type), ['registered', 'registered'], 'the application events are unchanged');
});

t.test('a refused answer: the refusal, then the signature for the new nonce; texts that are not answered', async (t) => {
  const { s, events, protocol, nextSend } = await session();
  await new Promise((r) => setTimeout(r, 20));
  const refusal = JSON.stringify({ publicKey: s.publicKey, response: 'x', accepted: false, retries: 2, challenge: 'n2', reason: 'bad signature' });
  const retry = nextSend();
  s.receive(refusal);
  s.receive('{"error":"unknown recipient","to":"K"}');
  s.receive('not json');
  await retry;
  await new Promise((r) => setTimeout(r, 20));
  t.same(
    protocol.map((e) => (e.type === 'received' ? e.text : `signed ${e.nonce}`)),
    [refusal, 'signed n2', '{"error":"unknown recipient","to":"K"}', 'not json'],
    'every text reported, each before what it caused',
  );
  t.same(events.map((e) => e.type), ['rejected', 'notice'], 'the rejection is reported to the application before the answer');
});

t.test('a crypto that is a class instance: its own sign is called on it; a failed sign reports nothing as signed', async (t) => {
  class Picky implements RegistrationCrypto {
    signs = 0;
    randomBytes(n: number) {
      return nodeCrypto.randomBytes(n);
    }
    verify(k: Uint8Array, m: Uint8Array, sig: Uint8Array) {
      return nodeCrypto.verify(k, m, sig);
    }
    generateKeyPair() {
      return nodeCrypto.generateKeyPair();
    }
    async sign(): Promise<Uint8Array> {
      this.signs++;
      throw new TypeError('not my key');
    }
  }
  const picky = new Picky();
  const { s, sent, protocol } = await session(picky);
  s.receive('{"challenge":"abc"}');
  await t.rejects(s.registered, { code: 'WS_ERR_REGISTRATION_SIGN_FAILED' });
  t.equal(picky.signs, 1, 'a class instance: its own sign was called, with its own this');
  t.same(sent, []);
  t.same(protocol, [{ type: 'received', text: '{"challenge":"abc"}' }], 'nothing signed, nothing reported as signed');
});
