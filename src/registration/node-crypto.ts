/**
 * The registration crypto on node:crypto: Ed25519 through KeyObjects.
 *
 * node:crypto takes keys as DER or JWK, not raw bytes, so a raw 32-byte public key is wrapped in
 * the fixed SubjectPublicKeyInfo prefix for Ed25519 (RFC 8410 §4: SEQUENCE { SEQUENCE { OID
 * 1.3.101.112 }, BIT STRING key }), and a 32-byte seed in the fixed PKCS #8 prefix (RFC 8410 §7).
 */

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, KeyObject } from 'node:crypto';
import type { Ed25519KeyPair, RegistrationCrypto } from './core/crypto.js';
import { PUBLIC_KEY_BYTES } from './core/crypto.js';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}

function privateKeyOf(keyPair: Ed25519KeyPair): KeyObject {
  const key = keyPair.privateKey;
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('keyPair.privateKey must be an Ed25519 KeyObject (from nodeCrypto.generateKeyPair or keyPairFromSeed)');
  }
  return key;
}

/**
 * The key pair whose private key is the 32-byte Ed25519 `seed` (RFC 8032 §5.1.5), so that a
 * client can keep its address across restarts by storing 32 bytes.
 */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { publicKey: rawPublicKey(createPublicKey(privateKey)), privateKey };
}

/** Registration crypto on node:crypto. */
export const nodeCrypto: RegistrationCrypto = {
  randomBytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n));
  },
  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
    try {
      const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      // Ed25519 takes no digest: the algorithm argument is null (RFC 8032 signs the message itself).
      return verify(null, message, key, signature);
      /* c8 ignore start */
    } catch {
      // OpenSSL 3 neither validates the point on import nor throws for a wrong-length signature,
      // so this does not run today; it keeps peer bytes from ever throwing if that changes.
      return false;
    }
    /* c8 ignore stop */
  },
  async sign(keyPair: Ed25519KeyPair, message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(sign(null, message, privateKeyOf(keyPair)));
  },
  async generateKeyPair(): Promise<Ed25519KeyPair> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return { publicKey: rawPublicKey(publicKey), privateKey };
  },
};
