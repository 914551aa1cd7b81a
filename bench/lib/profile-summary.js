// Where a server's time went: self time per function from a V8 .cpuprofile (written by the servers when
// a benchmark runs with BENCH_CPU_PROF=1), the heaviest first.
//
// Usage: node bench/lib/profile-summary.js FILE.cpuprofile [TOP=25]
import fs from 'node:fs';
import path from 'node:path';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/profile-summary.js FILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
/** @type {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }[], samples: number[], timeDeltas: number[] }} */
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

/** @type {Map<number, string>} node id → "function (file:line)" */
const names = new Map();
for (const n of profile.nodes) {
  const f = n.callFrame;
  const where = f.url ? ` (${path.basename(f.url)}:${f.lineNumber + 1})` : '';
  names.set(n.id, `${f.functionName || '(anonymous)'}${where}`);
}
/** @type {Map<string, number>} name → µs of self time */
const self = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  const name = names.get(profile.samples[i]) ?? '?';
  self.set(name, (self.get(name) ?? 0) + dt);
  total += dt;
}
// Percentages of busy time: an echo server waiting for the load generator is idle, which says nothing
// about where its work goes.
const idle = self.get('(idle)') ?? 0;
self.delete('(idle)');
const busy = total - idle;
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy\n`);
console.log('| % of busy | self ms | function |\n| ---: | ---: | --- |');
for (const [name, us] of rows) console.log(`| ${((us / busy) * 100).toFixed(1)} | ${(us / 1000).toFixed(0)} | ${name} |`);
