// What the ws-pattern suite (patterns.test.ts) found missing for ws's documented usage, fixed in
// src/ and tested here on the sources against a ws peer: each test names the pattern that needed it.
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocket } from '../../src/index.js';
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
