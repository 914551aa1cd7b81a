// Conformance, Autobahn section 7: the closing handshake and close codes (RFC 6455 §5.5.1, §7) — raw
// bytes to `simpatico-ws echo`. The server echoes a valid Close (code and reason), answers an invalid
// one with 1002 (1007 for a reason that is not UTF-8), processes nothing after a Close, and ends TCP
// first (§7.1.1) — the runner checks that last part on every row.
import t from 'tap';
import { Op, closePayload, frame, runTable, serverClose, serverFrame, startEcho, type Row } from './harness.js';

const server = await startEcho(t);

const close = (payload: Buffer = Buffer.alloc(0)): Buffer => frame({ opcode: Op.Close, payload });
const closeEcho = (payload: Buffer = Buffer.alloc(0)): Buffer => serverFrame(Op.Close, payload);
const big = Buffer.from('*'.repeat(65536));

const rows: Row[] = [
  { id: '7.1.1', title: 'a message, then a normal close → the echo, then the Close echoed', send: [frame({ opcode: Op.Text, payload: 'Hello World' })], expect: [serverFrame(Op.Text, 'Hello World')], closes: 'client' },
  { id: '7.1.2', title: 'two Closes in a row → one Close back', send: [close(closePayload(1000)), close(closePayload(1000))], expect: [closeEcho(closePayload(1000))], closes: 'server' },
  { id: '7.1.3', title: 'a ping after the Close is not answered', send: [close(closePayload(1000)), frame({ opcode: Op.Ping, payload: 'Hello World' })], expect: [closeEcho(closePayload(1000))], closes: 'server' },
  { id: '7.1.4', title: 'a text message after the Close is not echoed (data after close ignored)', send: [close(closePayload(1000)), frame({ opcode: Op.Text, payload: 'Hello World' })], expect: [closeEcho(closePayload(1000))], closes: 'server' },
  {
    id: '7.1.5',
    title: 'the first fragment of a message, the Close, the last fragment → only the Close back',
    send: [frame({ opcode: Op.Text, payload: 'fragment1', fin: false }), close(closePayload(1000)), frame({ opcode: Op.Cont, payload: 'fragment2' })],
    expect: [closeEcho(closePayload(1000))],
    closes: 'server',
  },
  {
    id: '7.1.6',
    title: 'a 64 KiB message, the Close, a ping → the echo and the Close, no pong',
    send: [frame({ opcode: Op.Text, payload: big }), close(closePayload(1000)), frame({ opcode: Op.Ping, payload: 'Hello World' })],
    expect: [serverFrame(Op.Text, big), closeEcho(closePayload(1000))],
    closes: 'server',
  },
  {
    id: '7.1.7',
    title: 'data in separate writes after the Close is ignored; the server still ends TCP',
    send: async (s) => {
      s.send(close(closePayload(1000)));
      await s.waitBytes(4, 'the Close echo');
      // Anything written now reaches a server that already answered our Close; it must be dropped.
      s.send(frame({ opcode: Op.Text, payload: 'late' }), frame({ opcode: Op.Ping, payload: 'late' }));
    },
    expect: [closeEcho(closePayload(1000))],
    closes: 'server',
  },
  {
    id: '7.1.8',
    title: 'a Close then our FIN at once (half-close): the server still sends its Close, then ends',
    send: async (s) => {
      s.send(close(closePayload(1000, 'half')));
      s.peer.socket.end();
    },
    expect: [closeEcho(closePayload(1000, 'half'))],
    closes: 'server',
  },
  { id: '7.3.1', title: 'a Close without payload → a Close without payload (1005 never goes on the wire)', send: [close()], expect: [closeEcho()], closes: 'server' },
  { id: '7.3.2', title: 'a Close with a 1-byte payload fails with 1002', send: [close(Buffer.from([0x03]))], expect: [serverClose(1002)], closes: 'server' },
  { id: '7.3.3', title: 'a Close with 1000 and no reason → echoed', send: [close(closePayload(1000))], expect: [closeEcho(closePayload(1000))], closes: 'server' },
  { id: '7.3.4', title: 'a Close with 1000 and a reason → echoed with the reason', send: [close(closePayload(1000, 'Hello World!'))], expect: [closeEcho(closePayload(1000, 'Hello World!'))], closes: 'server' },
  { id: '7.3.5', title: 'a Close with a 123-byte reason (the most that fits) → echoed exactly', send: [close(closePayload(1000, 'R'.repeat(123)))], expect: [closeEcho(closePayload(1000, 'R'.repeat(123)))], closes: 'server' },
  { id: '7.3.6', title: 'a Close with a 124-byte reason (a 126-byte control frame) fails with 1002', send: [close(closePayload(1000, 'R'.repeat(124)))], expect: [serverClose(1002)], closes: 'server' },
  {
    id: '7.3.8',
    title: 'a Close with a 123-byte reason written one byte per write → echoed exactly',
    send: (s) => s.sendEach([...close(closePayload(1000, 'R'.repeat(123)))].map((b) => Buffer.from([b]))),
    expect: [closeEcho(closePayload(1000, 'R'.repeat(123)))],
    closes: 'server',
  },
  { id: '7.3.7', title: 'a Close with a 4-byte UTF-8 reason → echoed', send: [close(closePayload(4000, 'bye 🎉 𠜎'))], expect: [closeEcho(closePayload(4000, 'bye 🎉 𠜎'))], closes: 'server' },
  { id: '7.5.1', title: 'a Close whose reason is not UTF-8 fails with 1007', send: [close(closePayload(1000, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('edited')])))], expect: [serverClose(1007)], closes: 'server' },
  { id: '7.5.2', title: 'a Close whose reason ends inside a code point fails with 1007', send: [close(closePayload(1000, Buffer.from([0x61, 0xf0, 0x9f])))], expect: [serverClose(1007)], closes: 'server' },
];

// §7.4.1, §7.4.2: the codes a Close may carry, each echoed by the server with its reason.
const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
VALID.forEach((code, i) => {
  rows.push({ id: `7.7.${i + 1}`, title: `Close with code ${code} → echoed`, send: [close(closePayload(code, 'reason'))], expect: [closeEcho(closePayload(code, 'reason'))], closes: 'server' });
});

// Codes that may not be sent: unused (0–999, 1016–2999, ≥ 5000), reserved (1004), local-only (1005, 1006, 1015).
const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
INVALID.forEach((code, i) => {
  rows.push({ id: `7.9.${i + 1}`, title: `Close with code ${code} fails with 1002`, send: [close(closePayload(code))], expect: [serverClose(1002)], closes: 'server' });
});

runTable(t, () => server, rows);
