// simpatico-ws trace: a relay between real clients (ws, raw TCP) and real servers (simpatico-ws
// echo, raw TCP, TLS), printing the conversation while passing every byte on unchanged.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import WsWebSocket from 'ws';
import { main, type CliIO } from '../../src/cli.js';
import type { TraceEvent } from '../../src/learn/conversation.js';
import { TraceRelay } from '../../src/learn/relay.js';
import { within } from '../conformance/harness.js';
import { listen, next } from '../helpers.js';
import { client as clientFrame, hex } from '../frames/helpers.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

interface Running {
  lines: string[];
  errors: string[];
  url: string;
  stop: () => Promise<number>;
}

/** Runs `simpatico-ws ARGS` in-process until the test ends (or stop()); resolves once it printed its URL. */
async function start(t: Test, args: string[]): Promise<Running> {
  const abort = new AbortController();
  const lines: string[] = [];
  const errors: string[] = [];
  const io: CliIO = { out: (l) => lines.push(...l.split('\n')), err: (l) => errors.push(l), signal: abort.signal };
  const running = main(args, io);
  let stopped = false;
  const stop = (): Promise<number> => {
    stopped = true;
    abort.abort();
    return within(running, `${args[0]} to stop`);
  };
  t.teardown(() => (stopped ? undefined : stop()));
  const first = await within(
    (async () => {
      while (lines.length === 0) {
        if (errors.length > 0) throw new Error(errors.join('\n'));
        await new Promise((r) => setTimeout(r, 5));
      }
      return lines[0];
    })(),
    `${args[0]} to print its URL`,
  );
  const url = args.includes('--json') ? (JSON.parse(first) as { url: string }).url : first;
  return { lines, errors, url, stop };
}

/** Waits (bounded) until some line matches. */
async function until(lines: string[], pattern: RegExp, what: string): Promise<string> {
  return within(
    (async () => {
      for (;;) {
        const found = lines.find((l) => pattern.test(l));
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 5));
      }
    })(),
    what,
    10_000,
  );
}

/** The port of a URL. */
const portOf = (url: string): number => Number(new URL(url).port);

t.test('ws client ⇄ trace ⇄ simpatico-ws echo: heads, frames both ways, fragments, pings, close states', async (t) => {
  const echo = await start(t, ['echo', '--port', '0']);
  const trace = await start(t, ['trace', echo.url]);
  t.match(trace.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/, 'the first line is the relay URL');
  t.equal(trace.lines[1], `relaying every client to ${echo.url}, bytes unchanged; Ctrl-C stops`);

  const ws = new WsWebSocket(trace.url, { perMessageDeflate: false });
  await next(ws, 'open');
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  ws.on('message', (data: Buffer) => received.push(Buffer.from(data)));
  const echoed = (n: number): Promise<void> =>
    within(
      (async () => {
        while (received.length < n) await new Promise((r) => setTimeout(r, 5));
      })(),
      `${n} echoes`,
    );
  ws.send('Hello');
  sent.push(Buffer.from('Hello'));
  await echoed(1);
  // A fragmented message with a Ping between its fragments (§5.4 allows control frames there).
  ws.send('Hel', { fin: false });
  ws.ping('are you there?');
  ws.send('lo, fragments', { fin: true });
  sent.push(Buffer.from('Hello, fragments'));
  const binary = randomBytes(1000);
  ws.send(binary);
  sent.push(binary);
  await echoed(3);
  ws.close(1000, 'bye');
  const [code, reason] = await within(next<[number, Buffer]>(ws, 'close'), 'the close');
  t.same([code, String(reason)], [1000, 'bye']);
  t.equal(sha256(Buffer.concat(received)), sha256(Buffer.concat(sent)), 'every message came back unchanged');

  await until(trace.lines, /^#1 state CLOSING → CLOSED/, 'the CLOSED state');
  const L = trace.lines;
  const has = (pattern: RegExp, what: string): void => {
    t.ok(L.some((l) => pattern.test(l)), what);
  };
  has(/^#1 TCP connected from 127\.0\.0\.1:\d+, relayed to ws:\/\/127\.0\.0\.1:\d+\/ \(CONNECTING\)$/, 'the connection');
  has(/^#1 client → server {2}GET \/ HTTP\/1\.1$/, 'the request line');
  has(new RegExp(`^#1 client → server  Host: 127\\.0\\.0\\.1:${portOf(trace.url)}$`), 'the Host header as the client sent it (the relay\'s own address)');
  has(/^#1 client → server {2}Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==$/, 'the key');
  has(/^#1 server → client {2}HTTP\/1\.1 101 Switching Protocols$/, 'the status line');
  has(/^#1 server → client {2}Sec-WebSocket-Accept: /, 'the accept header');
  has(/^#1 Sec-WebSocket-Accept ✓ matches base64\(SHA-1\(key \+ GUID\)\) \(RFC 6455 §4\.2\.2\)$/, 'the accept key checked');
  has(/^#1 state CONNECTING → OPEN: 101 Switching Protocols/, 'OPEN');
  has(/^#1 client → server {2}Text FIN mask [0-9a-f]{8}, 5 bytes: "Hello"$/, 'a masked client frame');
  has(/^#1 server → client {2}Text FIN, 5 bytes: "Hello"$/, 'the unmasked echo');
  has(/^#1 client → server {2}Text \(fragment 1 of message 2\) mask [0-9a-f]{8}, 3 bytes: "Hel"$/, 'the first fragment');
  has(/^#1 client → server {2}Ping FIN mask [0-9a-f]{8}, 14 bytes: "are you there\?"$/, 'the Ping between fragments');
  has(/^#1 client → server {2}Continuation FIN \(fragment 2 of message 2, the last\) mask [0-9a-f]{8}, 13 bytes: "lo, fragments"$/, 'the last fragment');
  has(/^#1 client → server {2}message 2 reassembled: Text, 16 bytes in 2 fragments: "Hello, fragments"$/, 'the reassembled message');
  has(/^#1 server → client {2}Pong FIN, 14 bytes: "are you there\?"$/, 'the Pong');
  has(/^#1 client → server {2}Binary FIN mask [0-9a-f]{8}, 1000 bytes: ([0-9a-f]{2} ){7}[0-9a-f]{2} … 992 more bytes$/, 'a binary preview');
  has(/^#1 client → server {2}Close FIN mask [0-9a-f]{8}, 5 bytes: 1000 \(Normal Closure\) "bye"$/, 'the client\'s Close');
  has(/^#1 state OPEN → CLOSING by Close 1000 \(Normal Closure\) "bye": the client started the closing handshake \(§7\.1\.3\)/, 'CLOSING, and who started it');
  has(/^#1 server → client {2}Close FIN, 5 bytes: 1000 \(Normal Closure\) "bye"$/, 'the server\'s answer');
  has(/^#1 the server answered Close 1000 \(Normal Closure\) "bye": the closing handshake is complete \(§5\.5\.1\)$/, 'the handshake complete');
  has(/^#1 TCP: the server closed its side first \(FIN\), as RFC 6455 §7\.1\.1 advises$/, 'who closed TCP first');
  has(/^#1 state CLOSING → CLOSED: TCP closed after the closing handshake \(§7\.1\.4\); the server closed TCP first$/, 'CLOSED');
  const order = ['GET / HTTP/1.1', '101 Switching', 'CONNECTING → OPEN', 'OPEN → CLOSING', 'CLOSING → CLOSED'].map((s) => L.findIndex((l) => l.includes(s)));
  t.same([...order].sort((a, b) => a - b), order, 'in the order it happened');
  t.ok(L.every((l, i) => i < 2 || /^#1 /.test(l)), 'every line after the first two carries the connection number');
});

t.test('every byte arrives unchanged, both ways, in any chunking (raw TCP peers)', async (t) => {
  // The target: a raw TCP server that records everything and answers with canned bytes.
  const toClient = Buffer.concat([
    Buffer.from('HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: not checked by this peer\r\nX-Odd:  spaced   \r\n\r\n'),
    hex('01 03 48 65 6c 89 00 80 02 6c 6f'),
    hex('88 02 03 e8'),
  ]);
  const atServer: Buffer[] = [];
  const target = net.createServer({ allowHalfOpen: true }, (socket) => {
    let head = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (d) => {
      atServer.push(d);
      head = Buffer.concat([head, d]);
      if (!answered && head.includes('\r\n\r\n')) {
        answered = true;
        // Dribble the answer out in small pieces.
        for (let i = 0; i < toClient.length; i += 7) socket.write(toClient.subarray(i, i + 7));
      }
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.teardown(() => target.close());
  const trace = await start(t, ['trace', `ws://127.0.0.1:${(target.address() as net.AddressInfo).port}/raw?x=1`]);
  t.match(trace.url, /\/raw\?x=1$/, 'the relay URL keeps the target\'s path and query');

  // The client: an odd but valid request (lower-case names, a Host of its own), frames right behind it.
  const toServer = Buffer.concat([
    Buffer.from('GET /raw?x=1 HTTP/1.1\r\nhost: example.invalid\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n'),
    clientFrame({ opcode: 1, payload: 'before the answer' }),
    clientFrame({ opcode: 2, payload: randomBytes(3000) }),
    clientFrame({ opcode: 8, payload: hex('03 e8') }),
  ]);
  const socket = net.connect({ port: portOf(trace.url), host: '127.0.0.1', allowHalfOpen: true });
  const atClient: Buffer[] = [];
  socket.on('data', (d) => atClient.push(d));
  const ended = new Promise<void>((r) => socket.once('end', () => r()));
  await within(next(socket, 'connect'), 'the connection');
  for (let i = 0; i < toServer.length; ) {
    const n = 1 + Math.floor(Math.random() * 200);
    socket.write(toServer.subarray(i, i + n));
    i += n;
  }
  await within(
    (async () => {
      while (Buffer.concat(atClient).length < toClient.length) await new Promise((r) => setTimeout(r, 5));
    })(),
    'the answer',
  );
  socket.end();
  await within(ended, 'the server\'s FIN');
  t.equal(sha256(Buffer.concat(atServer)), sha256(toServer), 'the server received exactly what the client sent');
  t.equal(sha256(Buffer.concat(atClient)), sha256(toClient), 'the client received exactly what the server sent');
  await until(trace.lines, /state .* → CLOSED/, 'CLOSED');
  const L = trace.lines;
  t.ok(L.includes('#1 client → server  host: example.invalid'), 'the trace shows the Host the client sent, untouched');
  t.ok(L.includes('#1 server → client  X-Odd:  spaced   '), 'header lines as they were sent');
  t.ok(L.includes('#1 Sec-WebSocket-Accept ✗ should be s3pPLMBiTxaQ9kYGzzhZRbK+xOo=: the client must fail the connection (§4.1)'));
  t.ok(L.includes('#1 client → server  Text FIN mask 37fa213d, 17 bytes: "before the answer"'), 'frames sent before the 101 are decoded once it came');
  t.ok(L.some((l) => l.startsWith('#1 server → client  message 1 reassembled: Text, 5 bytes in 2 fragments: "Hello"')));
  t.ok(L.includes('#1 TCP: the client closed its side first (FIN); §7.1.1 has the server close first, so that the server holds TIME_WAIT'));
});

t.test('--json: one JSON object per event and line', async (t) => {
  const echo = await start(t, ['echo', '--port', '0']);
  const trace = await start(t, ['trace', echo.url, '--json']);
  const ws = new WsWebSocket(trace.url);
  await next(ws, 'open');
  ws.send('one', { fin: false });
  ws.send('two', { fin: true });
  await next(ws, 'message');
  ws.close(4000, 'done');
  await within(next(ws, 'close'), 'the close');
  await until(trace.lines, /"to":"CLOSED"/, 'CLOSED');
  const events = trace.lines.map((l) => JSON.parse(l) as TraceEvent);
  t.match(events[0], { event: 'listening', url: trace.url, target: echo.url });
  const kinds = new Set(events.map((e) => e.event));
  for (const kind of ['connection', 'request', 'response', 'state', 'frame', 'message', 'close-answered', 'tcp']) t.ok(kinds.has(kind as never), kind);
  t.match(events.find((e) => e.event === 'response'), { conn: 1, status: 101, accept: { ok: true } });
  t.match(
    events.filter((e) => e.event === 'message'),
    [
      { from: 'client', type: 'Text', frames: 2, length: 6, text: 'onetwo' },
      { from: 'server', type: 'Text', frames: 1, length: 6, text: 'onetwo' },
    ],
  );
  t.match(events.find((e) => e.event === 'frame' && e.close !== undefined), { from: 'client', masked: true, close: { code: 4000, reason: 'done' } });
  t.same(
    events.filter((e) => e.event === 'state').map((e) => (e as { to: string }).to),
    ['OPEN', 'CLOSING', 'CLOSED'],
  );
});

t.test('an 8 MiB message is relayed intact while the tracer holds a bounded number of bytes', async (t) => {
  const server = await listen(t, { maxPayload: 32 * 1024 * 1024 });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const events: TraceEvent[] = [];
  const relay = new TraceRelay({ target: server.url }, (e) => events.push(e));
  await relay.ready;
  t.teardown(() => relay.close());
  const ws = new WsWebSocket(relay.url, { maxPayload: 32 * 1024 * 1024 });
  await next(ws, 'open');
  const big = randomBytes(8 * 1024 * 1024);
  ws.send(big);
  const [echoed] = await within(next<[Buffer]>(ws, 'message'), 'the 8 MiB echo', 60_000);
  t.equal(sha256(echoed), sha256(big), '8 MiB came back unchanged');
  // Once more as four fragments of 2 MiB: reassembled in the trace by count, never by holding it.
  for (let i = 0; i < 4; i++) ws.send(big.subarray(i * 2 ** 21, (i + 1) * 2 ** 21), { fin: i === 3 });
  const [again] = await within(next<[Buffer]>(ws, 'message'), 'the fragmented echo', 60_000);
  t.equal(sha256(again), sha256(big));
  ws.close();
  await within(next(ws, 'close'), 'the close');
  const messages = events.filter((e) => e.event === 'message');
  t.match(messages, [
    { from: 'client', frames: 1, length: 8388608 },
    { from: 'server', frames: 1, length: 8388608 },
    { from: 'client', frames: 4, length: 8388608, preview: big.subarray(0, 64).toString('hex') },
    { from: 'server', frames: 1, length: 8388608 },
  ]);
  t.ok(relay.stats.maxHeldBytes <= 16 * 1024, `the conversations held at most ${relay.stats.maxHeldBytes} bytes`);
  t.ok(relay.stats.maxQueuedBytes <= 1024 * 1024, `a socket queued at most ${relay.stats.maxQueuedBytes} bytes (backpressure)`);
});

t.test('several clients at once, each line with its connection number', async (t) => {
  const echo = await start(t, ['echo', '--port', '0']);
  const trace = await start(t, ['trace', echo.url]);
  const clients = [new WsWebSocket(trace.url), new WsWebSocket(trace.url)];
  await Promise.all(clients.map((c) => next(c, 'open')));
  clients.forEach((c, i) => c.send(`from ${i}`));
  await Promise.all(clients.map((c) => next(c, 'message')));
  clients.forEach((c) => c.close());
  await Promise.all(clients.map((c) => within(next(c, 'close'), 'a close')));
  await until(trace.lines, /^#1 state CLOSING → CLOSED/, '#1 closed');
  await until(trace.lines, /^#2 state CLOSING → CLOSED/, '#2 closed');
  for (const n of [1, 2]) {
    t.ok(trace.lines.some((l) => new RegExp(`^#${n} client → server  Text FIN mask [0-9a-f]{8}, 6 bytes: "from [01]"$`).test(l)), `#${n}'s message`);
  }
});

t.test('a broken rule on the wire: the violation, the server\'s Close, and an unanswered close', async (t) => {
  const echo = await start(t, ['echo', '--port', '0']);
  const trace = await start(t, ['trace', echo.url]);
  const socket = net.connect({ port: portOf(trace.url), host: '127.0.0.1' });
  socket.on('error', () => {});
  await within(next(socket, 'connect'), 'the connection');
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await until(trace.lines, /CONNECTING → OPEN/, 'OPEN');
  socket.write(hex('81 02 68 69')); // unmasked: a server must fail it
  await until(trace.lines, /^#1 server → client {2}Close/, 'the server\'s Close');
  socket.end(); // without answering it
  await until(trace.lines, /→ CLOSED/, 'CLOSED');
  const L = trace.lines;
  t.ok(L.some((l) => /^#1 client → server {2}✗ frame 1: Unmasked frame from a client: a server must fail it \(RFC 6455 §5\.1\)\. The server must fail the connection with 1002 \(WS_ERR_EXPECTED_MASK\); not decoded further \(§7\.1\.7\)$/.test(l)), 'the violation');
  t.ok(L.some((l) => /^#1 server → client {2}Close FIN, \d+ bytes: 1002 \(Protocol Error\)/.test(l)), 'the server fails it with 1002');
  t.ok(L.some((l) => /^#1 state OPEN → CLOSING by Close 1002 \(Protocol Error\)/.test(l)));
  t.ok(L.some((l) => /^#1 state CLOSING → CLOSED: TCP closed before the Close was answered: 1006 Abnormal Closure/.test(l)));
});

t.test('a refused handshake (404) and a client that resets', async (t) => {
  const server = await listen(t, { path: '/only' });
  const trace = await start(t, ['trace', server.url]);
  const wrong = new WsWebSocket(trace.url.replace('/only', '/other'));
  wrong.on('error', () => {});
  const [, response] = await within(next<[unknown, { statusCode: number }]>(wrong, 'unexpected-response'), 'the 404');
  t.equal(response.statusCode, 404);
  wrong.terminate();
  await until(trace.lines, /^#1 state CONNECTING → CLOSED: the handshake was refused \(404\): no WebSocket connection/, 'CLOSED after 404');
  t.ok(trace.lines.includes('#1 server → client  HTTP/1.1 404 Not Found'));

  const right = new WsWebSocket(trace.url);
  await next(right, 'open');
  right.terminate(); // no Close: TCP just ends
  await until(trace.lines, /^#2 state OPEN → CLOSED/, 'CLOSED without a closing handshake');
  t.ok(trace.lines.some((l) => /^#2 state OPEN → CLOSED: TCP closed without a closing handshake: 1006 Abnormal Closure \(§7\.1\.5\); the client closed TCP first$/.test(l)));
});

t.test('a reset on either side is passed on and reported', async (t) => {
  // The server resets right after its 101.
  const target = net.createServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n', () =>
        setTimeout(() => socket.resetAndDestroy(), 20),
      );
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.teardown(() => target.close());
  const trace = await start(t, ['trace', `ws://127.0.0.1:${(target.address() as net.AddressInfo).port}/`]);
  const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const first = net.connect({ port: portOf(trace.url), host: '127.0.0.1' });
  first.on('error', () => {});
  const closedFirst = new Promise((r) => first.once('close', r));
  first.resume(); // read (and drop) the 101, so that the end is seen
  first.write(request);
  await until(trace.lines, /^#1 state OPEN → CLOSED/, 'CLOSED after the server reset');
  t.ok(trace.lines.includes("#1 TCP: the server's side was reset or broke first"));
  await within(closedFirst, 'the client to be dropped too');

  // The client resets while open.
  const second = net.connect({ port: portOf(trace.url), host: '127.0.0.1' });
  second.on('error', () => {});
  second.write(request);
  await until(trace.lines, /^#2 state CONNECTING → OPEN/, 'OPEN');
  second.resetAndDestroy();
  await until(trace.lines, /^#2 state OPEN → CLOSED/, 'CLOSED after the client reset');
  t.ok(trace.lines.some((l) => /^#2 TCP: the (client's side was reset or broke|server's side was reset or broke) first$/.test(l)), 'the reset');
});

t.test('a target that is down: the client gets 502 and closes, the trace prints one line', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const trace = await start(t, ['trace', `ws://127.0.0.1:${port}/`]);
  const ws = new WsWebSocket(trace.url);
  ws.on('error', () => {});
  const [, response] = await within(next<[unknown, { statusCode: number }]>(ws, 'unexpected-response'), 'the 502');
  t.equal(response.statusCode, 502);
  ws.terminate();
  await until(trace.lines, /^#1 /, 'the line');
  await new Promise((r) => setTimeout(r, 100));
  const lines = trace.lines.slice(2);
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], new RegExp(`^#1 cannot reach ws://127\\.0\\.0\\.1:${port}/ \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\): answered the client 502 and closed it$`));
});

t.test('a wss:// target: TLS to the target only, trusted with --ca', async (t) => {
  const tls = { key: readFileSync('test/fixtures/key.pem'), cert: readFileSync('test/fixtures/cert.pem') };
  const server = await listen(t, { tls });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  t.match(server.url, /^wss:/);
  const trace = await start(t, ['trace', server.url, '--ca', 'test/fixtures/cert.pem']);
  t.match(trace.url, /^ws:\/\//, 'clients speak plain ws:// to the relay');
  const ws = new WsWebSocket(trace.url);
  await next(ws, 'open');
  ws.send('over TLS');
  const [data] = await within(next<[Buffer]>(ws, 'message'), 'the echo');
  t.equal(String(data), 'over TLS');
  ws.close();
  await within(next(ws, 'close'), 'the close');
  await until(trace.lines, /→ CLOSED/, 'CLOSED');
  t.ok(trace.lines.includes('#1 server → client  Text FIN, 8 bytes: "over TLS"'));

  // By name: the relay sends it as the TLS server name (SNI, RFC 6066 §3) and checks the certificate against it.
  const byName = await start(t, ['trace', server.url.replace('127.0.0.1', 'localhost'), '--ca', 'test/fixtures/cert.pem']);
  const named = new WsWebSocket(byName.url);
  await next(named, 'open');
  named.close();
  await within(next(named, 'close'), 'the close');

  // Without --ca the self-signed certificate is refused: the target is unreachable.
  const untrusted = await start(t, ['trace', server.url]);
  const refused = new WsWebSocket(untrusted.url);
  refused.on('error', () => {});
  const [, response] = await within(next<[unknown, { statusCode: number }]>(refused, 'unexpected-response'), 'the 502');
  t.equal(response.statusCode, 502);
  refused.terminate();
  t.match(await until(untrusted.lines, /^#1 /, 'the line'), /^#1 cannot reach wss:\/\/127\.0\.0\.1:\d+\/ \(self[- ]signed certificate\): answered the client 502/);
});

t.test('usage: bad targets and options are one line and exit status 2; a busy port is 1', async (t) => {
  const io = (): CliIO & { lines: string[]; errors: string[] } => {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
  };
  const cases: [string[], RegExp][] = [
    [['trace'], /^Usage: simpatico-ws trace TARGET/],
    [['trace', 'ws://a/', 'ws://b/'], /^Usage/],
    [['trace', 'http://127.0.0.1/'], /TARGET must be a ws:\/\/ or wss:\/\/ URL, not 'http:\/\/127\.0\.0\.1\/'/],
    [['trace', 'ws://127.0.0.1/#frag'], /TARGET: a WebSocket URL has no fragment/],
    [['trace', 'ws://127.0.0.1/', '--port', '70000'], /--port must be a whole number from 0 to 65535, not '70000'/],
    [['trace', 'ws://127.0.0.1/', '--ca', 'no/such/file.pem'], /cannot read --ca no\/such\/file\.pem: ENOENT/],
    [['trace', 'ws://127.0.0.1/', '--colour'], /Unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    const out = io();
    t.equal(await main(args, out), 2, args.join(' '));
    t.equal(out.errors.length, 1);
    t.match(out.errors[0], message);
  }
  const help = io();
  t.equal(await main(['trace', '--help'], help), 0);
  t.match(help.lines[0], /not even the Host header/);
  t.same(help.lines[0].split('\n').filter((l) => l.length > 80), [], 'the help fits 80 columns');
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => busy.close());
  const inUse = io();
  t.equal(await main(['trace', 'ws://127.0.0.1:1/', '--port', String((busy.address() as net.AddressInfo).port)], inUse), 1);
  t.match(inUse.errors, [/^simpatico-ws trace: listen EADDRINUSE/]);
  t.throws(() => new TraceRelay({ target: 'ws://127.0.0.1/', port: -1 }, () => {}), { code: 'WS_ERR_INVALID_OPTION', message: /option port must be a whole number from 0 to 65535/ });
});

t.test('--host: an IPv6 address is printed in brackets', async (t) => {
  const trace = await start(t, ['trace', 'ws://127.0.0.1:1/', '--host', '::1']);
  t.match(trace.url, /^ws:\/\/\[::1\]:\d+\/$/);
});

t.test('the program itself: prints its URL first and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'trace', 'ws://127.0.0.1:1/'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await within(
    new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve();
      }),
    ),
    'the URL',
    60_000,
  );
  t.match(out, /^ws:\/\/127\.0\.0\.1:\d+\/\n/);
  child.kill('SIGTERM');
  const [code] = await within(next<[number]>(child, 'exit'), 'the exit');
  t.equal(code, 0);
});
