// Conformance, Autobahn section 5: fragmentation (RFC 6455 §5.4) — raw bytes to `simpatico-ws echo`.
// The echo server sends every message back as ONE frame, so each row states that frame exactly.
import t from 'tap';
import { Op, frame, runTable, serverClose, serverFrame, startEcho, type Row } from './harness.js';

const server = await startEcho(t);

const cont = (payload: Buffer | string, fin = false): Buffer => frame({ opcode: Op.Cont, payload, fin });
const first = (opcode: number, payload: Buffer | string): Buffer => frame({ opcode, payload, fin: false });
const ping = (payload: string): Buffer => frame({ opcode: Op.Ping, payload });
const pong = (payload: string): Buffer => serverFrame(Op.Pong, payload);

/** A message cut into `parts` fragments of about equal size. */
function fragments(opcode: number, payload: Buffer, parts: number): Buffer[] {
  const size = Math.ceil(payload.length / parts);
  const out: Buffer[] = [];
  for (let i = 0; i < parts; i++) {
    const piece = payload.subarray(i * size, (i + 1) * size);
    out.push(frame({ opcode: i === 0 ? opcode : Op.Cont, payload: piece, fin: i === parts - 1 }));
  }
  return out;
}

const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff));
const thousand = Buffer.from('x'.repeat(1000));

const rows: Row[] = [
  { id: '5.1', title: 'ping in 2 fragments fails with 1002 (§5.5: control frames are not fragmented)', send: [frame({ opcode: Op.Ping, payload: 'fragment1', fin: false }), cont('fragment2', true)], expect: [serverClose(1002)], closes: 'server' },
  { id: '5.2', title: 'pong in 2 fragments fails with 1002', send: [frame({ opcode: Op.Pong, payload: 'fragment1', fin: false }), cont('fragment2', true)], expect: [serverClose(1002)], closes: 'server' },
  { id: '5.3', title: 'text in 2 fragments, one write → one message', send: [first(Op.Text, 'fragment1'), cont('fragment2', true)], expect: [serverFrame(Op.Text, 'fragment1fragment2')], closes: 'client' },
  { id: '5.4', title: 'text in 2 fragments, separate writes → one message', send: (s) => s.sendEach([first(Op.Text, 'fragment1'), cont('fragment2', true)]), expect: [serverFrame(Op.Text, 'fragment1fragment2')], closes: 'client' },
  {
    id: '5.5',
    title: 'text in 2 fragments written one byte per write → one message',
    send: (s) => s.sendEach([...Buffer.concat([first(Op.Text, 'fragment1'), cont('fragment2', true)])].map((b) => Buffer.from([b]))),
    expect: [serverFrame(Op.Text, 'fragment1fragment2')],
    closes: 'client',
  },
  { id: '5.6', title: 'text in 2 fragments with a ping between, one write → the pong first, then the message', send: [first(Op.Text, 'fragment1'), ping('ping payload'), cont('fragment2', true)], expect: [pong('ping payload'), serverFrame(Op.Text, 'fragment1fragment2')], closes: 'client' },
  { id: '5.7', title: 'the same in separate writes', send: (s) => s.sendEach([first(Op.Text, 'fragment1'), ping('ping payload'), cont('fragment2', true)]), expect: [pong('ping payload'), serverFrame(Op.Text, 'fragment1fragment2')], closes: 'client' },
  {
    id: '5.8',
    title: 'the same written one byte per write',
    send: (s) => s.sendEach([...Buffer.concat([first(Op.Text, 'fragment1'), ping('ping payload'), cont('fragment2', true)])].map((b) => Buffer.from([b]))),
    expect: [pong('ping payload'), serverFrame(Op.Text, 'fragment1fragment2')],
    closes: 'client',
  },
  { id: '5.9', title: 'a continuation (FIN set) with no message to continue fails with 1002', send: [cont('non-continuation payload', true), frame({ opcode: Op.Text, payload: 'Hello, world!' })], expect: [serverClose(1002)], closes: 'server' },
  { id: '5.10', title: 'the same in separate writes', send: (s) => s.sendEach([cont('non-continuation payload', true), frame({ opcode: Op.Text, payload: 'Hello, world!' })]), expect: [serverClose(1002)], closes: 'server' },
  { id: '5.12', title: 'a continuation (FIN clear) with no message to continue fails with 1002', send: [cont('non-continuation payload'), frame({ opcode: Op.Text, payload: 'Hello, world!' })], expect: [serverClose(1002)], closes: 'server' },
  {
    id: '5.15',
    title: 'a complete fragmented message, then a continuation that starts nothing → the echo, then 1002',
    send: [first(Op.Text, 'fragment1'), cont('fragment2', true), cont('fragment3'), cont('fragment4', true)],
    expect: [serverFrame(Op.Text, 'fragment1fragment2'), serverClose(1002)],
    closes: 'server',
  },
  {
    id: '5.17',
    title: 'a new text frame inside a fragmented message fails with 1002 (§5.4: expected a continuation)',
    send: [first(Op.Text, 'fragment1'), frame({ opcode: Op.Text, payload: 'fragment2', fin: true })],
    expect: [serverClose(1002)],
    closes: 'server',
  },
  {
    id: '5.18',
    title: 'a new binary frame (FIN clear) inside a fragmented text message fails with 1002',
    send: [first(Op.Text, 'fragment1'), first(Op.Binary, 'fragment2'), cont('fragment3', true)],
    expect: [serverClose(1002)],
    closes: 'server',
  },
  {
    id: '5.19',
    title: 'text in 5 fragments with 2 pings between, separate writes → pongs in order, then the message',
    send: (s) => s.sendEach([first(Op.Text, 'fragment1'), cont('fragment2'), ping('pongme 1!'), cont('fragment3'), ping('pongme 2!'), cont('fragment4'), cont('fragment5', true)]),
    expect: [pong('pongme 1!'), pong('pongme 2!'), serverFrame(Op.Text, 'fragment1fragment2fragment3fragment4fragment5')],
    closes: 'client',
  },
  { id: '5.21', title: 'binary in 2 fragments → one binary message', send: [first(Op.Binary, bytes(10)), cont(bytes(20), true)], expect: [serverFrame(Op.Binary, Buffer.concat([bytes(10), bytes(20)]))], closes: 'client' },
  { id: '5.22', title: 'binary of 65536 bytes in 16 fragments → one message (64-bit length on the way back)', send: fragments(Op.Binary, bytes(65536), 16), expect: [serverFrame(Op.Binary, bytes(65536))], closes: 'client' },
  { id: '5.23', title: 'text of 1000 bytes in 1000 one-byte fragments → one message', send: fragments(Op.Text, thousand, 1000), expect: [serverFrame(Op.Text, thousand)], closes: 'client' },
  {
    id: '5.24',
    title: 'empty fragments: a text message with an empty first and empty middle fragments',
    send: [first(Op.Text, ''), cont(''), cont('abc'), cont(''), cont('', true)],
    expect: [serverFrame(Op.Text, 'abc')],
    closes: 'client',
  },
  { id: '5.25', title: 'an empty text message in 3 empty fragments → an empty message', send: [first(Op.Text, ''), cont(''), cont('', true)], expect: [serverFrame(Op.Text, '')], closes: 'client' },
  { id: '5.26', title: 'an empty binary message in 2 empty fragments → an empty message', send: [first(Op.Binary, ''), cont('', true)], expect: [serverFrame(Op.Binary, '')], closes: 'client' },
  {
    id: '5.27',
    title: 'two fragmented messages back to back, interleaved with a ping → each echoed whole, in order',
    send: [first(Op.Text, 'ab'), cont('cd', true), first(Op.Binary, bytes(3)), ping('mid'), cont(bytes(4), true)],
    expect: [serverFrame(Op.Text, 'abcd'), pong('mid'), serverFrame(Op.Binary, Buffer.concat([bytes(3), bytes(4)]))],
    closes: 'client',
  },
  {
    id: '5.28',
    title: 'a close inside a fragmented message: the Close is echoed, the unfinished message dropped',
    send: [first(Op.Text, 'fragment1'), frame({ opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]) }), cont('fragment2', true)],
    expect: [serverFrame(Op.Close, Buffer.from([0x03, 0xe8]))],
    closes: 'server',
  },
];

runTable(t, () => server, rows);
