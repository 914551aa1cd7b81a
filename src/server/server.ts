/**
 * WebSocketServer: accepts WebSocket connections, standalone on `net`/`tls` or embedded in a
 * `node:http` server through {@link WebSocketServer.handleUpgrade}.
 *
 * Standalone, it reads the opening handshake straight off the socket with the project's own
 * HTTP/1.1 head parser — no `node:http` request and response objects on the way. Both forms go
 * through the same lifecycle (src/connection/connection.ts): a connection is accepted only by it,
 * only after the hooks (src/server/hooks.ts) have answered, and never once `close()` has begun.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketError } from '../errors.js';
import { checkOptions, describeValue, rule } from '../options.js';
import { Connection, ReadyState, type ConnectionRole, type ServerPolicy, type UpgradeOffer } from '../connection/connection.js';
import { Driver, type DriverSettings, type ServerSlot } from '../driver.js';
import type { HeadParserOptions, RequestHead, UpgradeOptions } from '../handshake/index.js';
import { WebSocket, kServerSide, type ConnectionOptions, type SendData, type Tracker } from '../websocket.js';
import { broadcast, type SlowClientPolicy } from './broadcast.js';
import { callbackVerdict, readHttpResponse, readProtocol, readVerdict, runHook, type HttpResponse, type Verdict } from './hooks.js';
import { CONNECTION_FOREIGN, CONNECTION_RULES, driverSettings } from './settings.js';
import { UpgradeRequest, type HttpRequest } from './request.js';
import { serverCompression, type ServerDeflateOptions } from './compression.js';

export type { HttpResponse } from './hooks.js';
export type { HttpRequest } from './request.js';

/** What `verifyClient` answers: true to accept, false to refuse with 401, or a status of its choice. */
export type VerifyResult = boolean | { status: number; message?: string; headers?: Record<string, string> };

/**
 * What `verifyClient` is given: the request, with the fields of ws's `info` beside it (`origin`,
 * `secure`, and `req`, the request itself), so that both of ws's forms read what they expect.
 */
export interface VerifyInfo extends HttpRequest {
  origin: string | undefined;
  secure: boolean;
  req: HttpRequest;
}

/**
 * `verifyClient(request)` answering `true | false | { status, message?, headers? }` or a promise of
 * one; or ws's form `verifyClient(info, callback)` — a function declaring two parameters — that calls
 * `callback(result, code?, message?, headers?)`.
 */
export type VerifyClient = (
  info: VerifyInfo,
  callback: (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
) => VerifyResult | Promise<VerifyResult> | void;

/** Options of a {@link WebSocketServer}. Every connection also takes the {@link ConnectionOptions}. */
export interface ServerOptions extends ConnectionOptions, HeadParserOptions {
  /** Port to listen on; 0 picks a free one (see {@link WebSocketServer.address}). Default 0. */
  port?: number;
  /** Address to listen on. Default '127.0.0.1': listening on every interface is a choice to make, not a default. */
  host?: string;
  /** Accept upgrades only on this path (the URL without its query); others get 404. Default: any path. */
  path?: string;
  /** ms a client has to complete the opening handshake (TLS included) before it is dropped (slowloris). Default 10,000. */
  handshakeTimeout?: number;
  /** Most connections at once, counted from TCP accept (handshakes included); more are answered 503 with Retry-After. Default: no limit. */
  maxConnections?: number;
  /**
   * Most connections at once from one IP address, handshakes included; more are answered 429 with
   * Retry-After. Default: no limit. Behind a proxy every client has the proxy's address.
   */
  maxConnectionsPerAddress?: number;
  /** Most opening handshakes in progress at once from one IP address (silent sockets, slowloris); more get 429. Default: no limit. */
  maxHandshakesPerAddress?: number;
  /** TLS options (key, cert, …) to serve `wss://`. */
  tls?: tls.TlsOptions;
  /** Create no listener: connections come only through {@link WebSocketServer.handleUpgrade}. */
  noServer?: boolean;
  /**
   * An existing `node:http` or `node:https` server to share (ws's option): its 'upgrade' requests
   * become WebSocket connections, its other requests stay its own. No listener is created.
   */
  server?: HttpServer;
  /** ws's name: every open connection is always in `server.clients` (true or false are both accepted). */
  clientTracking?: boolean;
  /**
   * ws's subprotocol selector, `(protocols: Set<string>, request) => name | false`, called when the
   * client offered any. An alternative to a `protocols` function; give one or the other.
   */
  handleProtocols?: (protocols: Set<string>, request: HttpRequest) => string | false | Promise<string | false>;
  /**
   * Subprotocols by preference (the first one the client also offered is selected), or a function
   * that picks one of those offered — `(offered, request) => name | undefined`, sync or async
   * (RFC 6455 §4.2.2). Without it no subprotocol is selected.
   */
  protocols?: readonly string[] | ((offered: string[], request: HttpRequest) => string | undefined | Promise<string | undefined>);
  /** Origins allowed to connect (browsers send one), or a callback; others get 403. Default: any. */
  allowedOrigins?: UpgradeOptions['allowedOrigins'];
  /**
   * Last check before accepting, e.g. authentication from a cookie or header: `(request) => true |
   * false | { status, message?, headers? }`, or a promise of one. Also ws's form `(info, callback)`.
   * Anything else it answers, a throw or a rejection, refuses that client with 500 and is reported
   * as the server's `error`.
   */
  verifyClient?: VerifyClient;
  /** Serves plain HTTP requests (no Upgrade header), e.g. a page: `(request) => { status, headers?, body? }`; without it they get 426. */
  httpHandler?: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
  /**
   * permessage-deflate (RFC 7692). Default false, as in ws and uWebSockets: compression costs CPU
   * on every message and pays only for compressible data. `true` is the memory-bounded mode (no
   * context takeover either way: no zlib state held by an idle connection, and a broadcast is
   * compressed once); an object sets the parameters (`serverNoContextTakeover`,
   * `clientNoContextTakeover`, `serverMaxWindowBits`, `clientMaxWindowBits`) and the compressor
   * (`threshold` in bytes, default 1024; `level`; `memLevel`), with context takeover unless it says not.
   */
  perMessageDeflate?: boolean | ServerDeflateOptions;
  /**
   * What {@link WebSocketServer.broadcast} does with recipients that are not keeping up: one over
   * `maxBufferedAmount` (default 1 MiB) is skipped for that message ('skip', the default) or shed
   * ('close': its backlog dropped, closed with 1008); past `maxTotalBufferedAmount` for all
   * recipients together (default 64 MiB) the slowest are shed with 1013.
   */
  slowClient?: SlowClientPolicy;
}

/** Events of a {@link WebSocketServer}. */
export interface ServerEvents {
  connection: [socket: WebSocket, request: HttpRequest];
  listening: [];
  /**
   * A handshake that did not become a connection, and why: an invalid request (its 4xx), a refusal
   * by `verifyClient`, a limit (503, 429), the shutdown (503), a failed hook (500), or the handshake
   * timeout. `error.status` is what the client was answered (none for a timeout).
   */
  refused: [error: WebSocketError, address: string | undefined];
  /** A connection's own failure: the peer broke the protocol (1002, 1007, 1009), was too slow, stopped answering, or the socket failed. */
  connectionError: [error: WebSocketError, socket: WebSocket];
  /**
   * Right before a 101 is written (ws's event): `headers` are its lines, status line first; push
   * `'Name: value'` lines to add headers (e.g. a cookie). Lines already there cannot be changed.
   */
  headers: [headers: string[], request: HttpRequest];
  /** The server has closed: every client is gone. */
  close: [];
  /**
   * A listener error, or a hook that failed (code `WS_ERR_HOOK`, naming the hook and what it
   * answered). Without a listener, hook failures become process warnings: never a crash.
   */
  error: [error: Error];
}

const SERVER_RULES = {
  ...CONNECTION_RULES,
  port: rule.integer(0, 65535),
  host: rule.string,
  path: { accepts: 'a path starting with "/"', check: (v: unknown) => typeof v === 'string' && v.startsWith('/') },
  handshakeTimeout: rule.milliseconds(1),
  maxConnections: rule.integer(1),
  maxConnectionsPerAddress: rule.integer(1),
  maxHandshakesPerAddress: rule.integer(1),
  maxHeadSize: rule.bytes(1),
  maxHeaderCount: rule.integer(1),
  tls: rule.object,
  noServer: rule.boolean,
  server: {
    accepts: 'a node:http or node:https server',
    check: (v: unknown) => typeof v === 'object' && v !== null && typeof (v as { on?: unknown }).on === 'function' && typeof (v as { address?: unknown }).address === 'function',
  },
  clientTracking: rule.boolean,
  handleProtocols: rule.function,
  protocols: rule.either(rule.strings, rule.function),
  allowedOrigins: rule.either(rule.strings, rule.function),
  verifyClient: rule.function,
  httpHandler: rule.function,
  slowClient: rule.object,
  perMessageDeflate: rule.either(rule.boolean, rule.object),
};

/** ws's option names that do something else here, with what to use instead. */
const SERVER_FOREIGN = {
  ...CONNECTION_FOREIGN,
  skipUTF8Validation: 'is not supported: text is always validated (RFC 6455 §8.1).',
  backlog: 'is not supported: the listen backlog is Node\'s default.',
  WebSocket: "is not supported: connections are this package's WebSocket; add your own properties to them (as ws's heartbeat example does).",
};

const SLOW_CLIENT_RULES = { maxBufferedAmount: rule.bytes(0), policy: rule.oneOf('skip', 'close'), maxTotalBufferedAmount: rule.bytes(0) };

/** A connection in its opening handshake: its driver, and for `handleUpgrade`, node:http's request and the callback. */
interface Pending {
  driver: Driver;
  callback: ((ws: WebSocket, request: HttpRequest) => void) | undefined;
  request: IncomingMessage | undefined;
}


/** How long a client refused by a limit is told to wait (RFC 9110 §10.2.3), in seconds. */
const RETRY_AFTER = '5';

// (It is the drivers' HandshakeListener; no `implements` clause, so the published types show only the public API.)
export class WebSocketServer extends EventEmitter<ServerEvents> {
  /** Every OPEN or CLOSING connection of this server. */
  readonly clients = new Set<WebSocket>();
  /** Resolves once the server listens (at once with `noServer`); rejects if it cannot. */
  readonly ready: Promise<void>;
  private readonly options: ServerOptions;
  private readonly settings: DriverSettings;
  private readonly policy: ServerPolicy;
  private readonly compression: ReturnType<typeof serverCompression>;
  /** What every connection of this server is given: one object, shared. */
  private readonly connectionRole: ConnectionRole;
  private readonly listener: net.Server | undefined;
  private readonly secureContext: tls.SecureContext | undefined;
  /** The 'upgrade' listener on a shared `server`. */
  private readonly onShared: ((request: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined = undefined;
  private closed: Promise<void> | undefined;
  /** Connections in their opening handshake, by socket; `handleUpgrade` ones with their callback. */
  private readonly pending = new Map<Duplex, Pending>();
  private connectionCount = 0;
  private readonly addresses = new Map<string, ServerSlot>();
  private closing = false;
  /** What each connection reports to: the clients set, the 'connectionError' event. */
  private readonly tracker: Tracker = {
    report: (error, ws) => {
      if (this.listenerCount('connectionError') > 0) this.emit('connectionError', error, ws);
    },
    release: (ws) => {
      this.clients.delete(ws);
      this.freeSlot(ws.driver!.slot);
    },
  };

  /**
   * @param callback called once the server listens (ws's second argument): the 'listening' event.
   * @throws WebSocketError `WS_ERR_INVALID_OPTION` for an option of the wrong type, out of range, or unknown.
   */
  constructor(options: ServerOptions = {}, callback?: () => void) {
    super();
    checkOptions('new WebSocketServer()', options, SERVER_RULES, SERVER_FOREIGN);
    if (callback !== undefined) {
      if (typeof callback !== 'function') {
        throw new WebSocketError('WS_ERR_INVALID_OPTION', `new WebSocketServer(options, callback): callback must be a function; got ${describeValue(callback)}.`, { side: 'local' });
      }
      this.once('listening', callback);
    }
    checkOptions('new WebSocketServer(): slowClient', options.slowClient, SLOW_CLIENT_RULES);
    this.options = options;
    this.settings = driverSettings(options, options.handshakeTimeout);
    this.compression = serverCompression(options.perMessageDeflate, 'new WebSocketServer(): perMessageDeflate');
    this.policy = {
      perMessageDeflate: this.compression?.policy,
      maxHeadSize: options.maxHeadSize,
      maxHeaderCount: options.maxHeaderCount,
      path: options.path,
      allowedOrigins: options.allowedOrigins,
      protocols: typeof options.protocols === 'function' ? undefined : options.protocols,
      serveHttp: options.httpHandler !== undefined,
    };
    this.connectionRole = { role: 'server', policy: this.policy, maxPayload: options.maxPayload, compression: this.compression?.settings };
    if (options.protocols !== undefined && options.handleProtocols !== undefined) {
      throw new WebSocketError('WS_ERR_INVALID_OPTION', 'new WebSocketServer(): give protocols or handleProtocols, not both.', { side: 'local' });
    }
    if ([options.noServer === true, options.server !== undefined, options.port !== undefined].filter(Boolean).length > 1) {
      throw new WebSocketError('WS_ERR_INVALID_OPTION', 'new WebSocketServer(): give one of port, server and noServer.', { side: 'local' });
    }
    this.secureContext = undefined;
    this.listener = undefined;
    const shared = options.server;
    if (shared !== undefined) {
      // ws's `server` option: this server's upgrades are ours; everything else stays its own.
      this.onShared = (request, socket, head) => this.handleUpgrade(request, socket, head);
      shared.on('upgrade', this.onShared);
      this.ready = shared.listening ? Promise.resolve() : new Promise<void>((resolve) => shared.once('listening', () => resolve()));
      void this.ready.then(() => this.emit('listening'));
      return;
    }
    if (options.noServer === true) {
      this.ready = Promise.resolve();
      return;
    }
    // TLS is set up on each raw socket here rather than by a tls.Server, so that a connection counts
    // against maxConnections from TCP accept and its TLS handshake runs inside handshakeTimeout.
    if (options.tls !== undefined) this.secureContext = tls.createSecureContext(options.tls);
    const listener = net.createServer((socket) => this.onSocket(socket));
    this.listener = listener;
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

  /** The address the server listens on (the shared `server`'s, with that option). */
  address(): net.AddressInfo {
    const address = (this.listener ?? this.options.server)?.address();
    if (address === undefined || address === null || typeof address === 'string') {
      throw new WebSocketError('WS_ERR_NOT_LISTENING', 'The server is not listening (noServer, or not ready yet).', { side: 'local' });
    }
    return address;
  }

  /** The URL clients connect to, e.g. `ws://127.0.0.1:8080/`. */
  get url(): string {
    const { address, family, port } = this.address();
    const host = family === 'IPv6' ? `[${address}]` : address;
    const secure = this.secureContext !== undefined || this.options.server instanceof tls.Server;
    return `${secure ? 'wss' : 'ws'}://${host}:${port}${this.options.path ?? '/'}`;
  }

  /** Whether a request is for this server: the path matches (ws's method; a mismatch gets 404). */
  shouldHandle(request: { url?: string }): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    const url = request.url ?? '';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  /**
   * Completes the opening handshake of a request a `node:http` or `node:https` server received
   * (its `upgrade` event), with the same checks and hooks as the standalone server.
   *
   * @param callback receives the open connection; without one, the server emits `connection`.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback?: (socket: WebSocket, request: HttpRequest) => void): void {
    const driver = this.track(socket, callback, request);
    if (this.closing) {
      driver.refuse(503, 'The server is shutting down.', undefined, 'WS_ERR_SHUTTING_DOWN');
      return;
    }
    // The hooks and 'connection' get node:http's own request, with the peer's address beside it.
    if (!Object.hasOwn(request, 'remoteAddress')) {
      Object.defineProperty(request, 'remoteAddress', { value: request.socket.remoteAddress, enumerable: true });
    }
    // (A node:http server always sets method and url on the requests it receives.)
    if (this.settings.tracer !== undefined) driver.traceHead(headText(request));
    driver.receiveHead(request as IncomingMessage & RequestHead, head);
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
   * Stops accepting: from now on every handshake is answered 503, including those whose hooks are
   * still running; closes every client with 1001 (going away) and resolves when all are gone (then
   * `callback` is called and 'close' emitted). Clients that do not answer are dropped after their
   * `closeTimeout`. (ws 8 leaves its clients open; closing them is what a shutdown needs.) A shared
   * `server` is not closed: it stops handing over upgrades.
   */
  close(callback?: (error?: Error) => void): Promise<void> {
    this.closed ??= this.shutDown();
    if (callback !== undefined) void this.closed.then(() => callback());
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    if (this.onShared !== undefined) this.options.server!.off('upgrade', this.onShared);
    const listenerClosed = new Promise<void>((resolve) => {
      if (this.listener === undefined || !this.listener.listening) resolve();
      else this.listener.close(() => resolve());
    });
    for (const { driver } of [...this.pending.values()]) {
      // A request that was read and waits for its hooks gets its answer: 503. A socket that has not
      // sent a whole request (or not finished TLS) has asked nothing yet: it is dropped.
      if (driver.awaitingVerdict) driver.refuse(503, 'The server is shutting down.', undefined, 'WS_ERR_SHUTTING_DOWN');
      else driver.terminate();
    }
    const gone = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.once('close', () => resolve());
          client.close(1001, 'Server shutting down');
        }),
    );
    await Promise.all([listenerClosed, ...gone]);
    this.emit('close');
  }

  // ---- the opening handshake (HandshakeListener) --------------------------------------------------

  /** @internal A valid upgrade request: run the hooks, then accept (or refuse). */
  onUpgrade(driver: Driver, request: RequestHead, offer: UpgradeOffer): void {
    const req = this.requestOf(driver, request);
    const verify = this.options.verifyClient;
    if (verify === undefined) return this.selectProtocol(driver, req, offer);
    // ws's info fields beside the request's own (read through to it, nothing copied).
    const info = Object.assign(Object.create(req) as HttpRequest, { origin: offer.origin, secure: driver.socket instanceof tls.TLSSocket, req }) as VerifyInfo;
    let verdict: Verdict | Promise<Verdict>;
    if (verify.length >= 2) {
      // ws's form: verifyClient(info, callback).
      verdict = callbackVerdict(verify as (info: unknown, cb: (...args: unknown[]) => void) => unknown, info);
    } else {
      const outcome = runHook(() => (verify as (info: VerifyInfo) => unknown)(info));
      verdict = outcome instanceof Promise ? outcome.then(readVerdict) : readVerdict(outcome);
    }
    const decide = (v: Verdict): void => {
      if (this.stillDeciding(driver)) {
        if (v.accept) this.selectProtocol(driver, req, offer);
        else if ('error' in v) this.hookFailed(driver, v.error);
        else this.refuseWith(driver, v.refusal.status, v.refusal.message, v.refusal.headers);
      }
    };
    if (verdict instanceof Promise) void verdict.then(decide);
    else decide(verdict);
  }

  /** @internal A plain HTTP request, and an httpHandler to answer it. */
  onHttp(driver: Driver, request: RequestHead): void {
    const req = this.requestOf(driver, request);
    const answer = (outcome: Parameters<typeof readHttpResponse>[0]): void => {
      if (!this.stillDeciding(driver)) return;
      const read = readHttpResponse(outcome);
      if ('error' in read) return this.hookFailed(driver, read.error);
      try {
        // HEAD: the GET response's Content-Length without its body (RFC 9110 §9.3.2).
        driver.respond(read.response, request.method === 'HEAD');
      } catch (cause) {
        // A status or header the handler got wrong (e.g. CR LF in a value): its failure, not a crash.
        this.hookFailed(driver, hookErrorFrom('httpHandler', cause));
      }
    };
    const outcome = runHook(() => this.options.httpHandler!(req));
    if (outcome instanceof Promise) void outcome.then(answer);
    else answer(outcome);
  }

  /** @internal The handshake failed (the error response, if any, is on its way); the socket's 'close' releases the slot. */
  onRefused(driver: Driver, error: WebSocketError): void {
    if (this.listenerCount('refused') > 0) this.emit('refused', error, (driver.socket as net.Socket).remoteAddress);
  }

  private selectProtocol(driver: Driver, req: HttpRequest, offer: UpgradeOffer): void {
    const { protocols, handleProtocols } = this.options;
    let outcome: ReturnType<typeof runHook>;
    if (typeof protocols === 'function') {
      outcome = runHook(() => protocols([...offer.offeredProtocols], req));
    } else if (handleProtocols !== undefined && offer.offeredProtocols.length > 0) {
      // ws's selector: a Set of what was offered; false for none.
      outcome = runHook(() => handleProtocols(new Set(offer.offeredProtocols), req));
    } else {
      return this.accept(driver, req, offer, offer.protocol ?? '');
    }
    const chosen = (o: Parameters<typeof readProtocol>[0]): void => {
      if (!this.stillDeciding(driver)) return;
      const read = readProtocol(o, offer.offeredProtocols);
      if ('error' in read) this.hookFailed(driver, read.error);
      else this.accept(driver, req, offer, read.protocol);
    };
    if (outcome instanceof Promise) void outcome.then(chosen);
    else chosen(outcome);
  }

  /** The only way in: the lifecycle accepts, the connection gets its facade, then 'connection'. */
  private accept(driver: Driver, req: HttpRequest, offer: UpgradeOffer, protocol: string): void {
    let headers: Record<string, string> | undefined;
    if (this.listenerCount('headers') > 0) {
      // ws's 'headers' event: the lines of the 101; lines pushed onto them become extra headers.
      const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${offer.accept}`];
      if (protocol !== '') lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
      const fixed = lines.length;
      this.emit('headers', lines, req);
      headers = {};
      for (const line of lines.slice(fixed)) {
        const colon = line.indexOf(':');
        headers[colon === -1 ? line : line.slice(0, colon).trim()] = colon === -1 ? '' : line.slice(colon + 1).trim();
      }
    }
    const ws = new WebSocket(kServerSide);
    // Known before 'connection' is emitted, as in ws.
    ws.protocol = protocol;
    ws.extensions = offer.deflate?.response ?? '';
    ws.driver = driver;
    ws.tracker = this.tracker;
    ws.textAsBuffer = this.options.textAsBuffer === true;
    try {
      driver.accept(protocol, headers);
    } catch (cause) {
      // A header a 'headers' listener added that cannot be sent (a bad name, CR LF, a reserved one).
      return this.hookFailed(driver, hookErrorFrom("the 'headers' event's listener", cause));
    }
    const entry = this.pending.get(driver.socket)!;
    this.pending.delete(driver.socket);
    if (driver.slot !== undefined) driver.slot.handshakes--;
    driver.owner = ws;
    driver.handshake = undefined;
    this.clients.add(ws);
    if (entry.callback !== undefined) entry.callback(ws, req);
    else this.emit('connection', ws, req);
    driver.start();
  }

  /**
   * Whether a hook's answer still matters: the client is still waiting. (Once close() has begun,
   * every waiting handshake has been answered 503, so a late 'yes' finds it no longer CONNECTING.)
   */
  private stillDeciding(driver: Driver): boolean {
    return driver.conn.state === ReadyState.CONNECTING;
  }

  private refuseWith(driver: Driver, status: number, message: string, headers: Record<string, string> | undefined): void {
    try {
      driver.refuse(status, message, headers);
    } catch (cause) {
      // Headers with CR or LF in them (response splitting), say: the hook's mistake, not a crash.
      this.hookFailed(driver, hookErrorFrom('verifyClient', cause));
    }
  }

  private hookFailed(driver: Driver, error: WebSocketError): void {
    driver.refuse(500, 'The server failed to check this request.', undefined, 'WS_ERR_HOOK');
    this.emitError(error);
  }

  /** The one request object a handshake's hooks and 'connection' get: node:http's when embedded, else ours. */
  private requestOf(driver: Driver, head: RequestHead): HttpRequest {
    // (node:http sets method and url on every request it receives.)
    return (this.pending.get(driver.socket)?.request as (IncomingMessage & HttpRequest) | undefined) ?? new UpgradeRequest(head, driver.socket as net.Socket);
  }

  // ---- sockets ------------------------------------------------------------------------------------

  private onSocket(raw: net.Socket): void {
    // A socket may fail at any moment (a reset): its 'close' follows; never the server's 'error'.
    // (The driver listens on a plain socket; under TLS the raw one needs a listener of its own.)
    if (this.secureContext !== undefined) raw.on('error', noop);
    // Counted from TCP accept, before TLS: a client that never finishes its TLS handshake holds a
    // slot as any other, and its handshake runs inside handshakeTimeout.
    this.connectionCount++;
    /* c8 ignore next -- remoteAddress is undefined only for a socket already reset when 'connection' runs */
    const address = raw.remoteAddress ?? '';
    let count = this.addresses.get(address);
    if (count === undefined) this.addresses.set(address, (count = { address, connections: 0, handshakes: 0 }));
    count.connections++;
    count.handshakes++;
    const socket = this.secureContext === undefined ? raw : new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext });
    const driver = this.track(socket, undefined);
    driver.slot = count;
    const o = this.options;
    if (this.connectionCount > (o.maxConnections ?? Infinity)) {
      driver.refuse(503, 'The server is at its connection limit; try again later.', { 'Retry-After': RETRY_AFTER }, 'WS_ERR_CONNECTION_LIMIT');
    } else if (count.connections > (o.maxConnectionsPerAddress ?? Infinity) || count.handshakes > (o.maxHandshakesPerAddress ?? Infinity)) {
      driver.refuse(429, 'Too many connections from your address; try again later.', { 'Retry-After': RETRY_AFTER }, 'WS_ERR_ADDRESS_LIMIT');
    }
  }

  /** A connection in its opening handshake, under the server's eye until it is accepted or gone. */
  private track(socket: Duplex, callback: ((ws: WebSocket, request: HttpRequest) => void) | undefined, request?: IncomingMessage): Driver {
    const conn = new Connection(this.connectionRole);
    const driver = new Driver(socket, conn, this.settings, undefined, this);
    this.pending.set(socket, { driver, callback, request });
    return driver;
  }

  /** @internal A connection closed during its handshake (the driver tells; no listener per socket). */
  onClosed(driver: Driver): void {
    this.pending.delete(driver.socket);
    if (driver.slot !== undefined) driver.slot.handshakes--;
    this.freeSlot(driver.slot);
  }

  /** A standalone connection is gone: its slot, and its address's, are free. */
  private freeSlot(slot: ServerSlot | undefined): void {
    if (slot === undefined) return;
    this.connectionCount--;
    slot.connections--;
    if (slot.connections === 0) this.addresses.delete(slot.address);
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else if (error instanceof WebSocketError && error.code === 'WS_ERR_HOOK') process.emitWarning(error);
  }
}

/** What a response builder threw (always a WebSocketError: a bad status or header) as the hook's failure. */
function hookErrorFrom(hook: string, cause: unknown): WebSocketError {
  const message = (cause as WebSocketError).message;
  return new WebSocketError('WS_ERR_HOOK', `${hook} answered something that cannot be sent: ${message}`, { status: 500, side: 'local', cause });
}

/** node:http's request head as its bytes came (for the trace: node:http read them, not us). */
function headText(request: IncomingMessage): string {
  let text = `${request.method} ${request.url} HTTP/${request.httpVersion}\r\n`;
  for (let i = 0; i < request.rawHeaders.length; i += 2) text += `${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`;
  return `${text}\r\n`;
}

/* c8 ignore next -- a guard: Node's TLS wrap takes the raw socket's handle, so its resets surface on the TLSSocket (tried: a reset mid-ClientHello and before it); the raw socket's own 'error' would otherwise be uncaught */
function noop(): void {}
