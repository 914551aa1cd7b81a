// Conformance, Autobahn section 6: UTF-8 in text messages (RFC 6455 §5.6, §8.1; RFC 3629 §4) — raw
// bytes to `simpatico-ws echo`. Valid text is echoed byte for byte, in one frame and in one-byte
// fragments; invalid text fails with 1007. The 6.4 rows prove fail-fast: the invalid bytes go out,
// the rest of the message is held back, and the server's Close 1007 and end of TCP must arrive
// while it is still held back.
import t from 'tap';
import { Op, frame, headerSize, runTable, serverClose, serverFrame, startEcho, type Row, type Session } from './harness.js';

const server = await startEcho(t);

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const KOSME = hex('ce ba e1 bd b9 cf 83 ce bc ce b5'); // κόσμε

/** Valid UTF-8 (the noncharacters are valid: RFC 3629 only excludes surrogates and > U+10FFFF). */
const VALID: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')],
  ['κόσμε', KOSME],
  ['κόσμε twelve times (the native validator path)', Buffer.concat(Array(12).fill(KOSME))],
  ['U+0000', hex('00')],
  ['U+0080, first 2-byte', hex('c2 80')],
  ['U+0800, first 3-byte', hex('e0 a0 80')],
  ['U+10000, first 4-byte', hex('f0 90 80 80')],
  ['U+007F, last 1-byte', hex('7f')],
  ['U+07FF, last 2-byte', hex('df bf')],
  ['U+FFFF, last 3-byte', hex('ef bf bf')],
  ['U+10FFFF, last code point', hex('f4 8f bf bf')],
  ['U+D7FF, below the surrogates', hex('ed 9f bf')],
  ['U+E000, above the surrogates', hex('ee 80 80')],
  ['U+FFFD', hex('ef bf bd')],
  ['U+FFFE noncharacter', hex('ef bf be')],
  ['U+FDD0 noncharacter', hex('ef b7 90')],
  ['U+1FFFE noncharacter', hex('f0 9f bf be')],
  ['4-byte emoji and CJK Extension B', Buffer.from('🎉𠜎𝄞')],
  ['κό (a truncation that happens to be complete)', hex('ce ba e1 bd b9')],
];

/** Invalid UTF-8, grouped as in Markus Kuhn's test file, which Autobahn 6.x follows. */
const INVALID: [string, Buffer][] = [
  ['κόσμε, a surrogate, "edited"', Buffer.concat([KOSME, hex('ed a0 80'), Buffer.from('edited')])],
  ['κόσμε truncated to CE', hex('ce')],
  ['κόσμε truncated to CE BA E1', hex('ce ba e1')],
  ['κόσμε truncated to CE BA E1 BD', hex('ce ba e1 bd')],
  ['U+110000, above U+10FFFF', hex('f4 90 80 80')],
  ['F7 BF BF BF, above U+10FFFF', hex('f7 bf bf bf')],
  ['F5, a lead byte never used', hex('f5 80 80 80')],
  ['5-byte sequence', hex('f8 88 80 80 80')],
  ['6-byte sequence', hex('fc 84 80 80 80 80')],
  ['lone continuation 80', hex('80')],
  ['lone continuation BF', hex('bf')],
  ['continuations 80 BF 80', hex('80 bf 80')],
  ['C0 then a space', hex('c0 20')],
  ['DF then a space', hex('df 20')],
  ['E0 then a space', hex('e0 20')],
  ['EF then a space', hex('ef 20')],
  ['F0 then a space', hex('f0 20')],
  ['F7 then a space', hex('f7 20')],
  ['2-byte sequence missing its last byte (DF)', hex('df')],
  ['3-byte sequence missing its last byte (EF BF)', hex('ef bf')],
  ['4-byte sequence missing its last byte (F4 8F BF)', hex('f4 8f bf')],
  ['the truncations above concatenated', hex('df ef bf f4 8f bf')],
  ['FE', hex('fe')],
  ['FF', hex('ff')],
  ['FE FE FF FF', hex('fe fe ff ff')],
  ['overlong / in 2 bytes', hex('c0 af')],
  ['overlong / in 3 bytes', hex('e0 80 af')],
  ['overlong / in 4 bytes', hex('f0 80 80 af')],
  ['overlong / in 5 bytes', hex('f8 80 80 80 af')],
  ['largest overlong 2-byte (C1 BF)', hex('c1 bf')],
  ['largest overlong 3-byte (E0 9F BF)', hex('e0 9f bf')],
  ['largest overlong 4-byte (F0 8F BF BF)', hex('f0 8f bf bf')],
  ['overlong NUL in 2 bytes', hex('c0 80')],
  ['overlong NUL in 3 bytes', hex('e0 80 80')],
  ['surrogate U+D800', hex('ed a0 80')],
  ['surrogate U+DB7F', hex('ed ad bf')],
  ['surrogate U+DB80', hex('ed ae 80')],
  ['surrogate U+DBFF', hex('ed af bf')],
  ['surrogate U+DC00', hex('ed b0 80')],
  ['surrogate U+DF80', hex('ed be 80')],
  ['surrogate U+DFFF', hex('ed bf bf')],
  ['paired surrogates U+D800 U+DC00', hex('ed a0 80 ed b0 80')],
  ['paired surrogates U+DBFF U+DFFF', hex('ed af bf ed bf bf')],
  ['a surrogate after 100 ASCII bytes (the native validator path)', Buffer.concat([Buffer.from('a'.repeat(100)), hex('ed a0 80'), Buffer.from('b'.repeat(100))])],
];

/** The message as one-byte fragments (an empty message: one empty frame). */
function perByte(payload: Buffer): Buffer[] {
  if (payload.length === 0) return [frame({ opcode: Op.Text })];
  return [...payload].map((b, i) => frame({ opcode: i === 0 ? Op.Text : Op.Cont, payload: Buffer.from([b]), fin: i === payload.length - 1 }));
}

const rows: Row[] = [];
VALID.forEach(([name, payload], i) => {
  rows.push(
    { id: `6.2.${i + 1}`, title: `valid: ${name}, one frame → echoed`, send: [frame({ opcode: Op.Text, payload })], expect: [serverFrame(Op.Text, payload)], closes: 'client' },
    { id: `6.3.${i + 1}`, title: `valid: ${name}, one-byte fragments → echoed`, send: perByte(payload), expect: [serverFrame(Op.Text, payload)], closes: 'client' },
  );
});
INVALID.forEach(([name, payload], i) => {
  rows.push(
    { id: `6.5.${i + 1}`, title: `invalid: ${name}, one frame → 1007`, send: [frame({ opcode: Op.Text, payload })], expect: [serverClose(1007)], closes: 'server' },
    { id: `6.6.${i + 1}`, title: `invalid: ${name}, one-byte fragments → 1007`, send: perByte(payload), expect: [serverClose(1007)], closes: 'server' },
  );
});

rows.push(
  {
    id: '6.7.1',
    title: 'a code point split across fragments with a ping between them → the pong, then the text echoed',
    send: [frame({ opcode: Op.Text, payload: hex('ce'), fin: false }), frame({ opcode: Op.Ping, payload: 'between' }), frame({ opcode: Op.Cont, payload: hex('ba e1 bd'), fin: false }), frame({ opcode: Op.Cont, payload: hex('b9') })],
    expect: [serverFrame(Op.Pong, 'between'), serverFrame(Op.Text, hex('ce ba e1 bd b9'))],
    closes: 'client',
  },
  {
    id: '6.7.2',
    title: 'a message left inside a code point by a Close is not a UTF-8 failure: the Close is echoed',
    send: [frame({ opcode: Op.Text, payload: hex('ce'), fin: false }), frame({ opcode: Op.Close, payload: hex('03 e8') })],
    expect: [serverFrame(Op.Close, hex('03 e8'))],
    closes: 'server',
  },
  {
    id: '6.7.3',
    title: 'a complete 4-byte code point, then a message of a lone continuation byte → the echo, then 1007 (each message validated from a clean state)',
    send: [frame({ opcode: Op.Text, payload: hex('f0 9f 8e 89') }), frame({ opcode: Op.Text, payload: hex('80'), fin: true })],
    expect: [serverFrame(Op.Text, hex('f0 9f 8e 89')), serverClose(1007)],
    closes: 'server',
  },
);

// ---- 6.4 fail-fast (§8.1: an endpoint may fail as soon as text is known to be invalid) -----------

/**
 * Sends `sent`, then waits for the server to close and end TCP while `held` is still held back.
 * If the server waited for the rest of the message, the bounded wait fails the row.
 */
function failFast(sent: Buffer[], held: Buffer): (s: Session) => Promise<void> {
  if (held.length === 0) throw new Error('a fail-fast row must hold back part of its message');
  return async (s) => {
    await s.sendEach(sent);
    // `held` is never written: the row passes only if the server gives up without it.
    await s.waitEnd(`the Close 1007 while ${held.length} bytes of the message are still held back`);
  };
}

const EDITED = Buffer.from('edited');
const U110000 = hex('f4 90 80 80');
/** κόσμε U+110000 "edited" as ONE frame; cut at `at` payload bytes. */
const whole = Buffer.concat([KOSME, U110000, EDITED]);
const wholeFrame = frame({ opcode: Op.Text, payload: whole });
const cut = (payloadBytes: number): Buffer => wholeFrame.subarray(0, headerSize(whole.length) + payloadBytes);

rows.push(
  {
    id: '6.4.1',
    title: 'fail-fast: fragment 1 κόσμε, fragment 2 U+110000 → 1007 before fragment 3 is sent',
    send: failFast([frame({ opcode: Op.Text, payload: KOSME, fin: false }), frame({ opcode: Op.Cont, payload: U110000, fin: false })], frame({ opcode: Op.Cont, payload: EDITED })),
    expect: [serverClose(1007)],
    closes: 'server',
  },
  {
    id: '6.4.2',
    title: 'fail-fast: fragment 1 κόσμε F4, fragment 2 90 (the code point is split across frames) → 1007 before the rest',
    send: failFast([frame({ opcode: Op.Text, payload: Buffer.concat([KOSME, hex('f4')]), fin: false }), frame({ opcode: Op.Cont, payload: hex('90'), fin: false })], frame({ opcode: Op.Cont, payload: Buffer.concat([hex('80 80'), EDITED]) })),
    expect: [serverClose(1007)],
    closes: 'server',
  },
  {
    id: '6.4.3',
    title: 'fail-fast mid-frame: one frame, written κόσμε | F4 90 80 80 | edited → 1007 before the last chunk',
    send: failFast([cut(KOSME.length), wholeFrame.subarray(cut(KOSME.length).length, cut(KOSME.length + 4).length)], wholeFrame.subarray(cut(KOSME.length + 4).length)),
    expect: [serverClose(1007)],
    closes: 'server',
  },
  {
    id: '6.4.4',
    title: 'fail-fast mid-frame: one frame, written κόσμε | F4 90 → 1007 before 80 80 edited',
    send: failFast([cut(KOSME.length), wholeFrame.subarray(cut(KOSME.length).length, cut(KOSME.length + 2).length)], wholeFrame.subarray(cut(KOSME.length + 2).length)),
    expect: [serverClose(1007)],
    closes: 'server',
  },
  {
    id: '6.4.5',
    title: 'fail-fast mid-frame: the first TCP chunk of a 1000-byte frame holds an overlong C0 AF → 1007, the rest never sent',
    send: (() => {
      const payload = Buffer.concat([Buffer.from('ok '), hex('c0 af'), Buffer.alloc(995, 0x61)]);
      const bytes = frame({ opcode: Op.Text, payload });
      return failFast([bytes.subarray(0, headerSize(payload.length) + 8)], bytes.subarray(headerSize(payload.length) + 8));
    })(),
    expect: [serverClose(1007)],
    closes: 'server',
  },
  {
    id: '6.4.6',
    title: 'fail-fast mid-frame: a surrogate after 100 valid bytes of a 64 KiB frame → 1007, the rest never sent',
    send: (() => {
      const payload = Buffer.concat([Buffer.from('a'.repeat(100)), hex('ed a0 80'), Buffer.alloc(65536 - 103, 0x62)]);
      const bytes = frame({ opcode: Op.Text, payload });
      return failFast([bytes.subarray(0, headerSize(payload.length) + 200)], bytes.subarray(headerSize(payload.length) + 200));
    })(),
    expect: [serverClose(1007)],
    closes: 'server',
  },
);

runTable(t, () => server, rows);
