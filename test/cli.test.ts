// The simpatico-ws command: echo, client-echo, help, --version, and the exit codes every command
// follows (0 success, 1 runtime failure, 2 usage error).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import WsWebSocket, { WebSocketServer as WsServer } from 'ws';
import { EXIT_CODES, main, type CliIO } from '../src/cli.js';
import { next } from './helpers.js';

function io(signal?: AbortSignal): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), signal };
}

t.test('help and usage errors', async (t) => {
  const help = io();
  t.equal(await main(['--help'], help), 0);
  t.match(help.lines[0], /Usage: simpatico-ws <command>/);
  const none = io();
  t.equal(await main([], none), 2);
  t.match(none.errors[0], /Usage/);
  const unknown = io();
  t.equal(await main(['frobnicate'], unknown), 2);
  t.match(unknown.errors[0], /unknown command 'frobnicate'/);
  t.match(help.lines[0], EXIT_CODES, 'the top-level help states the exit codes');
  for (const command of ['echo', 'client-echo', 'serve', 'explain', 'trace']) {
    const h = io();
    t.equal(await main([command, '--help'], h), 0);
    t.match(h.lines[0], new RegExp(`^Usage: simpatico-ws ${command}`));
    const text = h.lines.join('\n');
    // explain states its own, finer reading of the same codes; the others state EXIT_CODES.
    if (command === 'explain') t.match(text, /Exit status: 0 valid, 1 the bytes \(or the key\) break a rule, 2 unreadable input\s+or bad usage/);
    else t.equal(text.split(EXIT_CODES).length, 2, `${command} --help states the exit codes once`);
  }
  // A bad flag value and an unknown flag are usage errors: 2, for every command (serve: its own parser).
  const badPort = io();
  t.equal(await main(['echo', '--port', 'eighty'], badPort), 2);
  t.equal(badPort.errors[0], "simpatico-ws echo: --port must be a whole number from 0 to 65535, not 'eighty'.\nRun 'simpatico-ws echo --help' for the options.");
  const badServePort = io();
  t.equal(await main(['serve', '--port', 'eighty'], badServePort), 2);
  t.match(badServePort.errors[0], /--port must be a whole number from 0 to 65535, not 'eighty'/);
  const badOption = io();
  t.equal(await main(['echo', '--colour'], badOption), 2);
  t.match(badOption.errors[0], /colour/);
  const stray = io();
  t.equal(await main(['echo', 'extra'], stray), 2, 'a stray argument');
  const badUrl = io();
  t.equal(await main(['client-echo', 'http//nowhere'], badUrl), 2, 'a URL that is not one');
  t.match(badUrl.errors[0], /^simpatico-ws client-echo: .*\nRun 'simpatico-ws client-echo --help'/s);
  const noUrl = io();
  t.equal(await main(['client-echo'], noUrl), 2);
  const serve = io();
  t.equal(await main(['serve', '--help'], serve), 0, 'serve is dispatched to the registration module');
  t.match(serve.lines.join('\n'), /--heartbeat/);
});

t.test('--version and -v print the version of the package this module belongs to', async (t) => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
  for (const flag of ['--version', '-v']) {
    const v = io();
    t.equal(await main([flag], v), 0);
    t.same(v.lines, [version]);
  }
});

t.test('echo: prints its URL, echoes text as text and binary as binary, stops on abort', async (t) => {
  const stop = new AbortController();
  const cli = io(stop.signal);
  const running = main(['echo', '--port', '0', '--max-payload', '100'], cli);
  while (cli.lines.length === 0) await new Promise((r) => setTimeout(r, 5));
  const url = cli.lines[0];
  t.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  const client = new WsWebSocket(url);
  await next(client, 'open');
  client.send('text');
  t.same((await next<[Buffer, boolean]>(client, 'message')).map(String), ['text', 'false']);
  client.send(Buffer.from([1, 2]));
  const [data, isBinary] = await next<[Buffer, boolean]>(client, 'message');
  t.same([data, isBinary], [Buffer.from([1, 2]), true]);
  client.send(Buffer.alloc(101));
  t.equal((await next<[number]>(client, 'close'))[0], 1009, '--max-payload is enforced');
  stop.abort();
  t.equal(await running, 0);
});

t.test('client-echo: echoes until the server closes; exit 0 for 1000, 1001 or no code, 1 otherwise', async (t) => {
  const server = new WsServer({ port: 0, host: '127.0.0.1' });
  await next(server, 'listening');
  t.teardown(() => server.close());
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  server.once('connection', (ws) => {
    ws.send('one');
    ws.once('message', (data) => ws.close(1000, `got ${String(data)}`));
  });
  t.equal(await main(['client-echo', url], io()), 0);
  server.once('connection', (ws) => ws.close(1001));
  t.equal(await main(['client-echo', url], io()), 0, '1001: the server is going away');
  server.once('connection', (ws) => ws.close());
  t.equal(await main(['client-echo', url], io()), 0, 'a Close without a code (1005)');
  // A clean closing handshake that reports a failure is not a normal end for an echo client.
  server.once('connection', (ws) => ws.close(1011, 'the database is down'));
  const failed = io();
  t.equal(await main(['client-echo', url], failed), 1, '1011 in a clean close');
  t.same(failed.errors, ["simpatico-ws client-echo: the server closed the connection with 1011 'the database is down', which is not a normal closure."]);
  server.once('connection', (ws) => ws.close(1008));
  const policy = io();
  t.equal(await main(['client-echo', url], policy), 1, '1008 without a reason');
  t.same(policy.errors, ['simpatico-ws client-echo: the server closed the connection with 1008, which is not a normal closure.']);
  server.once('connection', (ws) => ws.terminate());
  const broken = io();
  t.equal(await main(['client-echo', url], broken), 1);
  t.match(broken.errors[0], /closed abnormally \(1006\)/);
  const refused = io();
  t.equal(await main(['client-echo', 'ws://127.0.0.1:1/'], refused), 1);
  t.match(refused.errors[0], /Could not connect/);
});

t.test('the program itself: runs from the command line and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'echo', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve();
    }),
  );
  t.match(out, /^ws:\/\/127\.0\.0\.1:\d+\/\n$/);
  child.kill('SIGTERM');
  const [code] = await next<[number]>(child, 'exit');
  t.equal(code, 0);
  const bad = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'echo', '--port', 'x'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  bad.stderr.on('data', (d) => (stderr += d));
  const [badCode] = await next<[number]>(bad, 'exit');
  t.equal(badCode, 2, 'a bad flag value is a usage error');
  t.match(stderr, /^simpatico-ws echo: --port must be a whole number/);
});

t.test('echo reports what it refuses on stderr, one line each; --log json; --quiet', async (t) => {
  for (const mode of ['text', 'json', 'quiet'] as const) {
    const stop = new AbortController();
    const cli = io(stop.signal);
    const flags = mode === 'quiet' ? ['--quiet'] : ['--log', mode];
    const running = main(['echo', '--port', '0', '--max-payload', '10', '--max-connections', '5', '--heartbeat', '30', ...flags], cli);
    while (cli.lines.length === 0) await new Promise((r) => setTimeout(r, 5));
    const url = cli.lines[0];
    const port = Number(new URL(url).port);
    // A request that is not an upgrade: refused with 426.
    const plain = net.connect({ port, host: '127.0.0.1' });
    plain.on('error', () => {});
    plain.resume();
    plain.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await next(plain, 'close');
    // A message over --max-payload: the connection is closed with 1009.
    const client = new WsWebSocket(url);
    await next(client, 'open');
    client.send('eleven bytes');
    t.equal((await next<[number]>(client, 'close'))[0], 1009);
    for (let i = 0; i < 100 && cli.errors.length < (mode === 'quiet' ? 0 : 2); i++) await new Promise((r) => setTimeout(r, 10));
    if (mode === 'quiet') {
      t.same(cli.errors, [], '--quiet: nothing but the URL');
    } else if (mode === 'text') {
      t.match(cli.errors[0], /^simpatico-ws: refused address=127\.0\.0\.1 status=426 code=WS_ERR_HANDSHAKE_NOT_UPGRADE — /);
      t.match(cli.errors[1], /^simpatico-ws: closed address=127\.0\.0\.1 close=1009 code=WS_ERR_MESSAGE_TOO_BIG — /);
    } else {
      t.match(JSON.parse(cli.errors[0]), { event: 'refused', status: 426, code: 'WS_ERR_HANDSHAKE_NOT_UPGRADE', address: '127.0.0.1' });
      t.match(JSON.parse(cli.errors[1]), { event: 'closed', close: 1009, code: 'WS_ERR_MESSAGE_TOO_BIG' });
    }
    stop.abort();
    t.equal(await running, 0);
  }
  const badLog = io();
  t.equal(await main(['echo', '--log', 'xml'], badLog), 2);
  t.match(badLog.errors[0], /--log must be text or json, not 'xml'/);
  const badBeat = io();
  t.equal(await main(['echo', '--heartbeat=-1'], badBeat), 2);
  t.match(badBeat.errors[0], /--heartbeat must be a number of seconds from 0/);
  const both = io();
  t.equal(await main(['client-echo', 'ws://127.0.0.1:1/', '--max-payload', '1', '--max-message', '1'], both), 2);
  t.match(both.errors[0], /--max-payload and --max-message are the same limit/);
});

t.test('client-echo takes --max-payload (or --max-message) and --heartbeat', async (t) => {
  const server = new WsServer({ port: 0, host: '127.0.0.1' });
  await next(server, 'listening');
  t.teardown(() => server.close());
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  server.once('connection', (ws) => ws.send(Buffer.alloc(101)));
  const small = io();
  t.equal(await main(['client-echo', url, '--max-message', '100', '--heartbeat', '0'], small), 1, 'a message over the limit closes with 1009');
  t.match(small.errors[0], /closed abnormally \(1009\)/);
  server.once('connection', (ws) => {
    ws.send(Buffer.alloc(101));
    ws.once('message', () => ws.close(1000));
  });
  t.equal(await main(['client-echo', url, '--max-payload', '101'], io()), 0);
});

t.test('echo --protocol: the server selects by its own preference among what the client offers', async (t) => {
  const stop = new AbortController();
  const cli = io(stop.signal);
  const running = main(['echo', '--port', '0', '--protocol', 'chat.v2', '--protocol', 'chat.v1'], cli);
  while (cli.lines.length === 0) await new Promise((r) => setTimeout(r, 5));
  const url = cli.lines[0];
  for (const [offered, selected] of [
    [['chat.v1', 'chat.v2'], 'chat.v2'],
    [['chat.v1'], 'chat.v1'],
  ] as const) {
    const client = new WsWebSocket(url, [...offered]);
    await next(client, 'open');
    t.equal(client.protocol, selected, `offered ${offered.join(', ')}`);
    client.send('x');
    t.equal(String((await next<[Buffer]>(client, 'message'))[0]), 'x', 'and it echoes');
    client.close(1000);
    await next(client, 'close');
  }
  stop.abort();
  t.equal(await running, 0);
  const bad = io();
  t.equal(await main(['echo', '--protocol', 'chat v1'], bad), 2, 'a name that is not a token');
  t.match(bad.errors[0], /--protocol must be a token .*not 'chat v1'/);
});

t.test('--permessage-deflate: echo answers in the memory-bounded mode; client-echo offers', async (t) => {
  const stop = new AbortController();
  const cli = io(stop.signal);
  const running = main(['echo', '--port', '0', '--permessage-deflate', '--quiet'], cli);
  while (cli.lines.length === 0) await new Promise((r) => setTimeout(r, 5));
  const client = new WsWebSocket(cli.lines[0]);
  const upgraded = next<[{ headers: Record<string, string> }]>(client, 'upgrade');
  await next(client, 'open');
  t.equal((await upgraded)[0].headers['sec-websocket-extensions'], 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
  client.send('x'.repeat(5000));
  t.equal(String((await next<[Buffer]>(client, 'message'))[0]), 'x'.repeat(5000));
  client.close();
  await next(client, 'close');
  // client-echo against a ws server that compresses.
  const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await next(server, 'listening');
  t.teardown(() => server.close());
  const agreed = new Promise<string>((resolve) =>
    server.once('connection', (ws, req) => {
      resolve(String(req.headers['sec-websocket-extensions']));
      ws.send('y'.repeat(5000));
      ws.once('message', () => ws.close(1000));
    }),
  );
  t.equal(await main(['client-echo', `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, '--permessage-deflate'], io()), 0);
  t.equal(await agreed, 'permessage-deflate; client_max_window_bits');
  stop.abort();
  t.equal(await running, 0);
});
