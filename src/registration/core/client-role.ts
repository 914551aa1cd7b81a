/**
 * The client role of the Simpatico Registration Protocol, sans-I/O.
 *
 * Server texts go in (`receive`); out come events: texts to send (the answers to challenges),
 * `accepted`, `rejected` (a retry follows by itself), `failed` (no retries left: the seed's
 * "if invalid, then throw an exception"), routed `message`s and server `notice`s. The server
 * drives every timer, so this role needs no clock. It runs unchanged in Node and in the browser.
 */

import { WebSocketError } from '../../errors.js';
import { encodeBase64url } from './base64url.js';
import { RegistrationErrorCode } from './codes.js';
import { normalizeHost, registrationMessage, type Ed25519KeyPair, type RegistrationCrypto } from './crypto.js';
import { parseServerMessage, type Json } from './messages.js';

/** What the client role needs. */
export interface ClientRoleOptions {
  crypto: RegistrationCrypto;
  keyPair: Ed25519KeyPair;
  /** The host the client connected to, as in the URL (`hostOfUrl(url)`): it is part of what is signed. */
  host: string;
}

/** What happened, for the caller to act on. */
export type ClientEvent =
  /** Send this text to the server. */
  | { type: 'send'; text: string }
  /** The server accepted an answer: registration (`heartbeat: false`) or a heartbeat (`true`). */
  | { type: 'accepted'; publicKey: string; heartbeat: boolean }
  /** The server refused an answer and issued a new challenge; the answer to it is already in `send`. */
  | { type: 'rejected'; retries: number; reason: string | undefined }
  /** The server refused the last allowed answer; it closes the connection with 1008. */
  | { type: 'failed'; error: WebSocketError }
  /** A routed message: `from` is the sender's key, as verified by the server. */
  | { type: 'message'; from: string; data: Json }
  /** An `{"error": ...}` reply from the server (e.g. `unknown recipient`); not fatal. */
  | { type: 'notice'; error: string; to: string | undefined };

/** A challenge must look like a nonce: base64url, and short (ours are 43 characters). */
const CHALLENGE = /^[A-Za-z0-9_-]{1,256}$/;

/** Error codes of the client role (from the registration table, ./codes.ts). */
export const CLIENT_ERROR = {
  /** The server refused every attempt (`accepted: false, retries: 0`). */
  REJECTED: RegistrationErrorCode.Rejected,
  /** `registeredSend` before the server accepted this client. */
  NOT_REGISTERED: RegistrationErrorCode.NotRegistered,
} as const;

/** The client role for one connection. */
export class RegistrationClientRole {
  /** This client's public key, base64url: its routable address once registered. */
  readonly publicKey: string;
  private readonly crypto: RegistrationCrypto;
  private readonly keyPair: Ed25519KeyPair;
  private readonly host: string;
  private state: 'waiting' | 'registered' | 'failed' = 'waiting';

  constructor(options: ClientRoleOptions) {
    this.crypto = options.crypto;
    this.keyPair = options.keyPair;
    this.host = normalizeHost(options.host);
    this.publicKey = encodeBase64url(options.keyPair.publicKey);
  }

  /** True once the server has accepted this client (and until it fails). */
  get registered(): boolean {
    return this.state === 'registered';
  }

  /** A text from the server. Never throws: anything unrecognised is ignored. */
  async receive(text: string): Promise<ClientEvent[]> {
    if (this.state === 'failed') return [];
    const msg = parseServerMessage(text);
    switch (msg.kind) {
      case 'challenge':
        return CHALLENGE.test(msg.challenge) ? [await this.answer(msg.challenge)] : [];
      case 'accepted': {
        if (msg.publicKey !== this.publicKey) return [];
        const heartbeat = this.state === 'registered';
        this.state = 'registered';
        return [{ type: 'accepted', publicKey: this.publicKey, heartbeat }];
      }
      case 'rejected': {
        if (msg.challenge !== undefined && msg.retries > 0 && CHALLENGE.test(msg.challenge)) {
          return [{ type: 'rejected', retries: msg.retries, reason: msg.reason }, await this.answer(msg.challenge)];
        }
        this.state = 'failed';
        const why = msg.reason === undefined ? '' : ` (${msg.reason})`;
        const error = new WebSocketError(
          CLIENT_ERROR.REJECTED,
          `The server refused registration of key ${this.publicKey}${why}. Check that the client signs for the ` +
            `host the server expects (signed for "${this.host}") and that its key pair is intact.`,
          { closeCode: 1008, side: 'remote' },
        );
        return [{ type: 'failed', error }];
      }
      case 'message':
        return [{ type: 'message', from: msg.from, data: msg.data }];
      case 'error':
        return [{ type: 'notice', error: msg.error, to: msg.to }];
      default:
        return [];
    }
  }

  /**
   * The text that sends `data` to every connection registered under `to`, or to every other
   * registered connection when `to` is omitted. Throws a local `WebSocketError` before registration.
   */
  registeredSend(data: Json, to?: string): string {
    if (this.state !== 'registered') {
      throw new WebSocketError(
        CLIENT_ERROR.NOT_REGISTERED,
        'registeredSend() was called before the server accepted this client; wait for the registration to complete.',
        { side: 'local' },
      );
    }
    if (to !== undefined && typeof to !== 'string') {
      throw new WebSocketError(RegistrationErrorCode.InvalidArgument, `registeredSend(): to must be a public key string, got ${typeof to}.`, {
        side: 'local',
      });
    }
    return JSON.stringify(to === undefined ? { data } : { to, data });
  }

  /** Protocol step 2: sign `simpatico-registration-v1\n` + HOST + `\n` + NONCE. */
  private async answer(challenge: string): Promise<ClientEvent> {
    const signature = await this.crypto.sign(this.keyPair, registrationMessage(this.host, challenge));
    return { type: 'send', text: JSON.stringify({ publicKey: this.publicKey, response: encodeBase64url(signature) }) };
  }
}
