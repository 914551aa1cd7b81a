/**
 * The interop fixture: our server as every foreign client meets it, the plan of cases they all run,
 * and the assertions on what they report.
 *
 * Every peer runs the same PLAN (peers/plan.js for the JavaScript ones, peers/client.py for Python)
 * and reports what it observed; {@link checkPlan} states what is right, exactly, once for all.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import type { Test } from 'tap';
import { listen } from '../helpers.js';
import { within } from '../conformance/harness.js';
import type { WebSocketServer } from '../../src/server/server.js';
import type { WebSocket } from '../../src/websocket.js';

/** What every peer does (sizes in bytes). Mirrored by peers/plan.js and peers/client.py, which take it as JSON. */
export const PLAN = {
  texts: ['hello', 'héllo wörld', '🎉 𝄞 𠜎: 4-byte UTF-8', '', '🎉'.repeat(20_000)],
  sizes: [0, 125, 126, 65535, 65536, 8 * 1024 * 1024],
  order: 1000,
  ping: 'are you there? 🏓',
  closeClient: [4000, 'bye ✓ 🎉'] as [number, string],
  closeServer: [4001, 'server says bye ✓'] as [number, string],
  offers: [['chat.v1', 'chat.v2'], ['chat.v1'], ['x-other']],
  /** For peers that can send a message in fragments (Python's websockets, our client). */
  fragments: ['héllo ', '🎉 ', '', 'wörld'],
};

/** The server's subprotocols, by its preference; what it must pick for each of PLAN.offers. */
export const SERVER_PROTOCOLS = ['chat.v2', 'chat.v1'];
export const EXPECTED_PROTOCOLS = ['chat.v2', 'chat.v1', ''];

/** How long a bounded wait of these tests may take before it fails. */
export const WAIT = 20_000;

/** byte i = (i * 31 + 7) mod 256 (31 is odd, so the pattern repeats every 256 bytes). */
export function pattern(n: number): Buffer {
  const block = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 0xff));
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 256) block.copy(out, i, 0, Math.min(256, n - i));
  return out;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Resolves once `condition()` holds; fails after `ms` (polling every 10 ms). */
export async function until(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CloseRecord {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface InteropServer {
  server: WebSocketServer;
  url: string;
  /** The extensions each connection agreed to, in order (what its 101 said). */
  extensions: string[];
  /** The server's permessage-deflate option for this run. */
  compression: CompressionMode;
  /** The close event of every connection the server had, in order. */
  closes: CloseRecord[];
  /** Payloads of the pongs that answered the server's pings. */
  pongs: string[];
}

const PEERS = new URL('./peers/', import.meta.url);

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>simpatico-ws interop</title>
<script type="module">
  import { makeCases } from '/whatwg-cases.js';
  import { runPlan } from '/plan.js';
  const url = location.origin.replace(/^http/, 'ws') + '/';
  window.runPlan = (plan) => runPlan(makeCases(WebSocket), url, plan);
</script>
`;

/**
 * Our server as the foreign clients meet it: text and binary echoed; 'cmd:ping:<p>' pings with <p>
 * and reports the pong as 'pong:<p>'; 'cmd:close:<code>:<reason>' closes. Its httpHandler serves
 * the browser page and the case scripts from the same origin.
 */
/**
 * The three ways a server may run permessage-deflate (RFC 7692): not at all; the memory-bounded
 * mode (`true`: no context takeover either way); with context takeover both ways (`{}`).
 */
export type CompressionMode = false | true | Record<string, never>;
export const COMPRESSION_MODES: { name: string; mode: CompressionMode }[] = [
  { name: 'uncompressed', mode: false },
  { name: 'permessage-deflate, no context takeover', mode: true },
  { name: 'permessage-deflate, context takeover', mode: {} },
];

export async function interopServer(t: Test, compression: CompressionMode = false): Promise<InteropServer> {
  const closes: CloseRecord[] = [];
  const pongs: string[] = [];
  const extensions: string[] = [];
  const files: Record<string, string> = {
    '/': PAGE,
    '/whatwg-cases.js': readFileSync(new URL('whatwg-cases.js', PEERS), 'utf8'),
    '/plan.js': readFileSync(new URL('plan.js', PEERS), 'utf8'),
  };
  const server = await listen(t, {
    protocols: SERVER_PROTOCOLS,
    maxPayload: 16 * 1024 * 1024,
    perMessageDeflate: compression,
    httpHandler: (request) => {
      const body = files[request.url];
      if (body === undefined) return { status: 404, body: 'not found' };
      const type = request.url === '/' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
      return { status: 200, headers: { 'content-type': type, 'cache-control': 'no-store' }, body };
    },
  });
  server.on('connection', (ws) => {
    extensions.push(ws.extensions);
    ws.on('message', (data, isBinary) => {
      if (typeof data === 'string' && data.startsWith('cmd:')) command(ws, data, pongs);
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason, wasClean) => closes.push({ code, reason, wasClean }));
  });
  return { server, url: server.url, closes, pongs, extensions, compression };
}

function command(ws: WebSocket, text: string, pongs: string[]): void {
  const [, verb, ...rest] = text.split(':');
  if (verb === 'ping') {
    const payload = rest.join(':');
    ws.once('pong', (data) => {
      pongs.push(data.toString());
      ws.send(`pong:${data.toString()}`);
    });
    ws.ping(payload);
  } else if (verb === 'close') {
    ws.close(Number(rest[0]), rest.slice(1).join(':'));
  }
}

/** What a peer reports for one run of PLAN (a case that threw reports `{ error }`). */
export interface PlanResults {
  text?: { got: string[]; close: CloseRecord };
  binary?: { got: { binary: boolean; length: number; sha256: string }[]; close: CloseRecord };
  order?: { got: string[]; close: CloseRecord };
  ping?: { got: string; close: CloseRecord };
  closeClient?: { close: CloseRecord };
  closeServer?: { close: CloseRecord };
  subprotocol?: { got: string[] };
  [name: string]: unknown;
}

const NORMAL: CloseRecord = { code: 1000, reason: '', wasClean: true };

/**
 * Asserts, case by case, that a peer's report of PLAN is exactly right, and that our server saw
 * each connection end cleanly with the codes and reasons the peer sent.
 */
export async function checkPlan(t: Test, results: PlanResults, srv: InteropServer, traits: PeerTraits): Promise<void> {
  for (const name of Object.keys(EXPECTED)) {
    await t.test(name, async (t) => {
      const got = results[name];
      if (got === undefined || (typeof got === 'object' && got !== null && 'error' in got)) {
        t.fail(`the peer did not complete ${name}: ${JSON.stringify(got)}`);
        return;
      }
      await EXPECTED[name](t, got as never, srv, traits);
    });
  }
  // Every connection the peer opened ended with both Close frames exchanged, but those it refused
  // itself after the 101 (which our server sees as TCP going away: 1006).
  const refused = traits.refusesUnselected ? EXPECTED_PROTOCOLS.filter((p) => p === '').length : 0;
  await until(() => srv.closes.length >= connectionsPerPlan(), 'a close event for every connection');
  // Every foreign client offers permessage-deflate: with the server's compression on, every
  // connection agreed to it, in the mode the server chose.
  const agreed =
    srv.compression === false ? '' : srv.compression === true ? 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' : /^permessage-deflate(;|$)/;
  t.ok(
    srv.extensions.length > 0 && srv.extensions.every((e) => (typeof agreed === 'string' ? e === agreed : agreed.test(e))),
    `every connection agreed to ${agreed === '' ? 'no extension' : String(agreed)} (${[...new Set(srv.extensions)].join(' | ')})`,
  );
  t.same(srv.closes.filter((c) => !c.wasClean), Array(refused).fill({ code: 1006, reason: '', wasClean: false }), 'the server saw only clean closes, but for refused handshakes');
}

/** How many connections a run of PLAN opens: one per case, one per offer of the subprotocol case. */
function connectionsPerPlan(): number {
  return Object.keys(EXPECTED).length - 1 + PLAN.offers.length;
}

/** How a peer differs from the others where RFC 6455 leaves room. */
export interface PeerTraits {
  /**
   * The peer fails the handshake when it offered subprotocols and the 101 selects none. RFC 6455
   * §4.1 allows the 101 to omit the header; the WHATWG WebSocket (browsers, Node's) and the ws
   * client refuse it, Python's websockets accepts it.
   */
  refusesUnselected: boolean;
  /** The binary sizes this peer runs, when not PLAN's (a peer's own limit; the test says why). */
  sizes?: number[];
}

const EXPECTED: Record<string, (t: Test, got: never, srv: InteropServer, traits: PeerTraits) => Promise<void> | void> = {
  text: (t, got: NonNullable<PlanResults['text']>) => {
    t.equal(got.got.length, PLAN.texts.length, 'one echo per text');
    got.got.forEach((text, i) => t.ok(text === PLAN.texts[i], `text ${i} (${Buffer.byteLength(PLAN.texts[i])} bytes) echoed exactly, as text`));
    t.same(got.close, NORMAL, 'closed cleanly with 1000');
  },
  binary: (t, got: NonNullable<PlanResults['binary']>, _srv, traits) => {
    const sizes = traits.sizes ?? PLAN.sizes;
    t.same(
      got.got,
      sizes.map((n) => ({ binary: true, length: n, sha256: sha256(pattern(n)) })),
      `binary of ${sizes.join(', ')} bytes echoed exactly, as binary`,
    );
    t.same(got.close, NORMAL, 'closed cleanly with 1000');
  },
  order: (t, got: NonNullable<PlanResults['order']>) => {
    t.same(got.got, Array.from({ length: PLAN.order }, (_, i) => `message ${i}`), `${PLAN.order} messages echoed in order`);
    t.same(got.close, NORMAL, 'closed cleanly with 1000');
  },
  ping: (t, got: NonNullable<PlanResults['ping']>, srv) => {
    t.equal(got.got, `pong:${PLAN.ping}`, "the peer answered our server's ping with its payload");
    t.ok(srv.pongs.includes(PLAN.ping), 'the server received that pong');
    t.same(got.close, NORMAL, 'closed cleanly with 1000');
  },
  closeClient: async (t, got: NonNullable<PlanResults['closeClient']>, srv) => {
    const [code, reason] = PLAN.closeClient;
    t.same(got.close, { code, reason, wasClean: true }, 'the peer saw our echo of its code and reason');
    await until(() => srv.closes.some((c) => c.code === code), 'the server-side close event');
    t.same(srv.closes.find((c) => c.code === code), { code, reason, wasClean: true }, 'the server saw its code and reason');
  },
  closeServer: async (t, got: NonNullable<PlanResults['closeServer']>, srv) => {
    const [code, reason] = PLAN.closeServer;
    t.same(got.close, { code, reason, wasClean: true }, "the peer saw the server's code and reason");
    await until(() => srv.closes.some((c) => c.code === code), 'the server-side close event');
    // The server's close event reports the peer's answering Close: its code must be ours (§5.5.1);
    // echoing the reason too is the peer's choice (Node's WebSocket sends the code alone).
    const seen = srv.closes.find((c) => c.code === code);
    t.ok(seen?.wasClean, 'a clean close on the server side');
    t.ok(seen?.reason === '' || seen?.reason === reason, `the peer answered with code ${code} and reason '' or ours (${JSON.stringify(seen?.reason)})`);
  },
  subprotocol: (t, got: NonNullable<PlanResults['subprotocol']>, _srv, traits) => {
    const expected = EXPECTED_PROTOCOLS.map((p) => (p === '' && traits.refusesUnselected ? '<refused>' : p));
    t.same(got.got, expected, `offers ${JSON.stringify(PLAN.offers)} → server preference ${JSON.stringify(SERVER_PROTOCOLS)}`);
  },
};

// ---- peers that may be missing --------------------------------------------------------------------

export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';

/** Why the Python peer cannot run here, or false when it can. */
export function pythonSkip(): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 20_000 });
  if (probe.error !== undefined) return `${PYTHON} is missing (apt-get install python3 python3-websockets)`;
  if (probe.status !== 0) return `Python's websockets is not importable by ${PYTHON} (apt-get install python3-websockets)`;
  return false;
}

/**
 * The browser's case scripts, loaded in this process (for the ws client). They stay plain
 * JavaScript because the browser runs them as they are; their types are stated here, and the
 * import goes through a URL so that TypeScript does not look for declarations.
 */
export async function loadPeerScripts(): Promise<{
  makeCases(WebSocket: unknown): object;
  runPlan(cases: object, url: string, plan: typeof PLAN): Promise<PlanResults>;
}> {
  const cases = (await import(new URL('whatwg-cases.js', PEERS).href)) as { makeCases(WebSocket: unknown): object };
  const plan = (await import(new URL('plan.js', PEERS).href)) as { runPlan(cases: object, url: string, plan: typeof PLAN): Promise<PlanResults> };
  return { makeCases: cases.makeCases, runPlan: plan.runPlan };
}

/** The path of a peer script. */
export const peer = (name: string): string => new URL(name, PEERS).pathname;

/**
 * Runs a peer program that runs the plan and prints its {@link PlanResults} as JSON on stdout;
 * asserts that it exited cleanly. `name` says who it is in failures ("the Python client").
 */
export async function runPlanPeer(t: Test, name: string, command: string, args: string[]): Promise<PlanResults> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill();
  });
  // Decode as one UTF-8 stream: a character split across two chunks must not be mangled.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await within(new Promise<number | null>((r) => child.once('close', (status) => r(status))), `${name} to finish`, 2 * WAIT);
  t.equal(code, 0, `${name} exited cleanly ${stderr}`);
  return JSON.parse(stdout) as PlanResults;
}
