/**
 * One client session of the Simpatico Registration Protocol: the loop that turns what a connection
 * reports (a server text, the close) into the client role's answers and into the events the
 * application sees. The Node client (../client.ts) and the browser's `SimpaticoSocket`
 * (../browser/simpatico-socket.ts) are thin adapters over it: each only wires its own WebSocket
 * and its own event style to a {@link SessionTransport} and a {@link SessionListener}.
 *
 * What the loop guarantees, in both environments:
 * - Server texts are handled one at a time, in the order they arrived: signing is asynchronous,
 *   and an answer must not overtake the challenge before it, nor a message the acceptance.
 * - `registered` settles exactly once: with the key on the first acceptance, or with a
 *   `WebSocketError` — refused for good, closed first, the client's own timeout, no key pair, a
 *   key pair that cannot sign.
 * - Listener exceptions are not swallowed: the loop goes on with the next text and the exception
 *   surfaces as an uncaught error, as a throwing event listener's does.
 *
 * Environment-neutral: compiled for the browser too (tsconfig.browser.json); no Node imports.
 */

import { WebSocketError } from '../../errors.js';
import { RegistrationClientRole, type ClientEvent } from './client-role.js';
import { encodeBase64url } from './base64url.js';
import { RegistrationErrorCode as E } from './codes.js';
import type { Ed25519KeyPair, RegistrationCrypto } from './crypto.js';
import type { Json } from './messages.js';

/** What the session needs of a connection. */
export interface SessionTransport {
  /** Sends a text to the server; the adapter drops it if the connection is no longer open. */
  send(text: string): void;
  /** Starts the closing handshake (RFC 6455 §7.1.2). */
  close(code: number, reason: string): void;
}

/** What the session reports. */
export type SessionEvent =
  /** The server accepted an answer: the registration itself (`heartbeat: false`), or a heartbeat. */
  | { type: 'registered'; publicKey: string; heartbeat: boolean }
  /** An answer was refused and the answer to the new challenge is on its way. */
  | { type: 'rejected'; retries: number; reason: string | undefined }
  /** A routed message; `from` is the sender's key as the server verified it. */
  | { type: 'message'; from: string; data: Json }
  /** An `{"error": ...}` reply from the server, e.g. `unknown recipient` (with `to`). */
  | { type: 'notice'; error: string; to: string | undefined }
  /**
   * A failure. `pending: true` when it is the one that rejected `registered`; `false` for a
   * failure after the registration (a heartbeat refused for good).
   */
  | { type: 'error'; error: WebSocketError; pending: boolean };

export type SessionListener = (event: SessionEvent) => void;

/**
 * The protocol as the session runs it, for a program that wants to show or log it (the demo's
 * protocol panel): what came from the server, and what was signed to answer it. Reported only to
 * an `onProtocol` listener; a session without one does not collect them.
 */
export type ProtocolEvent =
  /** A text from the server, exactly as it arrived, reported just before it is handled (in order). */
  | { type: 'received'; text: string }
  /**
   * An answer to a challenge was signed and is about to be sent (PROTOCOL.md, step 2 or 6).
   * `message` is the exact string whose UTF-8 `bytes` were signed:
   * `domain` + `\n` + `host` + `\n` + `nonce` (see `registrationMessage`).
   */
  | {
      type: 'signed';
      /** The signature's domain tag, `simpatico-registration-v1`. */
      domain: string;
      /** The host signed for, normalised as the server compares it (lowercase `hostname[:port]`). */
      host: string;
      /** The server's challenge, as it arrived. */
      nonce: string;
      /** The signed string. */
      message: string;
      /** Its UTF-8 bytes: what Ed25519 signed (RFC 8032 §5.1.6). */
      bytes: Uint8Array;
      /** This client's public key, base64url (RFC 8032 §5.1.5, 32 bytes). */
      publicKey: string;
      /** The signature, base64url (64 bytes). */
      signature: string;
      /** The text sent to the server: `{"publicKey": …, "response": …}`. */
      answer: string;
      /** True when the challenge came after the registration (a heartbeat, PROTOCOL.md step 6). */
      heartbeat: boolean;
    };

export type ProtocolListener = (event: ProtocolEvent) => void;

/** What a session is made of. */
export interface ClientSessionOptions {
  crypto: RegistrationCrypto;
  /** This client's identity, or the promise of one (the browser makes its key pair asynchronously). */
  keyPair: Ed25519KeyPair | Promise<Ed25519KeyPair>;
  /** The host the client connected to (`hostOfUrl(url)`): part of what is signed. */
  host: string;
  /** Milliseconds to wait for acceptance before giving up and closing; none when omitted. */
  timeout?: number;
  /** Hears the protocol as it runs ({@link ProtocolEvent}): server texts, and what was signed. */
  onProtocol?: ProtocolListener;
}

const decoder = new TextDecoder();

/** Hands an exception to the environment's uncaught-error reporting, outside any promise. */
function surface(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}

/** One connection's registration, from the first challenge to the close. */
export class ClientSession {
  /** Resolves with this client's key on the first acceptance; rejects with a `WebSocketError`. */
  readonly registered: Promise<string>;
  private role: RegistrationClientRole | undefined;
  private readonly ready: Promise<RegistrationClientRole | undefined>;
  private queue: Promise<void> = Promise.resolve();
  private settle: { resolve(key: string): void; reject(error: WebSocketError): void } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onProtocol: ProtocolListener | undefined;
  /** What the crypto signed, waiting for the role's answer that carries it (one per answer). */
  private readonly signatures: { bytes: Uint8Array; signature: Uint8Array }[] = [];

  constructor(
    private readonly transport: SessionTransport,
    options: ClientSessionOptions,
    private readonly listener: SessionListener,
  ) {
    this.registered = new Promise<string>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Who waits on the promise is the adapter's business; the listener hears of the failure anyway.
    this.registered.catch(() => undefined);
    this.onProtocol = options.onProtocol;
    const crypto = this.onProtocol === undefined ? options.crypto : this.recording(options.crypto);
    const make = (keyPair: Ed25519KeyPair) => (this.role = new RegistrationClientRole({ crypto, keyPair, host: options.host }));
    const { keyPair } = options;
    if (typeof (keyPair as Promise<Ed25519KeyPair>).then === 'function') {
      this.ready = (keyPair as Promise<Ed25519KeyPair>).then(make, (cause: unknown) => {
        this.fail(
          new WebSocketError(
            E.NoEd25519,
            `This client cannot make an Ed25519 key (${String(cause)}). WebCrypto Ed25519 needs a current browser ` +
              'and a secure context: https://, or http://localhost.',
            { side: 'local', cause },
          ),
        );
        this.transport.close(1000, 'no key pair');
        return undefined;
      });
    } else {
      this.ready = Promise.resolve(make(keyPair as Ed25519KeyPair));
    }
    if (options.timeout !== undefined) {
      const timeout = options.timeout;
      this.timer = setTimeout(() => {
        if (this.fail(new WebSocketError(E.Timeout, `The server did not accept the key within ${timeout} ms.`, { side: 'local' }))) {
          this.transport.close(1000, 'registration timeout');
        }
      }, timeout);
    }
  }

  /** This client's key (base64url), once its key pair is ready. */
  get publicKey(): string | undefined {
    return this.role?.publicKey;
  }

  /** True once the server has accepted this client (and until it fails). */
  get isRegistered(): boolean {
    return this.role?.registered === true;
  }

  /** A text from the server: handled after every text before it. */
  receive(text: string): void {
    this.queue = this.queue.then(() => this.step(text)).catch(surface);
  }

  /** The connection closed: a registration still pending fails with `WS_ERR_REGISTRATION_CLOSED`. */
  closed(code: number, reason: string): void {
    const why = `${code}${reason === '' ? '' : ` ${reason}`}`;
    this.fail(
      new WebSocketError(E.Closed, `The connection closed (${why}) before the server accepted the key.`, { closeCode: code, side: 'remote' }),
    );
  }

  /**
   * The text that sends `data` to every connection registered under `to`, or to every other
   * registered connection. Throws `WS_ERR_NOT_REGISTERED` (local) before registration.
   */
  encode(data: Json, to?: string): string {
    if (this.role === undefined) {
      throw new WebSocketError(E.NotRegistered, 'registeredSend() needs a registered session; this one has no key pair yet.', {
        side: 'local',
      });
    }
    return this.role.registeredSend(data, to);
  }

  private async step(text: string): Promise<void> {
    // Without a key pair (already reported) there is nothing to answer with.
    const role = await this.ready;
    if (role === undefined) return;
    this.onProtocol?.({ type: 'received', text });
    const heartbeat = role.registered;
    let events: ClientEvent[];
    try {
      events = await role.receive(text);
    } catch (cause) {
      // receive() itself never throws; signing can (a key pair this crypto did not make). Without
      // an answer the server would close the connection anyway: say why, and close it now.
      const error = new WebSocketError(E.SignFailed, `Signing the answer failed: ${String(cause)}. Use a key pair made by this crypto.`, {
        side: 'local',
        cause,
      });
      if (!this.fail(error)) this.listener({ type: 'error', error, pending: false });
      this.transport.close(1000, 'cannot sign');
      return;
    }
    for (const event of events) {
      switch (event.type) {
        case 'send':
          if (this.onProtocol !== undefined) this.reportSigned(this.onProtocol, role.publicKey, event.text, heartbeat);
          this.transport.send(event.text);
          break;
        case 'accepted':
          if (this.settle !== undefined) {
            this.settle.resolve(event.publicKey);
            this.settle = undefined;
            clearTimeout(this.timer);
          }
          this.listener({ type: 'registered', publicKey: event.publicKey, heartbeat: event.heartbeat });
          break;
        case 'rejected':
          this.listener({ type: 'rejected', retries: event.retries, reason: event.reason });
          break;
        case 'failed':
          // The seed: "if invalid, then throw an exception" — a rejected promise, or an event after it.
          if (!this.fail(event.error)) this.listener({ type: 'error', error: event.error, pending: false });
          break;
        case 'message':
          this.listener({ type: 'message', from: event.from, data: event.data });
          break;
        case 'notice':
          this.listener({ type: 'notice', error: event.error, to: event.to });
          break;
      }
    }
  }

  /**
   * `crypto` with a `sign` that keeps what it signed: the role signs inside `receive`, and this is
   * how the session learns the exact bytes without a second copy of the role's rule. Every other
   * member is the original's (through the prototype), so any implementation of the interface works.
   */
  private recording(crypto: RegistrationCrypto): RegistrationCrypto {
    const signatures = this.signatures;
    return Object.create(crypto, {
      sign: {
        value: async (keyPair: Ed25519KeyPair, bytes: Uint8Array): Promise<Uint8Array> => {
          const signature = await crypto.sign(keyPair, bytes);
          signatures.push({ bytes, signature });
          return signature;
        },
      },
    }) as RegistrationCrypto;
  }

  /** The `signed` event for the answer `text`: the role signs exactly once per answer it sends. */
  private reportSigned(listener: ProtocolListener, publicKey: string, answer: string, heartbeat: boolean): void {
    const { bytes, signature } = this.signatures.shift() as { bytes: Uint8Array; signature: Uint8Array };
    const message = decoder.decode(bytes);
    // domain \n host \n nonce: the domain is fixed and a nonce is base64url (no \n), so the
    // first and the last line break delimit the host whatever it holds.
    const first = message.indexOf('\n');
    const last = message.lastIndexOf('\n');
    listener({
      type: 'signed',
      domain: message.slice(0, first),
      host: message.slice(first + 1, last),
      nonce: message.slice(last + 1),
      message,
      bytes,
      publicKey,
      signature: encodeBase64url(signature),
      answer,
      heartbeat,
    });
  }

  /** Rejects `registered` if it is still pending (and tells the listener); false if it was settled. */
  private fail(error: WebSocketError): boolean {
    const settle = this.settle;
    if (settle === undefined) return false;
    this.settle = undefined;
    clearTimeout(this.timer);
    settle.reject(error);
    this.listener({ type: 'error', error, pending: true });
    return true;
  }
}
