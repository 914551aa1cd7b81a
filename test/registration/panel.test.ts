// The demo's protocol panel in a real browser (Debian's Chromium via playwright-core), 360 px wide:
// the string the page shows as signed is the one the server verified (taken from the server: its
// hub is given a crypto whose verify records the bytes and the verdict), heartbeats are shown with
// their answers, a message to an unknown key shows the server's answer instead of "sent", nothing
// scrolls sideways, the protocol document is served, and a key kept in IndexedDB survives a reload
// until a new identity replaces it. The server is serve's parts (the demo handler, the hub, its
// verifyClient, the loopback hosts) put together here so that its crypto can be watched.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from '../../src/server/server.js';
import { RegistrationHub } from '../../src/registration/hub.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';
import { loopbackHosts } from '../../src/registration/serve.js';
import { demoHttpHandler, loadWebFiles } from '../../src/registration/static.js';
import { decodeBase64url } from '../../src/registration/core/base64url.js';
import { watchedCrypto } from './fixtures/watched-crypto.js';

/** The DOM members the page functions below use (they run in the browser; this project type-checks without DOM). */
declare const document: {
  documentElement: { scrollWidth: number };
  getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined>; querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } | null;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null; dataset: Record<string, string | undefined> }>;
};
declare const indexedDB: any;
declare const CryptoKey: new () => unknown;

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = { timeout: 15_000 };

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium); the browser test needs it`;
if (skip) console.log(`# skipping the protocol panel test: ${skip}`);

t.test('the protocol panel at 360 px, against a server whose verification is watched', { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const root = mkdtempSync(join(tmpdir(), 'simpatico-panel-'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.browser.json', '--outDir', root], { stdio: 'inherit' });
  // What `npm run build` does after tsc: the protocol document beside the modules.
  cpSync('src/registration/PROTOCOL.md', join(root, 'registration', 'PROTOCOL.md'));

  // The server's side: every message its crypto verified, decoded, with the verdict.
  const { crypto: watching, verified } = watchedCrypto();
  let hub: RegistrationHub | undefined;
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    httpHandler: demoHttpHandler(await loadWebFiles(root)),
    verifyClient: (request) => (hub as RegistrationHub).verifyClient(request),
    perMessageDeflate: true,
  });
  await server.ready;
  const { address, port } = server.address();
  hub = new RegistrationHub({ expectedHosts: loopbackHosts(address, port, false), heartbeatInterval: 300, heartbeatTimeout: 5000, crypto: watching });
  hub.attach(server);
  const registered: string[] = [];
  hub.on('registered', (key) => registered.push(key));
  const url = server.url.replace(/^ws/, 'http');

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  t.teardown(async () => {
    await browser.close();
    hub?.detach();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });
  const problems: string[] = [];
  const open = async (context: import('playwright-core').BrowserContext) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
    await page.goto(url);
    return page;
  };
  const narrow = { viewport: { width: 360, height: 740 } };
  const scrollWidth = (page: import('playwright-core').Page) => page.evaluate(() => document.documentElement.scrollWidth);
  const waitLog = (page: import('playwright-core').Page, text: string) =>
    page.waitForFunction((want) => (document.getElementById('message-container')?.textContent ?? '').includes(want), text, WAIT);
  /** The panel's entries of one kind: each entry's text, and its fields by name. */
  const entries = (page: import('playwright-core').Page, kind: string) =>
    page.$$eval(`#protocol-panel .entry[data-kind="${kind}"]`, (els) =>
      els.map((el) => ({
        what: el.querySelector('.what')?.textContent ?? '',
        wire: el.querySelector('.wire')?.textContent ?? '',
        fields: Object.fromEntries([...el.querySelectorAll('dd')].map((dd) => [(dd as unknown as { dataset: { field: string } }).dataset.field, dd.textContent ?? ''])),
      })),
    );
  const countOf = (page: import('playwright-core').Page, kind: string, atLeast: number) =>
    page.waitForFunction(([k, n]) => document.querySelectorAll(`#protocol-panel .entry[data-kind="${k}"]`).length >= (n as number), [kind, atLeast] as const, WAIT);

  t.test('what is signed, as the server verified it; heartbeats; an unknown key; 360 px', async (t) => {
    const context = await browser.newContext(narrow);
    const a = await open(context);
    const b = await open(context);
    t.ok((await scrollWidth(a)) <= 360, 'no horizontal scroll before connecting');
    for (const page of [a, b]) {
      await page.click('#run-connect');
      await waitLog(page, 'registered as ');
    }
    const key = ((await a.textContent('#public-key')) ?? '').trim();
    const bKey = ((await b.textContent('#public-key')) ?? '').trim();
    t.ok(registered.includes(key), 'the server registered the key the page shows');

    // Registration, then two heartbeats: each challenge and its answer.
    await countOf(a, 'signed', 3);
    const challenges = await entries(a, 'challenge');
    const signed = await entries(a, 'signed');
    t.match(challenges[0].what, 'challenge (step 1)');
    t.match(challenges[1].what, 'heartbeat challenge (step 6)');
    t.match(signed[0].what, 'signed and answered (step 2)');
    t.match(signed[1].what, 'signed and answered (step 6)');
    const serverSide = verified.filter((v) => v.ok).map((v) => v.message);
    for (const [i, s] of signed.slice(0, 3).entries()) {
      const message = JSON.parse(s.fields.message) as string;
      const nonce = challenges[i].fields.nonce;
      t.equal(message, `simpatico-registration-v1\n127.0.0.1:${port}\n${nonce}`, `answer ${i}: the domain tag, the host and the nonce of the challenge shown`);
      t.same([s.fields.domain, s.fields.host, s.fields.nonce], ['simpatico-registration-v1', `127.0.0.1:${port}`, nonce]);
      t.equal(challenges[i].wire, `{"challenge":"${nonce}"}`, 'the challenge, exactly as it arrived');
      t.ok(serverSide.includes(message), `answer ${i}: the server verified exactly this string, and it verified`);
      t.equal(s.fields.bytes, `${Buffer.byteLength(message)} (UTF-8 of the string)`);
      t.equal(s.fields.publicKey, key);
      t.equal(s.wire, `{"publicKey":"${key}","response":"${s.fields.signature}"}`, 'the answer sent');
      const signature = decodeBase64url(s.fields.signature) as Uint8Array;
      t.ok(await nodeCrypto.verify(decodeBase64url(key) as Uint8Array, Buffer.from(message), signature), 'the key and signature shown verify it');
    }
    const accepted = await entries(a, 'accepted');
    t.match(accepted[0].what, 'accepted: this key is now routable to this page (step 3)');
    t.equal(accepted[0].wire, `{"publicKey":"${key}","response":"${signed[0].fields.signature}","accepted":true}`);
    t.match(accepted[1].what, 'heartbeat answer accepted (step 6)');

    // A message to an unknown key: the log shows the server's answer, not "sent".
    await a.fill('#send-to-key', 'nobody');
    await a.fill('#send-to-text', 'anyone there?');
    await a.click('#run-send-to');
    const refused = 'to nobody: anyone there? — not delivered: the server answered {"error":"unknown recipient","to":"nobody"}';
    await waitLog(a, refused);
    t.notMatch((await a.textContent('#message-container')) ?? '', 'anyone there? — sent', 'not also shown as sent');
    const notice = (await entries(a, 'notice'))[0];
    t.equal(notice.wire, '{"error":"unknown recipient","to":"nobody"}', 'the answer in the panel, as it arrived');
    t.equal((await entries(a, 'sent'))[0].wire, '{"to":"nobody","data":"anyone there?"}');

    // One the server routes stays "sent" (it never answers those), and arrives.
    await a.fill('#send-to-key', bKey);
    await a.fill('#send-to-text', 'hi B');
    await a.click('#run-send-to');
    await waitLog(b, `from ${key}: hi B`);
    t.match((await a.textContent('#message-container')) ?? '', `to ${bKey}: hi B — sent; the server answers only a message it cannot deliver`);
    t.equal((await entries(b, 'message')).at(-1)?.wire, `{"from":"${key}","data":"hi B"}`);

    for (const page of [a, b]) t.ok((await scrollWidth(page)) <= 360, 'no horizontal scroll at 360 px, keys and signatures shown');

    // The protocol document the panel links to, served beside the page.
    const href = await a.$eval('#protocol-link', (el) => (el as unknown as { href: string }).href);
    t.equal(href, new URL('/registration/PROTOCOL.md', url).href);
    const doc = await a.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    }, href);
    t.same(doc, { status: 200, type: 'text/plain; charset=utf-8', text: readFileSync('src/registration/PROTOCOL.md', 'utf8') });
    await context.close();
  });

  t.test('a kept key survives a reload; a new identity replaces it; without asking, nothing is kept', async (t) => {
    const context = await browser.newContext(narrow);
    const page = await open(context);
    const identity = async () => ({
      key: ((await page.textContent('#identity')) ?? '').trim(),
      kept: await page.$eval('#identity', (el) => (el as unknown as { dataset: { kept?: string } }).dataset.kept),
      status: (await page.textContent('#identity-status')) ?? '',
    });
    const shown = (want: string) => page.waitForFunction((w) => (document.getElementById('identity')?.textContent ?? '') === w, want, WAIT);
    const nonEmpty = () => page.waitForFunction(() => /^[\w-]{43}$/.test(document.getElementById('identity')?.textContent ?? ''), null, WAIT);

    await page.waitForFunction(() => (document.getElementById('identity-status')?.textContent ?? '') !== '', null, WAIT);
    t.same(await identity(), { key: '', kept: 'false', status: '(made when you press Connect)' });
    await page.check('#keep-key');
    await waitLog(page, 'key kept in this browser');
    const first = (await identity()).key;
    t.match(first, /^[\w-]{43}$/);
    t.equal((await identity()).kept, 'true');

    // What IndexedDB holds: a CryptoKey that cannot be exported, and the raw public key.
    const stored = await page.evaluate(
      () =>
        new Promise<{ extractable: boolean; isCryptoKey: boolean; type: string; publicBytes: number }>((resolve, reject) => {
          const open = indexedDB.open('simpatico-ws', 1);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('identity').objectStore('identity').get('demo');
            get.onsuccess = () => {
              const v = get.result;
              open.result.close();
              resolve({ extractable: v.privateKey.extractable, isCryptoKey: v.privateKey instanceof CryptoKey, type: v.privateKey.type, publicBytes: v.publicKey.length });
            };
          };
        }),
    );
    t.same(stored, { extractable: false, isCryptoKey: true, type: 'private', publicBytes: 32 });

    await page.reload();
    await shown(first);
    t.equal(await page.isChecked('#keep-key'), true, 'still asked for after the reload');
    t.match((await identity()).status, 'kept in this browser');
    await page.click('#run-connect');
    await waitLog(page, 'registered as ' + first);
    t.ok(registered.includes(first), 'the server registered the kept key after the reload');

    await page.click('#run-new-identity');
    await waitLog(page, 'new identity ');
    const second = (await identity()).key;
    t.not(second, first, 'a new key');
    await waitLog(page, 'registered as ' + second);
    t.match((await page.textContent('#message-container')) ?? '', 'closed 1000 reconnecting', 'a connected page reconnects with it');
    await page.reload();
    await shown(second);
    t.ok(registered.includes(second));

    // Unasked, the key is the page's only: a reload makes another one.
    await page.uncheck('#keep-key');
    await waitLog(page, 'kept key forgotten');
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('identity-status')?.textContent ?? '') !== '', null, WAIT);
    t.same(await identity(), { key: '', kept: 'false', status: '(made when you press Connect)' }, 'nothing kept');
    await page.click('#run-connect');
    await nonEmpty();
    await waitLog(page, 'registered as ');
    const third = (await identity()).key;
    t.not(third, second);
    t.match((await identity()).status, 'this page only: a reload makes a new one');
    await page.reload();
    await page.waitForFunction(() => (document.getElementById('identity-status')?.textContent ?? '') !== '', null, WAIT);
    t.equal((await identity()).key, '', 'gone with the reload');
    t.ok((await scrollWidth(page)) <= 360);
    await context.close();
  });

  t.test('no page errors', async (t) => {
    t.same(problems, []);
  });
});
