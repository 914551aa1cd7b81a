// Sec-WebSocket-Extensions (RFC 6455 §9.1): parsing offers and formatting answers.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import { formatExtensions, parseExtensions, type ExtensionOffer } from '../../src/handshake/index.js';

t.test('offers with tokens, flags and quoted values', async (t) => {
  t.strictSame(parseExtensions('permessage-deflate; client_max_window_bits'), [
    { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
  ]);
  // Two offers for the same extension (RFC 7692 §5), one with a quoted value.
  t.strictSame(
    parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits="15"'),
    [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
      { name: 'permessage-deflate', params: [['client_max_window_bits', '15']] },
    ],
  );
  t.strictSame(parseExtensions('x-a;b=c;d,x-e'), [
    { name: 'x-a', params: [['b', 'c'], ['d', true]] },
    { name: 'x-e', params: [] },
  ]);
  t.strictSame(parseExtensions(' x \t; \tb \t= \t"c" \t,  , y '), [
    { name: 'x', params: [['b', 'c']] },
    { name: 'y', params: [] },
  ], 'OWS around , ; = and empty elements');
  t.strictSame(parseExtensions('x; v="a\\bc"'), [{ name: 'x', params: [['v', 'abc']] }], 'quoted-pair unescapes');
  t.strictSame(parseExtensions(''), []);
  t.strictSame(parseExtensions(' , '), []);
});

// RFC 7692 §7: a server declines an offer with a repeated parameter and goes on to the next offer,
// so the grammar keeps repetitions for the negotiator instead of refusing the whole header.
t.test('a repeated parameter is kept, in order, for the extension to judge', async (t) => {
  t.strictSame(parseExtensions('x; a=b; a=c'), [{ name: 'x', params: [['a', 'b'], ['a', 'c']] }]);
  t.strictSame(parseExtensions('permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate'), [
    { name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['server_no_context_takeover', true]] },
    { name: 'permessage-deflate', params: [] },
  ]);
});

t.test('a parameter named __proto__ is a plain name', async (t) => {
  t.strictSame(parseExtensions('x; __proto__=a; constructor'), [{ name: 'x', params: [['__proto__', 'a'], ['constructor', true]] }]);
});

t.test('malformed values are WebSocketError values with status 400', async (t) => {
  const bad: Array<[string, RegExp]> = [
    [';a', /extension name/],
    ['x;', /parameter name/],
    ['x; =1', /parameter name/],
    ['x; a=', /token value/],
    ['x; a="b c"', /token value/], // unescaped it must be a token (RFC 6455 §9.1)
    ['x; a=""', /token value/],
    ['x; a="b', /token value/], // unterminated
    ['x; a="b\\', /token value/], // escape at the end
    ['x; a="\\\x00"', /token value/], // escaping a control character
    ['x; a="b\x01"', /token value/],
    ['x y', /unexpected character/],
    ['x; a=b c', /unexpected character/],
    ['x; a="b"c', /unexpected character/],
    ['"x"', /extension name/],
    ['x, é', /extension name/],
    ['x/1', /unexpected character "\/"/],
  ];
  for (const [value, message] of bad) {
    const result = parseExtensions(value);
    t.type(result, WebSocketError, JSON.stringify(value));
    t.match(result, { code: 'WS_ERR_HANDSHAKE_EXTENSIONS', status: 400, side: 'remote', message }, JSON.stringify(value));
  }
});

t.test('formatting accepted extensions', async (t) => {
  t.equal(formatExtensions([]), '');
  t.equal(
    formatExtensions([
      { name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['client_max_window_bits', '10']] },
      { name: 'x-other', params: [] },
    ]),
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=10, x-other',
  );
  // format → parse is the identity on valid lists.
  const list: ExtensionOffer[] = [{ name: 'a', params: [['b', 'c'], ['d', true], ['b', 'e']] }, { name: 'e', params: [] }];
  t.strictSame(parseExtensions(formatExtensions(list)), list);
});

t.test('formatting refuses what is not a token, so nothing can be injected', async (t) => {
  const cases = [
    [{ name: 'x\r\nEvil: 1', params: [] }],
    [{ name: '', params: [] }],
    [{ name: 'x', params: [['a b', true]] }],
    [{ name: 'x', params: [['a', 'b\r\nEvil: 1']] }],
    [{ name: 'x', params: [['a', '']] }],
    [{ name: 'x', params: [['a', 'b,c']] }],
  ] as const;
  for (const list of cases) {
    t.throws(() => formatExtensions(list as never), { code: 'WS_ERR_INVALID_HEADER', side: 'local' }, JSON.stringify(list));
  }
});
