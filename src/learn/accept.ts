/**
 * `simpatico-ws explain --key BASE64`: how a server turns the client's Sec-WebSocket-Key into
 * Sec-WebSocket-Accept (RFC 6455 §4.2.2 step 5.4, with the example of §1.3), step by step, and
 * why a key is refused when it is not the base64 of 16 bytes (§4.1 item 7, §4.2.1 item 5).
 */
import { createHash } from 'node:crypto';
import { GUID, acceptKey, isValidKey } from '../handshake/index.js';
import { Lines } from './layout.js';
import { hexBytes } from './words.js';
import type { Explanation } from './explain.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The accept computation for a valid key; for an invalid one, why it is invalid. */
export function explainKey(key: string): Explanation {
  const out = new Lines();
  if (!isValidKey(key)) {
    out.text(0, `✗ ${JSON.stringify(key)} is not a valid Sec-WebSocket-Key.`);
    out.text(2, `A key is the base64 of 16 bytes (RFC 6455 §4.1 item 7): 22 characters of A–Z a–z 0–9 + / and then "==", 24 in all.`);
    out.text(2, keyProblem(key));
    out.text(2, 'A server refuses such a handshake, with 400 Bad Request (§4.2.1), and no Sec-WebSocket-Accept is computed.');
    return { lines: out.lines, valid: false };
  }
  const joined = key + GUID;
  const digest = createHash('sha1').update(joined, 'latin1').digest();
  const accept = acceptKey(key);
  const nonce = Buffer.from(key, 'base64');
  out.text(0, 'Sec-WebSocket-Accept, step by step (RFC 6455 §4.2.2 step 5.4):');
  out.blank();
  out.text(0, '1. The client sends a key: 16 random bytes in base64 (§4.1 item 7).');
  out.text(5, key);
  out.text(5, `= base64 of ${hexBytes(nonce)}`);
  out.text(5, 'The server never decodes it: it hashes the 24 characters as they are.');
  out.blank();
  out.text(0, `2. Append the GUID every WebSocket server knows (§1.3): ${joined.length} characters.`);
  out.text(5, key);
  out.text(5, `${' '.repeat(key.length)}${GUID}`);
  out.blank();
  out.text(0, '3. SHA-1 of those characters (FIPS 180-4): 20 bytes.');
  out.text(5, hexBytes(digest));
  out.blank();
  out.text(0, '4. base64 of the digest: the server\'s Sec-WebSocket-Accept (§4.2.2 step 5.4).');
  out.text(5, accept);
  out.blank();
  out.text(0, 'The client checks it equals what it computes from its own key (§4.1): proof that the server read a WebSocket handshake (not a cached or cross-protocol answer). It is not authentication or secrecy: anyone can compute it.');
  return { lines: out.lines, valid: true };
}

/** The first reason `key` (already known invalid) is not the base64 of 16 bytes. */
function keyProblem(key: string): string {
  const bad = /[^A-Za-z0-9+/=]/.exec(key);
  if (bad !== null) {
    return `Not base64: ${JSON.stringify(bad[0])} at character ${bad.index + 1} is not in the base64 alphabet (RFC 4648 §4).`;
  }
  if (!BASE64.test(key)) return 'Not base64: "=" is padding, and may only end the key (RFC 4648 §4).';
  const bytes = Buffer.from(key, 'base64').length;
  if (key.length === 22) {
    return 'No padding: these 22 characters hold 16 bytes, but their base64 ends in "==" to make 24 characters (RFC 4648 §4).';
  }
  if (key.length !== 24) {
    return `Wrong length: ${key.length} characters${bytes === 16 ? '' : `, which decode to ${bytes} bytes`}; the base64 of 16 bytes is exactly 24.`;
  }
  if (!key.endsWith('==')) {
    return `Wrong length: these 24 characters end in "${key.slice(22)}" and decode to ${bytes} bytes, not 16; the base64 of 16 bytes ends in "==".`;
  }
  // 22 characters carry 132 bits; 16 bytes are 128, so the last character's low 4 bits are unused.
  const canonical = Buffer.from(key, 'base64').toString('base64');
  return `Not canonical: the last character before "==", ${JSON.stringify(key[21])}, sets bits that 16 bytes do not use (RFC 4648 §3.5); the same bytes are spelled ${canonical}.`;
}
