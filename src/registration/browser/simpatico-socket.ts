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
 *
 * And the protocol as it runs, for a page that shows it (the demo's protocol panel):
 * - `received`: a text from the server, exactly as it arrived, before it is handled; `detail: { text }`.
 * - `signed`: an answer to a challenge was signed and is being sent; `detail` is the session's
 *   `signed` event: `{ domain, host, nonce, message, bytes, publicKey, signature, answer, heartbeat }`,
 *   `message` being the exact string whose UTF-8 `bytes` were signed.
 */

import { WebSocketError } from '../../errors.js';
import { ClientSession, type ProtocolEvent, type SessionEvent } from '../core/client-session.js';
import { RegistrationErrorCode as E } from '../core/codes.js';
import { hostOfUrl, type Ed25519KeyPair, type RegistrationCrypto } from '../core/crypto.js';
import type { Json } from '../core/messages.js';
import { webCrypto } from '../core/webcrypto.js';

/** Options of `SimpaticoSocket`; all optional. */
export interface SimpaticoSocketOptions {
  /** Where to connect. Default: this page's URL, `http` → `ws`, without the fragment (the seed's rule). */
  url?: string;
  /**
   * This page's identity, or the promise of one (a key read from storage, or still being made).
   * Default: a fresh Ed25519 key pair whose private key cannot be exported.
   */
  keyPair?: Ed25519KeyPair | Promise<Ed25519KeyPair>;
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
  private readonly socket: WebSocket;
  private readonly session: ClientSession;

  constructor(options: SimpaticoSocketOptions = {}) {
    super();
    this.url = options.url ?? pageSocketUrl(window.location.toString());
    const crypto = options.crypto ?? webCrypto();
    this.socket = new WebSocket(this.url);
    this.session = new ClientSession(
      {
        send: (text) => {
          if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
        },
        close: (code, reason) => this.socket.close(code, reason),
      },
      {
        crypto,
        keyPair: options.keyPair ?? crypto.generateKeyPair(),
        host: hostOfUrl(this.url),
        onProtocol: (event) => this.observe(event),
      },
      (event) => this.dispatch(event),
    );
    this.registered = this.session.registered;
    this.socket.onopen = () => this.emit('open', { url: this.url });
    this.socket.onmessage = (event: MessageEvent) => {
      // The protocol is text; the server never sends binary.
      if (typeof event.data === 'string') this.session.receive(event.data);
    };
    this.socket.onerror = () => {
      // The browser tells scripts nothing about why (by design); the close event carries the code.
      this.emit('error', { error: new WebSocketError(E.Connection, `The WebSocket to ${this.url} failed.`, { side: 'remote' }) });
    };
    this.socket.onclose = (event: CloseEvent) => {
      this.session.closed(event.code, event.reason);
      this.emit('close', { code: event.code, reason: event.reason, wasClean: event.wasClean });
    };
  }

  /** This page's public key (base64url), once the key pair is ready. */
  get publicKey(): string | undefined {
    return this.session.publicKey;
  }

  /** True while the server routes this page's key to this socket. */
  get isRegistered(): boolean {
    return this.session.isRegistered && this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a raw text, as the seed's `send` does; the protocol's own messages are JSON. */
  send(message: string): void {
    this.socket.send(message);
  }

  /**
   * Sends `data` (any JSON value) to every connection registered under the key `to`, or to every
   * other registered connection when `to` is omitted. Returns the text sent (`{"to":…,"data":…}`).
   * Throws a `WebSocketError` (`WS_ERR_NOT_REGISTERED`) before registration.
   *
   * The server answers only a message it cannot route (`{"error":"unknown recipient","to":KEY}`,
   * a `notice` event); there is no acknowledgement of one it routed.
   */
  registeredSend(data: Json, to?: string): string {
    if (this.socket.readyState !== WebSocket.OPEN) {
      throw new WebSocketError(E.NotRegistered, 'registeredSend() needs an open, registered socket.', { side: 'local' });
    }
    const text = this.session.encode(data, to);
    this.socket.send(text);
    return text;
  }

  /** Starts the closing handshake (RFC 6455 §7.1.2). */
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** The session's events, as this target's `CustomEvent`s. */
  private dispatch(event: SessionEvent): void {
    switch (event.type) {
      case 'registered':
        this.emit('registered', { publicKey: event.publicKey, heartbeat: event.heartbeat });
        break;
      case 'rejected':
        this.emit('rejected', { retries: event.retries, reason: event.reason });
        break;
      case 'message':
        this.emit('message', { from: event.from, data: event.data });
        break;
      case 'notice':
        this.emit('notice', { error: event.error, to: event.to });
        break;
      case 'error':
        this.emit('error', { error: event.error });
        break;
    }
  }

  /** The session's protocol events, as `received` and `signed` events. */
  private observe(event: ProtocolEvent): void {
    if (event.type === 'received') this.emit('received', { text: event.text });
    else this.emit('signed', event);
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
