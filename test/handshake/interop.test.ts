// Real peers over real sockets: node:http's IncomingMessage through the same validator, and the
// `ws` library as client and as server against our pure handshake code.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import {
  RequestHeadParser,
  ResponseHeadParser,
  buildAcceptResponse,
  buildClientRequest,
  validateServerResponse,
  validateUpgrade,
  type ResponseHead,
} from '../../src/handshake/index.js';

const execFileAsync = promisify(execFile);
const port = (server: Server | WebSocketServer): number => (server.address() as AddressInfo).port;

/** Write `request`, read until the response head is complete and `bodyBytes` more have arrived (or EOF). */
async function exchange(
  portNumber: number,
  request: Buffer,
  bodyBytes = 0,
): Promise<{ head: ResponseHead; rest: Buffer }> {
  const socket: Socket = connect(portNumber, '127.0.0.1');
  socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  await once(socket, 'connect');
  socket.write(request);
  const parser = new ResponseHeadParser();
  let head: ResponseHead | undefined;
  let rest = Buffer.alloc(0);
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      if (head === undefined) {
        const result = parser.push(chunk);
        if (result.state === 'error') throw result.error;
        if (result.state === 'complete') {
          head = result.head;
          rest = Buffer.from(result.rest);
        }
      } else {
        rest = Buffer.concat([rest, chunk]);
      }
      if (head !== undefined && rest.length >= bodyBytes) break;
    }
  } finally {
    socket.destroy();
  }
  if (head === undefined) throw new Error('the connection closed before a response head');
  return { head, rest };
}

t.test('node:http IncomingMessage goes through the same validator', async (t) => {
  const seen: IncomingMessage[] = [];
  const server = createHttpServer((req) => {
    // A plain request: the validator says 426; we write its response bytes ourselves.
    const decision = validateUpgrade(req);
    req.socket.end(decision.ok ? Buffer.alloc(0) : decision.response);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const decision = validateUpgrade(req, {
      protocols: (offered, request) => {
        seen.push(request as IncomingMessage);
        return offered.includes('chat') ? 'chat' : undefined;
      },
      allowedOrigins: ['http://allowed.example'],
    });
    socket.end(decision.ok ? buildAcceptResponse(decision.accept, { protocol: decision.protocol }) : decision.response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());

  const built = buildClientRequest(`ws://127.0.0.1:${port(server)}/chat`, { protocols: ['chat'], origin: 'http://allowed.example' });
  const ok = await exchange(port(server), built.request);
  t.equal(ok.head.status, 101);
  t.strictSame(validateServerResponse(ok.head, { key: built.key, protocols: ['chat'] }), { ok: true, protocol: 'chat', extensions: [], deflate: undefined });
  t.equal(seen.length, 1);
  t.equal(seen[0]?.url, '/chat', 'the callback receives the IncomingMessage itself');

  const denied = buildClientRequest(`ws://127.0.0.1:${port(server)}/chat`, { origin: 'http://evil.example' });
  const refusal = await exchange(port(server), denied.request, 1);
  t.equal(refusal.head.status, 403);
  t.match(refusal.rest.toString(), /evil\.example is not allowed/);

  const badVersion = Buffer.from(denied.request.toString('latin1').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'), 'latin1');
  const version = await exchange(port(server), badVersion, 1);
  t.equal(version.head.status, 426);
  t.equal(version.head.headers['sec-websocket-version'], '13');

  const plain = await exchange(port(server), Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), 1);
  t.equal(plain.head.status, 426);
  t.equal(plain.head.headers.upgrade, 'websocket');
});

t.test('our client request against a ws server', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true, handleProtocols: (set) => (set.has('v2') ? 'v2' : false) });
  await once(wss, 'listening');
  t.teardown(() => wss.close());
  wss.on('connection', (ws) => ws.send('hello')); // sent at once, right behind the 101

  const built = buildClientRequest(`ws://127.0.0.1:${port(wss)}/`, {
    protocols: ['v1', 'v2'],
    extensions: 'permessage-deflate; client_max_window_bits',
  });
  // ws sends "hello" deflated or not; either way at least a 2-byte frame header follows the head.
  const { head, rest } = await exchange(port(wss), built.request, 2);
  t.equal(head.status, 101);
  const check = validateServerResponse(head, { key: built.key, protocols: ['v1', 'v2'], extensions: ['permessage-deflate'] });
  t.match(check, { ok: true, protocol: 'v2', extensions: [{ name: 'permessage-deflate' }] });
  t.ok(rest.length >= 2, 'the first frame is handed back, not dropped');
  t.equal((rest[0] as number) & 0x0f, 0x1, 'a text frame');
  t.equal((rest[1] as number) & 0x80, 0, 'unmasked, from a server');

  // Without the extension on offer, ws must not accept it, and we say so if it did.
  const plainOffer = buildClientRequest(`ws://127.0.0.1:${port(wss)}/`);
  const plainAnswer = await exchange(port(wss), plainOffer.request);
  t.strictSame(validateServerResponse(plainAnswer.head, { key: plainOffer.key }), { ok: true, protocol: undefined, extensions: [], deflate: undefined });

  // ws refuses a broken request; we read its status.
  const broken = Buffer.from(plainOffer.request.toString('latin1').replace(/Sec-WebSocket-Key: [^\r]*/, 'Sec-WebSocket-Key: nope'), 'latin1');
  const refusal = await exchange(port(wss), broken);
  t.equal(refusal.head.status, 400);
  t.match(validateServerResponse(refusal.head, { key: plainOffer.key }), { ok: false, error: { code: 'WS_ERR_HANDSHAKE_STATUS', status: 400 } });
});

/** A minimal standalone server made of our pieces: parser → validator → 101 → one text frame. */
async function miniServer(t: Pick<typeof import('tap').default, 'teardown'>, allowedOrigins?: string[]): Promise<{ port: number; leftovers: Buffer[] }> {
  const leftovers: Buffer[] = [];
  const server = createServer((socket) => {
    const parser = new RequestHeadParser();
    socket.on('error', () => socket.destroy());
    socket.on('data', function onData(chunk: Buffer) {
      const result = parser.push(chunk);
      if (result.state === 'incomplete') return;
      socket.off('data', onData);
      if (result.state === 'error') {
        socket.end();
        return;
      }
      leftovers.push(Buffer.from(result.rest));
      const decision = validateUpgrade(result.head, { protocols: ['chat'], ...(allowedOrigins ? { allowedOrigins } : {}) });
      if (!decision.ok) {
        socket.end(decision.response);
        return;
      }
      socket.write(buildAcceptResponse(decision.accept, { protocol: decision.protocol, headers: { 'X-Powered-By': 'simpatico-ws' } }));
      socket.end(Buffer.from([0x81, 0x02, 0x68, 0x69])); // text "hi", then FIN of TCP (the test ends here)
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: port(server), leftovers };
}

t.test('a ws client against a server built from our handshake pieces', async (t) => {
  const { port: serverPort, leftovers } = await miniServer(t);
  const client = new WebSocket(`ws://127.0.0.1:${serverPort}/chat?x=1`, ['chat'], { perMessageDeflate: true });
  let upgradeHeaders: IncomingMessage['headers'] | undefined;
  client.on('upgrade', (res) => (upgradeHeaders = res.headers));
  const [message] = (await once(client, 'message')) as [Buffer];
  t.equal(message.toString(), 'hi');
  t.equal(client.protocol, 'chat');
  t.equal(client.extensions, '', 'permessage-deflate declined by omission');
  t.equal(upgradeHeaders?.['x-powered-by'], 'simpatico-ws');
  t.strictSame(leftovers, [Buffer.alloc(0)]);
  client.terminate();
});

t.test('a ws client refused by origin sees our 403', async (t) => {
  const { port: serverPort } = await miniServer(t, ['http://good.example']);
  const client = new WebSocket(`ws://127.0.0.1:${serverPort}/`, { origin: 'http://evil.example' });
  const [request, response] = (await once(client, 'unexpected-response')) as [{ destroy(): void }, IncomingMessage];
  t.equal(response.statusCode, 403);
  t.equal(response.headers.connection, 'close');
  let body = '';
  for await (const chunk of response) body += String(chunk);
  t.equal(body, 'origin http://evil.example is not allowed\n');
  request.destroy(); // with an 'unexpected-response' listener, ending the request is ours to do
});

// Python's websockets library (Debian's, for /usr/bin/python3): a second, independent peer.
const PYTHON = '/usr/bin/python3';
const hasPythonWebsockets = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

t.test('a Python websockets client against our handshake pieces', { skip: hasPythonWebsockets ? false : 'python3-websockets is not installed' }, async (t) => {
  const { port: serverPort } = await miniServer(t);
  const script = [
    'import asyncio, sys, websockets',
    'async def main():',
    "    ws = await asyncio.wait_for(websockets.connect(sys.argv[1], subprotocols=['chat']), 5)",
    '    message = await asyncio.wait_for(ws.recv(), 5)',
    "    print(ws.subprotocol, message, flush=True)",
    'asyncio.run(main())',
  ].join('\n');
  const { stdout } = await execFileAsync(PYTHON, ['-c', script, `ws://127.0.0.1:${serverPort}/chat`], { timeout: 20_000 });
  t.equal(stdout.trim(), 'chat hi');
});

t.test('our client request against a Python websockets server', { skip: hasPythonWebsockets ? false : 'python3-websockets is not installed' }, async (t) => {
  const script = [
    'import asyncio, websockets',
    'async def handler(ws, *args):',
    "    await ws.send('hello')",
    '    await ws.wait_closed()',
    'async def main():',
    "    async with websockets.serve(handler, '127.0.0.1', 0, subprotocols=['v2']) as server:",
    '        print(server.sockets[0].getsockname()[1], flush=True)',
    '        await asyncio.sleep(20)',
    'asyncio.run(main())',
  ].join('\n');
  const child = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => child.kill());
  let output = '';
  for await (const chunk of child.stdout) {
    output += String(chunk);
    if (output.includes('\n')) break;
  }
  const serverPort = Number(output.trim());
  t.ok(serverPort > 0, 'the Python server is listening');

  const built = buildClientRequest(`ws://127.0.0.1:${serverPort}/`, { protocols: ['v1', 'v2'] });
  const { head, rest } = await exchange(serverPort, built.request, 7);
  t.equal(head.status, 101);
  t.strictSame(validateServerResponse(head, { key: built.key, protocols: ['v1', 'v2'] }), { ok: true, protocol: 'v2', extensions: [], deflate: undefined });
  t.same(rest.subarray(0, 7), Buffer.from('\x81\x05hello', 'latin1'), 'the first frame follows the head');

  const broken = Buffer.from(built.request.toString('latin1').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 7'), 'latin1');
  const refusal = await exchange(serverPort, broken);
  t.equal(refusal.head.status, 400, 'websockets answers 400 here, where we answer 426');
  t.match(validateServerResponse(refusal.head, { key: built.key }), { ok: false, error: { code: 'WS_ERR_HANDSHAKE_STATUS', status: 400 } });
});
