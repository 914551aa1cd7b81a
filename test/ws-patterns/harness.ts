// The machinery of the ws-pattern suite: a pattern program (an ES module written as a ws user writes
// it, with `from 'simpatico-ws'`) is run three ways inside the project where the packed package is
// installed (test/package/install.ts): as it is, rewritten to CommonJS (`require`), and with
// `from 'ws'` — the library it came from, so that a pattern that is not ws's own usage fails there.
// Every child is killed after CHILD_TIMEOUT; waits for its output are bounded by it too.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WsWebSocket, { WebSocketServer as WsServer, type ClientOptions, type ServerOptions, type RawData } from 'ws';
import type { IncomingMessage } from 'node:http';
import { plainEnv, REPO } from '../package/install.js';

export const CHILD_TIMEOUT = 20_000;

/** The ways a pattern runs: our package imported, our package required, and ws itself (imported, or required). */
export type Variant = 'esm' | 'cjs' | 'ws' | 'ws-cjs';

/** The source of a pattern program (test/ws-patterns/programs/NAME.js). */
export function programSource(name: string): string {
  return readFileSync(join(REPO, 'test/ws-patterns/programs', `${name}.js`), 'utf8');
}

/**
 * The program as `variant` runs it. CommonJS: each `import … from 'm'` line becomes `require('m')`
 * (a default import is the module itself, as ws's and ours both are; named imports are its
 * properties). The programs use no top-level await, so the rest is the same in both module systems.
 */
export function variantSource(source: string, variant: Variant): string {
  if (variant === 'ws') return source.replace(/from 'simpatico-ws'/g, "from 'ws'");
  if (variant === 'ws-cjs') return variantSource(variantSource(source, 'ws'), 'cjs');
  if (variant === 'esm') return source;
  return source.replace(/^import (.+) from '([^']+)';$/gm, (_line, what: string, module: string) => {
    const req = `require('${module}')`;
    const named = (list: string): string => list.replace(/\s+as\s+/g, ': ');
    const both = /^(\w+),\s*(\{.*\})$/.exec(what);
    if (both !== null) return `const ${both[1]} = ${req}; const ${named(both[2])} = ${both[1]};`;
    if (what.startsWith('{')) return `const ${named(what)} = ${req};`;
    return `const ${what.replace(/^\*\s+as\s+/, '')} = ${req};`;
  });
}

/** Makes ws loadable from the installed project (it is this repository's dev dependency). */
export function linkWs(dir: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules/ws'), join(dir, 'node_modules/ws'), 'dir');
}

/** A running pattern program. */
export interface Program {
  /** Its stdout so far, line by line. */
  lines(): string[];
  stderr(): string;
  /** Resolves with the match once stdout matches; rejects if it exits first or time runs out. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when it has exited, with its code (null when killed by a signal) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  stdin: NodeJS.WritableStream;
}

export function runProgram(dir: string, file: string, env: Record<string, string>): Program {
  const child = spawn(process.execPath, [file], { cwd: dir, env: plainEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', (d) => {
    out += d;
    wake();
  });
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
      wake();
    }),
  );
  const lines = (): string[] => out.split('\n').filter((l) => l !== '');
  return {
    lines,
    stderr: () => err,
    exited,
    stdin: child.stdin,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(out);
          if (m !== null) {
            waiters.delete(check);
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`the program exited before printing ${pattern}:\n${out}\n${err}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Writes the variant of a pattern into the project and names the file. */
export function writeVariant(dir: string, name: string, variant: Variant): string {
  const file = `${name}.${variant}.${variant.endsWith('cjs') ? 'cjs' : 'mjs'}`;
  writeFileSync(join(dir, file), variantSource(programSource(name), variant));
  return file;
}

// ---- the ws peers ---------------------------------------------------------------------------------

/** A ws server on 127.0.0.1:0; its URL. Closed by `close()` (clients terminated). */
export async function wsServer(
  onConnection: (ws: WsWebSocket, request: IncomingMessage) => void,
  options: ServerOptions = {},
): Promise<{ url: string; port: number; server: WsServer; close: () => Promise<void> }> {
  const server = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  server.on('connection', onConnection);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Messages a ws client received that nobody has asked for yet (a message can arrive with the 101). */
const inbox = new WeakMap<WsWebSocket, { queue: string[]; waiters: ((m: string) => void)[] }>();

function text(data: RawData, isBinary: boolean): string {
  return isBinary ? `bin:${Buffer.concat(([] as Buffer[]).concat(data as Buffer)).toString('hex')}` : String(data);
}

/** A ws client, once open; its messages are kept from the start for {@link nextMessage}. */
export function wsClient(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<WsWebSocket> {
  const { protocols, ...rest } = options;
  const ws = new WsWebSocket(url, protocols ?? [], rest);
  const box = { queue: [] as string[], waiters: [] as ((m: string) => void)[] };
  inbox.set(ws, box);
  ws.on('message', (data, isBinary) => {
    const m = text(data, isBinary);
    const waiter = box.waiters.shift();
    if (waiter === undefined) box.queue.push(m);
    else waiter(m);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The next message of a ws client (binary as `bin:` and hex). */
export function nextMessage(ws: WsWebSocket): Promise<string> {
  const box = inbox.get(ws)!;
  const m = box.queue.shift();
  return m === undefined ? new Promise((resolve) => box.waiters.push(resolve)) : Promise.resolve(m);
}

/** The next `n` messages. */
export async function messages(ws: WsWebSocket, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await nextMessage(ws));
  return out;
}

/** Resolves with the close code and reason when a ws connection is CLOSED. */
export function closed(ws: WsWebSocket): Promise<[number, string]> {
  if (ws.readyState === WsWebSocket.CLOSED) return Promise.resolve([-1, 'already closed']);
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, String(reason)])));
}

/** What a refused ws client saw: the status of the 'unexpected-response', or the error's message. */
export function refusal(url: string, options: ClientOptions = {}): Promise<string> {
  const ws = new WsWebSocket(url, options);
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(`status ${res.statusCode}`);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve('open');
      ws.terminate();
    });
    ws.once('error', (e) => resolve(`error ${e.message}`));
  });
}
