// docs/api cannot drift from the sources: TypeDoc regenerates the reference from src/'s TSDoc
// (typedoc.json, the same command as `npm run docs`) into a temporary folder, and every file must
// equal the committed one, with none missing or left over. After changing a public type or its
// comment, run `npm run docs` and commit docs/api.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO, run } from './install.js';

function files(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(root, path), readFileSync(path, 'utf8'));
  }
  return out;
}

t.test('docs/api is what TypeDoc makes of the sources now', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'simpatico-docs-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const typedoc = join(REPO, 'node_modules/typedoc/bin/typedoc');
  const ran = await run(process.execPath, [typedoc, '--out', out, '--logLevel', 'Error'], REPO, 180_000);
  t.equal(ran.code, 0, 'typedoc ran offline without errors');
  t.equal(ran.stderr + ran.stdout, '', 'and said nothing at the error level');
  const fresh = files(out);
  const committed = files(join(REPO, 'docs/api'));
  t.same([...committed.keys()].sort(), [...fresh.keys()].sort(), 'the same pages (run npm run docs)');
  for (const [path, text] of fresh) {
    // t.equal on each page: a drift shows as a diff of that page.
    t.equal(committed.get(path), text, `docs/api/${path} is current (run npm run docs)`);
  }
  t.ok(fresh.has('simpatico-ws.md') && fresh.has('simpatico-ws/browser.md'), 'every entry point has its page');
});

t.test('the reference documents the options with their type, default and unit', async (t) => {
  const root = readFileSync(join(REPO, 'docs/api/simpatico-ws.md'), 'utf8');
  // Rows of the options tables, e.g. | `maxPayload?` | `number` | Largest message accepted, in bytes; ... Default 1 MiB. |
  for (const [option, unit, deflt] of [
    ['maxPayload', 'in bytes', 'Default 1 MiB'],
    ['handshakeTimeout', 'ms ', 'Default 10,000'],
    ['closeTimeout', 'ms to wait', 'Default 10,000'],
    ['heartbeatInterval', 'ms between', 'Default 20,000'],
    ['highWaterMark', 'Buffered outgoing bytes', 'Default 1 MiB'],
  ]) {
    const row = root.split('\n').find((l) => l.includes(`\`${option}?\``));
    t.ok(row !== undefined, `${option} has a row`);
    t.match(row, /\| `number` \|/, `${option}: its type`);
    t.match(row, unit, `${option}: its unit`);
    t.match(row, deflt, `${option}: its default`);
  }
  t.match(readFileSync(join(REPO, 'README.md'), 'utf8'), /\[docs\/api\]\(docs\/api\/README\.md\)/, 'the README links it');
});
