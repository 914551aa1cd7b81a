// The bytes a server writes: the 101, error responses, plain responses — and no header injection.
import t from 'tap';
import { buildAcceptResponse, buildErrorResponse, buildHttpResponse } from '../../src/handshake/index.js';
import { SEED_RESPONSE, splitResponse } from './helpers.js';

const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A test name for any string: escaped to ASCII, since U+2028 and friends would break the TAP output. */
const show = (value: string): string => JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Values that try to end the header and start another (or a whole second response). */
const INJECTIONS = [
  'x\r\nSet-Cookie: admin=1',
  'x\nSet-Cookie: admin=1',
  'x\rSet-Cookie: admin=1',
  'x\r\n\r\nHTTP/1.1 200 OK\r\n',
  'x\x00y',
  'x\x0bY',
  'x\x7f',
  'x\u010aSet-Cookie: a=1', // U+010A would be written as latin1 0x0A
  'x\u2028y',
];

t.test('the 101 response (RFC 6455 §4.2.2 step 5)', async (t) => {
  t.equal(buildAcceptResponse(ACCEPT).toString('latin1'), SEED_RESPONSE, 'the seed notes response, byte for byte');
  t.equal(
    buildAcceptResponse(ACCEPT, {
      protocol: 'chat',
      extensions: 'permessage-deflate; server_no_context_takeover',
      headers: { 'X-Server': 'simpatico', 'Set-Cookie': 'a=1' },
    }).toString('latin1'),
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
      'Sec-WebSocket-Protocol: chat\r\n' +
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' +
      'X-Server: simpatico\r\n' +
      'Set-Cookie: a=1\r\n' +
      '\r\n',
  );
  const pairs = buildAcceptResponse(ACCEPT, { extensions: '', headers: [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']] });
  t.equal(
    pairs.toString('latin1'),
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n`,
    'pairs keep order and repetition; an empty extension list sends no header',
  );
});

t.test('the 101 refuses injected or reserved headers (side local)', async (t) => {
  const local = { code: 'WS_ERR_INVALID_HEADER', side: 'local' };
  for (const value of INJECTIONS) {
    t.throws(() => buildAcceptResponse(ACCEPT, { headers: { 'X-A': value } }), local, show(value));
    t.throws(() => buildAcceptResponse(ACCEPT, { headers: [['X-A', value]] }), local);
    t.throws(() => buildAcceptResponse(ACCEPT, { extensions: value }), local);
    t.throws(() => buildAcceptResponse(value), local);
    t.throws(() => buildAcceptResponse(ACCEPT, { protocol: value }), local);
  }
  for (const name of ['X A', 'X-A:', 'X-A\r\nEvil', '', 'é', 'X(A)']) {
    t.throws(() => buildAcceptResponse(ACCEPT, { headers: { [name]: 'v' } }), local, show(name));
  }
  for (const name of ['Upgrade', 'connection', 'Sec-WebSocket-Accept', 'SEC-WEBSOCKET-PROTOCOL', 'Sec-WebSocket-Extensions', 'Content-Length', 'Transfer-Encoding']) {
    t.throws(() => buildAcceptResponse(ACCEPT, { headers: { [name]: 'x' } }), { ...local, message: /set by simpatico-ws/ }, name);
  }
  t.throws(() => buildAcceptResponse(ACCEPT, { protocol: 'a b' }), local);
  t.throws(() => buildAcceptResponse(ACCEPT, { protocol: '' }), local);
  t.throws(() => buildAcceptResponse(ACCEPT, { headers: { 'X-A': 5 as unknown as string } }), local, 'a non-string value');
});

t.test('error responses are complete: status line, Connection, Content-Type, Content-Length, body', async (t) => {
  t.equal(
    buildErrorResponse(400, 'the Host header is missing').toString('latin1'),
    'HTTP/1.1 400 Bad Request\r\n' +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Content-Length: 27\r\n' +
      '\r\n' +
      'the Host header is missing\n',
  );
  t.equal(
    buildErrorResponse(405, 'use GET', { Allow: 'GET' }).toString('latin1'),
    'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 8\r\nAllow: GET\r\n\r\nuse GET\n',
  );
  // RFC 9110 §7.8: whoever sends Upgrade lists it in Connection.
  const upgrade = splitResponse(buildErrorResponse(426, 'upgrade', { upgrade: 'websocket' }));
  t.equal(upgrade.head.headers.connection, 'Upgrade, close');
  t.equal(upgrade.head.statusText, 'Upgrade Required');
  // Content-Length counts bytes, not characters.
  const utf8 = splitResponse(buildErrorResponse(403, 'origin café ☃ refused'));
  t.equal(Number(utf8.head.headers['content-length']), Buffer.byteLength('origin café ☃ refused\n'));
  t.equal(utf8.body, 'origin café ☃ refused\n');
  // A body may contain CR LF: Content-Length frames it, so it cannot become a header.
  const framed = splitResponse(buildErrorResponse(400, 'a\r\nSet-Cookie: x=1\r\n'));
  t.equal(framed.head.headers['set-cookie'], undefined);
  for (const [status, text] of [[431, 'Request Header Fields Too Large'], [505, 'HTTP Version Not Supported'], [500, 'Internal Server Error'], [403, 'Forbidden'], [599, '']] as const) {
    t.equal(splitResponse(buildErrorResponse(status, 'x')).head.statusText, text, String(status));
  }
  t.equal(buildErrorResponse(599, 'x').toString('latin1').split('\r\n')[0], 'HTTP/1.1 599 ', 'the SP stays when there is no phrase');
});

t.test('error responses validate their status and extra headers', async (t) => {
  for (const status of [101, 200, 399, 600, 400.5, Number.NaN]) {
    t.throws(() => buildErrorResponse(status, 'x'), { code: 'WS_ERR_INVALID_STATUS', side: 'local' }, String(status));
  }
  for (const value of INJECTIONS) {
    t.throws(() => buildErrorResponse(400, 'x', { 'X-A': value }), { code: 'WS_ERR_INVALID_HEADER', side: 'local' });
  }
  for (const name of ['Connection', 'content-type', 'Content-Length', 'Transfer-Encoding']) {
    t.throws(() => buildErrorResponse(400, 'x', { [name]: 'y' }), { code: 'WS_ERR_INVALID_HEADER', side: 'local' }, name);
  }
});

t.test('plain HTTP responses (the demo page)', async (t) => {
  t.equal(
    buildHttpResponse(200, { 'Content-Type': 'text/html; charset=utf-8' }, '<p>é</p>').toString('latin1'),
    'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<p>\xc3\xa9</p>',
  );
  const binary = buildHttpResponse(404, {}, Buffer.from([0, 1, 2]));
  t.same(binary.subarray(binary.length - 3), Buffer.from([0, 1, 2]));
  t.match(binary.toString('latin1'), /^HTTP\/1\.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n/);
  t.equal(buildHttpResponse(204, {}, '').toString('latin1'), 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n', '204: no Content-Length');
  t.equal(buildHttpResponse(304, { ETag: '"x"' }, Buffer.alloc(0)).toString('latin1'), 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  t.equal(
    buildHttpResponse(200, { 'Content-Type': 'text/plain' }, 'hello', { head: true }).toString('latin1'),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
    'HEAD: the length a GET would get, no body',
  );
  t.equal(buildHttpResponse(200, {}, 'x', { head: false }).toString('latin1').slice(-1), 'x');
  t.throws(() => buildHttpResponse(204, {}, 'x'), { code: 'WS_ERR_INVALID_STATUS', side: 'local' });
  t.throws(() => buildHttpResponse(304, {}, 'x'), { code: 'WS_ERR_INVALID_STATUS' });
  t.throws(() => buildHttpResponse(101, {}, ''), { code: 'WS_ERR_INVALID_STATUS' });
  for (const value of INJECTIONS) {
    t.throws(() => buildHttpResponse(200, { Location: value }, ''), { code: 'WS_ERR_INVALID_HEADER', side: 'local' });
  }
  for (const name of ['Connection', 'Content-Length', 'transfer-encoding']) {
    t.throws(() => buildHttpResponse(200, { [name]: '1' }, ''), { code: 'WS_ERR_INVALID_HEADER' }, name);
  }
});
