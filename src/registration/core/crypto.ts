/**
 * The crypto the registration protocol needs, behind one small interface so the same protocol
 * code runs on node:crypto (Node) and on WebCrypto (browsers, and Node too).
 *
 * Signatures are Ed25519 (RFC 8032): 32-byte raw public keys, 64-byte signatures.
 */

/** An Ed25519 key pair. `privateKey` is whatever the implementation uses (a KeyObject, a CryptoKey). */
export interface Ed25519KeyPair {
  /** The raw 32-byte public key (RFC 8032 §5.1.5). */
  readonly publicKey: Uint8Array;
  /** Opaque to the protocol; only the implementation that made it can sign with it. */
  readonly privateKey: unknown;
}

/** The four operations the registration roles need. */
export interface RegistrationCrypto {
  /** `n` bytes from a cryptographically secure generator. */
  randomBytes(n: number): Uint8Array;
  /** Resolves `true` only for a valid signature; malformed keys and signatures resolve `false`. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Signs `message` with the private half of `keyPair`. */
  sign(keyPair: Ed25519KeyPair, message: Uint8Array): Promise<Uint8Array>;
  /** A fresh key pair. */
  generateKeyPair(): Promise<Ed25519KeyPair>;
}

/** Length of a raw Ed25519 public key (RFC 8032 §5.1.5). */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature (RFC 8032 §5.1.6). */
export const SIGNATURE_BYTES = 64;
/** Length of a challenge nonce. */
export const NONCE_BYTES = 32;

/**
 * The domain string that starts every signed message. It keeps a registration signature from
 * meaning anything in another protocol, and the version lets a later protocol change the message.
 */
export const SIGNATURE_DOMAIN = 'simpatico-registration-v1';

/**
 * The y-coordinates (little-endian, sign bit cleared) of the eight points of small order on
 * edwards25519, with the two non-canonical spellings of 0 and 1 (y + p). A public key that is one
 * of them proves nothing: signatures by it can be made without any private key, for every message
 * with some probability, so such a key could be "registered" by anyone. RFC 8032 §5.1.7 does not
 * refuse them; we do, as libsodium does.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0: order 4
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1: the identity
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1: order 2
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p: 0, non-canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1: 1, non-canonical
];

/** True when `key` encodes a point of small order (whatever its sign bit): refuse it as an identity. */
export function isSmallOrderKey(key: Uint8Array): boolean {
  let hex = '';
  for (let i = 0; i < key.length; i++) {
    const b = i === 31 ? key[i] & 0x7f : key[i];
    hex += (b < 16 ? '0' : '') + b.toString(16);
  }
  return SMALL_ORDER.includes(hex);
}

const encoder = new TextEncoder();

/**
 * The bytes a client signs: `simpatico-registration-v1\n` + HOST + `\n` + NONCE, UTF-8.
 *
 * HOST is the host the client connected to (what a browser sends as `Host`), so a challenge that
 * a malicious server relays from another server yields a signature that server will not accept.
 */
export function registrationMessage(host: string, nonce: string): Uint8Array {
  return encoder.encode(`${SIGNATURE_DOMAIN}\n${host}\n${nonce}`);
}

/** Normalises a host as a `Host` header carries it: lowercase `hostname[:port]`, no whitespace. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase();
}

/**
 * The HOST a client signs for a URL: `hostname[:port]`, lowercase, the port only when it is not the
 * scheme's default — URL parsing drops :80 for ws/http and :443 for wss/https, exactly as a browser
 * leaves it out of `Host`. Throws a TypeError for a string that is not a URL (local misuse).
 */
export function hostOfUrl(url: string | URL): string {
  return new URL(url).host;
}
