// The published package, tested as a user meets it: `npm pack`, then `npm install --offline` of the
// tarball into an empty project, where `import`, `require`, the types and the command all must work.
// One class identity however the package is loaded: require() and import give the same WebSocket,
// WebSocketServer and WebSocketError (the ESM entries re-export the CommonJS build's bindings).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, VERSION, installPacked, run, runOk } from './install.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

t.test('package.json: what a registry and a user read', async (t) => {
  t.equal(pkg.license, 'MIT');
  t.match(readFileSync(join(REPO, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the simpatico-ws authors\n/);
  t.same(pkg.repository, { type: 'git', url: 'git+https://github.com/simpatico-ws/simpatico-ws.git' });
  t.same(pkg.engines, { node: '>=20' });
  t.ok(pkg.keywords.includes('websocket'));
  t.same(pkg.dependencies ?? {}, {}, 'zero runtime dependencies');
  t.equal(pkg.scripts.prepare, undefined, 'no install-time script: npm warns about one in every dependency');
  for (const [entry, conditions] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (entry === './package.json' || entry === './browser') continue;
    t.same(Object.keys(conditions as object), ['import', 'require'], `${entry}: import and require`);
    for (const face of Object.values(conditions as Record<string, Record<string, string>>)) {
      t.same(Object.keys(face), ['types', 'default'], `${entry}: types first, as TypeScript requires`);
    }
  }
});

t.test('the tarball installs offline and works through import, require, the types and the bin', async (t) => {
  const { dir, files } = await installPacked(t);

  t.test('holds the build, the README and the LICENSE, and nothing else', async (t) => {
    t.same(
      [...new Set(files.map((f) => f.split('/').slice(0, f.startsWith('dist/') ? 2 : 1).join('/')))].filter((f) => !/^dist\/[^/]+\.js$/.test(f)),
      ['LICENSE', 'README.md', 'dist/cjs', 'dist/client', 'dist/connection', 'dist/deflate', 'dist/esm', 'dist/frames', 'dist/handshake', 'dist/learn', 'dist/registration', 'dist/server', 'dist/web', 'package.json'],
    );
    t.same(files.filter((f) => /\.(map|tsbuildinfo|ts)$/.test(f) && !f.endsWith('.d.ts')), [], 'no source maps, build state or sources');
    t.same(files.filter((f) => f.endsWith('.d.ts') && !/^dist\/(cjs|esm|web)\//.test(f)), [], 'one set of types');
    for (const f of ['dist/cjs/root.js', 'dist/cjs/root.d.ts', 'dist/cjs/package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cli.js']) {
      t.ok(files.includes(f), f);
    }
    t.ok(files.includes('dist/web/registration/browser/simpatico-socket.d.ts'), 'the browser client has its declarations');
  });

  t.test('import and require: one class identity, every entry, a server and a client', async (t) => {
    writeFileSync(join(dir, 'identity.mjs'), IDENTITY);
    const out = JSON.parse(await runOk(t, process.execPath, ['identity.mjs'], dir, 30_000));
    t.same(out.checks, Object.fromEntries(Object.keys(out.checks).map((k) => [k, true])), 'every identity holds');
    t.same(out.missing, [], 'every export is reachable both ways');
    t.same(out.echo, ['echo: hello', 1000], 'a server and a client of the installed copy talk and close cleanly');
    t.same(out.browser, ['SimpaticoSocket', 'pageSocketUrl']);
    t.equal(out.internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'files outside the exports map are not reachable');
    // The ws drop-in shape: WebSocket.Server, WebSocket.WebSocket, createWebSocketStream on the class.
    t.same(out.wsShape, { Server: true, WebSocketServer: true, WebSocket: true, createWebSocketStream: 'function' }, 'ws-style statics');
  });

  t.test('CommonJS code written for ws runs unchanged', async (t) => {
    writeFileSync(join(dir, 'ws-style.cjs'), WS_STYLE);
    const out = await runOk(t, process.execPath, ['ws-style.cjs'], dir, 30_000);
    t.equal(out, 'server got hi\nclient got hi\nclosed 1000\n');
  });

  t.test('the bin: --version reads the package, not the current directory', async (t) => {
    const bin = join(dir, 'node_modules/.bin/simpatico-ws');
    t.equal(await runOk(t, bin, ['--version'], dir), `${VERSION}\n`, 'the app around it is version 9.9.9');
    const help = await run(bin, ['echo', '--help'], dir);
    t.equal(help.code, 0);
    t.match(help.stdout, /Exit codes:/);
  });

  t.test("TypeScript: the package's own declarations type-check, ESM and CommonJS", async (t) => {
    writeFileSync(join(dir, 'esm.mts'), TYPES_ESM);
    writeFileSync(join(dir, 'cjs.cts'), TYPES_CJS);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          // The package's declarations are checked too: a user without skipLibCheck sees their errors.
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    const ran = await run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], dir, 120_000);
    const errors = ran.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    t.same(errors, [], 'the consumer files and every published declaration type-check');
    t.equal(ran.code, 0, 'tsc exits 0 (an unused @ts-expect-error would be an error)');
  });
});

/** Run inside the temporary project: loads every entry both ways and prints what it found. */
const IDENTITY = `
import { createRequire } from 'node:module';
import WebSocket, * as root from 'simpatico-ws';
import * as frames from 'simpatico-ws/frames';
import * as handshake from 'simpatico-ws/handshake';
import * as registration from 'simpatico-ws/registration';
const require = createRequire(import.meta.url);
const R = require('simpatico-ws');
const checks = {
  'require() is the WebSocket class': R === root.WebSocket,
  'the default import is the WebSocket class': WebSocket === root.WebSocket,
  'WebSocketServer': R.WebSocketServer === root.WebSocketServer,
  'WebSocketError': R.WebSocketError === root.WebSocketError,
  'connect': R.connect === root.connect,
  'frames: CloseCode is one object': require('simpatico-ws/frames').CloseCode === frames.CloseCode && frames.CloseCode === root.CloseCode,
  'frames: Receiver': require('simpatico-ws/frames').Receiver === frames.Receiver,
  'handshake': require('simpatico-ws/handshake').acceptKey === handshake.acceptKey,
  'registration': require('simpatico-ws/registration').RegistrationHub === registration.RegistrationHub,
  'a WebSocketError is instanceof Error': new R.WebSocketError('WS_ERR_CONNECT', 'x', { side: 'local' }) instanceof Error,
};
const missing = [];
for (const [name, face, cjs] of [['.', root, R], ['frames', frames, require('simpatico-ws/frames')], ['handshake', handshake, require('simpatico-ws/handshake')], ['registration', registration, require('simpatico-ws/registration')]]) {
  for (const key of Object.keys(face)) if (key !== 'default' && cjs[key] !== face[key]) missing.push(name + ':' + key);
  for (const key of Object.keys(cjs)) if (!(key in face) && !['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].includes(key)) missing.push(name + ':' + key + ' (require only)');
}
const server = new root.WebSocketServer({ port: 0, host: '127.0.0.1' });
let serverSide;
server.on('connection', (ws) => { serverSide = ws; ws.on('message', (data) => ws.send('echo: ' + data)); });
await server.ready;
const client = await R.connect(server.url);
checks['a client is instanceof the imported class'] = client instanceof WebSocket;
const echo = await new Promise((resolve) => client.once('message', (data) => resolve(String(data))).send('hello'));
const [code] = await new Promise((resolve) => { client.once('close', (...a) => resolve(a)); client.close(1000); });
checks['the server side is instanceof the required class'] = serverSide instanceof R;
await server.close();
const browser = Object.keys(await import('simpatico-ws/browser')).sort();
let internal;
try { await import('simpatico-ws/dist/cjs/index.js'); } catch (e) { internal = e.code; }
const wsShape = WebSocket.Server === undefined ? { Server: 'missing' } : {
  Server: WebSocket.Server === root.WebSocketServer,
  WebSocketServer: WebSocket.WebSocketServer === root.WebSocketServer,
  WebSocket: WebSocket.WebSocket === WebSocket,
  createWebSocketStream: typeof root.createWebSocketStream,
};
console.log(JSON.stringify({ checks, missing, echo: [echo, code], browser, internal, wsShape }));
`;

/** CommonJS as ws's README writes it: the module is the class, servers hang off it. */
const WS_STYLE = `
const WebSocket = require('simpatico-ws');
const { WebSocketServer } = require('simpatico-ws');
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
server.on('connection', (ws) => ws.on('message', (data) => { console.log('server got ' + data); ws.send(data); }));
server.ready.then(async () => {
  const ws = await WebSocket.connect(server.url);
  if (!(ws instanceof WebSocket)) throw new Error('not instanceof');
  ws.on('message', (data) => { console.log('client got ' + data); ws.close(1000); });
  ws.on('close', (code) => { console.log('closed ' + code); server.close(); });
  ws.send('hi');
});
`;

/** An ES module in TypeScript using the package's types. */
const TYPES_ESM = `
import WebSocket, { WebSocketServer, WebSocketError, connect, CloseCode, type ServerOptions } from 'simpatico-ws';
import { encodeFrame, Opcode } from 'simpatico-ws/frames';
import { acceptKey } from 'simpatico-ws/handshake';
import { RegistrationHub } from 'simpatico-ws/registration';
import { SimpaticoSocket } from 'simpatico-ws/browser';
const options: ServerOptions = { port: 0, maxPayload: 1024 };
const server: WebSocketServer = new WebSocketServer(options);
server.on('connection', (ws: WebSocket) => { ws.send('hi'); });
export async function client(): Promise<void> {
  const ws: WebSocket = await connect(server.url);
  ws.close(CloseCode.Normal);
}
const e: WebSocketError | undefined = undefined;
const frame: Buffer[] = encodeFrame(Opcode.Text, Buffer.from('x'));
const key: string = acceptKey('dGhlIHNhbXBsZSBub25jZQ==');
void [e, frame, key, RegistrationHub, SimpaticoSocket];
// @ts-expect-error: no such export, so the types are not \`any\`
import { nothing } from 'simpatico-ws';
void nothing;
`;

/** CommonJS TypeScript: \`import = require\`, the namespace's types, named imports. */
const TYPES_CJS = `
import WebSocket = require('simpatico-ws');
import { connect, WebSocketServer, type ServerOptions } from 'simpatico-ws';
import frames = require('simpatico-ws/frames');
const options: WebSocket.ServerOptions = { port: 0 };
const same: ServerOptions = options;
const server = new WebSocket.WebSocketServer(same);
const typed: WebSocketServer = server;
let last: WebSocket | undefined;
server.on('connection', (ws) => { last = ws; });
export async function client(): Promise<void> {
  const ws: WebSocket = await connect(server.url);
  ws.close(WebSocket.CloseCode.Normal);
  const error: WebSocket.WebSocketError = new WebSocket.WebSocketError('WS_ERR_CONNECT', 'x', { side: 'local' });
  void error;
}
void [typed, last, frames.Opcode.Text];
// @ts-expect-error: no such property, so the types are not \`any\`
WebSocket.nothing;
`;
