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
import { CONNECTION_FOREIGN, CONNECTION_RULES, driverSettings } from '../server/settings.js';
import { clientCompression, type ClientDeflateOptions } from '../server/compression.js';
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
  /**
   * permessage-deflate (RFC 7692): offered by default, as browsers do (`permessage-deflate;
   * client_max_window_bits`), and used if the server accepts; `false` offers nothing; an object
   * sets what is offered and the compressor (`threshold`, `level`, `memLevel`).
   */
  perMessageDeflate?: boolean | ClientDeflateOptions;
  /** ws's TLS options at the top level (as https.request takes them): the same as in `tls`. */
  ca?: tls.ConnectionOptions['ca'];
  cert?: tls.ConnectionOptions['cert'];
  key?: tls.ConnectionOptions['key'];
  pfx?: tls.ConnectionOptions['pfx'];
  passphrase?: string;
  servername?: string;
  /** The local address to connect from (`net.connect`'s option). */
  localAddress?: string;
  /** 4 or 6: the IP family to resolve the host to (`net.connect`'s option). */
  family?: number;
  /** ws's: accepted when 13 (RFC 6455 §4.1: the only version). */
  protocolVersion?: 13;
  /** ws's: accepted when false (redirects are not followed: a 3xx fails with WS_ERR_HANDSHAKE_STATUS, carrying the response). */
  followRedirects?: false;
  /** ws's: accepted when false (text is always validated, RFC 6455 §8.1). */
  skipUTF8Validation?: false;
}

const CLIENT_RULES = {
  ...CONNECTION_RULES,
  protocols: rule.strings,
  headers: rule.object,
  origin: rule.string,
  handshakeTimeout: rule.milliseconds(1),
  tls: rule.object,
  rejectUnauthorized: rule.boolean,
  ca: rule.any,
  cert: rule.any,
  key: rule.any,
  pfx: rule.any,
  passphrase: rule.string,
  servername: rule.string,
  localAddress: rule.string,
  family: rule.oneOf(4, 6, 0),
  textAsBuffer: rule.boolean,
  perMessageDeflate: rule.either(rule.boolean, rule.object),
  protocolVersion: { accepts: '13, the only version (RFC 6455 §4.1)', check: (v: unknown) => v === 13 },
  followRedirects: { accepts: 'false: redirects are not followed (a 3xx fails with WS_ERR_HANDSHAKE_STATUS and carries the response)', check: (v: unknown) => v === false },
  skipUTF8Validation: { accepts: 'false: text is always validated (RFC 6455 §8.1)', check: (v: unknown) => v === false },
};

/** ws's client options that do something else here, or nothing. */
const CLIENT_FOREIGN = {
  ...CONNECTION_FOREIGN,
  maxRedirects: 'is not supported: redirects are not followed.',
  createConnection: 'is not supported: the client opens its own net or tls socket.',
  agent: 'is not supported: the client opens its own net or tls socket.',
  finishRequest: 'is not supported: the request is the opening handshake, sent as it is.',
  generateMask: 'is not supported: masking keys come from crypto.randomFillSync (RFC 6455 §5.3: unpredictable).',
  host: "is not supported: the host (and the Host header) is the URL's.",
  checkServerIdentity: 'is not supported at the top level: give it in tls, as tls.connect takes it.',
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
  const compression = clientCompression(options.perMessageDeflate, 'connect(): perMessageDeflate');
  const built = buildClientRequest(url, {
    protocols: options.protocols,
    origin: options.origin,
    headers: options.headers,
    perMessageDeflate: compression?.policy,
  });
  const { ca, cert, key, pfx, passphrase, servername, localAddress, family } = options;
  const where = { host: built.host, port: built.port, localAddress, family };
  const socket: Duplex = built.secure
    ? tls.connect({
        ...where,
        servername: servername ?? built.servername,
        ...definedOnly({ ca, cert, key, pfx, passphrase }),
        ...options.tls,
        rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized ?? true,
      })
    : net.connect(where);
  const conn = new Connection({
    role: 'client',
    offer: { request: built.request, key: built.key, protocols: options.protocols, perMessageDeflate: compression?.policy },
    maxPayload: options.maxPayload,
    compression: compression?.settings,
  });
  const driver = new Driver(socket, conn, driverSettings(options, options.handshakeTimeout), ws, undefined);
  ws.url = String(url);
  ws.driver = driver;
  ws.textAsBuffer = options.textAsBuffer === true;
  ws.handshakeDone = (error) => {
    done(error);
    if (error === undefined) setImmediate(() => driver.start());
  };
  // Written as soon as the socket connects (Node holds writes until then).
  driver.flush();
}

/** The options that were given (undefined ones would override tls's defaults). */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
