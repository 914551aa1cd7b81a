// Conversation: the trace's observer without sockets — bytes from each side in, events out.
import t from 'tap';
import { acceptKey } from '../../src/handshake/index.js';
import { Conversation, EARLY_LIMIT, type TraceEvent } from '../../src/learn/conversation.js';
import { traceLines } from '../../src/learn/trace-text.js';
import { buildFrame, client, hex } from '../frames/helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const REQUEST = `GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
const response = (extra = '', accept = acceptKey(KEY)): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;

function conversation(): { c: Conversation; events: TraceEvent[]; of: <K extends TraceEvent['event']>(kind: K) => Extract<TraceEvent, { event: K }>[] } {
  const events: TraceEvent[] = [];
  const c = new Conversation(7, (e) => events.push(e));
  return { c, events, of: (kind) => events.filter((e) => e.event === kind) as never };
}

t.test('the heads, the accept check, OPEN, frames both ways, the closing handshake, CLOSED', (t) => {
  const { c, events, of } = conversation();
  // The request in two pieces, cut inside a line.
  c.fromClient(Buffer.from(REQUEST.slice(0, 30)));
  t.same(events, [], 'nothing until the head is complete');
  c.fromClient(Buffer.from(REQUEST.slice(30)));
  t.same(of('request')[0].lines, REQUEST.split('\r\n').slice(0, -2));
  c.fromServer(Buffer.concat([Buffer.from(response()), hex('81 02 68 69')]));
  t.match(of('response')[0], { status: 101, accept: { key: KEY, expected: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', received: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', ok: true }, extensions: [] });
  t.match(of('state')[0], { from: 'CONNECTING', to: 'OPEN' });
  t.equal(c.state, 'OPEN');
  t.match(of('frame')[0], { conn: 7, from: 'server', type: 'Text', fin: true, masked: false, length: 2, preview: '6869', text: 'hi' });
  c.fromClient(client({ opcode: 8, payload: hex('03 e8 62 79 65') }));
  t.match(of('state')[1], { from: 'OPEN', to: 'CLOSING', by: 'client', code: 1000, reason: 'bye' });
  c.fromServer(hex('88 02 03 e8'));
  t.match(of('close-answered')[0], { from: 'server', code: 1000, reason: '' });
  c.tcpEnded('server', 'fin');
  c.tcpEnded('server', 'fin'); // told twice: reported once
  c.tcpEnded('client', 'fin');
  t.same(of('tcp').map((e) => [e.from, e.how, e.first]), [
    ['server', 'fin', true],
    ['client', 'fin', false],
  ]);
  c.closed();
  c.closed();
  t.match(of('state')[2], { from: 'CLOSING', to: 'CLOSED', by: 'server', clean: true });
  t.equal(of('state').length, 3, 'CLOSED once');
  t.equal(c.heldBytes, 0, 'nothing held at the end');
  t.end();
});

t.test('the client\'s frames sent before the answer wait for it, then are decoded', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.concat([Buffer.from(REQUEST), client({ opcode: 1, payload: 'early' })]));
  t.same(of('frame'), [], 'not decoded before the answer');
  t.ok(c.heldBytes >= 11, 'held meanwhile');
  c.fromServer(Buffer.from(response()));
  t.match(of('frame')[0], { from: 'client', text: 'early', masked: true });
  t.end();
});

t.test('the answer before the request is complete (a server that does not wait)', (t) => {
  const { c, of } = conversation();
  c.fromServer(Buffer.from(response()));
  c.fromClient(Buffer.concat([Buffer.from(REQUEST), client({ opcode: 2, payload: 'x' })]));
  t.match(of('frame')[0], { from: 'client', type: 'Binary' });
  t.end();
});

t.test('more than EARLY_LIMIT bytes before the answer: the client side is not decoded', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from(REQUEST));
  c.fromClient(Buffer.alloc(EARLY_LIMIT + 1));
  t.match(of('undecoded')[0], { from: 'client' });
  t.match(traceLines(of('undecoded')[0]), [/^#7 client → server {2}not decoded: over 65536 bytes sent before the server answered the handshake/]);
  t.equal(c.heldBytes, 0);
  c.fromServer(Buffer.from(response()));
  c.fromClient(client({ opcode: 1, payload: 'late' }));
  t.same(of('frame'), []);
  t.end();
});

t.test('a refused handshake: no WebSocket, the rest is plain HTTP', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.concat([Buffer.from(REQUEST), client({ opcode: 1, payload: 'x' })]));
  c.fromServer(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n'));
  c.fromClient(client({ opcode: 1, payload: 'y' }));
  t.match(of('response')[0], { status: 404 });
  t.equal(of('response')[0].accept, undefined);
  t.same(of('frame'), []);
  c.tcpEnded('server', 'fin');
  c.closed();
  t.match(of('state')[0], { from: 'CONNECTING', to: 'CLOSED', why: 'the handshake was refused (404): no WebSocket connection' });
  t.end();
});

t.test('not HTTP: a head that does not parse is reported, then relayed undecoded', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from('hello\r\n\r\n'));
  t.match(of('not-http')[0], { from: 'client', error: /request line/ });
  t.match(traceLines(of('not-http')[0]), [/^#7 client → server {2}not an HTTP head \(the request line is not .*\); relayed, not decoded$/]);
  c.fromClient(Buffer.from('more'));
  c.fromServer(Buffer.from('SSH-2.0-OpenSSH\r\n'));
  t.match(of('not-http')[1], { from: 'server' });
  c.closed();
  t.match(of('state')[0], { to: 'CLOSED', why: 'TCP closed before the handshake completed' });
  t.end();
});

t.test('a wrong or uncheckable Sec-WebSocket-Accept', (t) => {
  const wrong = conversation();
  wrong.c.fromClient(Buffer.from(REQUEST));
  wrong.c.fromServer(Buffer.from(response('', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')));
  t.match(wrong.of('response')[0].accept, { ok: false, expected: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', received: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
  t.match(traceLines(wrong.of('response')[0]).at(-1), /✗ should be s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=: the client must fail the connection \(§4\.1\)/);
  const keyless = conversation();
  keyless.c.fromClient(Buffer.from(REQUEST.replace(/Sec-WebSocket-Key: .*\r\n/, '')));
  keyless.c.fromServer(Buffer.from(response()));
  t.match(keyless.of('response')[0].accept, { ok: false, key: undefined, expected: undefined });
  t.match(traceLines(keyless.of('response')[0]).at(-1), /cannot be checked: the request had no Sec-WebSocket-Key/);
  t.end();
});

t.test('permessage-deflate negotiated: RSV1 frames are compressed messages, not violations', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from(REQUEST));
  c.fromServer(Buffer.concat([Buffer.from(response('Sec-WebSocket-Extensions: permessage-deflate\r\n')), buildFrame({ opcode: 1, rsv: 4, payload: hex('f2 48 cd c9 c9 07 00') })]));
  t.same(of('response')[0].extensions, ['permessage-deflate']);
  t.match(traceLines(of('response')[0]).at(-1), /permessage-deflate was negotiated \(RFC 7692\)/);
  t.match(of('message')[0], { compressed: true, type: 'Text', length: 7 });
  t.equal(of('message')[0].text, undefined, 'compressed bytes are not shown as text');
  t.same(of('violation'), []);
  t.match(traceLines(of('frame')[0])[0], /Text FIN RSV1, 7 bytes: f2 48 cd/);
  // A compressed message in two fragments: reassembled, marked compressed.
  c.fromServer(Buffer.concat([buildFrame({ opcode: 2, rsv: 4, fin: false, payload: hex('01 02') }), buildFrame({ opcode: 0, payload: hex('03') })]));
  t.match(traceLines(of('message')[1]), [/^#7 server → client {2}message 2 reassembled: Binary, compressed, 3 bytes in 2 fragments: 01 02 03$/]);
  // An unparsable extensions header negotiates nothing.
  const bad = conversation();
  bad.c.fromClient(Buffer.from(REQUEST));
  bad.c.fromServer(Buffer.from(response('Sec-WebSocket-Extensions: ;;\r\n')));
  t.same(bad.of('response')[0].extensions, []);
  t.end();
});

t.test('a rule broken: a violation with the close code, then nothing more decoded from that side', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from(REQUEST));
  c.fromServer(Buffer.from(response()));
  c.fromClient(hex('81 01 41')); // unmasked, from a client
  c.fromClient(client({ opcode: 1, payload: 'after' }));
  t.match(of('violation'), [{ from: 'client', frame: 1, code: 'WS_ERR_EXPECTED_MASK', closeCode: 1002 }]);
  t.same(of('frame'), []);
  c.fromServer(hex('88 02 03 ea'));
  t.match(of('state')[1], { to: 'CLOSING', by: 'server', code: 1002 });
  c.closed();
  t.match(of('state')[2], { from: 'CLOSING', to: 'CLOSED', clean: false, why: /before the Close was answered: 1006/ });
  t.end();
});

t.test('TCP gone without a closing handshake: 1006', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from(REQUEST));
  c.fromServer(Buffer.from(response()));
  c.tcpEnded('client', 'reset');
  c.tcpEnded('server', 'reset');
  c.closed();
  t.match(of('tcp')[0], { from: 'client', how: 'reset', first: true });
  t.same(of('tcp').flatMap(traceLines), ["#7 TCP: the client's side was reset or broke first", "#7 TCP: the server's side was reset or broke"]);
  t.match(of('state')[1], { from: 'OPEN', to: 'CLOSED', by: 'client', clean: false, why: /without a closing handshake: 1006 Abnormal Closure \(§7\.1\.5\)/ });
  t.end();
});

t.test('frames and messages as JSON-ready events: fragments, previews, keys, Ping text', (t) => {
  const { c, of } = conversation();
  c.fromClient(Buffer.from(REQUEST));
  c.fromServer(Buffer.from(response()));
  c.fromClient(
    Buffer.concat([
      client({ opcode: 1, fin: false, payload: hex('c3') }),
      client({ opcode: 9, payload: 'ping?' }),
      client({ opcode: 0, fin: false, payload: hex('a9') }),
      client({ opcode: 0, payload: 'x'.repeat(100) }),
      client({ opcode: 2, payload: Buffer.alloc(200, 0xab) }),
      client({ opcode: 10, payload: hex('ff') }),
    ]),
  );
  const frames = of('frame');
  t.same(
    frames.map((f) => [f.type, f.fin, f.message, f.fragment, f.text]),
    [
      ['Text', false, 1, 1, undefined],
      ['Ping', true, undefined, undefined, 'ping?'],
      ['Continuation', false, 1, 2, undefined],
      ['Continuation', true, 1, 3, 'x'.repeat(100).slice(0, 64)],
      ['Binary', true, 2, 1, undefined],
      ['Pong', true, undefined, undefined, undefined],
    ],
  );
  t.equal(frames[0].maskKey, '37fa213d');
  t.equal(frames[4].preview, 'ab'.repeat(64), 'a preview of 64 bytes');
  const messages = of('message');
  t.match(messages[0], { index: 1, type: 'Text', frames: 3, length: 102, text: `é${'x'.repeat(62)}` });
  t.match(messages[1], { index: 2, type: 'Binary', frames: 1, length: 200 });
  t.equal(messages[1].text, undefined);
  for (const e of [...frames, ...messages]) t.same(JSON.parse(JSON.stringify(e)), e, 'JSON-ready');
  t.same(traceLines(frames[3]), [`#7 client → server  Continuation FIN (fragment 3 of message 1, the last) mask 37fa213d, 100 bytes: "${'x'.repeat(24)}" … 76 more bytes`]);
  t.same(traceLines(messages[0]), [`#7 client → server  message 1 reassembled: Text, 102 bytes in 3 fragments: "é${'x'.repeat(23)}" … 77 more bytes`]);
  t.end();
});
