/**
 * The Node client of the Simpatico Registration Protocol: `register(ws, keyPair)` answers the
 * server's challenges on a connection, resolves once the server accepts the key, and gives
 * `registeredSend(data, to?)`. A refusal rejects the promise with a `WebSocketError` — the seed's
 * "if invalid, then throw an exception".
 */

import { EventEmitter } from 'node:events';
import { WebSocketError } from '../errors.js';
import { connect, type ClientOptions } from '../client/connect.js';
import { WebSocket } from '../websocket.js';
import { RegistrationClientRole, type ClientEvent } from './core/client-role.js';
import { hostOfUrl, type Ed25519KeyPair, type RegistrationCrypto } from './core/crypto.js';
import type { Json } from './core/messages.js';
import { nodeCrypto } from './node-crypto.js';

/** Options of {@link register}. */
export interface RegisterOptions {
  /** The host signed for. Default: the host of the URL the socket connected to (`ws.url`). */
  host?: string;
  /** Default: node:crypto. */
  crypto?: RegistrationCrypto;
  /** Milliseconds to wait for acceptance before giving up and closing (default 15 000). */
  timeout?: number;
}

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
  constructor(
    /** The connection. */
    readonly socket: WebSocket,
    private readonly role: RegistrationClientRole,
  ) {
    super();
  }

  /** This client's key (base64url): the address others send to. */
  get publicKey(): string {
    return this.role.publicKey;
  }

  /**
   * Sends `data` (any JSON value) to every connection registered under `to`, or to every other
   * registered connection when `to` is omitted. Returns `send`'s backpressure flag.
   */
  registeredSend(data: Json, to?: string): boolean {
    return this.socket.send(this.role.registeredSend(data, to));
  }

  /** Closes the connection (RFC 6455 §7.1.2); the key stops being routable to it. */
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }
}

/**
 * Runs the registration on an open connection (call it right after `connect` resolves: the
 * challenge arrives at once). Resolves once the server accepts; rejects with a `WebSocketError`:
 * `WS_ERR_REGISTRATION_REJECTED` (no retries left), `WS_ERR_REGISTRATION_CLOSED` (the connection
 * closed first), `WS_ERR_REGISTRATION_TIMEOUT`.
 */
export function register(ws: WebSocket, keyPair: Ed25519KeyPair, options: RegisterOptions = {}): Promise<Registration> {
  const host = options.host ?? (ws.url === '' ? undefined : hostOfUrl(ws.url));
  if (host === undefined) {
    throw new WebSocketError('WS_ERR_INVALID_ARGUMENT', 'register() needs options.host for a socket without a URL.', { side: 'local' });
  }
  const role = new RegistrationClientRole({ crypto: options.crypto ?? nodeCrypto, keyPair, host });
  const registration = new Registration(ws, role);
  const timeout = options.timeout ?? 15_000;
  return new Promise<Registration>((resolve, reject) => {
    let pending = true;
    const settle = (error?: WebSocketError) => {
      if (!pending) return false;
      pending = false;
      clearTimeout(timer);
      if (error === undefined) resolve(registration);
      else reject(error);
      return true;
    };
    const timer = setTimeout(() => {
      if (settle(new WebSocketError('WS_ERR_REGISTRATION_TIMEOUT', `The server did not accept the key within ${timeout} ms.`, { side: 'local' }))) {
        ws.close(1000, 'registration timeout');
      }
    }, timeout);
    // Signing is asynchronous: handle server messages one at a time, in order.
    let queue = Promise.resolve();
    const handle = (events: ClientEvent[]) => {
      for (const event of events) {
        switch (event.type) {
          case 'send':
            ws.send(event.text);
            break;
          case 'accepted':
            if (!settle()) registration.emit('heartbeat');
            break;
          case 'rejected':
            break; // the answer to the new challenge is the next event
          case 'failed':
            if (!settle(event.error)) registration.emit('failed', event.error);
            break;
          case 'message':
            registration.emit('message', event.data, event.from);
            break;
          case 'notice':
            registration.emit('notice', event.error, event.to);
            break;
        }
      }
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // the protocol is text; a server never sends binary
      queue = queue.then(() => role.receive(data as string)).then(handle);
    });
    ws.on('close', (code, reason) => {
      const why = `${code}${reason === '' ? '' : ` ${reason}`}`;
      settle(new WebSocketError('WS_ERR_REGISTRATION_CLOSED', `The connection closed (${why}) before the server accepted the key.`, { closeCode: code, side: 'remote' }));
      registration.emit('close', code, reason);
    });
  });
}

/**
 * Connects to `url` and registers: `connect` + {@link register}. Without a key pair, a fresh one
 * is made. A failed registration closes the connection.
 */
export async function connectAndRegister(
  url: string | URL,
  keyPair?: Ed25519KeyPair,
  options: RegisterOptions & ClientOptions = {},
): Promise<Registration> {
  // The key first: the challenge arrives as soon as the connection opens.
  const keys = keyPair ?? (await (options.crypto ?? nodeCrypto).generateKeyPair());
  // The registration's own options are not the connection's.
  const { host: _host, crypto: _crypto, timeout: _timeout, ...connection } = options;
  const ws = await connect(url, connection);
  return register(ws, keys, options).catch((error: unknown) => {
    ws.close(1000);
    throw error;
  });
}
