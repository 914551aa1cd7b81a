// The trace option: a program sees every byte of its own connections, explained — the heads, the
// frames both ways, a fragmented message reassembled, the closing states — and nothing changes.
import t from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WsWebSocket from 'ws';
import { WebSocket, WebSocketServer, connect, type TraceEvent } from '../src/index.js';
import { main, type CliIO } from '../src/cli.js';
import { listen, next } from './helpers.js';

t.test('a server traced: heads, frames both ways, reassembly, states', async (t) => {
  const events: TraceEvent[] = [];
  const server = await listen(t, { trace: (e) => events.push(e) });
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const client = new WsWebSocket(server.url);
  await next(client, 'open');
  client.send('Hel', { fin: false });
  client.send('lo', { fin: true });
  const [echo] = await next<[Buffer]>(client, 'message');
  t.equal(echo.toString(), 'Hello', 'the trace changes nothing');
  client.close(1000, 'done');
  await next(client, 'close');
  for (let i = 0; i < 100 && !events.some((e) => e.event === 'state' && e.to === 'CLOSED'); i++) await new Promise((r) => setTimeout(r, 10));
  const kinds = events.map((e) => e.event);
  t.ok(kinds.includes('request') && kinds.includes('response'), 'both heads');
  t.match(events.find((e) => e.event === 'response'), { status: 101, accept: { ok: true } }, 'the accept key checked');
  const frames = events.filter((e) => e.event === 'frame') as Extract<TraceEvent, { event: 'frame' }>[];
  t.ok(frames.some((f) => f.from === 'client' && f.masked && !f.fin && f.type === 'Text'), 'the first fragment, masked, from the client');
  t.ok(frames.some((f) => f.from === 'server' && !f.masked && f.text === 'Hello'), "the server's echo, unmasked");
  t.match(events.find((e) => e.event === 'message' && e.from === 'client'), { frames: 2, length: 5, text: 'Hello' }, 'the fragments reassembled');
  const states = events.filter((e) => e.event === 'state').map((e) => (e as { to: string }).to);
  t.same(states, ['OPEN', 'CLOSING', 'CLOSED']);
});

t.test('a client traced with trace: true prints lines on stderr; an embedded server shows node:http\'s head', async (t) => {
  const httpServer = http.createServer();
  const events: TraceEvent[] = [];
  const wss = new WebSocketServer({ server: httpServer, trace: (e) => events.push(e) });
  wss.on('connection', (ws) => ws.send('hi'));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  t.teardown(() => httpServer.close());
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  (process.stderr as { write: unknown }).write = (chunk: string) => (written.push(String(chunk)), true);
  let client: WebSocket;
  try {
    client = await connect(`ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`, { trace: true });
    await next(client, 'message');
    // The server closes: the client's trace sees the server's FIN, the states, the end.
    const closed = next(client, 'close');
    for (const ws of wss.clients) ws.close(1000);
    await closed;
  } finally {
    (process.stderr as { write: unknown }).write = write;
  }
  t.ok(written.some((l) => /state CLOSING → CLOSED/.test(l)), 'the closing states');
  t.ok(written.some((l) => /client → server {2}GET \/ HTTP\/1\.1/.test(l)), 'the request, as trace prints it');
  t.ok(written.some((l) => /server → client/.test(l) && /hi/.test(l)), 'the message');
  t.match(events.find((e) => e.event === 'request'), { lines: [/^GET \/ HTTP\/1\.1$/] }, "the embedded server's trace shows the head node:http read");
  await wss.close();
});

t.test('--trace on echo prints the conversation on stderr', async (t) => {
  const stop = new AbortController();
  const lines: string[] = [];
  const errors: string[] = [];
  const cli: CliIO = { out: (l) => lines.push(l), err: (l) => errors.push(l), signal: stop.signal };
  const running = main(['echo', '--port', '0', '--trace', '--quiet'], cli);
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
  const client = new WsWebSocket(lines[0]);
  await next(client, 'open');
  client.send('traced');
  await next(client, 'message');
  client.close();
  await next(client, 'close');
  stop.abort();
  t.equal(await running, 0);
  t.ok(errors.some((l) => /client → server {2}GET \/ HTTP\/1\.1/.test(l)));
  t.ok(errors.some((l) => /traced/.test(l)));
});
