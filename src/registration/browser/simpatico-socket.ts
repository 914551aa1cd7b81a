/**
 * `SimpaticoSocket`: the browser side of the Simpatico Registration Protocol, as the user's design
 * sketches it — a WebSocket to the page's own URL (http → ws), events for open, message, error and
 * close, `send` and `close`, and `registeredSend` once the server has accepted this page's key.
 *
 * The protocol itself is the environment-neutral client role (../core/client-role.ts); this file
 * only wires it to the browser's WebSocket and WebCrypto. Served as is, no bundler: every import is
 * a relative `.js` path the browser fetches.
 *
 * Events (all `CustomEvent`s, the payload in `detail`):
 * - `open`: the WebSocket opened; `detail: { url }`.
 * - `registered`: the server accepted the key; `detail: { publicKey, heartbeat }` (heartbeat: a
 *   later challenge answered, not the first registration).
 * - `rejected`: an answer was refused and a retry is under way; `detail: { retries, reason }`.
 * - `message`: a routed message; `detail: { from, data }` — `from` is the sender's key, set by the server.
 * - `notice`: an `{"error": ...}` reply from the server; `detail: { error, to }`.
 * - `error`: `detail: { error }`, a `WebSocketError` (registration refused, or the connection failed).
 * - `close`: `detail: { code, reason, wasClean }`.
 */

import { WebSocketError } from '../../errors.js';
import { RegistrationClientRole, type ClientEvent } from '../core/client-role.js';
import { hostOfUrl, type Ed25519KeyPair, type RegistrationCrypto } from '../core/crypto.js';
import type { Json } from '../core/messages.js';
import { webCrypto } from '../core/webcrypto.js';

/** Options of `SimpaticoSocket`; all optional. */
export interface SimpaticoSocketOptions {
  /** Where to connect. Default: this page's URL, `http` → `ws`, without the fragment (the seed's rule). */
  url?: string;
  /** This page's identity. Default: a fresh Ed25519 key pair whose private key cannot be exported. */
  keyPair?: Ed25519KeyPair;
  /** Default: WebCrypto. */
  crypto?: RegistrationCrypto;
}

/** The page's own URL turned into its WebSocket URL, as the seed does it. */
export function pageSocketUrl(location: string): string {
  return location.replace(/^http/, 'ws').split('#')[0];
}

/** A registering WebSocket for the browser. */
export class SimpaticoSocket extends EventTarget {
  /** The WebSocket URL. */
  readonly url: string;
  /** Resolves with this page's public key once registered; rejects with a `WebSocketError` if that fails. */
  readonly registered: Promise<string>;
  /** This page's public key (base64url), once the key pair is ready. */
  publicKey: string | undefined;
  private readonly socket: WebSocket;
  private role: RegistrationClientRole | undefined;
  private readonly ready: Promise<RegistrationClientRole>;
  /** Server messages are handled one at a time, in order (signing is asynchronous). */
  private queue: Promise<void> = Promise.resolve();
  private settle: { resolve(key: string): void; reject(error: WebSocketError): void } | undefined;

  constructor(options: SimpaticoSocketOptions = {}) {
    super();
    this.url = options.url ?? pageSocketUrl(window.location.toString());
    const crypto = options.crypto ?? webCrypto();
    this.registered = new Promise<string>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Nobody may be waiting on the promise; the 'error' event reports the failure either way.
    this.registered.catch(() => undefined);
    this.ready = (options.keyPair ? Promise.resolve(options.keyPair) : crypto.generateKeyPair()).then((keyPair) => {
      this.role = new RegistrationClientRole({ crypto, keyPair, host: hostOfUrl(this.url) });
      this.publicKey = this.role.publicKey;
      return this.role;
    });
    this.ready.catch((cause: unknown) => {
      this.fail(
        new WebSocketError(
          'WS_ERR_NO_ED25519',
          `This page cannot make an Ed25519 key (${String(cause)}). WebCrypto Ed25519 needs a current browser ` +
            'and a secure context: https://, or http://localhost.',
          { side: 'local', cause },
        ),
        true,
      );
      this.socket.close(1000, 'no key pair');
    });
    this.socket = new WebSocket(this.url);
    this.socket.onopen = () => this.emit('open', { url: this.url });
    this.socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return; // the protocol is text; the server never sends binary
      const text = event.data;
      // Without a key pair (reported above) there is nothing to answer with: the chain just stops.
      this.queue = this.queue.then(async () => this.handle(await (await this.ready).receive(text))).catch(() => undefined);
    };
    this.socket.onerror = () => {
      // The browser tells scripts nothing about why (by design); the close event carries the code.
      this.emit('error', { error: new WebSocketError('WS_ERR_CONNECTION', `The WebSocket to ${this.url} failed.`, { side: 'remote' }) });
    };
    this.socket.onclose = (event: CloseEvent) => {
      this.fail(
        new WebSocketError(
          'WS_ERR_REGISTRATION_CLOSED',
          `The connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''}) before the server accepted this page's key.`,
          { closeCode: event.code, side: 'remote' },
        ),
        false,
      );
      this.emit('close', { code: event.code, reason: event.reason, wasClean: event.wasClean });
    };
  }

  /** True while the server routes this page's key to this socket. */
  get isRegistered(): boolean {
    return this.role?.registered === true && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a raw text, as the seed's `send` does; the protocol's own messages are JSON. */
  send(message: string): void {
    this.socket.send(message);
  }

  /**
   * Sends `data` (any JSON value) to every connection registered under the key `to`, or to every
   * other registered connection when `to` is omitted. Throws a `WebSocketError`
   * (`WS_ERR_NOT_REGISTERED`) before registration.
   */
  registeredSend(data: Json, to?: string): void {
    const role = this.role;
    if (role === undefined || this.socket.readyState !== WebSocket.OPEN) {
      throw new WebSocketError('WS_ERR_NOT_REGISTERED', 'registeredSend() needs an open, registered socket.', { side: 'local' });
    }
    this.socket.send(role.registeredSend(data, to));
  }

  /** Starts the closing handshake (RFC 6455 §7.1.2). */
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  private handle(events: ClientEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'send':
          if (this.socket.readyState === WebSocket.OPEN) this.socket.send(event.text);
          break;
        case 'accepted':
          this.settle?.resolve(event.publicKey);
          this.settle = undefined;
          this.emit('registered', { publicKey: event.publicKey, heartbeat: event.heartbeat });
          break;
        case 'rejected':
          this.emit('rejected', { retries: event.retries, reason: event.reason });
          break;
        case 'failed':
          // The seed: "if invalid, then throw an exception" — as a rejected promise and an event.
          this.fail(event.error, true);
          break;
        case 'message':
          this.emit('message', { from: event.from, data: event.data });
          break;
        case 'notice':
          this.emit('notice', { error: event.error, to: event.to });
          break;
      }
    }
  }

  private fail(error: WebSocketError, always: boolean): void {
    const pending = this.settle !== undefined;
    this.settle?.reject(error);
    this.settle = undefined;
    if (pending || always) this.emit('error', { error });
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
