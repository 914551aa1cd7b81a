// Issue 14: "change `from 'ws'` to `from 'simpatico-ws'` and run what they have". Each pattern
// is a usage ws documents (its README's examples, its FAQ, its examples/ folder, the API points of
// its doc/ws.md), written here as a small program of our own in test/ws-patterns/programs/, run in a
// child process against the packed, installed package — imported (esm) and required (cjs) — and
// against ws itself, talking to a real ws peer: a ws server for a client pattern, ws clients for a
// server pattern. A pattern where we differ from ws on purpose is written the way the README's
// "Coming from ws" tells a ws user to adapt it, and says so (`adapted`); its ws run shows ws's side.
// The package is packed once for this file; every child has CHILD_TIMEOUT.
import t, { type Test } from 'tap';
import * as net from 'node:net';
import * as http from 'node:http';
import * as https from 'node:https';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPacked, REPO } from '../package/install.js';
import { CHILD_TIMEOUT, closed, linkWs, messages, nextMessage, refusal, runProgram, wsClient, wsServer, writeVariant, type Program, type Variant } from './harness.js';
import WsWebSocket, { WebSocketServer as WsServer } from 'ws';

const CERT = join(REPO, 'test/fixtures/cert.pem');
const KEY = join(REPO, 'test/fixtures/key.pem');
const CA = readFileSync(CERT);

/** What a pattern's check is given. */
interface Context {
  variant: Variant;
  /** Starts the program with these environment variables. */
  start(env?: Record<string, string>): Program;
  /** Starts a server program and waits for its `listening PORT` line. */
  listen(env?: Record<string, string>): Promise<{ program: Program; port: number; url: string }>;
}

interface Pattern {
  /** Its program: test/ws-patterns/programs/NAME.js */
  name: string;
  /** Where ws documents it. */
  from: string;
  /** How the program differs from ws's own text because we differ on purpose (see README, Coming from ws). */
  adapted?: string;
  /** The variants it runs in (all three unless said), with the reason for any left out. */
  only?: { variants: Variant[]; why: string };
  check(t: Test, c: Context): Promise<void>;
}

/** Runs a client program to its end against a ws server; returns its stdout lines. */
async function runToEnd(t: Test, program: Program): Promise<string[]> {
  const { code, signal } = await program.exited;
  t.equal(code, 0, `exits 0 (signal ${signal}); stderr: ${program.stderr()}`);
  return program.lines();
}

/** Stops a server program; returns its stdout lines after `listening`. */
async function stopped(program: Program): Promise<string[]> {
  await program.stop();
  return program.lines().slice(1);
}

/** ws and we differ on purpose here; what each side prints. */
const family = (v: Variant): 'ours' | 'ws' => (v.startsWith('ws') ? 'ws' : 'ours');
const EXPECTED = {
  // `extensions` is the agreed Sec-WebSocket-Extensions value here (as the browser's WebSocket
  // gives it); ws gives the extensions' names only.
  compressionServerSide: {
    ours: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
    ws: 'permessage-deflate',
  },
  // perMessageDeflate: true is the memory-bounded mode here (no context takeover); ws's keeps context.
  compressionTrue: { ours: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', ws: 'permessage-deflate' },
  // ws emits 'error' when terminate() ends a handshake the server already refused; here the refusal
  // was the end ('unexpected-response' replaced the 'error'), and terminate() has nothing to abort.
  unexpectedResponse: { ours: ['refused 503 /, retry after 7', 'closed 1006'], ws: ['refused 503 /, retry after 7', 'error event', 'closed 1006'] },
};

/** A ws echo server over TLS with the test certificate; its wss:// URL. */
async function wssEcho(t: Test): Promise<string> {
  const server = https.createServer({ cert: CA, key: readFileSync(KEY) });
  const wss = new WsServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), server.close(() => r()))));
  return `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

/** Waits (at most 5 s, polling every 10 ms) for what a peer records after the program has ended. */
async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

const PATTERNS: Pattern[] = [
  // ---- ws's README: usage examples -------------------------------------------------------------
  {
    name: 'client-text',
    from: 'README: Sending and receiving text data',
    async check(t, c) {
      const peer = await wsServer((ws) =>
        ws.on('message', (data) => {
          ws.send(`echo ${data}`);
          ws.close(1000);
        }),
      );
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['received: echo something', 'closed 1000']);
    },
  },
  {
    name: 'client-binary',
    from: 'README: Sending binary data',
    async check(t, c) {
      const seen: string[] = [];
      const peer = await wsServer((ws) =>
        ws.on('message', (data, isBinary) => {
          const b = data as Buffer;
          seen.push(`${isBinary} ${b.length} ${[...new Float32Array(new Uint8Array(b).buffer)].join(',')}`);
          ws.send('got it');
        }),
      );
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['reply got it binary=false']);
      t.same(seen, ['true 20 0,0.5,1,1.5,2'], 'one binary message of the 20 bytes of five float32s');
    },
  },
  {
    name: 'simple-server',
    from: 'README: Simple server',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url);
      t.equal(await nextMessage(ws), 'something');
      ws.send('hello');
      await program.waitFor(/received: hello/);
      ws.close();
      await closed(ws);
      t.same(await stopped(program), ['received: hello']);
    },
  },
  {
    name: 'external-https',
    from: 'README: External HTTP/S server',
    async check(t, c) {
      const { program, port } = await c.listen({ CERT, KEY });
      const ws = await wsClient(`wss://127.0.0.1:${port}/`, { ca: CA });
      t.equal(await nextMessage(ws), 'something secure');
      ws.send('over tls');
      await program.waitFor(/received: over tls/);
      ws.close();
      await closed(ws);
      t.same(await stopped(program), ['received: over tls']);
    },
  },
  {
    name: 'external-http',
    from: 'doc/ws.md: options.server',
    only: { variants: ['esm', 'cjs', 'ws-cjs'], why: "ws's ES module wrapper has no WebSocket.Server: ws users write this one with require" },
    async check(t, c) {
      const { program, port, url } = await c.listen();
      const page = await fetch(`http://127.0.0.1:${port}/index`);
      t.equal(await page.text(), 'a page at /index', "the http server's own requests stay its own");
      const ws = await wsClient(`${url}chat?room=1`);
      t.equal(await nextMessage(ws), 'socket at /chat?room=1');
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'multiple-servers',
    from: 'README: Multiple servers sharing a single HTTP/S server',
    async check(t, c) {
      const { program, url } = await c.listen();
      const foo = await wsClient(`${url}foo`);
      const bar = await wsClient(`${url}bar?x=1`);
      t.equal(await nextMessage(foo), 'this is foo');
      t.equal(await nextMessage(bar), 'this is bar');
      t.match(await refusal(`${url}baz`), /^error socket hang up/, 'another path: the socket is destroyed');
      foo.close();
      bar.close();
      await Promise.all([closed(foo), closed(bar)]);
      t.same(await stopped(program), ['no server for /baz']);
    },
  },
  {
    name: 'client-auth',
    from: 'README: Client authentication',
    async check(t, c) {
      const { program, url } = await c.listen();
      t.equal(await refusal(url, { headers: { authorization: 'Bearer wrong' } }), 'status 401');
      const ws = await wsClient(url, { headers: { authorization: 'Bearer token-of-ada' } });
      ws.send('hi');
      t.equal(await nextMessage(ws), 'hello ada');
      ws.close();
      await closed(ws);
      t.same(await stopped(program), ['refused', 'Received message hi from user ada']);
    },
  },
  {
    name: 'broadcast-all',
    from: 'README: Server broadcast (to all)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const clients = await Promise.all([wsClient(url), wsClient(url), wsClient(url)]);
      const got = Promise.all(clients.map((ws) => messages(ws, 2)));
      clients[0].send('to everyone');
      clients[1].send(Buffer.from([1, 2, 3]));
      t.same(
        (await got).map((m) => m.sort()),
        [0, 1, 2].map(() => ['bin:010203', 'to everyone']),
        'every client, the senders included, gets both, text as text and binary as binary',
      );
      for (const ws of clients) ws.close();
      await Promise.all(clients.map(closed));
      await stopped(program);
    },
  },
  {
    name: 'broadcast-others',
    from: 'README: Server broadcast (to others)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const [a, b, d] = await Promise.all([wsClient(url), wsClient(url), wsClient(url)]);
      const others = Promise.all([nextMessage(b), nextMessage(d)]);
      a.send('from a');
      t.same(await others, ['from a', 'from a']);
      // The sender's next message to itself would have come before b's: it got nothing.
      const back = nextMessage(a);
      b.send('from b');
      t.equal(await back, 'from b', 'the sender did not get its own message: the next one it got is b\'s');
      for (const ws of [a, b, d]) ws.close();
      await Promise.all([a, b, d].map(closed));
      await stopped(program);
    },
  },
  {
    name: 'round-trip',
    from: 'README: Round-trip time',
    async check(t, c) {
      const seen: string[] = [];
      const peer = await wsServer((ws) =>
        ws.on('message', (data, isBinary) => {
          seen.push(`${isBinary ? 'binary' : 'text'} ${/^\d{13}$/.test(String(data))}`);
          ws.send(data, { binary: isBinary });
        }),
      );
      t.teardown(peer.close);
      const lines = await runToEnd(t, c.start({ URL: peer.url }));
      t.same(lines, ['connected', ...Array(3).fill('Round-trip time: measured ms'), 'disconnected']);
      t.same(seen, Array(3).fill('text true'), 'a number is sent as its decimal text, as ws sends it');
    },
  },
  {
    name: 'stream-stdio',
    from: 'README: Use the Node.js streams API',
    async check(t, c) {
      const peer = await wsServer((ws) => ws.on('message', (data) => ws.send(String(data).toUpperCase())));
      t.teardown(peer.close);
      const program = c.start({ URL: peer.url });
      program.stdin.write('shout this\n');
      await program.waitFor(/SHOUT THIS/);
      program.stdin.end();
      t.same(await runToEnd(t, program), ['SHOUT THIS'], 'stdin ended: the stream ends, the connection closes, the program exits');
    },
  },
  {
    name: 'stream-server',
    from: 'doc/ws.md: createWebSocketStream',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url);
      const back = messages(ws, 2);
      ws.send('one');
      ws.send('two');
      t.same(await back, ['bin:6f6e65', 'bin:74776f'], 'written back as binary, as a Buffer written to the stream is');
      ws.close();
      t.equal((await closed(ws))[0], 1005);
      await program.waitFor(/stream ended/);
      await stopped(program);
    },
  },
  // ---- ws's FAQ --------------------------------------------------------------------------------
  {
    name: 'client-ip',
    from: 'README FAQ: How to get the IP address of the client?',
    async check(t, c) {
      const { program, url } = await c.listen();
      // ws listens on every interface (::) unless told a host, so an IPv4 peer is IPv4-mapped there;
      // this server listens on 127.0.0.1 unless told otherwise.
      const ip = c.variant.startsWith('ws') ? '::ffff:127.0.0.1' : '127.0.0.1';
      const direct = await wsClient(url);
      t.equal(await nextMessage(direct), `socket ${ip} client ${ip}`);
      const proxied = await wsClient(url, { headers: { 'X-Forwarded-For': ' 203.0.113.7 , 10.0.0.1' } });
      t.equal(await nextMessage(proxied), `socket ${ip} client 203.0.113.7`);
      direct.close();
      proxied.close();
      await Promise.all([closed(direct), closed(proxied)]);
      await stopped(program);
    },
  },
  {
    name: 'heartbeat-server',
    from: 'README FAQ: How to detect and close broken connections? (server)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const alive = await wsClient(`${url}alive`);
      const silent = await wsClient(`${url}silent`, { autoPong: false });
      let alivePings = 0;
      alive.on('ping', () => alivePings++);
      t.equal((await closed(silent))[0], 1006, 'the client that does not answer pings is terminated');
      t.ok(alivePings >= 1, 'the other is pinged too');
      t.equal(alive.readyState, WsWebSocket.OPEN, 'and stays open: its pongs answer');
      alive.close();
      await closed(alive);
      t.same(await stopped(program), ['terminating /silent']);
    },
  },
  {
    name: 'heartbeat-client',
    from: 'README FAQ: How to detect and close broken connections? (client)',
    async check(t, c) {
      const peer = await wsServer((ws) => {
        let n = 0;
        const timer = setInterval(() => {
          ws.ping();
          if (++n === 3) clearInterval(timer);
        }, 50);
        ws.on('close', () => clearInterval(timer));
      });
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['no ping for a while: terminating', 'pings 3, closed 1006']);
    },
  },
  // ---- compression (ws's README: WebSocket compression; doc/ws.md: perMessageDeflate) ------------
  {
    name: 'compression-server',
    from: 'README: WebSocket compression (the server options)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = new WsWebSocket(url);
      const agreed = new Promise<string>((resolve) => ws.once('upgrade', (res) => resolve(String(res.headers['sec-websocket-extensions']))));
      await new Promise((resolve) => ws.once('open', resolve));
      t.equal(await agreed, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10', 'what the server agreed to, as ws agrees');
      const big = 'a compressible line\n'.repeat(100);
      const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
      ws.send(big);
      t.equal(await echoed, big, 'a 2000-byte message round-trips compressed');
      ws.close();
      await closed(ws);
      t.same(await stopped(program), [`extensions: ${EXPECTED.compressionServerSide[family(c.variant)]}`]);
    },
  },
  {
    name: 'compression-true',
    from: 'doc/ws.md: options.perMessageDeflate = true (server)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = new WsWebSocket(url);
      const agreed = new Promise<string>((resolve) => ws.once('upgrade', (res) => resolve(String(res.headers['sec-websocket-extensions']))));
      await new Promise((resolve) => ws.once('open', resolve));
      // Ours is the memory-bounded mode (no context takeover either way); ws keeps context.
      t.equal(await agreed, EXPECTED.compressionTrue[family(c.variant)]);
      const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
      ws.send('x'.repeat(5000));
      t.equal(await echoed, 'x'.repeat(5000));
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'compression-client-off',
    from: 'README: WebSocket compression (a client that disables it)',
    async check(t, c) {
      const offers: string[] = [];
      const peer = await wsServer((_ws, req) => offers.push(String(req.headers['sec-websocket-extensions'])), { perMessageDeflate: true });
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['extensions: ""']);
      t.same(offers, ['undefined'], 'nothing offered');
    },
  },
  {
    name: 'compression-client-on',
    from: 'doc/ws.md: options.perMessageDeflate (client default)',
    async check(t, c) {
      const offers: string[] = [];
      const peer = await wsServer(
        (ws, req) => {
          offers.push(String(req.headers['sec-websocket-extensions']));
          ws.on('message', (data) => ws.send(data));
        },
        { perMessageDeflate: true },
      );
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['extensions: permessage-deflate', 'echoed 2600 characters']);
      t.same(offers, ['permessage-deflate; client_max_window_bits'], 'offered as browsers and ws offer it');
    },
  },
  // ---- ws's examples/ folder -------------------------------------------------------------------
  {
    name: 'server-stats',
    from: 'examples/server-stats',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url);
      const stats = (await messages(ws, 3)).map((m) => JSON.parse(m) as Record<string, number>);
      t.same(stats.map((s) => ['rss', 'heapTotal', 'heapUsed'].every((k) => Number.isInteger(s[k]))), [true, true, true], 'three JSON snapshots');
      ws.close();
      await closed(ws);
      await program.waitFor(/stopping client interval/);
      t.same(await stopped(program), ['started client interval', 'stopping client interval']);
    },
  },
  {
    name: 'session-auth',
    from: 'examples/express-session-parse (the session checked in the upgrade handler)',
    async check(t, c) {
      const { program, port, url } = await c.listen();
      t.equal(await refusal(url), 'status 401', 'no session: 401');
      const login = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' });
      t.same(await login.json(), { result: 'OK', message: 'Session updated' });
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const ws = await wsClient(url, { headers: { cookie } });
      ws.send('hi');
      t.equal(await nextMessage(ws), 'user-1, your sockets: 1');
      ws.close();
      await closed(ws);
      t.same(await stopped(program), ['Received message hi from user user-1']);
    },
  },
  {
    name: 'ssl-client',
    from: 'examples/ssl (a wss:// client trusting the certificate with ca)',
    async check(t, c) {
      const peer = await wssEcho(t);
      t.same(await runToEnd(t, c.start({ URL: peer, CERT })), ['received: All glory to WebSockets!']);
    },
  },
  {
    name: 'ssl-insecure',
    from: 'doc/ws.md: the https.request options (rejectUnauthorized)',
    async check(t, c) {
      const peer = await wssEcho(t);
      t.same(await runToEnd(t, c.start({ URL: peer.replace('127.0.0.1', 'localhost') })), ['received: unverified']);
    },
  },
  // ---- doc/ws.md: the server's options, events and methods -------------------------------------
  {
    name: 'verify-sync',
    from: 'doc/ws.md: options.verifyClient (one argument)',
    async check(t, c) {
      const { program, url } = await c.listen();
      t.equal(await refusal(url, { origin: 'https://evil.example' }), 'status 401');
      const ws = await wsClient(`${url}room`, { origin: 'https://app.example' });
      t.equal(await nextMessage(ws), 'welcome');
      ws.close();
      await closed(ws);
      t.same(await stopped(program), ['origin https://evil.example secure false path /', 'origin https://app.example secure false path /room']);
    },
  },
  {
    name: 'verify-async',
    from: 'doc/ws.md: options.verifyClient (info, callback)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const refused = new WsWebSocket(`${url}?key=wrong`);
      const [status, reason] = await new Promise<[number, string]>((resolve) =>
        refused.once('unexpected-response', (_req, res) => {
          resolve([res.statusCode!, String(res.headers['x-reason'])]);
          res.destroy();
        }),
      );
      refused.on('error', () => {});
      t.same([status, reason], [403, 'bad key'], "the callback's status and headers");
      const ws = await wsClient(`${url}?key=open-sesame`);
      t.equal(await nextMessage(ws), 'in');
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'handle-protocols',
    from: 'doc/ws.md: options.handleProtocols',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url, { protocols: ['chat.v1', 'chat.v2'] });
      t.equal(ws.protocol, 'chat.v2');
      t.equal(await nextMessage(ws), 'protocol "chat.v2"');
      const plain = await wsClient(url);
      t.equal(await nextMessage(plain), 'protocol ""', 'not called when nothing is offered');
      ws.close();
      plain.close();
      await Promise.all([closed(ws), closed(plain)]);
      t.same(await stopped(program), ['offered chat.v1 chat.v2 on /']);
    },
  },
  {
    name: 'path-option',
    from: 'doc/ws.md: options.path',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(`${url}chat?x=1`);
      t.equal(await nextMessage(ws), 'connected on /chat?x=1');
      // Another path: ws answers 400; this server 404 (Not Found says what is wrong).
      t.equal(await refusal(`${url}other`), c.variant.startsWith('ws') ? 'status 400' : 'status 404');
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'max-payload',
    from: 'doc/ws.md: options.maxPayload',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url);
      ws.send(Buffer.alloc(1024));
      ws.send(Buffer.alloc(1025));
      t.equal((await closed(ws))[0], 1009, 'the client is told: Message Too Big');
      await program.waitFor(/closed/);
      t.same(await stopped(program), ['got 1024 bytes', 'error: closing with 1009', `closed ${c.variant.startsWith('ws') ? 1006 : 1009}`]);
    },
  },
  {
    name: 'headers-event',
    from: "doc/ws.md: the server's 'headers' event",
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = new WsWebSocket(`${url}a/b`);
      const cookie = new Promise<unknown>((resolve) => ws.once('upgrade', (res) => resolve(res.headers['set-cookie'])));
      const hello = new Promise((resolve) => ws.once('message', resolve));
      t.same(await cookie, ['visited=%2Fa%2Fb']);
      await hello;
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'listen-error',
    from: "doc/ws.md: the server's 'error' event (a port in use)",
    async check(t, c) {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
      const port = (holder.address() as net.AddressInfo).port;
      t.same(await runToEnd(t, c.start({ PORT: String(port) })), ['error EADDRINUSE'], 'reported, and the process ends');
    },
  },
  {
    name: 'listening-callback',
    from: 'doc/ws.md: new WebSocketServer(options[, callback])',
    async check(t, c) {
      const { program, url } = await c.listen();
      const ws = await wsClient(url);
      t.equal(await nextMessage(ws), 'called back');
      ws.close();
      await closed(ws);
      await stopped(program);
    },
  },
  {
    name: 'graceful-close',
    from: 'doc/ws.md: server.close([callback]) and the clients set',
    async check(t, c) {
      const { program, url } = await c.listen();
      const a = await wsClient(url);
      await program.waitFor(/clients: 1/);
      const b = await wsClient(url);
      await program.waitFor(/clients: 2/);
      a.send('shutdown');
      t.same(await Promise.all([closed(a), closed(b)]), [[1001, 'going away'], [1001, 'going away']]);
      const { code } = await program.exited;
      t.equal(code, 0, 'nothing left running: the process ends');
      t.same(program.lines().slice(1), ['clients: 1', 'clients: 2', 'server closed']);
    },
  },
  {
    name: 'should-handle',
    from: 'doc/ws.md: server.shouldHandle(request)',
    async check(t, c) {
      const { program, url } = await c.listen();
      const chat = await wsClient(`${url}chat`);
      const feed = await wsClient(`${url}feed?since=1`);
      t.same([await nextMessage(chat), await nextMessage(feed)], ['you reached chat', 'you reached feed']);
      t.equal(await refusal(`${url}nothing`), 'status 404');
      chat.close();
      feed.close();
      await Promise.all([closed(chat), closed(feed)]);
      await stopped(program);
    },
  },
  {
    name: 'json-chat',
    from: "README: Server broadcast, with JSON messages and the 'close' event's code and reason",
    async check(t, c) {
      const { program, url } = await c.listen();
      const ada = await wsClient(`${url}?name=ada`);
      const bob = await wsClient(`${url}?name=bob`);
      const both = Promise.all([nextMessage(ada), nextMessage(bob)]);
      ada.send(JSON.stringify({ text: 'hi' }));
      t.same((await both).map((m) => JSON.parse(m)), [0, 1].map(() => ({ from: 'ada', text: 'hi', online: 2 })));
      bob.close(4000, 'later');
      await program.waitFor(/bob left/);
      ada.close();
      await program.waitFor(/ada left/);
      t.same(await stopped(program), ['bob left: 4000 later', 'ada left: 1005 ']);
    },
  },
  // ---- doc/ws.md: the client's options, events and methods -------------------------------------
  {
    name: 'client-protocols',
    from: 'doc/ws.md: new WebSocket(address, protocols); url, protocol, extensions',
    async check(t, c) {
      const peer = await wsServer(() => {});
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['url true protocol chat.v1 extensions ""']);
    },
  },
  {
    name: 'client-headers',
    from: 'doc/ws.md: options.headers, options.origin',
    async check(t, c) {
      const peer = await wsServer((ws, req) => ws.send([req.headers.authorization, req.headers['x-client'], req.headers.origin].join(' ')));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['server saw: Bearer abc pattern https://app.example']);
    },
  },
  {
    name: 'handshake-timeout',
    from: 'doc/ws.md: options.handshakeTimeout',
    async check(t, c) {
      const held: net.Socket[] = [];
      const silent = net.createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      t.teardown(() => new Promise<void>((r) => (held.forEach((s) => s.destroy()), silent.close(() => r()))));
      const url = `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
      t.same(await runToEnd(t, c.start({ URL: url })), ['error event', 'closed 1006']);
    },
  },
  {
    name: 'unexpected-response',
    from: "doc/ws.md: the 'unexpected-response' event",
    async check(t, c) {
      const refuser = http.createServer();
      refuser.on('upgrade', (_req, socket: net.Socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n'));
      await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
      t.teardown(() => new Promise<void>((r) => refuser.close(() => r())));
      const url = `ws://127.0.0.1:${(refuser.address() as net.AddressInfo).port}/`;
      t.same(await runToEnd(t, c.start({ URL: url })), EXPECTED.unexpectedResponse[family(c.variant)]);
    },
  },
  {
    name: 'upgrade-event',
    from: "doc/ws.md: the client's 'upgrade' event",
    async check(t, c) {
      const peer = await wsServer(() => {});
      peer.server.on('headers', (headers) => headers.push('Set-Cookie: a=1', 'Set-Cookie: b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT'));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['status 101 cookies a=1 | b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT']);
    },
  },
  {
    name: 'client-ping-pong',
    from: "doc/ws.md: ping(), the 'ping' and 'pong' events",
    async check(t, c) {
      const seen: string[] = [];
      const peer = await wsServer((ws) => {
        ws.on('pong', (data) => seen.push(`pong ${data}`));
        ws.on('ping', (data) => {
          seen.push(`ping ${data}`);
          ws.send('done');
        });
        ws.ping('hb');
      });
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['ping hb', 'pong are you there', 'message done']);
      t.same(seen.sort(), ['ping are you there', 'pong hb'], 'the Ping was answered automatically, with its payload');
    },
  },
  {
    name: 'close-codes',
    from: "doc/ws.md: close(code, reason), the 'close' event",
    async check(t, c) {
      const seen: string[] = [];
      const peer = await wsServer((ws, req) => {
        if (req.url === '/they-close') ws.close(4001, 'server says bye');
        ws.on('close', (code, reason) => seen.push(`${req.url} ${code} ${reason}`));
      });
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['we closed: 4000 bye now', 'they closed: 4001 server says bye']);
      await waitUntil(() => seen.length === 2);
      t.same(seen.sort(), ['/they-close 4001 server says bye', '/we-close 4000 bye now']);
    },
  },
  {
    name: 'terminate',
    from: 'doc/ws.md: terminate()',
    async check(t, c) {
      const codes: number[] = [];
      const peer = await wsServer((ws) => ws.on('close', (code) => codes.push(code)));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['closed 1006']);
      await waitUntil(() => codes.length === 1);
      t.same(codes, [1006], 'no closing handshake: the server sees 1006 too');
    },
  },
  {
    name: 'send-callback',
    from: 'doc/ws.md: send(data[, options][, callback])',
    async check(t, c) {
      const peer = await wsServer(() => {});
      t.teardown(peer.close);
      t.same((await runToEnd(t, c.start({ URL: peer.url }))).sort(), ['first: written', 'too late: error']);
    },
  },
  {
    name: 'send-options',
    from: 'doc/ws.md: send options binary, fin, compress, mask',
    async check(t, c) {
      const seen: string[] = [];
      const peer = await wsServer((ws) =>
        ws.on('message', (data, isBinary) => {
          seen.push(`${isBinary ? 'binary' : 'text'} ${data}`);
          if (seen.length === 2) ws.send('done');
        }),
      );
      t.teardown(peer.close);
      await runToEnd(t, c.start({ URL: peer.url }));
      t.same(seen, ['text fragmented', 'binary as bytes'], 'three fragments make one message');
    },
  },
  {
    name: 'binary-type',
    from: 'doc/ws.md: binaryType',
    async check(t, c) {
      const peer = await wsServer((ws) => ws.on('message', () => ws.send(Buffer.from([1, 2, 3, 4]))));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), [
        'nodebuffer: Buffer of 4 bytes, binary true',
        'arraybuffer: ArrayBuffer of 4 bytes, binary true',
        'fragments: Buffer[] of 4 bytes, binary true',
      ]);
    },
  },
  {
    name: 'ready-states',
    from: 'doc/ws.md: readyState, WebSocket.CONNECTING … CLOSED',
    async check(t, c) {
      const peer = await wsServer(() => {});
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), [
        'made: CONNECTING (0 = WebSocket.CONNECTING 0)',
        'open: OPEN true',
        'after close(): CLOSING true',
        'close: CLOSED true',
      ]);
    },
  },
  {
    name: 'pause-resume',
    from: 'doc/ws.md: pause(), resume(), isPaused',
    async check(t, c) {
      const peer = await wsServer((ws) => ws.on('message', () => ['a', 'b', 'c'].forEach((m) => ws.send(m))));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['paused true', 'while paused: 0 messages', 'paused false', 'after resume: 3 messages']);
    },
  },
  {
    name: 'event-target',
    from: 'doc/ws.md: addEventListener, onopen, onmessage, onclose, onerror',
    async check(t, c) {
      const peer = await wsServer((ws) => ws.on('message', () => (ws.send('first'), ws.send('second'))));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['open', 'once: first', 'message: first', 'message: second', 'close 1000 done clean=true']);
    },
  },
  {
    name: 'reconnect',
    from: "README FAQ: broken connections — a client that reconnects on 'close'",
    async check(t, c) {
      let connections = 0;
      const peer = await wsServer((ws) => (++connections === 1 ? ws.close(1012, 'restarting') : ws.send('stay')));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['connected, attempt 1', 'closed 1012', 'connected, attempt 2', 'message stay', 'closed 1005']);
    },
  },
  {
    name: 'connect-refused',
    from: "doc/ws.md: the client's 'error' event when the connection fails",
    adapted: "ws's error is Node's (err.code ECONNREFUSED); ours is a WebSocketError (code WS_ERR_CONNECT) whose cause is Node's: read (err.cause ?? err).code",
    async check(t, c) {
      const gone = net.createServer();
      await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
      const port = (gone.address() as net.AddressInfo).port;
      await new Promise<void>((r) => gone.close(() => r()));
      t.same(await runToEnd(t, c.start({ URL: `ws://127.0.0.1:${port}/` })), ['error ECONNREFUSED', 'closed 1006']);
    },
  },
  {
    name: 'text-as-buffer',
    from: "doc/ws.md: the 'message' event's data (text as a Buffer)",
    adapted: 'text arrives as a string here; code that needs Buffers (Buffer.concat, byte lengths) passes textAsBuffer: true',
    async check(t, c) {
      const peer = await wsServer((ws) => ws.on('message', () => (ws.send('héllo'), ws.send(' wörld'))));
      t.teardown(peer.close);
      t.same(await runToEnd(t, c.start({ URL: peer.url })), ['13 bytes, binary false: héllo wörld']);
    },
  },
];

// Some 150 child processes, mostly waiting on sockets: four patterns at a time.
t.setTimeout(300_000);

t.test('ws patterns, against the packed package and against ws', async (t) => {
  t.jobs = 4;
  const { dir } = await installPacked(t);
  linkWs(dir);
  t.ok(PATTERNS.length >= 46, `${PATTERNS.length} patterns (issue 14 measured 46)`);
  t.match(readFileSync(join(REPO, 'README.md'), 'utf8'), `runs ${PATTERNS.length} of ws's documented usages`, "README's Coming from ws gives the count");
  t.same(PATTERNS.map((p) => p.name).filter((n, i, all) => all.indexOf(n) !== i), [], 'each program once');
  t.same(readdirSync(join(REPO, 'test/ws-patterns/programs')).sort(), PATTERNS.map((p) => `${p.name}.js`).sort(), 'every program is run');
  for (const pattern of PATTERNS) {
    const variants = pattern.only?.variants ?? (['esm', 'cjs', 'ws'] as Variant[]);
    t.test(`${pattern.name} (${pattern.from})${pattern.adapted === undefined ? '' : ` — adapted: ${pattern.adapted}`}`, async (t) => {
      if (pattern.only !== undefined) t.comment(`runs as ${variants.join(', ')} only: ${pattern.only.why}`);
      for (const variant of variants) {
        await t.test(variant, async (t) => {
          const file = writeVariant(dir, pattern.name, variant);
          const programs: Program[] = [];
          t.teardown(() => Promise.all(programs.map((p) => p.stop())));
          const start = (env: Record<string, string> = {}): Program => {
            const program = runProgram(dir, file, env);
            programs.push(program);
            return program;
          };
          // A check that hangs fails its own test, after the children it started were killed.
          let timer: NodeJS.Timeout | undefined;
          const hung = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the check did not finish in ${CHILD_TIMEOUT + 5000} ms; stdout: ${programs.map((p) => p.lines().join(' | ')).join(' || ')}`)), CHILD_TIMEOUT + 5000);
          });
          const checked = pattern.check(t, {
            variant,
            start,
            async listen(env) {
              const program = start(env);
              const [, port] = await program.waitFor(/^listening (\d+)$/m);
              return { program, port: Number(port), url: `ws://127.0.0.1:${port}/` };
            },
          });
          try {
            await Promise.race([checked, hung]);
          } finally {
            clearTimeout(timer);
          }
          const stderr = programs.map((p) => p.stderr()).join('');
          t.equal(stderr, '', 'nothing on stderr');
        });
      }
    });
  }
});

