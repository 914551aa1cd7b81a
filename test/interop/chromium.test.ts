// Interop with a real browser: Debian's Chromium, headless, driven by playwright-core. Our server's
// httpHandler serves the page and the case scripts (peers/whatwg-cases.js, peers/plan.js); the page
// runs the plan with the browser's own WebSocket and playwright reads back what it observed. One
// browser launch for the file (Chromium starts slowly); each run gets a fresh page.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, COMPRESSION_MODES, PLAN, WAIT, checkPlan, interopServer, type PlanResults } from './fixtures.js';

/** Members of the page's window this test uses (the project type-checks without the DOM lib). */
declare const window: { runPlan(plan: typeof PLAN): Promise<PlanResults> };

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); the browser interop test needs it`;
if (skip) console.log(`# skipping the Chromium interop test: ${skip}`);

for (const { name, mode } of COMPRESSION_MODES) t.test(`headless Chromium runs the plan against our server (${name})`, { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'simpatico-interop-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 2 * WAIT });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const srv = await interopServer(t, mode);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(srv.url.replace(/^ws/, 'http'), { timeout: WAIT });
  await page.waitForFunction(() => typeof window.runPlan === 'function', null, { timeout: WAIT });
  // page.evaluate has no timeout of its own: every wait inside the plan is bounded (whatwg-cases.js).
  const results = await page.evaluate((plan) => window.runPlan(plan), PLAN);
  await checkPlan(t, results, srv, { refusesUnselected: true });
  t.same(problems, [], 'no errors in the page');
  await page.close();
});
