// The lifecycle's CONNECTING state, both roles (RFC 6455 §4): request bytes in, the 101 or an error
// response out; the client's request out, the server's answer checked.
import t from 'tap';
import { Connection, ReadyState, type ConnectionEvent } from '../../src/connection/connection.js';
import { acceptKey } from '../../src/handshake/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const request = (extra = '', path = '/chat'): string =>
  `GET ${path} HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
const response = (extra = '', accept = ACCEPT): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;

function drain(p: Connection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let e = p.nextEvent(); e !== undefined; e = p.nextEvent()) events.push(e);
  return events;
}
const types = (events: ConnectionEvent[]): string[] => events.map((e) => e.type);
const out = (p: Connection): string => Buffer.concat(p.outbox.take()).toString('latin1');
/** A fresh masked "Hello" each time: the receiver unmasks in place the chunks it is given. */
const hello = (): Buffer => Buffer.from('818537fa213d7f9f4d5158', 'hex');

t.test('server: a valid request, byte by byte, reports upgrade; accept() writes the 101 and opens', async (t) => {
  const p = new Connection({ role: 'server' });
  t.equal(p.state, ReadyState.CONNECTING);
  for (const byte of Buffer.from(request('Sec-WebSocket-Protocol: chat, superchat\r\n'))) p.receive(Buffer.from([byte]));
  const [upgrade] = drain(p);
  t.equal(upgrade.type, 'upgrade');
  if (upgrade.type !== 'upgrade') return;
  t.equal(upgrade.request.url, '/chat');
  t.same(upgrade.offer.offeredProtocols, ['chat', 'superchat']);
  t.equal(p.state, ReadyState.CONNECTING, 'still CONNECTING until the verdict');
  t.throws(() => p.send('x', false), { code: 'WS_ERR_NOT_OPEN', side: 'local' }, 'the verb table: CONNECTING throws');
  t.throws(() => p.ping(Buffer.alloc(0)), { code: 'WS_ERR_NOT_OPEN' });
  t.throws(() => p.accept({ protocol: 'other' }), { code: 'WS_ERR_HANDSHAKE_PROTOCOL', side: 'local' });
  t.throws(() => p.accept({ headers: { 'Bad Name': 'x' } }), { code: 'WS_ERR_INVALID_HEADER' }, 'bad headers change nothing');
  p.accept({ protocol: 'chat' });
  t.equal(p.state, ReadyState.OPEN);
  t.equal(
    out(p),
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
  );
  t.same(types(drain(p)), ['open']);
  t.throws(() => p.accept(), { code: 'WS_ERR_INVALID_STATE' }, 'accept twice is a bug of the binding');
  t.throws(() => p.refuse(503, 'no'), { code: 'WS_ERR_INVALID_STATE' });
});

t.test('server: frames pipelined behind the request are delivered after accept, in order', async (t) => {
  const p = new Connection({ role: 'server', policy: { protocols: ['superchat'] } });
  const frame = hello();
  p.receive(Buffer.concat([Buffer.from(request('Sec-WebSocket-Protocol: chat, superchat\r\n')), frame.subarray(0, 3)]));
  p.receive(frame.subarray(3));
  const [upgrade] = drain(p);
  t.equal(upgrade.type === 'upgrade' && upgrade.offer.protocol, 'superchat', 'a protocol list selects by preference');
  t.equal(p.bufferedBytes, frame.length, 'held until the verdict');
  p.accept();
  const events = drain(p);
  t.same(types(events), ['open', 'message']);
  t.equal(events[1].type === 'message' && events[1].data.toString(), 'Hello');
});

t.test('server: invalid requests get their status, with nothing waiting on a verdict', async (t) => {
  const cases: [string, number, string][] = [
    [request().replace('GET', 'POST'), 405, 'WS_ERR_HANDSHAKE_METHOD'],
    [request().replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'), 426, 'WS_ERR_HANDSHAKE_WS_VERSION'],
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 426, 'WS_ERR_HANDSHAKE_NOT_UPGRADE'],
    ['GET / HTTP/1.1\n\n', 400, 'WS_ERR_INVALID_HEADER'],
    [request(`X: ${'a'.repeat(200)}\r\n`), 431, 'WS_ERR_HEAD_TOO_LARGE'],
  ];
  for (const [bytes, status, code] of cases) {
    const p = new Connection({ role: 'server', policy: { maxHeadSize: 300 } });
    p.receive(Buffer.from(bytes));
    const events = drain(p);
    t.same(types(events), ['refused', 'end'], code);
    t.match(events[0], { error: { code, status } });
    t.match(out(p), new RegExp(`^HTTP/1.1 ${status} `));
    t.equal(p.state, ReadyState.CLOSED);
    p.receive(Buffer.from('more'));
    t.equal(p.pendingEvents, 0, 'nothing is read after the refusal');
  }
});

t.test('server: another path gets 404; refuse() and respond() answer and end', async (t) => {
  const wrongPath = new Connection({ role: 'server', policy: { path: '/chat' } });
  wrongPath.receive(Buffer.from(request('', '/other?x=1')));
  t.match(drain(wrongPath)[0], { type: 'refused', error: { code: 'WS_ERR_HANDSHAKE_TARGET', status: 404 } });
  t.match(out(wrongPath), /^HTTP\/1.1 404 Not Found\r\n[^]*connect to \/chat/);

  const rightPath = new Connection({ role: 'server', policy: { path: '/chat' } });
  rightPath.receive(Buffer.from(request('', '/chat?room=1')));
  t.same(types(drain(rightPath)), ['upgrade'], 'the query is not part of the path');
  t.throws(() => rightPath.refuse(200, 'no'), { code: 'WS_ERR_INVALID_STATUS' }, 'a bad status changes nothing');
  rightPath.refuse(403, 'go away', { 'Retry-After': '5' });
  const refused = drain(rightPath);
  t.same(types(refused), ['refused', 'end']);
  t.match(refused[0], { error: { code: 'WS_ERR_HANDSHAKE_REFUSED', status: 403, side: 'remote' } });
  t.match(out(rightPath), /^HTTP\/1.1 403 Forbidden\r\n[^]*Retry-After: 5\r\n\r\ngo away\n$/);

  const early = new Connection({ role: 'server' });
  early.refuse(503, 'busy');
  t.same(types(drain(early)), ['refused', 'end'], 'refused before the request was read (a limit)');
  t.match(out(early), /^HTTP\/1.1 503 /);

  const plain = new Connection({ role: 'server', policy: { serveHttp: true } });
  plain.receive(Buffer.from('GET /page HTTP/1.1\r\nHost: a\r\n\r\n'));
  const [http] = drain(plain);
  t.equal(http.type === 'http' && http.request.url, '/page');
  t.throws(() => plain.accept(), { code: 'WS_ERR_INVALID_STATE' }, 'a plain request cannot be upgraded');
  plain.respond({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }, false);
  t.same(types(drain(plain)), ['end']);
  t.equal(out(plain), 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
  t.equal(plain.state, ReadyState.CLOSED);
});

t.test('server embedded in node:http: a head parsed elsewhere goes through the same checks', async (t) => {
  const p = new Connection({ role: 'server' });
  const head = { method: 'GET', url: '/', httpVersion: '1.1', headers: { host: 'a', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' } };
  p.receiveHead(head, hello());
  t.same(types(drain(p)), ['upgrade']);
  p.accept();
  t.same(types(drain(p)), ['open', 'message']);
  t.throws(() => p.receiveHead(head, Buffer.alloc(0)), { code: 'WS_ERR_INVALID_STATE' });
  const client = new Connection({ role: 'client', offer: { request: Buffer.from('x'), key: KEY } });
  t.throws(() => client.receiveHead(head, Buffer.alloc(0)), { code: 'WS_ERR_INVALID_STATE' });
  t.throws(() => client.refuse(400, 'x'), { code: 'WS_ERR_INVALID_STATE' });
});

t.test('client: the request is queued at once; a valid 101 opens, frames behind it follow', async (t) => {
  const p = new Connection({ role: 'client', offer: { request: Buffer.from(request()), key: KEY, protocols: ['chat'] } });
  t.equal(out(p), request());
  t.throws(() => p.send('x', false), { code: 'WS_ERR_NOT_OPEN' });
  p.close(1000);
  t.equal(p.state, ReadyState.CONNECTING, 'close() while CONNECTING is the binding\'s to abort');
  const answer = Buffer.concat([Buffer.from(response('Sec-WebSocket-Protocol: chat\r\n')), Buffer.from('8105', 'hex'), Buffer.from('Hello')]);
  p.receive(answer.subarray(0, 20));
  t.equal(p.pendingEvents, 0);
  p.receive(answer.subarray(20));
  const events = drain(p);
  t.same(types(events), ['open', 'message']);
  t.match(events[0], { type: 'open', protocol: 'chat', extensions: '', response: { status: 101 } });
  t.equal(p.state, ReadyState.OPEN);
});

t.test('client: any answer but a valid 101 is refused (§4.1)', async (t) => {
  const cases: [string, string][] = [
    ['HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', 'WS_ERR_HANDSHAKE_STATUS'],
    [response('', acceptKey('AAAAAAAAAAAAAAAAAAAAAA==')), 'WS_ERR_HANDSHAKE_ACCEPT'],
    [response('Sec-WebSocket-Protocol: other\r\n'), 'WS_ERR_HANDSHAKE_PROTOCOL'],
    ['HTTP/1.1 101\nbroken\r\n\r\n', 'WS_ERR_INVALID_HEADER'],
  ];
  for (const [bytes, code] of cases) {
    const p = new Connection({ role: 'client', offer: { request: Buffer.from(request()), key: KEY } });
    out(p);
    p.receive(Buffer.from(bytes));
    const events = drain(p);
    t.same(types(events), ['refused', 'end'], code);
    t.match(events[0], { error: { code } });
    t.equal(p.state, ReadyState.CLOSED);
    t.equal(p.outbox.bytes, 0, 'a client answers nothing');
    p.transportClosed();
    t.match(drain(p), [{ type: 'closed', code: 1006, wasClean: false }]);
  }
});

t.test('server: bytes that arrive while the verdict is pending are held, whatever their chunks', async (t) => {
  const p = new Connection({ role: 'server' });
  t.equal(p.bufferedBytes, 0);
  p.receive(Buffer.from(request()));
  t.equal(p.awaitingVerdict, true);
  const frame = hello();
  p.receive(frame.subarray(0, 4));
  p.receive(frame.subarray(4));
  t.equal(p.bufferedBytes, frame.length);
  drain(p);
  p.accept();
  t.equal(p.awaitingVerdict, false);
  t.same(types(drain(p)), ['open', 'message']);
});
