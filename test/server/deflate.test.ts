// permessage-deflate at the server and the client: options, the modes, and broadcasts that
// compress once for every recipient that can share the bytes.
import t from 'tap';
import WsWebSocket, { WebSocketServer as WsServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, connect } from '../../src/index.js';
import { listen, next } from '../helpers.js';

const TEXT = 'a message worth compressing, '.repeat(100);

t.test('a broadcast compresses once per kind of recipient: plain, shared (no context takeover), own (context takeover)', async (t) => {
  const server = await listen(t, { perMessageDeflate: { clientNoContextTakeover: true } });
  const clients = [
    await connect(server.url, { perMessageDeflate: false }),
    await connect(server.url, { perMessageDeflate: { serverNoContextTakeover: true } }),
    await connect(server.url, { perMessageDeflate: { serverNoContextTakeover: true } }),
    await connect(server.url),
  ];
  for (let i = 0; i < 100 && server.clients.size < 4; i++) await new Promise((r) => setTimeout(r, 10));
  const extensions = clients.map((c) => c.extensions);
  t.same(extensions, [
    '',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; client_no_context_takeover',
  ]);
  const frames: Buffer[] = [];
  const sends: string[] = [];
  for (const ws of server.clients) {
    const internal = ws as unknown as { sendEncoded(frame: Buffer): boolean; send(d: unknown, o: unknown): boolean };
    const sendEncoded = internal.sendEncoded.bind(ws);
    internal.sendEncoded = (frame: Buffer) => {
      frames.push(frame);
      return sendEncoded(frame);
    };
    const send = ws.send.bind(ws);
    (ws as unknown as { send: unknown }).send = (d: unknown, o: unknown) => {
      sends.push(ws.extensions);
      return send(d as string, o as never);
    };
  }
  const received = clients.map((c) => next<[string]>(c, 'message'));
  t.equal(server.broadcast(TEXT), 4);
  t.same((await Promise.all(received)).map(([m]) => m), [TEXT, TEXT, TEXT, TEXT], 'everyone got the text');
  t.equal(frames.length, 3, 'three recipients got framed bytes');
  t.equal(new Set(frames).size, 2, 'one plain frame, one compressed frame shared by two');
  t.same(sends, ['permessage-deflate; client_no_context_takeover'], 'the one with context takeover compressed its own copy');
  for (const c of clients) c.terminate();
});

t.test('our client against ws with compression on, both ways', async (t) => {
  const ws = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } });
  await next(ws, 'listening');
  t.teardown(() => new Promise<void>((r) => ws.close(() => r())));
  ws.on('connection', (peer) => peer.on('message', (data, isBinary) => peer.send(data, { binary: isBinary })));
  const client = await connect(`ws://127.0.0.1:${(ws.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0, level: 1 } });
  t.match(client.extensions, /^permessage-deflate/);
  for (const message of ['x', TEXT, Buffer.alloc(1024 * 1024, 7)]) {
    const echo = next<[string | Buffer]>(client, 'message');
    client.send(message);
    t.same((await echo)[0], message);
  }
  client.close();
  await next(client, 'close');
});

t.test('the ws client with context takeover against our server, over many messages', async (t) => {
  const server = await listen(t, { perMessageDeflate: { zlibDeflateOptions: { level: 9, memLevel: 9 }, threshold: 10, concurrencyLimit: 10, zlibInflateOptions: {} } });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const client = new WsWebSocket(server.url);
  await next(client, 'open');
  t.equal(client.extensions, 'permessage-deflate');
  for (let i = 0; i < 50; i++) {
    const echo = next<[Buffer]>(client, 'message');
    client.send(`${TEXT} ${i}`);
    t.equal((await echo)[0].toString(), `${TEXT} ${i}`);
  }
  client.terminate();
});

t.test('options: compression is checked when the server or client is made', async (t) => {
  t.throws(() => new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: -1 } }), { code: 'WS_ERR_INVALID_OPTION', message: /perMessageDeflate: option threshold/ });
  t.throws(() => new WebSocketServer({ noServer: true, perMessageDeflate: { typo: 1 } as never }), { code: 'WS_ERR_INVALID_OPTION', message: /unknown option "typo"/ });
  await t.rejects(connect('ws://127.0.0.1:1/', { perMessageDeflate: { level: 42 } }), { code: 'WS_ERR_INVALID_OPTION', message: /connect\(\): perMessageDeflate: option level/ });
  const off = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  t.ok(off);
  const client = new WebSocket('ws://127.0.0.1:1/', { perMessageDeflate: true });
  client.on('error', () => {});
  await next(client, 'close');
});
