/**
 * WebSocketServer: accepts WebSocket connections, standalone on `net`/`tls` or embedded in a
 * `node:http` server through {@link WebSocketServer.handleUpgrade}.
 *
 * Standalone, it reads the opening handshake straight off the socket with the project's own
 * HTTP/1.1 head parser (src/handshake) — no `node:http` request and response objects on the way.
 * Both forms share the same validation and the same decisions (src/server/upgrade.ts).
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketError } from '../errors.js';
import { WebSocket, type ConnectionOptions, type SendData } from '../websocket.js';
import { broadcast, type SlowClientPolicy } from './broadcast.js';
import { readRequest, respondAndClose, upgrade, type HttpRequest, type UpgradePolicy } from './upgrade.js';

export type { HttpRequest, HttpResponse, VerifyResult } from './upgrade.js';

/** Options of a {@link WebSocketServer}. Every connection also takes the {@link ConnectionOptions}. */
export interface ServerOptions extends ConnectionOptions, UpgradePolicy {
  /** Port to listen on; 0 picks a free one (see {@link WebSocketServer.address}). */
  port?: number;
  /** Address to listen on. Default '127.0.0.1': listening on every interface is a choice to make, not a default. */
  host?: string;
  /** Milliseconds a client has to complete its HTTP request before it is dropped (slowloris). Default 10,000. */
  handshakeTimeout?: number;
  /** Most connections at once, handshakes included; more are answered 503. Default: no limit. */
  maxConnections?: number;
  /** TLS options (key, cert, …) to serve `wss://`. */
  tls?: tls.TlsOptions;
  /** Create no listener: connections come only through {@link WebSocketServer.handleUpgrade}. */
  noServer?: boolean;
  /**
   * What {@link WebSocketServer.broadcast} does with a recipient whose buffered bytes exceed
   * `maxBufferedAmount` (default 4 MiB): 'skip' it for this message (the default, as Python's
   * websockets does) or 'close' it with 1008. Never does a broadcast buffer without bound.
   */
  slowClient?: SlowClientPolicy;
}

/** Events of a {@link WebSocketServer}. */
export interface ServerEvents {
  connection: [socket: WebSocket, request: HttpRequest];
  listening: [];
  error: [error: Error];
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** The server a standalone socket belongs to (for the shared 'close' listener). */
const kServer = Symbol('simpatico-ws:server');
type ServerSocket = net.Socket & { [kServer]: WebSocketServer };

export class WebSocketServer extends EventEmitter<ServerEvents> {
  /** Every OPEN or CLOSING connection of this server. */
  readonly clients = new Set<WebSocket>();
  /** Resolves once the server listens (at once with `noServer`); rejects if it cannot. */
  readonly ready: Promise<void>;
  private readonly options: ServerOptions;
  private readonly listener: net.Server | undefined;
  /** Sockets still in their opening handshake, to drop on close(). */
  private readonly pending = new Set<Duplex>();
  private connectionCount = 0;
  private closing = false;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    if (options.noServer === true) {
      this.listener = undefined;
      this.ready = Promise.resolve();
      return;
    }
    if (options.tls !== undefined) {
      const server = tls.createServer(options.tls);
      server.on('secureConnection', (socket) => this.onSocket(socket));
      // A client that fails its TLS handshake is its own problem: never the server's 'error'.
      server.on('tlsClientError', (_error, socket) => socket.destroy());
      this.listener = server;
    } else {
      this.listener = net.createServer((socket) => this.onSocket(socket));
    }
    const listener = this.listener;
    this.ready = new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        listener.off('error', reject);
        listener.on('error', (error) => this.emitError(error));
        resolve();
        this.emit('listening');
      });
    });
    // The promise is there to be awaited; an unawaited rejection must not crash the process.
    this.ready.catch((error: Error) => this.emitError(error));
  }

  /** The address the server listens on. */
  address(): net.AddressInfo {
    const address = this.listener?.address();
    if (address === undefined || address === null || typeof address === 'string') {
      throw new WebSocketError('WS_ERR_NOT_LISTENING', 'The server is not listening (noServer, or not ready yet).', {
        side: 'local',
      });
    }
    return address;
  }

  /** The URL clients connect to, e.g. `ws://127.0.0.1:8080/`. */
  get url(): string {
    const { address, family, port } = this.address();
    const host = family === 'IPv6' ? `[${address}]` : address;
    return `${this.options.tls === undefined ? 'ws' : 'wss'}://${host}:${port}${this.options.path ?? '/'}`;
  }

  /**
   * Completes the opening handshake of a request a `node:http` or `node:https` server received
   * (its `upgrade` event), with the same checks as the standalone server.
   *
   * @param callback receives the open connection; without one, the server emits `connection`.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback?: (socket: WebSocket, request: HttpRequest) => void,
  ): void {
    // A node:http server always sets method and url on the requests it receives.
    const req: HttpRequest = {
      method: request.method!,
      url: request.url!,
      httpVersion: request.httpVersion,
      headers: request.headers,
      remoteAddress: request.socket.remoteAddress,
    };
    socket.on('error', noop);
    if (this.closing) {
      respondAndClose(socket, 503, 'The server is shutting down.');
      return;
    }
    this.accept(req, socket, head, callback);
  }

  /**
   * Sends one message to every OPEN client, encoding the frame once for all of them. A recipient
   * that is not keeping up is skipped or closed, as `slowClient` says.
   *
   * @returns how many clients the message was queued for.
   */
  broadcast(data: SendData, options: { binary?: boolean; except?: WebSocket } = {}): number {
    return broadcast(this.clients, data, { ...options, slowClient: this.options.slowClient });
  }

  /**
   * Stops accepting, closes every client with 1001 (going away) and resolves when all are gone.
   * Clients that do not answer are dropped after their `closeTimeout`.
   */
  async close(): Promise<void> {
    this.closing = true;
    const listenerClosed = new Promise<void>((resolve) => {
      if (this.listener === undefined || !this.listener.listening) resolve();
      else this.listener.close(() => resolve());
    });
    for (const socket of this.pending) socket.destroy();
    const gone = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.once('close', () => resolve());
          client.close(1001, 'Server shutting down');
        }),
    );
    await Promise.all([listenerClosed, ...gone]);
  }

  // ---- the standalone path ---------------------------------------------------------------------

  private onSocket(socket: net.Socket): void {
    // Errors while the handshake is read (a reset, a TLS alert) end that socket, nothing more.
    socket.on('error', noop);
    // (No 'closing' check: close() closes the listener first, and a closed listener accepts nothing.)
    const max = this.options.maxConnections ?? Infinity;
    if (this.connectionCount >= max) {
      respondAndClose(socket, 503, 'The server is at its connection limit; try again later.');
      return;
    }
    this.connectionCount++;
    this.pending.add(socket);
    // One shared listener finds its server on the socket: nothing allocated per connection.
    (socket as ServerSocket)[kServer] = this;
    socket.on('close', WebSocketServer.onSocketClose);
    readRequest(socket, this.options, this.options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, (request, head) => {
      this.pending.delete(socket);
      this.accept({ ...request, remoteAddress: socket.remoteAddress }, socket, head, undefined);
    });
  }

  private static onSocketClose(this: ServerSocket): void {
    const server = this[kServer];
    server.connectionCount--;
    server.pending.delete(this);
  }

  private accept(
    request: HttpRequest,
    socket: Duplex,
    head: Buffer,
    callback: ((socket: WebSocket, request: HttpRequest) => void) | undefined,
  ): void {
    upgrade(request, socket, this.options, (protocol) => {
      const ws = new WebSocket('server', this.options);
      ws.attach(socket, protocol, '');
      this.clients.add(ws);
      ws.owner = this.clients;
      if (callback !== undefined) callback(ws, request);
      else this.emit('connection', ws, request);
      ws.start(head);
    });
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function noop(): void {}
