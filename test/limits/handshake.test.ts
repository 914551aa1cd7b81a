// Resource limits of the opening handshake, each with an exact assertion: slowloris clients are
// dropped by handshakeTimeout without an answer and free their slot; a head over maxHeadSize or
// maxHeaderCount gets 431 and the connection closed, one byte or one field under passes; a refused
// client is released as soon as it closes.
import t from 'tap';
import * as net from 'node:net';
import { ResponseHeadParser } from '../../src/handshake/index.js';
import { listen, maskedFrame, rawPeer, upgradeRequest } from '../helpers.js';
import { Tracker, heapAfterGc } from './memory.js';

/** Status of the response a server wrote, or undefined when it wrote nothing. */
function statusOf(bytes: Buffer): number | undefined {
  if (bytes.length === 0) return undefined;
  const result = new ResponseHeadParser().push(Buffer.from(bytes));
  return result.state === 'complete' ? result.head.status : -1;
}

t.test('slowloris: a request trickling one byte every 20 ms is dropped, unanswered, before it completes', async (t) => {
  const server = await listen(t, { handshakeTimeout: 200 });
  const peer = await rawPeer(t, server.address().port);
  const request = Buffer.from(upgradeRequest(server.address().port));
  let sent = 0;
  // At most one byte per 20 ms, bounded by the request length; stops when the server hangs up.
  for (; sent < request.length && !peer.socket.destroyed && peer.socket.writable; sent++) {
    peer.socket.write(request.subarray(sent, sent + 1));
    await Promise.race([new Promise((r) => setTimeout(r, 20)), peer.closed]);
  }
  const received = await peer.closed;
  t.equal(received.length, 0, 'dropped without a response');
  t.ok(sent < request.length, `dropped after ${sent} of ${request.length} bytes: the request never completed`);
});

t.test('slowloris: silent clients and heads that never end are dropped and free their slots', async (t) => {
  const server = await listen(t, { handshakeTimeout: 200, maxConnections: 3 });
  const port = server.address().port;
  const silent = await rawPeer(t, port);
  const unfinished = await rawPeer(t, port);
  unfinished.socket.write(upgradeRequest(port).slice(0, -2)); // every header line, but not the empty one
  const partialLine = await rawPeer(t, port);
  partialLine.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ends: aaaa');
  t.same(
    (await Promise.all([silent.closed, unfinished.closed, partialLine.closed])).map((b) => b.length),
    [0, 0, 0],
    'all three dropped without a response',
  );
  // The three slots of maxConnections are free again: three valid clients are all accepted.
  const clients = await Promise.all([0, 1, 2].map(() => rawPeer(t, port)));
  for (const c of clients) c.socket.write(upgradeRequest(port));
  const heads = await Promise.all(clients.map((c) => c.waitFor(12)));
  t.same(heads.map((h) => h.toString('latin1', 0, 12)), ['HTTP/1.1 101', 'HTTP/1.1 101', 'HTTP/1.1 101']);
});

/** An upgrade request padded with an X-Pad field to exactly `size` bytes. */
function requestOfSize(port: number, size: number): string {
  const base = upgradeRequest(port, 'X-Pad: \r\n');
  return upgradeRequest(port, `X-Pad: ${'p'.repeat(size - base.length)}\r\n`);
}

/** An upgrade request with `count` header fields in all. */
function requestWithFields(port: number, count: number): string {
  const base = upgradeRequest(port).split('\r\n').length - 3; // start line, empty line, trailing ''
  return upgradeRequest(port, Array.from({ length: count - base }, (_, i) => `X-F${i}: ${i}\r\n`).join(''));
}

t.test('431 exactly at the limits: maxHeadSize (default 16 KiB) and maxHeaderCount (default 100)', async (t) => {
  const server = await listen(t);
  const port = server.address().port;
  const answer = async (request: string): Promise<{ status: number | undefined; closed: boolean }> => {
    const peer = await rawPeer(t, port);
    peer.socket.write(request);
    const head = await peer.waitFor(12);
    const status = statusOf(head.subarray(0, head.indexOf('\r\n\r\n') + 4));
    if (status === 101) peer.socket.destroy();
    return { status, closed: status === 101 || (await peer.closed).length > 0 };
  };
  t.equal(Buffer.byteLength(requestOfSize(port, 16384)), 16384);
  t.same(await answer(requestOfSize(port, 16384)), { status: 101, closed: true }, 'a head of exactly 16,384 bytes is accepted');
  t.same(await answer(requestOfSize(port, 16385)), { status: 431, closed: true }, 'one byte more: 431, and the server closes');
  t.same(await answer(requestWithFields(port, 100)), { status: 101, closed: true }, '100 header fields are accepted');
  t.same(await answer(requestWithFields(port, 101)), { status: 431, closed: true }, '101 fields: 431, and the server closes');
});

t.test('431 for a head that never ends: answered once the limit is crossed, not buffered on', async (t) => {
  const server = await listen(t, { maxHeadSize: 4096 });
  const peer = await rawPeer(t, server.address().port);
  peer.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const line = `X-Flood: ${'f'.repeat(1013)}\r\n`; // 1 KiB a line, and the empty line never comes
  let sent = 0;
  for (; sent < 256 && peer.received().length === 0 && peer.socket.writable; sent++) {
    peer.socket.write(line);
    await new Promise((r) => setImmediate(r));
  }
  const bytes = await peer.closed;
  t.equal(statusOf(bytes), 431, `answered 431 after ${sent} KiB of header lines`);
  t.ok(sent < 256, 'before the client ran out of lines to send');
});

t.test('a refused client is released as soon as it closes (lingering close, RFC 9112 §9.6)', async (t) => {
  const server = await listen(t);
  const port = server.address().port;
  const tracker = new Tracker(server);
  const refusals: Promise<number | undefined>[] = [];
  for (let i = 0; i < 50; i++) {
    refusals.push(
      new Promise((resolve) => {
        // A client that sends a frame before it has read the answer (bytes the server leaves
        // unread), then closes its side.
        const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n';
        const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(request));
        const chunks: Buffer[] = [];
        socket.on('data', (c) => {
          chunks.push(c);
          socket.end(maskedFrame(0x1, 'too early'));
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(statusOf(Buffer.concat(chunks))));
      }),
    );
  }
  t.same(new Set(await Promise.all(refusals)), new Set([400]), 'all 50 refused with 400');
  for (let i = 0; i < 200 && tracker.closed < 50; i++) await new Promise((r) => setTimeout(r, 10));
  // The server read on after its answer, so it saw each client's FIN: none waited for the linger timer.
  t.equal(tracker.endedBeforeClose, 50, "every server socket closed on the client's FIN");
  await heapAfterGc();
  t.equal(tracker.live().sockets, 0, 'and none is held once closed (the linger timer went with it)');
});
