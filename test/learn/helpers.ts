// Running the learner's commands in-process, as test/cli.test.ts runs the others.
import { main } from '../../src/cli.js';
import type { LearnIO } from '../../src/learn/commands.js';

export interface Run {
  code: number;
  /** stdout, one entry per line written. */
  lines: string[];
  /** stdout as one text. */
  out: string;
  /** stdout with wrapped lines joined again (a line break and its indentation become one space). */
  text: string;
  errors: string[];
}

/** Runs `simpatico-ws ARGS` with `stdin` (default: none) and collects what it writes. */
export async function run(args: string[], stdin?: string): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  const io: LearnIO = {
    out: (l) => lines.push(...l.split('\n')),
    err: (l) => errors.push(l),
    stdin: (async function* () {
      if (stdin !== undefined) yield Buffer.from(stdin);
    })(),
  };
  const code = await main(args, io);
  const out = lines.join('\n');
  return { code, lines, out, text: out.replace(/\n */g, ' '), errors };
}

/** The line of `lines` that starts (after its indentation) with `start`, or a failure naming it. */
export function line(lines: string[], start: string | RegExp): string {
  const found = lines.find((l) => (typeof start === 'string' ? l.trimStart().startsWith(start) : start.test(l)));
  if (found === undefined) throw new Error(`no line starts with ${String(start)} in:\n${lines.join('\n')}`);
  return found;
}
