// The lens's words and layout: names and meanings of opcodes and close codes, previews, wrapping.
import t from 'tap';
import { Lines, wrap } from '../../src/learn/layout.js';
import { bits, closeMeaning, closeName, hexBytes, opcodeName, preview, ruleWhy, wholeCharacters } from '../../src/learn/words.js';

t.test('opcodes by name, reserved ones by number (RFC 6455 §5.2)', (t) => {
  t.same([0, 1, 2, 8, 9, 10].map(opcodeName), ['Continuation', 'Text', 'Binary', 'Close', 'Ping', 'Pong']);
  t.equal(opcodeName(3), 'reserved opcode 0x3');
  t.equal(opcodeName(15), 'reserved opcode 0xf');
  t.end();
});

t.test('close codes: named ones, and the ranges of §7.4.2', (t) => {
  t.match(closeMeaning(1000), /^Normal Closure: /);
  t.match(closeMeaning(1006), /never sent/);
  t.equal(closeMeaning(999), 'unused (0–999 are not used, §7.4.2)');
  t.equal(closeMeaning(2000), 'reserved for future RFCs (1016–2999, §7.4.2)');
  t.equal(closeMeaning(3000), 'registered with IANA by libraries and frameworks (3000–3999, §7.4.2)');
  t.equal(closeMeaning(4999), 'private use by applications (4000–4999, §7.4.2)');
  t.equal(closeMeaning(5000), 'outside every range of §7.4.2 (5000 and above)');
  t.same([1000, 1004, 1012, 3001, 4000, 999, 6000].map(closeName), ['Normal Closure', 'reserved', 'Service Restart', 'registered', 'private use', 'not a valid code', 'not a valid code']);
  t.end();
});

t.test('every frame rule has its why; other codes have none', (t) => {
  t.match(ruleWhy('WS_ERR_EXPECTED_MASK'), /§10\.3/);
  t.equal(ruleWhy('WS_ERR_INVALID_OPTION'), undefined);
  t.end();
});

t.test('bytes as hex and bits', (t) => {
  t.equal(hexBytes(Buffer.from([0x81, 0x05, 0x48])), '81 05 48');
  t.equal(hexBytes(new Uint8Array(0)), '');
  t.equal(bits(0x81), '1000 0001');
  t.end();
});

t.test('previews cut at whole characters, then count what is left', (t) => {
  const e = Buffer.from('héllo');
  t.same(wholeCharacters(e.subarray(0, 2)), Buffer.from('h'), 'a cut inside é drops its first byte');
  t.same(wholeCharacters(e.subarray(0, 3)), Buffer.from('hé'));
  t.same(wholeCharacters(Buffer.from('€').subarray(0, 2)), Buffer.alloc(0), 'a 3-byte character cut after 2');
  t.same(wholeCharacters(Buffer.from('😀').subarray(0, 3)), Buffer.alloc(0), 'a 4-byte character cut after 3');
  t.same(wholeCharacters(Buffer.alloc(0)), Buffer.alloc(0));
  t.equal(preview(e.subarray(0, 2), 6, { text: true, chars: 10, hexBytes: 4 }), '"h" … 5 more bytes');
  t.equal(preview(Buffer.from('abcdef'), 6, { text: true, chars: 3, hexBytes: 4 }), '"abc" … 3 more bytes');
  t.equal(preview(Buffer.from([0xff, 1, 2, 3, 4]), 5, { text: true, chars: 3, hexBytes: 4 }), 'ff 01 02 03 … 1 more byte');
  t.equal(preview(Buffer.from([1, 2]), 2, { text: false, chars: 3, hexBytes: 4 }), '01 02');
  t.end();
});

t.test('lines wrap at 80 columns under their own column; "RFC 6455" stays whole', (t) => {
  const long = `  ${'word '.repeat(30)}(RFC 6455 §5.2)`;
  const pieces = wrap(long, 4);
  t.ok(pieces.every((p) => p.length <= 80));
  t.ok(pieces.slice(1).every((p) => p.startsWith('    ') && !p.startsWith('     ')), 'continuations at the hang');
  t.notOk(pieces.some((p) => p.endsWith('RFC')), 'never "RFC" at the end of a line');
  t.same(pieces.join(' ').replace(/\s+/g, ' ').trim(), long.replace(/\s+/g, ' ').trim(), 'no word lost');
  const word = 'x'.repeat(100);
  t.same(wrap(`  ${word}`, 4), [`  ${word}`], 'a word longer than the line is left whole');
  t.same(wrap(`  ${word} tail`, 4), [`  ${word}`, '    tail']);
  const rows = new Lines().row(2, 'label', 8, 'text').text(0, 'plain').blank().lines;
  t.same(rows, ['  label   text', 'plain', ''], 'the label padded to its width, then the text');
  t.end();
});
