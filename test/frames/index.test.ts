// The reading order of src/frames/index.ts: every file of the module is listed once, after every
// file it imports, so that a reader who follows the list never meets a name not yet explained.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../../src/frames/', import.meta.url);
const index = readFileSync(new URL('index.ts', dir), 'utf8');
const order = [...index.matchAll(/^ \*\s+\d+\.\s+([\w-]+\.ts)\s/gm)].map((m) => m[1]);

t.test('every file is in the reading order, once', (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  t.same([...order].sort(), files.sort());
  t.equal(new Set(order).size, order.length);
  t.end();
});

t.test('each file comes after what it imports', (t) => {
  for (const [position, file] of order.entries()) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const imports = [...source.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((m) => `${m[1]}.ts`);
    for (const imported of imports) t.ok(order.indexOf(imported) < position && order.includes(imported), `${file} imports ${imported}, listed before it`);
  }
  t.end();
});

t.test('the exports follow the same order (internal files export nothing)', (t) => {
  const exported = [...index.matchAll(/^export .* from '\.\/([\w-]+)\.js';$/gm)].map((m) => `${m[1]}.ts`);
  t.same(exported, order.filter((file) => exported.includes(file)));
  t.same(order.filter((file) => !exported.includes(file)), ['mask-wasm-bytes.ts', 'mask-wasm.ts', 'mask-key.ts', 'decoder.ts', 'payload-buffer.ts']);
  t.end();
});
