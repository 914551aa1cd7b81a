// The socket driver's timers, on real sockets: one sweep for every connection, the deadline of a
// frame that has started, and a heartbeat that asks only when nothing was heard.
import t from 'tap';
import * as net from 'node:net';
import { WebSocket } from '../src/websocket.js';
import { openClient } from '../src/client/connect.js';
import { sweepStatus } from '../src/sweep.js';
import { listen, maskedFrame, next, upgradedPeer } from './helpers.js';

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('one timer for every connection: 200 connections with heartbeats add no timer each', async (t) => {
  const server = await listen(t, { heartbeatInterval: 60_000 });
  const before = timeouts();
  const peers = [];
  for (let i = 0; i < 200; i++) peers.push(await upgradedPeer(t, server.address().port));
  for (let i = 0; i < 100 && server.clients.size < 200; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(server.clients.size, 200);
  t.ok(sweepStatus().armed >= 200, `${sweepStatus().armed} connections under the sweep`);
  t.equal(sweepStatus().running, true);
  t.ok(timeouts() - before <= 1, `${timeouts() - before} more timers for 200 connections`);
  for (const peer of peers) peer.socket.destroy();
  for (let i = 0; i < 200 && server.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(server.clients.size, 0);
});

t.test('a frame that has started must finish: a peer trickling a frame is closed with 1008', async (t) => {
  const server = await listen(t, { frameTimeout: 100, minReceiveRate: 1_000_000, heartbeatInterval: 0 });
  const peer = await upgradedPeer(t, server.address().port);
  // The header of a 1000-byte binary frame and 10 bytes of it; then silence.
  peer.socket.write(maskedFrame(0x2, Buffer.alloc(1000)).subarray(0, 18));
  const bytes = await peer.closed;
  t.same(bytes, Buffer.from([0x88, 0x02, 0x03, 0xf0]), 'Close 1008, then the server ended TCP');
});

t.test('a slow but steady frame is not closed: each byte received extends its deadline', async (t) => {
  const server = await listen(t, { frameTimeout: 150, minReceiveRate: 1000, heartbeatInterval: 0 });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const peer = await upgradedPeer(t, server.address().port);
  const frame = maskedFrame(0x2, Buffer.alloc(3000, 7));
  // 100 bytes every 10 ms: ten times the floor rate, and longer in all than frameTimeout alone.
  for (let at = 0; at < frame.length; at += 100) {
    peer.socket.write(frame.subarray(at, at + 100));
    await new Promise((r) => setTimeout(r, 10));
  }
  const echo = await peer.waitFor(3004);
  t.equal(echo.length, 3004, 'the whole frame arrived and was echoed');
  t.same(echo.subarray(0, 4), Buffer.from([0x82, 0x7e, 0x0b, 0xb8]));
});

t.test('the heartbeat pings only a peer it has not heard from, and drops one that never answers', async (t) => {
  const server = await listen(t, { heartbeatInterval: 40, heartbeatTimeout: 40 });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  ws.on('message', () => {});
  // Busy: a complete frame every 10 ms for 300 ms — alive, so never asked.
  for (let i = 0; i < 30; i++) {
    peer.socket.write(maskedFrame(0x2, Buffer.from([i])));
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(peer.received().length, 0, 'no Ping while the peer keeps sending');
  // Then silent and deaf: pinged once, then dropped.
  const [code] = await next<[number]>(ws, 'close');
  t.equal(code, 1006);
  t.same(await peer.closed, Buffer.from([0x89, 0x00]), 'one Ping, then the socket was dropped');
});

t.test('without a heartbeat (or a frame deadline) an idle connection is left alone', async (t) => {
  const server = await listen(t, { heartbeatInterval: 0, frameTimeout: 0 });
  const peer = await upgradedPeer(t, server.address().port);
  // Half a frame, then nothing: with no frame deadline it may wait.
  peer.socket.write(maskedFrame(0x2, Buffer.alloc(100)).subarray(0, 20));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(peer.received().length, 0);
  t.equal(peer.socket.destroyed, false);
});

t.test('a client: terminate() while CONNECTING aborts; the handshake timeout gives up on a silent server', async (t) => {
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const url = `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
  const aborted = new WebSocket();
  const outcome = new Promise((resolve) => openClient(aborted, url, {}, resolve));
  aborted.terminate();
  t.match(await outcome, { code: 'WS_ERR_ABORTED' });
  const waiting = new WebSocket();
  const errors: unknown[] = [];
  waiting.on('error', (e) => errors.push(e));
  const timedOut = new Promise((resolve) => openClient(waiting, url, { handshakeTimeout: 50 }, resolve));
  t.match(await timedOut, { code: 'WS_ERR_HANDSHAKE_TIMEOUT', side: 'remote' });
  t.match(errors, [{ code: 'WS_ERR_HANDSHAKE_TIMEOUT' }], "the client's error listener hears it too");
  const bare = new WebSocket();
  t.throws(() => bare.send('x'), { code: 'WS_ERR_NOT_OPEN' }, 'a socket not started is CONNECTING');
});
