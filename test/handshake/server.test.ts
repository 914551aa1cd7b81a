// validateUpgrade (RFC 6455 §4.2.1): every rule, every refusal as a complete HTTP response.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import {
  acceptKey,
  buildAcceptResponse,
  validateUpgrade,
  type RequestHead,
  type UpgradeDecision,
  type UpgradeOptions,
} from '../../src/handshake/index.js';
import { SEED_REQUEST, SEED_RESPONSE, parseRequest, splitResponse } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The seed request with some header lines replaced (value null: removed) or added. */
function request(
  changes: Record<string, string | null> = {},
  line = 'GET /chat HTTP/1.1',
  extra = '',
): RequestHead {
  const base: Record<string, string> = {
    Host: 'example.com:8000',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete base[name];
    else base[name] = value;
  }
  let text = `${line}\r\n`;
  for (const [name, value] of Object.entries(base)) text += `${name}: ${value}\r\n`;
  const outcome = parseRequest(`${text}${extra}\r\n`);
  if (outcome.state !== 'complete') throw new Error(`test request did not parse: ${JSON.stringify(outcome)}`);
  return outcome.head;
}

/** The assertions a helper needs, from the root test or a subtest. */
type Asserts = Pick<typeof t, 'equal' | 'type' | 'match'>;

/** Assert a refusal: its code and status, and that `response` is a complete, consistent HTTP response. */
function refused(
  t: Asserts,
  decision: UpgradeDecision,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  t.equal(decision.ok, false, `refused with ${status}`);
  if (decision.ok) return;
  t.type(decision.error, WebSocketError);
  t.equal(decision.error.code, code);
  t.equal(decision.error.status, status);
  const { head, body } = splitResponse(decision.response);
  t.equal(head.status, status);
  t.equal(head.httpVersion, '1.1');
  t.match(head.headers.connection, /close/);
  t.equal(head.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(Number(head.headers['content-length']), Buffer.byteLength(body), 'Content-Length is the body length');
  t.equal(body, `${decision.error.message}\n`, 'the body says what was wrong');
  for (const [name, value] of Object.entries(headers)) t.equal(head.headers[name], value, `${name}: ${value}`);
}

t.test('the seed notes request is accepted, and the 101 matches the notes byte for byte', async (t) => {
  const outcome = parseRequest(SEED_REQUEST);
  t.equal(outcome.state, 'complete');
  if (outcome.state !== 'complete') return;
  const decision = validateUpgrade(outcome.head);
  t.strictSame(decision, {
    ok: true,
    key: KEY,
    accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    protocol: undefined,
    offeredProtocols: [],
    extensions: [],
    deflate: undefined,
    origin: undefined,
    resource: '/chat',
  });
  if (decision.ok) t.equal(buildAcceptResponse(decision.accept).toString('latin1'), SEED_RESPONSE);
});

t.test('1. the method is GET, else 405 with Allow: GET', async (t) => {
  for (const method of ['POST', 'HEAD', 'get', 'Get', 'PUT']) {
    refused(t, validateUpgrade(request({}, `${method} /chat HTTP/1.1`)), 405, 'WS_ERR_HANDSHAKE_METHOD', { allow: 'GET' });
  }
  const noMethod = validateUpgrade({ httpVersion: '1.1', headers: {} });
  refused(t, noMethod, 405, 'WS_ERR_HANDSHAKE_METHOD');
});

t.test('2. HTTP/1.1 or later, else 505', async (t) => {
  for (const version of ['1.0', '0.9', '2.0', '3.1']) {
    refused(t, validateUpgrade(request({}, `GET /chat HTTP/${version}`)), 505, 'WS_ERR_HANDSHAKE_HTTP_VERSION');
  }
  t.equal(validateUpgrade(request({}, 'GET /chat HTTP/1.2')).ok, true, 'a later 1.x is fine');
  refused(t, validateUpgrade({ ...request(), httpVersion: '1.1.1' }), 505, 'WS_ERR_HANDSHAKE_HTTP_VERSION');
});

t.test('3. the request target: origin-form or absolute-form, no fragment', async (t) => {
  const resource = (target: string): unknown => {
    const decision = validateUpgrade(request({}, `GET ${target} HTTP/1.1`));
    return decision.ok ? decision.resource : decision.error.code;
  };
  t.equal(resource('/'), '/');
  t.equal(resource('/chat?room=1&x=%20'), '/chat?room=1&x=%20');
  t.equal(resource('http://example.com/chat?x'), '/chat?x', 'absolute-form (RFC 9112 §3.2.2)');
  t.equal(resource('HTTPS://example.com:8000/a'), '/a');
  t.equal(resource('ws://example.com'), '/');
  t.equal(resource('wss://example.com?x=1'), '/?x=1');
  for (const target of ['*', 'example.com:80', 'chat', '/chat#frag', 'http://example.com/#x', 'ftp://example.com/x', 'http:///x', 'http://']) {
    refused(t, validateUpgrade(request({}, `GET ${target} HTTP/1.1`)), 400, 'WS_ERR_HANDSHAKE_TARGET');
  }
  refused(t, validateUpgrade({ method: 'GET', httpVersion: '1.1', headers: {} }), 400, 'WS_ERR_HANDSHAKE_TARGET');
});

t.test('4. one valid Host, else 400', async (t) => {
  refused(t, validateUpgrade(request({ Host: null })), 400, 'WS_ERR_HANDSHAKE_HOST');
  for (const host of ['', 'a b', 'a,b', 'a:b:c', 'a:80x', '[::1', 'a/b', 'a@b']) {
    refused(t, validateUpgrade(request({ Host: host })), 400, 'WS_ERR_HANDSHAKE_HOST');
  }
  for (const host of ['example.com', 'EXAMPLE.com:8000', '127.0.0.1', '[::1]:9000', 'xn--bcher-kva.example', 'a:']) {
    t.equal(validateUpgrade(request({ Host: host })).ok, true, host);
  }
});

t.test('5. no request body, else 400', async (t) => {
  refused(t, validateUpgrade(request({ 'Transfer-Encoding': 'chunked' })), 400, 'WS_ERR_HANDSHAKE_BODY');
  refused(t, validateUpgrade(request({ 'Content-Length': '5' })), 400, 'WS_ERR_HANDSHAKE_BODY');
  refused(t, validateUpgrade(request({}, undefined, 'Content-Length: 0\r\nContent-Length: 0\r\n')), 400, 'WS_ERR_HANDSHAKE_BODY');
  t.equal(validateUpgrade(request({ 'Content-Length': '0' })).ok, true, 'Content-Length: 0 is no body');
});

t.test('6. Upgrade and Connection: 426 for plain HTTP, 400 for a broken upgrade', async (t) => {
  const plain = parseRequest('GET / HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n');
  if (plain.state === 'complete') {
    const decision = validateUpgrade(plain.head);
    refused(t, decision, 426, 'WS_ERR_HANDSHAKE_NOT_UPGRADE', { upgrade: 'websocket', connection: 'Upgrade, close' });
  }
  refused(t, validateUpgrade(request({ Upgrade: 'h2c', 'Sec-WebSocket-Key': null, 'Sec-WebSocket-Version': null })), 426, 'WS_ERR_HANDSHAKE_NOT_UPGRADE');
  refused(t, validateUpgrade(request({ Upgrade: null })), 400, 'WS_ERR_HANDSHAKE_UPGRADE');
  refused(t, validateUpgrade(request({ Upgrade: 'websockets' })), 400, 'WS_ERR_HANDSHAKE_UPGRADE');
  refused(t, validateUpgrade(request({ Upgrade: null, 'Sec-WebSocket-Key': null })), 400, 'WS_ERR_HANDSHAKE_UPGRADE', {}); // version left
  refused(t, validateUpgrade(request({ Connection: null })), 400, 'WS_ERR_HANDSHAKE_CONNECTION');
  refused(t, validateUpgrade(request({ Connection: 'keep-alive' })), 400, 'WS_ERR_HANDSHAKE_CONNECTION');
  refused(t, validateUpgrade(request({ Connection: 'Upgraded' })), 400, 'WS_ERR_HANDSHAKE_CONNECTION');

  // Token lists, case-insensitive, in any order, split over repeated fields (Firefox sends keep-alive, Upgrade).
  t.equal(validateUpgrade(request({ Connection: 'keep-alive, Upgrade' })).ok, true);
  t.equal(validateUpgrade(request({ Connection: 'UPGRADE' })).ok, true);
  t.equal(validateUpgrade(request({ Upgrade: 'WebSocket' })).ok, true);
  t.equal(validateUpgrade(request({ Upgrade: 'h2c, websocket' })).ok, true);
  t.equal(validateUpgrade(request({ Connection: 'keep-alive' }, undefined, 'connection: upgrade\r\n')).ok, true);
});

t.test('header names in odd case are found', async (t) => {
  const outcome = parseRequest(
    'GET /chat HTTP/1.1\r\nhOST: example.com\r\nUPGRADE: WEBSOCKET\r\nconnection: upgrade\r\n' +
      `SEC-WEBSOCKET-KEY: ${KEY}\r\nsec-WebSocket-version: 13\r\nsEc-WeBsOcKeT-pRoToCoL: chat\r\n\r\n`,
  );
  if (outcome.state !== 'complete') throw new Error('did not parse');
  const decision = validateUpgrade(outcome.head, { protocols: ['chat'] });
  t.match(decision, { ok: true, accept: acceptKey(KEY), protocol: 'chat' });
});

t.test('7. Sec-WebSocket-Key is the base64 of 16 bytes, else 400', async (t) => {
  refused(t, validateUpgrade(request({ 'Sec-WebSocket-Key': null })), 400, 'WS_ERR_HANDSHAKE_KEY');
  for (const key of ['', 'abc', 'dGhlIHNhbXBsZSBub25jZQ', 'c2l4dGVlbiBieXRlcyBsb25nIQ==', `${KEY}, ${KEY}`]) {
    refused(t, validateUpgrade(request({ 'Sec-WebSocket-Key': key })), 400, 'WS_ERR_HANDSHAKE_KEY');
  }
  refused(t, validateUpgrade(request({}, undefined, `Sec-WebSocket-Key: ${KEY}\r\n`)), 400, 'WS_ERR_HANDSHAKE_KEY', {});
  t.match(validateUpgrade(request({ 'Sec-WebSocket-Key': ` \t${KEY} ` })), { ok: true, key: KEY }, 'OWS is not part of it');
});

t.test('8. Sec-WebSocket-Version is 13, else 426 with Sec-WebSocket-Version: 13', async (t) => {
  for (const version of [null, '8', '12', '14', '13, 8', ' ', '013']) {
    refused(t, validateUpgrade(request({ 'Sec-WebSocket-Version': version })), 426, 'WS_ERR_HANDSHAKE_WS_VERSION', {
      'sec-websocket-version': '13',
      connection: 'close',
    });
  }
});

t.test('9. Origin: exposed, and checked against an allow-list or a callback (403)', async (t) => {
  const origin = 'https://app.example';
  t.match(validateUpgrade(request({ Origin: origin })), { ok: true, origin });
  t.match(validateUpgrade(request()), { ok: true, origin: undefined });

  const list: UpgradeOptions = { allowedOrigins: ['https://other.example', 'HTTPS://APP.example'] };
  t.match(validateUpgrade(request({ Origin: origin }), list), { ok: true, origin }, 'case-insensitive');
  refused(t, validateUpgrade(request({ Origin: 'https://evil.example' }), list), 403, 'WS_ERR_HANDSHAKE_ORIGIN');
  refused(t, validateUpgrade(request(), list), 403, 'WS_ERR_HANDSHAKE_ORIGIN');
  refused(t, validateUpgrade(request({ Origin: origin }), { allowedOrigins: [] }), 403, 'WS_ERR_HANDSHAKE_ORIGIN');

  const seen: Array<[string | undefined, string]> = [];
  const callback: UpgradeOptions = {
    allowedOrigins: (value, head) => {
      seen.push([value, head.url]);
      return value === origin;
    },
  };
  t.equal(validateUpgrade(request({ Origin: origin }), callback).ok, true);
  refused(t, validateUpgrade(request({ Origin: 'null' }), callback), 403, 'WS_ERR_HANDSHAKE_ORIGIN');
  refused(t, validateUpgrade(request(), callback), 403, 'WS_ERR_HANDSHAKE_ORIGIN');
  t.strictSame(seen, [[origin, '/chat'], ['null', '/chat'], [undefined, '/chat']]);
  const truthy = validateUpgrade(request({ Origin: origin }), { allowedOrigins: () => 1 as unknown as boolean });
  refused(t, truthy, 403, 'WS_ERR_HANDSHAKE_ORIGIN'); // only `true` allows

  const boom = new Error('boom');
  const thrown = validateUpgrade(request({ Origin: origin }), {
    allowedOrigins: () => {
      throw boom;
    },
  });
  refused(t, thrown, 500, 'WS_ERR_HANDSHAKE_CALLBACK');
  t.equal(!thrown.ok && thrown.error.side, 'local');
  t.equal(!thrown.ok && thrown.error.cause, boom);
});

t.test('10. subprotocols: the server picks one the client offered, or none', async (t) => {
  const offer = { 'Sec-WebSocket-Protocol': 'chat, superchat' }; // the seed note 002's pair
  t.match(validateUpgrade(request(offer)), { ok: true, protocol: undefined, offeredProtocols: ['chat', 'superchat'] });
  t.match(validateUpgrade(request(offer), { protocols: ['superchat', 'chat'] }), { ok: true, protocol: 'superchat' }, 'server preference');
  t.match(validateUpgrade(request(offer), { protocols: ['chat', 'superchat'] }), { ok: true, protocol: 'chat' });
  t.match(validateUpgrade(request(offer), { protocols: ['mqtt'] }), { ok: true, protocol: undefined });
  t.match(validateUpgrade(request(offer), { protocols: ['Chat'] }), { ok: true, protocol: undefined }, 'case-sensitive');
  t.match(validateUpgrade(request(), { protocols: ['chat'] }), { ok: true, protocol: undefined, offeredProtocols: [] });
  t.match(validateUpgrade(request({}, undefined, 'Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n'), { protocols: ['b'] }), {
    ok: true,
    protocol: 'b',
    offeredProtocols: ['a', 'b'],
  });

  let calledWith: unknown;
  const pick = validateUpgrade(request(offer), {
    protocols: (offered, head) => {
      calledWith = [offered, head.method];
      offered.length = 0; // the callback gets a copy
      return 'superchat';
    },
  });
  t.match(pick, { ok: true, protocol: 'superchat', offeredProtocols: ['chat', 'superchat'] });
  t.strictSame(calledWith, [[], 'GET']);
  t.match(validateUpgrade(request(offer), { protocols: () => undefined }), { ok: true, protocol: undefined });
  const rogue = validateUpgrade(request(offer), { protocols: () => 'mqtt' });
  refused(t, rogue, 500, 'WS_ERR_HANDSHAKE_CALLBACK');
  t.equal(!rogue.ok && rogue.error.side, 'local');
  refused(t, validateUpgrade(request(), { protocols: () => 'chat' }), 500, 'WS_ERR_HANDSHAKE_CALLBACK');
  const thrown = validateUpgrade(request(offer), {
    protocols: () => {
      throw new TypeError('bug');
    },
  });
  refused(t, thrown, 500, 'WS_ERR_HANDSHAKE_CALLBACK');

  for (const bad of ['chat, chat', 'a b', 'chat, "x"', 'a/b']) {
    refused(t, validateUpgrade(request({ 'Sec-WebSocket-Protocol': bad })), 400, 'WS_ERR_HANDSHAKE_PROTOCOL');
  }
  t.match(validateUpgrade(request({ 'Sec-WebSocket-Protocol': ' , chat,, ' })), { ok: true, offeredProtocols: ['chat'] });
});

t.test('11. extension offers are parsed for the caller, none accepted without a policy; a malformed header is 400', async (t) => {
  const decision = validateUpgrade(request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, x-unknown' }));
  t.match(decision, {
    ok: true,
    extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }, { name: 'x-unknown', params: [] }],
    deflate: undefined,
  });
  refused(t, validateUpgrade(request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; a=b c' })), 400, 'WS_ERR_HANDSHAKE_EXTENSIONS');
  t.match(validateUpgrade(request({ 'Sec-WebSocket-Extensions': '' })), { ok: true, extensions: [] });
});

t.test('the checks run in the RFC order: the first failure decides', async (t) => {
  const everythingWrong = request(
    { Host: null, Upgrade: null, 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '8' },
    'POST /chat HTTP/1.0',
  );
  t.match(validateUpgrade(everythingWrong), { ok: false, error: { status: 405 } });
  t.match(validateUpgrade({ ...everythingWrong, method: 'GET' }), { ok: false, error: { status: 505 } });
  t.match(validateUpgrade({ ...everythingWrong, method: 'GET', httpVersion: '1.1' }), { ok: false, error: { code: 'WS_ERR_HANDSHAKE_HOST' } });
  const keyAndVersion = request({ 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '8' });
  t.match(validateUpgrade(keyAndVersion), { ok: false, error: { code: 'WS_ERR_HANDSHAKE_KEY' } });
  const versionAndOrigin = request({ 'Sec-WebSocket-Version': '8', Origin: 'https://evil.example' });
  t.match(validateUpgrade(versionAndOrigin, { allowedOrigins: [] }), { ok: false, error: { status: 426 } });
});

t.test('node:http style headers: plain objects with string[] values', async (t) => {
  const decision = validateUpgrade({
    method: 'GET',
    url: '/chat',
    httpVersion: '1.1',
    headers: {
      host: 'example.com',
      upgrade: 'websocket',
      connection: ['keep-alive', 'Upgrade'],
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
      'sec-websocket-protocol': ['a', 'b, c'],
      'set-cookie': ['x=1', 'y=2'],
      origin: undefined,
    },
  });
  t.match(decision, { ok: true, offeredProtocols: ['a', 'b', 'c'], origin: undefined });
  // Only own properties are headers: nothing inherited from a prototype is read as one.
  const inheritedHeaders = Object.create({ host: 'example.com', upgrade: 'websocket' }) as Record<string, string>;
  const inherited = validateUpgrade({ method: 'GET', url: '/', httpVersion: '1.1', headers: inheritedHeaders });
  t.match(inherited, { ok: false, error: { code: 'WS_ERR_HANDSHAKE_HOST' } });
  const missing = validateUpgrade({ method: 'GET', url: '/', httpVersion: '1.1', headers: { host: 'h', constructor: 'x' } as never });
  t.match(missing, { ok: false, error: { code: 'WS_ERR_HANDSHAKE_NOT_UPGRADE', status: 426 } });
});
