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
import type { ResponseHead } from './handshake/index.js';
import type { Driver, DriverOwner } from './driver.js';

/** Options every connection takes, from the server or from {@link connect}. All are validated when the server or client is made. */
export interface ConnectionOptions {
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** Most fragments one incoming message may have; more closes with 1009. Default: the codec's. */
  maxFragments?: number;
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
}

/** Events of a {@link WebSocket}, with their arguments. */
export interface WebSocketEvents {
  /** The connection opened (clients; a server's connections are open when handed over). */
  open: [];
  /** Text messages arrive as a string, binary ones as a Buffer. */
  message: [data: string | Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** The connection is CLOSED: the code and reason of the peer's Close (1005 if it had none), 1006 if TCP broke. */
  close: [code: number, reason: string, wasClean: boolean];
  /** A protocol error of the peer, a transport error, or a failed handshake. Emitted only when someone listens. */
  error: [error: WebSocketError];
  /** The outgoing buffer drained after `send` returned false. */
  drain: [];
}

/** Who keeps count of a server's connections. @internal */
export interface Tracker {
  report(error: WebSocketError, ws: WebSocket): void;
  release(ws: WebSocket): void;
}

/** Data a WebSocket can send. Strings go as text, everything else as binary unless told otherwise. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

// (It is the driver's DriverOwner; no `implements` clause, so the published types show only the public API.)
export class WebSocket extends EventEmitter<WebSocketEvents> {
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
  /** @internal */
  driver: Driver | undefined = undefined;
  /** @internal Told of this connection's errors, and when it is CLOSED (its server). */
  tracker: Tracker | undefined = undefined;
  /** @internal Client: told of the handshake's outcome (connect()'s promise). */
  handshakeDone: ((error: WebSocketError | undefined) => void) | undefined = undefined;

  /**
   * Not for direct use: servers create their connections, and clients use {@link connect}.
   * @internal
   */
  constructor() {
    super();
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

  /**
   * Sends a message. Strings are sent as text and everything else as binary, unless `binary` says
   * otherwise. With `fin: false` the data is the first or a middle fragment of a message that a
   * later `send` with `fin: true` (the default) ends (RFC 6455 §5.4). See the verb table above.
   *
   * @returns false when the data was dropped (CLOSING, CLOSED) or the outgoing buffer is over its
   *   high-water mark (the data is queued all the same: wait for `drain` before sending more).
   * @throws WebSocketError `WS_ERR_NOT_OPEN` while CONNECTING; `WS_ERR_INVALID_UTF8` for text that is
   *   not UTF-8; `WS_ERR_INVALID_ARGUMENT` for data that is not a string, Buffer, ArrayBuffer or view.
   */
  send(data: SendData, options: { binary?: boolean; fin?: boolean } = {}): boolean {
    let payload: Buffer | string;
    if (typeof data === 'string') {
      payload = options.binary === true ? Buffer.from(data, 'utf8') : data;
    } else {
      payload = toBuffer(data);
    }
    const isBinary = options.binary ?? typeof data !== 'string';
    // §8.1: a text message must be UTF-8; refuse to put invalid text on the wire.
    if (!isBinary && typeof payload !== 'string' && !isUtf8(payload)) {
      throw new WebSocketError('WS_ERR_INVALID_UTF8', 'A text message must be valid UTF-8; send it as binary.', { side: 'local' });
    }
    const driver = this.openDriver('send');
    if (!driver.conn.send(payload, isBinary, options.fin ?? true)) return false;
    return driver.afterSend();
  }

  /** Sends a Ping (at most 125 bytes of payload). @returns as {@link send}. */
  ping(data: SendData = EMPTY): boolean {
    const payload = typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    const driver = this.openDriver('ping');
    if (!driver.conn.ping(payload)) return false;
    return driver.afterSend();
  }

  /** Sends an unsolicited Pong (at most 125 bytes of payload); Pings are answered automatically. @returns as {@link send}. */
  pong(data: SendData = EMPTY): boolean {
    const payload = typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    const driver = this.openDriver('pong');
    if (!driver.conn.pong(payload)) return false;
    return driver.afterSend();
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
  close(code?: number, reason?: string): void {
    const driver = this.driver;
    if (driver === undefined || driver.conn.state === ReadyState.CONNECTING) {
      // Checked here too: a wrong code is a bug whatever the state.
      driver?.conn.close(code, reason);
      this.abort();
      return;
    }
    driver.conn.close(code, reason);
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
   * Queues bytes that already form a complete frame, encoded once for many recipients.
   * @returns as {@link send}.
   * @internal
   */
  sendEncoded(frame: Buffer): boolean {
    const driver = this.openDriver('send');
    if (!driver.conn.sendFrame(frame)) return false;
    return driver.afterSend();
  }

  // ---- what the driver reports (DriverOwner) ----------------------------------------------------

  /** @internal */
  onRefused(error: WebSocketError): void {
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    done?.(error);
    this.emitError(error);
    this.driver!.terminate();
  }

  /** @internal */
  onOpen(protocol: string, extensions: string, _response: ResponseHead | undefined): void {
    this.protocol = protocol;
    this.extensions = extensions;
    const done = this.handshakeDone;
    if (done === undefined) return; // a server's connection: open when handed over
    this.handshakeDone = undefined;
    done(undefined);
    this.emit('open');
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.emit('message', isBinary ? data : data.toString('utf8'), isBinary);
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

  private abort(): void {
    const done = this.handshakeDone;
    this.handshakeDone = undefined;
    done?.(new WebSocketError('WS_ERR_ABORTED', 'The connection was closed before it opened.', { side: 'local' }));
    this.driver?.terminate();
  }

  private openDriver(verb: string): Driver {
    const driver = this.driver;
    if (driver === undefined) {
      throw new WebSocketError('WS_ERR_NOT_OPEN', `Cannot ${verb} while the connection is CONNECTING: wait for 'open'.`, { side: 'local' });
    }
    return driver;
  }

  /** Emits `error` only when someone listens: a peer's bad bytes must never crash the process. */
  private emitError(error: WebSocketError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

const EMPTY = Buffer.alloc(0);

/** A Buffer view of any binary data, without copying. */
export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new WebSocketError('WS_ERR_INVALID_ARGUMENT', 'A message is a string, Buffer, ArrayBuffer or typed array.', { side: 'local' });
}
