// handleUpgrade inside a node:http server: the same validation, the page and the socket on one port.
import t, { type Test } from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WsWebSocket from 'ws';
import { WebSocketServer } from '../../src/server/server.js';
import type { WebSocket } from '../../src/websocket.js';
import { next, rawPeer, upgradeRequest } from '../helpers.js';

async function embedded(t: Test, useCallback: boolean): Promise<[WebSocketServer, number]> {
  const wss = new WebSocketServer({ noServer: true, protocols: ['echo'] });
  await wss.ready;
  const server = http.createServer((_req, res) => res.end('plain page'));
  server.on('upgrade', (req, socket, head) => {
    if (useCallback) wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, { method: 'GET', url: req.url ?? '', httpVersion: '1.1', headers: req.headers }));
    else wss.handleUpgrade(req, socket, head);
  });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return [wss, (server.address() as AddressInfo).port];
}

for (const useCallback of [false, true]) {
  t.test(`an http server serves pages and WebSockets on one port (callback: ${useCallback})`, async (t) => {
    const [wss, port] = await embedded(t, useCallback);
    t.throws(() => wss.address(), { code: 'WS_ERR_NOT_LISTENING' }, 'noServer has no address of its own');
    t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'plain page');
    const client = new WsWebSocket(`ws://127.0.0.1:${port}/`, ['echo']);
    await next(client, 'open');
    t.equal(client.protocol, 'echo');
    client.send('through http');
    const [data] = await next<[Buffer]>(client, 'message');
    t.equal(data.toString(), 'through http');
    const closed = next<[number]>(client, 'close');
    client.close(1000);
    t.equal((await closed)[0], 1000);
  });
}

t.test('a bad upgrade through http gets the same answer as standalone', async (t) => {
  const [, port] = await embedded(t, false);
  const peer = await rawPeer(t, port);
  peer.socket.write(upgradeRequest(port).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'));
  const response = (await peer.closed).toString();
  t.match(response, /^HTTP\/1\.1 426 /);
  t.match(response, /Sec-WebSocket-Version: 13/i);
});

t.test('after close(), upgrades are answered 503', async (t) => {
  const [wss, port] = await embedded(t, false);
  await wss.close();
  const peer = await rawPeer(t, port);
  peer.socket.write(upgradeRequest(port));
  t.match((await peer.closed).toString(), /^HTTP\/1\.1 503 /);
});
