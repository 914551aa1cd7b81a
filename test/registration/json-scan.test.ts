// The scanner the server reads client messages with (core/json-scan.ts): the RFC 8259 grammar,
// exactly what JSON.parse accepts (checked input by input), nesting refused at depth 33 before the
// rest is read, and the spans of the members the protocol reads.
import t from 'tap';
import { MAX_DEPTH, decodeString, scanMessage } from '../../src/registration/core/json-scan.js';

/** `{"data":` + `depth - 1` nested arrays + `}`: a message whose nesting is `depth`. */
const nested = (depth: number, inner = '1') => `{"data":${'['.repeat(depth - 1)}${inner}${']'.repeat(depth - 1)}}`;

t.test('MAX_DEPTH is 32, the message object counting as 1', async (t) => {
  t.equal(MAX_DEPTH, 32);
  t.equal(scanMessage(nested(32)).kind, 'object', '32 deep passes');
  t.equal(scanMessage(nested(33)).kind, 'too-deep', '33 deep is refused');
  t.equal(scanMessage(`{"data":${'{"a":'.repeat(31)}1${'}'.repeat(31)}}`).kind, 'object', '32 with objects');
  t.equal(scanMessage(`{"data":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`).kind, 'too-deep', '33 with objects');
  t.equal(scanMessage(`{"x":[${'[{"y":'.repeat(16)}0${'}]'.repeat(16)}]}`).kind, 'too-deep', '34 mixed');
  t.equal(scanMessage(`${'['.repeat(32)}${']'.repeat(32)}`).kind, 'not-object', '32 deep, not an object');
  t.equal(scanMessage(`${'['.repeat(33)}${']'.repeat(33)}`).kind, 'too-deep');
  // Siblings do not add up: depth is nesting, not count.
  t.equal(scanMessage(`{"data":[${Array(1000).fill(nested(31).slice(8, -1)).join(',')}]}`).kind, 'object');
});

t.test('too deep is refused at the bracket that is one too many: nothing after it is read', async (t) => {
  // The 33rd bracket is followed by bytes that are not JSON at all, and by no closing brackets.
  const text = `{"data":${'['.repeat(32)}\u0000 this is not JSON and never ends`;
  t.equal(scanMessage(text).kind, 'too-deep', 'not "syntax": the scan stopped before the garbage');
  t.throws(() => JSON.parse(text), SyntaxError, 'where JSON.parse would have gone on to the end');
  // A million brackets cost one scan of 33 characters, not a parse of the whole text.
  t.equal(scanMessage(`{"data":${'['.repeat(1_000_000)}`).kind, 'too-deep');
});

t.test('accepts exactly what JSON.parse accepts (RFC 8259), case by case', async (t) => {
  const cases = [
    // numbers (§6)
    '0', '-0', '1', '-1', '10', '1.5', '-1.5e10', '1E+2', '1e-2', '0.0', '1e20', '123456789012345678901234567890',
    '01', '-', '+1', '.5', '1.', '1e', '1e+', '0x10', '1_000', 'Infinity', 'NaN', '--1', '1.2.3', '-01', '00',
    // literals
    'true', 'false', 'null', 'tru', 'nul', 'True', 'falsey', 'nullnull',
    // strings (§7)
    '""', '"a"', '"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\\u0041"', '"\\uD83D\\uDE00"', '"\\uD800"', '"é€😀"',
    '"\\u12G4"', '"\\u123"', '"\\x41"', '"\\a"', '"\\"', '"abc', '"a\nb"', '"a\tb"', '"\u0000"', '"\u001f"', '"\u007f"', '"\\',
    // structure (§4, §5) and white space (§2)
    '{}', '[]', ' { } ', '\t[\n1 ,\r2\n]\t', '{"a":1}', '{"a" : 1 , "b":[true,false,null]}', '[[],[[]],{}]',
    '{"a":1,}', '[1,]', '[,1]', '{,}', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '{"a":1 "b":2}', '[1 2]', '{"a":1}}', '[1]]',
    '{"a":1', '[1', '[', '{', '', ' ', '\u00a01', '\ufeff{}', '1 2', '{} {}', '[]x', '{"a":1}\u0000', '{"a":"b":1}', '{"a" 1}',
    '{"__proto__":1}', '{"constructor":{"prototype":2}}',
  ];
  for (const text of cases) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    const kind = scanMessage(text).kind;
    t.equal(kind !== 'syntax', parses, JSON.stringify(text));
  }
});

t.test('accepts exactly what JSON.parse accepts, on random texts and their mutations', async (t) => {
  // A small deterministic generator (xorshift), so that a failure can be replayed.
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const atoms = ['0', '-1.5e3', '1e20', 'true', 'false', 'null', '"x"', '"\\u00e9\\n"', '"😀"', '""'];
  const value = (depth: number): string => {
    const r = random();
    if (depth > 4 || r < 0.4) return pick(atoms);
    if (r < 0.7) return `[${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(pick([',', ' , ', ',\n']))}]`;
    const n = Math.floor(random() * 4);
    return `{${Array.from({ length: n }, (_, i) => `"k${i}"${pick([':', ' : '])}${value(depth + 1)}`).join(',')}}`;
  };
  const noise = ['"', '\\', ',', ':', '[', ']', '{', '}', ' ', 'e', '-', '.', '0', 'u', '\u0001', 'a'];
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    let text = value(0);
    const mutations = Math.floor(random() * 3);
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(random() * (text.length + 1));
      const r = random();
      if (r < 0.4) text = text.slice(0, at) + pick(noise) + text.slice(at);
      else if (r < 0.8) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at) + pick(noise) + text.slice(at + 1);
    }
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    if ((scanMessage(text).kind !== 'syntax') !== parses) {
      t.fail(`disagrees with JSON.parse on ${JSON.stringify(text)} (case ${i})`);
      return;
    }
    checked++;
  }
  t.equal(checked, 3000);
});

t.test('spans of the protocol members; other members skipped; duplicates refused', async (t) => {
  const text = '{ "to" : "K\\u0045Y", "x":{"data":1}, "data" : [1e20, "a" ,{}] , "publicKey":"P", "response":"R" }';
  const scan = scanMessage(text);
  if (scan.kind !== 'object') throw new Error(scan.kind);
  t.same(Object.keys(scan.fields).sort(), ['data', 'publicKey', 'response', 'to'], 'the nested "data" is not a member');
  t.equal(text.slice(scan.fields.data!.start, scan.fields.data!.end), '[1e20, "a" ,{}]', 'the value exactly, no surrounding space');
  t.equal(scan.fields.data!.isString, false);
  t.equal(scan.fields.to!.isString, true);
  t.equal(decodeString(text, scan.fields.to!), 'KEY', 'escapes decoded');
  t.equal(decodeString(text, scan.fields.publicKey!), 'P');
  t.same(scanMessage('{}'), { kind: 'object', fields: {} });
  t.same(scanMessage('{"data":1,"data":2}'), { kind: 'duplicate' });
  t.same(scanMessage('{"to":"a","t\\u006f":"b"}'), { kind: 'duplicate' }, 'the same name spelt with an escape');
  t.same(scanMessage('{"x":1,"x":2,"data":3}').kind, 'object', 'duplicates of other members are JSON.parse’s business');
  t.same(scanMessage('[1]'), { kind: 'not-object' });
  t.same(scanMessage('"str"'), { kind: 'not-object' });
});

t.test('member names are matched exactly, spelt plainly or with escapes', async (t) => {
  // Same lengths as the protocol's names, one letter off: skipped like any other member.
  const near = '{"tx":1,"date":2,"publicKez":3,"responsf":4,"\\u0078":5,"d\\u0061tum":6,"data":7}';
  const scan = scanMessage(near);
  if (scan.kind !== 'object') throw new Error(scan.kind);
  t.same(Object.keys(scan.fields), ['data']);
  t.equal(near.slice(scan.fields.data!.start, scan.fields.data!.end), '7');
  const spelt = scanMessage('{"\\u0074o":"K","p\\u0075blicKey":"P","respons\\u0065":"R","d\\u0061ta":1}');
  if (spelt.kind !== 'object') throw new Error(spelt.kind);
  t.same(Object.keys(spelt.fields).sort(), ['data', 'publicKey', 'response', 'to'], 'escaped names are the same members');
  t.same(scanMessage('{"to":"a","\\u0074o":"b"}'), { kind: 'duplicate' });
});
