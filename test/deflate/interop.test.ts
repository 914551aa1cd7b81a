// permessage-deflate with real peers over real sockets: the `ws` library, Python's websockets and
// headless Chromium against an echo server made of our pieces (head parser → negotiation → 101 →
// Receiver → Inflater → Deflater → frames), and our client pieces against ws and Python servers.
// Every message is checked byte for byte after the round trip.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { Deflater, Inflater, ZlibPool, codecOptions } from '../../src/deflate/index.js';
import { WebSocketError } from '../../src/errors.js';
import { Opcode, Receiver, encodeClosePayload, encodeFrame } from '../../src/frames/index.js';
import {
  RequestHeadParser,
  ResponseHeadParser,
  buildAcceptResponse,
  buildClientRequest,
  buildHttpResponse,
  deflateClientPolicy,
  deflateServerPolicy,
  validateServerResponse,
  validateUpgrade,
  type DeflateClientOptions,
  type DeflateParameters,
  type DeflateServerOptions,
} from '../../src/handshake/index.js';
import { json, random } from './helpers.js';

const WAIT = 20_000;
const PYTHON = '/usr/bin/python3';
const CHROMIUM = '/usr/bin/chromium';
const hasPython = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

/** Messages with repeats at every distance up to 40000, so every window size is exercised. */
function farRepeats(size: number): Buffer {
  const fresh = random(size, 3);
  const parts: number[] = [];
  for (let i = 0; parts.length < size; i++) {
    for (let j = 0; j < 16; j++) parts.push(fresh[(i * 16 + j) % size] as number);
    const distance = 1 + ((i * 7919) % Math.min(parts.length - 1, 40000));
    for (let j = 0; j < 32; j++) parts.push(parts[parts.length - distance] as number);
  }
  return Buffer.from(parts.slice(0, size));
}

/** The messages every peer sends: text of several sizes, binary with far repeats, random bytes. */
const MESSAGES: Array<{ data: Buffer; binary: boolean }> = [
  { data: Buffer.from('Hello'), binary: false },
  { data: json(1500, 1), binary: false },
  { data: json(1500, 1), binary: false }, // the same again: context takeover refers back
  { data: json(40_000, 2), binary: false },
  { data: farRepeats(120_000), binary: true },
  { data: random(3000, 4), binary: true },
  { data: Buffer.alloc(0), binary: true },
];

const PAGE = `<!doctype html><script>
window.roundTrip = (url, messages) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const back = [];
  ws.onopen = () => { for (const m of messages) ws.send(m.binary ? Uint8Array.from(atob(m.data), (c) => c.charCodeAt(0)) : m.data); };
  ws.onmessage = (e) => {
    back.push(typeof e.data === 'string' ? { binary: false, data: e.data } : { binary: true, data: btoa(String.fromCharCode(...new Uint8Array(e.data))) });
    if (back.length === messages.length) { resolve({ extensions: ws.extensions, back }); ws.close(); }
  };
  ws.onerror = () => resolve({ extensions: ws.extensions, back, error: true });
  setTimeout(() => resolve({ extensions: ws.extensions, back, timeout: true }), 15000);
});
</script>`;

interface EchoServer {
  url: string;
  /** The parameters agreed on each connection, in order. */
  agreed: Array<DeflateParameters | undefined>;
  /** Compressed messages received, per connection. */
  compressed: number[];
  errors: WebSocketError[];
}

/** An echo server made of our pieces; it compresses every reply it can (threshold 0). */
async function echoServer(t: Test, options: DeflateServerOptions): Promise<EchoServer> {
  const policy = deflateServerPolicy(options);
  const pool = new ZlibPool();
  const result: EchoServer = { url: '', agreed: [], compressed: [], errors: [] };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const parser = new RequestHeadParser();
    socket.on('data', function onHead(chunk: Buffer) {
      const head = parser.push(chunk);
      if (head.state === 'incomplete') return;
      socket.off('data', onHead);
      if (head.state === 'error') return void socket.destroy();
      const decision = validateUpgrade(head.head, { perMessageDeflate: policy });
      if (!decision.ok) {
        // A plain page request: the page Chromium runs.
        if (decision.error.code === 'WS_ERR_HANDSHAKE_NOT_UPGRADE') socket.end(buildHttpResponse(200, { 'Content-Type': 'text/html' }, PAGE));
        else socket.end(decision.response);
        return;
      }
      const index = result.agreed.push(decision.deflate?.params) - 1;
      result.compressed[index] = 0;
      socket.write(buildAcceptResponse(decision.accept, { extensions: decision.deflate?.response }));
      const codec = decision.deflate === undefined ? undefined : codecOptions(decision.deflate.params, 'server');
      const deflater = codec && new Deflater({ ...codec.deflater, threshold: 0, pool });
      const inflater = codec && new Inflater({ ...codec.inflater, maxPayload: 1024 * 1024, pool });
      socket.on('close', () => {
        deflater?.close();
        inflater?.close();
      });
      const fail = (error: WebSocketError): void => {
        result.errors.push(error);
        socket.end(Buffer.concat(encodeFrame(Opcode.Close, encodeClosePayload(error.closeCode ?? 1011, ''))));
      };
      const receiver = new Receiver(
        { role: 'server', allowRsv1: codec !== undefined, maxPayload: 1024 * 1024 },
        {
          onMessage(data, isBinary, rsv1) {
            let message = data;
            if (rsv1) {
              result.compressed[index]++;
              const inflated = (inflater as Inflater).inflate(data);
              if (inflated instanceof WebSocketError) return fail(inflated);
              message = inflated;
            }
            const payload = deflater?.compress(message);
            socket.write(Buffer.concat(encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, payload ?? message, { rsv1: payload !== undefined })));
          },
          onPing(payload) {
            socket.write(Buffer.concat(encodeFrame(Opcode.Pong, payload)));
          },
          onPong() {},
          onClose(code) {
            socket.end(Buffer.concat(encodeFrame(Opcode.Close, code === 1005 ? Buffer.alloc(0) : encodeClosePayload(code, ''))));
          },
          onError: fail,
        },
      );
      receiver.push(head.rest);
      socket.on('data', (chunk: Buffer) => receiver.push(chunk));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
    pool.clear();
  });
  result.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return result;
}

/** Send every message from a ws client and collect the echoes. */
async function wsRoundTrip(url: string, perMessageDeflate: object | false, fragment = false): Promise<{ extensions: string; back: Array<{ data: Buffer; binary: boolean }> }> {
  const client = new WebSocket(url, { perMessageDeflate });
  const back: Array<{ data: Buffer; binary: boolean }> = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 20 s')), WAIT);
    client.on('message', (data: Buffer, binary: boolean) => {
      back.push({ data, binary });
      if (back.length === MESSAGES.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    client.on('error', reject);
  });
  await once(client, 'open');
  for (const { data, binary } of MESSAGES) {
    if (fragment && data.length > 10) {
      // ws compresses a fragmented message as one DEFLATE run across its frames.
      const third = Math.floor(data.length / 3);
      client.send(data.subarray(0, third), { binary, fin: false });
      client.send(data.subarray(third, 2 * third), { binary, fin: false });
      client.send(data.subarray(2 * third), { binary, fin: true });
    } else {
      client.send(data, { binary });
    }
  }
  await done;
  const extensions = client.extensions;
  client.close();
  return { extensions, back };
}

function sameMessages(t: Test, back: Array<{ data: Buffer | string; binary: boolean }>, label: string): void {
  t.equal(back.length, MESSAGES.length, `${label}: every message came back`);
  for (const [i, { data, binary }] of MESSAGES.entries()) {
    const echo = back[i];
    const bytes = typeof echo?.data === 'string' ? Buffer.from(echo.data) : echo?.data;
    t.same({ binary: echo?.binary, data: bytes }, { binary, data }, `${label}: message ${i} (${data.length} bytes)`);
  }
}

const wsCases: Array<[string, object, DeflateServerOptions, Partial<DeflateParameters>]> = [
  ['defaults', { threshold: 0 }, {}, {}],
  ['memory-bounded server', { threshold: 0 }, { serverNoContextTakeover: true, clientNoContextTakeover: true }, { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['small windows imposed by the server', { threshold: 0 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 9 }],
  ['server_max_window_bits=8 asked by the client', { threshold: 0, serverMaxWindowBits: 8 }, {}, { serverMaxWindowBits: 8 }],
  ['client_max_window_bits=8 imposed by the server', { threshold: 0 }, { clientMaxWindowBits: 8 }, { clientMaxWindowBits: 8 }],
  ['no context takeover asked by the client', { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }, {}, { serverNoContextTakeover: true, clientNoContextTakeover: true }],
];

t.test('ws clients against our echo server, every negotiation', async (t) => {
  for (const [label, client, server, params] of wsCases) {
    for (const fragment of [false, true]) {
      const echo = await echoServer(t, server);
      const { extensions, back } = await wsRoundTrip(echo.url, client, fragment);
      const name = `${label}${fragment ? ', fragmented' : ''}`;
      t.match(extensions, /^permessage-deflate/, `${name}: ws agreed (${extensions})`);
      t.strictSame(echo.agreed, [{ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...params }]);
      sameMessages(t, back, name);
      t.ok((echo.compressed[0] as number) >= MESSAGES.length - 1, `${name}: ${echo.compressed[0]} messages arrived compressed`);
      t.strictSame(echo.errors, []);
    }
  }
});

t.test('a ws client without compression gets none', async (t) => {
  const echo = await echoServer(t, {});
  const { extensions, back } = await wsRoundTrip(echo.url, false);
  t.equal(extensions, '');
  t.strictSame(echo.agreed, [undefined]);
  sameMessages(t, back, 'uncompressed');
});

t.test('a Python websockets client against our echo server', { skip: hasPython ? false : 'python3-websockets is not installed' }, async (t) => {
  const script = [
    'import asyncio, base64, json, sys, websockets',
    'from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory',
    'async def main():',
    '    messages = json.loads(sys.stdin.read())',
    '    factory = ClientPerMessageDeflateFactory(**json.loads(sys.argv[2]))',
    '    ws = await asyncio.wait_for(websockets.connect(sys.argv[1], extensions=[factory], compression=None, max_size=2**24), 10)',
    '    for m in messages:',
    "        await ws.send(base64.b64decode(m['data']) if m['binary'] else m['data'])",
    '    back = []',
    '    for m in messages:',
    '        r = await asyncio.wait_for(ws.recv(), 10)',
    "        back.append({'binary': isinstance(r, bytes), 'data': base64.b64encode(r).decode() if isinstance(r, bytes) else r})",
    "    print(json.dumps({'extensions': ws.response_headers.get('Sec-WebSocket-Extensions'), 'back': back}), flush=True)",
    '    await ws.close()',
    'asyncio.run(main())',
  ].join('\n');
  const input = JSON.stringify(MESSAGES.map(({ data, binary }) => ({ binary, data: binary ? data.toString('base64') : data.toString() })));
  const cases: Array<[string, object, DeflateServerOptions, string]> = [
    ['defaults', { client_max_window_bits: true }, {}, 'permessage-deflate'],
    ['memory-bounded server', { client_max_window_bits: true }, { serverNoContextTakeover: true, clientNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    // Python's zlib (upstream 1.2.13) inflates with windowBits 8 here: our 8-bit compressor (zlib's
    // 9, reaching back at most 250 bytes, which deflater.test.ts checks with its own decoder)
    // against a peer with a 256-byte window. Python cannot compress with 8 (upstream zlib refuses
    // raw windowBits 8), hence 9 the other way.
    ['8-bit server window', { server_max_window_bits: 8, client_max_window_bits: 9 }, {}, 'permessage-deflate; server_max_window_bits=8'],
    ['client window imposed', { client_max_window_bits: true }, { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
  ];
  for (const [label, factory, server, response] of cases) {
    const echo = await echoServer(t, server);
    const child = spawn(PYTHON, ['-c', script, echo.url, JSON.stringify(factory)], { stdio: ['pipe', 'pipe', 'inherit'], timeout: WAIT });
    child.stdin.end(input);
    let out = '';
    for await (const chunk of child.stdout) out += String(chunk);
    const result = JSON.parse(out) as { extensions: string; back: Array<{ binary: boolean; data: string }> };
    t.equal(result.extensions, response, `${label}: the answer Python accepted`);
    sameMessages(
      t,
      result.back.map((m) => ({ binary: m.binary, data: m.binary ? Buffer.from(m.data, 'base64') : m.data })),
      `python, ${label}`,
    );
    t.equal(echo.compressed[0], MESSAGES.length, `${label}: Python compressed every message`);
    t.strictSame(echo.errors, []);
  }
});

const chromiumSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing`;

t.test('headless Chromium against our echo server, with and without memory-bounded mode', { skip: chromiumSkip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'simpatico-deflate-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 2 * WAIT,
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const messages = MESSAGES.map(({ data, binary }) => ({ binary, data: binary ? data.toString('base64') : data.toString() }));
  const cases: Array<[string, DeflateServerOptions, string]> = [
    ['defaults', {}, 'permessage-deflate'],
    ['memory-bounded', { serverNoContextTakeover: true, clientNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    ['small windows', { serverMaxWindowBits: 9, clientMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=8'],
  ];
  for (const [label, server, response] of cases) {
    const echo = await echoServer(t, server);
    const page = await context.newPage();
    await page.goto(echo.url.replace(/^ws/, 'http'), { timeout: WAIT });
    const result = (await page.evaluate(
      ([url, list]) => (globalThis as unknown as { roundTrip(u: string, m: unknown): Promise<unknown> }).roundTrip(url, list),
      [echo.url, messages] as const,
    )) as { extensions: string; back: Array<{ binary: boolean; data: string }>; error?: boolean; timeout?: boolean };
    await page.close();
    t.equal(result.extensions, response, `${label}: Chromium agreed`);
    t.notOk(result.error ?? result.timeout, `${label}: no error, no timeout`);
    sameMessages(
      t,
      result.back.map((m) => ({ binary: m.binary, data: m.binary ? Buffer.from(m.data, 'base64') : m.data })),
      `chromium, ${label}`,
    );
    t.ok((echo.compressed[0] as number) >= 4, `${label}: Chromium compressed ${echo.compressed[0]} messages`);
    t.strictSame(echo.errors, []);
  }
});

/** Our client pieces: connect, negotiate under `options`, send every message compressed, read the echoes. */
async function ourClient(url: string, options: DeflateClientOptions): Promise<{ params: DeflateParameters | undefined; back: Array<{ data: Buffer; binary: boolean }> }> {
  const policy = deflateClientPolicy(options);
  const built = buildClientRequest(url, { perMessageDeflate: policy });
  const socket = connect(built.port, built.host);
  socket.setTimeout(WAIT, () => socket.destroy(new Error('no answer within 20 s')));
  const parser = new ResponseHeadParser();
  const pool = new ZlibPool();
  const back: Array<{ data: Buffer; binary: boolean }> = [];
  let params: DeflateParameters | undefined;
  let receiver: Receiver | undefined;
  let failure: unknown;
  const closeFrame = (code: number): Buffer => Buffer.concat(encodeFrame(Opcode.Close, encodeClosePayload(code, ''), { mask: true }));

  const start = (rest: Buffer): void => {
    const codec = params === undefined ? undefined : codecOptions(params, 'client');
    const deflater = codec && new Deflater({ ...codec.deflater, threshold: 0, pool });
    const inflater = codec && new Inflater({ ...codec.inflater, pool });
    receiver = new Receiver(
      { role: 'client', allowRsv1: codec !== undefined, maxPayload: 1024 * 1024 },
      {
        onMessage(data, binary, rsv1) {
          const message = rsv1 ? (inflater as Inflater).inflate(data) : data;
          if (message instanceof WebSocketError) {
            failure = message;
            socket.end(closeFrame(message.closeCode ?? 1011));
            return;
          }
          back.push({ data: message, binary });
          if (back.length === MESSAGES.length) socket.end(closeFrame(1000));
        },
        onPing() {},
        onPong() {},
        onClose() {
          socket.end();
        },
        onError(error) {
          failure = error;
          socket.destroy();
        },
      },
    );
    for (const { data, binary } of MESSAGES) {
      const payload = deflater?.compress(data);
      socket.write(Buffer.concat(encodeFrame(binary ? Opcode.Binary : Opcode.Text, payload ?? data, { rsv1: payload !== undefined, mask: true })));
    }
    receiver.push(rest);
  };

  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.write(built.request));
    socket.on('data', (chunk: Buffer) => {
      if (receiver !== undefined) return receiver.push(chunk);
      const head = parser.push(chunk);
      if (head.state === 'incomplete') return;
      if (head.state === 'error') return reject(head.error);
      const check = validateServerResponse(head.head, { key: built.key, perMessageDeflate: policy });
      if (!check.ok) return reject(check.error);
      params = check.deflate;
      start(head.rest);
    });
  });
  pool.clear();
  if (failure !== undefined) throw failure;
  return { params, back };
}

t.test('our client pieces against a ws server', async (t) => {
  const cases: Array<[DeflateClientOptions, object, Partial<DeflateParameters>]> = [
    [{}, { threshold: 0 }, {}],
    [{ serverNoContextTakeover: true, clientNoContextTakeover: true }, { threshold: 0 }, { serverNoContextTakeover: true, clientNoContextTakeover: true }],
    [{ serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, { threshold: 0 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 9 }],
    [{}, { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 8 }, { serverMaxWindowBits: 10, clientMaxWindowBits: 8 }],
    [{ clientMaxWindowBits: false }, { threshold: 0 }, {}],
  ];
  for (const [client, server, params] of cases) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: server, maxPayload: 1024 * 1024 });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (data: Buffer, binary: boolean) => ws.send(data, { binary })));
    const result = await ourClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, client);
    t.strictSame(result.params, { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...params }, JSON.stringify(client));
    sameMessages(t, result.back, `ws server, ${JSON.stringify(server)}`);
    await new Promise((resolve) => wss.close(resolve));
  }
});

t.test('our client pieces against a Python websockets server', { skip: hasPython ? false : 'python3-websockets is not installed' }, async (t) => {
  const script = [
    'import asyncio, json, sys, websockets',
    'from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory',
    'async def echo(ws, *args):',
    '    async for m in ws:',
    '        await ws.send(m)',
    'async def main():',
    '    factory = ServerPerMessageDeflateFactory(**json.loads(sys.argv[1]))',
    "    async with websockets.serve(echo, '127.0.0.1', 0, extensions=[factory], compression=None, max_size=2**24) as server:",
    '        print(server.sockets[0].getsockname()[1], flush=True)',
    '        await asyncio.sleep(60)',
    'asyncio.run(main())',
  ].join('\n');
  const cases: Array<[object, DeflateClientOptions, Partial<DeflateParameters>]> = [
    [{}, {}, {}],
    [{ server_no_context_takeover: true, client_no_context_takeover: true }, {}, { serverNoContextTakeover: true, clientNoContextTakeover: true }],
    [{ server_max_window_bits: 10, client_max_window_bits: 9 }, {}, { serverMaxWindowBits: 10, clientMaxWindowBits: 9 }],
    // Our 8-bit compressor against Python's 256-byte inflate window (see above).
    [{}, { serverMaxWindowBits: 9, clientMaxWindowBits: 8 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 8 }],
  ];
  for (const [factory, client, params] of cases) {
    const child = spawn(PYTHON, ['-c', script, JSON.stringify(factory)], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => child.kill());
    let output = '';
    for await (const chunk of child.stdout) {
      output += String(chunk);
      if (output.includes('\n')) break;
    }
    const result = await ourClient(`ws://127.0.0.1:${Number(output.trim())}/`, client);
    t.strictSame(result.params, { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...params }, JSON.stringify(factory));
    sameMessages(t, result.back, `python server, ${JSON.stringify(factory)}`);
    child.kill();
  }
});
