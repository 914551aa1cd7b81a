// docs/LEARN.md cannot drift: every command in its ```sh blocks is in the table below and runs here
// (in order, servers left running for the steps after them), each ```text excerpt after a command
// is found in that command's output, and the trace lines the doc tells the reader to look for are
// in the trace. Ports: the doc uses 9001 (echo) and 9002 (trace); here both listen on port 0, and
// the ports they got replace 9001 and 9002 in the commands that follow. Step 8's servers (`npm start`,
// which is `serve` after the build, and two `serve` commands) listen on port 0 too; each must
// serve the demo page with its protocol panel and the protocol document the panel links to (from
// dist/web, as `npm start` does: `npm test` builds before it runs this).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DEMO_PAGE } from '../../src/registration/page.js';
import { main, type CliIO } from '../../src/cli.js';
import { within } from '../conformance/harness.js';

const DOC = readFileSync('docs/LEARN.md', 'utf8');
const PKG = JSON.parse(readFileSync('package.json', 'utf8'));

const CLIENT =
  `node --experimental-websocket -e "const ws = new WebSocket('ws://127.0.0.1:9002/'); ws.onopen = () => ws.send('Hello'); ` +
  `ws.onmessage = (e) => { console.log(e.data); ws.close(1000, 'bye'); };"`;

/** The doc's commands, in order, with the exit status each must have. */
const COMMANDS: { command: string; exit?: number; server?: 'echo' | 'trace' | 'serve'; stdout?: RegExp }[] = [
  { command: 'simpatico-ws echo --port 9001', server: 'echo' },
  { command: 'simpatico-ws trace ws://127.0.0.1:9001/ --port 9002', server: 'trace' },
  { command: CLIENT, exit: 0, stdout: /^Hello\n$/ },
  { command: 'simpatico-ws explain --key dGhlIHNhbXBsZSBub25jZQ==', exit: 0 },
  { command: 'simpatico-ws explain --key dGhlIHNhbXBsZSBub25jZR==', exit: 1 },
  { command: 'simpatico-ws explain 81 05 48 65 6c 6c 6f', exit: 0 },
  { command: `node -e "process.stdout.write('827e0100' + 'ab'.repeat(256))" | simpatico-ws explain -`, exit: 0 },
  { command: 'simpatico-ws explain 82 7e 00 03 01 02 03', exit: 0 },
  { command: 'simpatico-ws explain 81 85 37 fa 21 3d 7f 9f 4d 51 58', exit: 0 },
  { command: 'simpatico-ws explain --from server 81 85 37 fa 21 3d 7f 9f 4d 51 58', exit: 1 },
  { command: 'simpatico-ws explain 01 03 48 65 6c 80 02 6c 6f', exit: 0 },
  { command: 'simpatico-ws explain 01 01 c3 80 01 a9', exit: 0 },
  { command: 'simpatico-ws explain 81 02 c3 28', exit: 1 },
  { command: 'simpatico-ws explain 89 05 48 65 6c 6c 6f', exit: 0 },
  { command: 'simpatico-ws explain 8a 85 37 fa 21 3d 7f 9f 4d 51 58', exit: 0 },
  { command: 'simpatico-ws explain 09 00', exit: 1 },
  { command: 'simpatico-ws explain 88 85 01 02 03 04 02 ea 61 7d 64', exit: 0 },
  { command: 'npm start', server: 'serve' },
  { command: 'simpatico-ws serve --heartbeat 2', server: 'serve' },
  { command: 'simpatico-ws serve --expected-host elsewhere.example --retries 2', server: 'serve' },
];

/** What step 8 tells the reader to look for in the demo page and its panel: the page's script or markup says it. */
const IN_PANEL = [
  'challenge (step 1)',
  'signed and answered (step',
  'accepted: this key is now routable to this page (step 3)',
  'heartbeat challenge (step 6)',
  'heartbeat answer accepted (step 6)',
  '— sent; the server answers only a message it cannot deliver',
  '— not delivered: the server answered',
  'the server answered: ',
  'refused (',
  'answering the new challenge, ',
  ' left after it (step 3′)',
  'no retries left, the server closes with 1008 (step 3″)',
  'keep this key in this browser',
  'New identity',
];
const DEMO_SCRIPT = readFileSync('src/registration/browser/demo.ts', 'utf8');

/** What the doc tells the reader to look for in the trace (quoted in it, and found in the trace). */
const IN_TRACE = [
  '#1 TCP connected from 127.0.0.1:',
  'GET / HTTP/1.1',
  'Sec-WebSocket-Version: 13',
  'HTTP/1.1 101 Switching Protocols',
  '✓ matches base64(SHA-1(key + GUID))',
  'state CONNECTING → OPEN',
  'state OPEN → CLOSING by Close 1000 (Normal Closure) "bye"',
  'the server answered Close 1000',
  'TCP: the server closed its side first (FIN), as RFC 6455 §7.1.1 advises',
  'state CLOSING → CLOSED',
];

/**
 * Starts one of step 8's servers on port 0 and checks what the reader is sent to look at: the page
 * with its protocol panel, and the protocol document it links to.
 */
async function runServe(t: Test, command: string, signal: AbortSignal, servers: { lines: string[]; running: Promise<number> }[]) {
  let args = words(command).slice(1);
  if (command === 'npm start') {
    t.equal(PKG.scripts.start, 'npm run build && node dist/cli.js serve', 'npm start is serve after the build');
    args = ['serve'];
  }
  const lines: string[] = [];
  const io: CliIO = { out: (l) => lines.push(...l.split('\n')), err: (l) => lines.push(l), signal };
  servers.push({ lines, running: main([...args, '--port', '0'], io) });
  await within(
    (async () => {
      while (!lines.some((l) => l.includes('http://'))) await new Promise((r) => setTimeout(r, 5));
    })(),
    `${command} to print its URL`,
  );
  const url = /(http:\/\/\S+)/.exec(lines.join('\n'))?.[1] as string;
  t.match(lines.join('\n'), 'simpatico-ws serve: the registration demo is at http://127.0.0.1:', `${command} prints the URL`);
  const page = await (await fetch(url)).text();
  t.match(page, 'id="protocol-panel"', `${command}: the page has the protocol panel`);
  const doc = await fetch(new URL('registration/PROTOCOL.md', url));
  t.equal(doc.status, 200, `${command}: the protocol document is served (npm run build copies it into dist/web)`);
  t.equal(await doc.text(), readFileSync('src/registration/PROTOCOL.md', 'utf8'));
  if (command.includes('--expected-host elsewhere.example')) {
    t.ok(lines.includes('simpatico-ws serve: signatures must name elsewhere.example'), 'only the other host is accepted');
  }
  t.notOk(lines.some((l) => /no browser modules/.test(l)), `${command}: the browser modules are built`);
}

/** The doc's ```sh commands, each with the ```text block right after its block, if any. */
function docCommands(): { command: string; excerpt: string[] }[] {
  const out: { command: string; excerpt: string[] }[] = [];
  const blocks = [...DOC.matchAll(/```(sh|text)\n([\s\S]*?)```/g)];
  for (const [i, [, kind, body]] of blocks.entries()) {
    if (kind !== 'sh') continue;
    const next = blocks[i + 1];
    const follows = next !== undefined && next[1] === 'text' && DOC.slice((blocks[i].index as number) + blocks[i][0].length, next.index).trim() === '';
    const commands = body.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    for (const [j, command] of commands.entries()) {
      out.push({ command, excerpt: follows && j === commands.length - 1 ? next[2].split('\n').filter((l) => l.trim() !== '') : [] });
    }
  }
  return out;
}

/** Splits a command line as sh does, for the quoting the doc uses ('…' and "…" without escapes). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:'([^']*)'|"([^"]*)"|(\S+))/g;
  let word: RegExpExecArray | null;
  while ((word = re.exec(line)) !== null && word[0].trim() !== '') out.push(word[1] ?? word[2] ?? word[3]);
  return out;
}

function exec(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return within(new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr }))), `node ${args[0]}`, 30_000);
}

t.test('the doc and the table list the same commands, in the same order', (t) => {
  t.same(
    docCommands().map((c) => c.command),
    COMMANDS.map((c) => c.command),
  );
  for (const quoted of IN_TRACE) t.ok(DOC.includes(quoted), `the doc quotes ${quoted}`);
  t.match(DOC, /^## 8\. The registration demo's protocol panel$/m, 'the heading for the registration step');
  for (const quoted of IN_PANEL) {
    t.ok(DOC.includes(quoted), `the doc quotes ${quoted}`);
    t.ok(DEMO_SCRIPT.includes(quoted) || DEMO_PAGE.includes(quoted), `the demo shows ${quoted}`);
  }
  t.end();
});

t.test('every command of the doc runs, with the output the doc shows', async (t) => {
  const abort = new AbortController();
  const servers: { lines: string[]; running: Promise<number> }[] = [];
  t.teardown(async () => {
    abort.abort();
    await Promise.all(servers.map((s) => s.running));
  });
  const ports = new Map<string, string>();
  const remap = (s: string): string => s.replace(/9001|9002/g, (p) => ports.get(p) ?? p);
  const excerpts = new Map(docCommands().map((c) => [c.command, c.excerpt]));
  let trace: string[] = [];
  for (const row of COMMANDS) {
    if (row.server === 'serve') {
      await runServe(t, row.command, abort.signal, servers);
      continue;
    }
    if (row.server !== undefined) {
      const lines: string[] = [];
      const io: CliIO = { out: (l) => lines.push(...l.split('\n')), err: (l) => lines.push(l), signal: abort.signal };
      const args = remap(row.command).replace(/--port 900[12]/, '--port 0');
      servers.push({ lines, running: main(words(args).slice(1), io) });
      await within(
        (async () => {
          while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        `${row.server} to print its URL`,
      );
      ports.set(row.server === 'echo' ? '9001' : '9002', new URL(lines[0]).port);
      if (row.server === 'trace') trace = lines;
      continue;
    }
    const [left, right] = remap(row.command).split(' | ');
    let output: string[];
    if (right === undefined && left.startsWith('node ')) {
      const result = await exec(words(left).slice(1));
      t.equal(result.code, row.exit, `${row.command}: exit ${row.exit}`);
      t.match(result.stdout, row.stdout as RegExp);
      output = result.stdout.split('\n');
    } else {
      const stdin = right === undefined ? undefined : (await exec(words(left).slice(1))).stdout;
      const lines: string[] = [];
      const io = {
        out: (l: string) => lines.push(...l.split('\n')),
        err: (l: string) => lines.push(l),
        stdin: (async function* () {
          if (stdin !== undefined) yield Buffer.from(stdin);
        })(),
      };
      const code = await main(words(right ?? left).slice(1), io);
      t.equal(code, row.exit, `${row.command}: exit ${row.exit}`);
      output = lines;
    }
    for (const excerpt of excerpts.get(row.command) ?? []) {
      t.ok(output.some((l) => l.trimEnd() === excerpt.trimEnd() || l.trim() === excerpt.trim()), `${row.command} prints: ${excerpt.trim()}`);
    }
  }
  await within(
    (async () => {
      while (!trace.some((l) => l.includes('state CLOSING → CLOSED'))) await new Promise((r) => setTimeout(r, 5));
    })(),
    'the trace to see the connection close',
  );
  // Header names are case-insensitive (RFC 9110 §5.1), and Node's client writes them in lower case.
  const seen = trace.map((l) => l.toLowerCase());
  for (const quoted of IN_TRACE) t.ok(seen.some((l) => l.includes(quoted.toLowerCase())), `the trace shows ${quoted}`);
  t.ok(seen.includes(`#1 client → server  host: 127.0.0.1:${ports.get('9002')}`), 'the Host names the relay, unchanged');
});
