/**
 * Memory checks for the resource-limit and fuzz tests, in the test's own process.
 *
 * `--expose-gc` is set at run time (v8.setFlagsFromString) and the `gc` function taken from a new
 * context, so that `npx tap <file>` needs no extra node flags. Two measures, both after a full GC:
 * the heap (a figure, with a loose bound) and WeakRefs to every server-side socket and WebSocket
 * (exact: a collected object is not leaked).
 */
import type * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { WebSocketServer } from '../../src/server/server.js';
import type { WebSocket } from '../../src/websocket.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** heapUsed after a full collection (two passes: the first may only queue finalizers). */
export async function heapAfterGc(): Promise<number> {
  // WeakRef targets stay alive until the current job ends (ECMA-262 KeepDuringJob): yield first.
  await new Promise((r) => setImmediate(r));
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().heapUsed;
}

export const mb = (n: number): string => `${n < 0 ? '-' : '+'}${(Math.abs(n) / 1048576).toFixed(2)} MB`;

/** Holds WeakRefs to every socket a server accepts and every WebSocket it opens. */
export class Tracker {
  readonly sockets: WeakRef<net.Socket>[] = [];
  readonly connections: WeakRef<WebSocket>[] = [];
  /** Server-side sockets that saw the client's FIN ('end') before they closed. */
  endedBeforeClose = 0;
  closed = 0;

  constructor(server: WebSocketServer) {
    // The listener is private; the tests reach it only to hold WeakRefs to the accepted sockets.
    (server as unknown as { listener: net.Server }).listener.on('connection', (socket: net.Socket) => {
      this.sockets.push(new WeakRef(socket));
      let ended = false;
      socket.once('end', () => (ended = true));
      socket.once('close', () => {
        this.closed++;
        if (ended) this.endedBeforeClose++;
      });
    });
    server.on('connection', (ws) => this.connections.push(new WeakRef(ws)));
  }

  /** Forgets the WeakRefs already cleared, so a long run does not grow its own bookkeeping. */
  prune(): void {
    for (const list of [this.sockets, this.connections] as WeakRef<object>[][]) {
      const kept = list.filter((ref) => ref.deref() !== undefined);
      this.forgotten += list.length - kept.length;
      list.splice(0, list.length, ...kept);
    }
  }

  /** WeakRefs dropped by prune() (their objects were collected). */
  forgotten = 0;

  /** How many tracked sockets and WebSockets are still reachable (call after heapAfterGc). */
  live(): { sockets: number; connections: number } {
    return {
      sockets: this.sockets.filter((ref) => ref.deref() !== undefined).length,
      connections: this.connections.filter((ref) => ref.deref() !== undefined).length,
    };
  }
}
