// simpatico-ws explain HEX…: the RFC 6455 §5.7 examples field by field, one invalid frame per rule
// with its close code, and unreadable input as one line on stderr with exit status 2.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { line, run } from './helpers.js';
import { within } from '../conformance/harness.js';

/** Every line of an explanation fits 80 columns. */
function fits(t: Test, lines: string[]): void {
  const wide = lines.filter((l) => Array.from(l).length > 80);
  t.same(wide, [], 'every line fits 80 columns');
}

t.test('§5.7: a single-frame unmasked text message', async (t) => {
  const r = await run(['explain', '81 05 48 65 6c 6c 6f']);
  t.equal(r.code, 0);
  t.match(r.lines[0], /^7 bytes, 1 frame, read as server → client: frame 1 is not masked/);
  t.match(line(r.lines, 'Frame 1'), 'Frame 1, bytes 0–6: Text, FIN, 5-byte payload, message 1');
  t.match(line(r.lines, 'byte 0'), '81 = 1000 0001');
  t.match(line(r.lines, 'FIN'), /FIN {5}1 {5}the last \(or only\) frame/);
  t.match(line(r.lines, 'RSV1–3'), /RSV1–3 {2}000 {3}no extension/);
  t.match(line(r.lines, 'opcode'), /opcode {2}0001 {2}0x1 Text/);
  t.match(line(r.lines, 'byte 1'), '05 = 0000 0101');
  t.match(line(r.lines, 'MASK'), /MASK {4}0 {5}not masked, as servers send \(§5\.1\)/);
  t.match(line(r.lines, 'length'), /length {2}5 {5}7-bit form/);
  t.match(line(r.lines, 'bytes 2–6'), 'payload, 5 bytes');
  t.match(line(r.lines, /^ {4}bytes {7}/), /bytes {7}48 65 6c 6c 6f$/);
  t.notOk(r.lines.some((l) => /masking key|XOR key/.test(l)), 'no key, no unmasking');
  t.match(line(r.lines, 'as text'), '"Hello"');
  t.match(line(r.lines, 'Message 1'), 'Message 1: Text, 5 bytes, in one frame');
  t.equal(r.lines.at(-1), '✓ Valid: a client accepts these bytes.');
  fits(t, r.lines);
});

t.test('§5.7: a single-frame masked text message, masked and unmasked side by side', async (t) => {
  const r = await run(['explain', '81', '85', '37fa213d', '7f 9f 4d 51 58']);
  t.equal(r.code, 0, 'hex in several arguments, spaced or not');
  t.match(r.lines[0], /read as client → server: frame 1 is masked/);
  t.match(line(r.lines, 'MASK'), /MASK {4}1 {5}masked, as clients send \(§5\.1\): a 4-byte key follows \(§5\.3\)/);
  t.match(line(r.lines, 'bytes 2–5'), '37 fa 21 3d: masking key (§5.3)');
  t.match(line(r.lines, 'bytes 6–10'), 'payload, 5 bytes: unmasked as byte i XOR key[i mod 4] (§5.3)');
  const masked = r.lines.indexOf(line(r.lines, 'masked '));
  t.same(
    r.lines.slice(masked, masked + 3).map((l) => l.trim()),
    ['masked      7f 9f 4d 51 58', 'XOR key     37 fa 21 3d 37', 'unmasked    48 65 6c 6c 6f'],
    'each masked byte above its key byte and the unmasked result',
  );
  t.match(line(r.lines, 'as text'), '"Hello"');
  t.equal(r.lines.at(-1), '✓ Valid: a server accepts these bytes.');
  fits(t, r.lines);
});

t.test('§5.7: a fragmented unmasked text message, as fragments and reassembled', async (t) => {
  const r = await run(['explain', '01 03 48 65 6c 80 02 6c 6f']);
  t.equal(r.code, 0);
  t.match(line(r.lines, 'Frame 1'), 'Frame 1, bytes 0–4: Text, no FIN, 3-byte payload, part 1 of message 1');
  t.match(line(r.lines, 'FIN     0'), 'more fragments of this message follow (§5.4)');
  t.match(line(r.lines, 'Frame 2'), 'Frame 2, bytes 5–8: Continuation, FIN, 2-byte payload, part 2 of message 1');
  t.match(line(r.lines, 'opcode  0000'), '0x0 Continuation');
  t.same(
    r.lines.filter((l) => l.trimStart().startsWith('as text')).map((l) => l.trim()),
    ['as text     "Hel"', 'as text     "lo"'],
  );
  t.match(line(r.lines, 'UTF-8'), 'valid so far, ending on a whole character');
  const message = r.lines.indexOf(line(r.lines, 'Message 1'));
  t.equal(r.lines[message], 'Message 1: Text, 5 bytes, reassembled from frames 1–2 (§5.4)');
  t.equal(r.lines[message + 1], '  "Hello"');
  fits(t, r.lines);
});

t.test('§5.7: an unmasked Ping and a masked Pong, with the same payload', async (t) => {
  const ping = await run(['explain', '89 05 48 65 6c 6c 6f']);
  t.equal(ping.code, 0);
  t.match(line(ping.lines, 'Frame 1'), 'Ping, FIN, 5-byte payload');
  t.match(line(ping.lines, 'FIN'), 'set, as on every control frame (§5.5)');
  t.match(line(ping.lines, 'opcode'), /opcode {2}1001 {2}0x9 Ping: the peer must answer with a Pong \(§5\.5\.2\)/);
  t.match(line(ping.lines, 'as text'), '"Hello"');
  t.notOk(ping.lines.some((l) => l.startsWith('Message')), 'a control frame is not a message');
  const pong = await run(['explain', '8a 85 37 fa 21 3d 7f 9f 4d 51 58']);
  t.equal(pong.code, 0);
  t.match(line(pong.lines, 'opcode'), /1010 {2}0xa Pong/);
  t.match(line(pong.lines, 'unmasked'), '48 65 6c 6c 6f');
  t.match(line(pong.lines, 'as text'), '"Hello"');
  fits(t, [...ping.lines, ...pong.lines]);
});

t.test('§5.7: 256 bytes and 64 KiB of binary in one unmasked frame: the 16- and 64-bit lengths', async (t) => {
  const payload256 = Buffer.alloc(256, 0xab).toString('hex');
  const r = await run(['explain', `82 7e 01 00 ${payload256}`]);
  t.equal(r.code, 0);
  t.match(line(r.lines, 'length'), /length {2}126 {3}the length is in the next 2 bytes \(16-bit form, §5\.2\)/);
  t.match(line(r.lines, 'bytes 2–3'), '01 00: extended length 256 (big-endian, §5.2)');
  t.match(line(r.lines, 'bytes 4–259'), 'payload, 256 bytes');
  t.match(line(r.lines, /^ {4}bytes {7}/), /bytes {7}(ab ){11}ab … 244 more bytes$/);
  t.match(line(r.lines, 'Message 1'), 'Binary, 256 bytes, in one frame');
  t.notOk(r.lines.some((l) => /note/.test(l)), 'the minimal encoding needs no note');

  // 64 KiB is 128 KiB of hex: read it from stdin.
  const big = Buffer.alloc(65536);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const r64 = await run(['explain', '-'], `82 7f 00 00 00 00 00 01 00 00\n${big.toString('hex')}\n`);
  t.equal(r64.code, 0);
  t.match(line(r64.lines, 'length'), /length {2}127 {3}the length is in the next 8 bytes \(64-bit form, §5\.2\)/);
  t.match(line(r64.lines, 'bytes 2–9'), /bytes 2–9 {5}00 00 00 00 00 01 00 00$/);
  t.match(line(r64.lines, 'extended length'), 'extended length 65536 (big-endian, §5.2)');
  t.match(line(r64.lines, 'bytes 10–65545'), 'payload, 65536 bytes');
  t.match(line(r64.lines, /^ {4}bytes {7}/), /00 01 02 03 04 05 06 07 08 09 0a 0b … 65524 more bytes$/);
  t.match(line(r64.lines, 'Message 1'), 'Binary, 65536 bytes, in one frame');
  t.ok(r64.lines.length < 40, `a 64 KiB payload is previewed, not printed (${r64.lines.length} lines)`);
  fits(t, [...r.lines, ...r64.lines]);
});

t.test('long text is previewed; a message over the default maxPayload gets a note (§10.4)', async (t) => {
  const text = Buffer.from('The quick brown fox jumps over the lazy dog, again and again.');
  const r = await run(['explain', `81 ${text.length.toString(16)} ${text.toString('hex')}`]);
  t.match(r.text, 'as text     "The quick brown fox jumps over the lazy dog, aga" … 13 more bytes');
  const message = r.lines.indexOf(line(r.lines, 'Message 1'));
  t.equal(r.lines[message + 1], '  "The quick brown fox jumps over the lazy dog, again and again" … 1 more byte');
  const size = 1024 * 1024 + 1;
  const big = await run(['explain', '-'], `82 7f 00 00 00 00 00 10 00 01 ${'00'.repeat(size)}`);
  t.equal(big.code, 0);
  t.match(big.text, `note: over simpatico-ws's default maxPayload of 1048576 bytes; its server would close with 1009 Message Too Big (§10.4).`);
});

t.test('a non-minimal length is explained with a note, not refused', async (t) => {
  const r = await run(['explain', '82 7e 00 03 01 02 03']);
  t.equal(r.code, 0);
  t.match(line(r.lines, 'note'), '3 fits a shorter form; senders MUST use the shortest (§5.2)');
});

t.test('a Close frame: its code, what it means, and its reason', async (t) => {
  const r = await run(['explain', '88 05 03 e8 62 79 65']);
  t.equal(r.code, 0);
  t.match(r.text, 'payload, 5 bytes: a 2-byte status code, then a UTF-8 reason (§5.5.1)');
  t.match(line(r.lines, 'code'), '03 e8 = 1000, Normal Closure');
  t.match(line(r.lines, 'reason'), '"bye"');
  const empty = await run(['explain', '88 80 01 02 03 04']);
  t.match(empty.text, 'payload, 0 bytes: no payload: a Close without a status code, reported as 1005');
  const after = await run(['explain', '88 02 0f a0 81 01 41']);
  t.match(line(after.lines, 'code'), '0f a0 = 4000, private use by applications');
  t.match(after.text, 'Not read: bytes 4–6 (3 bytes) come after a Close frame');
  t.equal(after.code, 0, 'bytes after a Close are not an error: they are not read');
});

t.test('UTF-8 mid-message: fragments that start or stay inside a character show no text of their own', async (t) => {
  // "€€" is e2 82 ac e2 82 ac: cut as [e2 82] [ac e2] [] [82 ac].
  const r = await run(['explain', '01 02 e2 82 00 02 ac e2 00 00 80 02 82 ac']);
  t.equal(r.code, 0);
  t.same(
    r.lines.filter((l) => /^ {4}(as text|UTF-8)/.test(l)).map((l) => l.trim().split(':')[0]),
    ['UTF-8       valid so far, but it ends inside a character', 'UTF-8       valid so far, but it ends inside a character', 'UTF-8       valid'],
    'no text for fragments that do not hold whole characters; the empty one shows no payload rows',
  );
  t.match(r.out, /Message 1: Text, 6 bytes, reassembled from frames 1–4 \(§5\.4\)\n {2}"€€"/);
});

t.test('UTF-8 mid-message: a character split over fragments is valid, and where validation stands', async (t) => {
  const r = await run(['explain', '01 01 c3 80 01 a9']);
  t.equal(r.code, 0);
  t.match(r.text, /UTF-8 {7}valid so far, but it ends inside a character: the next fragment must finish it/);
  t.match(r.text, /UTF-8 {7}valid: the message is UTF-8 text/);
  t.match(r.out, /Message 1: Text, 2 bytes, reassembled from frames 1–2 \(§5\.4\)\n {2}"é"/);
});

// One invalid input per rule: the rule's words, the error code, the close code, the exit status.
const INVALID: { name: string; args: string[]; code: string; close: number; rule: RegExp; field?: RegExp }[] = [
  { name: 'a reserved opcode', args: ['83 00'], code: 'WS_ERR_INVALID_OPCODE', close: 1002, rule: /Reserved opcode 3 \(RFC 6455 §5\.2\)/, field: /opcode {2}0011 {2}0x3 reserved for future data frames/ },
  { name: 'a reserved control opcode', args: ['8b 00'], code: 'WS_ERR_INVALID_OPCODE', close: 1002, rule: /Reserved opcode 11/, field: /reserved for future control frames/ },
  { name: 'an RSV bit without an extension', args: ['c1 00'], code: 'WS_ERR_UNEXPECTED_RSV', close: 1002, rule: /RSV bits set/, field: /RSV1–3 {2}100 {3}RSV1 \(permessage-deflate, RFC 7692\) set/ },
  { name: 'RSV2 and RSV3', args: ['b1 00'], code: 'WS_ERR_UNEXPECTED_RSV', close: 1002, rule: /RSV bits set/, field: /RSV1–3 {2}011 {3}RSV2\/RSV3 set/ },
  { name: 'a fragmented control frame', args: ['09 00'], code: 'WS_ERR_FRAGMENTED_CONTROL_FRAME', close: 1002, rule: /must not be fragmented \(RFC 6455 §5\.5\)/, field: /FIN {5}0 {5}not set: but a control frame is never fragmented/ },
  { name: 'a control frame over 125 bytes', args: ['89 7e 00 7e'], code: 'WS_ERR_CONTROL_FRAME_TOO_BIG', close: 1002, rule: /over 125 bytes \(RFC 6455 §5\.5\)/ },
  { name: 'a 64-bit length with its top bit set', args: ['82 7f 80 00 00 00 00 00 00 00'], code: 'WS_ERR_INVALID_PAYLOAD_LENGTH', close: 1002, rule: /most significant bit set \(RFC 6455 §5\.2\)/, field: /extended length its top bit must be 0/ },
  { name: 'a length past 2^53', args: ['82 7f 00 20 00 00 00 00 00 00'], code: 'WS_ERR_MESSAGE_TOO_BIG', close: 1009, rule: /beyond what this implementation supports/ },
  { name: 'an unmasked client frame', args: ['--from', 'client', '81 05 48 65 6c 6c 6f'], code: 'WS_ERR_EXPECTED_MASK', close: 1002, rule: /Unmasked frame from a client: a server must fail it \(RFC 6455 §5\.1\)/ },
  { name: 'a masked server frame', args: ['--from', 'server', '81 85 37 fa 21 3d 7f 9f 4d 51 58'], code: 'WS_ERR_UNEXPECTED_MASK', close: 1002, rule: /Masked frame from a server/ },
  { name: 'a direction that changes mid-stream', args: ['81 80 00 00 00 00 81 00'], code: 'WS_ERR_EXPECTED_MASK', close: 1002, rule: /Unmasked frame from a client/ },
  { name: 'a continuation with nothing to continue', args: ['80 02 6c 6f'], code: 'WS_ERR_UNEXPECTED_CONTINUATION', close: 1002, rule: /no fragmented message to continue \(RFC 6455 §5\.4\)/ },
  { name: 'a new message inside a fragmented one', args: ['01 03 48 65 6c 81 02 6c 6f'], code: 'WS_ERR_EXPECTED_CONTINUATION', close: 1002, rule: /expected a continuation frame \(RFC 6455 §5\.4\)/ },
  { name: 'invalid UTF-8', args: ['81 04 48 c3 28 65'], code: 'WS_ERR_INVALID_UTF8', close: 1007, rule: /not valid UTF-8 \(RFC 6455 §8\.1\)/, field: /UTF-8 {7}byte 2 of the message \(0x28\) cannot come there in UTF-8/ },
  { name: 'invalid UTF-8 across fragments', args: ['01 01 e2 80 01 28'], code: 'WS_ERR_INVALID_UTF8', close: 1007, rule: /not valid UTF-8/, field: /byte 1 of the message \(0x28\)/ },
  { name: 'text that ends inside a character', args: ['81 02 e2 82'], code: 'WS_ERR_INVALID_UTF8', close: 1007, rule: /not valid UTF-8/, field: /the message ends inside a character/ },
  { name: 'a 1-byte Close payload', args: ['88 01 03'], code: 'WS_ERR_INVALID_CLOSE_PAYLOAD', close: 1002, rule: /a 1-byte payload cannot hold the 2-byte status code \(RFC 6455 §5\.5\.1\)/ },
  { name: 'a close code that may not be sent', args: ['88 02 03 ed'], code: 'WS_ERR_INVALID_CLOSE_CODE', close: 1002, rule: /status code 1005 may not be sent/, field: /03 ed = 1005, No Status Received/ },
  { name: 'a close reason that is not UTF-8', args: ['88 04 03 e8 c3 28'], code: 'WS_ERR_INVALID_UTF8', close: 1007, rule: /the reason is not valid UTF-8/, field: /reason {6}c3 28 \(not UTF-8\)/ },
];

t.test('one invalid frame per rule: the rule, its section, the close code, exit status 1', async (t) => {
  for (const c of INVALID) {
    const r = await run(['explain', ...c.args]);
    t.equal(r.code, 1, `${c.name}: exit status 1`);
    t.same(r.errors, [], `${c.name}: explained on stdout, nothing on stderr`);
    t.match(r.text, c.rule, `${c.name}: the rule`);
    t.match(r.text, `Error code: ${c.code}`, `${c.name}: the error code`);
    t.match(r.text, new RegExp(`fails the connection \\(§7\\.1\\.7\\) and sends\\s+Close ${c.close}`), `${c.name}: the close code`);
    t.match(r.lines.at(-1), new RegExp(`^✗ Invalid: a (server|client) closes with ${c.close}\\.$`));
    if (c.field) t.match(r.text, c.field, `${c.name}: the field that breaks it`);
    fits(t, r.lines);
  }
});

t.test('after a failure, nothing more is read (§7.1.7)', async (t) => {
  const r = await run(['explain', '81 01 41 83 00 81 01 42']);
  t.equal(r.code, 1);
  t.match(r.out, 'Frame 1, bytes 0–2: Text, FIN, 1-byte payload');
  t.match(r.out, 'Frame 2, from byte 3: reserved opcode 0x3');
  t.notMatch(r.out, 'Frame 3');
  t.match(r.text, /Not read: bytes 3–7 \(5 bytes\), from this frame on/);
});

t.test('input that cannot be read: one line on stderr, exit status 2', async (t) => {
  const cases: [string[], RegExp, string?][] = [
    [['explain', 'zz'], /^simpatico-ws explain: not hex: "z" in "zz"/],
    [['explain', '81 0'], /odd number of hex digits \(3\)/],
    [['explain', '0x81', '0x0'], /odd number of hex digits/],
    [['explain', '81'], /truncated: the input ends inside frame 1 \(byte 0 on, 1 byte given\), which still needs the 2 bytes/],
    [['explain', '81 00 82 7e 01'], /inside frame 2 \(byte 2 on, 3 bytes given\), which still needs its 16-bit extended length/],
    [['explain', '82 7f 00'], /64-bit extended length/],
    [['explain', '81 85 37 fa'], /its 4-byte masking key/],
    [['explain', '81 05 48'], /4 more payload bytes/],
    [['explain', '-'], /no bytes given/, ' \n '],
    [['explain', '-', '81'], /'-' reads all the hex from stdin/],
    [['explain', '--from', 'browser', '81 00'], /--from must be client or server, not 'browser'/],
    [['explain', '--key', 'dGhlIHNhbXBsZSBub25jZQ==', '81 00'], /--key takes no frames/],
    [['explain', '--colour'], /Unknown option '--colour'/],
  ];
  for (const [args, message, stdin] of cases) {
    const r = await run(args, stdin);
    t.equal(r.code, 2, `${args.join(' ')}: exit status 2`);
    t.equal(r.errors.length, 1, `${args.join(' ')}: one line`);
    t.match(r.errors[0], message);
    t.same(r.lines, [], 'nothing on stdout');
  }
  const none = await run(['explain']);
  t.equal(none.code, 2);
  t.match(none.errors[0], /^Usage: simpatico-ws explain/);
  const help = await run(['explain', '--help']);
  t.equal(help.code, 0);
  t.match(help.out, /--from client\|server/);
  t.same(help.lines.filter((l) => l.length > 80), [], 'the help fits 80 columns');
  t.match(help.out, /Exit status: 0 valid, 1 the bytes/);
});

t.test('the program itself: reads stdin, and bad input is one line with no stack trace', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'explain', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end('81 05 48 65 6c 6c 6f\nhello\n');
  const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), 'the command to exit', 60_000);
  t.equal(code, 2);
  t.equal(out, '');
  t.match(err, /^simpatico-ws explain: not hex: "h" in "hello" \(after 14 hex digits\).*\n$/);
  t.notMatch(err, /\n\s+at /, 'no stack trace');
});
