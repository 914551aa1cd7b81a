// Every benchmark, in a bounded time: the codec (bench/codec.js), end to end (bench/e2e.js), memory
// at scale (bench/scale.js), compressed echo (bench/compression.js) and broadcast to clients that never
// read (bench/broadcast.js), the registration path (bench/registration.js) and many nodes over Redis
// (bench/cluster.js), one after the other, each in its own process with a hard time limit.
//
//   npm run bench                  (builds first; about 17 minutes with default settings)
//   BENCH_QUICK=1 npm run bench    (a smoke run of about 6 minutes; also `-- --quick`)
//
// The codec's and the cluster's stdout (their markdown tables) are passed through and stored in bench/results/latest.json
// so that BENCHMARKS.md shows every part of the latest run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/processes.js';
import { saveSection, writeBenchmarksMd } from './lib/report.js';

const quick = process.argv.includes('--quick') || (!!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0');
const env = { ...process.env, ...(quick ? { BENCH_QUICK: '1' } : {}) };

/**
 * Hard limits per part, against hangs: a part that hits its limit is killed and the run goes on. On a
 * quiet machine the defaults take about 2–3 min (codec), 5 min (e2e), 6 min (scale, its two tables),
 * 3 min (compression), 0.5 min (broadcast) and 1 min (registration); the limits leave room for a busy machine.
 */
const PARTS = [
  { name: 'codec', script: 'bench/codec.js', limitMs: (quick ? 4 : 6) * 60_000, capture: true },
  { name: 'e2e', script: 'bench/e2e.js', limitMs: (quick ? 5 : 10) * 60_000, capture: false },
  { name: 'scale', script: 'bench/scale.js', limitMs: (quick ? 5 : 15) * 60_000, capture: false },
  { name: 'compression', script: 'bench/compression.js', limitMs: (quick ? 3 : 8) * 60_000, capture: false },
  { name: 'broadcast', script: 'bench/broadcast.js', limitMs: (quick ? 2 : 5) * 60_000, capture: false },
  { name: 'registration', script: 'bench/registration.js', limitMs: (quick ? 2 : 5) * 60_000, capture: false },
  { name: 'cluster', script: 'bench/cluster.js', limitMs: (quick ? 2 : 4) * 60_000, capture: true },
];

/** @type {import('node:child_process').ChildProcess | null} the part running now */
let current = null;

// Parts run in their own process groups, which a terminal's Ctrl-C does not reach: pass it on.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    if (current?.pid) {
      try {
        process.kill(-current.pid, signal);
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

/**
 * @param {{ name: string, script: string, limitMs: number, capture: boolean }} part
 * @returns {Promise<{ code: number | null, signal: string | null, output: string, seconds: number }>}
 */
function run(part) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    // Its own process group, so that a part over its limit is stopped with everything it started
    // (servers, load generators, the codec's ws peers), not just its main process.
    const child = spawn(process.execPath, [path.join(ROOT, part.script)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', part.capture ? 'pipe' : 'inherit', 'inherit'],
      detached: true,
    });
    current = child;
    const killGroup = (/** @type {NodeJS.Signals} */ signal) => {
      try {
        process.kill(-(/** @type {number} */ (child.pid)), signal);
      } catch {
        // the group is already gone
      }
    };
    let output = '';
    child.stdout?.on('data', (d) => {
      process.stdout.write(d);
      output += d;
    });
    const timer = setTimeout(() => {
      console.error(`# ${part.name}: over its ${part.limitMs / 60_000} min limit, stopped`);
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, part.limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      resolve({ code, signal, output, seconds: Math.round((Date.now() - t0) / 1000) });
    });
  });
}

async function main() {
  const t0 = Date.now();
  let failed = 0;
  for (const part of PARTS) {
    if (!fs.existsSync(path.join(ROOT, part.script))) {
      console.error(`# ${part.name}: ${part.script} not found; skipped`);
      continue;
    }
    console.log(`\n## ${part.name}\n`);
    const res = await run(part);
    if (res.code !== 0) {
      failed++;
      console.error(`# ${part.name} failed (exit ${res.code}${res.signal ? `, ${res.signal}` : ''})`);
    }
    if (part.capture && res.code === 0 && res.output.trim() && process.env.BENCH_WRITE !== '0') {
      // eslint-disable-next-line no-control-regex
      const output = res.output.replace(/\x1b\[[0-9;]*m/g, '');
      writeBenchmarksMd(saveSection(part.name, { date: new Date().toISOString(), quick, seconds: res.seconds, output }));
    }
  }
  console.error(`# all benchmarks: ${Math.round((Date.now() - t0) / 1000)} s; results in bench/results/latest.json and BENCHMARKS.md`);
  if (failed) process.exitCode = 1;
}

main();
