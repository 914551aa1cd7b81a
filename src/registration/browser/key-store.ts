/**
 * The demo page's identity, kept in the browser when the user asks for it: one Ed25519 key pair in
 * IndexedDB. The private key is stored as the CryptoKey itself (IndexedDB stores it by structured
 * clone), and WebCrypto made it non-extractable: a script of this origin can sign with it after a
 * reload, but no script can read its bytes. The public key is stored as its raw 32 bytes.
 *
 * Browser only (IndexedDB); compiled by tsconfig.browser.json.
 */

import type { Ed25519KeyPair } from '../core/crypto.js';

const DB = 'simpatico-ws';
const STORE = 'identity';
const KEY = 'demo';

/** The request's result, or its error, as a promise. */
function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function open(): Promise<IDBDatabase> {
  const request = indexedDB.open(DB, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return done(request);
}

/** Runs `body` on the store in one transaction and resolves once the transaction has committed. */
async function withStore<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    const tx = db.transaction(STORE, mode);
    const result = done(body(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return await result;
  } finally {
    db.close();
  }
}

/** The kept key pair, or undefined when none is kept (or what is stored is not one). */
export async function loadKeyPair(): Promise<Ed25519KeyPair | undefined> {
  const value = (await withStore('readonly', (store) => store.get(KEY))) as { publicKey?: unknown; privateKey?: unknown } | undefined;
  if (value === undefined || !(value.publicKey instanceof Uint8Array) || !(value.privateKey instanceof CryptoKey)) return undefined;
  return { publicKey: value.publicKey, privateKey: value.privateKey };
}

/** Keeps `keyPair`, replacing the one kept before. Its private key must be a CryptoKey. */
export async function saveKeyPair(keyPair: Ed25519KeyPair): Promise<void> {
  await withStore('readwrite', (store) => store.put({ publicKey: keyPair.publicKey, privateKey: keyPair.privateKey }, KEY));
}

/** Forgets the kept key pair, if any. */
export async function forgetKeyPair(): Promise<void> {
  await withStore('readwrite', (store) => store.delete(KEY));
}
