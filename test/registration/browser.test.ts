// A real browser: Debian's Chromium, driven by playwright-core, opens the demo page twice; both
// pages click Connect, register with WebCrypto Ed25519, then exchange a direct message and a
// broadcast, each checked in the other page's log. The browser modules are compiled fresh from
// src/ (tsconfig.browser.json) so the test always runs the current code.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/registration/serve.js';

/** The one DOM member the page functions below use (they run in the browser; this project type-checks without DOM). */
declare const document: { getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined> } | null };

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); the browser test needs it`;
if (skip) console.log(`# skipping the browser test: ${skip}`);

t.test('two Chromium pages register and talk through the demo page', { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const root = mkdtempSync(join(tmpdir(), 'simpatico-browser-'));
  const webRoot = join(root, 'web');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.browser.json', '--outDir', webRoot], { stdio: 'inherit' });

  const ac = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  // Short heartbeats, so that the pages answer several during the test (with room for a loaded machine).
  const served = main(['--port', '0', '--heartbeat', '0.2', '--heartbeat-timeout', '3'], { out: (l) => out.push(l), err: (l) => err.push(l), signal: ac.signal }, webRoot);
  for (let i = 0; i < 500 && !out.some((l) => l.includes('http://')); i++) await new Promise((r) => setTimeout(r, 10));
  const url = /(http:\/\/\S+)/.exec(out.join('\n'))?.[1];
  t.ok(url, 'serve printed its URL');

  const context = await chromium.launchPersistentContext(join(root, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS });
  t.teardown(async () => {
    await context.close();
    ac.abort();
    await served;
    rmSync(root, { recursive: true, force: true });
  });
  const problems: string[] = [];
  const open = async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
    await page.goto(url as string);
    await page.click('#run-connect');
    await page.waitForFunction(() => /registered as /.test(document.getElementById('message-container')?.textContent ?? ''), null, { timeout: 15_000 });
    const key = (await page.textContent('#public-key'))?.trim() ?? '';
    return { page, key };
  };
  const log = (page: import('playwright-core').Page) => page.textContent('#message-container').then((s) => s ?? '');
  const waitLog = (page: import('playwright-core').Page, text: string) =>
    page.waitForFunction((want) => (document.getElementById('message-container')?.textContent ?? '').includes(want), text, { timeout: 15_000 });

  const a = await open();
  const b = await open();
  t.match(a.key, /^[A-Za-z0-9_-]{43}$/, 'page A shows its public key');
  t.not(a.key, b.key);
  t.match(await log(a.page), `socket created ${url!.replace(/^http/, 'ws')}`, 'connected to its own URL, http → ws');
  t.ok(out.includes(`registered ${a.key}`) && out.includes(`registered ${b.key}`), 'the server registered both keys');

  // Each page answers heartbeat challenges by itself (the demo counts them on #public-key).
  for (const { page } of [a, b]) {
    await page.waitForFunction(() => Number(document.getElementById('public-key')?.dataset.heartbeats ?? '0') >= 2, null, { timeout: 15_000 });
  }

  // A direct message, A → B, through the "send to key" field.
  await a.page.fill('#send-to-key', b.key);
  await a.page.fill('#send-to-text', 'direct from A');
  await a.page.click('#run-send-to');
  await waitLog(b.page, `from ${a.key}: direct from A`);
  t.match(await log(a.page), `to ${b.key}: direct from A — sent; the server answers only a message it cannot deliver`);

  // The seed's Send button: a broadcast of "hello there N", N from 0.
  await b.page.click('#run-send');
  await waitLog(a.page, `from ${b.key}: hello there 0`);
  await b.page.click('#run-send');
  await waitLog(a.page, `from ${b.key}: hello there 1`);
  t.notMatch(await log(b.page), `from ${b.key}`, 'a broadcast does not come back to its sender');

  // Unknown recipients are reported, not delivered.
  await a.page.fill('#send-to-key', 'nobody');
  await a.page.click('#run-send-to');
  await waitLog(a.page, 'server: unknown recipient nobody');
  t.match(await log(a.page), 'to nobody: direct from A — not delivered: the server answered {"error":"unknown recipient","to":"nobody"}');

  t.notOk(out.some((l) => l.startsWith('unregistered')), 'nobody was dropped');

  // A server that expects another host refuses the page's signatures: the page sees the retry,
  // then the exception, then the 1008 close.
  const ac2 = new AbortController();
  const out2: string[] = [];
  const strict = main(['--port', '0', '--retries', '2', '--expected-host', 'elsewhere.example'], { out: (l) => out2.push(l), err: (l) => err.push(l), signal: ac2.signal }, webRoot);
  for (let i = 0; i < 500 && !out2.some((l) => l.includes('http://')); i++) await new Promise((r) => setTimeout(r, 10));
  const page = await context.newPage();
  await page.goto(/(http:\/\/\S+)/.exec(out2.join('\n'))![1]);
  await page.click('#run-connect');
  await waitLog(page, 'closed 1008 registration failed');
  const text = await log(page);
  t.match(text, 'rejected (bad signature), retrying; 1 retries left');
  t.match(text, /error: The server refused registration of key [\w-]+ \(bad signature\)/);
  // The panel counts the retries down, as docs/LEARN.md §8 shows it for this command: each refusal
  // with a new challenge (answered), then none left.
  const refusals = await page.$$eval('#protocol-panel .entry[data-kind="refused"] .what', (els) => els.map((el) => el.textContent));
  t.same(refusals, [
    'refused (bad signature): answering the new challenge, 2 retries left after it (step 3′)',
    'refused (bad signature): answering the new challenge, 1 retry left after it (step 3′)',
    'refused (bad signature): no retries left, the server closes with 1008 (step 3″)',
  ]);
  t.equal(await page.locator('#protocol-panel .entry[data-kind="signed"]').count(), 3, 'the first answer and the two retries, each for a new nonce');
  const nonces = await page.$$eval('#protocol-panel .entry[data-kind="signed"] dd[data-field="nonce"]', (els) => els.map((el) => el.textContent));
  t.equal(new Set(nonces).size, 3, 'no nonce signed twice');
  await page.click('#run-send');
  await waitLog(page, 'error: registeredSend() needs an open, registered socket.');
  ac2.abort();
  t.equal(await strict, 0);
  t.same(problems, [], 'no page errors');
  t.same(err, []);
});
