// Shared test helpers: servers on 127.0.0.1:0, raw TCP peers that speak bytes, and waiting.
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { WebSocketServer, type ServerOptions } from '../src/server/server.js';

/** Starts a server on 127.0.0.1 and a free port, closed when the test ends. */
export async function listen(t: Test, options: ServerOptions = {}): Promise<WebSocketServer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await server.ready;
  t.teardown(() => server.close());
  return server;
}

/** The upgrade request a well-behaved client sends. */
export function upgradeRequest(port: number, extra = '', path = '/'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** A raw TCP peer that records every byte it receives. */
export interface RawPeer {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once at least `n` bytes arrived in total (or the socket closed). */
  waitFor(n: number): Promise<Buffer>;
  /** Resolves when the server closes the connection, with everything received. */
  closed: Promise<Buffer>;
}

export function rawPeer(t: Test, port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let total = 0;
    let waiters: { n: number; resolve: (b: Buffer) => void }[] = [];
    const all = (): Buffer => Buffer.concat(chunks);
    const wake = (force: boolean): void => {
      const ready = waiters.filter((w) => force || total >= w.n);
      waiters = waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(all());
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      total += chunk.length;
      wake(false);
    });
    socket.on('error', () => {});
    const closed = new Promise<Buffer>((done) =>
      socket.on('close', () => {
        wake(true);
        done(all());
      }),
    );
    t.teardown(() => socket.destroy());
    socket.once('connect', () =>
      resolve({
        socket,
        received: all,
        closed,
        waitFor: (n) => (total >= n || socket.destroyed ? Promise.resolve(all()) : new Promise((r) => waiters.push({ n, resolve: r }))),
      }),
    );
    socket.once('error', reject);
  });
}

/** A raw peer that has completed the opening handshake; `received()` then starts after the 101. */
export async function upgradedPeer(t: Test, port: number): Promise<RawPeer & { responseLength: number }> {
  const peer = await rawPeer(t, port);
  peer.socket.write(upgradeRequest(port));
  let head = await peer.waitFor(4);
  while (head.indexOf('\r\n\r\n') === -1) head = await peer.waitFor(head.length + 1);
  const responseLength = head.indexOf('\r\n\r\n') + 4;
  return {
    ...peer,
    responseLength,
    received: () => peer.received().subarray(responseLength),
    waitFor: async (n) => (await peer.waitFor(responseLength + n)).subarray(responseLength),
    closed: peer.closed.then((all) => all.subarray(responseLength)),
  };
}

/** A masked frame as a client sends it (fixed key, for readable test bytes). */
export function maskedFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const key = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const len = data.length;
  let header: Buffer;
  if (len < 126) header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]);
  else if (len < 65536) header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** Resolves with the arguments of the next `event` of `emitter`. */
export function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
