// base64url, the signed message, and the two crypto implementations (node:crypto and WebCrypto,
// which Node 20 also provides) checked against each other and against RFC 8032's test vector.
import t from 'tap';
import { decodeBase64url, encodeBase64url } from '../../src/registration/core/base64url.js';
import { hostOfUrl, normalizeHost, type RegistrationCrypto } from '../../src/registration/core/crypto.js';
import { webCrypto } from '../../src/registration/core/webcrypto.js';
import { keyPairFromSeed, nodeCrypto } from '../../src/registration/node-crypto.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

t.test('base64url round-trips every length and matches Buffer', async (t) => {
  for (let n = 0; n < 70; n++) {
    const bytes = nodeCrypto.randomBytes(n);
    const text = encodeBase64url(bytes);
    t.equal(text, Buffer.from(bytes).toString('base64url'), `length ${n}`);
    t.same(decodeBase64url(text), bytes);
  }
  t.equal(encodeBase64url(hex('fbff')), '-_8', 'the URL-safe alphabet');
});

t.test('base64url decoding is strict: one spelling per value', async (t) => {
  for (const bad of ['A', 'AAAAA', 'AA==', 'AB', 'AAB', 'A+8', 'A/8', 'A A', 'AÀ', 'Zm9v\n']) {
    t.equal(decodeBase64url(bad), undefined, JSON.stringify(bad));
  }
  t.same(decodeBase64url(''), new Uint8Array(0));
  t.same(decodeBase64url('AA'), new Uint8Array([0]));
  t.same(decodeBase64url('AAE'), new Uint8Array([0, 1]));
});

t.test('hosts: the Host spelling, from a header or a URL', async (t) => {
  t.equal(normalizeHost(' Example.COM:8080 '), 'example.com:8080');
  t.equal(hostOfUrl('ws://Example.com:80/x'), 'example.com', 'the default port is left out, as browsers do');
  t.equal(hostOfUrl('wss://example.com:443/'), 'example.com');
  t.equal(hostOfUrl(new URL('ws://127.0.0.1:8080/')), '127.0.0.1:8080');
  t.equal(hostOfUrl('ws://[::1]:9/'), '[::1]:9');
  t.throws(() => hostOfUrl('not a url'), TypeError);
});

// RFC 8032 §7.1, TEST 2: a one-byte message.
const SEED = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
const PUBLIC = hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
const MESSAGE = hex('72');
const SIGNATURE = hex(
  '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
);

t.test('node:crypto reproduces RFC 8032 test 2', async (t) => {
  const kp = keyPairFromSeed(SEED);
  t.same(kp.publicKey, PUBLIC);
  t.same(await nodeCrypto.sign(kp, MESSAGE), SIGNATURE);
  t.equal(await nodeCrypto.verify(PUBLIC, MESSAGE, SIGNATURE), true);
  t.throws(() => keyPairFromSeed(new Uint8Array(31)), TypeError);
  t.throws(() => keyPairFromSeed([1, 2] as unknown as Uint8Array), TypeError);
});

t.test('WebCrypto verifies RFC 8032 test 2', async (t) => {
  t.equal(await webCrypto().verify(PUBLIC, MESSAGE, SIGNATURE), true);
});

const impls: [string, RegistrationCrypto][] = [
  ['node:crypto', nodeCrypto],
  ['WebCrypto', webCrypto()],
];
for (const [name, impl] of impls) {
  t.test(`${name}: sign, verify, refuse`, async (t) => {
    const kp = await impl.generateKeyPair();
    t.equal(kp.publicKey.length, 32);
    const msg = new TextEncoder().encode('simpatico');
    const sig = await impl.sign(kp, msg);
    t.equal(sig.length, 64);
    for (const [, other] of impls) t.equal(await other.verify(kp.publicKey, msg, sig), true, 'the other implementation agrees');
    const flipped = sig.slice();
    flipped[0] ^= 1;
    t.equal(await impl.verify(kp.publicKey, msg, flipped), false, 'a changed signature');
    t.equal(await impl.verify(kp.publicKey, new TextEncoder().encode('simpaticO'), sig), false, 'a changed message');
    t.equal(await impl.verify(kp.publicKey, msg, sig.subarray(0, 63)), false, 'a short signature');
    t.equal(await impl.verify(kp.publicKey.subarray(0, 31), msg, sig), false, 'a short key');
    t.equal(await impl.verify(new Uint8Array(32).fill(0xff), msg, sig), false, 'bytes that are no curve point');
    const r = impl.randomBytes(70_000);
    t.equal(r.length, 70_000);
    t.not(encodeBase64url(impl.randomBytes(32)), encodeBase64url(impl.randomBytes(32)));
  });
}

t.test('node:crypto refuses to sign with a key it did not make', async (t) => {
  const wk = await webCrypto().generateKeyPair();
  await t.rejects(nodeCrypto.sign(wk, new Uint8Array(1)), TypeError);
  const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('x25519'));
  await t.rejects(nodeCrypto.sign({ publicKey: new Uint8Array(32), privateKey }, new Uint8Array(1)), TypeError);
});
