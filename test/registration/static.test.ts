// The demo's static files: the protocol document the page links to is served beside the modules,
// as plain text, from memory; what the build copies is the document itself.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoHttpHandler, loadWebFiles } from '../../src/registration/static.js';
import { DEMO_PAGE } from '../../src/registration/page.js';

t.test('the protocol document and the modules, each with its type; other files are not served', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'simpatico-static-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'registration', 'browser'), { recursive: true });
  writeFileSync(join(root, 'registration', 'PROTOCOL.md'), '# The protocol\n');
  writeFileSync(join(root, 'registration', 'browser', 'demo.js'), 'export {};\n');
  writeFileSync(join(root, 'registration', 'notes.txt'), 'not served');
  const files = await loadWebFiles(root);
  t.same([...files.keys()].sort(), ['/registration/PROTOCOL.md', '/registration/browser/demo.js']);
  const handler = demoHttpHandler(files);
  const get = (url: string) => handler({ method: 'GET', url, httpVersion: '1.1', headers: {} });
  const doc = get('/registration/PROTOCOL.md');
  t.equal(doc.status, 200);
  t.equal(doc.headers?.['content-type'], 'text/plain; charset=utf-8', 'shown by the browser, not offered as a download');
  t.equal(doc.headers?.['x-content-type-options'], 'nosniff');
  t.equal(String(doc.body), '# The protocol\n');
  t.equal(get('/registration/browser/demo.js').headers?.['content-type'], 'text/javascript; charset=utf-8');
  t.equal(get('/registration/notes.txt').status, 404);
});

t.test('the page links to the document where it is served, and the build copies it there', async (t) => {
  t.match(DEMO_PAGE, '<a id="protocol-link" href="registration/PROTOCOL.md">');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  t.match(pkg.scripts.build, "cpSync('src/registration/PROTOCOL.md', 'dist/web/registration/PROTOCOL.md')");
});
