/**
 * The life of one WebSocket connection, for both roles, from the first byte of the opening
 * handshake to CLOSED. Every transition is in this file, so that a reader can check each one against
 * RFC 6455 §4 (the opening handshake) and §7 (closing):
 *
 *                server: request head read and valid (§4.2.1) → 'upgrade'; accept() writes the 101
 *                client: the server's 101 checked (§4.1)
 *   CONNECTING ──────────────────────────────────────────────────────────────────────────► OPEN
 *        │  refused: an invalid request (an HTTP error response is queued), refuse() by the server's
 *        │  policy, respond() to a plain HTTP request; on a client, any answer but a valid 101
 *        └──────────────────────────────────────────────────────────────────────────────► CLOSED
 *
 *   OPEN ── close(): our Close is queued (§7.1.2) ───────────────────────────────────────► CLOSING
 *   OPEN ── the peer's Close arrives: ours echoes it (§5.5.1, §7.1.3) ────────────────────► CLOSING
 *   OPEN ── the peer breaks the protocol, or this side fails it: Close with the code (§7.1.7) ► CLOSING
 *   any  ── the transport is gone (§7.1.4) ───────────────────────────────────────────────► CLOSED
 *
 * Pure: it owns no socket and no clock. The binding (src/driver.ts) feeds it bytes with
 * {@link Connection.receive}, takes events with {@link Connection.nextEvent} — typed records of what
 * happened (a message, a ping, the handshake's verdict) and of what the binding must do (`end`: end
 * TCP after the queued bytes; `expect-close`: arm the close timer) — and writes what
 * {@link Connection.outbox} holds.
 *
 * One read can hold several frames, and the application answers a message when it takes it. So
 * what a frame makes this side send — the Pong to a Ping, the echo of the peer's Close, the Close
 * that fails the connection — is queued when its event is TAKEN, not when it is parsed: the answer
 * to a message goes out before the Close that a later frame of the same read brought.
 */
import { Opcode, Receiver, encodeClosePayload } from '../frames/index.js';
import {
  RequestHeadParser,
  ResponseHeadParser,
  buildAcceptResponse,
  buildErrorResponse,
  buildHttpResponse,
  validateServerResponse,
  validateUpgrade,
  type HeaderInput,
  type HeadParserOptions,
  type RequestHead,
  type RequestLike,
  type ResponseHead,
  type UpgradeDecision,
  type UpgradeOptions,
} from '../handshake/index.js';
import { WebSocketError, type ErrorCode } from '../errors.js';
import type { DeflateClientPolicy, DeflateParameters, DeflateServerPolicy } from '../handshake/permessage-deflate.js';
import { Deflater, Inflater, codecOptions } from '../deflate/index.js';
import { encodeFrame } from '../frames/index.js';
import { Outbox } from './outbox.js';

/** The four states of RFC 6455 (§4.1, §7), numbered as the WHATWG WebSocket's `readyState`. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** A valid upgrade request, waiting for the server's verdict: {@link Connection.accept} or {@link Connection.refuse}. */
export type UpgradeOffer = Extract<UpgradeDecision, { ok: true }>;

/** What happened, and what the binding must do, in order. Records are never modified after they are queued. */
export type ConnectionEvent =
  /** Server: a valid upgrade request (§4.2.1); answer with accept() or refuse(). */
  | { readonly type: 'upgrade'; readonly request: RequestHead; readonly offer: UpgradeOffer }
  /** Server: a plain HTTP request (no Upgrade) and the policy serves those; answer with respond(). */
  | { readonly type: 'http'; readonly request: RequestHead }
  /** The opening handshake failed: on a server, the error response is queued; on a client, the server's answer was not a valid 101. */
  | { readonly type: 'refused'; readonly error: WebSocketError }
  /** The connection is OPEN (§4.1, §4.2.2). On a client, `response` is the server's 101. */
  | { readonly type: 'open'; readonly protocol: string; readonly extensions: string; readonly response: ResponseHead | undefined }
  | { readonly type: 'message'; readonly data: Buffer; readonly isBinary: boolean }
  | { readonly type: 'ping'; readonly payload: Buffer }
  | { readonly type: 'pong'; readonly payload: Buffer }
  /** The peer's Close frame (§5.5.1): 1005 and '' when it had no code. Ours answers it. */
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  /** The peer broke the protocol; a Close with `error.closeCode` is queued and `end` follows. */
  | { readonly type: 'error'; readonly error: WebSocketError }
  /** Our Close is out and the peer's (or, on a client, the server's end of TCP) is awaited: arm the close timer. */
  | { readonly type: 'expect-close' }
  /** Write what is queued, then end the TCP connection (§7.1.1: the server closes first). */
  | { readonly type: 'end' }
  /** The connection is CLOSED: the code and reason to report (§7.1.5, §7.1.6), and whether both Close frames were exchanged. */
  | { readonly type: 'closed'; readonly code: number; readonly reason: string; readonly wasClean: boolean };

/** The server's policy that needs no waiting: what validateUpgrade checks, the path, the head limits. */
export interface ServerPolicy extends HeadParserOptions {
  /** Accept upgrades only on this path (the resource without its query); others get 404. */
  path?: string;
  /** Subprotocols by preference (a selector function is a hook: the binding runs it). */
  protocols?: readonly string[];
  allowedOrigins?: UpgradeOptions['allowedOrigins'];
  /** Plain HTTP requests are reported as 'http' events (someone serves them) instead of answered 426. */
  serveHttp?: boolean;
  /** Accept permessage-deflate (RFC 7692) under this policy. */
  perMessageDeflate?: DeflateServerPolicy;
}

/** How this side compresses once permessage-deflate is agreed (see src/deflate). */
export interface CompressionSettings {
  /** Messages shorter than this many bytes go uncompressed. Default 1024. */
  threshold?: number;
  /** zlib's level, 0..9 or -1 for its default. */
  level?: number;
  /** zlib's memLevel, 1..9. */
  memLevel?: number;
}

/** What a client offered, to check the server's answer against (§4.1). */
export interface ClientOffer {
  /** The request bytes and key, from `buildClientRequest`. */
  request: Buffer;
  key: string;
  protocols?: readonly string[];
  extensions?: readonly string[];
  /** Offered permessage-deflate under this policy: the answer is checked against it (RFC 7692 §5). */
  perMessageDeflate?: DeflateClientPolicy;
}

export type ConnectionRole =
  | { role: 'server'; policy?: ServerPolicy; maxPayload?: number; compression?: CompressionSettings }
  | { role: 'client'; offer: ClientOffer; maxPayload?: number; compression?: CompressionSettings };

/** Where CONNECTING is up to (one public `state`; this only says what CONNECTING waits for). */
const HEAD = 0;
const DECISION = 1;
const HANDSHAKE_DONE = 2;

/** What only the opening handshake needs: one record, made when it is first needed and dropped when the handshake ends. */
interface Opening {
  head: RequestHeadParser | ResponseHeadParser | undefined;
  /** Bytes that arrived behind the request head before the verdict: frames a client pipelined. */
  early: Buffer | undefined;
  offer: UpgradeOffer | undefined;
}

// Facts of a connection's life that, once true, stay true: bits of one small integer (a field per
// fact would cost eight bytes each on every idle connection).
/** We queued our Close frame (§5.5.1: no data frame may follow it). */
const CLOSE_SENT = 1;
/** The peer's Close frame arrived (§5.5.1: nothing after it is processed). */
const CLOSE_RECEIVED = 2;
/** `end` was queued (asked for once). */
const ENDING = 4;
/** `expect-close` was queued (asked for once). */
const EXPECTING = 8;
/** `closed` was reported. */
const REPORTED = 16;

// (It is its Receiver's ReceiverSink; no `implements` clause, so the published types show only the public API.)
//
// Memory: an idle connection is most of what a server holds, so what a connection needs only at
// times is made when it is needed and dropped when it is done — the handshake's record, the frame
// decoder (from the first frame byte), the outbox (while bytes wait), the event queue (while events
// wait) — and the yes/no facts share one integer.
export class Connection {
  /** Events not yet taken: `queue[taken ..]`. (Made on first need; dropped once all are taken.) */
  private queue: ConnectionEvent[] | undefined = undefined;
  private taken = 0;
  /** Bytes to write, in order (made on first need; dropped once taken: see {@link outbox}). */
  private box: Outbox | undefined = undefined;

  private _state: ReadyState = ReadyState.CONNECTING;
  private step = HEAD;
  private readonly options: ConnectionRole;
  private opening: Opening | undefined = undefined;
  /** The frame decoder, from the first byte after the handshake (see {@link receive}). */
  private receiver: Receiver | undefined = undefined;
  /** CLOSE_SENT, CLOSE_RECEIVED, ENDING, EXPECTING, REPORTED: see their constants. */
  private facts = 0;
  /** The code and reason the close reports: the peer's, ours on failure, 1006 if TCP just broke. */
  private closeCode = 1006;
  private closeReason = '';
  /** Set when the connection failed (§7.1.7); then every further byte is discarded. */
  private failure: WebSocketError | undefined = undefined;
  /** Opcode of the message being sent in fragments, or -1 between messages. */
  private sendingOpcode = -1;
  /** permessage-deflate's codec, once agreed (RFC 7692 §7.2). */
  private deflater: Deflater | undefined = undefined;
  private inflater: Inflater | undefined = undefined;

  /**
   * @param options the role and its settings. A server passes the same object to all its
   *   connections (it is only read): a connection then costs no options object of its own.
   */
  constructor(options: ConnectionRole) {
    this.options = options;
    if (options.role === 'client') this.outbox.raw(options.offer.request);
  }

  get role(): 'server' | 'client' {
    return this.options.role;
  }

  /**
   * Bytes to write, in order. Made when something is queued; once everything queued has been
   * taken ({@link takeOutgoing}) it is dropped, so an idle connection holds none.
   */
  get outbox(): Outbox {
    // §5.3: a client masks every frame it sends; a server never does.
    return (this.box ??= new Outbox(this.options.role === 'client'));
  }

  /** Bytes queued in the outbox and not yet taken. */
  get outgoingBytes(): number {
    return this.box === undefined ? 0 : this.box.bytes;
  }

  /**
   * Hands over everything queued, as {@link Outbox.take} does, and drops the emptied outbox.
   * @param detach see {@link Outbox.take}.
   */
  takeOutgoing(detach = false): Buffer[] {
    const box = this.box;
    if (box === undefined) return [];
    this.box = undefined;
    return box.take(detach);
  }

  private get closeSent(): boolean {
    return (this.facts & CLOSE_SENT) !== 0;
  }

  private get closeReceived(): boolean {
    return (this.facts & CLOSE_RECEIVED) !== 0;
  }

  // The handshake's fields, kept in its record (`opening`), which setting one makes.
  private get head(): RequestHeadParser | ResponseHeadParser | undefined {
    return this.opening?.head;
  }
  private set head(head: RequestHeadParser | ResponseHeadParser | undefined) {
    (this.opening ??= { head: undefined, early: undefined, offer: undefined }).head = head;
  }
  private get early(): Buffer | undefined {
    return this.opening?.early;
  }
  private set early(early: Buffer | undefined) {
    (this.opening ??= { head: undefined, early: undefined, offer: undefined }).early = early;
  }
  private get offer(): UpgradeOffer | undefined {
    return this.opening?.offer;
  }
  private set offer(offer: UpgradeOffer | undefined) {
    (this.opening ??= { head: undefined, early: undefined, offer: undefined }).offer = offer;
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED. */
  get state(): ReadyState {
    return this._state;
  }

  /** Whether both Close frames were exchanged and nothing failed (the close's `wasClean`). */
  get cleanClose(): boolean {
    return this.closeSent && this.closeReceived && this.failure === undefined;
  }

  /** Server: a request was read and waits for accept(), refuse() or respond(). */
  get awaitingVerdict(): boolean {
    return this.step === DECISION && this._state === ReadyState.CONNECTING;
  }

  /** The error that failed the connection, if any (§7.1.7). */
  get error(): WebSocketError | undefined {
    return this.failure;
  }

  /** How many events wait to be taken. */
  get pendingEvents(): number {
    return this.queue === undefined ? 0 : this.queue.length - this.taken;
  }

  /**
   * Takes the next event, or undefined when there is none. What the event makes this side send is
   * queued now (see the file's header): a Pong for a Ping (§5.5.2), our Close for the peer's
   * (§5.5.1), the failing Close for a protocol error (§7.1.7).
   */
  nextEvent(): ConnectionEvent | undefined {
    const queue = this.queue;
    if (queue === undefined) return undefined;
    if (this.taken === queue.length) {
      this.queue = undefined;
      this.taken = 0;
      return undefined;
    }
    const event = queue[this.taken++];
    switch (event.type) {
      case 'ping':
        // §5.5.2: answer a Ping with a Pong carrying the same payload, unless our Close is out.
        if (!this.closeSent) this.outbox.frame(Opcode.Pong, event.payload, true);
        break;
      case 'close':
        this.peerClosed(event.code, event.reason);
        break;
      case 'error':
        this.fail(event.error);
        break;
      case 'closed':
        if (!this.closeReceived && this.failure === undefined) {
          // §7.1.5: the connection closed without a Close frame from the peer: 1006, no reason.
          this.closeCode = 1006;
          this.closeReason = '';
        }
        return { type: 'closed', code: this.closeCode, reason: this.closeReason, wasClean: this.cleanClose };
    }
    return event;
  }

  /** Drops the events not yet taken (the connection failed and nothing of them matters any more). */
  discardEvents(): void {
    this.queue = undefined;
    this.taken = 0;
  }

  /** Whether a frame or a fragmented message has started and is not finished (its deadline runs). */
  get inProgress(): boolean {
    return this.receiver !== undefined && this.receiver.inProgress;
  }

  /** Bytes held for incomplete frames and messages (for memory accounting). */
  get bufferedBytes(): number {
    return this.receiver === undefined ? (this.early?.length ?? 0) : this.receiver.bufferedBytes;
  }

  /**
   * Feeds bytes read from the transport. Takes ownership of the chunk (masked payloads are unmasked
   * in place). Never throws for anything the peer sent.
   */
  receive(chunk: Buffer): void {
    const state = this._state;
    if (state === ReadyState.CONNECTING) {
      if (this.step === HEAD) this.readHead(chunk);
      else this.early = this.early === undefined ? chunk : Buffer.concat([this.early, chunk]);
      return;
    }
    // §5.5.1 / §7.1.7: after the peer's Close, or after failing, incoming data is not processed.
    if (state === ReadyState.CLOSED || this.closeReceived || this.failure !== undefined) return;
    // The decoder is made on the first byte after the handshake: a connection that never sends
    // holds none.
    (this.receiver ??= new Receiver({ role: this.role, maxPayload: this.options.maxPayload, inflate: this.inflater }, this)).push(chunk);
  }

  /**
   * Server, embedded in node:http: the request head was parsed by node:http; validate it as if
   * our parser had read it. `rest` is what followed the head.
   */
  receiveHead(request: RequestLike & RequestHead, rest: Buffer): void {
    this.expect(this.role === 'server' && this.step === HEAD, 'receiveHead');
    this.head = undefined;
    this.decide(request, rest);
  }

  // ---- the opening handshake (§4) ----------------------------------------------------------------

  private readHead(chunk: Buffer): void {
    if (this.options.role === 'server') {
      const parser = (this.head ??= new RequestHeadParser(this.options.policy)) as RequestHeadParser;
      const result = parser.push(chunk);
      if (result.state === 'incomplete') return;
      this.head = undefined;
      // The head parser gives every error its status: 400, or 431 for a head over the limits.
      if (result.state === 'error') return this.refuseWith(result.error, buildErrorResponse(result.error.status!, result.error.message));
      return this.decide(result.head, result.rest);
    }
    const parser = (this.head ??= new ResponseHeadParser()) as ResponseHeadParser;
    const result = parser.push(chunk);
    if (result.state === 'incomplete') return;
    this.head = undefined;
    if (result.state === 'error') return this.refuseWith(result.error, undefined);
    const offer = this.options.offer;
    // §4.1: the client MUST validate the server's response; any failure fails the connection.
    const check = validateServerResponse(result.head, {
      key: offer.key,
      protocols: offer.protocols,
      extensions: offer.extensions,
      perMessageDeflate: offer.perMessageDeflate,
    });
    if (!check.ok) return this.refuseWith(check.error, undefined);
    const extensions = (result.head.headers['sec-websocket-extensions'] as string | undefined) ?? '';
    this.open(check.protocol ?? '', extensions, check.deflate, result.head, result.rest);
  }

  /** Server: the request head is complete. Validate it (§4.2.1) and report what it asks for. */
  private decide(request: RequestHead, rest: Buffer): void {
    const policy = (this.options as { policy?: ServerPolicy }).policy ?? {};
    // A request that does not ask for an upgrade at all is plain HTTP: served, if anyone serves it.
    if (request.headers.upgrade === undefined && policy.serveHttp === true) {
      this.step = DECISION;
      this.push({ type: 'http', request });
      return;
    }
    const decision = validateUpgrade(request, {
      protocols: policy.protocols,
      allowedOrigins: policy.allowedOrigins,
      perMessageDeflate: policy.perMessageDeflate,
    });
    if (!decision.ok) return this.refuseWith(decision.error, decision.response);
    // The resource is the target's path and query, also for an absolute-form target (RFC 9112 §3.2.2).
    if (policy.path !== undefined && pathOf(decision.resource) !== policy.path) {
      const message = `No WebSocket endpoint at this path; connect to ${policy.path}.`;
      const error = new WebSocketError('WS_ERR_HANDSHAKE_TARGET', message, { status: 404, side: 'remote' });
      return this.refuseWith(error, buildErrorResponse(404, message));
    }
    this.step = DECISION;
    this.offer = decision;
    if (rest.length > 0) this.early = rest;
    this.push({ type: 'upgrade', request, offer: decision });
  }

  /**
   * Server: accept the upgrade the 'upgrade' event reported: the 101 response (§4.2.2 step 5) is
   * queued and the connection is OPEN. `protocol` must be one the client offered. The extensions
   * answered are the permessage-deflate agreement the policy reached, if any.
   * Throws (a local error) when there is nothing to accept or the protocol was not offered.
   */
  accept(options: { protocol?: string; headers?: HeaderInput } = {}): void {
    this.expect(this.offer !== undefined && this._state === ReadyState.CONNECTING, 'accept');
    const offer = this.offer!;
    if (options.protocol !== undefined && !offer.offeredProtocols.includes(options.protocol)) {
      // §4.2.2 step 5.5: the server selects one of the client's values, or none.
      throw new WebSocketError('WS_ERR_HANDSHAKE_PROTOCOL', `Subprotocol ${JSON.stringify(options.protocol)} was not offered by the client.`, {
        side: 'local',
      });
    }
    const extensions = offer.deflate?.response ?? '';
    // Built before any state changes: invalid extra headers throw and leave the verdict open.
    const response = buildAcceptResponse(offer.accept, { ...options, extensions });
    this.outbox.raw(response);
    const early = this.early ?? EMPTY;
    this.open(options.protocol ?? '', extensions, offer.deflate?.params, undefined, early);
  }

  /**
   * Server: refuse the upgrade (or the plain request) with an HTTP error response, and end TCP.
   * Also before the request is read, e.g. at a connection limit (503).
   */
  refuse(status: number, message: string, headers?: Record<string, string>, code: ErrorCode = 'WS_ERR_HANDSHAKE_REFUSED'): void {
    this.expect(this.role === 'server' && this._state === ReadyState.CONNECTING, 'refuse');
    // Built first: a status or header the caller got wrong throws before anything changes.
    const response = buildErrorResponse(status, message, headers);
    const error = new WebSocketError(code, message, { status, side: 'remote' });
    this.refuseWith(error, response);
  }

  /** Server: answer the plain HTTP request the 'http' event reported, and end TCP. */
  respond(response: { status: number; headers?: Record<string, string>; body?: string | Buffer }, head: boolean): void {
    this.expect(this._state === ReadyState.CONNECTING && this.step === DECISION && this.offer === undefined, 'respond');
    this.outbox.raw(buildHttpResponse(response.status, response.headers ?? {}, response.body ?? '', { head }));
    this.finishHandshake();
  }

  private refuseWith(error: WebSocketError, response: Buffer | undefined): void {
    if (response !== undefined) this.outbox.raw(response);
    this.push({ type: 'refused', error });
    this.finishHandshake();
  }

  /** The handshake ended without a connection: whatever was queued goes out, then TCP ends. */
  private finishHandshake(): void {
    this.step = HANDSHAKE_DONE;
    this.opening = undefined;
    this._state = ReadyState.CLOSED;
    this.end();
  }

  private open(protocol: string, extensions: string, deflate: DeflateParameters | undefined, response: ResponseHead | undefined, rest: Buffer): void {
    this.step = HANDSHAKE_DONE;
    this.opening = undefined;
    this._state = ReadyState.OPEN;
    if (deflate !== undefined) {
      // RFC 7692 §7.1: the server_* parameters bind the server's compressor, client_* the client's.
      const codec = codecOptions(deflate, this.role);
      this.deflater = new Deflater({ ...this.options.compression, ...codec.deflater });
      this.inflater = new Inflater({ ...codec.inflater, maxPayload: this.options.maxPayload });
    }
    this.push({ type: 'open', protocol, extensions, response });
    // Frames the peer sent right behind the handshake are frames like any other.
    if (rest.length > 0) this.receive(rest);
  }

  // ---- sending (§5) -------------------------------------------------------------------------------

  /**
   * Queues a data frame. `fin: false` starts or continues a fragmented message (§5.4).
   * @returns false when the data was dropped because the closing handshake has begun.
   */
  send(data: Buffer | string, isBinary: boolean, fin = true): boolean {
    if (this.notOpen('send')) return false;
    // §5.4: only the first fragment carries the opcode; the rest are continuations.
    let opcode: number = Opcode.Continuation;
    if (this.sendingOpcode === -1) opcode = isBinary ? Opcode.Binary : Opcode.Text;
    this.sendingOpcode = fin ? -1 : opcode === Opcode.Continuation ? this.sendingOpcode : opcode;
    const deflater = this.deflater;
    if (deflater !== undefined && fin && opcode !== Opcode.Continuation) {
      // RFC 7692 §7.2.1: a whole message is compressed and sent with RSV1 on its (one) frame. A
      // message sent in fragments goes uncompressed: the extension allows it, message by message.
      // (A string too short to reach the threshold is never encoded just to find that out.)
      const bytes = typeof data !== 'string' ? data : data.length * 3 < deflater.threshold ? undefined : Buffer.from(data, 'utf8');
      if (bytes !== undefined) {
        const compressed = deflater.compress(bytes);
        if (compressed !== undefined) {
          this.outbox.frame(opcode, compressed, true, true);
          return true;
        }
        data = bytes;
      }
    }
    if (typeof data === 'string') this.outbox.text(data, fin, opcode);
    else this.outbox.frame(opcode, data, fin);
    return true;
  }

  /**
   * What a broadcast may share with this connection: `null` when it compresses nothing (the plain
   * frame), a key when it compresses without context takeover (every connection with that key
   * gets the same bytes: compressed once), or `undefined` with context takeover (its bytes depend
   * on its history: it compresses its own copy).
   */
  get shareKey(): string | null | undefined {
    return this.deflater === undefined ? null : this.deflater.shareKey;
  }

  /** The complete frame of a whole message as this connection would send it, for every connection with its {@link shareKey}. */
  encodeMessage(payload: Buffer, isBinary: boolean): Buffer {
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    const compressed = this.deflater?.compress(payload);
    return Buffer.concat(encodeFrame(opcode, compressed ?? payload, { rsv1: compressed !== undefined }));
  }

  /** Queues bytes that are already a complete frame (a broadcast, encoded once for many). */
  sendFrame(frame: Buffer): boolean {
    if (this.notOpen('send')) return false;
    this.outbox.raw(frame);
    return true;
  }

  /** Queues a Ping (§5.5.2). The payload is at most 125 bytes (§5.5). @returns false when dropped. */
  ping(payload: Buffer): boolean {
    return this.control(Opcode.Ping, payload, 'ping');
  }

  /** Queues an unsolicited Pong (§5.5.3: a unidirectional heartbeat). @returns false when dropped. */
  pong(payload: Buffer): boolean {
    return this.control(Opcode.Pong, payload, 'pong');
  }

  /**
   * Starts the closing handshake (§7.1.2). A second call, or a call after the peer's Close was
   * answered, does nothing: only one Close frame is ever sent. Throws for a code that may not be
   * sent (§7.4.1) or a reason over 123 bytes (§5.5), in every state.
   */
  close(code?: number, reason = ''): void {
    // Encoded first, so a wrong code or reason is reported whatever the state.
    const payload = encodeClosePayload(code, reason);
    if (this._state !== ReadyState.OPEN) return;
    this.outbox.frame(Opcode.Close, payload, true);
    this.facts |= CLOSE_SENT;
    this._state = ReadyState.CLOSING;
    // (The peer's Close cannot have come first: onClose answers it at once, so state would be CLOSING.)
    this.closeCode = code ?? 1005;
    this.closeReason = reason;
    this.closingStep();
  }

  /**
   * Fails the connection from this side (§7.1.7), e.g. 1011 when the application itself broke or a
   * peer was too slow: queue a Close frame if none was sent (with `reason`, at most 123 bytes; none
   * for the peer's protocol errors, whose details stay here), then end TCP.
   */
  fail(error: WebSocketError, reason = ''): void {
    if (this.failure !== undefined || (this._state !== ReadyState.OPEN && this._state !== ReadyState.CLOSING)) return;
    this.failure = error;
    if (!this.closeSent) {
      this.outbox.frame(Opcode.Close, encodeClosePayload(error.closeCode ?? 1011, reason), true);
      this.facts |= CLOSE_SENT;
    }
    this.closeCode = error.closeCode ?? 1011;
    this.closeReason = reason;
    this._state = ReadyState.CLOSING;
    this.end();
  }

  /** The transport is gone (EOF, error or our own end): the connection is CLOSED (§7.1.4). */
  transportClosed(): void {
    if ((this.facts & REPORTED) !== 0) return;
    this.facts |= REPORTED;
    this._state = ReadyState.CLOSED;
    this.step = HANDSHAKE_DONE;
    this.opening = undefined;
    this.receiver = undefined;
    // Pooled zlib engines go back; a connection's own window is freed.
    this.deflater?.close();
    this.inflater?.close();
    // The code is read when the event is taken: a Close parsed before TCP ended but not yet taken
    // still decides it.
    this.push(CLOSED);
  }

  // ---- ReceiverSink: what the frame codec found in the incoming bytes ---------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.push({ type: 'message', data, isBinary });
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.push({ type: 'ping', payload });
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.push({ type: 'pong', payload });
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    // The frame decoder reads nothing after a Close (§5.5.1); the rest happens when it is taken.
    this.push({ type: 'close', code, reason });
  }

  /** The peer's Close, taken: answer it and move the closing handshake on. */
  private peerClosed(code: number, reason: string): void {
    this.facts |= CLOSE_RECEIVED;
    this.closeCode = code;
    this.closeReason = reason;
    if (!this.closeSent) {
      // §5.5.1: answer with a Close; echoing the status code (and reason) is what peers expect.
      // A Close without a code (1005) is answered without one: 1005 never goes on the wire (§7.4.1).
      const echo = code === 1005 ? encodeClosePayload() : encodeClosePayload(code, reason);
      this.outbox.frame(Opcode.Close, echo, true);
      this.facts |= CLOSE_SENT;
      this._state = ReadyState.CLOSING;
    }
    this.closingStep();
  }

  /** @internal */
  onError(error: WebSocketError): void {
    // The frame decoder reads nothing after a failure (§7.1.7); the Close goes out when it is taken.
    this.push({ type: 'error', error });
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /**
   * After a step of the closing handshake: once both Close frames are exchanged the server ends TCP
   * (§7.1.1: "the server MUST close the underlying TCP connection first"); a client, or a side whose
   * Close is not answered yet, waits — with a timer the binding arms.
   */
  private closingStep(): void {
    if (this.closeReceived && this.closeSent && this.role === 'server') {
      this.end();
    } else if ((this.facts & EXPECTING) === 0) {
      this.facts |= EXPECTING;
      this.push({ type: 'expect-close' });
    }
  }

  private end(): void {
    if ((this.facts & ENDING) !== 0) return;
    this.facts |= ENDING;
    this.push({ type: 'end' });
  }

  private push(event: ConnectionEvent): void {
    (this.queue ??= []).push(event);
  }

  /** The verb table: CONNECTING throws, CLOSING and CLOSED drop (false), OPEN goes on. */
  private notOpen(verb: string): boolean {
    const state = this._state;
    if (state === ReadyState.OPEN) return false;
    if (state === ReadyState.CONNECTING) {
      throw new WebSocketError('WS_ERR_NOT_OPEN', `Cannot ${verb} while the connection is CONNECTING: wait for 'open'.`, { side: 'local' });
    }
    return true;
  }

  private control(opcode: number, payload: Buffer, verb: string): boolean {
    if (payload.length > 125) {
      throw new WebSocketError('WS_ERR_CONTROL_FRAME_TOO_BIG', `A ${verb} payload is at most 125 bytes (RFC 6455 §5.5); got ${payload.length}.`, {
        side: 'local',
      });
    }
    if (this.notOpen(verb) || this.closeSent) return false;
    this.outbox.frame(opcode, payload, true);
    return true;
  }

  private expect(condition: boolean, verb: string): void {
    if (!condition) {
      throw new WebSocketError('WS_ERR_INVALID_STATE', `${verb}() does not apply now: the connection is ${STATE_NAME[this._state]}.`, {
        side: 'local',
      });
    }
  }
}

const EMPTY = Buffer.alloc(0);
/** The marker `transportClosed` queues; `nextEvent` hands out the record with the code. */
const CLOSED: ConnectionEvent = { type: 'closed', code: 1006, reason: '', wasClean: false };
const STATE_NAME = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
