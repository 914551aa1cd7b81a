/**
 * The client's side of the opening handshake (RFC 6455 §4.1): build the request for a ws:// or
 * wss:// URL, then check the server's answer before any frame is read.
 */
import { isIP } from 'node:net';
import { WebSocketError } from '../errors.js';
import type { HandshakeErrorCode } from './codes.js';
import { acceptKey, generateKey, isValidKey } from './accept.js';
import { parseExtensions, type ExtensionOffer } from './extensions.js';
import type { ResponseHead } from './head-parser.js';
import {
  PERMESSAGE_DEFLATE,
  acceptDeflateAnswer,
  deflateOffer,
  type DeflateClientPolicy,
  type DeflateParameters,
} from './permessage-deflate.js';
import { checkHeader, checkHeaders } from './responses.js';
import { getHeader, isToken, listHasToken, parseTokenList } from './tokens.js';

/** What the client asks for. */
export interface ClientRequestOptions {
  /** Subprotocols to offer, most preferred first: unique tokens (RFC 6455 §4.1 item 10). */
  protocols?: readonly string[];
  /** The Origin header to send (browsers always send one; other clients may). */
  origin?: string;
  /** Extra request headers, validated like response headers. */
  headers?: Record<string, string>;
  /** The already formatted Sec-WebSocket-Extensions offer (see `formatExtensions`). */
  extensions?: string;
  /**
   * Offer permessage-deflate (RFC 7692) under this policy (made by `deflateClientPolicy`); the
   * offer goes after `extensions`. Pass the same policy to `validateServerResponse`.
   */
  perMessageDeflate?: DeflateClientPolicy;
  /** A fixed Sec-WebSocket-Key, for tests only: a real client MUST use a fresh random nonce (§4.1 item 7). */
  key?: string;
}

/** The request bytes and where to send them. */
export interface ClientRequest {
  /** The complete request head, ready to write. */
  request: Buffer;
  /** The key we sent, needed to check Sec-WebSocket-Accept. */
  key: string;
  /** The host to connect to: a name or an IP address, without IPv6 brackets. */
  host: string;
  port: number;
  /** true for wss: (connect with TLS). */
  secure: boolean;
  /** Path and query, the request-target (RFC 6455 §3 /resource name/). */
  path: string;
  /** The TLS server name (SNI, RFC 6066 §3): the host name, or '' for an IP address, which SNI may not carry. */
  servername: string;
}

function localError(code: HandshakeErrorCode, message: string): WebSocketError {
  return new WebSocketError(code, message, { side: 'local' });
}

/** Headers the builder writes itself; supplying them in `headers` is refused. */
const REQUEST_RESERVED = [
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
];

/**
 * Check a WebSocket URL and build the opening handshake request (RFC 6455 §4.1):
 *
 *     GET /chat?room=1 HTTP/1.1
 *     Host: example.com:8000
 *     Upgrade: websocket
 *     Connection: Upgrade
 *     Sec-WebSocket-Key: <16 random bytes, base64>
 *     Sec-WebSocket-Version: 13
 *     [Origin, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions, extra headers]
 *
 * URLs: `ws:` and `wss:` (RFC 6455 §3); `http:` and `https:` are accepted and mean `ws:` and `wss:`,
 * as the WHATWG WebSocket constructor does. A fragment is refused (RFC 6455 §3: "MUST NOT be
 * used"), and so are credentials in the URL, which would otherwise be silently dropped: send an
 * Authorization header instead. Host carries the port only when it is not the default (RFC 6455
 * §4.1 item 4). A bad URL, option or header throws a `WebSocketError` with side 'local'.
 */
export function buildClientRequest(url: string | URL, options: ClientRequestOptions = {}): ClientRequest {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw localError('WS_ERR_INVALID_URL', `invalid URL: ${String(url)}`);
  }
  const scheme = parsed.protocol;
  if (scheme !== 'ws:' && scheme !== 'wss:' && scheme !== 'http:' && scheme !== 'https:') {
    throw localError('WS_ERR_INVALID_URL', `a WebSocket URL starts with ws: or wss:, not ${scheme}`);
  }
  if (parsed.hash !== '' || parsed.href.endsWith('#')) {
    throw localError('WS_ERR_INVALID_URL', 'a WebSocket URL has no fragment (#...)');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw localError('WS_ERR_INVALID_URL', 'credentials in the URL are not sent; use an Authorization header');
  }
  const secure = scheme === 'wss:' || scheme === 'https:';
  const defaultPort = secure ? 443 : 80;
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  const hostname = parsed.hostname; // lower-cased and punycoded by the URL parser; IPv6 in brackets
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const hostHeader = port === defaultPort ? hostname : `${hostname}:${port}`;
  // ws, wss, http and https are "special" schemes in the WHATWG URL standard: their pathname is
  // never empty ("ws://h" has pathname "/"), which is the /resource name/ RFC 6455 §3 wants.
  const path = `${parsed.pathname}${parsed.search}`;

  const key = options.key ?? generateKey();
  if (!isValidKey(key)) throw localError('WS_ERR_INVALID_OPTION', 'key must be the base64 of 16 bytes');

  const lines: Array<readonly [string, string]> = [
    ['Host', hostHeader],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (options.origin !== undefined) {
    checkHeader('Origin', options.origin);
    lines.push(['Origin', options.origin]);
  }
  const protocols = options.protocols ?? [];
  for (const [i, name] of protocols.entries()) {
    if (typeof name !== 'string' || !isToken(name) || protocols.indexOf(name) !== i) {
      throw localError('WS_ERR_INVALID_OPTION', `subprotocols must be unique tokens, got ${JSON.stringify(name)}`);
    }
  }
  if (protocols.length > 0) lines.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);
  const offers = [options.extensions ?? '', options.perMessageDeflate === undefined ? '' : deflateOffer(options.perMessageDeflate)];
  const extensions = offers.filter((offer) => offer !== '').join(', ');
  if (extensions !== '') {
    checkHeader('Sec-WebSocket-Extensions', extensions);
    lines.push(['Sec-WebSocket-Extensions', extensions]);
  }
  const reserved = options.origin === undefined ? REQUEST_RESERVED : [...REQUEST_RESERVED, 'origin'];
  lines.push(...checkHeaders(options.headers, reserved));

  let text = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of lines) text += `${name}: ${value}\r\n`;
  return {
    request: Buffer.from(`${text}\r\n`, 'latin1'),
    key,
    host,
    port,
    secure,
    path,
    servername: isIP(host) === 0 ? host : '',
  };
}

/** A handshake refused with a status other than 101: the error carries the response head. */
export class HandshakeResponseError extends WebSocketError {
  /** The server's response head (status, reason, headers), e.g. to read a Location or Retry-After. */
  readonly response: ResponseHead;
  constructor(response: ResponseHead) {
    super(
      'WS_ERR_HANDSHAKE_STATUS',
      `the server answered ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`} instead of 101 Switching Protocols`,
      { status: response.status, side: 'remote' },
    );
    this.name = 'HandshakeResponseError';
    this.response = response;
  }
}

/** What the server's 101 established. */
export type ServerResponseCheck =
  | {
      ok: true;
      protocol: string | undefined;
      /** The server's Sec-WebSocket-Extensions, parsed. */
      extensions: ExtensionOffer[];
      /** The permessage-deflate parameters in force; undefined when the server did not accept it. */
      deflate: DeflateParameters | undefined;
    }
  | { ok: false; error: WebSocketError };

function fail(code: HandshakeErrorCode, message: string): ServerResponseCheck {
  return { ok: false, error: new WebSocketError(code, message, { side: 'remote' }) };
}

/**
 * The client's checks of the server's response (RFC 6455 §4.1, "the client MUST validate the
 * server's response as follows"); any failure means _Fail the WebSocket Connection_:
 * 1. status 101 — else a `HandshakeResponseError` carrying the status and the head;
 * 2. Upgrade is `websocket` (case-insensitive) and Connection lists `Upgrade`;
 * 3. Sec-WebSocket-Accept is `acceptKey(key)`;
 * 4. Sec-WebSocket-Extensions names only extensions we offered (§4.1 item 5) — `extensions` by
 *    name, and permessage-deflate when `perMessageDeflate` is given, whose answer must then pass
 *    the checks of RFC 7692 §7 (see `acceptDeflateAnswer`);
 * 5. Sec-WebSocket-Protocol, if present, is one of the protocols we offered (§4.1 item 6).
 */
export function validateServerResponse(
  head: ResponseHead,
  expected: { key: string; protocols?: readonly string[]; extensions?: readonly string[]; perMessageDeflate?: DeflateClientPolicy },
): ServerResponseCheck {
  if (head.status !== 101) return { ok: false, error: new HandshakeResponseError(head) };
  const headers = head.headers;

  // §4.1 item 2: the value is "websocket"; a list of several protocols is not an answer.
  const upgrade = parseTokenList(getHeader(headers, 'upgrade'));
  if (upgrade.length !== 1 || upgrade[0]?.toLowerCase() !== 'websocket') {
    return fail('WS_ERR_HANDSHAKE_UPGRADE', 'the server response has no "Upgrade: websocket"');
  }
  // §4.1 item 3.
  if (!listHasToken(getHeader(headers, 'connection'), 'upgrade')) {
    return fail('WS_ERR_HANDSHAKE_CONNECTION', 'the server response has no "Connection: Upgrade"');
  }
  // §4.1 item 4: proof that the server read our key (not a cached or cross-protocol answer).
  if (getHeader(headers, 'sec-websocket-accept') !== acceptKey(expected.key)) {
    return fail('WS_ERR_HANDSHAKE_ACCEPT', 'Sec-WebSocket-Accept does not match the key we sent');
  }

  // §4.1 item 5: "If the response includes a Sec-WebSocket-Extensions header field and this header
  // field indicates the use of an extension that was not present in the client's handshake ...".
  let extensions: ExtensionOffer[] = [];
  let deflate: DeflateParameters | undefined;
  const extensionsHeader = getHeader(headers, 'sec-websocket-extensions');
  if (extensionsHeader !== undefined) {
    const parsed = parseExtensions(extensionsHeader);
    if (parsed instanceof WebSocketError) return fail('WS_ERR_HANDSHAKE_EXTENSIONS', parsed.message);
    const offered = expected.perMessageDeflate === undefined ? (expected.extensions ?? []) : [...(expected.extensions ?? []), PERMESSAGE_DEFLATE];
    const unknown = parsed.find((extension) => !offered.includes(extension.name));
    if (unknown !== undefined) {
      return fail('WS_ERR_HANDSHAKE_EXTENSIONS', `the server accepted extension ${unknown.name}, which we did not offer`);
    }
    if (expected.perMessageDeflate !== undefined) {
      const answer = acceptDeflateAnswer(parsed, expected.perMessageDeflate);
      if (answer instanceof WebSocketError) return { ok: false, error: answer };
      deflate = answer;
    }
    extensions = parsed;
  }

  // §4.1 item 6: the selected subprotocol is exactly one of ours (names are case-sensitive).
  const protocolHeader = getHeader(headers, 'sec-websocket-protocol');
  let protocol: string | undefined;
  if (protocolHeader !== undefined) {
    const offered = expected.protocols ?? [];
    if (!offered.includes(protocolHeader)) {
      return fail('WS_ERR_HANDSHAKE_PROTOCOL', `the server selected subprotocol ${JSON.stringify(protocolHeader)}, which we did not offer`);
    }
    protocol = protocolHeader;
  }
  return { ok: true, protocol, extensions, deflate };
}
