/**
 * `WebSocket`: the public face of one connection, for both roles.
 *
 * It holds no rule and no socket logic: the lifecycle is the pure {@link Connection}
 * (src/connection/connection.ts), the socket work is the {@link Driver} (src/driver.ts). This class
 * checks the arguments of its verbs, answers them by one table, and turns what the driver reports
 * into events:
 *
 * | verb        | CONNECTING                 | OPEN                          | CLOSING, CLOSED       |
 * |-------------|----------------------------|-------------------------------|-----------------------|
 * | `send`      | throws `WS_ERR_NOT_OPEN`   | queued; false over highWaterMark | false: dropped     |
 * | `ping`/`pong` | throws `WS_ERR_NOT_OPEN` | queued; false over highWaterMark | false: dropped     |
 * | `close`     | aborts the handshake       | starts the closing handshake  | does nothing          |
 * | `terminate` | aborts the handshake       | destroys the socket (1006)    | destroys (CLOSED: nothing) |
 *
 * Invalid arguments (a ping over 125 bytes, a close code that may not be sent, text that is not
 * UTF-8, data of the wrong type) throw a `WebSocketError` with side `local` in every state.
 * Dropping data once closing has begun is what browsers do: a peer may close at any moment, and a
 * send that races it is not a bug of the caller.
 */
import { EventEmitter } from 'node:events';
import { isUtf8 } from 'node:buffer';
import { WebSocketError } from './errors.js';
import { ReadyState } from './connection/connection.js';
import { HandshakeResponseError, type ResponseHead } from './handshake/index.js';
import type { Driver } from './driver.js';
import type { WebSocketServer } from './server/server.js';
import type { createWebSocketStream } from './stream.js';
import type { TraceOption } from './trace.js';
import { openClient, type ClientOptions } from './client/connect.js';
import {
  addEventListener,
  getAttribute,
  removeEventListener,
  setAttribute,
  type EventListenerLike,
  type WebSocketEventType,
} from './event-target.js';

/** Options every connection takes, from the server or from {@link connect}. All are validated when the server or client is made. */
export interface ConnectionOptions {
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** ms to wait for the peer's side of the closing handshake before the socket is destroyed (1006). Default 10,000. */
  closeTimeout?: number;
  /**
   * ms between liveness checks, 0 for none. Default 20,000 (as Python's websockets; ws has none). A
   * check that finds nothing complete arrived since the last one sends a Ping; see `heartbeatTimeout`.
   */
  heartbeatInterval?: number;
  /** ms the answer to a heartbeat Ping (its Pong, or any complete frame) may take; then the socket is dropped (1006). Default: `heartbeatInterval`, or 20,000. */
  heartbeatTimeout?: number;
  /**
   * ms a frame or message that has started may take, plus 1 s per `minReceiveRate` bytes received
   * since it started; a slower peer is closed with 1008. 0 for no limit. Default 10,000.
   */
  frameTimeout?: number;
  /** Bytes per second a started frame or message must arrive at, at least (see `frameTimeout`). Default 4,096. */
  minReceiveRate?: number;
  /**
   * Buffered outgoing bytes above which `send` returns false and reading pauses until the socket
   * drains: a peer that does not read cannot make this side's memory grow. Default 1 MiB.
   */
  highWaterMark?: number;
  /**
   * See every byte of this side's connections (the view `simpatico-ws trace` gives of a relayed
   * one): `true` prints lines on stderr; a function gets each event (heads, frames both ways,
   * messages, states). It watches copies, so it never changes what is sent. Default off.
   */
  trace?: TraceOption;
  /**
   * Deliver text messages as Buffers, as ws does, instead of strings (the default, as browsers and
   * Node's own WebSocket do). Default false.
   */
  textAsBuffer?: boolean;
  /** ws's: accepted when true (what this package does: the messages of one read are emitted as they are parsed). */
  allowSynchronousEvents?: true;
}

/** How binary messages are delivered (as ws's `binaryType`). */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

/** Events of a {@link WebSocket}, with their arguments. */
export interface WebSocketEvents {
  /** The connection opened (clients; a server's connections are open when handed over). */
  open: [];
  /** Text arrives as a string (a Buffer with `textAsBuffer`), binary as `binaryType` says (a Buffer by default). */
  message: [data: string | Buffer | ArrayBuffer | Buffer[], isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** The connection is CLOSED: the code and reason of the peer's Close (1005 if it had none), 1006 if TCP broke. */
  close: [code: number, reason: string, wasClean: boolean];
  /** A protocol error of the peer, a transport error, or a failed handshake. Emitted only when someone listens. */
  error: [error: WebSocketError];
  /** The outgoing buffer drained after `send` returned false. */
  drain: [];
  /** Client: the server's 101 response, before 'open' (as ws: statusCode, headers, …). */
  upgrade: [response: UpgradeResponse];
  /**
   * Client: the server answered something else than 101. With a listener, this replaces the
   * 'error' event (as in ws); the connection is closed either way.
   */
  'unexpected-response': [request: { method: string; path: string; host: string }, response: UpgradeResponse];
}

/** A response head in the shape of node:http's IncomingMessage, as ws's 'upgrade' and 'unexpected-response' give it. */
export interface UpgradeResponse {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Who keeps count of a server's connections. @internal */
export interface Tracker {
  report(error: WebSocketError, ws: WebSocket): void;
  release(ws: WebSocket): void;
}

/**
 * Data a WebSocket can send. Strings go as text, everything else as binary unless told otherwise;
 * an array of buffers (what `binaryType = 'fragments'` delivers) is sent as their concatenation.
 */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView | readonly Uint8Array[];

/** A `send`/`ping`/`pong` callback: called once the data is written to the socket, or with the error that kept it from being sent. */
export type SendCallback = (error?: Error) => void;

/** What `send` takes besides the data (ws's options; `compress` and `mask` are accepted and decided by the connection). */
export interface SendOptions {
  binary?: boolean;
  fin?: boolean;
  /** Accepted for ws compatibility; whether a message is compressed is the negotiated extension's call. */
  compress?: boolean;
  /** Accepted for ws compatibility; a client always masks and a server never does (RFC 6455 §5.1). */
  mask?: boolean;
}

/** @internal The marker a server passes to `new WebSocket()` to make its side of a connection (no client starts). */
export const kServerSide = Symbol('simpatico-ws:server-side');

/**
 * One WebSocket connection, either role.
 *
 * As a client: `new WebSocket(url, protocols?, options?)` connects at once (as ws's and the
 * browser's do); `connect(url, options)` does the same and resolves once OPEN.
 */
// (It is the driver's DriverOwner; no `implements` clause, so the published types show only the public API.)
export class WebSocket extends EventEmitter<WebSocketEvents> {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // ws's statics, set by the package's entry point (src/index.ts): `new WebSocket.Server(...)`.
  declare static Server: typeof WebSocketServer;
  declare static WebSocketServer: typeof WebSocketServer;
  declare static WebSocket: typeof WebSocket;
  declare static createWebSocketStream: typeof createWebSocketStream;

  /** The subprotocol the server selected, '' when none. */
  protocol = '';
  /** The extensions in use, as negotiated ('' when none). */
  extensions = '';
  /** The URL this client connected to ('' on the server side). */
  url = '';
  /** @internal */
  driver: Driver | undefined = undefined;
  /** @internal Told of this connection's errors, and when it is CLOSED (its server). */
  tracker: Tracker | undefined = undefined;
  /** @internal Client: told of the handshake's outcome (connect()'s promise). */
  handshakeDone: ((error: WebSocketError | undefined) => void) | undefined = undefined;
  /** @internal Deliver text as Buffers (the `textAsBuffer` option). */
  textAsBuffer = false;
  private _binaryType: BinaryType = 'nodebuffer';

  /**
   * Connects to `address` (`ws:`, `wss:`, `http:` or `https:`), offering `protocols`; the
   * connection is CONNECTING until 'open'. Options are {@link ClientOptions}; an invalid URL or
   * option throws a `WebSocketError` here. (A server's connections are made by the server.)
   */
  constructor(address?: string | URL, protocols?: string | string[] | ClientOptions, options?: ClientOptions);
  /** @internal */
  constructor(address: typeof kServerSide);
  constructor(address?: string | URL | typeof kServerSide, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (address === undefined || address === kServerSide) return;
    let offered: string[] | undefined;
    let opts = options ?? {};
    if (typeof protocols === 'string') offered = [protocols];
    else if (Array.isArray(protocols)) offered = protocols;
    else if (protocols !== undefined) opts = protocols;
    // (Messages are delivered from the next turn on: the caller attaches listeners right after this.)
    openClient(this, address, offered === undefined ? opts : { ...opts, protocols: offered }, noop);
  }

  get CONNECTING(): 0 {
    return ReadyState.CONNECTING;
  }
  get OPEN(): 1 {
    return ReadyState.OPEN;
  }
  get CLOSING(): 2 {
    return ReadyState.CLOSING;
  }
  get CLOSED(): 3 {
    return ReadyState.CLOSED;
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED (0–3, as in the WHATWG WebSocket). */
  get readyState(): ReadyState {
    return this.driver === undefined ? ReadyState.CONNECTING : this.driver.conn.state;
  }

  /** Bytes queued for sending and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.driver === undefined ? 0 : this.driver.bufferedAmount;
  }

  /** Whether reading was paused with {@link pause}. */
  get isPaused(): boolean {
    return this.driver?.isPaused === true;
  }

  /** How binary messages are delivered: 'nodebuffer' (a Buffer, the default), 'arraybuffer', or 'fragments' (a Buffer[]). */
  get binaryType(): BinaryType {
    return this._binaryType;
  }

  set binaryType(type: BinaryType) {
    if (type !== 'nodebuffer' && type !== 'arraybuffer' && type !== 'fragments') {
      throw new WebSocketError('WS_ERR_INVALID_ARGUMENT', `binaryType must be 'nodebuffer', 'arraybuffer' or 'fragments', not ${JSON.stringify(type)}.`, {
        side: 'local',
      });
    }
    this._binaryType = type;
  }

  /**
   * Sends a message. Strings are sent as text and everything else as binary, unless `binary` says
   * otherwise; a number is sent as its decimal text, as ws sends it (`ws.send(Date.now())`). With `fin: false` the data is the first or a middle fragment of a message that a
   * later `send` with `fin: true` (the default) ends (RFC 6455 §5.4). See the verb table above.
   *
   * @param callback called once the data is written to the socket; with an error when it was dropped.
   * @returns false when the data was dropped (CLOSING, CLOSED) or the outgoing buffer is over its
   *   high-water mark (the data is queued all the same: wait for `drain` before sending more).
   * @throws WebSocketError `WS_ERR_NOT_OPEN` while CONNECTING; `WS_ERR_INVALID_UTF8` for text that is
   *   not UTF-8; `WS_ERR_INVALID_ARGUMENT` for data that is not a string, Buffer, ArrayBuffer or view.
   */
  send(data: SendData | number, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (typeof data === 'number') data = String(data);
    const opts = options ?? {};
    let payload: Buffer | string;
    if (typeof data === 'string') {
      payload = opts.binary === true ? Buffer.from(data, 'utf8') : data;
    } else {
      payload = toBuffer(data);
    }
    const isBinary = opts.binary ?? typeof data !== 'string';
    // §8.1: a text message must be UTF-8; refuse to put invalid text on the wire.
    if (!isBinary && typeof payload !== 'string' && !isUtf8(payload)) {
      throw new WebSocketError('WS_ERR_INVALID_UTF8', 'A text message must be valid UTF-8; send it as binary.', { side: 'local' });
    }
    const driver = this.openDriver('send');
    if (!driver.conn.send(payload, isBinary, opts.fin ?? true)) return dropped(callback, this.readyState);
    return driver.afterSend(callback);
  }

  /** Sends a Ping (at most 125 bytes of payload; a number as its decimal text). `mask` is accepted for ws compatibility (§5.1 decides). @returns as {@link send}. */
  ping(data?: SendData | number, mask?: boolean | SendCallback, callback?: SendCallback): boolean {
    return this.control('ping', data, mask, callback);
  }

  /** Sends an unsolicited Pong (at most 125 bytes of payload); Pings are answered automatically. @returns as {@link send}. */
  pong(data?: SendData | number, mask?: boolean | SendCallback, callback?: SendCallback): boolean {
    return this.control('pong', data, mask, callback);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): sends a Close frame with `code` and `reason`,
   * waits for the peer's, then the TCP connection ends; the socket is destroyed if the peer does not
   * answer within `closeTimeout`. While CONNECTING it aborts the handshake. Does nothing once closing
   * has begun.
   *
   * @param code 1000 or 3000–4999 (or 1001–1014 where they apply); omit it to send no code.
   * @param reason at most 123 bytes of UTF-8.
   * @throws WebSocketError `WS_ERR_INVALID_CLOSE_CODE`, `WS_ERR_CLOSE_REASON_TOO_LONG`, in every state.
   */
  close(code?: number, reason?: string | Buffer): void {
    const text = Buffer.isBuffer(reason) ? reason.toString('utf8') : reason;
    const driver = this.driver;
    if (driver === undefined || driver.conn.state === ReadyState.CONNECTING) {
      // Checked here too: a wrong code is a bug whatever the state.
      driver?.conn.close(code, text);
      this.abort();
      return;
    }
    driver.conn.close(code, text);
    driver.settle();
  }

  /** Destroys the socket at once, without a closing handshake (the close reports 1006). */
  terminate(): void {
    const driver = this.driver;
    if (driver === undefined || driver.conn.state === ReadyState.CONNECTING) {
      this.abort();
      return;
    }
    driver.terminate();
  }

  /** Stops reading from the peer until {@link resume}; the kernel's buffers then push back on it. */
  pause(): void {
    this.driver?.pause();
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.driver?.resume();
  }

  // ---- the WHATWG surface (as ws offers it) -----------------------------------------------------

  /** Adds a browser-style listener: it gets an event object (`MessageEvent`, `CloseEvent`, …). */
  addEventListener(type: WebSocketEventType, listener: EventListenerLike, options?: { once?: boolean }): void {
    addEventListener(this, type, listener, options);
  }

  /** Removes a listener added with {@link addEventListener}. */
  removeEventListener(type: WebSocketEventType, listener: EventListenerLike): void {
    removeEventListener(this, type, listener);
  }

  get onopen(): EventListenerLike | null {
    return getAttribute(this, 'open');
  }
  set onopen(listener: EventListenerLike | null) {
    setAttribute(this, 'open', listener);
  }
  get onmessage(): EventListenerLike | null {
    return getAttribute(this, 'message');
  }
  set onmessage(listener: EventListenerLike | null) {
    setAttribute(this, 'message', listener);
  }
  get onclose(): EventListenerLike | null {
    return getAttribute(this, 'close');
  }
  set onclose(listener: EventListenerLike | null) {
    setAttribute(this, 'close', listener);
  }
  get onerror(): EventListenerLike | null {
    return getAttribute(this, 'error');
  }
  set onerror(listener: EventListenerLike | null) {
    setAttribute(this, 'error', listener);
  }

  // ---- internal verbs ---------------------------------------------------------------------------

  /**
   * Drops what waits to be sent and fails the connection with `code` (a recipient too slow to keep).
   * @internal
   */
  shed(code: number, reason: string): void {
    const driver = this.driver;
    if (driver === undefined || driver.conn.state !== ReadyState.OPEN) return;
    driver.shed(new WebSocketError('WS_ERR_TOO_SLOW', reason, { closeCode: code, side: 'remote' }));
  }

  /**
   * For broadcasts: `null` (no compression: the plain frame), a key (compression without context
   * takeover: the frame compressed once for every connection with that key), or `undefined`.
   * @internal
   */
  get shareKey(): string | null | undefined {
    return this.driver!.conn.shareKey;
  }

  /** The frame of a whole message as this connection sends it, to share with its key. @internal */
  encodeMessage(payload: Buffer, isBinary: boolean): Buffer {
    return this.driver!.conn.encodeMessage(payload, isBinary);
  }

  /**
   * Queues bytes that already form a complete frame, encoded once for many recipients.
   * @returns as {@link send}.
   * @internal
   */
  sendEncoded(frame: Buffer): boolean {
    const driver = this.openDriver('send');
    if (!driver.conn.sendFrame(frame)) return false;
    return driver.afterSend(undefined);
  }

  // ---- what the driver reports (DriverOwner) ----------------------------------------------------

  /** @internal */
  onRefused(error: WebSocketError): void {
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    done?.(error);
    if (error instanceof HandshakeResponseError && this.listenerCount('unexpected-response') > 0) {
      // As ws: whoever listens for 'unexpected-response' handles the refusal; no 'error'.
      const url = new URL(this.url);
      this.emit('unexpected-response', { method: 'GET', path: `${url.pathname}${url.search}`, host: url.host }, responseOf(error.response));
    } else {
      this.emitError(error);
    }
    this.driver!.terminate();
  }

  /** @internal */
  onOpen(protocol: string, extensions: string, response: ResponseHead | undefined): void {
    this.protocol = protocol;
    this.extensions = extensions;
    const done = this.handshakeDone;
    if (done === undefined) return; // a server's connection: open when handed over
    this.handshakeDone = undefined;
    done(undefined);
    if (response !== undefined) this.emit('upgrade', responseOf(response));
    this.emit('open');
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.emit('message', this.textAsBuffer ? data : data.toString('utf8'), false);
      return;
    }
    const type = this._binaryType;
    this.emit('message', type === 'nodebuffer' ? data : type === 'arraybuffer' ? arrayBufferOf(data) : [data], true);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.emit('ping', payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.emit('pong', payload);
  }

  /** @internal */
  onError(error: WebSocketError): void {
    this.tracker?.report(error, this);
    this.emitError(error);
  }

  /** @internal */
  onClosed(code: number, reason: string, wasClean: boolean): void {
    this.tracker?.release(this);
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    // The server closed the TCP connection in the middle of the opening handshake.
    done?.(new WebSocketError('WS_ERR_HANDSHAKE_CLOSED', `${this.url} closed the connection during the opening handshake.`, { side: 'remote' }));
    this.emit('close', code, reason, wasClean);
  }

  /** @internal */
  onDrain(): void {
    this.emit('drain');
  }

  private control(verb: 'ping' | 'pong', data: SendData | number | undefined, mask: boolean | SendCallback | undefined, callback: SendCallback | undefined): boolean {
    if (typeof mask === 'function') callback = mask;
    const payload = data === undefined ? EMPTY : typeof data === 'string' || typeof data === 'number' ? Buffer.from(String(data)) : toBuffer(data);
    const driver = this.openDriver(verb);
    if (!(verb === 'ping' ? driver.conn.ping(payload) : driver.conn.pong(payload))) return dropped(callback, this.readyState);
    return driver.afterSend(callback);
  }

  private abort(): void {
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    done?.(new WebSocketError('WS_ERR_ABORTED', 'The connection was closed before it opened.', { side: 'local' }));
    this.driver?.terminate();
  }

  private openDriver(verb: string): Driver {
    const driver = this.driver;
    if (driver === undefined || driver.conn.state === ReadyState.CONNECTING) {
      throw new WebSocketError('WS_ERR_NOT_OPEN', `Cannot ${verb} while the connection is CONNECTING: wait for 'open'.`, { side: 'local' });
    }
    return driver;
  }

  /** Emits `error` only when someone listens: a peer's bad bytes must never crash the process. */
  private emitError(error: WebSocketError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Data dropped because the connection is closing: the callback hears why (as ws's does), and send says false. */
function dropped(callback: SendCallback | undefined, state: number): false {
  if (callback !== undefined) {
    const error = new WebSocketError('WS_ERR_NOT_OPEN', `The connection is ${state === ReadyState.CLOSING ? 'CLOSING' : 'CLOSED'}: the data was not sent.`, {
      side: 'local',
    });
    process.nextTick(callback, error);
  }
  return false;
}

/** The bytes of `data` as an ArrayBuffer of their own (no copy when the Buffer already is one). */
function arrayBufferOf(data: Buffer): ArrayBuffer {
  const buffer = data.buffer as ArrayBuffer;
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
}

function responseOf(head: ResponseHead): UpgradeResponse {
  return { statusCode: head.status, statusMessage: head.statusText, httpVersion: head.httpVersion, headers: head.headers };
}

function noop(): void {}

const EMPTY = Buffer.alloc(0);

/** A Buffer view of any binary data, without copying (an array of buffers is concatenated). */
export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView | readonly Uint8Array[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((piece) => piece instanceof Uint8Array)) return Buffer.concat(data);
  throw new WebSocketError('WS_ERR_INVALID_ARGUMENT', 'A message is a string, Buffer, ArrayBuffer or typed array.', { side: 'local' });
}
