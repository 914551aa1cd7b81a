// README.md cannot drift: every fenced code block in it is checked here, and a block this test
// does not know how to check fails it.
//
// ```js blocks run as ES modules inside an empty project where the packed package is installed
// (test/package/install.ts), so 'simpatico-ws' and 'simpatico-ws/…' resolve exactly as for a user.
// The convention that bounds them: the test appends a line that prints a marker, so the marker means
// every top-level statement (and await) of the block completed without throwing; a block that
// leaves a server running is then stopped with SIGTERM, one that ends by itself must exit 0.
// Nothing may reach stderr, and every block has 30 s. Ports: the README gives each server block a
// port of its own (8081, 8082; the demo has 8080); here they listen on port 0, as every test does,
// by the substitutions in BLOCKS, which must each match. The client block's wss://example.com is
// replaced by a local wss:// server with the test certificate (no traffic leaves the machine).
//
// ```sh blocks: each command must run from a clean clone exactly as written. npm commands are
// checked, not run (`npm test` would run this test): the script must exist, and `npm install NAME`
// must name this package. `node dist/cli.js …` lines run against the build, in order: `echo`
// listens on port 0 (not 9001), the later lines get the port it printed, and a server left running
// is stopped with SIGTERM at the end of its block; each command's exit code is asserted. A
// `redis-server` line starts the tests' own on a free port (test/registration/fixtures), which the
// block's `redis://127.0.0.1:6379` then names; it is stopped at the end of the block.
//
// Blocks without a language (the layout) list paths: each must exist.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WsWebSocket from 'ws';
import { listen } from './helpers.js';
import { installPacked, plainEnv, REPO } from './package/install.js';
import { noRedis, startRedis, type RedisServer } from './registration/fixtures/redis-server.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const MARKER = 'README-BLOCK-COMPLETED';
const BLOCK_TIMEOUT = 30_000;

interface Block {
  lang: string;
  code: string;
  /** The heading the block is under. */
  heading: string;
}

function blocks(): Block[] {
  const out: Block[] = [];
  let heading = '';
  const lines = README.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)$/.exec(lines[i]);
    if (fence === null) {
      if (lines[i].startsWith('#')) heading = lines[i].replace(/^#+ /, '');
      continue;
    }
    const end = lines.indexOf('```', i + 1);
    out.push({ lang: fence[1], code: lines.slice(i + 1, end).join('\n'), heading });
    i = end;
  }
  return out;
}

/** A child process, its output so far, and its end. */
interface Child {
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout matches `pattern`; rejects when the child exits first or time runs out. */
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: () => void;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = plainEnv()): Child {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), BLOCK_TIMEOUT);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => child.kill('SIGTERM'),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(out);
          if (m !== null) resolve(m);
          else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`exited before printing ${pattern}: ${out}${err}`));
        };
        waiters.push(check);
        check();
      }),
  };
}

/** What each ```js block needs: the substitutions that keep it on this machine, and its checks. */
const BLOCKS: Record<string, { replace: [string, string][]; check?: (t: Test, child: Child) => Promise<void> }> = {
  'A server': {
    replace: [['port: 8081', 'port: 0']],
    check: async (t, child) => {
      // The block prints its URL: a client gets its message echoed, as the comment promises.
      const [, url] = await child.waitFor(/listening on (ws:\/\/\S+)/);
      const ws = new WsWebSocket(url);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send('ping me back');
      t.equal(String(await new Promise((resolve) => ws.once('message', resolve))), 'ping me back', 'the README server echoes');
      ws.close(1000);
      await new Promise((resolve) => ws.once('close', resolve));
      await child.waitFor(/closed 1000 {2}true/);
    },
  },
  'Inside an existing `node:http` server': { replace: [['server.listen(8082)', 'server.listen(0)']] },
  'A client': { replace: [["'wss://example.com/chat'", 'process.env.README_WSS_URL']] },
};

t.test('every README block is one this test checks', async (t) => {
  const kinds = blocks().map((b) => b.lang);
  t.same([...new Set(kinds)].sort(), ['', 'js', 'sh'].sort(), 'only js, sh and plain blocks');
  t.same(
    blocks().filter((b) => b.lang === 'js').map((b) => b.heading),
    Object.keys(BLOCKS),
    'every js block has its entry in BLOCKS (and no entry is stale)',
  );
});

t.test('the ```js blocks run against the installed package', async (t) => {
  const { dir } = await installPacked(t);
  // The client block's peer: a local wss:// server with the test certificate, which the child trusts.
  const received: string[] = [];
  const server = await listen(t, {
    tls: { key: readFileSync('test/fixtures/key.pem'), cert: readFileSync('test/fixtures/cert.pem') },
    protocols: ['chat.v1'],
  });
  server.on('connection', (ws) => {
    ws.send('welcome');
    // ws.protocol is read at the first message: on 'connection' it is still '' (reported as a bug).
    ws.on('message', (data) => received.push(`message ${String(data)} (protocol ${ws.protocol})`));
    ws.on('close', (code, reason) => received.push(`close ${code} ${reason}`));
  });
  const wssUrl = `wss://localhost:${server.address()?.port}/chat`;

  for (const [i, block] of blocks().filter((b) => b.lang === 'js').entries()) {
    await t.test(`js block ${i + 1}: ${block.heading}`, async (t) => {
      const spec = BLOCKS[block.heading];
      let code = block.code;
      for (const [from, to] of spec.replace) {
        t.ok(code.includes(from), `the block still has ${from}`);
        code = code.replace(from, to);
      }
      const file = join(dir, `readme-${i + 1}.mjs`);
      writeFileSync(file, `${code}\n;console.log(${JSON.stringify(MARKER)});\n`);
      const child = start([file], dir, plainEnv({ NODE_EXTRA_CA_CERTS: join(REPO, 'test/fixtures/cert.pem'), README_WSS_URL: wssUrl }));
      try {
        await child.waitFor(new RegExp(MARKER));
        if (spec.check !== undefined) await spec.check(t, child);
      } finally {
        child.kill();
      }
      const end = await child.exited;
      t.ok(end.code === 0 || end.signal === 'SIGTERM', `ran to its end (${JSON.stringify(end)})`);
      t.equal(child.stderr(), '', 'nothing on stderr');
    });
  }
  // What the client block does, seen from its server.
  t.same(received, ['message hi (protocol chat.v1)', 'close 1000 done']);
});

t.test('the ```sh blocks run from a clean clone as written', async (t) => {
  const sh = blocks().filter((b) => b.lang === 'sh');
  t.ok(existsSync(join(REPO, 'dist/cli.js')), 'the build is there (npm test builds before tap)');
  for (const [i, block] of sh.entries()) {
    const skip = /^redis-server /m.test(block.code) ? noRedis : undefined;
    await t.test(`sh block ${i + 1}: ${block.heading}`, { skip: skip ?? false }, async (t) => {
      const running: Child[] = [];
      let port = '';
      let redis: RedisServer | undefined;
      try {
        for (const line of block.code.split('\n')) {
          const command = line.replace(/\s+#.*$/, '').trim();
          if (command === '' || command.startsWith('#')) continue;
          for (const part of command.split(/\s*&&\s*/)) {
            const words = part.split(/\s+/);
            if (words[0] === 'npm') {
              checkNpm(t, words);
              continue;
            }
            if (words[0] === 'redis-server') {
              redis = await startRedis();
              continue;
            }
            t.same(words.slice(0, 2), ['node', 'dist/cli.js'], `${part}: a command of this repository`);
            const args = words
              .slice(2)
              .map((w) => (port !== '' ? w.replace(':9001/', `:${port}/`) : w))
              .map((w) => (redis !== undefined ? w.replace('redis://127.0.0.1:6379', redis.url) : w));
            const server = args[0] === 'echo' || args[0] === 'serve';
            if (server) args.splice(args.indexOf('--port') >= 0 ? args.indexOf('--port') : args.length, 2, '--port', '0');
            const child = start([join(REPO, 'dist/cli.js'), ...args], REPO);
            if (server) {
              const [, got] = await child.waitFor(/(?:ws|http):\/\/127\.0\.0\.1:(\d+)\//);
              if (args[0] === 'echo') port = got;
              running.push(child);
              continue;
            }
            if (args[0] === 'client-echo') {
              // It echoes until the server closes: once it is connected, stopping the echo server
              // closes it with 1001, a normal end.
              await child.waitFor(/^connected to /);
              for (const c of running.filter((c) => c.stdout().startsWith('ws://'))) c.kill();
            }
            const end = await child.exited;
            t.same(end, { code: 0, signal: null }, `${part}: exit 0`);
            t.equal(child.stderr(), '', `${part}: nothing on stderr`);
            if (args[0] === '--version') t.equal(child.stdout(), `${PKG.version}\n`);
          }
        }
      } finally {
        for (const c of running) c.kill();
      }
      for (const c of running) {
        t.same(await c.exited, { code: 0, signal: null }, 'a server stopped by SIGTERM exits 0');
      }
      await redis?.stop();
    });
  }
});

/** An npm command line: not run, but it must work from a clean clone. */
function checkNpm(t: Test, words: string[]): void {
  const [, verb, ...rest] = words;
  if (verb === 'install' && rest.length === 1) return void t.equal(rest[0], PKG.name, `npm install ${rest[0]}: this package`);
  if (verb === 'install' || verb === 'ci') return void t.same(rest, [], `npm ${verb}`);
  const script = verb === 'run' ? rest[0] : verb;
  t.ok(typeof PKG.scripts[script] === 'string', `npm ${words.slice(1).join(' ')}: package.json has the script '${script}'`);
}

t.test('the layout block names paths that exist', async (t) => {
  for (const block of blocks().filter((b) => b.lang === '')) {
    for (const line of block.code.split('\n')) {
      const path = line.split(/\s+/)[0];
      t.ok(existsSync(join(REPO, path)), `${path} exists`);
    }
  }
});
