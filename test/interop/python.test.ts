// Interop with Python's websockets library (Debian's python3-websockets, for /usr/bin/python3):
// as a client, it runs the plan against our server; as a server, our client runs the same cases
// against it. The ws server direction of our client is in test/client.
import t, { type Test } from 'tap';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { connect } from '../../src/client/connect.js';
import type { WebSocket } from '../../src/websocket.js';
import { within } from '../conformance/harness.js';
import { COMPRESSION_MODES, PLAN, PYTHON, WAIT, checkPlan, interopServer, pattern, peer, pythonSkip, runPlanPeer } from './fixtures.js';

const skip = pythonSkip();
if (skip) console.log(`# skipping the Python interop tests: ${skip}`);

for (const { name, mode } of COMPRESSION_MODES) t.test(`a Python websockets client runs the plan against our server (${name})`, { skip }, async (t) => {
  const srv = await interopServer(t, mode);
  const results = await runPlanPeer(t, 'the Python client', PYTHON, [peer('client.py'), srv.url, JSON.stringify(PLAN)]);
  await checkPlan(t, results, srv, { refusesUnselected: false });
  t.test('clientPing', async (t) => {
    // websockets resolves a ping's waiter only on a pong with the same payload.
    t.same(results.clientPing, { got: PLAN.ping, close: { code: 1000, reason: '', wasClean: true } }, 'our server answered its ping');
  });
  t.test('fragmented', async (t) => {
    const whole = PLAN.fragments.join('');
    t.same(results.fragmented, { got: [whole, { binary: whole }], close: { code: 1000, reason: '', wasClean: true } }, 'text and binary sent in fragments come back whole');
  });
});

/** Python's echo server (peers/server.py): its port, and the JSON line it prints per closed connection. */
interface PythonServer {
  url: string;
  /** Resolves with the next connection report. */
  nextClosed(): Promise<{ code: number; reason: string; subprotocol: string }>;
}

async function pythonServer(t: Test): Promise<PythonServer> {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(PYTHON, [peer('server.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.teardown(async () => {
    child.stdin.end(); // server.py stops when its stdin closes
    await within(exited, 'the Python server to exit', WAIT).catch(() => child.kill('SIGKILL'));
  });
  child.stdout.setEncoding('utf8');
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let buffered = '';
  child.stdout.on('data', (d: string) => {
    buffered += d;
    let at;
    while ((at = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
    wake?.();
  });
  const nextLine = async (what: string): Promise<string> => {
    while (lines.length === 0) await within(new Promise<void>((r) => (wake = r)), what, WAIT);
    return lines.shift() as string;
  };
  const port = Number(await nextLine('the Python server to print its port'));
  return {
    url: `ws://127.0.0.1:${port}/`,
    nextClosed: async () => JSON.parse(await nextLine("the Python server's report of a closed connection")),
  };
}

/** Our client, and every message it receives, in order. */
async function client(url: string, protocols?: string[]): Promise<{ ws: WebSocket; next(): Promise<[string | Buffer, boolean]> }> {
  const ws = await within(connect(url, { protocols, maxPayload: 16 * 1024 * 1024 }), `connect ${url}`);
  const queue: [string | Buffer, boolean][] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data, isBinary) => {
    queue.push([data as string | Buffer, isBinary]);
    wake?.();
  });
  return {
    ws,
    next: async () => {
      while (queue.length === 0) await within(new Promise<void>((r) => (wake = r)), 'a message', WAIT);
      return queue.shift() as [string | Buffer, boolean];
    },
  };
}

const closed = (ws: WebSocket): Promise<[number, string, boolean]> =>
  within(new Promise((r) => ws.once('close', (...args) => r(args))), 'the close event', WAIT);

t.test('our client against a Python websockets server', { skip }, async (t) => {
  const py = await pythonServer(t);

  t.test('text, including 4-byte UTF-8, echoed exactly', async (t) => {
    const c = await client(py.url);
    for (const text of PLAN.texts) {
      c.ws.send(text);
      const [data, isBinary] = await c.next();
      t.ok(data === text && !isBinary, `${Buffer.byteLength(text)} bytes of text`);
    }
    c.ws.close(1000);
    t.same(await closed(c.ws), [1000, '', true]);
    t.same(await py.nextClosed(), { code: 1000, reason: '', subprotocol: '' });
  });

  t.test(`binary of ${PLAN.sizes.join(', ')} bytes echoed exactly`, async (t) => {
    const c = await client(py.url);
    for (const size of PLAN.sizes) {
      c.ws.send(pattern(size));
      const [data, isBinary] = await c.next();
      t.ok(isBinary && Buffer.isBuffer(data) && data.equals(pattern(size)), `${size} bytes`);
    }
    c.ws.close(1000);
    t.same(await closed(c.ws), [1000, '', true]);
    t.same(await py.nextClosed(), { code: 1000, reason: '', subprotocol: '' });
  });

  t.test(`${PLAN.order} messages arrive in order`, async (t) => {
    const c = await client(py.url);
    for (let i = 0; i < PLAN.order; i++) c.ws.send(`message ${i}`);
    const got: (string | Buffer)[] = [];
    for (let i = 0; i < PLAN.order; i++) got.push((await c.next())[0]);
    t.same(got, Array.from({ length: PLAN.order }, (_, i) => `message ${i}`));
    c.ws.close(1000);
    await closed(c.ws);
    await py.nextClosed();
  });

  t.test('a message sent in fragments arrives whole', async (t) => {
    const c = await client(py.url);
    PLAN.fragments.forEach((piece, i) => c.ws.send(piece, { fin: i === PLAN.fragments.length - 1 }));
    t.same(await c.next(), [PLAN.fragments.join(''), false]);
    c.ws.close(1000);
    await closed(c.ws);
    await py.nextClosed();
  });

  t.test('ping and pong both ways', async (t) => {
    const c = await client(py.url);
    const pong = within(new Promise<Buffer>((r) => c.ws.once('pong', r)), 'the pong', WAIT);
    c.ws.ping('from our client');
    t.equal((await pong).toString(), 'from our client', 'Python answers our ping with its payload');
    const ping = within(new Promise<Buffer>((r) => c.ws.once('ping', r)), 'the ping', WAIT);
    c.ws.send(`cmd:ping:${PLAN.ping}`);
    t.equal((await ping).toString(), PLAN.ping, "Python's ping arrives");
    t.same(await c.next(), [`pong:${PLAN.ping}`, false], 'and our automatic pong answered it');
    c.ws.close(1000);
    await closed(c.ws);
    await py.nextClosed();
  });

  t.test('clean close with code and reason, from either side', async (t) => {
    const [code, reason] = PLAN.closeClient;
    const a = await client(py.url);
    a.ws.close(code, reason);
    t.same(await closed(a.ws), [code, reason, true], 'we see Python echo our code and reason');
    t.same(await py.nextClosed(), { code, reason, subprotocol: '' }, 'Python saw our code and reason');
    const [serverCode, serverReason] = PLAN.closeServer;
    const b = await client(py.url);
    b.ws.send(`cmd:close:${serverCode}:${serverReason}`);
    t.same(await closed(b.ws), [serverCode, serverReason, true], "we see Python's code and reason");
    t.same(await py.nextClosed(), { code: serverCode, reason: serverReason, subprotocol: '' }, 'Python saw our echo of both');
  });

  t.test('subprotocol selection', async (t) => {
    const offers: [string[] | undefined, string][] = [
      [['x-other', 'chat.v1'], 'chat.v1'],
      [['chat.v2'], 'chat.v2'],
      [['x-other'], ''], // nothing in common: Python omits the header, which we accept (RFC 6455 §4.1)
      [undefined, ''],
    ];
    for (const [offer, expected] of offers) {
      const c = await client(py.url, offer);
      t.equal(c.ws.protocol, expected, `offered ${JSON.stringify(offer)}`);
      c.ws.close(1000);
      await closed(c.ws);
      t.equal((await py.nextClosed()).subprotocol, expected, 'Python agrees');
    }
  });
});
