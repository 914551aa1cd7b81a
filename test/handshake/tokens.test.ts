// The HTTP grammar pieces (RFC 9110 §5.5, §5.6): tokens, field values, lists.
import t from 'tap';
import { isToken, listHasToken, parseTokenList } from '../../src/handshake/index.js';
import { isFieldValue, trimOws } from '../../src/handshake/tokens.js';

t.test('tokens (RFC 9110 §5.6.2)', async (t) => {
  for (const good of ['websocket', 'Upgrade', 'chat.v2', "!#$%&'*+-.^_`|~", 'A1']) t.ok(isToken(good), good);
  for (const bad of ['', 'a b', 'a,b', 'a;b', 'a=b', '"a"', 'a/b', 'é', 'a\tb', 'a\x7f', '(a)', '[a]', 'a:b', 'a@b', '{a}', 'a?b', 'a\\b']) {
    t.notOk(isToken(bad), JSON.stringify(bad));
  }
  // Every ASCII character, against the RFC's list.
  const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (let code = 0; code < 256; code++) {
    const c = String.fromCharCode(code);
    t.equal(isToken(c), tchars.includes(c), `0x${code.toString(16)}`);
  }
});

t.test('field values (RFC 9110 §5.5): no CR, LF, NUL or other controls', async (t) => {
  t.ok(isFieldValue('text/plain; charset=utf-8'));
  t.ok(isFieldValue('a\tb c'));
  t.ok(isFieldValue('caf\xe9'));
  t.ok(isFieldValue(''));
  for (const bad of ['a\r\nX-Evil: 1', 'a\nb', 'a\rb', 'a\x00', '\x7f', '\x1f', 'snow\u2603', '\ud83d\ude00']) {
    t.notOk(isFieldValue(bad), JSON.stringify(bad));
  }
});

t.test('OWS trimming', async (t) => {
  t.equal(trimOws(' \t a b \t '), 'a b');
  t.equal(trimOws('   '), '');
  t.equal(trimOws(''), '');
  t.equal(trimOws('\na\n'), '\na\n', 'only SP and HTAB are OWS');
});

t.test('comma lists (RFC 9110 §5.6.1)', async (t) => {
  t.strictSame(parseTokenList(undefined), []);
  t.strictSame(parseTokenList(''), []);
  t.strictSame(parseTokenList(' , ,, '), [], 'empty elements are skipped');
  t.strictSame(parseTokenList('keep-alive, Upgrade'), ['keep-alive', 'Upgrade']);
  t.strictSame(parseTokenList(' a ,\tb\t,c '), ['a', 'b', 'c']);
  t.strictSame(parseTokenList(['a, b', 'c']), ['a', 'b', 'c'], 'node:http arrays are one list');
  t.strictSame(parseTokenList('not a token, x'), ['not a token', 'x'], 'elements are returned as written');
  t.ok(listHasToken('keep-alive, UPGRADE', 'upgrade'));
  t.ok(listHasToken(['WebSocket'], 'websocket'));
  t.notOk(listHasToken('upgraded', 'upgrade'));
  t.notOk(listHasToken(undefined, 'upgrade'));
});
