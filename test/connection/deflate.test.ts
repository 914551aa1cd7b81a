// permessage-deflate in the lifecycle (RFC 7692), driven with bytes: negotiated by the handshake,
// messages inflated as their frames arrive (bounded, fail-fast), whole messages compressed when
// they pay, the rules of RSV1.
import t from 'tap';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Connection, type ConnectionEvent } from '../../src/connection/connection.js';
import { deflateClientPolicy, deflateServerPolicy } from '../../src/handshake/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const TAIL = hex('0000ffff');

function request(extensions: string): Buffer {
  return Buffer.from(
    `GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`,
  );
}

function drain(p: Connection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let e = p.nextEvent(); e !== undefined; e = p.nextEvent()) events.push(e);
  return events;
}

/** A masked client frame (RSV1 when `compressed`), any length form. */
function clientFrame(first: number, payload: Buffer): Buffer {
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = payload.length;
  const header = len < 126 ? Buffer.from([first, 0x80 | len]) : len < 65536 ? Buffer.from([first, 0x80 | 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([first, 0x80 | 127]), bigLength(len)]);
  return Buffer.concat([header, key, Buffer.from(payload.map((b, i) => b ^ key[i & 3]))]);
}
function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A compressed payload as a sender makes it (§7.2.1): raw deflate, sync flush, tail removed. */
const compress = (data: Buffer | string): Buffer => {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  return out.subarray(0, out.length - 4);
};
const inflate = (payload: Buffer): Buffer => inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
/** The payload of an unmasked server frame. */
const payloadOf = (frame: Buffer): Buffer => frame.subarray(frame[1] === 126 ? 4 : frame[1] === 127 ? 10 : 2);

/** A server connection that agreed to permessage-deflate under `options` (default: no context takeover either way). */
function server(options: Parameters<typeof deflateServerPolicy>[0] = { serverNoContextTakeover: true, clientNoContextTakeover: true }, maxPayload?: number, offer = 'permessage-deflate; client_max_window_bits'): [Connection, string] {
  const p = new Connection({ role: 'server', maxPayload, policy: { perMessageDeflate: deflateServerPolicy(options) } });
  p.receive(request(offer));
  drain(p);
  p.accept();
  const response = Buffer.concat(p.outbox.take()).toString('latin1');
  drain(p);
  return [p, response];
}

const messages = (events: ConnectionEvent[]): string[] => events.filter((e) => e.type === 'message').map((e) => (e as { data: Buffer }).data.toString());

t.test('the server answers the offer, and inflates the RFC 7692 §7.2.3.1 "Hello"', async (t) => {
  const [p, response] = server();
  t.match(response, /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n/);
  p.receive(clientFrame(0xc1, hex('f2 48 cd c9 c9 07 00')));
  t.same(messages(drain(p)), ['Hello']);
  t.equal(p.shareKey, '15:-1:8:1024', 'no context takeover: a broadcast may share its compressed frame');
});

t.test('a compressed message in fragments (the split of §7.2.3.2), byte by byte, inflates whole', async (t) => {
  const [p] = server();
  const bytes = Buffer.concat([clientFrame(0x41, hex('f2 48 cd')), clientFrame(0x80, hex('c9 c9 07 00'))]);
  for (const byte of bytes) p.receive(Buffer.from([byte]));
  t.same(messages(drain(p)), ['Hello']);
});

t.test('the RFC 7692 §7.2.3.3 message with no compression (BFINAL=0 stored block) inflates too', async (t) => {
  const [p] = server();
  p.receive(clientFrame(0xc1, hex('00 05 00 fa ff 48 65 6c 6c 6f 00')));
  t.same(messages(drain(p)), ['Hello']);
});

t.test('data that does not inflate fails with 1007', async (t) => {
  const [p] = server();
  p.receive(clientFrame(0xc2, hex('ff ff ff ff ff')));
  const events = drain(p);
  t.match(events.find((e) => e.type === 'error'), { error: { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007 } });
  t.same(Buffer.concat(p.outbox.take()), hex('88 02 03 ef'));
});

t.test('a bomb: 100 MiB that deflate to ~100 KB end in 1009 before the bytes exist, holding at most maxPayload + 64 KiB', async (t) => {
  const maxPayload = 1024 * 1024;
  const [p] = server(undefined, maxPayload);
  const bomb = compress(Buffer.alloc(100 * 1024 * 1024));
  t.ok(bomb.length < 200 * 1024, `${bomb.length} bytes on the wire`);
  const frame = clientFrame(0xc2, bomb);
  let peak = 0;
  for (let at = 0; at < frame.length; at += 16 * 1024) {
    p.receive(frame.subarray(at, at + 16 * 1024));
    peak = Math.max(peak, p.bufferedBytes);
  }
  t.match(drain(p).find((e) => e.type === 'error'), { error: { code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 } });
  t.ok(peak <= maxPayload + 64 * 1024, `at most ${peak} bytes held`);
});

t.test('compressed text is validated after inflating, fail-fast: the first fragment fails before the rest comes', async (t) => {
  const [p] = server();
  // One compression stream cut in two: the first fragment already inflates to invalid UTF-8.
  const rest = Buffer.from(randomBytes(100_000).toString('base64'));
  const whole = compress(Buffer.concat([Buffer.from([0xc3, 0x28]), rest]));
  t.ok(whole.length > 50_000);
  p.receive(clientFrame(0x41, whole.subarray(0, 4096)));
  const events = drain(p);
  t.match(events.find((e) => e.type === 'error'), { error: { code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 } }, 'failed before the FIN frame was sent');
  const valid = server()[0];
  valid.receive(clientFrame(0xc1, compress('héllo wörld 🎉')));
  t.same(messages(drain(valid)), ['héllo wörld 🎉']);
});

t.test('RSV1 where RFC 7692 §6.1 forbids it: on a control frame, on a continuation, or without the extension (1002)', async (t) => {
  const cases: [string, Buffer][] = [
    ['a Ping with RSV1', clientFrame(0xc9, Buffer.alloc(0))],
    ['a continuation with RSV1', Buffer.concat([clientFrame(0x41, hex('f2 48 cd')), clientFrame(0xc0, hex('c9 c9 07 00'))])],
  ];
  for (const [name, bytes] of cases) {
    const [p] = server();
    p.receive(bytes);
    t.match(drain(p).find((e) => e.type === 'error'), { error: { code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 } }, name);
  }
  const plain = new Connection({ role: 'server' });
  plain.receive(request('permessage-deflate'));
  drain(plain);
  plain.accept();
  t.notMatch(Buffer.concat(plain.outbox.take()).toString(), /Extensions/, 'without a policy, the offer is declined');
  plain.receive(clientFrame(0xc1, hex('f2 48 cd c9 c9 07 00')));
  t.match(drain(plain).find((e) => e.type === 'error'), { error: { code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 } }, 'RSV1 without the extension');
});

t.test('sending: a message that pays is compressed (RSV1 on its one frame); short, incompressible or fragmented ones are not', async (t) => {
  const [p] = server();
  const text = 'compress me '.repeat(200);
  p.send(text, false);
  const frame = Buffer.concat(p.outbox.take());
  t.equal(frame[0], 0xc1, 'FIN, RSV1, text');
  const length = frame[1] === 126 ? frame.readUInt16BE(2) : frame[1];
  const payload = frame.subarray(frame[1] === 126 ? 4 : 2);
  t.equal(payload.length, length);
  t.ok(payload.length < text.length / 4, `${text.length} bytes sent as ${payload.length}`);
  t.equal(inflate(payload).toString(), text);
  p.send('short', false);
  t.same(Buffer.concat(p.outbox.take()), Buffer.concat([hex('81 05'), Buffer.from('short')]), 'under the threshold: as it is');
  const noise = randomBytes(4096);
  p.send(noise, true);
  const raw = Buffer.concat(p.outbox.take());
  t.equal(raw[0], 0x82, 'random bytes do not shrink: sent uncompressed');
  p.send(Buffer.from(text), true, false);
  p.send(Buffer.from(text), true, true);
  const pieces = Buffer.concat(p.outbox.take());
  t.equal(pieces[0], 0x02, 'a fragmented message goes uncompressed');
  t.equal(p.send(Buffer.from(text), true) && Buffer.concat(p.outbox.take())[0], 0xc2, 'then whole messages compress again');
});

t.test('context takeover: the second copy of a message costs less, and inflates with the window kept', async (t) => {
  const [p, response] = server({});
  t.match(response, /Sec-WebSocket-Extensions: permessage-deflate\r\n/);
  t.equal(p.shareKey, undefined, 'with context takeover nothing is shared');
  const text = 'the same long message, twice over, to show the window. '.repeat(30);
  p.send(text, false);
  const first = Buffer.concat(p.outbox.take());
  p.send(text, false);
  const second = Buffer.concat(p.outbox.take());
  t.ok(second.length < first.length / 2, `second ${second.length} bytes, first ${first.length}`);
  // The peer's side with context takeover: two messages from one stream.
  const { Deflater } = await import('../../src/deflate/index.js');
  const sender = new Deflater({});
  p.receive(clientFrame(0xc1, sender.deflate(Buffer.from(text))));
  p.receive(clientFrame(0xc1, sender.deflate(Buffer.from(text))));
  t.same(messages(drain(p)), [text, text]);
});

t.test('encodeMessage: the frame a broadcast shares among connections with the same key', async (t) => {
  const [p] = server();
  const text = Buffer.from('share me '.repeat(300));
  const frame = p.encodeMessage(text, false);
  t.equal(frame[0], 0xc1);
  t.equal(inflate(payloadOf(frame)).toString(), text.toString());
  t.same(p.encodeMessage(Buffer.from('tiny'), true), Buffer.concat([hex('82 04'), Buffer.from('tiny')]), 'below the threshold: the plain frame');
  const plain = new Connection({ role: 'server' });
  t.equal(plain.shareKey, null, 'no extension: the plain frame is shared');
});

t.test('a client offers as browsers do, and fails an answer it did not offer (RFC 7692 §5)', async (t) => {
  const key = KEY;
  const accept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
  const answer = (ext: string): Buffer =>
    Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${ext}\r\n\r\n`);
  const policy = deflateClientPolicy({});
  const good = new Connection({ role: 'client', offer: { request: Buffer.from('GET'), key, perMessageDeflate: policy } });
  good.receive(answer('permessage-deflate; client_max_window_bits=10'));
  t.match(drain(good), [{ type: 'open', extensions: 'permessage-deflate; client_max_window_bits=10' }]);
  good.receive(Buffer.concat([hex('c1 07'), hex('f2 48 cd c9 c9 07 00')]));
  t.same(messages(drain(good)), ['Hello'], 'the server’s compressed "Hello" (§7.2.3.1)');
  good.outbox.take(); // the request
  good.send('client side '.repeat(200), false);
  const sent = Buffer.concat(good.outbox.take());
  t.equal(sent[0], 0xc1, 'the client compresses too (and masks)');
  const bad = new Connection({ role: 'client', offer: { request: Buffer.from('GET'), key, perMessageDeflate: deflateClientPolicy({ clientMaxWindowBits: false }) } });
  bad.receive(answer('permessage-deflate; client_max_window_bits=10'));
  t.match(drain(bad), [{ type: 'refused', error: { code: 'WS_ERR_HANDSHAKE_EXTENSIONS' } }, { type: 'end' }]);
});
