// ws's API on our classes, point by point, against real ws peers: the client constructor, the
// WHATWG surface, binaryType, callbacks, the client's handshake events, and the server's options
// and events that ws users rely on.
import t, { type Test } from 'tap';
import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import WsWebSocket, { WebSocketServer as WsServer } from 'ws';
import DefaultWebSocket, { WebSocket, WebSocketServer, createWebSocketStream, MessageEvent, CloseEvent } from '../src/index.js';
import { listen, next } from './helpers.js';
import { kServerSide } from '../src/websocket.js';

/** A ws echo server on a free port. */
async function wsEcho(t: Test, options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<{ url: string; server: WsServer }> {
  const server = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  await next(server, 'listening');
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

t.test('the default export is WebSocket, with ws statics', async (t) => {
  t.equal(DefaultWebSocket, WebSocket);
  t.equal(WebSocket.Server, WebSocketServer);
  t.equal(WebSocket.WebSocketServer, WebSocketServer);
  t.equal(WebSocket.WebSocket, WebSocket);
  t.equal(WebSocket.createWebSocketStream, createWebSocketStream);
  const ws = new WebSocket(kServerSide);
  t.same([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3], 'the constants on the instance too');
});

t.test('new WebSocket(url, protocols, options) connects; the EventTarget surface and binaryType', async (t) => {
  const { url, server } = await wsEcho(t, { handleProtocols: (p) => [...p][1] });
  const upgrades: number[] = [];
  const ws = new WebSocket(url, ['one', 'two'], { handshakeTimeout: 5000 });
  ws.on('upgrade', (response) => upgrades.push(response.statusCode));
  t.equal(ws.readyState, WebSocket.CONNECTING);
  const events: string[] = [];
  ws.onopen = (e: { type: string }) => events.push(e.type);
  t.type(ws.onopen, 'function');
  const handler = { handleEvent: (e: MessageEvent) => events.push(`handleEvent:${String(e.data)}`) };
  ws.addEventListener('message', handler, { once: true });
  ws.addEventListener('message', handler, { once: true }); // added twice: called once
  ws.addEventListener('nothing' as 'open', () => events.push('never'));
  await next(ws, 'open');
  t.same(upgrades, [101]);
  t.equal(ws.protocol, 'two', 'the protocols list was offered');
  const text = next<[string, boolean]>(ws, 'message');
  ws.send('hello');
  t.same(await text, ['hello', false]);
  t.same(events, ['open', 'handleEvent:hello']);
  // binaryType decides what binary messages are.
  for (const [type, check] of [
    ['nodebuffer', (d: unknown) => Buffer.isBuffer(d)],
    ['arraybuffer', (d: unknown) => d instanceof ArrayBuffer && d.byteLength === 3],
    ['fragments', (d: unknown) => Array.isArray(d) && Buffer.concat(d).equals(Buffer.from([1, 2, 3]))],
  ] as const) {
    ws.binaryType = type;
    const got = new Promise<unknown>((resolve) => {
      ws.onmessage = (e: MessageEvent) => resolve(e.data);
    });
    ws.send(Buffer.from([1, 2, 3]));
    t.ok(check(await got), `binaryType ${type}`);
  }
  t.equal(ws.binaryType, 'fragments');
  t.throws(() => (ws.binaryType = 'blob' as never), { code: 'WS_ERR_INVALID_ARGUMENT' });
  // An array of buffers (what 'fragments' delivers) is sent as their concatenation.
  ws.binaryType = 'nodebuffer';
  ws.onmessage = null;
  t.equal(ws.onmessage, null);
  const echoed = next<[Buffer]>(ws, 'message');
  ws.send([Buffer.from('ab'), Buffer.from('cd')]);
  t.same((await echoed)[0], Buffer.from('abcd'));
  // send, ping and pong callbacks: once written; with an error when dropped.
  await new Promise<void>((resolve, reject) => ws.send('cb', (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve, reject) => ws.ping('p', true, (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve, reject) => ws.pong(undefined, (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve, reject) => ws.send('opts', { binary: false, compress: true }, (error) => (error ? reject(error) : resolve())));
  const closes: CloseEvent[] = [];
  ws.addEventListener('close', (e: CloseEvent) => closes.push(e));
  const errorsSeen: unknown[] = [];
  ws.onerror = (e: { error: unknown }) => errorsSeen.push(e.error);
  ws.close(1000, Buffer.from('bye'));
  const dropped = await new Promise<Error | undefined>((resolve) => ws.send('late', resolve));
  t.match(dropped, { code: 'WS_ERR_NOT_OPEN' }, "a send while CLOSING calls back with an error, as ws's does");
  await next(ws, 'close');
  t.match(closes, [{ type: 'close', code: 1000, reason: 'bye', wasClean: true }]);
  t.same(errorsSeen, []);
  server.clients.forEach((c) => c.terminate());
});

t.test("'unexpected-response' replaces 'error' when someone listens; otherwise 'error' then 'close'", async (t) => {
  const httpServer = http.createServer((_req, res) => {
    res.writeHead(403, { 'x-reason': 'no' });
    res.end('forbidden');
  });
  httpServer.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nX-Reason: no\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  t.teardown(() => httpServer.close());
  const url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/path?q=1`;
  const handled = new WebSocket(url);
  const errors: unknown[] = [];
  handled.on('error', (e) => errors.push(e));
  const [request, response] = await next<[{ path: string }, { statusCode: number; headers: Record<string, string> }]>(handled, 'unexpected-response');
  t.equal(request.path, '/path?q=1');
  t.equal(response.statusCode, 403);
  t.equal(response.headers['x-reason'], 'no');
  await next(handled, 'close');
  t.same(errors, [], "with a listener for 'unexpected-response' there is no 'error'");
  const plain = new WebSocket(url);
  const [error] = await next<[{ code: string; status: number }]>(plain, 'error');
  t.match(error, { code: 'WS_ERR_HANDSHAKE_STATUS', status: 403 });
  t.equal((await next<[number]>(plain, 'close'))[0], 1006);
});

t.test('the server option: shares a node:http server; its plain requests stay its own', async (t) => {
  const httpServer = http.createServer((_req, res) => res.end('a page'));
  const wss = new WebSocketServer({ server: httpServer, path: '/ws' });
  const listening = next(wss, 'listening');
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  await listening;
  await wss.ready;
  t.teardown(() => httpServer.close());
  t.match(wss.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
  t.equal(wss.shouldHandle({ url: '/ws?x=1' }), true);
  t.equal(wss.shouldHandle({ url: '/other' }), false);
  const seen: string[] = [];
  wss.on('connection', (ws, req) => {
    seen.push(`${req.url} ${req.socket?.remoteAddress}`);
    ws.send('over the shared port');
  });
  const client = new WsWebSocket(`${wss.url}?x=1`);
  const [data] = await next<[Buffer]>(client, 'message');
  t.equal(data.toString(), 'over the shared port');
  t.same(seen, ['/ws?x=1 127.0.0.1'], "the request is node:http's, with its socket");
  const page = await fetch(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`);
  t.equal(await page.text(), 'a page');
  const closed = next(wss, 'close');
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await closed;
  t.equal(client.readyState, WsWebSocket.CLOSING === client.readyState ? WsWebSocket.CLOSING : WsWebSocket.CLOSED);
  t.equal(httpServer.listening, true, 'the shared server is not closed');
});

t.test('an https server shared: wss URL; handleProtocols(Set, request); the headers event; the request shape', async (t) => {
  const cert = readFileSync('test/fixtures/cert.pem');
  const httpsServer = https.createServer({ key: readFileSync('test/fixtures/key.pem'), cert });
  await new Promise<void>((r) => httpsServer.listen(0, '127.0.0.1', r));
  t.teardown(() => httpsServer.close());
  const wss = new WebSocketServer({
    server: httpsServer,
    clientTracking: true,
    handleProtocols: (protocols, request) => (protocols.has('b') && request.url === '/' ? 'b' : false),
  });
  t.match(wss.url, /^wss:\/\//);
  wss.on('headers', (headers) => headers.push('Set-Cookie: id=1'));
  const connected = next<[WebSocket, { headers: Record<string, string>; httpVersion: string }]>(wss, 'connection');
  const client = new WsWebSocket(wss.url, ['a', 'b'], { ca: cert, servername: 'localhost' } as WsWebSocket.ClientOptions);
  const upgraded = next<[http.IncomingMessage]>(client, 'upgrade');
  const opened = next(client, 'open');
  const [upgrade] = await upgraded;
  t.equal(upgrade.headers['set-cookie']?.[0], 'id=1', "a header added in 'headers' is sent");
  await opened;
  t.equal(client.protocol, 'b');
  const [, req] = await connected;
  t.equal(req.httpVersion, '1.1');
  client.terminate();
  await wss.close();
});

t.test('a standalone server hands over a request shaped like IncomingMessage; textAsBuffer', async (t) => {
  const server = await listen(t, { textAsBuffer: true, handleProtocols: () => false });
  const connected = next<[WebSocket, { socket: { remoteAddress: string }; connection: unknown; httpVersionMajor: number; httpVersionMinor: number; method: string }]>(server, 'connection');
  const client = new WsWebSocket(server.url);
  const opened = next(client, 'open');
  const [ws, req] = await connected;
  t.equal(req.socket.remoteAddress, '127.0.0.1');
  t.equal(req.connection, req.socket);
  t.same([req.method, req.httpVersionMajor, req.httpVersionMinor], ['GET', 1, 1]);
  const message = next<[Buffer, boolean]>(ws, 'message');
  await opened;
  client.send('as a buffer');
  const [data, isBinary] = await message;
  t.ok(Buffer.isBuffer(data), 'text arrives as a Buffer with textAsBuffer, as in ws');
  t.equal(isBinary, false);
  client.terminate();
});

t.test("a 'headers' listener that adds what cannot be sent: 500, reported, no crash", async (t) => {
  const server = await listen(t);
  server.on('headers', (headers) => headers.push('Upgrade: something-else'));
  const errors: Error[] = [];
  server.on('error', (e) => errors.push(e));
  const client = new WsWebSocket(server.url);
  client.on('error', () => {});
  const [, response] = await next<[unknown, http.IncomingMessage]>(client, 'unexpected-response');
  t.equal(response.statusCode, 500);
  t.match(errors, [{ code: 'WS_ERR_HOOK', message: /the 'headers' event's listener answered something that cannot be sent/ }]);
  client.terminate();
});

t.test('createWebSocketStream: messages as chunks, chunks as messages, end closes', async (t) => {
  const { url } = await wsEcho(t);
  const ws = new WebSocket(url);
  const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
  duplex.write('written before open');
  const chunks: string[] = [];
  duplex.on('data', (chunk: string) => chunks.push(chunk));
  await next(ws, 'open');
  duplex.write(Buffer.from('a buffer'));
  for (let i = 0; i < 200 && chunks.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(chunks, ['written before open', 'a buffer']);
  const ended = next(duplex, 'close');
  duplex.end();
  await ended;
  t.equal(ws.readyState, WebSocket.CLOSED);
});

t.test('createWebSocketStream: a reader that stops asking pauses the socket; destroy terminates', async (t) => {
  const { url, server } = await wsEcho(t);
  const ws = new WebSocket(url);
  await next(ws, 'open');
  const duplex = createWebSocketStream(ws, { highWaterMark: 4 });
  const [peer] = [...server.clients];
  for (let i = 0; i < 10; i++) peer.send(Buffer.alloc(16));
  for (let i = 0; i < 200 && !ws.isPaused; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(ws.isPaused, true, 'nobody reads: the socket is paused');
  let read = 0;
  duplex.on('data', (chunk: Buffer) => (read += chunk.length));
  for (let i = 0; i < 200 && read < 160; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(read, 160, 'reading again resumes it');
  const closed = next(ws, 'close');
  duplex.destroy();
  await closed;
  const late = createWebSocketStream(ws);
  late.end();
  await next(late, 'finish');
  const failing = new WebSocket('ws://127.0.0.1:1/');
  const errored = createWebSocketStream(failing);
  const [error] = await next<[{ code: string }]>(errored, 'error');
  t.equal(error.code, 'WS_ERR_CONNECT');
});

t.test("a client connecting from another local address, and ws's TLS options at the top level", async (t) => {
  const cert = readFileSync('test/fixtures/cert.pem');
  const server = await listen(t, { tls: { key: readFileSync('test/fixtures/key.pem'), cert } });
  const connected = next<[WebSocket, { socket: { remoteAddress: string } }]>(server, 'connection');
  const ws = new WebSocket(server.url, { ca: cert, servername: 'localhost', localAddress: '127.0.0.2', family: 4 });
  await next(ws, 'open');
  const [, req] = await connected;
  t.equal(req.socket.remoteAddress, '127.0.0.2');
  ws.close();
  await next(ws, 'close');
  t.throws(() => new WebSocket('ftp://x/'), { code: 'WS_ERR_INVALID_URL' }, 'a bad URL throws in the constructor');
  t.throws(() => new WebSocket('ws://x/', { protocolVersion: 8 } as never), { code: 'WS_ERR_INVALID_OPTION', message: /protocolVersion must be 13/ });
  t.throws(() => new WebSocket('ws://x/', { skipUTF8Validation: true } as never), { code: 'WS_ERR_INVALID_OPTION', message: /skipUTF8Validation must be false: text is always validated/ });
  const offered = next<[WebSocket, { headers: Record<string, string> }]>(server, 'connection');
  const single = new WebSocket(server.url, 'only', { ca: cert, servername: 'localhost' });
  await next(single, 'open');
  t.equal((await offered)[1].headers['sec-websocket-protocol'], 'only', 'one protocol as a string is offered');
  single.close();
  await next(single, 'close');
});

t.test('the last corners: onerror gets an ErrorEvent; unknown types; callbacks of bytes never written; end before open', async (t) => {
  const refused = new WebSocket('ws://127.0.0.1:1/');
  const got = new Promise<{ type: string; message: string; error: { code: string } }>((resolve) => {
    refused.onerror = resolve as never;
  });
  t.type(refused.onerror, 'function');
  t.equal(refused.onclose, null);
  refused.onclose = () => {};
  t.type(refused.onclose, 'function');
  const event = await got;
  t.match(event, { type: 'error', message: /Could not connect/, error: { code: 'WS_ERR_CONNECT' } });
  refused.removeEventListener('nothing' as 'open', () => {});
  refused.removeEventListener('open', () => {}, );
  refused.onerror = null;
  t.equal(refused.onerror, null);

  // A send whose bytes wait behind a peer that does not read, when the socket goes: its callback hears why.
  const server = await listen(t, { highWaterMark: 1024 });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = new WsWebSocket(server.url);
  await next(peer, 'open');
  const [ws] = await connected;
  (peer as unknown as { _socket: { pause(): void } })._socket.pause();
  const big = Buffer.alloc(1024 * 1024);
  let result: Error | undefined | 'pending' = 'pending';
  let queued: Error | undefined | 'pending' = 'pending';
  for (let i = 0; i < 50; i++) ws.send(big);
  ws.send('queued', (error) => (queued = error));
  await new Promise((r) => setTimeout(r, 50));
  // By now the held bytes went to the socket's own queue (which the peer does not empty): this
  // send waits in the outbox, so its callback is still ours to call when the socket goes.
  ws.send('last', (error) => (result = error));
  ws.terminate();
  await next(ws, 'close');
  t.match(result, { code: 'WS_ERR_NOT_OPEN' }, 'the callback of bytes never written gets an error');
  t.match(queued, { code: 'WS_ERR_NOT_OPEN' }, 'and so does one of bytes the socket took but never wrote');
  peer.terminate();

  // A stream ended before its socket opened closes it once open.
  const { url } = await wsEcho(t);
  const early = new WebSocket(url);
  const stream = createWebSocketStream(early);
  stream.resume();
  stream.end();
  await next(early, 'close');
  t.equal(early.readyState, WebSocket.CLOSED);
});

t.test('a heartbeat answered each time keeps the connection; a headers line without a colon; shouldHandle without a url', async (t) => {
  const server = await listen(t, { heartbeatInterval: 30, path: '/p' });
  const client = new WsWebSocket(`${server.url}`);
  await next(client, 'open');
  let pings = 0;
  client.on('ping', () => pings++);
  for (let i = 0; i < 100 && pings < 4; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(pings >= 4, `${pings} pings answered`);
  t.equal(client.readyState, WsWebSocket.OPEN, 'still open');
  client.terminate();
  t.equal(server.shouldHandle({}), false);
  server.on('headers', (headers) => headers.push('X-Flag'));
  const second = new WsWebSocket(server.url);
  const [upgrade] = await next<[http.IncomingMessage]>(second, 'upgrade');
  t.equal(upgrade.headers['x-flag'], '', 'a line without a colon is a header with an empty value');
  second.terminate();
});

t.test('a fragmented binary message as an ArrayBuffer of its own; a send after CLOSED calls back with why', async (t) => {
  const { url, server } = await wsEcho(t);
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  await next(ws, 'open');
  const [peer] = [...server.clients];
  const got = next<[ArrayBuffer]>(ws, 'message');
  peer.send(Buffer.alloc(10_000, 3), { fin: false });
  peer.send(Buffer.alloc(10_000, 4), { fin: true });
  const [data] = await got;
  t.equal(data.byteLength, 20_000);
  t.equal(new Uint8Array(data)[19_999], 4);
  ws.close();
  await next(ws, 'close');
  const error = await new Promise<Error | undefined>((resolve) => ws.send('late', resolve));
  t.match(error, { code: 'WS_ERR_NOT_OPEN', message: /is CLOSED/ });
});
