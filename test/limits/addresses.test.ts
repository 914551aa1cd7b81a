// Limits that keep one client from taking everything: connections and handshakes per address,
// the global connection limit (TLS included, counted from TCP accept), and the outgoing budget of a
// broadcast. Each refusal is answered with its status and Retry-After, reported as 'refused', and
// other clients are still served. Linux routes all of 127.0.0.0/8 to loopback, so a test connects
// "from another address" with localAddress 127.0.0.2.
import t from 'tap';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { WebSocketError } from '../../src/errors.js';
import { encodeClosePayload } from '../../src/frames/index.js';
import type { WebSocket } from '../../src/websocket.js';
import { listen, maskedFrame, next, upgradeRequest, upgradedPeer } from '../helpers.js';

interface Answer {
  status: number;
  head: string;
}

/** Connects from `from` and sends an upgrade request; resolves with the status line's code once the head is in. */
function upgradeFrom(port: number, from: string): Promise<Answer & { socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let text = '';
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end !== -1) resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, end), socket });
    });
    socket.once('connect', () => socket.write(upgradeRequest(port)));
  });
}

/** A socket from `from` that connects and sends nothing. */
async function silentFrom(port: number, from: string): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

const refusals = (server: { on(event: 'refused', listener: (error: WebSocketError, address: string | undefined) => void): unknown }) => {
  const list: [string, number | undefined, string | undefined][] = [];
  server.on('refused', (error, address) => list.push([error.code, error.status, address]));
  return list;
};

t.test('connections per address: the address over its limit gets 429 with Retry-After; another is served', async (t) => {
  const server = await listen(t, { maxConnectionsPerAddress: 3 });
  const refused = refusals(server);
  const port = server.address().port;
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await upgradeFrom(port, '127.0.0.1'));
  t.same(held.map((a) => a.status), [101, 101, 101]);
  const over = await upgradeFrom(port, '127.0.0.1');
  t.equal(over.status, 429);
  t.match(over.head, /\r\nRetry-After: 5/);
  const other = await upgradeFrom(port, '127.0.0.2');
  t.equal(other.status, 101, 'another address is still served');
  t.same(refused, [['WS_ERR_ADDRESS_LIMIT', 429, '127.0.0.1']]);
  // A slot comes back when a connection goes.
  held[0].socket.destroy();
  for (let i = 0; i < 100 && server.clients.size > 3; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal((await upgradeFrom(port, '127.0.0.1')).status, 101);
  for (const a of [...held, over, other]) a.socket.destroy();
});

t.test('handshakes per address: silent sockets from one address cannot hold every slot', async (t) => {
  const server = await listen(t, { maxHandshakesPerAddress: 5, maxConnections: 50 });
  const port = server.address().port;
  const silent = [];
  for (let i = 0; i < 5; i++) silent.push(await silentFrom(port, '127.0.0.1'));
  const sixth = await upgradeFrom(port, '127.0.0.1');
  t.equal(sixth.status, 429, 'the sixth handshake in progress from one address is refused');
  const legit = [];
  for (let i = 0; i < 20; i++) legit.push(await upgradeFrom(port, '127.0.0.2'));
  t.ok(legit.every((a) => a.status === 101), '20 of 20 from another address are served');
  // Completing handshakes are no longer in progress: the address may open more.
  const done = await upgradeFrom(port, '127.0.0.2');
  t.equal(done.status, 101);
  for (const s of [...silent, sixth.socket, done.socket, ...legit.map((a) => a.socket)]) s.destroy();
});

t.test('maxConnections counts from TCP accept, TLS included: a client stuck before TLS holds a slot until handshakeTimeout', async (t) => {
  const key = readFileSync('test/fixtures/key.pem');
  const cert = readFileSync('test/fixtures/cert.pem');
  const server = await listen(t, { tls: { key, cert }, maxConnections: 1, handshakeTimeout: 300 });
  const refused = refusals(server);
  const port = server.address().port;
  // Connects over TCP and never starts TLS.
  const stuck = await silentFrom(port, '127.0.0.1');
  const stuckClosed = new Promise((r) => stuck.once('close', r));
  const second = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost', rejectUnauthorized: false });
  second.on('error', () => {});
  await new Promise((r) => second.once('secureConnect', r));
  second.write(upgradeRequest(port));
  const [answer] = await next<[Buffer]>(second, 'data');
  t.match(answer.toString('latin1'), /^HTTP\/1.1 503 Service Unavailable\r\n[^]*Retry-After: 5\r\n/, 'the second gets 503 over TLS');
  second.destroy();
  await stuckClosed;
  t.pass('the stuck client was dropped by handshakeTimeout');
  t.ok(refused.some(([code]) => code === 'WS_ERR_CONNECTION_LIMIT'));
  t.ok(refused.some(([code]) => code === 'WS_ERR_HANDSHAKE_TIMEOUT'), 'the timeout is reported too');
});

t.test("a connection's protocol error is reported as the server's connectionError", async (t) => {
  const server = await listen(t);
  const reported = next<[WebSocketError, WebSocket]>(server, 'connectionError');
  const peer = await upgradedPeer(t, server.address().port);
  peer.socket.write(Buffer.from([0x81, 0x00])); // unmasked: §5.1
  const [error, ws] = await reported;
  t.match(error, { code: 'WS_ERR_EXPECTED_MASK', closeCode: 1002, side: 'remote' });
  t.ok(server.clients.has(ws) || ws.readyState >= 2);
});

t.test('a broadcast frames once: every recipient queues the same bytes', async (t) => {
  const server = await listen(t);
  const port = server.address().port;
  const peers = [];
  for (let i = 0; i < 20; i++) peers.push(await upgradedPeer(t, port));
  for (const p of peers) p.socket.pause();
  const message = Buffer.alloc(64 * 1024, 1);
  // Fill the kernel's buffers first, so that the broadcast's bytes wait in our queues, visible.
  for (let i = 0; i < 200 && [...server.clients].some((c) => c.bufferedAmount === 0); i++) {
    server.broadcast(message);
    await new Promise((r) => setImmediate(r));
  }
  t.equal(server.broadcast(message), 20);
  const lastQueued = (ws: WebSocket): Buffer => {
    const d = ws.driver as unknown as { socket: { writableBuffer: { chunk: Buffer }[] }; conn: { outbox: { chunks: Buffer[] } } };
    const queue = [...d.socket.writableBuffer.map((e) => e.chunk), ...d.conn.outbox.chunks];
    return queue[queue.length - 1];
  };
  const frames = new Set([...server.clients].map(lastQueued));
  t.equal(frames.size, 1, 'one Buffer, queued for all 20 recipients');
  t.equal([...frames][0].length, 10 + 64 * 1024, 'the whole frame: header and payload');
  for (const p of peers) p.socket.destroy();
});

t.test('the outgoing budget of a broadcast: past it the slowest recipients are shed with 1013', async (t) => {
  const server = await listen(t, { slowClient: { maxBufferedAmount: 8 * 1024 * 1024, maxTotalBufferedAmount: 2 * 1024 * 1024 } });
  const port = server.address().port;
  const peers = [];
  for (let i = 0; i < 4; i++) peers.push(await upgradedPeer(t, port));
  for (const p of peers) p.socket.pause();
  const shed = new Map<WebSocket, number>();
  for (const ws of server.clients) ws.on('error', (e) => shed.set(ws, e.closeCode ?? 0));
  const message = Buffer.alloc(128 * 1024, 2);
  for (let i = 0; i < 200 && shed.size === 0; i++) {
    server.broadcast(message);
    await new Promise((r) => setImmediate(r));
  }
  t.ok(shed.size >= 1, `${shed.size} recipient(s) shed`);
  t.ok([...shed.values()].every((code) => code === 1013));
  const total = [...server.clients].filter((c) => c.readyState === 1).reduce((n, c) => n + c.bufferedAmount, 0);
  t.ok(total <= 2 * 1024 * 1024 + 128 * 1024 + 4 * 8, `what the others hold (${total}) fits the budget`);
  for (const p of peers) p.socket.destroy();
});

t.test('a recipient over its own limit, with the close policy, has its backlog dropped', async (t) => {
  const server = await listen(t, { slowClient: { maxBufferedAmount: 64 * 1024, policy: 'close' } });
  const peer = await upgradedPeer(t, server.address().port);
  peer.socket.pause();
  const [ws] = [...server.clients];
  for (let i = 0; i < 100 && ws.readyState === 1; i++) {
    server.broadcast(Buffer.alloc(256 * 1024));
    await new Promise((r) => setImmediate(r));
  }
  t.equal(ws.readyState, 2, 'shed: CLOSING');
  t.ok(ws.bufferedAmount < 512 * 1024, `its outbox was emptied (${ws.bufferedAmount} bytes left in the socket)`);
  peer.socket.resume();
  const bytes = await peer.closed;
  const close = Buffer.concat([Buffer.from([0x88, 35]), encodeClosePayload(1008, 'too slow: messages were piling up')]);
  t.same(bytes.subarray(bytes.length - close.length), close, 'it ends with Close 1008');
});

t.test('heartbeat and frame deadlines are per connection but share one sweep (no keep-alive of the process)', async (t) => {
  const server = await listen(t, { heartbeatInterval: 1000 });
  const peer = await upgradedPeer(t, server.address().port);
  peer.socket.write(maskedFrame(0x9, 'x'));
  await peer.waitFor(3);
  t.same(peer.received(), Buffer.from([0x8a, 0x01, 0x78]));
});
