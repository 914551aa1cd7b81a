/**
 * The client: opens a TCP (or TLS) connection, performs the opening handshake of RFC 6455 §4.1
 * with the pure functions of src/handshake, and hands back an OPEN {@link WebSocket}.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketError } from '../errors.js';
import { ResponseHeadParser, buildClientRequest, validateServerResponse } from '../handshake/index.js';
import { WebSocket, type ConnectionOptions } from '../websocket.js';

/** Options of {@link connect}. */
export interface ClientOptions extends ConnectionOptions {
  /** Subprotocols to offer, by preference (`Sec-WebSocket-Protocol`). */
  protocols?: string[];
  /** Extra request headers; names and values are checked so nothing can be injected. */
  headers?: Record<string, string>;
  /** The `Origin` header to send (browsers always send one; other clients usually do not). */
  origin?: string;
  /** Milliseconds for TCP/TLS connect plus the handshake before giving up. Default 10,000. */
  handshakeTimeout?: number;
  /** TLS options for `wss://` (ca, cert, servername, …). */
  tls?: tls.ConnectionOptions;
  /** Whether to check the server's certificate for `wss://` (default true: turn off only in tests). */
  rejectUnauthorized?: boolean;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * Connects to a `ws://` or `wss://` URL.
 *
 * @returns a promise of an OPEN connection; it rejects with a {@link WebSocketError} when the URL
 *   is invalid, the connection fails, the server refuses (the error carries its `status`), the
 *   response breaks RFC 6455 §4.1, or the handshake takes longer than `handshakeTimeout`.
 */
export function connect(url: string | URL, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const built = buildClientRequest(url, {
      protocols: options.protocols,
      origin: options.origin,
      headers: options.headers,
    });
    const socket: Duplex = built.secure
      ? tls.connect({
          host: built.host,
          port: built.port,
          servername: built.servername,
          ...options.tls,
          rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized ?? true,
        })
      : net.connect({ host: built.host, port: built.port });
    const parser = new ResponseHeadParser();

    // Every path that settles the promise first removes every listener and the timer (cleanup),
    // so nothing can settle it twice.
    const fail = (error: WebSocketError): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    const timer = setTimeout(() => {
      const message = `No WebSocket handshake with ${String(url)} within ${timeout} ms.`;
      fail(new WebSocketError('WS_ERR_HANDSHAKE_TIMEOUT', message, { side: 'local' }));
    }, timeout);
    const onError = (error: Error): void =>
      fail(new WebSocketError('WS_ERR_CONNECT', `Could not connect to ${String(url)}: ${error.message}`, { side: 'remote', cause: error }));
    const onClose = (): void =>
      fail(new WebSocketError('WS_ERR_HANDSHAKE_CLOSED', `${String(url)} closed the connection during the handshake.`, { side: 'remote' }));
    const onData = (chunk: Buffer): void => {
      const result = parser.push(chunk);
      if (result.state === 'incomplete') return;
      if (result.state === 'error') {
        fail(result.error);
        return;
      }
      const check = validateServerResponse(result.head, { key: built.key, protocols: options.protocols });
      if (!check.ok) {
        fail(check.error);
        return;
      }
      cleanup();
      const ws = new WebSocket('client', options);
      ws.url = String(url);
      ws.attach(socket, check.protocol ?? '', '');
      resolve(ws);
      // The caller attaches its listeners when the promise settles; frames the server sent right
      // behind its 101 are delivered after that.
      setImmediate(() => ws.start(result.rest));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(built.secure ? 'secureConnect' : 'connect', () => socket.write(built.request));
  });
}
