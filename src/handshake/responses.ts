/**
 * The bytes a server writes back: the 101 that switches protocols, and the complete error or plain
 * responses that end a connection which will not become a WebSocket.
 *
 * Caller-supplied headers go through one gate, `checkHeader`: a name must be a token and a value
 * may hold no CR, LF, NUL or other control character (RFC 9110 §5.1, §5.5). A header value with
 * "\r\n" in it would otherwise let whoever controls it write headers of their own, or a whole
 * second response (response splitting). Misuse throws: it is a bug in our caller, not peer input.
 */
import { WebSocketError } from '../errors.js';
import { isFieldValue, isToken } from './tokens.js';

/** Extra headers: an object, or name/value pairs when order or repetition matters. */
export type HeaderInput = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** Reason phrases (RFC 9110 §15) for the statuses a WebSocket server is likely to send. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  101: 'Switching Protocols',
  200: 'OK',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

function localInvalid(message: string): WebSocketError {
  return new WebSocketError('WS_ERR_INVALID_HEADER', message, { side: 'local' });
}

/** Refuse a header that would not be a valid field line (and so could inject one). */
export function checkHeader(name: string, value: string): void {
  if (typeof name !== 'string' || !isToken(name)) {
    throw localInvalid(`invalid header name ${JSON.stringify(name)}: a header name is a token (RFC 9110 §5.1)`);
  }
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw localInvalid(
      `invalid value for header ${name}: CR, LF, NUL, other control characters and characters above U+00FF are not allowed (RFC 9110 §5.5)`,
    );
  }
}

/**
 * Check extra headers and return them as pairs. Names in `reserved` are the ones the builder
 * writes itself; a second copy would contradict it (two Content-Lengths are a smuggling vector,
 * RFC 9112 §6.3), so supplying one is an error rather than a silent override.
 */
export function checkHeaders(headers: HeaderInput | undefined, reserved: readonly string[]): ReadonlyArray<readonly [string, string]> {
  if (headers === undefined) return [];
  const pairs = Array.isArray(headers) ? (headers as ReadonlyArray<readonly [string, string]>) : Object.entries(headers);
  for (const [name, value] of pairs) {
    checkHeader(name, value);
    if (reserved.includes(name.toLowerCase())) {
      throw localInvalid(`header ${name} is set by simpatico-ws itself and cannot be supplied`);
    }
  }
  return pairs;
}

function statusLine(status: number, allowed: (status: number) => boolean): string {
  if (!Number.isInteger(status) || !allowed(status)) {
    throw new WebSocketError('WS_ERR_INVALID_STATUS', `invalid status ${String(status)} for this response`, { side: 'local' });
  }
  // RFC 9112 §4: the SP after the code is sent even when there is no reason phrase.
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\n`;
}

function fieldLines(pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = '';
  for (const [name, value] of pairs) out += `${name}: ${value}\r\n`;
  return out;
}

const ACCEPT_RESERVED = [
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
];

/**
 * The 101 Switching Protocols response (RFC 6455 §4.2.2 step 5): Upgrade, Connection,
 * Sec-WebSocket-Accept, then Sec-WebSocket-Protocol and Sec-WebSocket-Extensions when one was
 * chosen, then the caller's headers. `extensions` is the already formatted accepted list (see
 * `formatExtensions`). Invalid or reserved extra headers throw WS_ERR_INVALID_HEADER (side 'local').
 */
export function buildAcceptResponse(
  accept: string,
  options: { protocol?: string; extensions?: string; headers?: HeaderInput } = {},
): Buffer {
  checkHeader('Sec-WebSocket-Accept', accept);
  const lines: Array<readonly [string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  if (options.protocol !== undefined) {
    // RFC 6455 §4.2.2 step 5.5: the one selected subprotocol, a token.
    if (!isToken(options.protocol)) throw localInvalid(`subprotocol ${JSON.stringify(options.protocol)} is not a token`);
    lines.push(['Sec-WebSocket-Protocol', options.protocol]);
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    checkHeader('Sec-WebSocket-Extensions', options.extensions);
    lines.push(['Sec-WebSocket-Extensions', options.extensions]);
  }
  lines.push(...checkHeaders(options.headers, ACCEPT_RESERVED));
  return Buffer.from(statusLine(101, (s) => s === 101) + fieldLines(lines) + '\r\n', 'latin1');
}

const ERROR_RESERVED = ['connection', 'content-type', 'content-length', 'transfer-encoding'];

/**
 * A complete error response that the server writes before closing the connection:
 *
 *     HTTP/1.1 400 Bad Request
 *     Connection: close
 *     Content-Type: text/plain; charset=utf-8
 *     Content-Length: 32
 *     <extra headers>
 *
 *     <message>\n
 *
 * When the extra headers hold `Upgrade` (the 426 case), Connection also lists `Upgrade`, as
 * RFC 9110 §7.8 requires of whoever sends an Upgrade field.
 */
export function buildErrorResponse(status: number, message: string, headers?: Record<string, string>): Buffer {
  const line = statusLine(status, (s) => s >= 400 && s <= 599);
  const extra = checkHeaders(headers, ERROR_RESERVED);
  const body = Buffer.from(`${message}\n`, 'utf8');
  const upgrade = extra.some(([name]) => name.toLowerCase() === 'upgrade');
  const lines: Array<readonly [string, string]> = [
    ['Connection', upgrade ? 'Upgrade, close' : 'close'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
    ...extra,
  ];
  return Buffer.concat([Buffer.from(line + fieldLines(lines) + '\r\n', 'latin1'), body]);
}

const HTTP_RESERVED = ['connection', 'content-length', 'transfer-encoding'];

/**
 * A complete plain HTTP response (for a request that is not an upgrade — a demo page, a health
 * check): the status line, the caller's headers, `Content-Length` and `Connection: close`, then
 * the body. Status 200-599; 204 and 304 carry no body (RFC 9110 §15.3.5, §15.4.5) and 204 no
 * Content-Length (RFC 9110 §8.6).
 *
 * For a HEAD request pass `{ head: true }` with the body a GET would get: Content-Length then
 * states that body's length, as RFC 9110 §9.3.2 and §8.6 require, and the body is not written.
 */
export function buildHttpResponse(
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
  options: { head?: boolean } = {},
): Buffer {
  const line = statusLine(status, (s) => s >= 200 && s <= 599);
  const extra = checkHeaders(headers, HTTP_RESERVED);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if ((status === 204 || status === 304) && bytes.length > 0) {
    throw new WebSocketError('WS_ERR_INVALID_STATUS', `a ${status} response has no body`, { side: 'local' });
  }
  const lines: Array<readonly [string, string]> = [...extra];
  if (status !== 204) lines.push(['Content-Length', String(bytes.length)]);
  lines.push(['Connection', 'close']);
  const head = Buffer.from(line + fieldLines(lines) + '\r\n', 'latin1');
  return options.head === true ? head : Buffer.concat([head, bytes]);
}
