/**
 * The socket driver: binds one {@link Connection} (the pure lifecycle) to one socket — a `net` or
 * `tls` socket, or the Duplex a `node:http` server hands over on 'upgrade'.
 *
 * It does what waits and nothing that decides:
 * - reads: every chunk goes into the connection; the events it queues are handed to the owner (the
 *   server while the handshake runs, the {@link WebSocket} facade once it is open);
 * - writes: what the connection queued leaves in as few writes as possible (one per read handled,
 *   or per tick of sends), corked for writev; nothing more is written to a socket that has not
 *   drained — the bytes wait in the outbox, where they are counted;
 * - backpressure: reading pauses while the peer does not take what we write;
 * - timers, through the process's one sweep (src/sweep.ts): the opening handshake, the closing
 *   handshake, the heartbeat, and the deadline of a frame or message that has started.
 */
import type { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { WebSocketError, type ErrorCode } from './errors.js';
import { Connection, ReadyState, type ConnectionEvent, type UpgradeOffer } from './connection/connection.js';
import type { RequestHead, ResponseHead } from './handshake/index.js';
import { arm, disarm, now, type Timed } from './sweep.js';
import { Watch, type Tracer } from './trace.js';

/** The timers and limits of a driver, resolved once per server or client (never per connection). */
export interface DriverSettings {
  /** ms for the opening handshake (server: from accept; client: from connect). */
  readonly handshakeTimeout: number;
  /** ms to wait for the peer's side of the closing handshake, or for its FIN, before destroying. */
  readonly closeTimeout: number;
  /** ms between liveness checks, 0 for none; a check with nothing heard since the last one sends a Ping. */
  readonly heartbeatInterval: number;
  /** ms the Ping's answer (a Pong, or any complete frame) may take before the socket is dropped (1006). */
  readonly heartbeatTimeout: number;
  /** Buffered outgoing bytes above which `send` returns false and reading pauses. */
  readonly highWaterMark: number;
  /** ms a frame or message that has started may take, before the allowance for its size; 0 for no limit. */
  readonly frameTimeout: number;
  /** Bytes per second a started frame or message must at least arrive at: each byte received extends its deadline by 1/rate s. */
  readonly minReceiveRate: number;
  /** Where the `trace` option sends what it sees; undefined when not tracing. */
  readonly tracer?: Tracer;
}

/** The watchers of traced connections (none when not tracing: no field on every driver). */
const watches = new WeakMap<Driver, Watch>();

/** Connections and handshakes in progress from one address: a standalone server's count, kept on its drivers. */
export interface ServerSlot {
  address: string;
  connections: number;
  handshakes: number;
}

/** Who decides a server connection's opening handshake (the server). */
export interface HandshakeListener {
  /** A valid upgrade request awaits accept() or refuse(). */
  onUpgrade(driver: Driver, request: RequestHead, offer: UpgradeOffer): void;
  /** A plain HTTP request awaits respond(). */
  onHttp(driver: Driver, request: RequestHead): void;
  /** The opening handshake failed (the error response is on its way). */
  onRefused(driver: Driver, error: WebSocketError): void;
  /** The socket closed before the connection was accepted. */
  onClosed(driver: Driver): void;
}

/** Who hears what an open connection reports (the WebSocket facade); a client's from its first byte. */
export interface DriverOwner {
  /** Client: the server's answer was not a valid 101. */
  onRefused(error: WebSocketError): void;
  onOpen(protocol: string, extensions: string, response: ResponseHead | undefined): void;
  onMessage(data: Buffer, isBinary: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** The peer broke the protocol, or the transport failed. */
  onError(error: WebSocketError): void;
  onClosed(code: number, reason: string, wasClean: boolean): void;
  onDrain(): void;
}

/** How long a refused client may keep the socket after our response before it is destroyed. */
const LINGER_MS = 2_000;

/** The driver a socket belongs to: one set of listener functions serves every socket. */
const kDriver = Symbol('simpatico-ws:driver');
type BoundSocket = Duplex & { [kDriver]: Driver };

/** No deadline. */
const NEVER = -1;

/** What the one phase timer (`phaseAt`) is waiting for. */
const NONE = 0;
const HANDSHAKE = 1;
const PING_DUE = 2;
const PONG_DUE = 3;
const CLOSING = 4;

export class Driver implements Timed {
  readonly conn: Connection;
  readonly socket: Duplex;
  /** The facade; a server connection gets one when it is accepted. */
  owner: DriverOwner | undefined;
  /** The server deciding the handshake (server connections only). */
  handshake: HandshakeListener | undefined;
  /** A standalone server's count for this connection's address (it counts against the limits). */
  slot: ServerSlot | undefined = undefined;
  /**
   * The earliest of the deadlines below, or NEVER: what the sweep looks at. (Times are small
   * integers, as `now()` gives them, and NEVER is -1 rather than Infinity: an Infinity in a field is
   * a heap number, two of them per connection.)
   */
  deadline = NEVER;
  private readonly settings: DriverSettings;
  private phase = NONE;
  private phaseAt = NEVER;
  /** When the frame or message now in progress started, or -1; and the bytes read since. */
  private progressSince = -1;
  private progressBytes = 0;
  /** Something complete arrived (a message, a ping, a pong) since the last liveness check. */
  private heard = false;
  /**
   * Events after 'open' are handed to the owner only once it listens (after 'connection', or after
   * `connect` resolved): no message is delivered before anyone can listen.
   */
  private started = false;
  private opened = false;
  private pumping = false;
  private flushScheduled = false;
  private readPausedForWrite = false;
  private pausedByUser = false;
  private needDrain = false;
  /** Callbacks of sends whose bytes are queued and not yet written (made on first need). */
  private writeCallbacks: ((error?: Error) => void)[] | undefined;

  constructor(
    socket: Duplex,
    conn: Connection,
    settings: DriverSettings,
    owner: DriverOwner | undefined,
    handshake: HandshakeListener | undefined,
  ) {
    this.socket = socket;
    this.conn = conn;
    this.owner = owner;
    this.handshake = handshake;
    this.settings = settings;
    // Small messages are latency-bound; Nagle's algorithm would hold them back.
    if (socket instanceof Socket) socket.setNoDelay(true);
    (socket as BoundSocket)[kDriver] = this;
    // Shared listeners that find their driver on the socket: no closures per connection, which
    // would be most of what an idle connection costs.
    socket.on('data', Driver.onSocketData);
    socket.on('end', Driver.onSocketEnd);
    socket.on('close', Driver.onSocketClose);
    socket.on('error', Driver.onSocketError);
    socket.on('drain', Driver.onSocketDrain);
    if (conn.state === ReadyState.CONNECTING) this.setPhase(HANDSHAKE, settings.handshakeTimeout);
    if (settings.tracer !== undefined) watches.set(this, new Watch(conn.role, socket as Socket, settings.tracer));
  }

  /** Server, embedded: the request head node:http read, shown to the trace as it came. */
  traceHead(lines: string): void {
    watches.get(this)?.read(Buffer.from(lines, 'latin1'));
  }

  /** Buffered outgoing bytes: queued in the outbox and in the socket, not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.conn.outgoingBytes + this.socket.writableLength;
  }

  /** Server: a request was read and waits for accept(), refuse() or respond(). */
  get awaitingVerdict(): boolean {
    return this.conn.awaitingVerdict;
  }

  get isPaused(): boolean {
    return this.pausedByUser;
  }

  /**
   * Hands queued events to the owner from now on. The server calls it after emitting 'connection',
   * the client after `connect` resolved: no message is delivered before anyone can listen.
   */
  start(): void {
    this.started = true;
    this.pump();
    if (!this.pausedByUser && !this.readPausedForWrite && this.conn.state !== ReadyState.CLOSED) this.socket.resume();
  }

  /** Server, embedded in node:http: the request head node:http parsed, and the bytes after it. */
  receiveHead(request: RequestHead, rest: Buffer): void {
    this.conn.receiveHead(request, rest);
    this.pump();
  }

  /** Server: accept the upgrade; the 101 goes out. */
  accept(protocol: string, headers?: Record<string, string>): void {
    this.conn.accept({ protocol: protocol === '' ? undefined : protocol, headers });
    this.settle();
  }

  /** Server: refuse the upgrade or plain request with an HTTP error response. */
  refuse(status: number, message: string, headers?: Record<string, string>, code?: ErrorCode): void {
    this.conn.refuse(status, message, headers, code);
    this.settle();
  }

  /** Server: answer a plain HTTP request. */
  respond(response: { status: number; headers?: Record<string, string>; body?: string | Buffer }, head: boolean): void {
    this.conn.respond(response, head);
    this.settle();
  }

  pause(): void {
    this.pausedByUser = true;
    this.socket.pause();
  }

  resume(): void {
    this.pausedByUser = false;
    if (!this.readPausedForWrite && this.conn.state !== ReadyState.CONNECTING) this.socket.resume();
  }

  /**
   * Sheds a recipient that is not keeping up: what waits in the outbox is dropped (that is the
   * memory being reclaimed), the connection fails with `error`'s close code and TCP ends.
   */
  shed(error: WebSocketError): void {
    this.conn.outbox.clear();
    this.conn.fail(error, error.message);
    this.owner?.onError(error);
    this.settle();
  }

  /** Destroys the socket at once, without a closing handshake (the close reports 1006). */
  terminate(): void {
    this.socket.destroy();
  }

  /**
   * Called after a verb of the facade queued something: it leaves right after the current task, or
   * at the end of the read being handled, together with everything else queued meanwhile. A
   * `callback` is called once those bytes are written to the socket (or with the error that stopped them).
   * @returns false when the buffered bytes are over the high-water mark (wait for `drain`).
   */
  afterSend(callback: ((error?: Error) => void) | undefined): boolean {
    if (callback !== undefined) (this.writeCallbacks ??= []).push(callback);
    if (!this.pumping && !this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(Driver.flushSoon, this);
    }
    const ok = this.bufferedAmount < this.settings.highWaterMark;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Handles what a verb queued (close, fail) and writes it. */
  settle(): void {
    this.pump();
  }

  /** The sweep found a deadline passed. */
  expire(time: number): void {
    const conn = this.conn;
    if (this.progressSince >= 0 && time >= this.progressDeadline()) {
      this.progressSince = -1;
      const error = new WebSocketError('WS_ERR_TOO_SLOW', 'A frame or message was not completed in time (frameTimeout, minReceiveRate).', {
        closeCode: 1008,
        side: 'remote',
      });
      conn.fail(error);
      this.owner?.onError(error);
      this.settle();
    }
    if (this.phaseAt !== NEVER && time >= this.phaseAt) {
      switch (this.phase) {
        case HANDSHAKE: {
          // The opening handshake did not finish in time (a slowloris client, a silent server).
          this.setPhase(NONE, 0);
          const ms = this.settings.handshakeTimeout;
          const error = new WebSocketError('WS_ERR_HANDSHAKE_TIMEOUT', `No opening handshake within ${ms} ms (handshakeTimeout).`, { side: 'remote' });
          if (this.handshake !== undefined) this.handshake.onRefused(this, error);
          else this.owner?.onRefused(error);
          this.socket.destroy();
          break;
        }
        case CLOSING:
          // The peer did not finish its side of the closing handshake (or did not take our FIN).
          this.setPhase(NONE, 0);
          this.socket.destroy();
          break;
        case PING_DUE:
          if (this.heard) {
            this.heard = false;
            this.setPhase(PING_DUE, this.settings.heartbeatInterval);
          } else {
            // (Only an OPEN connection is in this phase: closing moves it to CLOSING.)
            conn.ping(EMPTY);
            this.setPhase(PONG_DUE, this.settings.heartbeatTimeout);
            this.flush();
          }
          break;
        case PONG_DUE:
          if (this.heard) {
            this.heard = false;
            this.setPhase(PING_DUE, this.settings.heartbeatInterval);
          } else {
            // No answer at all: the peer (or the path to it) is gone, and a Close frame would go
            // nowhere. Drop the socket; the close reports 1006.
            this.setPhase(NONE, 0);
            const ms = this.settings.heartbeatTimeout;
            this.owner?.onError(new WebSocketError('WS_ERR_HEARTBEAT_TIMEOUT', `The peer answered no heartbeat Ping within ${ms} ms (heartbeatTimeout).`, { side: 'remote' }));
            this.socket.destroy();
          }
          break;
      }
    }
    this.updateDeadline();
  }

  // ---- reading ------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.settings.tracer !== undefined) watches.get(this)?.read(chunk);
    const conn = this.conn;
    conn.receive(chunk);
    if (conn.state === ReadyState.OPEN || conn.state === ReadyState.CLOSING) this.trackProgress(chunk.length);
    this.pump();
  }

  /**
   * A frame or message that has started must finish within `frameTimeout` plus 1 s per
   * `minReceiveRate` bytes received since it started (a deadline and a floor rate, as Apache's
   * mod_reqtimeout): a peer trickling a frame a byte at a time is closed, a slow but steady one is not.
   */
  private trackProgress(bytes: number): void {
    if (this.settings.frameTimeout === 0) return;
    if (this.conn.inProgress) {
      if (this.progressSince < 0) {
        this.progressSince = now();
        this.progressBytes = 0;
      } else {
        this.progressBytes += bytes;
      }
      this.updateDeadline();
    } else if (this.progressSince >= 0) {
      this.progressSince = -1;
      this.updateDeadline();
    }
  }

  private progressDeadline(): number {
    return Math.ceil(this.progressSince + this.settings.frameTimeout + (this.progressBytes * 1000) / this.settings.minReceiveRate);
  }

  // ---- events -------------------------------------------------------------------------------------

  /** Hands the connection's queued events to the owner, in order, then writes what they queued. */
  private pump(): void {
    if (this.pumping) return;
    const conn = this.conn;
    this.pumping = true;
    try {
      for (;;) {
        if (this.opened && !this.started) {
          // Held until start(); reading waits too, so what is held stays one read's worth.
          this.socket.pause();
          break;
        }
        const event = conn.nextEvent();
        if (event === undefined) break;
        this.handle(event);
      }
    } catch (error) {
      // A listener of ours threw (user code in a 'message' handler): the connection cannot go on
      // in a known state, so fail it with 1011 (§7.4.1), and rethrow so the bug is not hidden.
      conn.discardEvents();
      this.pumping = false;
      conn.fail(new WebSocketError('WS_ERR_LISTENER', 'A listener threw.', { closeCode: 1011, side: 'local', cause: error }));
      this.pump();
      throw error;
    }
    this.pumping = false;
    this.flush();
  }

  private handle(event: ConnectionEvent): void {
    // Between the verdict and 'connection' a server connection has no facade yet: nothing is lost,
    // since events after 'open' wait for start(), by which time it has one.
    const owner = this.owner!;
    switch (event.type) {
      case 'message':
        this.heard = true;
        owner.onMessage(event.data, event.isBinary);
        break;
      case 'ping':
        this.heard = true;
        owner.onPing(event.payload);
        break;
      case 'pong':
        this.heard = true;
        owner.onPong(event.payload);
        break;
      case 'close':
        // The peer's Close: the connection answered it; 'end' or 'expect-close' follows.
        this.heard = true;
        break;
      case 'open':
        this.opened = true;
        if (this.settings.heartbeatInterval > 0) this.setPhase(PING_DUE, this.settings.heartbeatInterval);
        else this.setPhase(NONE, 0);
        this.owner?.onOpen(event.protocol, event.extensions, event.response);
        break;
      case 'upgrade':
        // Nothing more is read while the verdict is pending: the server's hooks may take a while.
        this.socket.pause();
        this.handshake!.onUpgrade(this, event.request, event.offer);
        break;
      case 'http':
        this.socket.pause();
        this.handshake!.onHttp(this, event.request);
        break;
      case 'refused':
        if (this.handshake !== undefined) this.handshake.onRefused(this, event.error);
        else owner.onRefused(event.error);
        break;
      case 'error':
        owner.onError(event.error);
        break;
      case 'expect-close':
        this.setPhase(CLOSING, this.settings.closeTimeout);
        break;
      case 'end':
        this.end();
        break;
      case 'closed':
        this.setPhase(NONE, 0);
        this.progressSince = -1;
        this.updateDeadline();
        this.owner?.onClosed(event.code, event.reason, event.wasClean);
        break;
    }
  }

  /** Writes what is queued, then ends TCP; a peer that never acknowledges must not keep the socket. */
  private end(): void {
    // Everything queued goes before the FIN, drained or not: the Close frame is last in it.
    this.flush(true);
    const socket = this.socket;
    if (!socket.writableEnded) {
      socket.end();
      if (this.settings.tracer !== undefined) watches.get(this)?.ended(true);
    }
    if (this.conn.state === ReadyState.CLOSED) {
      // A refused handshake: a lingering close (RFC 9112 §9.6) — keep reading and discarding until
      // the client closes too, so its FIN is seen and the socket freed at once.
      socket.resume();
      this.setPhase(CLOSING, LINGER_MS);
    } else {
      this.setPhase(CLOSING, this.settings.closeTimeout);
    }
  }

  // ---- writing ------------------------------------------------------------------------------------

  /**
   * Writes what the connection queued, in as few writes as the outbox allows; while the socket has
   * not drained it keeps the bytes, unless `all` (the connection is ending).
   */
  flush(all = false): void {
    const conn = this.conn;
    const socket = this.socket;
    if (conn.outgoingBytes === 0 || socket.destroyed || socket.writableEnded) return;
    if (socket.writableNeedDrain && !all) {
      // The socket has not drained: adding to its queue would hide bytes from our accounting and
      // grow memory we do not bound. They wait in the outbox, in memory of their own, until 'drain'.
      conn.outbox.hold();
      return;
    }
    // Writes already waiting in the socket's queue mean these will wait too: detach them from the
    // shared slab, or each would pin 64 KiB for a peer that does not read.
    const chunks = conn.takeOutgoing(socket.writableLength > 0);
    // The callbacks of these bytes' sends hear when the last of them is written.
    const callbacks = this.writeCallbacks;
    this.writeCallbacks = undefined;
    const done = callbacks === undefined ? undefined : (error?: Error | null) => {
      // Node calls a corked batch's callbacks without an error when the socket is destroyed before
      // writing it: a destroyed socket means the bytes never went out.
      const failed = error ?? (socket.destroyed ? notWritten() : undefined);
      for (const callback of callbacks) callback(failed);
    };
    if (this.settings.tracer !== undefined) for (const chunk of chunks) watches.get(this)?.wrote(chunk);
    if (chunks.length === 1) {
      socket.write(chunks[0], done);
    } else {
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      socket.write(chunks[last], done);
      socket.uncork();
    }
    // Backpressure on the read side: while the peer does not take what we write (our echoes,
    // pongs, broadcasts), stop reading what it sends, so its requests cannot pile up here.
    if (this.bufferedAmount > this.settings.highWaterMark && !this.readPausedForWrite) {
      this.readPausedForWrite = true;
      socket.pause();
    }
  }

  private onDrain(): void {
    this.flush();
    if (this.socket.writableNeedDrain) return;
    if (this.readPausedForWrite && this.bufferedAmount <= this.settings.highWaterMark) {
      this.readPausedForWrite = false;
      if (!this.pausedByUser) this.socket.resume();
    }
    if (this.needDrain && this.bufferedAmount < this.settings.highWaterMark) {
      this.needDrain = false;
      this.owner?.onDrain();
    }
  }

  private onEnd(): void {
    if (this.settings.tracer !== undefined) watches.get(this)?.ended(false);
    // The peer sent FIN. Sockets from a node:http server allow half-open connections; ours never do.
    if (!this.socket.writableEnded) {
      this.flush();
      this.socket.end();
    }
  }

  private onClose(): void {
    // Sends still waiting in the outbox will never be written.
    const callbacks = this.writeCallbacks;
    this.writeCallbacks = undefined;
    if (callbacks !== undefined) {
      const error = notWritten();
      for (const callback of callbacks) callback(error);
    }
    this.conn.transportClosed();
    if (this.settings.tracer !== undefined) watches.get(this)?.closed();
    disarm(this);
    this.handshake?.onClosed(this);
    this.pump();
  }

  private onError(error: Error): void {
    const state = this.conn.state;
    if (state === ReadyState.CONNECTING) {
      // A server's handshake: a reset or a TLS alert ends that socket, nothing more ('close' follows).
      // A client's: the connection could not be made, or broke before the 101.
      if (this.handshake === undefined) {
        this.owner?.onRefused(new WebSocketError('WS_ERR_CONNECT', `Could not connect: ${error.message}`, { side: 'remote', cause: error }));
      }
      return;
    }
    if (state === ReadyState.CLOSED) return;
    this.owner?.onError(new WebSocketError('WS_ERR_TRANSPORT', `The connection failed: ${error.message}`, { side: 'remote', cause: error }));
  }

  // ---- timers -------------------------------------------------------------------------------------

  private setPhase(phase: number, timeout: number): void {
    this.phase = phase;
    this.phaseAt = phase === NONE ? NEVER : now() + Math.ceil(timeout);
    this.updateDeadline();
  }

  private updateDeadline(): void {
    const progress = this.progressSince < 0 ? NEVER : this.progressDeadline();
    const phase = this.phaseAt;
    const deadline = progress === NEVER ? phase : phase === NEVER || progress < phase ? progress : phase;
    if (deadline === this.deadline) return;
    const wasArmed = this.deadline !== NEVER;
    this.deadline = deadline;
    if (deadline === NEVER) disarm(this);
    else if (!wasArmed) arm(this, this.shortestTimeout());
  }

  private shortestTimeout(): number {
    const s = this.settings;
    let shortest = Math.min(s.handshakeTimeout, s.closeTimeout, LINGER_MS);
    if (s.heartbeatInterval > 0) shortest = Math.min(shortest, s.heartbeatInterval, s.heartbeatTimeout);
    if (s.frameTimeout > 0) shortest = Math.min(shortest, s.frameTimeout);
    return shortest;
  }

  private static flushSoon(driver: Driver): void {
    driver.flushScheduled = false;
    driver.flush();
  }

  private static onSocketData(this: BoundSocket, chunk: Buffer): void {
    this[kDriver].onData(chunk);
  }

  private static onSocketEnd(this: BoundSocket): void {
    this[kDriver].onEnd();
  }

  private static onSocketClose(this: BoundSocket): void {
    this[kDriver].onClose();
  }

  private static onSocketError(this: BoundSocket, error: Error): void {
    this[kDriver].onError(error);
  }

  private static onSocketDrain(this: BoundSocket): void {
    this[kDriver].onDrain();
  }
}

const EMPTY = Buffer.alloc(0);

function notWritten(): WebSocketError {
  return new WebSocketError('WS_ERR_NOT_OPEN', 'The connection closed before the data was written.', { side: 'local' });
}
