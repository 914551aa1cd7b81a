/**
 * The conformance harness: a `simpatico-ws echo` process spawned from the TypeScript source, raw TCP
 * sessions that speak bytes to it, and a table runner.
 *
 * In the spirit of Autobahn|Testsuite (its sections and case numbers are kept where a row follows one
 * of its cases), written here from RFC 6455. Every row states the exact bytes the server must send
 * back — echoes, pongs, its Close frame — and the runner checks that the server then ended the TCP
 * connection. Every wait is bounded by {@link CASE_TIMEOUT}: a server that does not answer fails
 * the row, it never makes the row pass by waiting long enough.
 */
import { spawn } from 'node:child_process';
import type { Test } from 'tap';
import { rawPeer, upgradeRequest, type RawPeer } from '../helpers.js';

/** How long one step of a row may take before the row fails (generous: the machine is shared). */
export const CASE_TIMEOUT = 5_000;

/** Opcodes (RFC 6455 §5.2). */
export const Op = { Cont: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** Resolves like `promise`, or rejects after `ms` with a message that says what did not happen. */
export function within<T>(promise: Promise<T>, what: string, ms = CASE_TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- frames ------------------------------------------------------------------------------------

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1 = 4, RSV2 = 2, RSV3 = 1 (§5.2). */
  rsv?: number;
  /** Omit the mask (a client MUST mask, §5.1). */
  unmasked?: boolean;
  /** Announce this length in the header instead of the payload's (the payload is still appended). */
  length?: bigint;
}

const KEY = Buffer.from([0xa7, 0x3c, 0x5e, 0x91]);

/** A frame as a client sends it: masked with a fixed key, minimal length encoding (§5.2), built here from the RFC. */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  return Buffer.concat([header(spec, payload.length, !spec.unmasked, spec.length), spec.unmasked ? payload : masked(payload)]);
}

function header(spec: FrameSpec, n: number, mask: boolean, announced?: bigint): Buffer {
  const length = announced ?? BigInt(n);
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  const maskBit = mask ? 0x80 : 0;
  let head: Buffer;
  if (length < 126n) head = Buffer.from([first, maskBit | Number(length)]);
  else if (length < 65536n) head = Buffer.from([first, maskBit | 126, Number(length >> 8n), Number(length & 0xffn)]);
  else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(length, 2);
  }
  return mask ? Buffer.concat([head, KEY]) : head;
}

function masked(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ KEY[i & 3];
  return out;
}

/** The size of a client frame's header (with its mask key), to cut a frame inside its payload. */
export function headerSize(payloadLength: number): number {
  return (payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10) + 4;
}

/** A frame as the server must send it: unmasked, FIN set, minimal length (§5.1, §5.2). */
export function serverFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([header({ opcode }, data.length, false), data]);
}

/** A Close payload: a 2-byte status code and a reason (§5.5.1). */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** The Close frame the server sends when it fails the connection with `code` (no reason). */
export const serverClose = (code: number): Buffer => serverFrame(Op.Close, closePayload(code));

/** A readable description of a byte stream of server frames, for failure messages. */
export function describe(bytes: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 2) {
      out.push(`partial header ${bytes.subarray(pos).toString('hex')}`);
      break;
    }
    const b0 = bytes[pos];
    const b1 = bytes[pos + 1];
    let len = b1 & 0x7f;
    let at = pos + 2;
    if (len === 126) {
      len = bytes.length >= at + 2 ? bytes.readUInt16BE(at) : -1;
      at += 2;
    } else if (len === 127) {
      len = bytes.length >= at + 8 ? Number(bytes.readBigUInt64BE(at)) : -1;
      at += 8;
    }
    if (b1 & 0x80) at += 4;
    const end = at + len;
    const payload = bytes.subarray(at, Math.min(end, bytes.length));
    const shown = payload.length > 24 ? `${payload.subarray(0, 24).toString('hex')}…` : payload.toString('hex');
    out.push(`fin=${b0 >> 7} rsv=${(b0 >> 4) & 7} op=${b0 & 15} mask=${b1 >> 7} len=${len} ${shown}${end > bytes.length ? ' (truncated)' : ''}`);
    if (len < 0 || end > bytes.length) break;
    pos = end;
  }
  return out;
}

// ---- the server under test ----------------------------------------------------------------------

export interface EchoProcess {
  port: number;
  url: string;
}

/**
 * Spawns `simpatico-ws echo --port 0` from src/cli.ts (with the loader this test runs under, so
 * coverage counts) and resolves with the URL it prints. Stopped with SIGTERM when the test ends.
 */
export async function startEcho(t: Test, args: string[] = []): Promise<EchoProcess> {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'echo', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await within(exited, 'the echo server to exit', 10_000).catch(() => child.kill('SIGKILL'));
  });
  let out = '';
  const line = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    exited.then((code) => reject(new Error(`simpatico-ws echo exited with ${code} before printing its URL: ${stderr}`)));
  });
  // Starting node with the TypeScript loader takes a while on a busy machine.
  const url = await within(line, 'simpatico-ws echo to print its URL', 60_000);
  const match = /^ws:\/\/127\.0\.0\.1:(\d+)\/$/.exec(url);
  if (match === null) throw new Error(`unexpected first line from simpatico-ws echo: ${url}`);
  return { port: Number(match[1]), url };
}

// ---- sessions -------------------------------------------------------------------------------------

/** A raw client after the opening handshake; `received()` starts after the 101 response. */
export interface Session {
  peer: RawPeer;
  /** The response head (for the extension rows). */
  head: string;
  /** Everything the server sent after its 101 response. */
  received(): Buffer;
  /** Writes the chunks as one TCP write. */
  send(...chunks: Buffer[]): void;
  /** Writes each chunk separately, waiting for each to be flushed to the kernel. */
  sendEach(chunks: Buffer[]): Promise<void>;
  /** Resolves once `n` bytes after the 101 arrived; fails the row after CASE_TIMEOUT. */
  waitBytes(n: number, what: string): Promise<Buffer>;
  /** Resolves with everything received once the SERVER ended TCP; fails the row after CASE_TIMEOUT. */
  waitEnd(what: string): Promise<Buffer>;
  /** Whether the TCP connection is gone. */
  readonly ended: boolean;
}

export async function session(t: Test, port: number, extraHeaders = ''): Promise<Session> {
  const peer = await within(rawPeer(t, port), 'the TCP connection');
  let ended = false;
  void peer.closed.then(() => (ended = true));
  peer.socket.setNoDelay(true);
  peer.socket.write(upgradeRequest(port, extraHeaders));
  let all = await within(peer.waitFor(12), 'the 101 response');
  for (let i = 0; i < 64 && all.indexOf('\r\n\r\n') === -1 && !peer.socket.destroyed; i++) {
    all = await within(peer.waitFor(all.length + 1), 'the end of the 101 response');
  }
  const end = all.indexOf('\r\n\r\n');
  if (end === -1 || !all.subarray(0, 12).equals(Buffer.from('HTTP/1.1 101'))) {
    throw new Error(`the handshake failed: ${all.toString('latin1')}`);
  }
  const start = end + 4;
  return {
    peer,
    head: all.subarray(0, end).toString('latin1'),
    received: () => peer.received().subarray(start),
    send: (...chunks) => {
      peer.socket.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    },
    sendEach: async (chunks) => {
      for (const chunk of chunks) {
        if (peer.socket.destroyed) return;
        await within(new Promise<void>((resolve) => peer.socket.write(chunk, () => resolve())), 'a write to flush');
        await new Promise((r) => setImmediate(r));
      }
    },
    waitBytes: async (n, what) => (await within(peer.waitFor(start + n), what)).subarray(start),
    waitEnd: async (what) => (await within(peer.closed, what)).subarray(start),
    get ended() {
      return ended;
    },
  };
}

// ---- rows -----------------------------------------------------------------------------------------

/** One conformance case. */
export interface Row {
  /** Autobahn-style case number, e.g. '5.6'. */
  id: string;
  title: string;
  /** Frames written in ONE write, or a function that drives the session itself. */
  send: Buffer[] | ((s: Session) => Promise<void>);
  /** The exact frames the server must send, in order. */
  expect: Buffer[];
  /**
   * Who closes: 'server' — what was sent makes the server close (a failure, or our Close frame in
   * `send`): after `expect` the server must end TCP. 'client' — after `expect` arrived, the runner
   * sends Close 1000 and the server must echo it and end TCP.
   */
  closes: 'server' | 'client';
  /** Extra request header lines (each ending in \r\n). */
  headers?: string;
  /** Extra checks on the session after the row passed its byte checks. */
  check?: (t: Test, s: Session) => void;
}

const NORMAL_CLOSE = frame({ opcode: Op.Close, payload: closePayload(1000) });
const NORMAL_CLOSE_ECHO = serverFrame(Op.Close, closePayload(1000));

/**
 * Runs one row: sends, waits (bounded) for the expected bytes and the end of TCP, and asserts that
 * the whole stream the server sent equals the expected frames exactly — nothing missing, nothing extra.
 */
export async function runRow(t: Test, port: number, row: Row): Promise<void> {
  const s = await session(t, port, row.headers);
  if (Array.isArray(row.send)) s.send(...row.send);
  else await row.send(s);
  const expected = Buffer.concat(row.expect);
  let all: Buffer;
  if (row.closes === 'client') {
    const got = await s.waitBytes(expected.length, `${row.expect.length} expected frame(s)`).catch(() => s.received());
    if (!got.subarray(0, expected.length).equals(expected) || s.ended) {
      t.same(describe(got), describe(expected), 'the frames before our Close');
      t.fail('the server did not send exactly the expected frames, or ended TCP early');
      return;
    }
    s.send(NORMAL_CLOSE);
    all = await s.waitEnd('the server to answer our Close and end TCP');
    const full = Buffer.concat([expected, NORMAL_CLOSE_ECHO]);
    assertStream(t, all, full);
  } else {
    all = await s.waitEnd('the server to end TCP');
    assertStream(t, all, expected);
  }
  t.ok(s.ended, 'the server ended the TCP connection');
  row.check?.(t, s);
}

function assertStream(t: Test, got: Buffer, expected: Buffer): void {
  if (got.equals(expected)) {
    t.pass(`exact ${expected.length} bytes: ${describe(expected).length} frame(s)`);
  } else {
    t.same(describe(got), describe(expected), 'the frames the server sent');
    t.fail(`the server sent ${got.length} bytes, expected exactly ${expected.length}`);
  }
}

/** Runs every row of a table as its own subtest, on one server. */
export function runTable(t: Test, server: () => EchoProcess, rows: Row[]): void {
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id)) throw new Error(`duplicate row id ${row.id}`);
    seen.add(row.id);
    void t.test(`${row.id} ${row.title}`, (t) => runRow(t, server().port, row));
  }
}
