// What the ws-pattern suite (patterns.test.ts) found missing for ws's documented usage, fixed in
// src/ and tested here on the sources against a ws peer: each test names the pattern that needed it.
import t from 'tap';
import type { AddressInfo } from 'node:net';
import WsWebSocket, { WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { ResponseHeadParser } from '../../src/handshake/index.js';
import { next } from '../helpers.js';

t.test("a number is sent as its decimal text, as ws sends it (README: Round-trip time's ws.send(Date.now()))", async (t) => {
  const peer = new WsServer({ port: 0, host: '127.0.0.1' });
  await next(peer, 'listening');
  t.teardown(() => new Promise<void>((r) => peer.close(() => r())));
  const seen: string[] = [];
  peer.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => seen.push(`message ${isBinary ? 'binary' : 'text'} ${data}`));
    ws.on('ping', (data) => seen.push(`ping ${data}`));
    ws.on('pong', (data) => seen.push(`pong ${data}`));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(peer.address() as AddressInfo).port}/`);
  await next(ws, 'open');
  ws.send(1733234567890);
  ws.send(42, { binary: true });
  ws.ping(7);
  ws.pong(-1.5);
  ws.close(1000);
  await next(ws, 'close');
  t.same(seen, ['message text 1733234567890', 'message binary 42', 'ping 7', 'pong -1.5']);
});

t.test("new WebSocketServer(options, callback): the callback is called once it listens (ws's second argument)", async (t) => {
  let server: WebSocketServer | undefined;
  const port = await new Promise<number>((resolve) => {
    server = new WebSocketServer({ port: 0 }, () => resolve(server!.address().port));
  });
  t.teardown(() => server!.close());
  t.ok(port > 0, 'called once listening, with the address known');
  t.equal(server!.listenerCount('listening'), 0, 'a once listener: gone after the call');
  t.throws(() => new WebSocketServer({ noServer: true }, 'soon' as never), {
    code: 'WS_ERR_INVALID_OPTION',
    message: 'new WebSocketServer(options, callback): callback must be a function; got "soon" (a string).',
  });
});

t.test("perMessageDeflate's zlibDeflateOptions.chunkSize is accepted, as ws's README sets it (README: WebSocket compression)", async (t) => {
  const server = new WebSocketServer({ port: 0, perMessageDeflate: { zlibDeflateOptions: { chunkSize: 1024, memLevel: 7, level: 3 }, threshold: 0 } });
  await server.ready;
  t.teardown(() => server.close());
  server.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  const ws = new WsWebSocket(server.url);
  await next(ws, 'open');
  ws.send('compress me '.repeat(50));
  const [data] = await next<[Buffer]>(ws, 'message');
  t.equal(String(data), 'compress me '.repeat(50));
  t.equal(ws.extensions, 'permessage-deflate');
  ws.close();
  await next(ws, 'close');
  t.throws(() => new WebSocketServer({ noServer: true, perMessageDeflate: { zlibDeflateOptions: { chunkSize: 8 } } }), {
    code: 'WS_ERR_INVALID_OPTION',
    message: /zlibDeflateOptions: option chunkSize must be a whole number from 64 to 2\^53 - 1; got 8/,
  });
});

t.test("Set-Cookie lines stay a list, as node:http keeps them (doc/ws.md: the client's 'upgrade' event)", async (t) => {
  const head = 'HTTP/1.1 101 Switching Protocols\r\nSet-Cookie: a=1; Expires=Wed, 09 Jun 2027 10:18:14 GMT\r\nX-Other: 1\r\nX-Other: 2\r\nset-cookie: b=2\r\n\r\n';
  const parsed = new ResponseHeadParser().push(Buffer.from(head, 'latin1'));
  t.same(parsed.state === 'complete' && parsed.head.headers, {
    'set-cookie': ['a=1; Expires=Wed, 09 Jun 2027 10:18:14 GMT', 'b=2'],
    'x-other': '1, 2',
  }, 'never joined with a comma (RFC 6265 §3); other repeated fields still are (RFC 9110 §5.3)');

  const peer = new WsServer({ port: 0, host: '127.0.0.1' });
  await next(peer, 'listening');
  t.teardown(() => new Promise<void>((r) => peer.close(() => r())));
  peer.on('headers', (headers) => headers.push('Set-Cookie: only=1'));
  const ws = new WebSocket(`ws://127.0.0.1:${(peer.address() as AddressInfo).port}/`);
  const upgraded = next<[{ headers: Record<string, unknown> }]>(ws, 'upgrade');
  const opened = next(ws, 'open');
  const [response] = await upgraded;
  t.same(response.headers['set-cookie'], ['only=1'], 'one cookie is a list of one, as in ws');
  await opened;
  ws.close();
  await next(ws, 'close');
});

t.test("ws's option names: allowSynchronousEvents: true is what this package does; the others say why they are not taken", async (t) => {
  const server = new WebSocketServer({ noServer: true, allowSynchronousEvents: true });
  t.ok(server, 'allowSynchronousEvents: true is accepted');
  t.throws(() => new WebSocketServer({ noServer: true, allowSynchronousEvents: false as never }), {
    code: 'WS_ERR_INVALID_OPTION',
    message: /allowSynchronousEvents must be true: the messages of one read are emitted one after another/,
  });
  t.throws(() => new WebSocketServer({ noServer: true, WebSocket: class {} } as never), { message: /option WebSocket — is not supported: connections are this package's WebSocket/ });
  t.throws(() => new WebSocketServer({ noServer: true, maxBufferedChunks: 8 } as never), { message: /maxBufferedChunks — is not supported: a message being received holds at most maxPayload \+ 64 KiB/ });
  for (const [name, why] of [
    ['maxBufferedChunks', /holds at most maxPayload \+ 64 KiB/],
    ['generateMask', /crypto\.randomFillSync/],
    ['host', /the host \(and the Host header\) is the URL's/],
    ['checkServerIdentity', /give it in tls/],
  ] as const) {
    t.throws(() => new WebSocket('ws://127.0.0.1:9/', { [name]: 1 } as never), { code: 'WS_ERR_INVALID_OPTION', message: why }, name);
  }
});
