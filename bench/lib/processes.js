// Spawning and talking to the processes of a benchmark: the echo servers and the load generator.
//
// Every server, whatever its implementation, is treated the same way: spawned as its own Node
// process (with probe.js preloaded so that the harness can ask it for its memory after GC), its
// `ws://` or `tcp://` URL read from the first matching stdout line, measured, then sent SIGTERM.
// With pinning on, servers run on CPU 0 and load generators on CPU 1 (taskset), so neither process
// can take the other's core. Both are started through `bash -c 'ulimit -n <hard limit>'` so that ten
// thousand sockets fit under the file-descriptor limit.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = pathToFileURL(path.join(ROOT, 'bench/servers/probe.js')).href;
const LOADGEN = path.join(ROOT, 'bench/lib/loadgen.js');
export const PROFILES = path.join(ROOT, 'bench/results/profiles');
export const HOST = '127.0.0.1';

/**
 * @typedef {{ id: string, label: string, script: string, args: string[], env: Record<string, string | undefined>, raw: boolean }} ServerDef
 */

/** The servers of a run, in table order. @type {ServerDef[]} */
export const SERVER_DEFS = [
  {
    id: 'simpatico',
    label: 'simpatico-ws',
    script: 'dist/cli.js',
    // --quiet: the load generator's connections are not refusals worth a line; the idle-memory case holds 10,000.
    args: ['echo', '--port', '0', '--host', HOST, '--max-connections', '100000', '--quiet'],
    env: {},
    raw: false,
  },
  { id: 'ws', label: 'ws', script: 'bench/servers/ws-echo.js', args: [], env: { WS_NO_BUFFER_UTIL: undefined }, raw: false },
  {
    id: 'ws-js',
    label: 'ws (pure JS)',
    script: 'bench/servers/ws-echo.js',
    args: [],
    env: { WS_NO_BUFFER_UTIL: '1' },
    raw: false,
  },
  { id: 'raw', label: 'raw net', script: 'bench/servers/raw-echo.js', args: [], env: {}, raw: true },
];

const ECHO_ARGS = /** @type {string[]} */ (SERVER_DEFS[0].args);

/**
 * Configurations beside the defaults, for the rows of issues 12 and 13 (bench/compression.js, and
 * the second table of bench/scale.js): permessage-deflate in our memory-bounded mode (`perMessageDeflate:
 * true`, `echo --permessage-deflate`) and with context takeover both ways, ws with `perMessageDeflate: true`
 * (context takeover both ways, its default), and our heartbeat off or every second (the default, in
 * SERVER_DEFS, is 20 s of silence then 20 s for the pong).
 * @type {ServerDef[]}
 */
export const VARIANT_DEFS = [
  { id: 'simpatico-deflate', label: 'simpatico-ws deflate bounded', script: 'dist/cli.js', args: [...ECHO_ARGS, '--permessage-deflate'], env: {}, raw: false },
  {
    id: 'simpatico-takeover',
    label: 'simpatico-ws deflate takeover',
    script: 'bench/servers/simpatico-echo.js',
    args: ['--host', HOST, '--deflate', 'takeover'],
    env: {},
    raw: false,
  },
  // The same two modes with text handed to the handler as a Buffer (textAsBuffer), as ws's echo gets it:
  // an echo that neither decodes nor re-encodes UTF-8, the same work as ws's.
  {
    id: 'simpatico-deflate-tab',
    label: 'simpatico-ws deflate bounded, text as Buffer',
    script: 'bench/servers/simpatico-echo.js',
    args: ['--host', HOST, '--deflate', 'bounded', '--text-as-buffer'],
    env: {},
    raw: false,
  },
  {
    id: 'simpatico-takeover-tab',
    label: 'simpatico-ws deflate takeover, text as Buffer',
    script: 'bench/servers/simpatico-echo.js',
    args: ['--host', HOST, '--deflate', 'takeover', '--text-as-buffer'],
    env: {},
    raw: false,
  },
  { id: 'simpatico-hb-off', label: 'simpatico-ws heartbeat off', script: 'dist/cli.js', args: [...ECHO_ARGS, '--heartbeat', '0'], env: {}, raw: false },
  { id: 'simpatico-hb-1s', label: 'simpatico-ws heartbeat 1 s', script: 'dist/cli.js', args: [...ECHO_ARGS, '--heartbeat', '1'], env: {}, raw: false },
  { id: 'ws-deflate', label: 'ws deflate', script: 'bench/servers/ws-echo.js', args: ['--deflate'], env: { WS_NO_BUFFER_UTIL: undefined }, raw: false },
];

/** Raise the soft fd limit to the hard one, then become the command. */
const ULIMIT_WRAPPER = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; exec "$@"';

/** @param {string | undefined} cpu @param {string[]} argv */
function wrap(cpu, argv) {
  const pinned = cpu !== undefined ? ['taskset', '-c', cpu, ...argv] : argv;
  return ['-c', ULIMIT_WRAPPER, 'bench', ...pinned];
}

/** @param {Record<string, string | undefined>} extra */
function childEnv(extra) {
  /** @type {Record<string, string | undefined>} */
  const env = { ...process.env };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** The soft fd limit a spawned child gets after the wrapper raised it. */
export function childFdLimit() {
  try {
    const out = execFileSync('bash', ['-c', ULIMIT_WRAPPER, 'bench', 'bash', '-c', 'ulimit -n'], { encoding: 'utf8' });
    return out.trim() === 'unlimited' ? Infinity : Number(out.trim());
  } catch {
    return NaN;
  }
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 nearly everywhere.
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc; null elsewhere.
 * The per-thread schedstat counters are in nanoseconds; /proc/PID/stat (clock ticks, usually 10 ms)
 * is the fallback, too coarse for short windows.
 * @param {number | undefined} pid
 */
export function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    if (ns > 0) return ns / 1e9;
  } catch {
    // no schedstat: fall through to the tick counters
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (proc(5) fields 14, 15)
  } catch {
    return null;
  }
}

/**
 * Move a running process, all its threads, onto a CPU list (taskset -a -p). Threads it starts later inherit it.
 * @param {number} pid
 * @param {string} cpus e.g. '0' or '0-1'
 */
export function setAffinity(pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** @param {ServerDef} def */
export function serverAvailable(def) {
  return fs.existsSync(path.join(ROOT, def.script));
}

/**
 * @typedef {{ rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number, gc: boolean, info: any }} MemoryReport
 * @typedef {{ def: ServerDef, pid: number, host: string, port: number, url: string,
 *   memory(): Promise<MemoryReport>, exited(): boolean, exitStatus(): { code: number | null, signal: string | null } | null, stderr(): string, stop(): Promise<{ clean: boolean, code: number | null, signal: string | null }> }} RunningServer
 */

/**
 * Spawn one echo server and wait for its URL line.
 * @param {ServerDef} def
 * @param {{ pin: { server: string, loadgen: string } | null, cpuProf?: boolean }} cfg
 * @returns {Promise<RunningServer>}
 */
export function startServer(def, cfg, timeoutMs = 15_000) {
  const prof = cfg.cpuProf
    ? ['--cpu-prof', '--cpu-prof-dir', PROFILES, '--cpu-prof-name', `${def.id}-${Date.now()}.cpuprofile`]
    : [];
  const argv = [process.execPath, '--expose-gc', ...prof, '--import', PROBE, path.join(ROOT, def.script), ...def.args];
  const child = spawn('bash', wrap(cfg.pin?.server, argv), {
    cwd: ROOT,
    env: childEnv(def.env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stdout = /** @type {import('node:stream').Readable} */ (child.stdout);
  let stderr = '';
  /** @type {import('node:stream').Readable} */ (child.stderr).on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let exitInfo = /** @type {{ code: number | null, signal: string | null } | null} */ (null);
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  let nextId = 1;
  /** @type {Map<number, (m: MemoryReport) => void>} */
  const pending = new Map();
  child.on('message', (/** @type {any} */ msg) => {
    if (msg?.type === 'memory' && pending.has(msg.id)) {
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
    }
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${def.label}: no URL on stdout within ${timeoutMs} ms. stderr: ${stderr}`));
    }, timeoutMs);
    const onData = (/** @type {Buffer} */ d) => {
      out += d;
      const m = /^(?:ws|tcp):\/\/([^/\s]+):(\d+)\/?\s*$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      stdout.removeListener('data', onData);
      stdout.resume(); // keep draining anything else the server prints
      const host = m[1].replace(/^\[|\]$/g, '');
      /** @type {RunningServer} */
      const server = {
        def,
        pid: /** @type {number} */ (child.pid),
        host,
        port: Number(m[2]),
        url: m[0].trim(),
        exited: () => exitInfo !== null,
        exitStatus: () => exitInfo,
        stderr: () => stderr,
        memory() {
          return new Promise((res, rej) => {
            if (exitInfo) return rej(new Error(`${def.label} has exited`));
            const id = nextId++;
            const t = setTimeout(() => {
              pending.delete(id);
              rej(new Error(`${def.label}: no memory report within 10 s`));
            }, 10_000);
            pending.set(id, (msg) => {
              clearTimeout(t);
              res(msg);
            });
            child.send({ type: 'memory', id });
          });
        },
        async stop() {
          if (!exitInfo) child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          const info = /** @type {{ code: number | null, signal: string | null }} */ (await exitPromise);
          clearTimeout(t);
          return { clean: info.code === 0 || info.signal === 'SIGTERM', ...info };
        },
      };
      resolve(server);
    };
    stdout.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${def.label} exited before listening (code ${code}, signal ${signal}). stderr: ${stderr}`));
    });
  });
}

/**
 * Run one load-generator job to completion. Lines `{"phase":"start"|"end"}` it prints call `onPhase`
 * (the harness reads the server's CPU time there); the last line is the result.
 * @param {Record<string, any> & { warmupMs?: number, durationMs?: number }} job
 * @param {{ pin: { server: string, loadgen: string } | null }} cfg
 * @param {(phase: string) => void} [onPhase]
 * @returns {Promise<any>}
 */
export function runLoadgen(job, cfg, onPhase) {
  const deadlineMs = (job.warmupMs ?? 0) + (job.durationMs ?? 0) + 30_000;
  const child = spawn('bash', wrap(cfg.pin?.loadgen, [process.execPath, LOADGEN, JSON.stringify({ ...job, deadlineMs })]), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0 && out.startsWith('{"phase"')) {
      onPhase?.(JSON.parse(out.slice(0, nl)).phase);
      out = out.slice(nl + 1);
    }
  });
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 10_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ error: `load generator failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}` });
      }
    });
  });
}

/**
 * Start a job that holds connections (`hold` unless the job names `ws-hold` or `send`): resolves once
 * its connections are open, with a function that closes them.
 * @param {object} job
 * @param {{ pin: { server: string, loadgen: string } | null }} cfg
 * @returns {Promise<{ ready: any, close(): Promise<any> }>}
 */
export function holdLoadgen(job, cfg, timeoutMs = 120_000) {
  const child = spawn('bash', wrap(cfg.pin?.loadgen, [process.execPath, LOADGEN, JSON.stringify({ mode: 'hold', ...job, deadlineMs: timeoutMs })]), {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const closed = new Promise((resolve) => {
    child.on('close', (code) => {
      const lines = out.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]));
      } catch {
        resolve({ error: `load generator failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}` });
      }
    });
  });
  return new Promise((resolve) => {
    let resolved = false;
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (resolved || nl < 0) return;
      resolved = true;
      const ready = JSON.parse(out.slice(0, nl));
      resolve({
        ready,
        close() {
          child.stdin.end('close\n');
          return closed;
        },
      });
    });
    // A load generator that dies before it is ready resolves with its error.
    closed.then((r) => {
      if (!resolved) resolve({ ready: r, close: () => closed });
    });
  });
}

/**
 * Spawns `command args` in the repository and resolves once a line of its stdout matches `pattern`
 * (bounded: 30 s), with the child and the match; rejects if it exits first.
 * @param {string} command @param {string[]} args @param {RegExp} pattern @param {string} [label]
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, match: RegExpExecArray }>}
 */
export async function spawnUntilLine(command, args, pattern, label = `${command} ${args.join(' ')}`) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const match = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in 30 s`)), 30_000);
    createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).on('line', (line) => {
      const m = pattern.exec(line);
      if (m !== null) (clearTimeout(timer), resolve(m));
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${label} exited with ${code}`))));
  });
  child.stdout?.resume();
  return { child, match };
}

/** Stops a child with SIGTERM and waits for it (at once if it has already gone). @param {import('node:child_process').ChildProcess} child */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
