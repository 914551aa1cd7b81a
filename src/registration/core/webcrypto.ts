/**
 * The registration crypto on WebCrypto's Ed25519 (Secure Curves in WebCrypto; in Chromium 137+,
 * Firefox 129+, Safari 17+, and in Node 20 as `globalThis.crypto`).
 *
 * Only the few members used here are typed, structurally, so this file compiles both with the DOM
 * library (the browser build) and without it (the Node build).
 */

import type { Ed25519KeyPair, RegistrationCrypto } from './crypto.js';

/** The part of `SubtleCrypto` this file uses. */
export interface Ed25519Subtle {
  generateKey(algorithm: { name: 'Ed25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  exportKey(format: 'raw', key: unknown): Promise<ArrayBuffer>;
  importKey(format: 'raw', keyData: Uint8Array, algorithm: { name: 'Ed25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  sign(algorithm: { name: 'Ed25519' }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: { name: 'Ed25519' }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** The part of `Crypto` this file uses. */
export interface WebCryptoLike {
  readonly subtle: Ed25519Subtle;
  getRandomValues(array: Uint8Array): Uint8Array;
}

const ED25519 = { name: 'Ed25519' } as const;
/** `getRandomValues` fills at most 65 536 bytes per call (WebCrypto §10.1.1). */
const RANDOM_CHUNK = 65_536;

/**
 * Registration crypto on WebCrypto. `webcrypto` defaults to `globalThis.crypto`.
 * Private keys it generates are not extractable: script on the page can sign, not copy the key.
 */
export function webCrypto(webcrypto?: WebCryptoLike): RegistrationCrypto {
  const wc = webcrypto ?? (globalThis as unknown as { crypto: WebCryptoLike }).crypto;
  const subtle = wc.subtle;
  return {
    randomBytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += RANDOM_CHUNK) wc.getRandomValues(out.subarray(i, Math.min(n, i + RANDOM_CHUNK)));
      return out;
    },
    async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
      try {
        const key = await subtle.importKey('raw', publicKey, ED25519, false, ['verify']);
        return await subtle.verify(ED25519, key, signature, message);
      } catch {
        // A key that is not a curve point, or a signature of the wrong length: not valid, not an exception.
        return false;
      }
    },
    async sign(keyPair: Ed25519KeyPair, message: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await subtle.sign(ED25519, keyPair.privateKey, message));
    },
    async generateKeyPair(): Promise<Ed25519KeyPair> {
      const pair = (await subtle.generateKey(ED25519, false, ['sign', 'verify'])) as { publicKey: unknown; privateKey: unknown };
      return { publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)), privateKey: pair.privateKey };
    },
  };
}
