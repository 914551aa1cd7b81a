/**
 * `Conversation`: what `trace` sees in one relayed connection, without the sockets. The relay hands
 * it every chunk each side sends and tells it when TCP ends; it answers with events — the HTTP
 * heads, every frame and message in both directions, the rules broken, and the connection's
 * states (RFC 6455 §7.1: CONNECTING → OPEN → CLOSING → CLOSED).
 *
 * It only ever watches: it holds the heads until they are complete (at most 16 KiB each, the head
 * parser's cap) and a short preview of each frame and message, never a message itself.
 */
import { acceptKey } from '../handshake/index.js';
import {
  type HeaderMap,
  type HeadResult,
  type RequestHead,
  type ResponseHead,
  RequestHeadParser,
  ResponseHeadParser,
  parseExtensions,
} from '../handshake/index.js';
import { WebSocketError } from '../errors.js';
import { type ReadFrame, type ReadMessage, type ReadFailure, WireReader } from './reader.js';
import { type Side, opcodeName, other, wholeCharacters } from './words.js';
import { isValidUtf8 } from '../frames/index.js';

/** The connection's states, as the WebSocket API names them (RFC 6455 §4.1, §7.1.3, §7.1.4). */
export type ConnectionState = 'CONNECTING' | 'OPEN' | 'CLOSING' | 'CLOSED';

/** Payload bytes kept to preview each frame and message. */
export const PREVIEW_BYTES = 64;

/** Bytes a client may send after its request and before the server's answer, held to be decoded once the answer says how. */
export const EARLY_LIMIT = 64 * 1024;

/** One frame as `trace` reports it: JSON-ready (payloads as hex). */
export interface FrameEvent {
  event: 'frame';
  conn: number;
  from: Side;
  index: number;
  opcode: number;
  type: string;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  masked: boolean;
  /** The masking key, 8 hex digits. */
  maskKey?: string;
  length: number;
  /** Hex of the first PREVIEW_BYTES of the unmasked payload. */
  preview: string;
  /** The preview as text, when it is text (a Text message's frames, a Ping or Pong) and UTF-8. */
  text?: string;
  message?: number;
  fragment?: number;
  close?: { code: number; reason: string };
}

export interface MessageEvent {
  event: 'message';
  conn: number;
  from: Side;
  index: number;
  type: 'Text' | 'Binary';
  frames: number;
  length: number;
  compressed: boolean;
  preview: string;
  text?: string;
}

export type TraceEvent =
  | { event: 'listening'; url: string; target: string }
  | { event: 'connection'; conn: number; client: string; target: string }
  | { event: 'unreachable'; conn: number; target: string; error: string }
  | { event: 'request'; conn: number; lines: string[] }
  | {
      event: 'response';
      conn: number;
      status: number;
      lines: string[];
      /** The Sec-WebSocket-Accept check (§4.1, §4.2.2 step 5.4), when the answer is 101. */
      accept?: { key: string | undefined; expected: string | undefined; received: string | undefined; ok: boolean };
      extensions: string[];
    }
  | { event: 'not-http'; conn: number; from: Side; error: string }
  | {
      event: 'state';
      conn: number;
      from: ConnectionState;
      to: ConnectionState;
      why: string;
      /** Who sent the first Close (→ CLOSING), or who closed TCP first (→ CLOSED). */
      by?: Side;
      code?: number;
      reason?: string;
      /** → CLOSED: whether both Close frames passed before TCP closed (§7.1.4). */
      clean?: boolean;
    }
  | { event: 'close-answered'; conn: number; from: Side; code: number; reason: string }
  | FrameEvent
  | MessageEvent
  | { event: 'violation'; conn: number; from: Side; frame: number; code: string; closeCode: number; message: string }
  | { event: 'undecoded'; conn: number; from: Side; why: string }
  | { event: 'tcp'; conn: number; from: Side; how: 'fin' | 'reset'; first: boolean };

type HeadParser = RequestHeadParser | ResponseHeadParser;

/** One direction of the conversation. */
interface Half {
  readonly from: Side;
  /** head: reading the HTTP head; early: the client's bytes before the answer; frames; opaque: not decoded. */
  phase: 'head' | 'early' | 'frames' | 'opaque';
  parser: HeadParser;
  raw: Buffer[];
  rawLength: number;
  reader: WireReader | undefined;
  ended: boolean;
}

export class Conversation {
  state: ConnectionState = 'CONNECTING';
  private readonly client: Half;
  private readonly server: Half;
  private request: RequestHead | undefined = undefined;
  private firstClose: Side | undefined = undefined;
  private closeAnswered = false;
  private tcpFirst: Side | undefined = undefined;
  private status = 0;
  private early: Buffer[] = [];
  private earlyLength = 0;

  constructor(
    readonly conn: number,
    private readonly emit: (event: TraceEvent) => void,
  ) {
    this.client = half('client', new RequestHeadParser());
    this.server = half('server', new ResponseHeadParser());
  }

  /** Bytes the conversation holds (heads in progress, early bytes, previews): bounded whatever passes. */
  get heldBytes(): number {
    const reader = (h: Half): number => h.rawLength + (h.reader?.heldBytes ?? 0);
    return reader(this.client) + reader(this.server) + this.earlyLength;
  }

  /** Bytes the client sent. The conversation may modify them (it unmasks in place): pass a copy. */
  fromClient(chunk: Buffer): void {
    this.data(this.client, chunk);
  }

  /** Bytes the server sent (pass a copy, as for the client). */
  fromServer(chunk: Buffer): void {
    this.data(this.server, chunk);
  }

  /** A side ended TCP: `fin` (it closed its half) or `reset` (an error, or an abrupt close). */
  tcpEnded(side: Side, how: 'fin' | 'reset'): void {
    const h = side === 'client' ? this.client : this.server;
    if (h.ended) return;
    h.ended = true;
    const first = this.tcpFirst === undefined;
    if (first) this.tcpFirst = side;
    this.emit({ event: 'tcp', conn: this.conn, from: side, how, first });
  }

  /** Both TCP connections are closed: the WebSocket connection is closed (§7.1.4). */
  closed(): void {
    const from = this.state;
    if (from === 'CLOSED') return;
    this.state = 'CLOSED';
    const by = this.tcpFirst;
    const clean = from === 'CLOSING' && this.closeAnswered;
    let why: string;
    if (from === 'CONNECTING') {
      why = this.status === 0 ? 'TCP closed before the handshake completed' : `the handshake was refused (${this.status}): no WebSocket connection`;
    } else if (clean) {
      why = 'TCP closed after the closing handshake (§7.1.4)';
    } else if (from === 'CLOSING') {
      why = 'TCP closed before the Close was answered: 1006 Abnormal Closure (§7.1.5)';
    } else {
      why = 'TCP closed without a closing handshake: 1006 Abnormal Closure (§7.1.5)';
    }
    const event: TraceEvent = { event: 'state', conn: this.conn, from, to: 'CLOSED', why, clean };
    if (by !== undefined) event.by = by;
    this.emit(event);
  }

  private data(h: Half, chunk: Buffer): void {
    switch (h.phase) {
      case 'head':
        return this.head(h, chunk);
      case 'early':
        return this.hold(chunk);
      case 'frames':
        return (h.reader as WireReader).push(chunk);
      default:
        return;
    }
  }

  private head(h: Half, chunk: Buffer): void {
    h.raw.push(chunk);
    h.rawLength += chunk.length;
    const result: HeadResult<RequestHead | ResponseHead> = h.parser.push(chunk);
    if (result.state === 'incomplete') return;
    const all = Buffer.concat(h.raw);
    h.raw = [];
    h.rawLength = 0;
    if (result.state === 'error') {
      h.phase = 'opaque';
      this.emit({ event: 'not-http', conn: this.conn, from: h.from, error: result.error.message });
      return;
    }
    const lines = all.subarray(0, all.length - result.rest.length).toString('latin1').split('\r\n');
    lines.length -= 2; // the empty line that ends the head, and what follows its CRLF
    if (h.from === 'client') {
      this.request = result.head as RequestHead;
      this.emit({ event: 'request', conn: this.conn, lines });
      h.phase = 'early';
      if (this.server.phase === 'frames' || this.server.phase === 'opaque') this.release();
    } else {
      this.response(result.head as ResponseHead, lines);
    }
    if (result.rest.length > 0) this.data(h, result.rest);
  }

  private response(head: ResponseHead, lines: string[]): void {
    this.status = head.status;
    const event: TraceEvent & { event: 'response' } = { event: 'response', conn: this.conn, status: head.status, lines, extensions: [] };
    if (head.status !== 101) {
      // §4.1: anything but 101 means no WebSocket; what follows is plain HTTP (a body), not frames.
      this.server.phase = 'opaque';
      this.emit(event);
      this.release();
      return;
    }
    const key = header(this.request?.headers, 'sec-websocket-key');
    const expected = key === undefined ? undefined : acceptKey(key);
    const received = header(head.headers, 'sec-websocket-accept');
    event.accept = { key, expected, received, ok: expected !== undefined && expected === received };
    const offered = header(head.headers, 'sec-websocket-extensions');
    const parsed = offered === undefined ? [] : parseExtensions(offered);
    event.extensions = parsed instanceof WebSocketError ? [] : parsed.map((e) => e.name);
    // RFC 7692 §6: permessage-deflate claims RSV1 for compressed messages, in both directions.
    const allowRsv1 = event.extensions.includes('permessage-deflate');
    this.emit(event);
    this.server.phase = 'frames';
    this.server.reader = this.reader('server', allowRsv1);
    this.client.reader = this.reader('client', allowRsv1);
    this.state = 'OPEN';
    this.emit({ event: 'state', conn: this.conn, from: 'CONNECTING', to: 'OPEN', why: '101 Switching Protocols: from now on both sides send frames (§4.2.2)' });
    this.release();
  }

  /** The client's early bytes wait for the server's answer, which says whether they are frames. */
  private hold(chunk: Buffer): void {
    if (this.earlyLength + chunk.length > EARLY_LIMIT) {
      this.client.phase = 'opaque';
      this.early = [];
      this.earlyLength = 0;
      this.emit({ event: 'undecoded', conn: this.conn, from: 'client', why: `over ${EARLY_LIMIT} bytes sent before the server answered the handshake (§4.1: a client waits for the answer)` });
      return;
    }
    this.early.push(chunk);
    this.earlyLength += chunk.length;
  }

  /** The answer is known: the client's early bytes are frames (101) or not WebSocket at all. */
  private release(): void {
    if (this.client.phase !== 'early') return;
    const early = this.early;
    this.early = [];
    this.earlyLength = 0;
    if (this.client.reader === undefined) {
      this.client.phase = 'opaque';
      return;
    }
    this.client.phase = 'frames';
    for (const chunk of early) this.client.reader.push(chunk);
  }

  private reader(from: Side, allowRsv1: boolean): WireReader {
    return new WireReader(
      { from, allowRsv1, keep: PREVIEW_BYTES },
      {
        frame: (frame) => this.frame(from, frame),
        message: (message) => this.emit(messageEvent(this.conn, from, message)),
        failure: (failure) => this.failure(from, failure),
      },
    );
  }

  private frame(from: Side, frame: ReadFrame): void {
    this.emit(frameEvent(this.conn, from, frame));
    if (frame.close === undefined) return;
    const { code, reason } = frame.close;
    if (this.state === 'OPEN') {
      this.state = 'CLOSING';
      this.firstClose = from;
      this.emit({
        event: 'state',
        conn: this.conn,
        from: 'OPEN',
        to: 'CLOSING',
        why: `the ${from} started the closing handshake (§7.1.3); the ${other(from)} must answer with Close (§5.5.1)`,
        by: from,
        code,
        reason,
      });
    } else if (this.firstClose === other(from) && !this.closeAnswered) {
      this.closeAnswered = true;
      this.emit({ event: 'close-answered', conn: this.conn, from, code, reason });
    }
  }

  private failure(from: Side, failure: ReadFailure): void {
    const { error } = failure;
    this.emit({
      event: 'violation',
      conn: this.conn,
      from,
      frame: failure.frame.index,
      code: error.code,
      closeCode: error.closeCode as number,
      message: error.message,
    });
  }
}

function half(from: Side, parser: HeadParser): Half {
  return { from, phase: 'head', parser, raw: [], rawLength: 0, reader: undefined, ended: false };
}

/** A header of a head our parser read: one string, repeated fields already joined (RFC 9110 §5.3). */
function header(headers: HeaderMap | undefined, name: string): string | undefined {
  return headers?.[name] as string | undefined;
}

/** The preview as text: its whole characters, when they are UTF-8. */
function textOf(bytes: Buffer, total: number): string | undefined {
  const whole = bytes.length < total ? wholeCharacters(bytes) : bytes;
  return isValidUtf8(whole) ? whole.toString('utf8') : undefined;
}

function frameEvent(conn: number, from: Side, frame: ReadFrame): FrameEvent {
  const event: FrameEvent = {
    event: 'frame',
    conn,
    from,
    index: frame.index,
    opcode: frame.opcode,
    type: opcodeName(frame.opcode),
    fin: frame.fin,
    rsv1: frame.rsv1,
    rsv2: frame.rsv2,
    rsv3: frame.rsv3,
    masked: frame.masked,
    length: frame.length,
    preview: frame.payload.subarray(0, PREVIEW_BYTES).toString('hex'),
  };
  if (frame.maskKey !== undefined) event.maskKey = frame.maskKey.toString('hex');
  // Text is shown for the frames of an uncompressed Text message (only those have `utf8`) and for
  // Ping and Pong, whose payload is often a word.
  if (frame.utf8 !== undefined || frame.opcode === 9 || frame.opcode === 10) {
    const text = frame.fragment !== undefined && frame.fragment > 1 && (frame.payload[0] & 0xc0) === 0x80 ? undefined : textOf(frame.payload, frame.length);
    if (text !== undefined) event.text = text;
  }
  if (frame.message !== undefined) {
    event.message = frame.message;
    event.fragment = frame.fragment;
  }
  if (frame.close !== undefined) event.close = frame.close;
  return event;
}

function messageEvent(conn: number, from: Side, message: ReadMessage): MessageEvent {
  const event: MessageEvent = {
    event: 'message',
    conn,
    from,
    index: message.index,
    type: message.binary ? 'Binary' : 'Text',
    frames: message.frames,
    length: message.length,
    compressed: message.compressed,
    preview: message.preview.toString('hex'),
  };
  if (!message.binary && !message.compressed) {
    const text = textOf(message.preview, message.length);
    if (text !== undefined) event.text = text;
  }
  return event;
}
