// Our client against a server nobody here wrote (the ws library), and against refusals.
import t, { type Test } from 'tap';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { connect } from '../../src/client/connect.js';
import { next } from '../helpers.js';

/** A ws-library echo server on 127.0.0.1:0. */
async function wsEcho(t: Test, options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<[WsServer, string]> {
  const server = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  server.on('connection', (ws: WsSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await next(server, 'listening');
  t.teardown(() => {
    for (const ws of server.clients) ws.terminate();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as net.AddressInfo;
  return [server, `ws://127.0.0.1:${port}/`];
}

t.test('echo through a ws server: text, binary, large, masked frames', async (t) => {
  const [, url] = await wsEcho(t, { maxPayload: 16 * 1024 * 1024 });
  const ws = await connect(url, { maxPayload: 16 * 1024 * 1024 });
  t.equal(ws.readyState, 1);
  t.equal(ws.url, url);
  const cases: [string | Buffer, boolean][] = [
    ['hello 🌍', false],
    [Buffer.from([9, 8, 7]), true],
    [Buffer.alloc(70_000, 3), true],
    [Buffer.alloc(8 * 1024 * 1024, 4), true],
    ['', false],
  ];
  for (const [data, isBinary] of cases) {
    const reply = next<[string | Buffer, boolean]>(ws, 'message');
    ws.send(data);
    const [got, gotBinary] = await reply;
    t.equal(gotBinary, isBinary);
    t.same(got, data, `echo of ${Buffer.byteLength(data)} bytes`);
  }
  const closed = next<[number, string, boolean]>(ws, 'close');
  ws.close(1000, 'bye');
  t.same(await closed, [1000, 'bye', true], 'the ws server echoed our close; TCP closed by the server');
});

t.test('1,000 messages arrive in order', async (t) => {
  const [, url] = await wsEcho(t);
  const ws = await connect(url);
  const got: string[] = [];
  const done = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      got.push(data as string);
      if (got.length === 1000) resolve();
    }),
  );
  for (let i = 0; i < 1000; i++) ws.send(`m${i}`);
  await done;
  t.same(got, Array.from({ length: 1000 }, (_, i) => `m${i}`));
  ws.terminate();
});

t.test('the server closes first: the client answers and sees a clean close', async (t) => {
  const [server, url] = await wsEcho(t);
  server.on('connection', (peer: WsSocket) => setImmediate(() => peer.close(4002, 'server says bye')));
  const ws = await connect(url);
  const [code, reason, clean] = await next<[number, string, boolean]>(ws, 'close');
  t.same([code, reason, clean], [4002, 'server says bye', true]);
});

t.test('subprotocols offered and selected', async (t) => {
  const [, url] = await wsEcho(t, { handleProtocols: (offered: Set<string>) => (offered.has('b') ? 'b' : false) });
  const ws = await connect(url, { protocols: ['a', 'b'], headers: { 'x-test': '1' }, origin: 'http://localhost' });
  t.equal(ws.protocol, 'b');
  ws.terminate();
});

t.test('frames the server sends right behind its 101 are delivered after connect resolves', async (t) => {
  const [server, url] = await wsEcho(t);
  server.on('connection', (peer: WsSocket) => peer.send('welcome'));
  const ws = await connect(url);
  const [data] = await next<[string]>(ws, 'message');
  t.equal(data, 'welcome');
  ws.terminate();
});

t.test('a refusal rejects with the status', async (t) => {
  const [, url] = await wsEcho(t, { verifyClient: () => false });
  t.match(await rejection(connect(url)), { code: 'WS_ERR_HANDSHAKE_STATUS', status: 401 });
});

t.test('a bad URL, a closed port, a silent server and a hang-up reject with clear codes', async (t) => {
  t.match(await rejection(connect('http:// not a url')), { side: 'local' });
  const closedPort = await new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  await t.rejects(connect(`ws://127.0.0.1:${closedPort}/`), { code: 'WS_ERR_CONNECT' });

  const held: net.Socket[] = [];
  const silent = net.createServer((socket) => held.push(socket));
  const hangup = net.createServer((socket) => socket.once('data', () => socket.end()));
  const garbage = net.createServer((socket) => socket.once('data', () => socket.write('SSH-2.0-nope\r\n\r\n')));
  for (const s of [silent, hangup, garbage]) {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      for (const socket of held) socket.destroy();
      s.close();
    });
  }
  const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;
  await t.rejects(connect(`ws://127.0.0.1:${port(silent)}/`, { handshakeTimeout: 100 }), {
    code: 'WS_ERR_HANDSHAKE_TIMEOUT',
  });
  await t.rejects(connect(`ws://127.0.0.1:${port(hangup)}/`), { code: 'WS_ERR_HANDSHAKE_CLOSED' });
  t.match(await rejection(connect(`ws://127.0.0.1:${port(garbage)}/`)), { name: 'WebSocketError', status: undefined });
});

t.test('wss:// to a ws server behind node:https, checking its certificate', async (t) => {
  const cert = readFileSync('test/fixtures/cert.pem');
  const https = createHttpsServer({ key: readFileSync('test/fixtures/key.pem'), cert });
  const server = new WsServer({ server: https });
  server.on('connection', (ws: WsSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const c of server.clients) c.terminate();
    https.close();
  });
  const url = `wss://localhost:${(https.address() as net.AddressInfo).port}/`;
  await t.rejects(connect(url), { code: 'WS_ERR_CONNECT' }, 'an unknown CA is refused by default');
  const ws = await connect(url, { tls: { ca: cert } });
  ws.send('over tls');
  const [data] = await next<[string]>(ws, 'message');
  t.equal(data, 'over tls');
  ws.terminate();
  const insecure = await connect(url, { rejectUnauthorized: false });
  insecure.terminate();
});


/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

t.test('a 101 response that arrives in pieces', async (t) => {
  const { acceptKey } = await import('../../src/handshake/index.js');
  const server = net.createServer((socket) =>
    socket.once('data', (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString())![1];
      const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`;
      socket.write(response.slice(0, 20));
      setTimeout(() => socket.end(Buffer.concat([Buffer.from(response.slice(20)), Buffer.from([0x81, 0x02, 0x68, 0x69])])), 20);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const ws = await connect(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  const [data] = await next<[string]>(ws, 'message');
  t.equal(data, 'hi');
  ws.terminate();
});
