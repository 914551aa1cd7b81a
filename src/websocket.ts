/**
 * The WebSocket connection object, for both roles.
 *
 * A thin binding: every rule lives in the pure {@link Protocol}; this class moves bytes between it
 * and a socket, runs the timers (close timeout, heartbeat), applies backpressure in both
 * directions, and turns the protocol's findings into events.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import { WebSocketError } from './errors.js';
import { Protocol, ReadyState, type ProtocolEvents } from './connection/protocol.js';

/** Options every connection takes, from the server or from {@link connect}. */
export interface ConnectionOptions {
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** Most fragments one incoming message may have; more closes with 1009. Default: the codec's. */
  maxFragments?: number;
  /**
   * Milliseconds to wait for the peer's side of the closing handshake before the socket is
   * destroyed (the close then reports 1006). Default 10,000.
   */
  closeTimeout?: number;
  /**
   * Milliseconds between heartbeats, 0 for none (the default). Each beat sends a Ping; a peer from
   * which nothing at all arrived since the previous beat is considered gone and the socket is
   * destroyed, which frees half-open connections.
   */
  heartbeatInterval?: number;
  /**
   * Buffered outgoing bytes above which `send` returns false and reading pauses until the socket
   * drains: a peer that does not read cannot make this side's memory grow. Default 1 MiB.
   */
  highWaterMark?: number;
}

/** Events of a {@link WebSocket}, with their arguments. */
export interface WebSocketEvents {
  open: [];
  /** Text messages arrive as a string, binary ones as a Buffer. */
  message: [data: string | Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** The connection is CLOSED: the code and reason of the peer's Close (1005 if it had none), 1006 if TCP broke. */
  close: [code: number, reason: string, wasClean: boolean];
  /** A protocol error of the peer, or a transport error. Emitted only when someone listens. */
  error: [error: WebSocketError];
  /** The outgoing buffer drained after `send` returned false. */
  drain: [];
}

/** Data a WebSocket can send. Strings go as text, everything else as binary unless told otherwise. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

const DEFAULT_CLOSE_TIMEOUT = 10_000;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** The connection a socket belongs to, so one set of listener functions serves every socket. */
const kWebSocket = Symbol('simpatico-ws:websocket');
type BoundSocket = Duplex & { [kWebSocket]: WebSocket };

export class WebSocket extends EventEmitter<WebSocketEvents> implements ProtocolEvents {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;

  /** The subprotocol the server selected, '' when none. */
  protocol = '';
  /** The extensions in use, as negotiated ('' when none). */
  extensions = '';
  /** The URL this client connected to ('' on the server side). */
  url = '';

  private socket: Duplex | undefined = undefined;
  private proto: Protocol | undefined = undefined;
  private readonly options: ConnectionOptions;
  private readonly role: 'server' | 'client';
  private failedBeforeOpen = false;
  /** True while a read is being handled: sends wait for its end and leave in one write. */
  private inRead = false;
  private flushScheduled = false;
  private readPausedForWrite = false;
  private pausedByUser = false;
  private needDrain = false;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined = undefined;
  private heardFromPeer = true;
  /** Told when the connection is CLOSED (a server's `clients` set). @internal */
  owner: Set<WebSocket> | undefined = undefined;

  /**
   * Not for direct use: servers create their connections, and clients use {@link connect}.
   * @internal
   */
  constructor(role: 'server' | 'client', options: ConnectionOptions = {}) {
    super();
    this.role = role;
    this.options = options;
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (0–3, as in the WHATWG WebSocket). */
  get readyState(): ReadyState {
    if (this.proto === undefined) return this.failedBeforeOpen ? ReadyState.CLOSED : ReadyState.CONNECTING;
    return this.proto.state;
  }

  /** Bytes queued for sending and not yet handed to the kernel. */
  get bufferedAmount(): number {
    if (this.proto === undefined || this.socket === undefined) return 0;
    return this.proto.outbox.bytes + this.socket.writableLength;
  }

  /** Whether reading was paused with {@link pause}. */
  get isPaused(): boolean {
    return this.pausedByUser;
  }

  /**
   * Takes over a socket whose opening handshake is complete: the connection is OPEN, and reading
   * starts with {@link start}.
   * @internal
   */
  attach(socket: Duplex, protocol: string, extensions: string): void {
    // Nothing is read until start(): the application must get the chance to listen first.
    socket.pause();
    this.socket = socket;
    this.protocol = protocol;
    this.extensions = extensions;
    this.proto = new Protocol(
      { role: this.role, maxPayload: this.options.maxPayload, maxFragments: this.options.maxFragments },
      this,
    );
    // Small messages are latency-bound; Nagle's algorithm would hold them back.
    if (socket instanceof Socket) socket.setNoDelay(true);
    // Shared listeners that find this connection on the socket: no closures per connection,
    // which is most of what an idle connection costs.
    (socket as BoundSocket)[kWebSocket] = this;
    socket.on('data', WebSocket.onSocketData);
    socket.on('end', WebSocket.onSocketEnd);
    socket.on('close', WebSocket.onSocketClose);
    socket.on('error', WebSocket.onSocketError);
    socket.on('drain', WebSocket.onSocketDrain);
    const interval = this.options.heartbeatInterval ?? 0;
    if (interval > 0) this.heartbeatTimer = setInterval(() => this.heartbeat(), interval);
    this.emit('open');
  }

  /**
   * Starts reading: first `head`, the bytes that arrived right behind the handshake (frames the
   * peer pipelined), then the socket. Called once the owner has handed the connection to the
   * application, so that no message is emitted before anyone can listen.
   * @internal
   */
  start(head: Buffer): void {
    if (head.length > 0) this.onData(head);
    if (!this.pausedByUser && !this.readPausedForWrite) this.socket!.resume();
  }

  /**
   * Sends a message. Strings are sent as text and everything else as binary, unless `binary` says
   * otherwise. With `fin: false` the data is the first or a middle fragment of a message that a
   * later `send` with `fin: true` (the default) ends (RFC 6455 §5.4).
   *
   * Once the connection is CLOSING or CLOSED the data is dropped and false returned, as browsers
   * do: a peer may close at any moment, and a send racing with it is not a bug of the caller.
   *
   * @returns false when the outgoing buffer is over its high-water mark: the data is queued all
   *   the same, and `drain` is emitted when it empties — wait for it before sending more.
   * @throws WebSocketError (`WS_ERR_NOT_OPEN`) while CONNECTING; (`WS_ERR_INVALID_UTF8`) for text
   *   that is not UTF-8.
   */
  send(data: SendData, options: { binary?: boolean; fin?: boolean } = {}): boolean {
    if (this.proto !== undefined && this.proto.state !== ReadyState.OPEN) return false;
    const proto = this.openProtocol('send');
    let payload: Buffer | string;
    if (typeof data === 'string') {
      payload = options.binary === true ? Buffer.from(data, 'utf8') : data;
    } else {
      payload = toBuffer(data);
    }
    const isBinary = options.binary ?? typeof data !== 'string';
    if (!isBinary && typeof payload !== 'string') {
      // §8.1: a text message must be UTF-8; refuse to put invalid text on the wire.
      if (!isUtf8(payload)) {
        throw new WebSocketError('WS_ERR_INVALID_UTF8', 'A text message must be valid UTF-8; send it as binary.', {
          side: 'local',
        });
      }
    }
    proto.send(payload, isBinary, options.fin ?? true);
    return this.afterSend();
  }

  /** Sends a Ping (at most 125 bytes of payload). */
  ping(data: SendData = Buffer.alloc(0)): void {
    this.openProtocol('ping').ping(typeof data === 'string' ? Buffer.from(data) : toBuffer(data));
    this.afterSend();
  }

  /** Sends an unsolicited Pong (at most 125 bytes of payload). Pings are answered automatically. */
  pong(data: SendData = Buffer.alloc(0)): void {
    this.openProtocol('pong').pong(typeof data === 'string' ? Buffer.from(data) : toBuffer(data));
    this.afterSend();
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): sends a Close frame with `code` and `reason`,
   * waits for the peer's, then the TCP connection ends. The socket is destroyed if the peer does
   * not answer within `closeTimeout`. Does nothing once closing has started.
   *
   * @param code 1000 or 3000–4999 (or 1001–1014 where they apply); omit it to send no code.
   * @param reason at most 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void {
    if (this.proto === undefined) {
      this.terminate();
      return;
    }
    if (this.proto.state !== ReadyState.OPEN) return;
    this.proto.close(code, reason);
    this.flush();
    this.afterClosingStep();
  }

  /** Destroys the socket at once, without a closing handshake (the close reports 1006). */
  terminate(): void {
    if (this.socket === undefined) {
      this.failedBeforeOpen = true;
      return;
    }
    this.socket.destroy();
  }

  /** Stops reading from the peer until {@link resume}; the kernel's buffers then push back on it. */
  pause(): void {
    this.pausedByUser = true;
    this.socket?.pause();
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.pausedByUser = false;
    if (!this.readPausedForWrite) this.socket?.resume();
  }

  /**
   * Queues bytes that already form a complete frame, encoded once for many recipients.
   * @returns false when over the high-water mark (see {@link send}).
   * @internal
   */
  sendEncoded(frame: Buffer): boolean {
    const proto = this.openProtocol('send');
    proto.outbox.raw(frame);
    return this.afterSend();
  }

  // ---- what the protocol reports (ProtocolEvents) --------------------------------------------------

  /** @internal */
  protocolMessage(data: Buffer, isBinary: boolean): void {
    this.emit('message', isBinary ? data : data.toString('utf8'), isBinary);
  }

  /** @internal */
  protocolPing(payload: Buffer): void {
    this.emit('ping', payload);
  }

  /** @internal */
  protocolPong(payload: Buffer): void {
    this.emit('pong', payload);
  }

  /** @internal */
  protocolClosing(): void {
    this.afterClosingStep();
  }

  /** @internal */
  protocolError(error: WebSocketError): void {
    this.emitError(error);
  }

  // ---- the socket side -------------------------------------------------------------------------

  private static onSocketData(this: BoundSocket, chunk: Buffer): void {
    this[kWebSocket].onData(chunk);
  }

  private static onSocketEnd(this: BoundSocket): void {
    this[kWebSocket].onEnd();
  }

  private static onSocketClose(this: BoundSocket): void {
    this[kWebSocket].onTransportClose();
  }

  private static onSocketError(this: BoundSocket, error: Error): void {
    this[kWebSocket].onTransportError(error);
  }

  private static onSocketDrain(this: BoundSocket): void {
    this[kWebSocket].onDrain();
  }

  private static flushSoon(ws: WebSocket): void {
    ws.flushScheduled = false;
    ws.flush();
  }

  private onData(chunk: Buffer): void {
    const proto = this.proto!;
    this.heardFromPeer = true;
    this.inRead = true;
    try {
      proto.receive(chunk);
    } catch (error) {
      // A listener of ours threw (user code in a 'message' handler): the connection cannot go on
      // in a known state, so fail it with 1011 (§7.4.1), and rethrow so the bug is not hidden.
      this.inRead = false;
      proto.fail(new WebSocketError('WS_ERR_LISTENER', 'A message listener threw.', { closeCode: 1011, side: 'local', cause: error }));
      this.flush();
      this.afterClosingStep();
      throw error;
    }
    this.inRead = false;
    this.flush();
  }

  private onEnd(): void {
    // The peer sent FIN. Sockets from a node:http server allow half-open connections; ours never do.
    const socket = this.socket!;
    if (!socket.writableEnded) {
      this.flush();
      socket.end();
    }
  }

  private onTransportError(error: Error): void {
    this.emitError(new WebSocketError('WS_ERR_TRANSPORT', `The connection failed: ${error.message}`, { side: 'remote', cause: error }));
  }

  private onTransportClose(): void {
    const proto = this.proto!;
    proto.transportClosed();
    clearTimeout(this.closeTimer);
    clearInterval(this.heartbeatTimer);
    this.owner?.delete(this);
    this.emit('close', proto.closeCode, proto.closeReason, proto.cleanClose);
  }

  private onDrain(): void {
    if (this.readPausedForWrite) {
      this.readPausedForWrite = false;
      if (!this.pausedByUser) this.socket!.resume();
    }
    if (this.needDrain && this.bufferedAmount < this.highWaterMark()) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private heartbeat(): void {
    if (!this.heardFromPeer) {
      // Nothing at all since the last beat, not even the Pong it asked for: the peer is gone.
      this.socket!.destroy();
      return;
    }
    this.heardFromPeer = false;
    if (this.proto!.state === ReadyState.OPEN) {
      this.proto!.ping(Buffer.alloc(0));
      this.flush();
    }
  }

  /** Writes what the protocol queued, in as few writes as the outbox allows. */
  private flush(): void {
    const proto = this.proto!;
    const socket = this.socket!;
    if (proto.outbox.bytes === 0) return;
    // Writes already waiting in the socket's queue mean these will wait too: detach them from the
    // shared slab, or each would pin 64 KiB for a peer that does not read.
    const chunks = proto.outbox.take(socket.writableLength > 0);
    if (socket.destroyed || socket.writableEnded) return;
    if (chunks.length === 1) {
      socket.write(chunks[0]);
    } else {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
    // Backpressure on the read side: while the peer does not take what we write (our echoes,
    // pongs, broadcasts), stop reading what it sends, so its requests cannot pile up here.
    if (socket.writableLength > this.highWaterMark() && !this.readPausedForWrite) {
      this.readPausedForWrite = true;
      socket.pause();
    }
    if (proto.endTransport) this.endTransport();
  }

  private afterSend(): boolean {
    if (!this.inRead && !this.flushScheduled) {
      // Sends made in the same tick leave together, in one write, right after the current task.
      this.flushScheduled = true;
      process.nextTick(WebSocket.flushSoon, this);
    }
    const ok = this.bufferedAmount < this.highWaterMark();
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Called when the closing handshake moved on: end TCP, or arm the timer that waits for the peer. */
  private afterClosingStep(): void {
    const proto = this.proto!;
    if (proto.endTransport) {
      this.flush();
      this.endTransport();
    } else if (proto.awaitingClose) {
      this.armCloseTimer();
    }
  }

  private endTransport(): void {
    const socket = this.socket!;
    if (!socket.writableEnded) socket.end();
    // A peer that never acknowledges our FIN must not keep the socket forever.
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined) return;
    const timeout = this.options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.closeTimer = setTimeout(() => this.socket!.destroy(), timeout);
    this.closeTimer.unref();
  }

  private highWaterMark(): number {
    return this.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  private openProtocol(what: string): Protocol {
    const proto = this.proto;
    if (proto === undefined || proto.state !== ReadyState.OPEN) {
      throw new WebSocketError('WS_ERR_NOT_OPEN', `Cannot ${what}: the connection is not open (readyState ${this.readyState}).`, {
        side: 'local',
      });
    }
    return proto;
  }

  /** Emits `error` only when someone listens: a peer's bad bytes must never crash the process. */
  private emitError(error: WebSocketError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** A Buffer view of any binary data, without copying. */
export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('send() takes a string, Buffer, ArrayBuffer or typed array.');
}
