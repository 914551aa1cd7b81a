// The standalone server against real peers: the ws client, Node's own WebSocket, raw TCP.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WsWebSocket from 'ws';
import { WebSocketServer, type ServerOptions } from '../../src/server/server.js';
import type { Test } from 'tap';
import type { WebSocket } from '../../src/websocket.js';
import { listen, maskedFrame, next, rawPeer, upgradeRequest, upgradedPeer } from '../helpers.js';

/** An echo server: text as text, binary as binary. */
async function echoServer(t: Test, options: ServerOptions = {}): Promise<WebSocketServer> {
  const server = await listen(t, options);
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return server;
}

/** Opens a ws-library client and collects what it receives. */
async function wsClient(url: string, protocols?: string[]): Promise<WsWebSocket> {
  const client = new WsWebSocket(url, protocols, { maxPayload: 64 * 1024 * 1024 });
  await next(client, 'open');
  return client;
}

t.test('the ws client: text, binary, empty and 16 MiB messages echo unchanged', async (t) => {
  const server = await echoServer(t, { maxPayload: 32 * 1024 * 1024 });
  const client = await wsClient(server.url);
  const cases: [Buffer | string, boolean][] = [
    ['héllo wörld 🎉', false],
    [Buffer.from([0, 1, 2, 255]), true],
    ['', false],
    [Buffer.alloc(0), true],
    [Buffer.alloc(16 * 1024 * 1024, 0x5a), true],
  ];
  for (const [data, isBinary] of cases) {
    const reply = next<[Buffer, boolean]>(client, 'message');
    client.send(data, { binary: isBinary });
    const [got, gotBinary] = await reply;
    t.equal(gotBinary, isBinary);
    t.same(Buffer.from(got), Buffer.from(data as Buffer), `echo of ${Buffer.byteLength(data as Buffer)} bytes`);
  }
  client.close(1000, 'done');
  const [code, reason] = await next<[number, Buffer]>(client, 'close');
  t.equal(code, 1000);
  t.equal(reason.toString(), 'done');
});

t.test('text arrives as a string and binary as a Buffer', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const client = await wsClient(server.url);
  const [ws] = await connected;
  const text = next<[string | Buffer, boolean]>(ws, 'message');
  client.send('abc');
  t.same(await text, ['abc', false]);
  const binary = next<[string | Buffer, boolean]>(ws, 'message');
  client.send(Buffer.from('abc'));
  t.same(await binary, [Buffer.from('abc'), true]);
  client.terminate();
});

t.test('fragmented sends reach the ws client as one message (RFC 6455 §5.4)', async (t) => {
  const server = await listen(t);
  server.on('connection', (ws) => {
    ws.send('frag', { fin: false });
    ws.send('men', { fin: false });
    ws.send('ted', { fin: true });
    ws.send(new Uint8Array([1, 2, 3]));
    ws.send(new Uint16Array([0x0102]).buffer);
  });
  const client = new WsWebSocket(server.url);
  const got: string[] = [];
  await new Promise<void>((resolve) =>
    client.on('message', (data: Buffer, isBinary: boolean) => {
      got.push(isBinary ? `bin:${data.toString('hex')}` : data.toString());
      if (got.length === 3) resolve();
    }),
  );
  t.same(got, ['fragmented', 'bin:010203', 'bin:0201']);
  client.terminate();
});

t.test('pings are answered automatically, and our pings reach the peer', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const client = await wsClient(server.url);
  const [ws] = await connected;
  const pong = next<[Buffer]>(client, 'pong');
  const serverSawPing = next<[Buffer]>(ws, 'ping');
  client.ping('are you there');
  t.equal((await pong)[0].toString(), 'are you there');
  t.equal((await serverSawPing)[0].toString(), 'are you there');
  const clientPing = next<[Buffer]>(client, 'ping');
  const serverPong = next<[Buffer]>(ws, 'pong');
  ws.ping('from server');
  t.equal((await clientPing)[0].toString(), 'from server');
  t.equal((await serverPong)[0].toString(), 'from server', 'ws answers our ping');
  ws.pong('unsolicited');
  t.equal((await next<[Buffer]>(client, 'pong'))[0].toString(), 'unsolicited');
  ws.ping();
  t.equal((await next<[Buffer]>(client, 'ping'))[0].length, 0, 'an empty ping by default');
  ws.ping(Buffer.from([7]));
  t.same((await next<[Buffer]>(client, 'ping'))[0], Buffer.from([7]));
  ws.pong();
  t.equal((await next<[Buffer]>(client, 'pong'))[0].length, 0, 'an empty pong by default');
  client.terminate();
});

t.test('the server closes: code and reason reach the client, both sides see a clean close', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const client = await wsClient(server.url);
  const [ws] = await connected;
  const clientClosed = next<[number, Buffer]>(client, 'close');
  const serverClosed = next<[number, string, boolean]>(ws, 'close');
  ws.close(4001, 'see you');
  t.equal(ws.readyState, 2, 'CLOSING');
  ws.close(1000, 'ignored: already closing');
  const [code, reason] = await clientClosed;
  t.equal(code, 4001);
  t.equal(reason.toString(), 'see you');
  t.same(await serverClosed, [4001, 'see you', true]);
  t.equal(ws.readyState, 3, 'CLOSED');
  t.equal(ws.send('late'), false, 'a send after close is dropped, not thrown');
  t.equal(server.clients.size, 0);
});

t.test('the client closes: the server reports its code and reason', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const client = await wsClient(server.url);
  const [ws] = await connected;
  const serverClosed = next<[number, string, boolean]>(ws, 'close');
  client.close(1001, 'leaving');
  t.same(await serverClosed, [1001, 'leaving', true]);
  const [code] = await next<[number]>(client, 'close');
  t.equal(code, 1001);
});

t.test('a broken TCP connection closes with 1006', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const client = await wsClient(server.url);
  const [ws] = await connected;
  const closed = next<[number, string, boolean]>(ws, 'close');
  client.terminate();
  t.same(await closed, [1006, '', false]);
});

t.test('a protocol error closes with its code, reported through error and close', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  const error = next<[{ code: string; closeCode: number }]>(ws, 'error');
  const closed = next<[number, string, boolean]>(ws, 'close');
  // An unmasked frame from a client (§5.1).
  peer.socket.write(Buffer.from([0x81, 0x01, 0x61]));
  t.equal((await error)[0].closeCode, 1002);
  t.same(await closed, [1002, '', false]);
  const bytes = await peer.closed;
  t.same(bytes, Buffer.from([0x88, 0x02, 0x03, 0xea]), 'Close 1002, then the server ended TCP');
});

t.test('a protocol error with no error listener does not crash', async (t) => {
  const server = await listen(t);
  const peer = await upgradedPeer(t, server.address().port);
  peer.socket.write(Buffer.from([0x81, 0x01, 0x61]));
  t.same(await peer.closed, Buffer.from([0x88, 0x02, 0x03, 0xea]));
});

t.test('frames pipelined behind the request are not lost', async (t) => {
  const server = await echoServer(t);
  const peer = await rawPeer(t, server.address().port);
  peer.socket.write(Buffer.concat([Buffer.from(upgradeRequest(server.address().port)), maskedFrame(0x1, 'early')]));
  const bytes = await peer.waitFor(1);
  let all = bytes;
  while (!all.includes(Buffer.from('early'))) all = await peer.waitFor(all.length + 1);
  t.ok(all.toString('latin1').startsWith('HTTP/1.1 101 '));
  t.same(all.subarray(all.indexOf('\r\n\r\n') + 4), Buffer.from([0x81, 0x05, ...Buffer.from('early')]));
});

t.test('replies to every message of one TCP read leave in one write', async (t) => {
  const server = await echoServer(t);
  const peer = await upgradedPeer(t, server.address().port);
  const burst = Buffer.concat(Array.from({ length: 200 }, (_, i) => maskedFrame(0x2, Buffer.from([i]))));
  const writes: number[] = [];
  const [ws] = [...server.clients];
  // Count the socket writes the server makes for the burst.
  const socket = (ws.driver as unknown as { socket: { write: (...a: unknown[]) => boolean } }).socket;
  const write = socket.write.bind(socket);
  socket.write = (...args: unknown[]) => {
    writes.push((args[0] as Buffer).length);
    return write(...args);
  };
  peer.socket.write(burst);
  const echoed = await peer.waitFor(600);
  t.equal(echoed.length, 600);
  t.ok(writes.length < 10, `${writes.length} writes for 200 messages`);
});

t.test('subprotocols: the server picks by its preference among those offered', async (t) => {
  const server = await listen(t, { protocols: ['chat.v2', 'chat.v1'] });
  const client = await wsClient(server.url, ['chat.v1', 'chat.v2']);
  t.equal(client.protocol, 'chat.v2');
  const [ws] = [...server.clients];
  t.equal(ws.protocol, 'chat.v2');
  client.terminate();
  // Nothing in common: the server accepts without the header (RFC 6455 §4.2.2); the ws client
  // would call that an error, so a raw peer checks it.
  const peer = await rawPeer(t, server.address().port);
  peer.socket.write(upgradeRequest(server.address().port, 'Sec-WebSocket-Protocol: other\r\n'));
  const head = (await peer.waitFor(12)).toString();
  let response = head;
  while (!response.includes('\r\n\r\n')) response = (await peer.waitFor(response.length + 1)).toString();
  t.match(response, /^HTTP\/1\.1 101 /);
  t.notMatch(response.toLowerCase(), /sec-websocket-protocol/, 'no header when none is picked');
});

t.test('plain HTTP: 426 without a handler, the handler answer with one', async (t) => {
  const bare = await listen(t);
  const res = await fetch(`http://127.0.0.1:${bare.address().port}/`);
  t.equal(res.status, 426);
  t.equal(res.headers.get('upgrade'), 'websocket');
  const server = await listen(t, {
    httpHandler: (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `you asked for ${req.url}` }),
  });
  const page = await fetch(`http://127.0.0.1:${server.address().port}/page?x=1`);
  t.equal(page.status, 200);
  t.equal(await page.text(), 'you asked for /page?x=1');
  const head = await fetch(`http://127.0.0.1:${server.address().port}/x`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-length'), String('you asked for /x'.length), 'HEAD: the length of the GET body');
  t.equal(await head.text(), '');
  const failing = await listen(t, {
    httpHandler: () => {
      throw new Error('handler bug');
    },
  });
  t.equal((await fetch(`http://127.0.0.1:${failing.address().port}/`)).status, 500);
});

t.test('path: upgrades elsewhere get 404', async (t) => {
  const server = await listen(t, { path: '/ws' });
  t.equal(server.url, `ws://127.0.0.1:${server.address().port}/ws`);
  const ok = await wsClient(`${server.url}?token=1`);
  ok.terminate();
  const peer = await rawPeer(t, server.address().port);
  peer.socket.write(upgradeRequest(server.address().port, '', '/other'));
  t.match((await peer.closed).toString(), /^HTTP\/1\.1 404 /);
  const absolute = await rawPeer(t, server.address().port);
  absolute.socket.write(upgradeRequest(server.address().port, '', `http://127.0.0.1:${server.address().port}/ws?x=1`));
  t.match((await absolute.waitFor(12)).toString(), /^HTTP\/1\.1 101 /, 'an absolute-form target is matched by its path');
});

t.test('verifyClient: false is 401, a status of its own, a promise, a throw is 500', async (t) => {
  const verdicts: Record<string, unknown> = {
    '/no': false,
    '/teapot': { status: 418, message: 'I am a teapot', headers: { 'x-why': 'tea' } },
    '/later': Promise.resolve(true),
    '/later-no': Promise.resolve(false),
    '/rejects': Promise.reject(new Error('db down')),
  };
  (verdicts['/rejects'] as Promise<unknown>).catch(() => {});
  const server = await listen(t, {
    verifyClient: (req) => {
      if (req.url === '/throws') throw new Error('bug');
      return (verdicts[req.url] ?? true) as boolean;
    },
  });
  const port = server.address().port;
  const status = async (path: string): Promise<string> => {
    const peer = await rawPeer(t, port);
    peer.socket.write(upgradeRequest(port, '', path));
    return (await peer.closed).toString().split('\r\n')[0];
  };
  t.equal(await status('/no'), 'HTTP/1.1 401 Unauthorized');
  t.match(await status('/teapot'), /^HTTP\/1\.1 418 /);
  t.equal(await status('/later-no'), 'HTTP/1.1 401 Unauthorized');
  t.match(await status('/rejects'), /^HTTP\/1\.1 500 /);
  t.match(await status('/throws'), /^HTTP\/1\.1 500 /);
  const ok = await wsClient(`ws://127.0.0.1:${port}/later`);
  ok.terminate();
});

t.test('allowedOrigins: other origins get 403', async (t) => {
  const server = await listen(t, { allowedOrigins: ['https://example.com'] });
  const ok = new WsWebSocket(server.url, { origin: 'https://example.com' });
  await next(ok, 'open');
  ok.terminate();
  const refused = new WsWebSocket(server.url, { origin: 'https://evil.example' });
  const [, res] = await next<[unknown, { statusCode: number }]>(refused, 'unexpected-response');
  t.equal(res.statusCode, 403);
  refused.on('error', () => {});
  refused.terminate();
});

t.test('a bad request head is answered with its status', async (t) => {
  const server = await listen(t, { maxHeadSize: 1024 });
  const port = server.address().port;
  const peer = await rawPeer(t, port);
  peer.socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
  t.match((await peer.closed).toString(), /^HTTP\/1\.1 431 /);
  const broken = await rawPeer(t, port);
  broken.socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  t.match((await broken.closed).toString(), /^HTTP\/1\.1 400 /, 'an upgrade without a key is a broken one');
});

t.test('handshakeTimeout drops a client that sends half a request', async (t) => {
  const server = await listen(t, { handshakeTimeout: 200 });
  const peer = await rawPeer(t, server.address().port);
  peer.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  t.equal((await peer.closed).length, 0, 'dropped without a response');
});

t.test('maxConnections: one more is answered 503', async (t) => {
  const server = await listen(t, { maxConnections: 1 });
  const first = await wsClient(server.url);
  const peer = await rawPeer(t, server.address().port);
  t.match((await peer.closed).toString(), /^HTTP\/1\.1 503 /);
  const firstClosed = next(first, 'close');
  first.terminate();
  await firstClosed;
  // The slot is released when the first connection is gone.
  let again: WsWebSocket | undefined;
  for (let i = 0; i < 50 && again === undefined; i++) {
    const attempt = new WsWebSocket(server.url);
    const outcome = await Promise.race([next(attempt, 'open').then(() => true), next(attempt, 'error').then(() => false)]);
    if (outcome) again = attempt;
    else await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(again, 'a new connection is accepted once the slot is free');
  again?.terminate();
});

t.test('broadcast reaches every open client but the excepted one, encoded once', async (t) => {
  const server = await listen(t);
  const clients = await Promise.all([1, 2, 3].map(() => wsClient(server.url)));
  while (server.clients.size < 3) await new Promise((r) => setTimeout(r, 5));
  const [first] = [...server.clients];
  const received = clients.map((c) => next<[Buffer, boolean]>(c, 'message'));
  t.equal(server.broadcast('to all but one', { except: first }), 2);
  t.equal(server.broadcast(Buffer.from([1, 2])), 3);
  const got = await Promise.all(received);
  const texts = got.map(([data, isBinary]) => (isBinary ? 'binary' : data.toString())).sort();
  t.same(texts, ['binary', 'to all but one', 'to all but one'], 'the excepted client got the binary message first');
  for (const c of clients) c.terminate();
});

t.test('broadcast skips, or closes with 1008, a client that does not keep up', async (t) => {
  for (const policy of ['skip', 'close'] as const) {
    const server = await listen(t, { slowClient: { maxBufferedAmount: 64 * 1024, policy } });
    const peer = await upgradedPeer(t, server.address().port);
    peer.socket.pause();
    const [ws] = [...server.clients];
    const big = Buffer.alloc(256 * 1024);
    let sent = 0;
    for (let i = 0; i < 100 && ws.bufferedAmount <= 64 * 1024; i++) sent += server.broadcast(big);
    t.ok(sent >= 1, `${policy}: sent while under the limit`);
    t.equal(server.broadcast(big), 0, `${policy}: the slow client gets nothing more`);
    if (policy === 'close') t.equal(ws.readyState, 2, 'closing with 1008');
    else t.equal(ws.readyState, 1, 'still open');
    ws.terminate();
  }
});

t.test('close() closes every client with 1001 and stops accepting', async (t) => {
  const server = new WebSocketServer({ port: 0 });
  await server.ready;
  const url = server.url;
  const client = await wsClient(url);
  const half = await rawPeer(t, server.address().port);
  half.socket.write('GET / HTTP/1.1\r\n');
  const closed = next<[number, Buffer]>(client, 'close');
  await server.close();
  const [code, reason] = await closed;
  t.equal(code, 1001);
  t.equal(reason.toString(), 'Server shutting down');
  await half.closed;
  t.equal(server.clients.size, 0);
  const refused = new WsWebSocket(url);
  await next(refused, 'error');
  t.pass('no longer accepting');
});

t.test('ready rejects and error is emitted when the port is taken', async (t) => {
  const first = await listen(t);
  const second = new WebSocketServer({ port: first.address().port });
  const errors: Error[] = [];
  second.on('error', (e) => errors.push(e));
  await t.rejects(second.ready, { code: 'EADDRINUSE' });
  t.equal(errors.length, 1);
  t.throws(() => second.address(), { code: 'WS_ERR_NOT_LISTENING' });
});

t.test("Node's own WebSocket client talks to the server", async (t) => {
  const server = await echoServer(t, { protocols: ['p1'] });
  const script = `
    const ws = new WebSocket(process.argv[1], ['p1']);
    ws.binaryType = 'arraybuffer';
    const got = [];
    ws.onopen = () => { ws.send('héllo 🌍'); ws.send(new Uint8Array([1, 2, 3])); };
    ws.onmessage = (e) => {
      got.push(typeof e.data === 'string' ? e.data : Buffer.from(e.data).toString('hex'));
      if (got.length === 2) ws.close(4000, 'bye');
    };
    ws.onclose = (e) => { console.log(JSON.stringify({ got, protocol: ws.protocol, code: e.code, reason: e.reason, clean: e.wasClean })); };
  `;
  const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
  const child = spawn(process.execPath, [...flags, '-e', script, server.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  await next(child, 'close');
  t.same(JSON.parse(stdout), { got: ['héllo 🌍', '010203'], protocol: 'p1', code: 4000, reason: 'bye', clean: true });
});

t.test('wss:// with a self-signed certificate', async (t) => {
  const server = await echoServer(t, {
    tls: { key: readFileSync('test/fixtures/key.pem'), cert: readFileSync('test/fixtures/cert.pem') },
  });
  t.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  const client = new WsWebSocket(server.url, { ca: readFileSync('test/fixtures/cert.pem') });
  await next(client, 'open');
  client.send('secret');
  const [data] = await next<[Buffer]>(client, 'message');
  t.equal(data.toString(), 'secret');
  client.close();
  await next(client, 'close');
  // A client that fails the TLS handshake costs the server nothing.
  const untrusting = new WsWebSocket(server.url);
  await next(untrusting, 'error');
});

t.test('hooks that finish after the client left do nothing; defaults fill in what they omit', async (t) => {
  let release: () => void = () => {};
  const later = new Promise<void>((r) => (release = r));
  const server = await listen(t, {
    verifyClient: async (req) => {
      if (req.url === '/slow') await later;
      return req.url === '/forbidden' ? { status: 403 } : true;
    },
    httpHandler: async (req) => {
      if (req.url === '/slow') await later;
      return { status: 204 };
    },
  });
  const port = server.address().port;
  const gone = await rawPeer(t, port);
  gone.socket.write(upgradeRequest(port, '', '/slow'));
  const goneHttp = await rawPeer(t, port);
  goneHttp.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  gone.socket.destroy();
  goneHttp.socket.destroy();
  await Promise.all([gone.closed, goneHttp.closed]);
  await new Promise((r) => setTimeout(r, 50));
  release();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(server.clients.size, 0, 'no connection for a client that left');
  const forbidden = await rawPeer(t, port);
  forbidden.socket.write(upgradeRequest(port, '', '/forbidden'));
  const refusal = (await forbidden.closed).toString();
  t.match(refusal, /^HTTP\/1\.1 403 /);
  t.match(refusal, /The server refused this client\./, 'a default message');
  const empty = await fetch(`http://127.0.0.1:${port}/empty`);
  t.equal(empty.status, 204);
  t.equal(await empty.text(), '');
});

t.test('defaults: 127.0.0.1 and a free port; an IPv6 host is bracketed in the URL', async (t) => {
  const server = new WebSocketServer();
  await server.ready;
  t.teardown(() => server.close());
  t.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  const v6 = new WebSocketServer({ host: '::1', port: 0 });
  const listening = await v6.ready.then(
    () => true,
    () => false,
  );
  t.teardown(() => v6.close());
  if (!listening) {
    t.pass('IPv6 URL', { skip: 'this machine has no IPv6 loopback (::1)' });
    return;
  }
  t.match(v6.url, /^ws:\/\/\[::1\]:\d+\/$/);
});
