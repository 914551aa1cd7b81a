// The client side (RFC 6455 §4.1): building the request, and checking the server's answer.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import {
  HandshakeResponseError,
  RequestHeadParser,
  acceptKey,
  buildAcceptResponse,
  buildClientRequest,
  buildErrorResponse,
  formatExtensions,
  isValidKey,
  validateServerResponse,
  validateUpgrade,
  type ResponseHead,
} from '../../src/handshake/index.js';
import { SEED_REQUEST, parseResponse } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

t.test('the seed notes request, byte for byte', async (t) => {
  const built = buildClientRequest('ws://example.com:8000/chat', { key: KEY });
  t.equal(built.request.toString('latin1'), SEED_REQUEST);
  t.strictSame({ ...built, request: undefined }, {
    request: undefined,
    key: KEY,
    host: 'example.com',
    port: 8000,
    secure: false,
    path: '/chat',
    servername: 'example.com',
  });
});

t.test('URLs: schemes, default ports, path and query', async (t) => {
  const target = (url: string | URL): Record<string, unknown> => {
    const { host, port, secure, path, servername, request } = buildClientRequest(url);
    const hostHeader = /\r\nHost: ([^\r]*)\r\n/.exec(request.toString('latin1'))?.[1];
    return { host, port, secure, path, servername, hostHeader };
  };
  t.strictSame(target('ws://example.com'), { host: 'example.com', port: 80, secure: false, path: '/', servername: 'example.com', hostHeader: 'example.com' });
  t.strictSame(target('wss://example.com/a?b=c&d'), { host: 'example.com', port: 443, secure: true, path: '/a?b=c&d', servername: 'example.com', hostHeader: 'example.com' });
  t.strictSame(target('ws://example.com:80/x'), { host: 'example.com', port: 80, secure: false, path: '/x', servername: 'example.com', hostHeader: 'example.com' }, 'default port not in Host');
  t.strictSame(target('wss://example.com:80/x'), { host: 'example.com', port: 80, secure: true, path: '/x', servername: 'example.com', hostHeader: 'example.com:80' });
  t.strictSame(target('ws://EXAMPLE.com:443'), { host: 'example.com', port: 443, secure: false, path: '/', servername: 'example.com', hostHeader: 'example.com:443' });
  t.strictSame(target('http://example.com:8080/h'), { host: 'example.com', port: 8080, secure: false, path: '/h', servername: 'example.com', hostHeader: 'example.com:8080' }, 'http: means ws:');
  t.strictSame(target('https://example.com/h'), { host: 'example.com', port: 443, secure: true, path: '/h', servername: 'example.com', hostHeader: 'example.com' }, 'https: means wss:');
  t.strictSame(target('ws://127.0.0.1:9000/'), { host: '127.0.0.1', port: 9000, secure: false, path: '/', servername: '', hostHeader: '127.0.0.1:9000' }, 'no SNI for an IP');
  t.strictSame(target('wss://[::1]:9000/p'), { host: '::1', port: 9000, secure: true, path: '/p', servername: '', hostHeader: '[::1]:9000' }, 'IPv6 in brackets only in Host');
  t.strictSame(target(new URL('ws://bücher.example/ä b')), { host: 'xn--bcher-kva.example', port: 80, secure: false, path: '/%C3%A4%20b', servername: 'xn--bcher-kva.example', hostHeader: 'xn--bcher-kva.example' }, 'a URL object; punycode and percent-encoding');
  t.equal(target('ws://example.com?q').path, '/?q');
});

t.test('bad URLs throw a local error', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['not a url', /invalid URL/],
    ['ftp://example.com/', /ws: or wss:/],
    ['file:///etc/passwd', /ws: or wss:/],
    ['ws://example.com/#frag', /fragment/],
    ['ws://example.com/#', /fragment/],
    ['ws://user:pass@example.com/', /credentials/],
    ['ws://user@example.com/', /credentials/],
  ];
  for (const [url, message] of cases) {
    t.throws(() => buildClientRequest(url), { name: 'WebSocketError', side: 'local', message }, url);
  }
  t.throws(() => buildClientRequest('ws://example.com/#'), { code: 'WS_ERR_INVALID_URL' });
});

t.test('random keys, offered protocols, origin, extensions and extra headers', async (t) => {
  const a = buildClientRequest('ws://h/');
  const b = buildClientRequest('ws://h/');
  t.ok(isValidKey(a.key));
  t.not(a.key, b.key, 'a fresh key each time');
  t.match(a.request.toString('latin1'), new RegExp(`\\r\\nSec-WebSocket-Key: ${a.key.replace(/[+/]/g, '\\$&')}\\r\\n`));

  const full = buildClientRequest('ws://h/', {
    key: KEY,
    protocols: ['chat', 'superchat'],
    origin: 'https://app.example',
    extensions: formatExtensions([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]),
    headers: { Authorization: 'Bearer abc', 'User-Agent': 'simpatico-ws' },
  });
  t.equal(
    full.request.toString('latin1'),
    'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://app.example\r\n` +
      'Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
      'Authorization: Bearer abc\r\nUser-Agent: simpatico-ws\r\n\r\n',
  );
  t.notMatch(buildClientRequest('ws://h/', { extensions: '', protocols: [] }).request.toString(), /Sec-WebSocket-(Protocol|Extensions)/);
  t.match(buildClientRequest('ws://h/', { headers: { Origin: 'x' } }).request.toString(), /\r\nOrigin: x\r\n/, 'Origin via headers');
});

t.test('bad options and injected headers throw a local error', async (t) => {
  const local = { side: 'local' };
  t.throws(() => buildClientRequest('ws://h/', { key: 'short' }), { ...local, code: 'WS_ERR_INVALID_OPTION' });
  for (const protocols of [['a b'], ['chat', 'chat'], [''], [5 as unknown as string], ['a,b']]) {
    t.throws(() => buildClientRequest('ws://h/', { protocols }), { ...local, code: 'WS_ERR_INVALID_OPTION' }, JSON.stringify(protocols));
  }
  for (const value of ['x\r\nEvil: 1', 'x\n', 'x\x00']) {
    t.throws(() => buildClientRequest('ws://h/', { origin: value }), { ...local, code: 'WS_ERR_INVALID_HEADER' });
    t.throws(() => buildClientRequest('ws://h/', { extensions: value }), { ...local, code: 'WS_ERR_INVALID_HEADER' });
    t.throws(() => buildClientRequest('ws://h/', { headers: { 'X-A': value } }), { ...local, code: 'WS_ERR_INVALID_HEADER' });
  }
  for (const name of ['Host', 'upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Content-Length', 'Transfer-Encoding']) {
    t.throws(() => buildClientRequest('ws://h/', { headers: { [name]: 'x' } }), { ...local, code: 'WS_ERR_INVALID_HEADER' }, name);
  }
  t.throws(() => buildClientRequest('ws://h/', { origin: 'a', headers: { origin: 'b' } }), { ...local, code: 'WS_ERR_INVALID_HEADER' }, 'two Origins');
});

/** A 101 head with some headers changed (value null removes it). */
function response(changes: Record<string, string | null> = {}, status = '101 Switching Protocols'): ResponseHead {
  const headers: Record<string, string> = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': acceptKey(KEY) };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  const text = `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  const outcome = parseResponse(text);
  if (outcome.state !== 'complete') throw new Error('test response did not parse');
  return outcome.head;
}

t.test('a valid 101 is accepted', async (t) => {
  t.strictSame(validateServerResponse(response(), { key: KEY }), { ok: true, protocol: undefined, extensions: [], deflate: undefined });
  t.strictSame(
    validateServerResponse(response({ Connection: 'keep-alive, UPGRADE', Upgrade: 'WebSocket' }), { key: KEY }),
    { ok: true, protocol: undefined, extensions: [], deflate: undefined },
  );
  t.strictSame(
    validateServerResponse(response({ 'Sec-WebSocket-Protocol': 'superchat', 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' }), {
      key: KEY,
      protocols: ['chat', 'superchat'],
      extensions: ['permessage-deflate'],
    }),
    { ok: true, protocol: 'superchat', extensions: [{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }], deflate: undefined },
  );
  t.strictSame(validateServerResponse(response(), { key: KEY, protocols: ['chat'] }), { ok: true, protocol: undefined, extensions: [], deflate: undefined }, 'no protocol selected is allowed');
});

t.test('a non-101 answer is an error carrying the status and the head', async (t) => {
  const head = response({ 'Retry-After': '5' }, '503 Service Unavailable');
  const result = validateServerResponse(head, { key: KEY });
  t.equal(result.ok, false);
  if (result.ok) return;
  t.type(result.error, HandshakeResponseError);
  t.type(result.error, WebSocketError);
  t.match(result.error, { code: 'WS_ERR_HANDSHAKE_STATUS', status: 503, side: 'remote', name: 'HandshakeResponseError' });
  t.equal((result.error as HandshakeResponseError).response, head);
  t.equal((result.error as HandshakeResponseError).response.headers['retry-after'], '5');
  t.match(result.error.message, /answered 503 Service Unavailable instead of 101/);
  const bare = validateServerResponse(response({}, '200 '), { key: KEY });
  t.match(bare, { ok: false, error: { status: 200, message: /answered 200 instead/ } });
});

t.test('every client check fails the handshake with its code', async (t) => {
  const fails = (head: ResponseHead, code: string, expected: Parameters<typeof validateServerResponse>[1] = { key: KEY }): void => {
    const result = validateServerResponse(head, expected);
    t.match(result, { ok: false, error: { code, side: 'remote', status: undefined } }, code);
  };
  fails(response({ Upgrade: null }), 'WS_ERR_HANDSHAKE_UPGRADE');
  fails(response({ Upgrade: 'h2c' }), 'WS_ERR_HANDSHAKE_UPGRADE');
  fails(response({ Upgrade: 'websocket, h2c' }), 'WS_ERR_HANDSHAKE_UPGRADE');
  fails(response({ Connection: null }), 'WS_ERR_HANDSHAKE_CONNECTION');
  fails(response({ Connection: 'close' }), 'WS_ERR_HANDSHAKE_CONNECTION');
  fails(response({ 'Sec-WebSocket-Accept': null }), 'WS_ERR_HANDSHAKE_ACCEPT');
  fails(response({ 'Sec-WebSocket-Accept': acceptKey('AAAAAAAAAAAAAAAAAAAAAA==') }), 'WS_ERR_HANDSHAKE_ACCEPT');
  fails(response({ 'Sec-WebSocket-Accept': KEY }), 'WS_ERR_HANDSHAKE_ACCEPT', { key: KEY });
  fails(response({ 'Sec-WebSocket-Protocol': 'chat' }), 'WS_ERR_HANDSHAKE_PROTOCOL');
  fails(response({ 'Sec-WebSocket-Protocol': 'Chat' }), 'WS_ERR_HANDSHAKE_PROTOCOL', { key: KEY, protocols: ['chat'] });
  fails(response({ 'Sec-WebSocket-Protocol': 'chat, superchat' }), 'WS_ERR_HANDSHAKE_PROTOCOL', { key: KEY, protocols: ['chat', 'superchat'] });
  fails(response({ 'Sec-WebSocket-Extensions': 'permessage-deflate' }), 'WS_ERR_HANDSHAKE_EXTENSIONS');
  fails(response({ 'Sec-WebSocket-Extensions': 'x-a, x-b' }), 'WS_ERR_HANDSHAKE_EXTENSIONS', { key: KEY, extensions: ['x-a'] });
  fails(response({ 'Sec-WebSocket-Extensions': 'x-a; =' }), 'WS_ERR_HANDSHAKE_EXTENSIONS', { key: KEY, extensions: ['x-a'] });
});

t.test('both sides together: client request → server parser and validator → 101 → client check', async (t) => {
  const built = buildClientRequest('ws://127.0.0.1:9001/room?id=7', { protocols: ['v2', 'v1'], origin: 'http://localhost' });
  const parsed = new RequestHeadParser().push(Buffer.concat([built.request, Buffer.from([0x88, 0x80, 1, 2, 3, 4])]));
  if (parsed.state !== 'complete') throw new Error('request did not parse');
  t.same(parsed.rest, Buffer.from([0x88, 0x80, 1, 2, 3, 4]), 'a pipelined close frame survives');
  const decision = validateUpgrade(parsed.head, { protocols: ['v1', 'v2'], allowedOrigins: ['http://localhost'] });
  if (!decision.ok) throw decision.error;
  t.match(decision, { protocol: 'v1', resource: '/room?id=7', origin: 'http://localhost', key: built.key });
  const answer = parseResponse(Buffer.concat([buildAcceptResponse(decision.accept, { protocol: decision.protocol }), Buffer.from('\x81\x02hi', 'latin1')]));
  if (answer.state !== 'complete') throw new Error('response did not parse');
  t.equal(answer.rest, '\x81\x02hi', 'frames the server sent at once are handed back');
  t.strictSame(validateServerResponse(answer.head, { key: built.key, protocols: ['v2', 'v1'] }), { ok: true, protocol: 'v1', extensions: [], deflate: undefined });

  // And a refusal reads back as a HandshakeResponseError with the server's message.
  const refusal = parseResponse(buildErrorResponse(403, 'origin refused'));
  if (refusal.state !== 'complete') throw new Error('refusal did not parse');
  t.equal(refusal.rest, 'origin refused\n');
  t.match(validateServerResponse(refusal.head, { key: built.key }), { ok: false, error: { status: 403 } });
});
