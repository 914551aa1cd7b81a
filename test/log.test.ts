// The commands' log: one line per event, text or JSON, and a flood that cannot become a log flood.
import t from 'tap';
import { Log } from '../src/log.js';

t.test('text and JSON lines', async (t) => {
  const lines: string[] = [];
  const text = new Log({ format: 'text', write: (l) => lines.push(l), now: () => 0 });
  text.line({ event: 'refused', address: '127.0.0.1', status: 431, code: 'WS_ERR_HEAD_TOO_LARGE', message: 'too big', skipped: undefined });
  t.same(lines, ['simpatico-ws: refused address=127.0.0.1 status=431 code=WS_ERR_HEAD_TOO_LARGE — too big']);
  const json: string[] = [];
  new Log({ format: 'json', write: (l) => json.push(l), now: () => 0 }).line({ event: 'closed', close: 1002 });
  t.same(JSON.parse(json[0]), { time: '1970-01-01T00:00:00.000Z', event: 'closed', close: 1002 });
});

t.test('past its rate the log counts instead of writing, and says how many it suppressed', async (t) => {
  const lines: string[] = [];
  let now = 0;
  const log = new Log({ format: 'text', write: (l) => lines.push(l), rate: 10, now: () => now });
  for (let i = 0; i < 1000; i++) log.line({ event: 'refused', n: i });
  t.equal(lines.length, 20, 'a burst of twice the rate, then nothing');
  now += 1000;
  log.line({ event: 'refused', n: 1000 });
  t.same(lines.slice(20), ['simpatico-ws: suppressed count=980 why=more lines than the log rate allows', 'simpatico-ws: refused n=1000']);
  for (let i = 0; i < 100; i++) log.line({ event: 'refused' });
  log.flushSuppressed();
  t.match(lines[lines.length - 1], /suppressed count=\d+/);
  log.flushSuppressed();
  t.match(lines[lines.length - 1], /suppressed/, 'nothing more to say');
});

t.test('a flood that stops is still counted, a second later', async (t) => {
  const lines: string[] = [];
  const log = new Log({ format: 'json', write: (l) => lines.push(l), rate: 1 });
  for (let i = 0; i < 5; i++) log.line({ event: 'refused' });
  t.equal(lines.length, 2);
  await new Promise((r) => setTimeout(r, 1100));
  t.match(JSON.parse(lines[2]), { event: 'suppressed', count: 3 });
});
