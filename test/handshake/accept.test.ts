// Sec-WebSocket-Key and Sec-WebSocket-Accept (RFC 6455 §4.1 item 7, §4.2.2 step 5.4).
import { createHash } from 'node:crypto';
import t from 'tap';
import { GUID, acceptKey, generateKey, isValidKey } from '../../src/handshake/index.js';

t.test("the RFC's own example (RFC 6455 §1.3, §4.2.2)", async (t) => {
  t.equal(GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  t.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

t.test('acceptKey is base64(SHA-1(key + GUID)) for any key', async (t) => {
  for (let i = 0; i < 20; i++) {
    const key = generateKey();
    const expected = createHash('sha1').update(Buffer.from(key + GUID, 'ascii')).digest().toString('base64');
    t.equal(acceptKey(key), expected);
  }
});

t.test('keys: 16 bytes of base64, canonical', async (t) => {
  t.ok(isValidKey('dGhlIHNhbXBsZSBub25jZQ=='));
  t.ok(isValidKey('AAAAAAAAAAAAAAAAAAAAAA=='));
  t.ok(isValidKey('/////////////////////w=='));
  for (const bad of [
    '',
    'dGhlIHNhbXBsZSBub25jZQ', // no padding
    'dGhlIHNhbXBsZSBub25jZQ=', // short padding
    'dGhlIHNhbXBsZSBub25jZR==', // non-zero unused bits: not canonical
    'dGhlIHNhbXBsZSBub25jZQ==x',
    ' dGhlIHNhbXBsZSBub25jZQ==',
    'dGhlIHNhbXBsZSBub25j-Q==', // base64url alphabet
    'dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==',
    'c2l4dGVlbiBieXRlcyBsb25nIQ==', // 19 bytes
    'AAAAAAAAAAAAAAAAAAAAAAA=', // 17 bytes
  ]) {
    t.notOk(isValidKey(bad), JSON.stringify(bad));
  }
});

t.test('generated keys are valid, 16 bytes, and differ', async (t) => {
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const key = generateKey();
    t.ok(isValidKey(key));
    t.equal(Buffer.from(key, 'base64').length, 16);
    keys.add(key);
  }
  t.equal(keys.size, 50);
});
