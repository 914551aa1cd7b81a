/**
 * The server's side of the opening handshake (RFC 6455 §4.2): is this request a valid WebSocket
 * upgrade, and if so, what do we answer?
 *
 * `validateUpgrade` runs the checks of RFC 6455 §4.2.1 in the RFC's order, preceded by the HTTP
 * checks any server makes (RFC 9110, RFC 9112). It never throws for anything the client sent: a
 * refusal is a value holding the error and the complete HTTP response to write before closing.
 * It reads only `method`, `url`, `httpVersion` and `headers`, so a node:http IncomingMessage
 * (the embedded path) and our own `RequestHead` (the standalone path) go through the same rules.
 */
import { WebSocketError } from '../errors.js';
import type { HandshakeErrorCode } from './codes.js';
import { acceptKey, isValidKey } from './accept.js';
import { parseExtensions, type ExtensionOffer } from './extensions.js';
import type { HeaderMap, RequestHead } from './head-parser.js';
import { negotiateDeflate, type DeflateAgreement, type DeflateServerPolicy } from './permessage-deflate.js';
import { buildErrorResponse } from './responses.js';
import { getHeader, isToken, listHasToken, parseTokenList } from './tokens.js';

/** What the validator reads from a request: our `RequestHead`, or a node:http `IncomingMessage`. */
export interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  httpVersion: string;
  headers: HeaderMap;
}

/** The server's policy for one upgrade. */
export interface UpgradeOptions {
  /**
   * Subprotocols the server speaks, most preferred first: the first one the client also offered
   * is selected. Or a callback that picks one of `offered` (or returns undefined for none).
   * Without this option no subprotocol is selected, whatever the client offers.
   */
  protocols?: readonly string[] | ((offered: string[], request: RequestHead) => string | undefined);
  /**
   * The Origin values to accept (exact match, ASCII case-insensitive), or a callback. A refused
   * origin gets 403 (RFC 6455 §4.2.2 step 4, §10.2). Undefined: every origin — and requests with
   * no Origin at all, which non-browser clients send — is accepted.
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: RequestHead) => boolean);
  /**
   * Accept permessage-deflate (RFC 7692) under this policy (made by `deflateServerPolicy`): the
   * first usable offer is accepted, the others declined. Without this option no extension is
   * accepted, whatever the client offers.
   */
  perMessageDeflate?: DeflateServerPolicy;
}

/** The verdict on an upgrade request. */
export type UpgradeDecision =
  | {
      ok: true;
      /** The client's Sec-WebSocket-Key. */
      key: string;
      /** The Sec-WebSocket-Accept value to send (RFC 6455 §4.2.2 step 5.4). */
      accept: string;
      /** The selected subprotocol, always one the client offered; undefined when none. */
      protocol: string | undefined;
      /** Every subprotocol the client offered, in its order. */
      offeredProtocols: string[];
      /** The client's extension offers (RFC 6455 §9.1), in order, as written. */
      extensions: ExtensionOffer[];
      /**
       * The accepted permessage-deflate offer: the parameters in force and the exact
       * Sec-WebSocket-Extensions value to answer with. Undefined: compression is off.
       */
      deflate: DeflateAgreement | undefined;
      /** The Origin header, when the client sent one (browsers always do). */
      origin: string | undefined;
      /** The /resource name/ (RFC 6455 §3): path and query, also when the target was absolute-form. */
      resource: string;
    }
  | { ok: false; error: WebSocketError; response: Buffer };

function refuse(
  status: number,
  code: HandshakeErrorCode,
  message: string,
  headers?: Record<string, string>,
  side: 'local' | 'remote' = 'remote',
  cause?: unknown,
): UpgradeDecision {
  const error = new WebSocketError(code, message, { status, side, cause });
  return { ok: false, error, response: buildErrorResponse(status, message, headers) };
}

/**
 * The request-target (RFC 9112 §3.2) as a /resource name/ (RFC 6455 §3), or undefined if the form
 * is not one a WebSocket request may use. We accept origin-form (`/chat?x=1`, what every client
 * sends) and absolute-form with an http(s) or ws(s) URI (RFC 9112 §3.2.2: a server MUST accept it;
 * RFC 6455 §4.2.1 item 1 allows it). authority-form and asterisk-form belong to CONNECT and
 * OPTIONS, which never get this far.
 */
function resourceName(target: string): string | undefined {
  if (target.startsWith('/')) return target.includes('#') ? undefined : target;
  const absolute = /^(?:https?|wss?):\/\/[^/?#]+([^#]*)$/i.exec(target);
  if (absolute === null) return undefined;
  const rest = absolute[1] as string;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): a bracketed IP literal or a
 * reg-name, and digits for the port. Stricter than RFC 3986 in one way: a comma (a sub-delim no
 * DNS name uses) is refused, because node:http joins nothing for Host but proxies might.
 */
function isValidHost(host: string): boolean {
  return /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+;=%]+)(?::[0-9]*)?$/.test(host);
}

/**
 * Validate an opening handshake request (RFC 6455 §4.2.1) and decide the answer.
 *
 * In order, each failure with its status:
 * 1. method GET — else 405 with `Allow: GET` (RFC 9110 §15.5.6);
 * 2. HTTP/1.1 or a later 1.x — else 505 (RFC 6455 §4.2.1 item 1 requires 1.1; an HTTP/1.0 server
 *    must even ignore Upgrade, RFC 9110 §7.8);
 * 3. an origin-form or absolute-form target, no fragment — else 400;
 * 4. exactly one valid Host — else 400 (RFC 9112 §3.2);
 * 5. no body: no Transfer-Encoding, Content-Length absent or 0 — else 400 (bytes after the head
 *    are frames, and would be misread as a body or the other way round);
 * 6. Upgrade lists `websocket` and Connection lists `upgrade` (case-insensitive token lists) —
 *    else 426 with `Upgrade: websocket` for a plain HTTP request, 400 for a broken upgrade;
 * 7. Sec-WebSocket-Key is the base64 of 16 bytes — else 400;
 * 8. Sec-WebSocket-Version is 13 — else 426 with `Sec-WebSocket-Version: 13` (RFC 6455 §4.4);
 * 9. the Origin is allowed — else 403;
 * 10. Sec-WebSocket-Protocol is a list of unique tokens — else 400; the server's pick is checked
 *     to be one the client offered;
 * 11. Sec-WebSocket-Extensions parses (RFC 6455 §9.1) — else 400; with `perMessageDeflate`, the
 *     first usable permessage-deflate offer is accepted (RFC 7692 §5) — an unusable one is declined,
 *     never a refusal.
 *
 * A callback that throws, or picks a subprotocol the client did not offer, is our side's fault:
 * 500 with side 'local' (the connection is refused rather than left in an undefined state).
 */
export function validateUpgrade(request: RequestLike, options: UpgradeOptions = {}): UpgradeDecision {
  const method = request.method ?? '';
  const target = request.url ?? '';
  const head: RequestHead =
    typeof request.method === 'string' && typeof request.url === 'string'
      ? (request as RequestHead)
      : { method, url: target, httpVersion: request.httpVersion, headers: request.headers };
  const headers = request.headers;

  // 1. RFC 6455 §4.2.1 item 1: "An HTTP/1.1 or higher GET request". Methods are case-sensitive.
  if (method !== 'GET') {
    return refuse(405, 'WS_ERR_HANDSHAKE_METHOD', `a WebSocket handshake uses GET, not ${method}`, { Allow: 'GET' });
  }

  // 2. HTTP/1.1 or later: the upgrade mechanism does not exist in HTTP/1.0.
  const version = /^1\.(\d)$/.exec(request.httpVersion);
  if (version === null || Number(version[1]) < 1) {
    return refuse(505, 'WS_ERR_HANDSHAKE_HTTP_VERSION', `a WebSocket handshake needs HTTP/1.1, not HTTP/${request.httpVersion}`);
  }

  // 3. The request-target (RFC 9112 §3.2, RFC 6455 §3: no fragment in a WebSocket URI).
  const resource = resourceName(target);
  if (resource === undefined) {
    return refuse(400, 'WS_ERR_HANDSHAKE_TARGET', 'the request target must be a path such as /chat (or an absolute http/ws URI), without a fragment');
  }

  // 4. RFC 6455 §4.2.1 item 2 and RFC 9112 §3.2: one Host, with a valid value.
  const host = getHeader(headers, 'host');
  if (host === undefined || !isValidHost(host)) {
    return refuse(400, 'WS_ERR_HANDSHAKE_HOST', host === undefined ? 'the Host header is missing' : 'the Host header is not a valid host[:port]');
  }

  // 5. No request body on an upgrade (RFC 9112 §6: the body's length comes from these two fields).
  const contentLength = getHeader(headers, 'content-length');
  if (getHeader(headers, 'transfer-encoding') !== undefined || (contentLength !== undefined && contentLength !== '0')) {
    return refuse(400, 'WS_ERR_HANDSHAKE_BODY', 'a WebSocket handshake request has no body (no Transfer-Encoding, no Content-Length other than 0)');
  }

  // 6. RFC 6455 §4.2.1 items 3 and 4; both fields are token lists compared case-insensitively
  // (RFC 9110 §7.6.1, §7.8), so "Connection: keep-alive, Upgrade" is fine.
  const upgrade = listHasToken(getHeader(headers, 'upgrade'), 'websocket');
  const connection = listHasToken(getHeader(headers, 'connection'), 'upgrade');
  if (!upgrade) {
    const attempted = getHeader(headers, 'sec-websocket-key') !== undefined || getHeader(headers, 'sec-websocket-version') !== undefined;
    if (attempted) {
      return refuse(400, 'WS_ERR_HANDSHAKE_UPGRADE', 'the Upgrade header must list "websocket"');
    }
    // RFC 9110 §15.5.22: 426 tells a plain HTTP client which protocol this resource speaks.
    return refuse(426, 'WS_ERR_HANDSHAKE_NOT_UPGRADE', 'this resource only speaks WebSocket; send an Upgrade: websocket request', {
      Upgrade: 'websocket',
    });
  }
  if (!connection) {
    return refuse(400, 'WS_ERR_HANDSHAKE_CONNECTION', 'the Connection header must list "Upgrade"');
  }

  // 7. RFC 6455 §4.2.1 item 5: a nonce of 16 bytes, base64.
  const key = getHeader(headers, 'sec-websocket-key');
  if (key === undefined || !isValidKey(key)) {
    return refuse(400, 'WS_ERR_HANDSHAKE_KEY', key === undefined ? 'the Sec-WebSocket-Key header is missing' : 'Sec-WebSocket-Key must be the base64 of 16 bytes');
  }

  // 8. RFC 6455 §4.2.1 item 6 and §4.4: tell the client which version we speak.
  if (getHeader(headers, 'sec-websocket-version') !== '13') {
    return refuse(426, 'WS_ERR_HANDSHAKE_WS_VERSION', 'this server speaks WebSocket version 13 (Sec-WebSocket-Version: 13)', {
      'Sec-WebSocket-Version': '13',
    });
  }

  // 9. RFC 6455 §4.2.1 item 7, §10.2: the Origin is for the server to judge; browsers always send it.
  const origin = getHeader(headers, 'origin');
  const allowed = options.allowedOrigins;
  if (allowed !== undefined) {
    let permitted: boolean;
    if (typeof allowed === 'function') {
      try {
        permitted = allowed(origin, head) === true;
      } catch (cause) {
        return refuse(500, 'WS_ERR_HANDSHAKE_CALLBACK', 'the allowedOrigins callback threw', undefined, 'local', cause);
      }
    } else {
      const lower = origin?.toLowerCase();
      permitted = lower !== undefined && allowed.some((entry) => entry.toLowerCase() === lower);
    }
    if (!permitted) {
      return refuse(403, 'WS_ERR_HANDSHAKE_ORIGIN', origin === undefined ? 'an Origin header is required' : `origin ${origin} is not allowed`);
    }
  }

  // 10. RFC 6455 §4.1 item 10 and §11.3.4: offered subprotocols are unique tokens.
  const offeredProtocols = parseTokenList(getHeader(headers, 'sec-websocket-protocol'));
  const invalidProtocol = offeredProtocols.find((name, i) => !isToken(name) || offeredProtocols.indexOf(name) !== i);
  if (invalidProtocol !== undefined) {
    return refuse(400, 'WS_ERR_HANDSHAKE_PROTOCOL', 'Sec-WebSocket-Protocol must be a list of unique tokens');
  }
  let protocol: string | undefined;
  const protocols = options.protocols;
  if (typeof protocols === 'function') {
    try {
      protocol = protocols([...offeredProtocols], head);
    } catch (cause) {
      return refuse(500, 'WS_ERR_HANDSHAKE_CALLBACK', 'the protocols callback threw', undefined, 'local', cause);
    }
    // RFC 6455 §4.2.2 step 5.5: the server selects one of the client's values, or none.
    if (protocol !== undefined && !offeredProtocols.includes(protocol)) {
      return refuse(500, 'WS_ERR_HANDSHAKE_CALLBACK', 'the protocols callback picked a subprotocol the client did not offer', undefined, 'local');
    }
  } else if (protocols !== undefined) {
    protocol = protocols.find((name) => offeredProtocols.includes(name));
  }

  // 11. RFC 6455 §4.2.1 item 9, §9.1: a broken header is 400; RFC 7692 §5: a broken offer
  // (unknown or repeated parameter, bad value) is only declined.
  const extensionsHeader = getHeader(headers, 'sec-websocket-extensions');
  let extensions: ExtensionOffer[] = [];
  if (extensionsHeader !== undefined) {
    const parsed = parseExtensions(extensionsHeader);
    if (parsed instanceof WebSocketError) {
      return { ok: false, error: parsed, response: buildErrorResponse(400, parsed.message) };
    }
    extensions = parsed;
  }

  const deflate = options.perMessageDeflate === undefined ? undefined : negotiateDeflate(extensions, options.perMessageDeflate);
  return { ok: true, key, accept: acceptKey(key), protocol, offeredProtocols, extensions, deflate, origin, resource };
}
