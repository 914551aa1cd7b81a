// The connection binding: timers (close timeout, heartbeat) and backpressure, on real sockets.
import t from 'tap';
import { spawn } from 'node:child_process';
import WsWebSocket from 'ws';
import * as net from 'node:net';
import { WebSocket } from '../src/websocket.js';
import { connect, openClient } from '../src/client/connect.js';
import { listen, maskedFrame, next, upgradedPeer } from './helpers.js';

/** Counts complete server frames (7-bit lengths only) in a byte stream, by first byte. */
function countFrames(bytes: Buffer): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i + 2 <= bytes.length; ) {
    const len = bytes[i + 1] & 0x7f;
    counts.set(bytes[i], (counts.get(bytes[i]) ?? 0) + 1);
    i += 2 + len;
  }
  return counts;
}

t.test('close timeout: a peer that never answers our Close is dropped with 1006', async (t) => {
  const server = await listen(t, { closeTimeout: 100 });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  const closed = next<[number, string, boolean]>(ws, 'close');
  ws.close(1000, 'bye');
  t.same(await closed, [1006, '', false]);
  t.same((await peer.closed).subarray(0, 2), Buffer.from([0x88, 0x05]), 'our Close went out first');
});

t.test('heartbeat: a silent peer is dropped, a live one is kept', async (t) => {
  const server = await listen(t, { heartbeatInterval: 50 });
  const connected = next<[WebSocket]>(server, 'connection');
  const silent = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  const live = new WsWebSocket(server.url);
  await next(live, 'open');
  const [code, , clean] = await next<[number, string, boolean]>(ws, 'close');
  t.same([code, clean], [1006, false], 'the silent peer was terminated');
  t.same((await silent.closed).subarray(0, 2), Buffer.from([0x89, 0x00]), 'it was pinged first');
  t.equal(live.readyState, WsWebSocket.OPEN, 'the ws client answered every ping and is still open');
  live.terminate();
});

t.test('a slow reader: send reports backpressure, the buffer stays bounded, drain follows', async (t) => {
  const highWaterMark = 256 * 1024;
  const server = await listen(t, { highWaterMark });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  peer.socket.pause();
  const message = Buffer.alloc(64 * 1024, 1);
  let accepted = 0;
  let refused = false;
  // The producer honours send()'s answer, as the API asks; bounded to 10,000 tries.
  for (let i = 0; i < 10_000 && !refused; i++) {
    if (ws.send(message)) accepted++;
    else refused = true;
    await new Promise((r) => setImmediate(r));
  }
  t.ok(refused, `send reported backpressure after ${accepted} messages`);
  t.ok(ws.bufferedAmount <= highWaterMark + message.length, `bufferedAmount ${ws.bufferedAmount} is bounded`);
  const drained = next(ws, 'drain');
  peer.socket.resume();
  await drained;
  t.ok(ws.bufferedAmount < highWaterMark, 'drain comes once the peer reads again');
});

t.test('a ping flood from a peer that does not read: pongs do not pile up, none are lost', async (t) => {
  const highWaterMark = 16 * 1024;
  const server = await listen(t, { highWaterMark });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  peer.socket.pause();
  const pings = 100_000;
  // 125-byte payloads: 13 MB of pings and 12.7 MB of pongs, more than loopback's kernel buffers hold,
  // so the pongs must back up into the server unless it stops reading.
  const payload = Buffer.alloc(125, 0x70);
  const flood = Buffer.concat(Array.from({ length: 1000 }, () => maskedFrame(0x9, payload)));
  let maxBuffered = 0;
  let seen = 0;
  ws.on('ping', () => {
    seen++;
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  });
  for (let i = 0; i < pings / 1000; i++) peer.socket.write(flood);
  // Wait until the server stops making progress: it has paused reading.
  for (let last = -1, i = 0; i < 100 && last !== seen; i++) {
    last = seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(seen < pings, `the server stopped reading after ${seen} pings`);
  // One TCP read is at most 64 KiB: 496 pings, whose pongs are 63 KB.
  t.ok(maxBuffered <= highWaterMark + 64 * 1024, `the server buffered at most ${maxBuffered} bytes of pongs`);
  peer.socket.resume();
  const bytes = await peer.waitFor(pings * 127);
  t.equal(countFrames(bytes).get(0x8a), pings, 'every ping got its pong once the peer read again');
  t.equal(seen, pings);
  ws.terminate();
});

t.test('pause() stops reading until resume()', async (t) => {
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  const got: string[] = [];
  ws.on('message', (data) => got.push(data as string));
  ws.pause();
  t.equal(ws.isPaused, true);
  peer.socket.write(maskedFrame(0x1, 'held'));
  await new Promise((r) => setTimeout(r, 50));
  t.same(got, [], 'nothing read while paused');
  ws.resume();
  t.equal(ws.isPaused, false);
  await next(ws, 'message');
  t.same(got, ['held']);
});

t.test('send refuses what it cannot send', async (t) => {
  // A server that accepts TCP and never answers: the client stays CONNECTING.
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const connecting = new WebSocket();
  t.equal(connecting.readyState, WebSocket.CONNECTING);
  t.equal(connecting.bufferedAmount, 0);
  const outcome = new Promise((resolve) => openClient(connecting, `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`, {}, resolve));
  t.equal(connecting.readyState, WebSocket.CONNECTING);
  t.throws(() => connecting.send('x'), { code: 'WS_ERR_NOT_OPEN' });
  t.throws(() => connecting.ping(), { code: 'WS_ERR_NOT_OPEN' });
  t.throws(() => connecting.close(1005), { code: 'WS_ERR_INVALID_CLOSE_CODE' }, 'arguments are checked in every state');
  const closed = next<[number]>(connecting, 'close');
  connecting.close();
  t.match(await outcome, { code: 'WS_ERR_ABORTED', side: 'local' }, 'closing before open just gives up');
  t.equal((await closed)[0], 1006);
  t.equal(connecting.readyState, WebSocket.CLOSED);
  const server = await listen(t);
  const connected = next<[WebSocket]>(server, 'connection');
  await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  t.throws(() => ws.send(Buffer.from([0xff]), { binary: false }), { code: 'WS_ERR_INVALID_UTF8' });
  t.throws(() => ws.send(true as unknown as string), { code: 'WS_ERR_INVALID_ARGUMENT' });
  t.equal(ws.send('as binary', { binary: true }), true);
  t.equal(ws.send(new DataView(new ArrayBuffer(2))), true);
  ws.terminate();
});

t.test('a message listener that throws: the connection closes with 1011 and the error surfaces', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'test/fixtures/throwing-listener.ts'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [url] = await new Promise<[string]>((resolve) => child.stdout.once('data', (d) => resolve([String(d).trim()])));
  const client = new WsWebSocket(url);
  await next(client, 'open');
  const closed = next<[number]>(client, 'close');
  const exited = next<[number]>(child, 'exit');
  client.send('boom');
  t.equal((await closed)[0], 1011, 'the peer learns the server failed');
  t.not((await exited)[0], 0, 'the bug is not swallowed: the process fails');
  t.match(stderr, /listener bug/);
});

t.test('the verb table, state by state, for both roles', async (t) => {
  const server = await listen(t, { closeTimeout: 200 });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  for (const role of ['server', 'client'] as const) {
    const accepted = next<[WebSocket]>(server, 'connection');
    const client = await connect(server.url);
    const [serverSide] = await accepted;
    const ws = role === 'server' ? serverSide : client;
    // OPEN: every verb goes out.
    t.equal(ws.readyState, WebSocket.OPEN, `${role}: OPEN`);
    t.equal(ws.send('x'), true);
    t.equal(ws.ping('p'), true);
    t.equal(ws.pong('q'), true);
    t.throws(() => ws.ping(Buffer.alloc(126)), { code: 'WS_ERR_CONTROL_FRAME_TOO_BIG', side: 'local' }, 'argument errors throw');
    // CLOSING: data is dropped (false), close() does nothing more.
    ws.close(1000, 'bye');
    t.equal(ws.readyState, WebSocket.CLOSING, `${role}: CLOSING`);
    t.equal(ws.send('x'), false, `${role}: send while CLOSING is dropped`);
    t.equal(ws.ping(), false);
    t.equal(ws.pong(), false);
    ws.close(1000, 'again');
    t.throws(() => ws.close(1004), { code: 'WS_ERR_INVALID_CLOSE_CODE' }, 'a bad code throws in every state');
    t.throws(() => ws.send(Buffer.from([0xff]), { binary: false }), { code: 'WS_ERR_INVALID_UTF8' });
    const [code] = await next<[number]>(ws, 'close');
    t.equal(code, 1000);
    // CLOSED: the same answers; terminate does nothing.
    t.equal(ws.readyState, WebSocket.CLOSED, `${role}: CLOSED`);
    t.equal(ws.send('x'), false);
    t.equal(ws.ping(), false);
    t.equal(ws.pong(), false);
    ws.close();
    ws.terminate();
    t.equal(ws.readyState, WebSocket.CLOSED);
    if (role === 'server') client.terminate();
  }
});

t.test('terminate() while OPEN reports 1006 on both sides', async (t) => {
  const server = await listen(t);
  const accepted = next<[WebSocket]>(server, 'connection');
  const client = await connect(server.url);
  const [ws] = await accepted;
  const serverClosed = next<[number, string, boolean]>(ws, 'close');
  const clientClosed = next<[number, string, boolean]>(client, 'close');
  client.terminate();
  t.same(await clientClosed, [1006, '', false]);
  t.same(await serverClosed, [1006, '', false]);
});

t.test('internal verbs of a broadcast on a connection no longer open do nothing', async (t) => {
  const server = await listen(t, { closeTimeout: 100 });
  const connected = next<[WebSocket]>(server, 'connection');
  await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  ws.close();
  t.equal(ws.sendEncoded(Buffer.from([0x81, 0x00])), false, 'a frame for a CLOSING connection is dropped');
  ws.shed(1013, 'late');
  t.equal(ws.readyState, WebSocket.CLOSING, 'shedding a closing connection changes nothing');
  const bare = new WebSocket();
  bare.shed(1013, 'never opened');
  t.equal(bare.readyState, WebSocket.CONNECTING);
});
