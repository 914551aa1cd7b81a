// simpatico-ws explain --key: Sec-WebSocket-Accept step by step (RFC 6455 §1.3's example), and
// why an invalid key is invalid (§4.1 item 7).
import t from 'tap';
import { createHash } from 'node:crypto';
import { run } from './helpers.js';

t.test('RFC 6455 §1.3: dGhlIHNhbXBsZSBub25jZQ== → s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, step by step', async (t) => {
  const r = await run(['explain', '--key', 'dGhlIHNhbXBsZSBub25jZQ==']);
  t.equal(r.code, 0);
  t.same(r.errors, []);
  const step = (n: number): string[] => {
    const at = r.lines.findIndex((l) => l.startsWith(`${n}. `));
    return r.lines.slice(at, r.lines.indexOf('', at)).map((l) => l.trim());
  };
  t.same(step(1), [
    '1. The client sends a key: 16 random bytes in base64 (§4.1 item 7).',
    'dGhlIHNhbXBsZSBub25jZQ==',
    '= base64 of 74 68 65 20 73 61 6d 70 6c 65 20 6e 6f 6e 63 65',
    'The server never decodes it: it hashes the 24 characters as they are.',
  ]);
  t.same(step(2), [
    '2. Append the GUID every WebSocket server knows (§1.3): 60 characters.',
    'dGhlIHNhbXBsZSBub25jZQ==',
    '258EAFA5-E914-47DA-95CA-C5AB0DC85B11',
  ]);
  // The digest, computed here independently of the command.
  const digest = createHash('sha1').update('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest();
  t.same(step(3), ['3. SHA-1 of those characters (FIPS 180-4): 20 bytes.', digest.toString('hex').replace(/(..)(?!$)/g, '$1 ')]);
  t.equal(step(3)[1], 'b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea');
  t.same(step(4), ["4. base64 of the digest: the server's Sec-WebSocket-Accept (§4.2.2 step 5.4).", 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
  t.same(r.lines.filter((l) => l.length > 80), []);
});

t.test('an invalid key: why, and exit status 1', async (t) => {
  const cases: [string, RegExp][] = [
    ['dGhlIHNhbXBsZSBub25jZQ', /No padding: these 22 characters hold 16 bytes, but their base64 ends in "=="/],
    ['dGhlIHNhbXBsZSBub25jZQ=', /Wrong length: 23 characters; the base64 of 16 bytes is exactly 24\./],
    ['dGhlIHNhbXBsZSBub25jZQA=', /Wrong length: these 24 characters end in "A=" and decode to 17 bytes, not 16; the base64 of 16 bytes ends in "=="/],
    ['dGhlIHNhbXBsZQ==', /Wrong length: 16 characters, which decode to 10 bytes; the base64 of 16 bytes is exactly 24\./],
    ['', /Wrong length: 0 characters, which decode to 0 bytes/],
    ['dGhlIHNhbXBsZSBub25j!Q==', /Not base64: "!" at character 21 is not in the base64 alphabet \(RFC 4648 §4\)/],
    ['dGhlIHNhbXBsZSBub25jZQ==AAAA', /"=" is padding, and may only end the key/],
    ['dGhlIHNhbXBsZSBub25jZR==', /Not canonical: the last character before "==", "R", sets bits that 16 bytes do not use \(RFC 4648 §3\.5\); the same bytes are spelled dGhlIHNhbXBsZSBub25jZQ==/],
  ];
  for (const [key, why] of cases) {
    const r = await run(['explain', '--key', key]);
    t.equal(r.code, 1, `${JSON.stringify(key)}: exit 1`);
    t.equal(r.lines[0], `✗ ${JSON.stringify(key)} is not a valid Sec-WebSocket-Key.`);
    t.match(r.text, why);
    t.match(r.text, 'A server refuses such a handshake, with 400 Bad Request (§4.2.1)');
    t.notMatch(r.text, 'Sec-WebSocket-Accept, step by step');
  }
});
