/**
 * The per-connection state machine of RFC 6455, for both roles: bytes in, events and bytes out.
 *
 * It owns the rules — the states, the closing handshake (§7), automatic pongs (§5.5.2), protocol
 * errors turned into close codes (§7.4.1) — and nothing that waits: no socket, no timer. The I/O
 * binding (src/websocket.ts) feeds it bytes with {@link Protocol.receive}, writes what
 * {@link Protocol.outbox} holds, and reads {@link Protocol.endTransport} to learn when to end TCP
 * and {@link Protocol.awaitingClose} to arm its close timer.
 */
import {
  Opcode,
  Receiver,
  encodeClosePayload,
  type ReceiverSink,
} from '../frames/index.js';
import { WebSocketError } from '../errors.js';
import { Outbox } from './outbox.js';

/** The WHATWG WebSocket `readyState` values. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/**
 * What the state machine reports to its binding. Called synchronously from {@link Protocol.receive}.
 * (The binding implements these itself: one object per connection instead of five closures.)
 */
export interface ProtocolEvents {
  protocolMessage(data: Buffer, isBinary: boolean): void;
  protocolPing(payload: Buffer): void;
  protocolPong(payload: Buffer): void;
  /** The peer's Close frame arrived, or the connection failed: the closing handshake moved on. */
  protocolClosing(): void;
  /** The peer broke the protocol; a Close frame with `error.closeCode` is already queued. */
  protocolError(error: WebSocketError): void;
}

export interface ProtocolOptions {
  role: 'server' | 'client';
  /** Largest message accepted, in bytes (default 1 MiB). Larger ones fail with 1009. */
  maxPayload?: number;
  /** Most fragments one message may have (default: the frames module's). */
  maxFragments?: number;
}

export class Protocol implements ReceiverSink {
  readonly role: 'server' | 'client';
  readonly outbox: Outbox;
  private readonly receiver: Receiver;
  private readonly events: ProtocolEvents;

  state: ReadyState = ReadyState.OPEN;
  /** We queued our Close frame (§5.5.1: no data frame may follow it). */
  closeSent = false;
  /** The peer's Close frame arrived (§5.5.1: nothing after it is processed). */
  closeReceived = false;
  /** The code and reason the `close` event reports: the peer's, ours on failure, 1006 if TCP just broke. */
  closeCode = 1006;
  closeReason = '';
  /** Set when the connection failed (§7.1.7); then every further byte is discarded. */
  failure: WebSocketError | undefined = undefined;
  /**
   * This side should now end the TCP connection: after the closing handshake on the server
   * (§7.1.1: "the server MUST close the underlying TCP connection first"), or at once after a
   * failure (§7.1.7), on either side.
   */
  endTransport = false;
  /** Opcode of the message being sent in fragments, or -1 between messages. */
  private sendingOpcode = -1;

  constructor(options: ProtocolOptions, events: ProtocolEvents) {
    this.role = options.role;
    this.events = events;
    // §5.3: a client masks every frame it sends; a server never does.
    this.outbox = new Outbox(options.role === 'client');
    this.receiver = new Receiver(
      { role: options.role, maxPayload: options.maxPayload },
      this,
    );
  }

  /**
   * The closing handshake is half done by us and the peer's Close is awaited: the binding arms a
   * timer that destroys the socket if it never comes (or, on a client, if the server never ends TCP).
   */
  get awaitingClose(): boolean {
    return this.state === ReadyState.CLOSING && !this.endTransport;
  }

  /** Whether both Close frames were exchanged (the `wasClean` of the close event). */
  get cleanClose(): boolean {
    return this.closeSent && this.closeReceived && this.failure === undefined;
  }

  /** Feeds bytes read from the transport. Takes ownership of the chunk. */
  receive(chunk: Buffer): void {
    // §5.5.1 / §7.1.7: after the peer's Close, or after failing, incoming data is not processed.
    if (this.closeReceived || this.failure !== undefined) return;
    this.receiver.push(chunk);
  }

  /** Queues a data frame. `fin: false` starts or continues a fragmented message (§5.4). */
  send(data: Buffer | string, isBinary: boolean, fin = true): void {
    if (this.closeSent) {
      throw new WebSocketError('WS_ERR_NOT_OPEN', 'Cannot send: the closing handshake has started.', {
        side: 'local',
      });
    }
    // §5.4: only the first fragment carries the opcode; the rest are continuations.
    let opcode: number = Opcode.Continuation;
    if (this.sendingOpcode === -1) opcode = isBinary ? Opcode.Binary : Opcode.Text;
    this.sendingOpcode = fin ? -1 : opcode === Opcode.Continuation ? this.sendingOpcode : opcode;
    if (typeof data === 'string') this.outbox.text(data, fin, opcode);
    else this.outbox.frame(opcode, data, fin);
  }

  /** Queues a Ping (§5.5.2); the payload is at most 125 bytes. */
  ping(payload: Buffer): void {
    this.control(Opcode.Ping, payload);
  }

  /** Queues an unsolicited Pong (§5.5.3: a unidirectional heartbeat). */
  pong(payload: Buffer): void {
    this.control(Opcode.Pong, payload);
  }

  /**
   * Starts the closing handshake (§7.1.2), or completes it when the peer's Close came first.
   * A second call does nothing: only one Close frame is ever sent.
   */
  close(code?: number, reason = ''): void {
    if (this.closeSent) return;
    if (code === undefined && reason !== '') {
      throw new WebSocketError('WS_ERR_INVALID_CLOSE_CODE', 'A close reason needs a close code.', { side: 'local' });
    }
    // Throws for a code that may not be sent (§7.4.1) or a reason over 123 bytes (§5.5).
    const payload = encodeClosePayload(code, reason);
    this.outbox.frame(Opcode.Close, payload, true);
    this.closeSent = true;
    this.state = ReadyState.CLOSING;
    // (The peer's Close cannot have come first: onClose answers it at once, so closeSent is set.)
    this.closeCode = code ?? 1005;
    this.closeReason = reason;
  }

  /**
   * Fails the connection from this side (§7.1.7), e.g. 1011 when the application itself broke:
   * queue a Close frame if none was sent, then end TCP.
   */
  fail(error: WebSocketError): void {
    if (this.failure !== undefined || this.state === ReadyState.CLOSED) return;
    this.failure = error;
    if (!this.closeSent) {
      this.outbox.frame(Opcode.Close, encodeClosePayload(error.closeCode ?? 1011, ''), true);
      this.closeSent = true;
    }
    this.closeCode = error.closeCode ?? 1011;
    this.closeReason = '';
    this.state = ReadyState.CLOSING;
    this.endTransport = true;
  }

  /** The transport is gone (EOF, error or our own end): the connection is CLOSED (§7.1.4). */
  transportClosed(): void {
    if (this.state === ReadyState.CLOSED) return;
    if (!this.closeReceived && this.failure === undefined) {
      // §7.1.5: the connection closed without a Close frame from the peer: 1006, no reason.
      this.closeCode = 1006;
      this.closeReason = '';
    }
    this.state = ReadyState.CLOSED;
  }

  // ---- ReceiverSink: what the frame codec found in the incoming bytes ---------------------------

  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.protocolMessage(data, isBinary);
  }

  onPing(payload: Buffer): void {
    // §5.5.2: answer a Ping with a Pong carrying the same payload, unless our Close is out.
    if (!this.closeSent) this.outbox.frame(Opcode.Pong, payload, true);
    this.events.protocolPing(payload);
  }

  onPong(payload: Buffer): void {
    this.events.protocolPong(payload);
  }

  onClose(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (this.closeSent) {
      this.closeHandshakeDone();
    } else {
      // §5.5.1: answer with a Close; echoing the status code (and reason) is what peers expect.
      // A Close without a code (1005) is answered without one: 1005 never goes on the wire (§7.4.1).
      const echo = code === 1005 ? encodeClosePayload() : encodeClosePayload(code, reason);
      this.outbox.frame(Opcode.Close, echo, true);
      this.closeSent = true;
      this.state = ReadyState.CLOSING;
      this.closeHandshakeDone();
    }
    this.events.protocolClosing();
  }

  onError(error: WebSocketError): void {
    this.fail(error);
    this.events.protocolError(error);
    this.events.protocolClosing();
  }

  private closeHandshakeDone(): void {
    // §7.1.1: the server ends TCP first; the client waits for it (and its binding's timer).
    if (this.role === 'server') this.endTransport = true;
  }

  private control(opcode: number, payload: Buffer): void {
    if (payload.length > 125) {
      throw new WebSocketError('WS_ERR_CONTROL_FRAME_TOO_BIG', 'A ping or pong payload is at most 125 bytes (RFC 6455 §5.5).', {
        side: 'local',
      });
    }
    if (this.closeSent) return;
    this.outbox.frame(opcode, payload, true);
  }
}
