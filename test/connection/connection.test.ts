// The lifecycle of one connection, driven with bytes: what goes in, what comes out (bytes and events).
import t from 'tap';
import { Connection, ReadyState, type ConnectionEvent } from '../../src/connection/connection.js';
import { WebSocketError } from '../../src/errors.js';
import { acceptKey } from '../../src/handshake/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A masked client frame, built by hand so these tests do not trust the encoder they exercise. */
function clientFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i & 3]));
  const len = data.length;
  const header =
    len < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([header, key, masked]);
}

/** An unmasked server frame. */
function serverFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from([0x80 | opcode, data.length]), data]);
}

/** Unmasks a client frame with a 7-bit length: returns [first byte, payload]. */
function readMasked(frame: Buffer): [number, Buffer] {
  const len = frame[1] & 0x7f;
  const key = frame.subarray(2, 6);
  return [frame[0], Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ key[i & 3]))];
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const REQUEST =
  `GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
const RESPONSE = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(KEY)}\r\n\r\n`;

/** Takes the events queued so far, as the binding does. */
function drain(p: Connection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let e = p.nextEvent(); e !== undefined; e = p.nextEvent()) events.push(e);
  return events;
}

const types = (events: ConnectionEvent[]): string[] => events.map((e) => e.type);

interface Recorded {
  messages: [string, boolean][];
  pings: string[];
  pongs: string[];
  errors: WebSocketError[];
  /** Every event type, in order. */
  all: string[];
  closed: { code: number; reason: string; wasClean: boolean } | undefined;
}

/** Reads what the connection queued since the last call into `rec`. */
function record(p: Connection, rec: Recorded): void {
  for (const e of drain(p)) {
    rec.all.push(e.type);
    if (e.type === 'message') rec.messages.push([e.data.toString('latin1'), e.isBinary]);
    else if (e.type === 'ping') rec.pings.push(e.payload.toString());
    else if (e.type === 'pong') rec.pongs.push(e.payload.toString());
    else if (e.type === 'error') rec.errors.push(e.error);
    else if (e.type === 'closed') rec.closed = { code: e.code, reason: e.reason, wasClean: e.wasClean };
  }
}

/** An OPEN connection of the given role (its handshake done and drained), and a recorder over it. */
function make(role: 'server' | 'client', options: { maxPayload?: number } = {}): [Connection, Recorded, () => void] {
  const p =
    role === 'server'
      ? new Connection({ role, maxPayload: options.maxPayload })
      : new Connection({ role, maxPayload: options.maxPayload, offer: { request: Buffer.from(REQUEST), key: KEY } });
  if (role === 'server') {
    p.receive(Buffer.from(REQUEST));
    p.accept();
  } else {
    p.receive(Buffer.from(RESPONSE));
  }
  p.outbox.take();
  drain(p);
  const rec: Recorded = { messages: [], pings: [], pongs: [], errors: [], all: [], closed: undefined };
  return [p, rec, () => record(p, rec)];
}

const out = (p: Connection): Buffer => Buffer.concat(p.outbox.take());

t.test('a server delivers a masked text message (RFC 6455 §5.7 example)', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
  read();
  t.same(rec.messages, [['Hello', false]]);
  t.equal(p.outbox.bytes, 0, 'nothing to send back');
});

t.test('a ping is answered with a pong carrying the same payload (§5.5.2)', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(clientFrame(0x9, 'Hello'));
  t.equal(p.outbox.bytes, 0, 'the Pong is queued when the Ping is taken, after what came before it');
  read();
  t.same(rec.pings, ['Hello']);
  t.same(out(p), hex('8a 05 48 65 6c 6c 6f'), 'unmasked pong "Hello", as in §5.7');
});

t.test('a client answers pings with masked pongs', async (t) => {
  const [p, , read] = make('client');
  p.receive(serverFrame(0x9, 'hi'));
  read();
  const [first, payload] = readMasked(out(p));
  t.equal(first, 0x8a);
  t.equal(payload.toString(), 'hi');
});

t.test('pongs are reported and never answered', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(clientFrame(0xa, 'beat'));
  read();
  t.same(rec.pongs, ['beat']);
  t.equal(p.outbox.bytes, 0);
});

t.test('the peer starts the closing handshake: the server echoes it and ends TCP (§7.1.1)', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(clientFrame(0x8, Buffer.concat([hex('03e8'), Buffer.from('bye')])));
  t.equal(p.state, ReadyState.OPEN, 'until the Close is taken');
  read();
  t.same(out(p), hex('88 05 03 e8 62 79 65'), 'Close 1000 "bye" echoed');
  t.equal(p.state, ReadyState.CLOSING);
  t.same(rec.all, ['close', 'end'], 'the server closes TCP first; no close timer needed');
  p.transportClosed();
  t.equal(p.state, ReadyState.CLOSED);
  t.equal(p.cleanClose, true);
  read();
  t.same(rec.closed, { code: 1000, reason: 'bye', wasClean: true }, 'the peer code survives the TCP close');
});

t.test('nothing after the peer Close is processed (§5.5.1)', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(Buffer.concat([clientFrame(0x8, hex('03e8')), clientFrame(0x1, 'late')]));
  p.receive(clientFrame(0x1, 'later'));
  read();
  t.same(rec.messages, []);
});

t.test('an empty Close is answered with an empty Close and reported as 1005', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(clientFrame(0x8, Buffer.alloc(0)));
  read();
  t.same(out(p), hex('88 00'));
  p.transportClosed();
  read();
  t.equal(rec.closed?.code, 1005);
});

t.test('we start the closing handshake: wait for the peer, then the server ends TCP', async (t) => {
  const [p, rec, read] = make('server');
  p.close(4000, 'done');
  t.same(out(p), Buffer.concat([hex('88 06 0f a0'), Buffer.from('done')]));
  t.equal(p.state, ReadyState.CLOSING);
  read();
  t.same(rec.all, ['expect-close'], 'the binding arms its close timer');
  p.close(1000);
  t.equal(p.outbox.bytes, 0, 'a second close() sends nothing');
  t.equal(p.send('x', false), false, 'a send while CLOSING is dropped');
  t.equal(p.ping(Buffer.from('x')), false);
  t.equal(p.outbox.bytes, 0, 'no control frame after our Close');
  p.receive(clientFrame(0x9, 'ping after close'));
  t.equal(p.outbox.bytes, 0, 'no pong after our Close');
  p.receive(clientFrame(0x8, hex('0fa0')));
  t.equal(p.outbox.bytes, 0, 'no second Close');
  read();
  t.same(rec.all, ['expect-close', 'ping', 'close', 'end']);
  t.equal(p.outbox.bytes, 0, 'no pong, no second Close');
  p.transportClosed();
  t.equal(p.cleanClose, true);
  read();
  t.same(rec.closed, { code: 4000, reason: '', wasClean: true }, "the peer's Close is what is reported");
});

t.test('a client waits for the server to end TCP after the handshake (§7.1.1)', async (t) => {
  const [p, rec, read] = make('client');
  p.close(1000);
  const [first, payload] = readMasked(out(p));
  t.equal(first, 0x88);
  t.same(payload, hex('03e8'));
  p.receive(serverFrame(0x8, hex('03e8')));
  read();
  t.same(rec.all, ['expect-close', 'close'], 'the client waits, with a timer, for the server to close TCP');
});

t.test('a client answers a server Close and still waits for the server to end TCP', async (t) => {
  const [p, rec, read] = make('client');
  p.receive(serverFrame(0x8, hex('03e9')));
  read();
  t.equal(readMasked(out(p))[0], 0x88);
  t.same(rec.all, ['close', 'expect-close']);
  p.transportClosed();
  read();
  t.equal(rec.closed?.code, 1001);
});

t.test('close() without a code sends an empty Close and reports 1005', async (t) => {
  const [p, rec, read] = make('server');
  p.close();
  t.same(out(p), hex('88 00'));
  p.receive(clientFrame(0x8, Buffer.alloc(0)));
  p.transportClosed();
  read();
  t.same(rec.closed, { code: 1005, reason: '', wasClean: true });
});

t.test('close() refuses what cannot go on the wire', async (t) => {
  const [p] = make('server');
  t.throws(() => p.close(undefined, 'why'), { code: 'WS_ERR_INVALID_CLOSE_CODE' });
  t.throws(() => p.close(1000, 'x'.repeat(124)), { code: 'WS_ERR_CLOSE_REASON_TOO_LONG' });
  t.throws(() => p.close(1005), { code: 'WS_ERR_INVALID_CLOSE_CODE' }, '1005 is never sent (§7.4.1)');
  t.equal(p.state, ReadyState.OPEN, 'still open after refused calls');
  t.equal(p.outbox.bytes, 0);
});

t.test('a protocol error fails the connection with its close code (§7.1.7)', async (t) => {
  const [p, rec, read] = make('server');
  // An unmasked frame from a client: §5.1 says the server MUST close the connection.
  p.receive(hex('81 02 68 69'));
  read();
  t.equal(rec.errors.length, 1);
  t.equal(rec.errors[0].closeCode, 1002);
  t.same(out(p), hex('88 02 03 ea'), 'Close 1002 queued');
  t.same(rec.all, ['error', 'end'], 'TCP ends at once');
  p.receive(clientFrame(0x1, 'ignored'));
  read();
  t.same(rec.messages, [], 'MUST NOT process data after failing');
  p.transportClosed();
  t.equal(p.cleanClose, false);
  read();
  t.same(rec.closed, { code: 1002, reason: '', wasClean: false });
  t.equal(p.error?.closeCode, 1002);
});

t.test('a message over maxPayload fails with 1009', async (t) => {
  const [p, rec, read] = make('server', { maxPayload: 4 });
  p.receive(clientFrame(0x2, 'hello'));
  read();
  t.equal(rec.errors[0].closeCode, 1009);
  t.same(out(p), hex('88 02 03 f1'));
});

t.test('a failure after our own Close sends no second Close', async (t) => {
  const [p, rec, read] = make('server');
  p.close(1000);
  out(p);
  p.receive(hex('81 00'));
  t.equal(p.outbox.bytes, 0);
  read();
  t.same(rec.all, ['expect-close', 'error', 'end']);
  p.transportClosed();
  read();
  t.equal(rec.closed?.code, 1002);
});

t.test('fail() from this side sends 1011 by default, once', async (t) => {
  const [p, rec, read] = make('server');
  p.fail(new WebSocketError('WS_ERR_LISTENER', 'boom', { side: 'local' }));
  t.same(out(p), hex('88 02 03 f3'));
  p.fail(new WebSocketError('WS_ERR_LISTENER', 'again', { side: 'local' }));
  t.equal(p.outbox.bytes, 0);
  p.transportClosed();
  p.fail(new WebSocketError('WS_ERR_LISTENER', 'after close', { side: 'local' }));
  t.equal(p.outbox.bytes, 0);
  t.equal(p.state, ReadyState.CLOSED);
  read();
  t.same(rec.closed, { code: 1011, reason: '', wasClean: false });
});

t.test('TCP breaking without a Close reports 1006, once', async (t) => {
  const [p, rec, read] = make('server');
  p.transportClosed();
  t.equal(p.cleanClose, false);
  p.transportClosed();
  t.equal(p.state, ReadyState.CLOSED);
  read();
  t.same(rec.all, ['closed']);
  t.equal(rec.closed?.code, 1006);
  t.equal(p.send('x', false), false, 'a send when CLOSED is dropped');
  p.receive(clientFrame(0x1, 'after'));
  t.equal(p.pendingEvents, 0, 'nothing is read once CLOSED');
});

t.test('fragmented sending: the first frame has the opcode, the rest are continuations (§5.4)', async (t) => {
  const [p] = make('server');
  p.send('Hel', false, false);
  p.send('lo', false, true);
  t.same(out(p), hex('01 03 48 65 6c 80 02 6c 6f'), 'the §5.7 fragmented "Hello"');
  p.send(Buffer.from([1]), true, false);
  p.send(Buffer.from([2]), true, false);
  p.send(Buffer.from([3]), true);
  t.same(out(p), hex('02 01 01 00 01 02 80 01 03'));
  p.send('whole', false);
  t.same(out(p), Buffer.concat([hex('81 05'), Buffer.from('whole')]));
});

t.test('control frames are limited to 125 bytes (§5.5)', async (t) => {
  const [p] = make('server');
  t.throws(() => p.ping(Buffer.alloc(126)), { code: 'WS_ERR_CONTROL_FRAME_TOO_BIG', side: 'local' });
  t.throws(() => p.pong(Buffer.alloc(126)), { code: 'WS_ERR_CONTROL_FRAME_TOO_BIG', side: 'local' });
  p.ping(Buffer.alloc(125));
  p.pong(Buffer.from('u'));
  const bytes = out(p);
  t.same(bytes.subarray(0, 2), hex('89 7d'));
  t.same(bytes.subarray(127), hex('8a 01 75'));
});

t.test('a frame encoded once for many goes out as it is', async (t) => {
  const [p] = make('server');
  t.equal(p.sendFrame(hex('81 02 68 69')), true);
  t.same(out(p), hex('81 02 68 69'));
  p.close();
  t.equal(p.sendFrame(hex('81 00')), false, 'dropped once CLOSING');
});

t.test('answers leave in the order of what they answer: a reply, then the Pong, then the Close', async (t) => {
  // One read holding a message, a Ping and the peer's Close: the application replies to the
  // message when it takes it, and that reply must precede the Close that the later frame brought.
  const [p] = make('server');
  p.receive(Buffer.concat([clientFrame(0x1, 'one'), clientFrame(0x9, 'p'), clientFrame(0x1, 'two'), clientFrame(0x8, hex('03e8'))]));
  const taken: string[] = [];
  for (let e = p.nextEvent(); e !== undefined; e = p.nextEvent()) {
    taken.push(e.type);
    if (e.type === 'message') p.send(`re: ${e.data.toString()}`, false);
  }
  t.same(taken, ['message', 'ping', 'message', 'close', 'end']);
  t.same(out(p), Buffer.concat([hex('81 07'), Buffer.from('re: one'), hex('8a 01 70 81 07'), Buffer.from('re: two'), hex('88 02 03 e8')]));
});

t.test('a protocol error after a message: the reply goes out before the failing Close', async (t) => {
  const [p] = make('server');
  p.receive(Buffer.concat([clientFrame(0x1, 'hi'), hex('81 00')]));
  const first = p.nextEvent();
  t.equal(first?.type, 'message');
  t.equal(p.state, ReadyState.OPEN, 'still open while the message is handled');
  p.send('re', false);
  t.equal(p.nextEvent()?.type, 'error');
  t.equal(p.state, ReadyState.CLOSING);
  t.equal(p.nextEvent()?.type, 'end');
  t.same(out(p), hex('81 02 72 65 88 02 03 ea'));
  p.send('late', false);
  p.discardEvents();
  t.equal(p.pendingEvents, 0);
});

t.test('end is asked for once, even when a failure follows the closing handshake', async (t) => {
  const [p, rec, read] = make('server');
  p.receive(clientFrame(0x8, hex('03e8')));
  read();
  p.fail(new WebSocketError('WS_ERR_TOO_SLOW', 'late', { side: 'remote', closeCode: 1008 }));
  read();
  t.same(rec.all, ['close', 'end']);
});

t.test('a fresh connection holds no event queue and no outbox: nothing to take until something is queued', async (t) => {
  const p = new Connection({ role: 'server' });
  t.equal(p.pendingEvents, 0, 'no events');
  t.equal(p.outgoingBytes, 0, 'no bytes');
  t.same(p.takeOutgoing(), [], 'nothing to take');
  t.equal(p.nextEvent(), undefined, 'no event to take');
  p.refuse(503, 'busy');
  t.ok(p.outgoingBytes > 0, 'the refusal is queued');
  t.match(Buffer.concat(p.takeOutgoing()).toString('latin1'), /^HTTP\/1\.1 503 /, 'and taken');
  t.equal(p.outgoingBytes, 0, 'the outbox is empty again once taken');
});
