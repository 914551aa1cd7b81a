/**
 * The client: opens a TCP (or TLS) connection and runs the opening handshake of RFC 6455 §4.1
 * through the same lifecycle as the server (src/connection/connection.ts), then hands back an OPEN
 * {@link WebSocket}.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { WebSocketError } from '../errors.js';
import { checkOptions, rule } from '../options.js';
import { buildClientRequest } from '../handshake/index.js';
import { Connection } from '../connection/connection.js';
import { Driver } from '../driver.js';
import { CONNECTION_RULES, driverSettings } from '../server/settings.js';
import { WebSocket, type ConnectionOptions } from '../websocket.js';

/** Options of {@link connect}. All are validated when `connect` is called. */
export interface ClientOptions extends ConnectionOptions {
  /** Subprotocols to offer, by preference (`Sec-WebSocket-Protocol`). */
  protocols?: string[];
  /** Extra request headers; names and values are checked so nothing can be injected. */
  headers?: Record<string, string>;
  /** The `Origin` header to send (browsers always send one; other clients usually do not). */
  origin?: string;
  /** ms for TCP/TLS connect plus the opening handshake before giving up. Default 10,000. */
  handshakeTimeout?: number;
  /** TLS options for `wss://` (ca, cert, servername, …). */
  tls?: tls.ConnectionOptions;
  /** Whether to check the server's certificate for `wss://` (default true: turn off only in tests). */
  rejectUnauthorized?: boolean;
}

const CLIENT_RULES = {
  ...CONNECTION_RULES,
  protocols: rule.strings,
  headers: rule.object,
  origin: rule.string,
  handshakeTimeout: rule.milliseconds(1),
  tls: rule.object,
  rejectUnauthorized: rule.boolean,
};

/** ws's client options that do something else here, or nothing. */
const CLIENT_FOREIGN = {
  perMessageDeflate: 'is not supported: no compression is offered.',
  followRedirects: 'is not supported: a redirect fails the handshake with WS_ERR_HANDSHAKE_STATUS (the error carries the response).',
  maxRedirects: 'is not supported: redirects are not followed.',
  protocolVersion: 'is not supported: the version is always 13 (RFC 6455 §4.1).',
  skipUTF8Validation: 'is not supported: text is always validated (RFC 6455 §8.1).',
  autoPong: 'is not supported: Pings are always answered (RFC 6455 §5.5.2).',
};

/**
 * Connects to a `ws://` or `wss://` URL.
 *
 * @returns a promise of an OPEN connection; it rejects with a {@link WebSocketError} when an option
 *   or the URL is invalid (`WS_ERR_INVALID_OPTION`, `WS_ERR_INVALID_URL`), the connection fails
 *   (`WS_ERR_CONNECT`), the server refuses (`WS_ERR_HANDSHAKE_STATUS`, with its `status`), the
 *   response breaks RFC 6455 §4.1, the server closes mid-handshake (`WS_ERR_HANDSHAKE_CLOSED`), or the
 *   handshake takes longer than `handshakeTimeout` (`WS_ERR_HANDSHAKE_TIMEOUT`).
 */
export function connect(url: string | URL, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket();
    openClient(ws, url, options, (error) => (error === undefined ? resolve(ws) : reject(error)));
  });
}

/**
 * Starts the client side of `ws`: `done` hears the handshake's outcome once; messages are delivered
 * from the next turn of the event loop on, so that whoever `done` wakes can listen first.
 * Throws for invalid options or URL.
 */
export function openClient(
  ws: WebSocket,
  url: string | URL,
  options: ClientOptions,
  done: (error: WebSocketError | undefined) => void,
): void {
  checkOptions('connect()', options, CLIENT_RULES, CLIENT_FOREIGN);
  const built = buildClientRequest(url, { protocols: options.protocols, origin: options.origin, headers: options.headers });
  const socket: Duplex = built.secure
    ? tls.connect({
        host: built.host,
        port: built.port,
        servername: built.servername,
        ...options.tls,
        rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized ?? true,
      })
    : net.connect({ host: built.host, port: built.port });
  const conn = new Connection({
    role: 'client',
    offer: { request: built.request, key: built.key, protocols: options.protocols },
    maxPayload: options.maxPayload,
    maxFragments: options.maxFragments,
  });
  const driver = new Driver(socket, conn, driverSettings(options, options.handshakeTimeout), ws, undefined);
  ws.url = String(url);
  ws.driver = driver;
  ws.handshakeDone = (error) => {
    done(error);
    if (error === undefined) setImmediate(() => driver.start());
  };
  // Written as soon as the socket connects (Node holds writes until then).
  driver.flush();
}
