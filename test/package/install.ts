// The package as a user gets it: built, packed with `npm pack`, and installed from the tarball into
// an empty project with `npm install --offline` (it has no dependencies, so no registry is needed).
// Used by pack.test.ts and readme.test.ts. Every child process is bounded by a timeout. (tap still
// hooks children for coverage; the build helpers in scripts/ are excluded from it in package.json.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Test } from 'tap';

/** The repository's root (tests run from it). */
export const REPO = resolve('.');

/** The version in the repository's package.json. */
export const VERSION: string = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;

/** What a finished child process left. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for children: this one without the TypeScript loader tap runs the tests with. */
export function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of Object.keys(env)) {
    if (name === 'NODE_OPTIONS' || name === 'NODE_V8_COVERAGE' || name.startsWith('TAP') || name.startsWith('_TAPJS')) delete env[name];
  }
  return env;
}

/** Runs `file` with `args` in `cwd`; resolves whatever the exit code, killed after `timeout` ms. */
export function run(file: string, args: string[], cwd: string, timeout = 60_000, input?: string): Promise<Ran> {
  return new Promise((done) => {
    const child = execFile(file, args, { cwd, env: plainEnv(), timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr: error !== null && code === null ? `${stderr}\n${error.message}` : stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs `file`; fails the test with its output unless it exits 0. */
export async function runOk(t: Test, file: string, args: string[], cwd: string, timeout?: number): Promise<string> {
  const ran = await run(file, args, cwd, timeout);
  if (ran.code !== 0) t.fail(`${file} ${args.join(' ')} exited ${ran.code}`, { stdout: ran.stdout, stderr: ran.stderr });
  return ran.stdout;
}

/** An empty project with the packed package installed; removed when the test ends. */
export interface Installed {
  /** The project's directory (its own package.json, node_modules/simpatico-ws). */
  dir: string;
  /** Paths inside the tarball, without the leading `package/`. */
  files: string[];
}

/**
 * Builds (incremental: nothing to do right after `npm test`'s build), packs and installs the
 * package. `--ignore-scripts` on pack: the build just ran; on install: a user's install runs none.
 */
export async function installPacked(t: Test): Promise<Installed> {
  const root = mkdtempSync(join(tmpdir(), 'simpatico-pack-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await runOk(t, 'npm', ['run', '--silent', 'build'], REPO, 180_000);
  const packed = JSON.parse(await runOk(t, 'npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root], REPO));
  const { filename, files } = packed[0] as { filename: string; files: { path: string }[] };
  const dir = join(root, 'app');
  await runOk(t, 'mkdir', [dir], root);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '9.9.9', private: true, type: 'module' }));
  await runOk(t, 'npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', join(root, filename)], dir);
  return { dir, files: files.map((f) => f.path).sort() };
}
