/**
 * Masking (RFC 6455 §5.3), as the RFC writes it: octet i of the transformed data is octet i of the
 * original data XOR octet (i MOD 4) of the 4-byte masking key. The same XOR masks and unmasks.
 *
 * This is the rule to read; mask-fast.ts does the same 8 bytes at a time for the codec, and the
 * tests check it against this function, byte for byte.
 */

/**
 * Returns `data` masked (or unmasked) with the 4-byte `key`, as a new Buffer: `out[i] = data[i] ^
 * key[(start + i) % 4]`. `start` is where `data[0]` sits in the whole payload, for a payload cut in
 * pieces (§5.3: the key index counts from the first byte of the payload, not of the piece).
 */
export function applyMask(data: Uint8Array, key: Uint8Array, start = 0): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[(start + i) % 4];
  return out;
}
