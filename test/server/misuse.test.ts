// Ordinary mistakes in a server's hooks and options: none crashes the server, each answers the one
// client it concerns with the right status, reports itself, and the next client is served.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import WsWebSocket from 'ws';
import { WebSocketServer } from '../../src/server/server.js';
import { connect } from '../../src/client/connect.js';
import { listen, next, upgradeRequest } from '../helpers.js';

/** Sends one request (an upgrade unless `plain`) and reads the whole answer until the server closes. */
async function ask(port: number, path: string, extra = '', plain = false): Promise<{ status: number; head: string; body: string }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  const request = plain ? `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n` : upgradeRequest(port, extra, path);
  socket.write(request);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    // A 101 stays open: stop at the end of its head.
    const all = Buffer.concat(chunks).toString('latin1');
    if (all.startsWith('HTTP/1.1 101') && all.includes('\r\n\r\n')) socket.destroy();
  });
  await new Promise((r) => socket.on('close', r));
  const text = Buffer.concat(chunks).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) };
}

/** A ws client is still served: it connects and gets its echo. */
async function served(url: string): Promise<boolean> {
  const client = new WsWebSocket(url);
  await next(client, 'open');
  const reply = next<[Buffer]>(client, 'message');
  client.send('still here');
  const [data] = await reply;
  client.terminate();
  return data.toString() === 'still here';
}

t.test('hooks that return the wrong thing, throw or reject: 500 for that client, an error event, no crash', async (t) => {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, 'test/fixtures/misuse-server.ts'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 1200 && !stdout.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
  const { url, callbackUrl } = JSON.parse(stdout.split('\n')[0]) as { url: string; callbackUrl: string };
  const port = Number(new URL(url).port);
  const callbackPort = Number(new URL(callbackUrl).port);

  const verifyCases: [string, number][] = [
    ['/undefined', 500],
    ['/null', 500],
    ['/number', 500],
    ['/string', 500],
    ['/status-out-of-range', 500],
    ['/throw', 500],
    ['/reject', 500],
    ['/async-undefined', 500],
    ['/thenable-throws', 500],
    ['/bad-header', 500],
    ['/headers-not-object', 500],
    ['/false', 401],
    ['/forbidden', 403],
    ['/async-true', 101],
  ];
  for (const [path, status] of verifyCases) {
    const answer = await ask(port, path);
    t.equal(answer.status, status, `verifyClient ${path} → ${status}`);
    t.ok(await served(url), `a fresh client is served after ${path}`);
  }
  const forbidden = await ask(port, '/forbidden');
  t.match(forbidden.head, /\r\nX-Why: test/);
  t.equal(forbidden.body, 'not you\n');

  const callbackCases: [string, number][] = [
    ['/cb-true', 101],
    ['/cb-false', 401],
    ['/cb-false-code', 429],
    ['/cb-twice', 403],
    ['/cb-bad-code', 500],
    ['/cb-undefined', 500],
    ['/cb-throws', 500],
    ['/cb-async-reject', 500],
    ['/cb-async-true', 101],
  ];
  for (const [path, status] of callbackCases) {
    t.equal((await ask(callbackPort, path)).status, status, `ws's verifyClient(info, callback) ${path} → ${status}`);
  }
  const slowDown = await ask(callbackPort, '/cb-false-code');
  t.match(slowDown.head, /\r\nRetry-After: 3/);
  t.equal(slowDown.body, 'slow down\n');
  t.ok(await served(callbackUrl));

  const selectorCases: [string, number, string | undefined][] = [
    ['sel-undefined, b', 101, undefined],
    ['sel-null, b', 101, undefined],
    ['sel-async, b', 101, 'b'],
    ['sel-unoffered, b', 500, undefined],
    ['sel-number, b', 500, undefined],
    ['sel-throw, b', 500, undefined],
    ['sel-reject, b', 500, undefined],
  ];
  t.equal((await ask(port, '/sel-none')).status, 500, 'a selector that picks when nothing was offered');
  for (const [offer, status, chosen] of selectorCases) {
    const answer = await ask(port, '/', `Sec-WebSocket-Protocol: ${offer}\r\n`);
    t.equal(answer.status, status, `protocols(${offer}) → ${status}`);
    const header = /\r\nSec-WebSocket-Protocol: ([^\r]*)/.exec(answer.head)?.[1];
    t.equal(header, chosen);
  }
  t.ok(await served(url));

  const pageCases: [string, number][] = [
    ['/page-undefined', 500],
    ['/page-throw', 500],
    ['/page-reject', 500],
    ['/page-bad-status', 500],
    ['/page-bad-header', 500],
    ['/page-204-body', 500],
    ['/page-ok', 200],
  ];
  for (const [path, status] of pageCases) {
    t.equal((await ask(port, path, '', true)).status, status, `httpHandler ${path} → ${status}`);
  }
  t.ok(await served(url));

  child.stdin!.end();
  t.equal(await exited, 0, 'the server lived through every mistake and shut down cleanly');
  const errors = stdout
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { error: string; message: string });
  t.ok(errors.every((e) => e.error === 'WS_ERR_HOOK'), 'each failure is a WS_ERR_HOOK error event');
  t.equal(errors.length, 11 + 4 + 5 + 6, 'one error event per failed hook');
  t.ok(errors.some((e) => /^verifyClient returned undefined; expected true, false, or \{ status/.test(e.message)), 'the message names the hook and what it returned');
  t.ok(errors.some((e) => /^protocols returned "other" \(a string\); expected one of the offered subprotocols \(sel-unoffered, b\)/.test(e.message)));
  t.ok(errors.some((e) => /^httpHandler threw/.test(e.message)));
  t.ok(errors.some((e) => /^verifyClient called back with code 99/.test(e.message)));
  t.ok(errors.some((e) => /expected one of the offered subprotocols \(none\)/.test(e.message)));
  t.equal(stderr, '', 'nothing uncaught');
});

t.test('a hook that answers after its client left: the answer is ignored', async (t) => {
  let release: (v: string) => void = () => {};
  let entered: () => void = () => {};
  const inHook = new Promise<void>((r) => (entered = r));
  const server = await listen(t, {
    protocols: () =>
      new Promise<string>((resolve) => {
        release = resolve;
        entered();
      }),
  });
  let connections = 0;
  server.on('connection', () => connections++);
  const socket = net.connect({ port: server.address().port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.write(upgradeRequest(server.address().port, 'Sec-WebSocket-Protocol: a\r\n'));
  await inHook;
  socket.destroy();
  for (let i = 0; i < 100 && server.clients.size === 0 && (server as unknown as { pending: Map<unknown, unknown> }).pending.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  release('a');
  await new Promise((r) => setTimeout(r, 20));
  t.equal(connections, 0);
});

t.test('without an error listener a failed hook is a process warning, not a crash', async (t) => {
  const server = await listen(t, { verifyClient: () => undefined as never });
  const warned = new Promise<Error>((r) => process.once('warning', r));
  const answer = await ask(server.address().port, '/');
  t.equal(answer.status, 500);
  t.match(await warned, { code: 'WS_ERR_HOOK', message: /verifyClient returned undefined/ });
});

t.test('close() while an async verifyClient is pending: 503, and no connection is emitted', async (t) => {
  let release: (v: boolean) => void = () => {};
  let entered: () => void = () => {};
  const inHook = new Promise<void>((r) => (entered = r));
  const server = new WebSocketServer({
    port: 0,
    verifyClient: () =>
      new Promise<boolean>((resolve) => {
        release = resolve;
        entered();
      }),
  });
  await server.ready;
  let connections = 0;
  server.on('connection', () => connections++);
  const answer = ask(server.address().port, '/');
  await inHook;
  const closed = server.close();
  t.equal((await answer).status, 503, 'the pending handshake is answered 503 at once');
  release(true);
  await closed;
  await new Promise((r) => setTimeout(r, 20));
  t.equal(connections, 0, 'the hook said yes after close() began: nothing was accepted');
  t.equal(server.clients.size, 0);
});

t.test('a handshake reading its head when close() begins is dropped; later ones are refused', async (t) => {
  const server = new WebSocketServer({ port: 0, noServer: false });
  await server.ready;
  const socket = net.connect({ port: server.address().port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write('GET / HTTP/1.1\r\n');
  await new Promise((r) => setTimeout(r, 20));
  const gone = new Promise((r) => socket.once('close', r));
  await server.close();
  await gone;
  t.pass('the half-sent request was dropped');
});

t.test('options are checked when the server is made: type, range, typos and ws names', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maxPayload: '1048576' }, /^new WebSocketServer\(\): option maxPayload must be a whole number of bytes from 0 to 2\^53 - 1; got "1048576" \(a string\)\.$/],
    [{ maxPayload: 1.5 }, /option maxPayload .* got 1\.5 \(a number\)/],
    [{ maxHeadSize: -1 }, /option maxHeadSize must be a whole number of bytes from 1/],
    [{ protocols: 5 }, /option protocols must be an array of strings, or a function; got 5 \(a number\)/],
    [{ handshakeTimeout: 'x' }, /option handshakeTimeout must be a number of milliseconds from 1 to 2\^31 - 1; got "x" \(a string\)/],
    [{ maxPayLoad: 1 }, /unknown option "maxPayLoad"; did you mean "maxPayload"\?/],
    [{ port: 70000 }, /option port must be a whole number from 0 to 65535/],
    [{ path: 'chat' }, /option path must be a path starting with "\/"/],
    [{ slowClient: { policy: 'drop' } }, /slowClient: option policy must be one of "skip", "close"/],
    [{ handleProtocols: ['x'] }, /option handleProtocols must be a function/],
    [{ handleProtocols: () => 'x', protocols: ['x'] }, /give protocols or handleProtocols, not both/],
    [{ server: {} }, /option server must be a node:http or node:https server; got an object/],
    [{ noServer: true, port: 1 }, /give one of port, server and noServer/],
    [{ perMessageDeflate: 'yes' }, /option perMessageDeflate must be true or false, or an object/],
    [{ perMessageDeflate: { serverMaxWindowBits: 16 } }, /perMessageDeflate: option serverMaxWindowBits must be a whole number from 8 to 15/],
    [{ perMessageDeflate: { zlibDeflateOptions: { level: 10 } } }, /zlibDeflateOptions: option level must be a whole number from -1 to 9/],
    [{ clientTracking: 'yes' }, /option clientTracking must be true or false/],
    [{ backlog: 511 }, /option backlog — is not supported/],
  ];
  for (const [options, message] of cases) {
    t.throws(() => new WebSocketServer(options), { code: 'WS_ERR_INVALID_OPTION', side: 'local', message }, JSON.stringify(Object.keys(options)));
  }
  await t.rejects(connect('ws://127.0.0.1:1/', { maxPayload: '1' } as never), { code: 'WS_ERR_INVALID_OPTION', message: /^connect\(\): option maxPayload/ });
  await t.rejects(connect('ws://127.0.0.1:1/', { followRedirects: true } as never), { message: /option followRedirects must be false: redirects are not followed/ });
  await t.rejects(connect('ws://127.0.0.1:1/', { agent: {} } as never), { message: /option agent — is not supported/ });
  await t.rejects(connect('ws://127.0.0.1:1/', { protocol: ['a'] } as never), { message: /did you mean "protocols"/ });
});
