// Floods in one burst: 100,000 empty binary messages from a peer that does not read. The server
// answers every one, but its outgoing buffer stays bounded (it stops reading while the peer does not
// take its answers), and once the peer reads, exactly 100,000 answers arrive, in order, none lost.
// (100,000 pings from a non-reading peer: test/websocket.test.ts; floods of empty fragments:
// test/limits/payload.test.ts.)
import t, { type Test } from 'tap';
import type { WebSocket } from '../../src/websocket.js';
import { listen, maskedFrame, next, upgradedPeer } from '../helpers.js';

const COUNT = 100_000;
/** Node reads at most 64 KiB from a TCP socket at once. */
const READ_SIZE = 65536;

/**
 * Floods `COUNT` empty messages at a server that answers each with `reply` while the peer does not
 * read, then lets the peer read. Returns what was seen and buffered.
 */
async function flood(t: Test, reply: Buffer | undefined, highWaterMark: number) {
  const server = await listen(t, { highWaterMark });
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  let seen = 0;
  let maxBuffered = 0;
  ws.on('message', (data, isBinary) => {
    seen++;
    ws.send(reply ?? data, { binary: isBinary });
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  });
  peer.socket.pause();
  const frame = maskedFrame(0x2, Buffer.alloc(0)); // 6 bytes in, a 2-byte echo out
  peer.socket.write(Buffer.concat(Array.from({ length: COUNT }, () => frame)));
  // Wait until the server makes no more progress (all read, or reading paused); bounded.
  for (let last = -1, i = 0; i < 200 && last !== seen; i++) {
    last = seen;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seenWhilePaused = seen;
  const maxWhilePaused = maxBuffered;
  peer.socket.resume();
  const answer = (reply ?? Buffer.alloc(0)).length + 2;
  const bytes = await peer.waitFor(answer * COUNT);
  ws.terminate();
  return { seenWhilePaused, maxWhilePaused, maxBuffered, seen, bytes, frame, answer };
}

t.test('100,000 empty messages in one burst, each echoed: bounded buffering, then every echo', async (t) => {
  const highWaterMark = 1024;
  const { seenWhilePaused, maxWhilePaused, maxBuffered, seen, bytes, frame } = await flood(t, undefined, highWaterMark);
  // The server reads on only while its buffer is under the high-water mark: what one read can add
  // is the echoes of the frames one read holds.
  const bound = highWaterMark + 2 * Math.ceil(READ_SIZE / frame.length);
  t.ok(maxWhilePaused <= bound, `while the peer did not read: ${seenWhilePaused} messages handled, at most ${maxWhilePaused} bytes buffered (bound ${bound})`);
  t.equal(bytes.length, 2 * COUNT, 'exactly 100,000 two-byte echoes, nothing more');
  t.ok(bytes.equals(Buffer.alloc(2 * COUNT, Buffer.from([0x82, 0x00]))), 'every one an empty binary frame');
  t.equal(seen, COUNT);
  t.ok(maxBuffered <= bound, `and at most ${maxBuffered} bytes were ever buffered`);
});

t.test('100,000 empty messages in one burst, each answered with 125 bytes: reading pauses, nothing piles up', async (t) => {
  const highWaterMark = 16 * 1024;
  // 12.7 MB of answers: more than loopback's kernel buffers hold, so they back up into the server
  // unless it stops reading the flood.
  const reply = Buffer.alloc(125, 0x72);
  const { seenWhilePaused, maxWhilePaused, maxBuffered, seen, bytes, frame, answer } = await flood(t, reply, highWaterMark);
  const bound = highWaterMark + answer * Math.ceil(READ_SIZE / frame.length);
  t.ok(seenWhilePaused < COUNT, `the server stopped reading after ${seenWhilePaused} messages`);
  t.ok(maxWhilePaused <= bound, `at most ${maxWhilePaused} bytes buffered (bound ${bound})`);
  const one = Buffer.concat([Buffer.from([0x82, 125]), reply]);
  t.equal(bytes.length, answer * COUNT, 'exactly 100,000 answers once the peer reads');
  t.ok(bytes.equals(Buffer.alloc(answer * COUNT, one)), 'every one intact');
  t.equal(seen, COUNT);
  t.ok(maxBuffered <= bound, `and at most ${maxBuffered} bytes were ever buffered`);
});

t.test('a peer that does not read pins only what is queued for it, not the shared slabs its frames were written in', async (t) => {
  const server = await listen(t);
  const port = server.address().port;
  const connections: WebSocket[] = [];
  server.on('connection', (ws) => {
    connections.push(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const slow = await upgradedPeer(t, port);
  const fast = await upgradedPeer(t, port);
  const [slowWs] = connections;
  slow.socket.pause();
  // Back the slow peer's socket up: pings until 256 KiB of pongs wait in the server (under the
  // 1 MiB high-water mark, so the server still reads it).
  const ping = maskedFrame(0x9, Buffer.alloc(125));
  for (let i = 0; i < 1000 && slowWs.bufferedAmount < 256 * 1024; i++) {
    slow.socket.write(Buffer.concat(Array.from({ length: 100 }, () => ping)));
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(slowWs.bufferedAmount >= 256 * 1024, `the slow peer's socket is backed up (${slowWs.bufferedAmount} bytes)`);
  // What the slow peer's queue keeps alive: every distinct ArrayBuffer behind its queued chunks —
  // those in the socket's queue, and those the outbox holds while the socket has not drained.
  // (Both are private; the test reaches them, and Node's writableBuffer, only to count this.)
  const driver = slowWs.driver as unknown as { socket: { writableBuffer: { chunk: Buffer }[] }; conn: { outbox: { chunks: Buffer[] } } };
  const queued = (): Buffer[] => [...driver.socket.writableBuffer.map((e) => e.chunk), ...driver.conn.outbox.chunks];
  const start = queued().length;
  // Then, until 100 more chunks wait (the kernel still takes a few bytes now and then; at most
  // 2,000 rounds): one tiny pong for the slow peer, and 64 KB of echoes for the fast one, which
  // fill the rest of the shared 64 KiB slab the pong was written in.
  let echoed = 0;
  fast.socket.on('data', (chunk: Buffer) => (echoed += chunk.length));
  const message = maskedFrame(0x2, Buffer.alloc(16000));
  for (let i = 0; i < 2000 && queued().length < start + 100; i++) {
    slow.socket.write(maskedFrame(0x9, Buffer.alloc(1)));
    await new Promise((r) => setImmediate(r));
    const target = echoed + 4 * 16004;
    fast.socket.write(Buffer.concat([message, message, message, message]));
    for (let k = 0; k < 10_000 && echoed < target; k++) await new Promise((r) => setImmediate(r));
  }
  const queue = queued();
  const bytes = queue.reduce((n, c) => n + c.length, 0);
  const pinned = [...new Set(queue.map((c) => c.buffer))].reduce((n, b) => n + b.byteLength, 0);
  t.ok(queue.length >= start + 100, `${queue.length - start} tiny pongs wait in the slow peer's queue`);
  // Unfixed, each tiny pong was a view of its own 64 KiB slab: 100 of them pinned 6.4 MB more.
  t.ok(pinned <= 2 * bytes + 65536, `the queue pins ${pinned} bytes for ${bytes} queued`);
  slowWs.terminate();
});
