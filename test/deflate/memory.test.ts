// Memory held by the inflater, measured by the operating system: a 100 MiB deflate bomb (about
// 100 KB on the wire) fails with 1009 having grown the process's peak RSS by at most about
// maxPayload, where inflating it naively grows it by 100 MiB. Each measure runs in a fresh child
// process that resets its peak RSS just before inflating (Linux's /proc/self/clear_refs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function bomb(mode: 'ours' | 'naive', mib: number, maxPayload: number): Promise<{ compressed: number; outcome: string; grown: number }> {
  const { stdout } = await run(process.execPath, [...process.execArgv, 'test/deflate/fixtures/bomb.ts', mode, String(mib), String(maxPayload)], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { compressed: number; outcome: string; grown: number };
}

const linux = existsSync('/proc/self/clear_refs');

t.test('a 100 MiB bomb costs maxPayload plus a constant, not 100 MiB', { skip: linux ? false : 'needs Linux /proc/self/clear_refs' }, async (t) => {
  const ours = await bomb('ours', 100, MiB);
  t.ok(ours.compressed < 110_000, `${ours.compressed} bytes on the wire`);
  t.equal(ours.outcome, 'WS_ERR_MESSAGE_TOO_BIG 1009');
  // maxPayload of output, the 64 KiB scratch buffer, and allocator slack.
  t.ok(ours.grown < MiB + 4 * MiB, `peak RSS grew by ${(ours.grown / MiB).toFixed(1)} MiB with maxPayload 1 MiB`);

  const larger = await bomb('ours', 100, 16 * MiB);
  t.equal(larger.outcome, 'WS_ERR_MESSAGE_TOO_BIG 1009');
  t.ok(larger.grown < 16 * MiB + 4 * MiB, `peak RSS grew by ${(larger.grown / MiB).toFixed(1)} MiB with maxPayload 16 MiB`);

  // The same measure sees a naive inflation: the bound above is the inflater's doing.
  const naive = await bomb('naive', 100, MiB);
  t.equal(naive.outcome, `inflated ${100 * MiB}`);
  t.ok(naive.grown > 90 * MiB, `inflating it whole grew peak RSS by ${(naive.grown / MiB).toFixed(1)} MiB`);
});
