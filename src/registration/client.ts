/**
 * The Node client of the Simpatico Registration Protocol: `register(ws, keyPair)` answers the
 * server's challenges on a connection, resolves once the server accepts the key, and gives
 * `registeredSend(data, to?)`. A refusal rejects the promise with a `WebSocketError` — the seed's
 * "if invalid, then throw an exception".
 */

import { EventEmitter } from 'node:events';
import { WebSocketError } from '../errors.js';
import { connect, type ClientOptions } from '../client/connect.js';
import { checkOptions, rule } from '../options.js';
import type { WebSocket } from '../websocket.js';
import { ClientSession, type ProtocolListener, type SessionEvent } from './core/client-session.js';
import { RegistrationErrorCode } from './core/codes.js';
import { hostOfUrl, type Ed25519KeyPair, type RegistrationCrypto } from './core/crypto.js';
import type { Json } from './core/messages.js';
import { DURATION_RULE, SERVER_RULES } from './core/server-options.js';
import { nodeCrypto } from './node-crypto.js';

/** Options of {@link register}. */
export interface RegisterOptions {
  /** The host signed for. Default: the host of the URL the socket connected to (`ws.url`). */
  host?: string;
  /** Default: node:crypto. */
  crypto?: RegistrationCrypto;
  /** Milliseconds to wait for acceptance before giving up and closing (default 15 000). */
  timeout?: number;
  /**
   * Hears the protocol as it runs, from the first challenge on: each server text as it arrived, and
   * for each answer the exact string signed (domain tag, host, nonce), its key and signature — what
   * the browser demo's panel shows. Without it, nothing is collected.
   */
  onProtocol?: ProtocolListener;
}

const DEFAULT_TIMEOUT = 15_000;

const REGISTER_RULES = {
  host: rule.string,
  crypto: SERVER_RULES.crypto,
  timeout: DURATION_RULE,
  onProtocol: rule.function,
};

/** Events of a {@link Registration}. */
export interface RegistrationEvents {
  /** A routed message; `from` is the sender's key as the server verified it. */
  message: [data: Json, from: string];
  /** An `{"error": ...}` reply from the server, e.g. `unknown recipient` (with `to`). */
  notice: [error: string, to: string | undefined];
  /** A heartbeat challenge was answered and accepted. */
  heartbeat: [];
  /** The server refused a heartbeat answer for good; it closes the connection. */
  failed: [error: WebSocketError];
  /** The connection closed. */
  close: [code: number, reason: string];
}

/** A connection whose key the server has accepted. */
export class Registration extends EventEmitter<RegistrationEvents> {
  /** @internal */
  session!: ClientSession;

  /** @internal */
  constructor(
    /** The connection. */
    readonly socket: WebSocket,
  ) {
    super();
  }

  /** This client's key (base64url): the address others send to. */
  get publicKey(): string {
    return this.session.publicKey as string;
  }

  /**
   * Sends `data` (any JSON value) to every connection registered under `to`, or to every other
   * registered connection when `to` is omitted. Returns `send`'s backpressure flag.
   */
  registeredSend(data: Json, to?: string): boolean {
    return this.socket.send(this.session.encode(data, to));
  }

  /** Closes the connection (RFC 6455 §7.1.2); the key stops being routable to it. */
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** @internal The session's events, as this emitter's. */
  dispatch(event: SessionEvent): void {
    switch (event.type) {
      case 'registered':
        if (event.heartbeat) this.emit('heartbeat');
        break;
      case 'message':
        this.emit('message', event.data, event.from);
        break;
      case 'notice':
        this.emit('notice', event.error, event.to);
        break;
      case 'error':
        // A failure of the registration itself rejects register()'s promise instead.
        if (!event.pending) this.emit('failed', event.error);
        break;
      case 'rejected':
        break; // the answer to the new challenge is already on its way
    }
  }
}

/**
 * Runs the registration on an open connection (call it right after `connect` resolves: the
 * challenge arrives at once). Resolves once the server accepts; rejects with a `WebSocketError`:
 * `WS_ERR_REGISTRATION_REJECTED` (no retries left), `WS_ERR_REGISTRATION_CLOSED` (the connection
 * closed first), `WS_ERR_REGISTRATION_TIMEOUT`.
 *
 * @throws WebSocketError `WS_ERR_INVALID_OPTION` for a wrong option; `WS_ERR_INVALID_ARGUMENT`
 *   for a socket without a URL and no `host` option.
 */
export function register(ws: WebSocket, keyPair: Ed25519KeyPair, options: RegisterOptions = {}): Promise<Registration> {
  checkOptions('register()', options, REGISTER_RULES);
  const host = options.host ?? (ws.url === '' ? undefined : hostOfUrl(ws.url));
  if (host === undefined) {
    throw new WebSocketError(RegistrationErrorCode.InvalidArgument, 'register() needs options.host for a socket without a URL.', { side: 'local' });
  }
  const registration = new Registration(ws);
  const session = new ClientSession(
    { send: (text) => ws.send(text), close: (code, reason) => ws.close(code, reason) },
    { crypto: options.crypto ?? nodeCrypto, keyPair, host, timeout: options.timeout ?? DEFAULT_TIMEOUT, onProtocol: options.onProtocol },
    (event) => registration.dispatch(event),
  );
  registration.session = session;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) session.receive(data as string); // the protocol is text; a server never sends binary
  });
  ws.on('close', (code, reason) => {
    session.closed(code, reason);
    registration.emit('close', code, reason);
  });
  return session.registered.then(() => registration);
}

/**
 * Connects to `url` and registers: `connect` + {@link register}. Without a key pair, a fresh one
 * is made. A failed registration closes the connection. `host`, `crypto` and `timeout` are
 * {@link register}'s; every other option is `connect`'s.
 */
export async function connectAndRegister(
  url: string | URL,
  keyPair?: Ed25519KeyPair,
  options: RegisterOptions & ClientOptions = {},
): Promise<Registration> {
  const { host, crypto, timeout, onProtocol, ...connectOptions } = options;
  const registerOptions = { host, crypto, timeout, onProtocol };
  checkOptions('connectAndRegister()', registerOptions, REGISTER_RULES);
  // The key first: the challenge arrives as soon as the connection opens.
  const keys = keyPair ?? (await (crypto ?? nodeCrypto).generateKeyPair());
  const ws = await connect(url, connectOptions);
  return register(ws, keys, registerOptions).catch((error: unknown) => {
    ws.close(1000);
    throw error;
  });
}
