// The demo across nodes: two `serve --redis` on one redis-server of the test's own, a Chromium page
// on each. Both register; "Send to key" and Send (a broadcast) reach the page on the other node,
// and a key no node holds is reported. The browser modules are compiled fresh from src/, as in
// browser.test.ts.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/registration/serve.js';
import { noRedis, startRedis } from './fixtures/redis-server.js';

declare const document: { getElementById(id: string): { textContent: string | null } | null };

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium); the browser test needs it` : (noRedis ?? false);
if (skip) console.log(`# skipping the demo across nodes: ${skip}`);

t.test('a Chromium page on each of two nodes: Send and Send to key reach the other page', { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const root = mkdtempSync(join(tmpdir(), 'simpatico-cluster-browser-'));
  const webRoot = join(root, 'web');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.browser.json', '--outDir', webRoot], { stdio: 'inherit' });
  const redis = await startRedis();

  const node = async () => {
    const ac = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    const done = main(['--port', '0', '--redis', redis.url], { out: (l) => out.push(l), err: (l) => err.push(l), signal: ac.signal }, webRoot);
    for (let i = 0; i < 1000 && !out.some((l) => l.includes('http://')); i++) await new Promise((r) => setTimeout(r, 10));
    const url = /(http:\/\/\S+)/.exec(out.join('\n'))?.[1];
    if (url === undefined) throw new Error('serve did not start: ' + err.join('\n'));
    return { url, out, err, stop: async () => (ac.abort(), done) };
  };
  const n1 = await node();
  const n2 = await node();
  const context = await chromium.launchPersistentContext(join(root, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS });
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return [];
    stopped = true;
    await context.close();
    const codes = [await n1.stop(), await n2.stop()];
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
    return codes;
  };
  t.teardown(stopAll);

  const problems: string[] = [];
  const open = async (url: string) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
    await page.goto(url);
    await page.click('#run-connect');
    await page.waitForFunction(() => /registered as /.test(document.getElementById('message-container')?.textContent ?? ''), null, { timeout: 15_000 });
    return { page, key: (await page.textContent('#public-key'))?.trim() ?? '' };
  };
  const waitLog = (page: import('playwright-core').Page, text: string) =>
    page.waitForFunction((want) => (document.getElementById('message-container')?.textContent ?? '').includes(want), text, { timeout: 15_000 });

  const a = await open(n1.url);
  const b = await open(n2.url);
  t.ok(n1.out.includes(`registered ${a.key}`) && n2.out.includes(`registered ${b.key}`), 'each node registered its own page');

  await a.page.fill('#send-to-key', b.key);
  await a.page.fill('#send-to-text', 'direct from node 1');
  await a.page.click('#run-send-to');
  await waitLog(b.page, `from ${a.key}: direct from node 1`);

  await b.page.click('#run-send');
  await waitLog(a.page, `from ${b.key}: hello there 0`);

  await a.page.fill('#send-to-key', 'nobody');
  await a.page.click('#run-send-to');
  await waitLog(a.page, 'server: unknown recipient nobody');
  t.same(problems, [], 'no page errors');
  t.same([...n1.err, ...n2.err], [], 'nothing on stderr');
  t.same(await stopAll(), [0, 0], 'both nodes stop cleanly');
});
