/**
 * Seeds, case counts and time budgets for the fuzz tests, from the environment:
 *
 *   FUZZ_SEED=<n>        the run's seed (decimal or 0x…); default: a fixed one per file, or a fresh
 *                        random one with FUZZ_LONG
 *   FUZZ_CASE=<i>        replay only case i of that seed (each case has its own PRNG, derived from
 *                        the seed and its index, so one case replays without the ones before it)
 *   FUZZ_LONG=1          the long run (`npm run fuzz`): many more cases, bounded by time
 *   FUZZ_ITERATIONS=<n>  the most cases to run (default: the file's slice, or unbounded with FUZZ_LONG)
 *   FUZZ_SECONDS=<s>     the time budget of each file (default: a few seconds, or minutes with FUZZ_LONG)
 *
 * Every failure message carries the one command that replays it.
 */
import { randomInt } from 'node:crypto';
import { relative } from 'node:path';

/** mulberry32: a tiny, good-enough PRNG with a 32-bit state (Tommy Ettinger's). */
export class Random {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.a = (this.a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Cut points for `length` bytes: none, a few, or (rarely) every byte. */
  cuts(length: number): number[] {
    if (length < 2) return [];
    const mode = this.int(10);
    if (mode === 0) return [];
    if (mode === 1 && length <= 4096) return Array.from({ length: length - 1 }, (_, i) => i + 1);
    const n = 1 + this.int(Math.min(8, length - 1));
    const set = new Set<number>();
    for (let i = 0; i < n; i++) set.add(1 + this.int(length - 1));
    return [...set].sort((a, b) => a - b);
  }
}

/** Splits `bytes` at `cuts` into fresh copies (parsers may write into what they are given). */
export function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(at, cut)));
    at = cut;
  }
  return chunks;
}

export interface FuzzRun {
  seed: number;
  long: boolean;
  /** The one command that replays this run, or one case of it. */
  reproduce(caseIndex?: number): string;
  /** A fresh PRNG for case `i`, independent of every other case. */
  random(caseIndex: number): Random;
  /** The case indices to run: bounded by count and by time. */
  cases(): Generator<number>;
  /** How many cases `cases()` yielded. */
  readonly ran: number;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

/**
 * The run of one fuzz file. `slice` cases (within `sliceSeconds`) inside `npm test`; with FUZZ_LONG,
 * cases until `longSeconds` have passed.
 */
export function fuzzRun(fileUrl: string, defaults: { seed: number; slice: number; sliceSeconds: number; longSeconds: number }): FuzzRun {
  const long = process.env.FUZZ_LONG === '1';
  const seed = (envNumber('FUZZ_SEED') ?? (long ? randomInt(2 ** 31) : defaults.seed)) >>> 0;
  const only = envNumber('FUZZ_CASE');
  const maxCases = envNumber('FUZZ_ITERATIONS') ?? (long ? Number.MAX_SAFE_INTEGER : defaults.slice);
  const seconds = envNumber('FUZZ_SECONDS') ?? (long ? defaults.longSeconds : defaults.sliceSeconds);
  const file = relative(process.cwd(), new URL(fileUrl).pathname);
  let ran = 0;
  const run: FuzzRun = {
    seed,
    long,
    reproduce: (caseIndex) =>
      `FUZZ_SEED=${seed}${caseIndex === undefined ? '' : ` FUZZ_CASE=${caseIndex}`} npx tap ${file} --disable-coverage`,
    // splitmix-style mixing, so that neighbouring cases get unrelated streams.
    random: (caseIndex) => {
      let z = (seed ^ Math.imul(caseIndex + 1, 0x9e3779b9)) >>> 0;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return new Random((z ^ (z >>> 16)) >>> 0);
    },
    *cases() {
      if (only !== undefined) {
        ran = 1;
        yield only;
        return;
      }
      const deadline = Date.now() + seconds * 1000;
      for (let i = 0; i < maxCases && Date.now() < deadline; i++) {
        ran = i + 1;
        yield i;
      }
    },
    get ran() {
      return ran;
    },
  };
  // Printed at start (stderr reaches the terminal under tap), so even a crash can be replayed.
  process.stderr.write(`# ${file}: seed ${seed}${long ? ' (long run)' : ''} — reproduce: ${run.reproduce()}\n`);
  return run;
}
