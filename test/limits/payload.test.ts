// Message size limits on a running server, each with an exact assertion on the bytes: a message
// announced over maxPayload is refused with 1009 on its header, before any payload is sent; a
// fragmented message growing past maxPayload likewise, on the header of the fragment that crosses;
// many tiny (or empty) fragments cost their bytes against maxPayload and nothing more: there is no
// fragment count to exhaust (test/frames/payload-buffer.test.ts asserts the bytes held).
import t, { type Test } from 'tap';
import type { WebSocket } from '../../src/websocket.js';
import { listen, maskedFrame, next, upgradedPeer } from '../helpers.js';
import { heapAfterGc } from './memory.js';

const KEY = Buffer.from([0x11, 0x22, 0x33, 0x44]);

/** Only the header of a masked client frame (with its key): the payload is never sent. */
function headerOnly(b0: number, length: bigint): Buffer {
  if (length < 126n) return Buffer.concat([Buffer.from([b0, 0x80 | Number(length)]), KEY]);
  if (length < 65536n) return Buffer.concat([Buffer.from([b0, 0x80 | 126, Number(length >> 8n), Number(length & 0xffn)]), KEY]);
  const h = Buffer.alloc(10);
  h[0] = b0;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(length, 2);
  return Buffer.concat([h, KEY]);
}

/** The Close frame a server sends to fail the connection with `code` (no reason). */
const closeFrame = (code: number): Buffer => Buffer.from([0x88, 0x02, code >> 8, code & 0xff]);

/** An unmasked server frame, as the echo comes back. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]) : Buffer.from([0x80 | opcode, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([head, payload]);
}

async function echoServer(t: Test, options: { maxPayload?: number }) {
  const server = await listen(t, options);
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const connected = next<[WebSocket]>(server, 'connection');
  const peer = await upgradedPeer(t, server.address().port);
  const [ws] = await connected;
  const closed = next<[number, string, boolean]>(ws, 'close');
  return { server, peer, ws, closed };
}

t.test('a message announced over maxPayload (default 1 MiB) gets 1009 on its header, before its payload', async (t) => {
  const { peer, closed } = await echoServer(t, {});
  const exactly = Buffer.alloc(1024 * 1024, 0x61);
  peer.socket.write(maskedFrame(0x2, exactly));
  const echo = serverFrame(0x2, exactly);
  t.ok((await peer.waitFor(echo.length)).equals(echo), 'exactly 1 MiB is accepted and echoed');
  peer.socket.write(headerOnly(0x82, 1024n * 1024n + 1n)); // the header alone, not one payload byte
  const bytes = await peer.closed;
  t.same(bytes.subarray(echo.length), closeFrame(1009), 'one byte more: Close 1009, and the connection is closed');
  t.same((await closed).slice(0, 1), [1009]);
});

t.test('64-bit lengths of 2^63 - 1 and with the MSB set are refused on the header (1009, 1002)', async (t) => {
  for (const [length, code] of [
    [2n ** 63n - 1n, 1009],
    [2n ** 53n, 1009],
    [2n ** 63n, 1002],
    [2n ** 64n - 1n, 1002],
  ] as const) {
    const { peer, closed } = await echoServer(t, {});
    peer.socket.write(headerOnly(0x82, length));
    t.same(await peer.closed, closeFrame(code), `length ${length}: Close ${code}`);
    t.equal((await closed)[0], code);
  }
});

t.test('a fragmented message growing past maxPayload gets 1009 on the header of the fragment that crosses', async (t) => {
  const { peer, closed } = await echoServer(t, { maxPayload: 1000 });
  const part = (n: number, fill: number) => Buffer.alloc(n, fill);
  // Exactly maxPayload in three fragments: accepted.
  peer.socket.write(Buffer.concat([maskedFrame(0x2, part(400, 1), false), maskedFrame(0x0, part(400, 2), false), maskedFrame(0x0, part(200, 3))]));
  const echo = serverFrame(0x2, Buffer.concat([part(400, 1), part(400, 2), part(200, 3)]));
  t.ok((await peer.waitFor(echo.length)).equals(echo), '1000 bytes in three fragments are echoed as one message');
  // 800 bytes, then the header of a 201-byte fragment: refused before its payload.
  peer.socket.write(Buffer.concat([maskedFrame(0x2, part(400, 4), false), maskedFrame(0x0, part(400, 5), false), headerOnly(0x80, 201n)]));
  t.same((await peer.closed).subarray(echo.length), closeFrame(1009), 'Close 1009, connection closed');
  t.equal((await closed)[0], 1009);
});

t.test('tiny fragments: 1-byte fragments count against maxPayload one by one', async (t) => {
  const { peer, closed } = await echoServer(t, { maxPayload: 100 });
  const fragments = [maskedFrame(0x1, 'x', false), ...Array.from({ length: 99 }, () => maskedFrame(0x0, 'x', false))];
  peer.socket.write(Buffer.concat([...fragments, headerOnly(0x80, 1n)])); // the 101st byte's header
  t.same(await peer.closed, closeFrame(1009), '100 one-byte fragments fit, the 101st is refused on its header');
  t.equal((await closed)[0], 1009);
});

t.test('tiny fragments: a message in 5,000 one-byte fragments is one message (no fragment cap)', async (t) => {
  const { peer, closed } = await echoServer(t, {});
  const one = (fin: boolean, first: boolean) => maskedFrame(first ? 0x1 : 0x0, 'y', fin);
  // Once refused with 1009 at the 4,097th fragment; now only maxPayload counts.
  const message = Buffer.concat([one(false, true), ...Array.from({ length: 4998 }, () => one(false, false)), one(true, false)]);
  peer.socket.write(message);
  const echo = serverFrame(0x1, Buffer.alloc(5000, 'y'));
  t.ok((await peer.waitFor(echo.length)).equals(echo), '5,000 fragments are one message of 5,000 bytes');
  peer.socket.write(maskedFrame(0x8, Buffer.from([0x03, 0xe8])));
  t.same((await peer.closed).subarray(echo.length), closeFrame(1000), 'and the connection closes cleanly');
  t.equal((await closed)[0], 1000);
});

t.test('100,000 empty continuation fragments in one burst, then a final 1-byte one: one message of 1 byte', async (t) => {
  const { peer, ws } = await echoServer(t, {});
  let messages = 0;
  ws.on('message', () => messages++);
  const empty = maskedFrame(0x0, Buffer.alloc(0), false);
  peer.socket.write(Buffer.concat([maskedFrame(0x2, Buffer.alloc(0), false), ...Array.from({ length: 100_000 }, () => empty), maskedFrame(0x0, Buffer.from([0x2a]))]));
  const echo = serverFrame(0x2, Buffer.from([0x2a]));
  t.ok((await peer.waitFor(echo.length)).equals(echo), 'the 1-byte message is echoed');
  t.equal(messages, 1, 'one message was delivered');
  ws.terminate();
});

t.test('an incomplete message holds about maxPayload in memory, not the chunks its pieces came in', async (t) => {
  const maxPayload = 256 * 1024;
  const { peer, ws } = await echoServer(t, { maxPayload });
  // Each 64 KiB write: a 1 KiB fragment of one message, then unsolicited pongs (which cost no
  // answer) up to exactly 64 KiB. 250 of them: 250 KiB of message (under maxPayload) in 16 MB.
  const block = (first: boolean): Buffer => {
    const parts = [maskedFrame(first ? 0x2 : 0x0, Buffer.alloc(1024, 0x6d), false)];
    let size = parts[0].length;
    while (65536 - size >= 131 + 6) {
      parts.push(maskedFrame(0xa, Buffer.alloc(125)));
      size += 131;
    }
    parts.push(maskedFrame(0xa, Buffer.alloc(65536 - size - 6)));
    return Buffer.concat(parts);
  };
  let pongs = 0;
  ws.on('pong', () => pongs++);
  const before = (await heapAfterGc(), process.memoryUsage().arrayBuffers);
  for (let i = 0; i < 250; i++) {
    if (!peer.socket.write(block(i === 0))) await new Promise((r) => peer.socket.once('drain', r));
  }
  // A ping behind it all: its pong means the server has read everything before it.
  peer.socket.write(maskedFrame(0x9, 'done'));
  t.same(await peer.waitFor(6), Buffer.from([0x8a, 0x04, ...Buffer.from('done')]), 'the server read all 16 MB');
  t.equal(pongs, 250 * 493, 'every padding pong was read');
  await heapAfterGc();
  const held = process.memoryUsage().arrayBuffers - before;
  // Unfixed, each 1 KiB piece pinned its 64 KiB chunk: 16 MB held for 250 KiB of message.
  t.ok(held < 2 * maxPayload + 1024 * 1024, `${(held / 1048576).toFixed(2)} MB held for 250 KiB of an incomplete message`);
  ws.terminate();
});
