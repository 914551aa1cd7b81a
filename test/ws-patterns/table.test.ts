// README's "Coming from ws" cannot drift from ws or from this package. Every member ws declares
// (node_modules/@types/ws/index.d.ts: ServerOptions, ClientOptions, PerMessageDeflateOptions, the
// WebSocket and WebSocketServer classes with their events, the module's exports) must have a row in
// the table for it; every row says "same", "different: how" or "not supported: why"; and what a row
// says of an option is checked against the options this package takes (the rules and ws-name tables of
// src/server/server.ts, src/server/settings.ts, src/client/connect.ts and src/server/compression.ts),
// by passing it: "same" and "different" must be taken, "not supported" must be refused with a reason.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../package/install.js';
import { WebSocket, WebSocketServer } from '../../src/index.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const DTS = readFileSync(join(REPO, 'node_modules/@types/ws/index.d.ts'), 'utf8');

type Status = 'same' | 'different' | 'not supported';
interface Row {
  names: string[];
  status: Status;
  text: string;
}

/** The section's tables, by their ### heading. */
function tables(): Map<string, Row[]> {
  const start = README.indexOf('\n## Coming from ws\n');
  const end = README.indexOf('\n## ', start + 1);
  const out = new Map<string, Row[]>();
  let rows: Row[] | undefined;
  for (const line of README.slice(start, end).split('\n')) {
    const heading = /^### (.+)$/.exec(line);
    if (heading !== null) out.set(heading[1], (rows = []));
    if (rows === undefined || !line.startsWith('| ') || line.startsWith('| ws')) continue;
    const [first, second] = line.slice(2, -2).split(' | ');
    const status = /^(same|different|not supported)\b/.exec(second);
    rows.push({ names: [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]), status: (status?.[1] ?? `no status: ${second}`) as Status, text: second });
  }
  return out;
}

/** The text of the `{ … }` block after `opening` in the declarations. */
function block(opening: string): string {
  const at = DTS.indexOf(opening);
  if (at === -1) throw new Error(`@types/ws has no ${opening}`);
  const from = DTS.indexOf('{', at);
  let depth = 0;
  for (let i = from; i < DTS.length; i++) {
    if (DTS[i] === '{') depth++;
    else if (DTS[i] === '}' && --depth === 0) return DTS.slice(from + 1, i);
  }
  throw new Error(`unbalanced ${opening}`);
}

const EMITTER = new Set(['on', 'once', 'off', 'addListener', 'removeListener']);

/** The member names a block declares at its own level (not those of nested object types). */
function members(text: string): string[] {
  const lines = text.split('\n').filter((l) => /^\s+(?:static\s+|readonly\s+)*[A-Za-z_]\w*\??\s*[(:<]/.test(l));
  const indent = Math.min(...lines.map((l) => l.search(/\S/)));
  const names = lines.filter((l) => l.search(/\S/) === indent).map((l) => /^\s+(?:static\s+|readonly\s+)*([A-Za-z_]\w*)/.exec(l)![1]);
  return [...new Set(names)].filter((n) => !EMITTER.has(n));
}

/** The events a class's `on()` overloads name, as `'name'`. */
function events(text: string): string[] {
  const names = [...text.matchAll(/\bon\(\s*event:\s*((?:"[^"]+"\s*\|?\s*)+),/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((e) => `'${e[1]}'`));
  return [...new Set(names)];
}

const WS = {
  'Server options': members(block('interface ServerOptions<')),
  'Client options': members(block('interface ClientOptions extends')),
  'perMessageDeflate options': members(block('interface PerMessageDeflateOptions')),
  WebSocketServer: [...members(block('class Server<')), ...events(block('class Server<'))],
  WebSocket: [...members(block('declare class WebSocket extends')), ...events(block('declare class WebSocket extends'))],
  'The module': ['WebSocket', 'WebSocketServer', 'Server', 'createWebSocketStream'],
};
/** Rows that name what ws's declarations do not: the TLS options ws passes through at the top level, and runtime exports. */
const EXTRA: Record<string, string[]> = {
  'Client options': ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername'],
  'The module': ['Receiver', 'Sender', 'WS_NO_BUFFER_UTIL', 'WS_NO_UTF_8_VALIDATE'],
};

t.test("ws's declarations are read (so that an empty list cannot pass)", async (t) => {
  t.ok(WS['Server options'].includes('verifyClient') && WS['Server options'].includes('WebSocket'), WS['Server options'].join(' '));
  t.ok(WS['Client options'].includes('generateMask') && WS['Client options'].includes('finishRequest'), WS['Client options'].join(' '));
  t.notOk(WS['perMessageDeflate options'].includes('memLevel'), 'zlibDeflateOptions members are not perMessageDeflate options');
  t.ok(WS.WebSocket.includes("'unexpected-response'") && WS.WebSocket.includes("'pong'") && WS.WebSocket.includes('onmessage'), WS.WebSocket.join(' '));
  t.ok(WS.WebSocketServer.includes("'wsClientError'") && WS.WebSocketServer.includes('handleUpgrade'), WS.WebSocketServer.join(' '));
});

t.test('every ws member has a row, once, in its table; every row has a status and a reason', async (t) => {
  const found = tables();
  t.same([...found.keys()], Object.keys(WS), 'the tables, in order');
  for (const [table, names] of Object.entries(WS)) {
    const rows = found.get(table) ?? [];
    const listed = rows.flatMap((r) => r.names);
    t.same(names.filter((n) => !listed.includes(n)), [], `${table}: every ws name has a row`);
    t.same(listed.filter((n) => !names.includes(n) && !(EXTRA[table] ?? []).includes(n)), [], `${table}: no name ws does not have`);
    t.same(listed.filter((n, i) => listed.indexOf(n) !== i), [], `${table}: no name twice`);
    for (const row of rows) {
      t.match(row.status, /^(same|different|not supported)$/, `${row.names.join(', ')}: a status`);
      if (row.status !== 'same') t.match(row.text, /^(different|not supported)(?: at the top level)?: \S/, `${row.names.join(', ')}: says how or why`);
    }
  }
});

/** What this package does with an option of that name: takes it, or refuses it and why. */
function probe(make: (options: Record<string, unknown>) => void, name: string): 'taken' | 'ruled' | 'refused with a reason' | 'unknown' {
  try {
    make({ [name]: Symbol('probe') });
    return 'taken';
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(`option ${name} must be`)) return 'ruled';
    if (message.includes(`option ${name} — `) || (message.includes(`unknown option "${name}"`) && message.includes('did you mean'))) return 'refused with a reason';
    return 'unknown';
  }
}

const MAKERS: Record<string, (options: Record<string, unknown>) => void> = {
  'Server options': (o) => new WebSocketServer({ noServer: true, ...o }),
  'Client options': (o) => {
    const ws = new WebSocket('ws://127.0.0.1:9/', o);
    ws.terminate();
  },
  'perMessageDeflate options': (o) => new WebSocketServer({ noServer: true, perMessageDeflate: o }),
};

t.test('what each option row says is what the package does with that option', async (t) => {
  const found = tables();
  for (const [table, make] of Object.entries(MAKERS)) {
    for (const row of found.get(table)!) {
      for (const name of row.names) {
        const seen = probe(make, name);
        if (row.status === 'not supported') {
          // Refused with the reason (a ws-name message, a rule that takes only the no-op value, or a suggestion).
          t.not(seen, 'taken', `${table}: ${name} is refused`);
          t.not(seen, 'unknown', `${table}: ${name} is refused with a reason`);
        } else {
          t.ok(seen === 'taken' || seen === 'ruled', `${table}: ${name} is taken (${seen})`);
        }
      }
    }
  }
});

t.test("what each WebSocket and WebSocketServer row says of a property or method holds", async (t) => {
  const found = tables();
  const socket = new WebSocket();
  const server = new WebSocketServer({ noServer: true });
  for (const [table, object] of [['WebSocket', socket], ['WebSocketServer', server]] as const) {
    for (const row of found.get(table)!) {
      for (const name of row.names.filter((n) => !n.startsWith("'"))) {
        const has = name in object || name in object.constructor;
        t.equal(has, row.status !== 'not supported', `${table}: ${name} ${has ? 'exists' : 'does not exist'} (${row.status})`);
      }
    }
  }
});
