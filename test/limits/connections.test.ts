// 5,000 idle connections open and close without a leak. Exact: server.clients holds all 5,000,
// then none; every server-side socket and WebSocket is garbage-collected (WeakRefs, after a full
// GC). Measured: the heap before, with all open, and after (see test/limits/memory.ts).
import t from 'tap';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { encodeClosePayload } from '../../src/frames/index.js';
import { listen, maskedFrame, upgradeRequest } from '../helpers.js';
import { Tracker, heapAfterGc, mb } from './memory.js';

const COUNT = 5000;
const BATCH = 250;
/** Both ends live in this process: two descriptors a connection, and some to spare. */
const FDS_NEEDED = 2 * COUNT + 256;

const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
const skip = Number.isFinite(fdLimit) && fdLimit < FDS_NEEDED ? `ulimit -n is ${fdLimit}; ${COUNT} connections in one process need ${FDS_NEEDED}` : false;

interface Client {
  socket: net.Socket;
  closed: Promise<Buffer>;
}

/** Opens a connection and completes the handshake; resolves once the 101 head is in. */
function open(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let opened = false;
    const closed = new Promise<Buffer>((done) => socket.on('close', () => done(Buffer.concat(chunks))));
    socket.on('error', (error) => {
      if (!opened) reject(error);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (!opened && Buffer.concat(chunks).includes('\r\n\r\n')) {
        opened = true;
        chunks.length = 0;
        resolve({ socket, closed });
      }
    });
    socket.once('connect', () => socket.write(upgradeRequest(port)));
  });
}

async function openMany(port: number, n: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i += BATCH) clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, () => open(port)))));
  return clients;
}

/** Closes in three ways, a third each: the closing handshake, a FIN, a reset. */
async function closeAll(clients: Client[]): Promise<number> {
  const close = maskedFrame(0x8, encodeClosePayload(1000));
  clients.forEach((c, i) => {
    if (i % 3 === 0) c.socket.write(close);
    else if (i % 3 === 1) c.socket.end();
    else c.socket.destroy();
  });
  const received = await Promise.all(clients.map((c) => c.closed));
  // The closing handshake: the server echoes the Close (1000) and ends TCP.
  return received.filter((bytes, i) => i % 3 === 0 && bytes.equals(Buffer.from([0x88, 0x02, 0x03, 0xe8]))).length;
}

t.test(`${COUNT} idle connections open and close without a leak`, { skip }, async (t) => {
  const server = await listen(t);
  const port = server.address().port;
  const tracker = new Tracker(server);
  // Warm up (JIT, pools, the listener's own structures), then take the baseline.
  await closeAll(await openMany(port, 500));
  for (let i = 0; i < 100 && server.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  tracker.prune();
  const before = await heapAfterGc();

  const clients = await openMany(port, COUNT);
  t.equal(server.clients.size, COUNT, `all ${COUNT} connections are open`);
  const during = await heapAfterGc();

  const handshakes = await closeAll(clients);
  t.equal(handshakes, Math.ceil(COUNT / 3), 'every closing handshake was answered with Close 1000');
  clients.length = 0;
  for (let i = 0; i < 200 && (server.clients.size > 0 || tracker.closed < 500 + COUNT); i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(server.clients.size, 0, 'server.clients is empty again');
  t.equal(tracker.closed, 500 + COUNT, 'every server-side socket closed');
  const after = await heapAfterGc();
  const live = tracker.live();
  t.same(live, { sockets: 0, connections: 0 }, `all ${COUNT} server-side sockets and WebSockets were garbage-collected`);
  const perConnection = (during - before) / COUNT;
  t.comment(`heap: ${(before / 1048576).toFixed(2)} MB before, ${mb(during - before)} with ${COUNT} open (${Math.round(perConnection)} bytes each), ${mb(after - before)} after closing`);
  // A loose bound (the WeakRefs are the exact check): far less than what leaking even a tenth of the connections would keep.
  t.ok(after - before < (during - before) / 10, 'the heap is back near its baseline');
});
