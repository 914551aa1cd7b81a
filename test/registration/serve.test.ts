// `simpatico-ws serve`: its options, its HTTP side (the page and the modules), the registration
// endpoint on the same URL, and its shutdown.
import t from 'tap';
import * as net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_USAGE, isLoopbackHost, loopbackHosts, main, parseServeArgs, type ServeIO } from '../../src/registration/serve.js';
import { RegistrationClientRole } from '../../src/registration/core/client-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { rawPeer } from './fixtures/raw-peer.js';
import { demoHttpHandler, loadWebFiles } from '../../src/registration/static.js';
import { connectAndRegister } from '../../src/registration/client.js';

function io(signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const sink: ServeIO = { out: (l) => out.push(l), err: (l) => err.push(l), signal };
  return { out, err, sink };
}

/** Starts `serve` and resolves with its http:// URL once it prints it (bounded wait). */
async function start(args: string[], webRoot: string) {
  const ac = new AbortController();
  const { out, err, sink } = io(ac.signal);
  const done = main(args, sink, webRoot);
  for (let i = 0; i < 500 && !out.some((l) => /https?:\/\//.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
  const url = /(https?:\/\/\S+)/.exec(out.find((l) => /https?:\/\//.test(l)) ?? '')?.[1];
  if (url === undefined) throw new Error('serve did not print its URL: ' + JSON.stringify({ out, err }));
  return { url, out, err, stop: async () => (ac.abort(), done) };
}

function webRoot() {
  const dir = mkdtempSync(join(tmpdir(), 'simpatico-web-'));
  mkdirSync(join(dir, 'registration', 'browser'), { recursive: true });
  writeFileSync(join(dir, 'errors.js'), 'export const x = 1;\n');
  writeFileSync(join(dir, 'registration', 'browser', 'demo.js'), 'console.log("demo");\n');
  writeFileSync(join(dir, 'registration', 'notes.txt'), 'not served');
  return dir;
}

t.test('--help lists every option', async (t) => {
  const { out, sink } = io();
  t.equal(await main(['--help'], sink, '/nonexistent'), 0);
  t.equal(out[0], SERVE_USAGE);
  for (const option of ['--port', '--host', '--expected-host', '--heartbeat ', '--heartbeat-timeout', '--register-timeout', '--nonce-ttl',
    '--retries', '--max-message', '--rate', '--burst', '--fanout ', '--fanout-burst', '--refusals-per-minute', '--max-connections', '--help']) {
    t.match(SERVE_USAGE, option);
  }
  t.match(SERVE_USAGE, '(default 30)');
});

t.test('options: seconds become milliseconds, PORT and HOST from the environment', async (t) => {
  const limits = { maxConnectionsPerAddress: 256, maxHandshakesPerAddress: 32, log: 'text', trace: false };
  t.same(parseServeArgs([], {}), { port: 8080, host: '127.0.0.1', maxConnections: 1024, ...limits, protocol: {} });
  t.same(parseServeArgs([], { PORT: '9000', HOST: '::1' }), { port: 9000, host: '::1', maxConnections: 1024, ...limits, protocol: {} });
  // Off loopback the expected hosts must be given (see 'host binding' below).
  t.same(parseServeArgs(['--expected-host', 'chat.example'], { PORT: '9000', HOST: '0.0.0.0' }), {
    port: 9000,
    host: '0.0.0.0',
    maxConnections: 1024,
    ...limits,
    protocol: { expectedHosts: ['chat.example'] },
  });
  const c = parseServeArgs(
    ['--port', '0', '--host', '::1', '--heartbeat', '0.2', '--heartbeat-timeout', '0.5', '--register-timeout', '1.5', '--nonce-ttl', '2',
      '--retries', '0', '--max-message', '4096', '--rate', '2.5', '--burst', '4', '--max-connections', '10',
      '--fanout', '100.5', '--fanout-burst', '300', '--refusals-per-minute', '5',
      '--expected-host', 'a.example', '--expected-host', 'b.example:8443', '--max-handshakes-per-address', '3', '--log', 'json'],
    { PORT: '1' },
  );
  t.same(c, {
    port: 0,
    host: '::1',
    maxConnections: 10,
    maxConnectionsPerAddress: 2,
    maxHandshakesPerAddress: 3,
    log: 'json',
    trace: false,
    protocol: {
      expectedHosts: ['a.example', 'b.example:8443'],
      heartbeatInterval: 200,
      heartbeatTimeout: 500,
      registerTimeout: 1500,
      nonceTtl: 2000,
      retries: 0,
      maxMessageBytes: 4096,
      rate: 2.5,
      burst: 4,
      fanout: 100.5,
      fanoutBurst: 300,
      refusalsPerMinute: 5,
    },
  });
  t.equal((parseServeArgs(['--heartbeat', '0'], {}) as { protocol: { heartbeatInterval: number } }).protocol.heartbeatInterval, 0);
  t.match(parseServeArgs(['--quiet', '--max-connections-per-address', '7'], {}), { log: undefined, maxConnectionsPerAddress: 7 });
  t.throws(() => parseServeArgs(['--log', 'xml'], {}), /--log must be text or json, not 'xml'/);
});

t.test('serve says what it refused, one line each on stderr (text by default)', async (t) => {
  const s = await start(['--port', '0'], webRoot());
  t.teardown(s.stop);
  const port = Number(new URL(s.url).port);
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.resume();
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n');
  await new Promise((r) => socket.once('close', r));
  for (let i = 0; i < 100 && s.err.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.match(s.err[0], /^simpatico-ws: refused address=127\.0\.0\.1 status=400 code=WS_ERR_HANDSHAKE_CONNECTION/);
});

t.test('bad options exit 2 with a message naming the option', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--port', '70000'], /--port must be a whole number from 0 to 65535/],
    [['--port', 'x'], /--port/],
    [['--heartbeat=-1'], /--heartbeat must be a number of seconds of 0 or more/],
    [['--heartbeat', ''], /--heartbeat/],
    [['--heartbeat-timeout', '0'], /--heartbeat-timeout must be a number of seconds above 0/],
    [['--register-timeout', 'soon'], /--register-timeout/],
    [['--nonce-ttl', 'Infinity'], /--nonce-ttl/],
    [['--retries', '1.5'], /--retries/],
    [['--max-message', '100'], /--max-message must be a whole number from 256/],
    [['--rate', '0'], /--rate must be a number above 0/],
    [['--rate', ' '], /--rate/],
    [['--burst', '0'], /--burst/],
    [['--max-connections', '0'], /--max-connections/],
    [['--heartbeat', '2147484'], /--heartbeat must be a number of seconds of 0 or more and at most 2147483\.647/],
    [['--expected-host', ' '], /--expected-host must name a host\[:port\], not an empty string/],
    [['--rate', '1e300'], /--rate must be a number above 0 and at most 2\^53 - 1/],
    [['--max-message', String(2 ** 31)], /--max-message must be a whole number from 256 to 2147483647/],
    [['--retries', '1001'], /--retries must be a whole number from 0 to 1000/],
    [['--fanout', '0'], /--fanout must be a number above 0/],
    [['--fanout-burst', '1.5'], /--fanout-burst must be a whole number from 1/],
    [['--refusals-per-minute', '0'], /--refusals-per-minute must be a whole number from 1/],
    [['--nope'], /Unknown option '--nope'/],
  ];
  for (const [args, message] of cases) {
    const { err, sink } = io();
    t.equal(await main(args, sink, '/nonexistent'), 2, args.join(' '));
    t.match(err.join('\n'), message);
    t.match(err.join('\n'), "Run 'simpatico-ws serve --help'");
  }
  t.throws(() => parseServeArgs([], { PORT: 'eighty' }), /PORT must be a whole number/);
});

t.test('host binding: off loopback, serve refuses to start without --expected-host and says which flag to give', async (t) => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10', 'chat.example.com', '128.0.0.1']) {
    const { out, err, sink } = io();
    t.equal(await main(['--host', host, '--port', '0'], sink, '/nonexistent'), 2, host);
    t.match(err.join('\n'), `${host} is not a loopback address`);
    t.match(err.join('\n'), 'give --expected-host with each host[:port] they put in the URL');
    t.same(out, [], 'nothing listened, nothing printed');
  }
  t.throws(() => parseServeArgs([], { HOST: '0.0.0.0' }), /--expected-host/, 'from $HOST too');
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LocalHost', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '127.example', 'localhost.example']) t.notOk(isLoopbackHost(host), host);
  t.same(loopbackHosts('127.0.0.1', 8080, false), ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080']);
  t.same(loopbackHosts('127.0.0.2', 80, false), ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2'], 'the default port is not named');
  t.same(loopbackHosts('::1', 443, true), ['127.0.0.1', 'localhost', '[::1]']);
  t.same(loopbackHosts('::1', 80, true), ['127.0.0.1:80', 'localhost:80', '[::1]:80'], '80 is no default for https');
});

t.test('host binding: on loopback, signatures for 127.0.0.1 and localhost are accepted, for another Host refused', async (t) => {
  const { url, out, stop } = await start(['--port', '0', '--retries', '0'], webRoot());
  const port = Number(new URL(url).port);
  t.ok(out.includes(`simpatico-ws serve: signatures must name 127.0.0.1:${port}, localhost:${port}, [::1]:${port}`));
  /** A peer that sends `Host: host` and signs for `signs`; returns the server's verdict. */
  const attempt = async (host: string, signs = host) => {
    const peer = await rawPeer(port, { host });
    const role = new RegistrationClientRole({ crypto: nodeCrypto, keyPair: await nodeCrypto.generateKeyPair(), host: signs });
    const [answer] = await role.receive(await peer.next());
    peer.send((answer as { text: string }).text);
    const verdict = JSON.parse(await peer.next());
    peer.destroy();
    return verdict.accepted === true ? 'accepted' : verdict.reason;
  };
  t.equal(await attempt(`127.0.0.1:${port}`), 'accepted', 'the page at http://127.0.0.1:PORT/');
  t.equal(await attempt(`localhost:${port}`), 'accepted', 'the page at http://localhost:PORT/');
  t.equal(await attempt(`[::1]:${port}`), 'accepted');
  // Before: the request's own Host was trusted, so a relay at evil.example could register a key
  // with a signature the victim made for evil.example. Now that Host names nothing this server is.
  t.equal(await attempt(`evil.example:${port}`), 'bad signature', 'another Host, and a signature for it');
  t.equal(await attempt(`evil.example:${port}`, `127.0.0.1:${port}`), 'accepted', 'what counts is what was signed');
  t.equal(await attempt(`127.0.0.1:${port + 1}`), 'bad signature', 'another port is another server');
  t.equal(await stop(), 0);
});

t.test('the page, the modules and the endpoint share one URL; abort stops it cleanly', async (t) => {
  const { url, out, err, stop } = await start(['--port', '0', '--heartbeat', '0.05'], webRoot());
  t.same(err, []);
  t.match(out[0], /^simpatico-ws serve: the registration demo is at http:\/\/127\.0\.0\.1:\d+\/ \(WebSocket endpoint ws:\/\/127\.0\.0\.1:\d+\/\)$/);

  const page = await fetch(url);
  t.equal(page.status, 200);
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.match(page.headers.get('content-security-policy'), "script-src 'self'");
  const html = await page.text();
  for (const id of ['run-connect', 'run-send', 'message-container', 'public-key', 'send-to-key', 'send-to-text', 'run-send-to']) {
    t.match(html, `id="${id}"`, id);
  }
  t.match(html, '<script type="module" src="registration/browser/demo.js">');
  t.equal((await fetch(new URL('/index.html?x=1', url))).status, 200);

  const js = await fetch(new URL('/registration/browser/demo.js', url));
  t.equal(js.status, 200);
  t.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.equal(await js.text(), 'console.log("demo");\n');
  t.equal((await fetch(new URL('/errors.js', url))).status, 200);
  for (const path of ['/registration/notes.txt', '/../package.json', '/registration/../errors.js.map', '/nope.js']) {
    t.equal((await fetch(new URL(path, url))).status, 404, path);
  }
  const head = await fetch(url, { method: 'HEAD' });
  t.equal(head.status, 200);
  const post = await fetch(url, { method: 'POST', body: 'x' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');

  // The same URL with an upgrade: register two clients and talk.
  const wsUrl = url.replace(/^http/, 'ws');
  const alice = await connectAndRegister(wsUrl);
  const bob = await connectAndRegister(wsUrl);
  const got = once(bob, 'message');
  alice.registeredSend('hello there 0');
  t.same(await got, ['hello there 0', alice.publicKey]);
  await once(alice, 'heartbeat'); // --heartbeat 0.05 took effect
  t.ok(out.includes(`registered ${alice.publicKey}`));

  const aliceClosed = once(alice, 'close');
  t.equal(await stop(), 0);
  t.same((await aliceClosed)[0], 1001, 'clients are told the server is going away');
  t.equal(out.at(-1), 'simpatico-ws serve: stopped');
  t.ok(out.includes(`unregistered ${bob.publicKey}`));
});

t.test('without browser modules it warns; an already-aborted signal stops at once', async (t) => {
  const ac = new AbortController();
  ac.abort();
  const { out, err, sink } = io(ac.signal);
  t.equal(await main(['--port', '0'], sink, join(tmpdir(), 'simpatico-no-such-dir')), 0);
  t.match(err[0], /no browser modules in .*simpatico-no-such-dir; run 'npm run build' first/);
  t.equal(out.at(-1), 'simpatico-ws serve: stopped');
});

t.test('a port already in use exits 1', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const { port } = blocker.address() as { port: number };
  const { err, sink } = io();
  t.equal(await main(['--port', String(port)], sink, webRoot()), 1);
  t.match(err.join('\n'), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  blocker.close();
});

t.test('loadWebFiles and the handler on their own', async (t) => {
  const files = await loadWebFiles(webRoot());
  t.same([...files.keys()].sort(), ['/errors.js', '/registration/browser/demo.js']);
  t.same(await loadWebFiles('/nonexistent/dir'), new Map());
  const handler = demoHttpHandler(files);
  const req = (method: string, url: string) => handler({ method, url, httpVersion: '1.1', headers: {} });
  t.equal(req('GET', '/').status, 200);
  t.equal(req('HEAD', '/errors.js').status, 200);
  t.equal(req('DELETE', '/').status, 405);
  t.equal(req('GET', '/registration/browser/').status, 404);
});

t.test('--tls-cert and --tls-key serve https:// and wss://', async (t) => {
  const fixtures = new URL('../fixtures/', import.meta.url);
  const cert = fileURLToPath(new URL('cert.pem', fixtures));
  const key = fileURLToPath(new URL('key.pem', fixtures));
  t.same((parseServeArgs(['--tls-cert', cert, '--tls-key', key], {}) as { tls: unknown }).tls, { cert, key });
  for (const args of [['--tls-cert', cert], ['--tls-key', key]]) {
    const { err, sink } = io();
    t.equal(await main(args, sink, '/nonexistent'), 2);
    t.match(err[0], '--tls-cert and --tls-key go together');
  }
  const missing = io();
  t.equal(await main(['--port', '0', '--tls-cert', cert, '--tls-key', '/nonexistent/key.pem'], missing.sink, '/nonexistent'), 1);
  t.match(missing.err.join('\n'), /cannot read the TLS certificate or key: .*ENOENT/);
  const garbage = io();
  t.equal(await main(['--port', '0', '--tls-cert', cert, '--tls-key', cert], garbage.sink, '/nonexistent'), 1, 'a certificate is no key');
  t.match(garbage.err.at(-1), /^simpatico-ws serve: /);

  const { url, stop } = await start(['--port', '0', '--tls-cert', cert, '--tls-key', key], webRoot());
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const ca = readFileSync(cert);
  const page = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
  t.equal(page.status, 200);
  t.match(page.body, 'id="run-connect"');
  const wss = url.replace(/^https/, 'wss');
  const alice = await connectAndRegister(wss, undefined, { tls: { ca } });
  const bob = await connectAndRegister(wss, undefined, { tls: { ca } });
  const got = once(bob, 'message');
  alice.registeredSend('over TLS', bob.publicKey);
  t.same(await got, ['over TLS', alice.publicKey]);
  t.equal(await stop(), 0);
});

t.test('serve --trace explains every connection on stderr', async (t) => {
  const s = await start(['--port', '0', '--trace', '--quiet'], webRoot());
  t.teardown(s.stop);
  const socket = net.connect({ port: Number(new URL(s.url).port), host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.resume();
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await new Promise((r) => socket.once('close', r));
  for (let i = 0; i < 100 && !s.err.some((l) => /client → server {2}GET \//.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(s.err.some((l) => /client → server {2}GET \/ HTTP\/1\.1/.test(l)), 'the request, as trace shows it');
});

t.test('serve --quiet prints no line per key (a busy server would spend a write on each)', async (t) => {
  const s = await start(['--port', '0', '--quiet'], webRoot());
  const wsUrl = s.url.replace(/^http/, 'ws');
  const alice = await connectAndRegister(wsUrl);
  const bob = await connectAndRegister(wsUrl);
  const got = once(bob, 'message');
  alice.registeredSend('quietly');
  t.same(await got, ['quietly', alice.publicKey], 'routing works as without --quiet');
  alice.close();
  await once(alice, 'close');
  t.equal(await s.stop(), 0);
  t.same(s.out.filter((l) => /registered /.test(l)), [], 'no registered/unregistered lines');
  t.ok(s.out.some((l) => l.startsWith('simpatico-ws serve: signatures must name')), 'the hosts are still printed');
});
