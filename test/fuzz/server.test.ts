// Fuzzing a whole running server: a raw TCP client sends mutated handshakes and mutated frame
// streams, in random pieces, to an in-process echo WebSocketServer. For every case the server's
// answer is predicted from the pure modules (the head parser, validateUpgrade, the Receiver) and
// compared byte for byte; after every case a fresh, valid connection must still be accepted and
// echoed. At the end every server-side socket and WebSocket has been garbage-collected, no client
// is left, and the heap is back near its baseline.
//
// Memory is measured in this process (see test/limits/memory.ts): the server, its sockets and
// WebSockets are then in reach of WeakRefs, an exact leak check on top of the heap figures. The raw
// clients live here too, but are all gone when the heap is measured.
import t from 'tap';
import * as net from 'node:net';
import { Receiver, FrameParser, encodeClosePayload } from '../../src/frames/index.js';
import { RequestHeadParser, ResponseHeadParser, acceptKey, validateUpgrade } from '../../src/handshake/index.js';
import { listen, maskedFrame } from '../helpers.js';
import { Tracker, heapAfterGc, mb } from '../limits/memory.js';
import { fuzzRun, split, type Random } from './run.js';
import { RecordingSink, mutate, noise, validStream, type Limits } from './wire.js';

const run = fuzzRun(import.meta.url, { seed: 0x5e7e, slice: 200, sliceSeconds: 20, longSeconds: 120 });
const LIMITS: Limits = { role: 'server', maxPayload: 4096, allowRsv1: false };
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** A hang guard, not a timing assertion: a case that has not ended after this long is a failure. */
const STUCK_MS = 10_000;

/** The server's endpoint and subprotocols: refusals with 404 and the negotiation are fuzzed too. */
const PATH = '/chat';
const PROTOCOLS = ['chat.v2', 'chat.v1'];

function request(port: number, offer = ''): string {
  const protocols = offer === '' ? '' : `Sec-WebSocket-Protocol: ${offer}\r\n`;
  return `GET ${PATH}?room=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${protocols}\r\n`;
}

function mutateHead(r: Random, head: Buffer): Buffer {
  let b: Buffer = Buffer.from(head);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(b.length + 1);
    const k = r.int(5);
    if (k === 0 && at < b.length) b[at] = r.pick([0x0d, 0x0a, 0x20, 0x3a, 0x00, 0x7f, 0xff, r.int(256)]);
    else if (k === 1) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(10))]);
    else if (k === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + r.int(40)), b.subarray(at)]);
    else if (k === 3) b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(['\r\n', 'X-A: b\r\n', 'Upgrade: x\r\n', 'Host: y\r\n', ' ', ':'])), b.subarray(at)]);
  }
  return b;
}

/** Connects, writes `chunks` one per turn of the event loop, then ends (FIN) or resets; resolves with all received. */
function exchange(port: number, chunks: Buffer[], finish: 'end' | 'destroy'): Promise<{ bytes: Buffer; reset: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const received: Buffer[] = [];
    let reset = finish === 'destroy';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server did not close the connection'));
    }, STUCK_MS);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => (reset = true)); // ECONNRESET / EPIPE: the server closed first
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ bytes: Buffer.concat(received), reset });
    });
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        await new Promise((r) => setImmediate(r));
      }
      if (finish === 'end') socket.end();
      else socket.destroy();
    });
  });
}

/** The frames a server sends, as [opcode, payload hex]; undefined if they do not parse. */
function serverFrames(bytes: Buffer): [number, string][] | string {
  const parser = new FrameParser({ role: 'client', maxPayload: Infinity });
  const frames = parser.push(Buffer.from(bytes)).map((f): [number, string] => [(f.fin ? 0x80 : 0) | f.opcode, f.payload.toString('hex')]);
  if (parser.error !== undefined) return `the server sent a malformed frame: ${parser.error.code}`;
  if (parser.bufferedBytes !== 0) return 'the server sent a partial frame';
  return frames;
}

/** What an echo server must answer to `input`, predicted from the pure modules. */
function predict(input: Buffer): { status: number | undefined; accept?: string; protocol?: string; frames: [number, string][] } {
  const head = new RequestHeadParser().push(Buffer.from(input));
  if (head.state === 'incomplete') return { status: undefined, frames: [] };
  if (head.state === 'error') return { status: head.error.status, frames: [] };
  const decision = validateUpgrade(head.head, { protocols: PROTOCOLS });
  if (!decision.ok) return { status: decision.error.status, frames: [] };
  // The path is the resource without its query (RFC 6455 §3); another one gets 404.
  if (decision.resource.split('?')[0] !== PATH) return { status: 404, frames: [] };
  const sink = new RecordingSink();
  new Receiver(LIMITS, sink).push(Buffer.from(head.rest));
  const frames: [number, string][] = [];
  for (const e of sink.events) {
    if (e[0] === 'message') frames.push([e[2] ? 0x82 : 0x81, e[1]]);
    else if (e[0] === 'ping') frames.push([0x8a, e[1]]);
    else if (e[0] === 'close') frames.push([0x88, (e[1] === 1005 ? encodeClosePayload() : encodeClosePayload(e[1], e[2])).toString('hex')]);
    else if (e[0] === 'error') frames.push([0x88, encodeClosePayload(e[2]).toString('hex')]);
  }
  // A mutation may leave a different, still valid key: the proof is of the key actually sent.
  return { status: 101, accept: acceptKey(decision.key), protocol: decision.protocol, frames };
}

/** Compares what the server sent with the prediction. */
function check(input: Buffer, got: { bytes: Buffer; reset: boolean }): string | undefined {
  const expected = predict(input);
  if (expected.status === undefined) return got.bytes.length === 0 ? undefined : `an incomplete request was answered: ${got.bytes.toString('latin1', 0, 60)}`;
  if (got.reset && got.bytes.length === 0) return undefined; // we reset before the answer came
  const response = new ResponseHeadParser().push(Buffer.from(got.bytes));
  if (response.state !== 'complete') return `no complete response head: ${got.bytes.toString('latin1', 0, 80)}`;
  if (response.head.status !== expected.status) return `status ${response.head.status}, expected ${expected.status}`;
  if (expected.status !== 101) {
    // A refusal is a complete HTTP response: its body is exactly Content-Length bytes, and nothing follows.
    const length = Number(response.head.headers['content-length']);
    return response.rest.length === length ? undefined : `refusal body of ${response.rest.length} bytes, Content-Length ${length}`;
  }
  if (response.head.headers['sec-websocket-accept'] !== expected.accept) return 'wrong Sec-WebSocket-Accept';
  if (response.head.headers['sec-websocket-protocol'] !== expected.protocol) return `subprotocol ${response.head.headers['sec-websocket-protocol']}, expected ${expected.protocol}`;
  const frames = serverFrames(response.rest);
  if (typeof frames === 'string') return frames;
  const want = JSON.stringify(expected.frames);
  const have = JSON.stringify(frames);
  // After a reset (ours, or the server's answer to bytes after its close) the tail may be lost.
  if (got.reset ? !want.startsWith(have.slice(0, -1)) : have !== want) return `server sent ${have.slice(0, 300)}, expected ${want.slice(0, 300)}`;
  return undefined;
}

/** A fresh, valid client: handshake, one echo, a clean close. */
async function probe(port: number, i: number): Promise<string | undefined> {
  const text = `probe ${i}`;
  const input = Buffer.concat([Buffer.from(request(port)), maskedFrame(0x1, text), maskedFrame(0x8, encodeClosePayload(1000, 'done'))]);
  const got = await exchange(port, [input], 'end');
  const response = new ResponseHeadParser().push(got.bytes);
  if (response.state !== 'complete' || response.head.status !== 101) return `probe: no 101 (${got.bytes.toString('latin1', 0, 40)})`;
  const frames = serverFrames(response.rest);
  const want = [[0x81, Buffer.from(text).toString('hex')], [0x88, encodeClosePayload(1000, 'done').toString('hex')]];
  return JSON.stringify(frames) === JSON.stringify(want) ? undefined : `probe: ${JSON.stringify(frames)}`;
}

t.test(`whole-server fuzz (seed ${run.seed})`, async (t) => {
  const server = await listen(t, {
    path: PATH,
    protocols: PROTOCOLS,
    maxPayload: LIMITS.maxPayload,
    handshakeTimeout: 5000,
    closeTimeout: 1000,
  });
  const port = server.address().port;
  const tracker = new Tracker(server);
  server.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const failures: string[] = [];
  const tally = { refused: 0, upgraded: 0, incomplete: 0, resets: 0 };
  let baseline = 0;
  for (const i of run.cases()) {
    if (run.ran === 1 || run.ran === 21) baseline = await heapAfterGc(); // again after 20 cases of warm-up
    if (run.ran % 1000 === 0) tracker.prune();
    const r = run.random(i);
    const offer = r.pick(['', '', 'chat.v1', 'chat.v1, chat.v2', 'other', 'chat.v2,chat.v1 , x', 'chat.v1, chat.v1']);
    let head: Buffer = Buffer.from(request(port, offer));
    if (r.chance(0.3)) head = mutateHead(r, head);
    const stream = validStream(r, LIMITS);
    const k = r.int(10);
    const frames = k < 3 ? stream.bytes : k < 9 ? mutate(r, stream, validStream(r, LIMITS).bytes, LIMITS) : noise(r);
    const input = Buffer.concat([head, frames]);
    const cuts = r.cuts(input.length).slice(0, 8);
    const finish = r.chance(0.85) ? 'end' : 'destroy';
    let problem: string | undefined;
    try {
      const got = await exchange(port, split(input, cuts), finish);
      if (got.reset) tally.resets++;
      const status = predict(input).status;
      if (status === undefined) tally.incomplete++;
      else if (status === 101) tally.upgraded++;
      else tally.refused++;
      problem = check(input, got) ?? (await probe(port, i));
    } catch (error) {
      problem = String(error);
    }
    if (problem !== undefined) failures.push(`case ${i} (${finish}, cuts [${cuts}]): ${problem}\n  reproduce: ${run.reproduce(i)}`);
    if (failures.length >= 5) break;
  }
  t.strictSame(failures, [], `no failures (reproduce the run: ${run.reproduce()})`);
  t.comment(`${run.ran} cases: ${tally.upgraded} upgraded, ${tally.refused} refused, ${tally.incomplete} incomplete requests, ${tally.resets} resets`);

  // Every connection is gone: none left in the server, none held anywhere.
  for (let i = 0; i < 100 && server.clients.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(server.clients.size, 0, 'no client left in server.clients');
  const after = await heapAfterGc();
  const live = tracker.live();
  t.equal(live.sockets + live.connections, 0, `all ${tracker.closed} server-side sockets and their WebSockets were garbage-collected`);
  t.comment(`heap after warm-up ${(baseline / 1048576).toFixed(2)} MB, after ${run.ran} cases ${mb(after - baseline)}`);
  // A loose bound on purpose (the heap moves with JIT and pools); the WeakRefs above are the exact check.
  t.ok(after - baseline < 4 * 1048576, 'the heap is back near its baseline');
});
