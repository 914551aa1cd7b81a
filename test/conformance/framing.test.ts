// Conformance, Autobahn sections 1–4: framing, ping/pong, reserved bits, opcodes — raw bytes to
// `simpatico-ws echo`, exact bytes back, and the server ends TCP after every row.
import t from 'tap';
import { Op, closePayload, frame, runTable, serverClose, serverFrame, startEcho, type Row } from './harness.js';

const server = await startEcho(t);

/** Deterministic text and binary payloads of a given size (so any lost or moved byte shows). */
const text = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % 94))).join('');
const binary = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
/** `bytes` cut into pieces of `size` (the last may be shorter). */
const chunks = (bytes: Buffer, size: number): Buffer[] => {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
};

const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

const rows: Row[] = [];

// ---- 1 framing: every length form (§5.2: 7-bit up to 125, 16-bit up to 65535, 64-bit above) -----
SIZES.forEach((n, i) => {
  rows.push({
    id: `1.1.${i + 1}`,
    title: `text message of ${n} bytes is echoed (${n < 126 ? 7 : n < 65536 ? 16 : 64}-bit length)`,
    send: [frame({ opcode: Op.Text, payload: text(n) })],
    expect: [serverFrame(Op.Text, text(n))],
    closes: 'client',
  });
  rows.push({
    id: `1.2.${i + 1}`,
    title: `binary message of ${n} bytes is echoed`,
    send: [frame({ opcode: Op.Binary, payload: binary(n) })],
    expect: [serverFrame(Op.Binary, binary(n))],
    closes: 'client',
  });
});
rows.push(
  {
    id: '1.1.8',
    title: 'text message of 65536 bytes written in chunks of 997 bytes is echoed',
    send: (s) => s.sendEach(chunks(frame({ opcode: Op.Text, payload: text(65536) }), 997)),
    expect: [serverFrame(Op.Text, text(65536))],
    closes: 'client',
  },
  {
    id: '1.2.8',
    title: 'binary message of 65536 bytes written in chunks of 997 bytes is echoed',
    send: (s) => s.sendEach(chunks(frame({ opcode: Op.Binary, payload: binary(65536) }), 997)),
    expect: [serverFrame(Op.Binary, binary(65536))],
    closes: 'client',
  },
  {
    id: '1.3.1',
    title: 'a frame written one byte per write (every header field split) is echoed',
    send: (s) => s.sendEach(chunks(frame({ opcode: Op.Binary, payload: binary(300) }), 1).slice(0, 20).concat(frame({ opcode: Op.Binary, payload: binary(300) }).subarray(20))),
    expect: [serverFrame(Op.Binary, binary(300))],
    closes: 'client',
  },
  {
    id: '1.3.2',
    title: 'three messages in one write are echoed in order',
    send: [frame({ opcode: Op.Text, payload: 'one' }), frame({ opcode: Op.Binary, payload: binary(200) }), frame({ opcode: Op.Text, payload: 'three' })],
    expect: [serverFrame(Op.Text, 'one'), serverFrame(Op.Binary, binary(200)), serverFrame(Op.Text, 'three')],
    closes: 'client',
  },
  {
    id: '1.3.3',
    title: 'an unmasked frame from a client fails with 1002 (§5.1)',
    send: [frame({ opcode: Op.Text, payload: 'hello', unmasked: true })],
    expect: [serverClose(1002)],
    closes: 'server',
  },
  {
    id: '1.3.5',
    title: 'a 65536-byte frame whose 14 header bytes (64-bit length, mask key) are written one per write is echoed',
    send: (s) => {
      const bytes = frame({ opcode: Op.Binary, payload: binary(65536) });
      return s.sendEach([...chunks(bytes.subarray(0, 14), 1), bytes.subarray(14)]);
    },
    expect: [serverFrame(Op.Binary, binary(65536))],
    closes: 'client',
  },
  {
    id: '1.3.4',
    title: 'a 64-bit length with its most significant bit set fails with 1002 on the header (§5.2)',
    send: [frame({ opcode: Op.Binary, length: 1n << 63n }).subarray(0, 10)],
    expect: [serverClose(1002)],
    closes: 'server',
  },
);

// ---- 2 ping/pong (§5.5.2, §5.5.3) ----------------------------------------------------------------
const ten = Array.from({ length: 10 }, (_, i) => `ping ${i}`);
rows.push(
  { id: '2.1', title: 'ping without payload → pong without payload', send: [frame({ opcode: Op.Ping })], expect: [serverFrame(Op.Pong)], closes: 'client' },
  { id: '2.2', title: 'ping with a text payload → pong with the same payload', send: [frame({ opcode: Op.Ping, payload: 'Hello, world!' })], expect: [serverFrame(Op.Pong, 'Hello, world!')], closes: 'client' },
  { id: '2.3', title: 'ping with a binary payload → pong with the same payload', send: [frame({ opcode: Op.Ping, payload: Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]) })], expect: [serverFrame(Op.Pong, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))], closes: 'client' },
  { id: '2.4', title: 'ping with 125 bytes of payload → pong with the same payload', send: [frame({ opcode: Op.Ping, payload: binary(125) })], expect: [serverFrame(Op.Pong, binary(125))], closes: 'client' },
  { id: '2.5', title: 'ping with 126 bytes of payload fails with 1002 (§5.5: at most 125)', send: [frame({ opcode: Op.Ping, payload: binary(126) })], expect: [serverClose(1002)], closes: 'server' },
  { id: '2.6', title: 'ping with 125 bytes written one byte per write → pong', send: (s) => s.sendEach(chunks(frame({ opcode: Op.Ping, payload: binary(125) }), 1)), expect: [serverFrame(Op.Pong, binary(125))], closes: 'client' },
  {
    id: '2.7',
    title: 'an unsolicited pong without payload is ignored (the next echo is all that comes back)',
    send: [frame({ opcode: Op.Pong }), frame({ opcode: Op.Text, payload: 'after' })],
    expect: [serverFrame(Op.Text, 'after')],
    closes: 'client',
  },
  {
    id: '2.8',
    title: 'an unsolicited pong with payload is ignored',
    send: [frame({ opcode: Op.Pong, payload: 'unsolicited pong payload' }), frame({ opcode: Op.Text, payload: 'after' })],
    expect: [serverFrame(Op.Text, 'after')],
    closes: 'client',
  },
  {
    id: '2.9',
    title: 'an unsolicited pong then a ping → one pong, for the ping',
    send: [frame({ opcode: Op.Pong, payload: 'unsolicited pong payload' }), frame({ opcode: Op.Ping, payload: 'ping payload' })],
    expect: [serverFrame(Op.Pong, 'ping payload')],
    closes: 'client',
  },
  { id: '2.10', title: '10 pings in one write → 10 pongs in order', send: ten.map((p) => frame({ opcode: Op.Ping, payload: p })), expect: ten.map((p) => serverFrame(Op.Pong, p)), closes: 'client' },
  { id: '2.11', title: '10 pings in separate writes → 10 pongs in order', send: (s) => s.sendEach(ten.map((p) => frame({ opcode: Op.Ping, payload: p }))), expect: ten.map((p) => serverFrame(Op.Pong, p)), closes: 'client' },
  {
    id: '2.13',
    title: 'pings with every payload size from 0 to 125 bytes in one write → 126 pongs, same payloads, in order',
    send: Array.from({ length: 126 }, (_, n) => frame({ opcode: Op.Ping, payload: binary(n) })),
    expect: Array.from({ length: 126 }, (_, n) => serverFrame(Op.Pong, binary(n))),
    closes: 'client',
  },
  { id: '2.12', title: 'a fragmented ping (FIN clear) fails with 1002 (§5.5)', send: [frame({ opcode: Op.Ping, payload: 'frag', fin: false })], expect: [serverClose(1002)], closes: 'server' },
);

// ---- 3 reserved bits (§5.2: MUST be 0 unless an extension defines them; none is negotiated) -------
rows.push(
  { id: '3.1', title: 'text with RSV = 1 fails with 1002', send: [frame({ opcode: Op.Text, payload: 'Hello', rsv: 1 })], expect: [serverClose(1002)], closes: 'server' },
  {
    id: '3.2',
    title: 'text, then text with RSV = 2, then ping → the echo, then 1002; the ping is not answered',
    send: [frame({ opcode: Op.Text, payload: 'Hello' }), frame({ opcode: Op.Text, payload: 'Hello', rsv: 2 }), frame({ opcode: Op.Ping, payload: 'Hello' })],
    expect: [serverFrame(Op.Text, 'Hello'), serverClose(1002)],
    closes: 'server',
  },
  {
    id: '3.3',
    title: 'the same in separate writes, RSV = 3',
    send: (s) => s.sendEach([frame({ opcode: Op.Text, payload: 'Hello' }), frame({ opcode: Op.Text, payload: 'Hello', rsv: 3 }), frame({ opcode: Op.Ping, payload: 'Hello' })]),
    expect: [serverFrame(Op.Text, 'Hello'), serverClose(1002)],
    closes: 'server',
  },
  {
    id: '3.4',
    title: 'the same written one byte per write, RSV = 4 (RSV1: no permessage-deflate was negotiated)',
    send: (s) => s.sendEach(chunks(Buffer.concat([frame({ opcode: Op.Text, payload: 'Hello' }), frame({ opcode: Op.Text, payload: 'Hello', rsv: 4 }), frame({ opcode: Op.Ping, payload: 'Hello' })]), 1)),
    expect: [serverFrame(Op.Text, 'Hello'), serverClose(1002)],
    closes: 'server',
  },
  { id: '3.5', title: 'binary with RSV = 5 fails with 1002', send: [frame({ opcode: Op.Binary, payload: binary(8), rsv: 5 })], expect: [serverClose(1002)], closes: 'server' },
  { id: '3.6', title: 'ping with RSV = 6 fails with 1002 (no pong)', send: [frame({ opcode: Op.Ping, payload: 'Hello', rsv: 6 })], expect: [serverClose(1002)], closes: 'server' },
  { id: '3.7', title: 'close with RSV = 7 fails with 1002 (not echoed)', send: [frame({ opcode: Op.Close, payload: closePayload(1000), rsv: 7 })], expect: [serverClose(1002)], closes: 'server' },
  {
    id: '3.8',
    title: 'a continuation frame with RSV = 4 (RSV1) inside a fragmented message fails with 1002',
    send: [frame({ opcode: Op.Text, payload: 'frag', fin: false }), frame({ opcode: Op.Cont, payload: 'ment', rsv: 4 })],
    expect: [serverClose(1002)],
    closes: 'server',
  },
  {
    id: '3.9',
    title: 'a continuation frame with RSV = 2 inside a fragmented message fails with 1002',
    send: [frame({ opcode: Op.Binary, payload: binary(4), fin: false }), frame({ opcode: Op.Cont, payload: binary(4), rsv: 2 })],
    expect: [serverClose(1002)],
    closes: 'server',
  },
);

// ---- 4 opcodes (§5.2: 3–7 reserved for data frames, 11–15 for control frames) ---------------------
for (const [section, opcodes] of [['4.1', [3, 4, 5, 6, 7]], ['4.2', [11, 12, 13, 14, 15]]] as const) {
  opcodes.forEach((opcode, i) => {
    rows.push({
      id: `${section}.${2 * i + 1}`,
      title: `reserved opcode ${opcode}, empty, fails with 1002`,
      send: [frame({ opcode })],
      expect: [serverClose(1002)],
      closes: 'server',
    });
    rows.push({
      id: `${section}.${2 * i + 2}`,
      title: `text, reserved opcode ${opcode} with payload, ping → the echo, then 1002; the ping is not answered`,
      send: (s) => s.sendEach([frame({ opcode: Op.Text, payload: 'Hello' }), frame({ opcode, payload: 'reserved' }), frame({ opcode: Op.Ping, payload: 'Hello' })]),
      expect: [serverFrame(Op.Text, 'Hello'), serverClose(1002)],
      closes: 'server',
    });
  });
}

rows.push({
  id: '4.3.1',
  title: 'a reserved opcode (3) where a continuation is expected fails with 1002',
  send: [frame({ opcode: Op.Text, payload: 'frag', fin: false }), frame({ opcode: 3, payload: 'ment' })],
  expect: [serverClose(1002)],
  closes: 'server',
});

runTable(t, () => server, rows);
