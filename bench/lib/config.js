// Benchmark settings, from the environment (and `--quick` on the command line).
//
//   BENCH_QUICK=1 (or --quick)  a smoke run: 3 rounds of short measurements, 2,000 idle connections
//   BENCH_ROUNDS=N              rounds per end-to-end figure (default 5, quick 3; at least 3)
//   BENCH_SCALE_ROUNDS=N        rounds per memory figure (default 3: a round holds 10,000 connections on each
//                               server, and the figure barely moves between rounds; at least 3)
//   BENCH_DURATION_MS=N         measured time per round (default 1000, quick 400)
//   BENCH_WARMUP_MS=N           unmeasured time before it, on the same connections (default 400, quick 200)
//   BENCH_SERVERS=a,b           a subset of simpatico,ws,ws-js,raw
//   BENCH_CASES=a,b             e2e only: a subset of 64-1,64-10,64-100,16384-1,16384-10,16384-100,latency,
//                               handshakes-seq,handshakes-50
//   BENCH_CPU_PROF=1            servers run with --cpu-prof; profiles land in bench/results/profiles/ (summarise
//                               one with `node bench/lib/profile-summary.js FILE`)
//   BENCH_CONNECTIONS=N         idle connections for the memory figure (default 10000, quick 2000)
//   BENCH_PIN=auto|1|0          where the server and the load generator run (Linux, 2+ CPUs). auto (default): in
//                               the CPU-bound cases (throughput, 50 concurrent handshakes, idle connections) the
//                               server is pinned to CPU 0 and the load generator to CPU 1, so neither takes the
//                               other's core; the ping-pong cases (latency, sequential handshakes) are left to the
//                               scheduler, which keeps the pair on one core instead of charging a cross-core wake-up
//                               to every round trip. 1: pin every case. 0: pin none.
//   BENCH_WRITE=0               print only: leave bench/results/latest.json and BENCHMARKS.md alone
import os from 'node:os';

/** @param {string} name @param {number} fallback */
function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

/** @param {string[]} argv */
export function loadConfig(argv = process.argv.slice(2)) {
  const quick = argv.includes('--quick') || (process.env.BENCH_QUICK ?? '') !== '' && process.env.BENCH_QUICK !== '0';
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const pinSetting = (process.env.BENCH_PIN ?? 'auto').toLowerCase();
  if (!['auto', '1', '0'].includes(pinSetting)) throw new RangeError(`BENCH_PIN must be auto, 1 or 0, got ${pinSetting}`);
  const pin = pinSetting !== '0' && process.platform === 'linux' && cpus >= 2;
  const servers = (process.env.BENCH_SERVERS ?? 'simpatico,ws,ws-js,raw')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    quick,
    rounds: Math.max(3, intEnv('BENCH_ROUNDS', quick ? 3 : 5)),
    scaleRounds: Math.max(3, intEnv('BENCH_SCALE_ROUNDS', 3)),
    durationMs: intEnv('BENCH_DURATION_MS', quick ? 400 : 1000),
    warmupMs: intEnv('BENCH_WARMUP_MS', quick ? 200 : 400),
    idleConnections: intEnv('BENCH_CONNECTIONS', quick ? 2000 : 10000),
    servers,
    cases: process.env.BENCH_CASES ? process.env.BENCH_CASES.split(',').map((s) => s.trim()).filter(Boolean) : null,
    cpuProf: !!process.env.BENCH_CPU_PROF && process.env.BENCH_CPU_PROF !== '0',
    // Server on CPU 0, load generator on CPU 1: neither can take the other's core.
    pin: pin ? { server: '0', loadgen: '1' } : null,
    /** Pin the ping-pong cases too (BENCH_PIN=1). */
    pinAll: pinSetting === '1',
    /** Every CPU, for a server that is not pinned. */
    allCpus: `0-${cpus - 1}`,
    write: process.env.BENCH_WRITE !== '0',
  };
}
