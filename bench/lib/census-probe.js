// Preloaded (through NODE_OPTIONS=--import) into a server by bench/heap-census.js: on SIGUSR2 it
// writes a heap snapshot (V8 collects garbage first) to $CENSUS_DIR/<n>.heapsnapshot, then an empty
// <n>.done beside it, so that the harness knows the snapshot is complete.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

const dir = process.env.CENSUS_DIR;
let n = 0;
if (dir !== undefined) {
  process.on('SIGUSR2', () => {
    const file = path.join(dir, `${n}.heapsnapshot`);
    v8.writeHeapSnapshot(file);
    fs.writeFileSync(path.join(dir, `${n}.done`), '');
    n++;
  });
}
