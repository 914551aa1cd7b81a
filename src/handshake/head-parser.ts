/**
 * An incremental parser for the head of an HTTP/1.1 message (RFC 9112 §2-§5): the start line and
 * the header fields, up to and including the empty line that ends them.
 *
 * It is the first thing peer bytes meet, so it is strict in the ways a real HTTP server is:
 *
 * - every line ends in CRLF; a bare LF or a bare CR is an error, never silently accepted
 *   (RFC 9112 §2.2: a bare CR "MUST" be treated as invalid or replaced; we refuse it);
 * - obs-fold (a field line that starts with whitespace) is refused (RFC 9112 §5.2);
 * - a field name is a token with no whitespace before the colon (RFC 9112 §5.1);
 * - a field value holds only field-vchar, SP and HTAB (RFC 9110 §5.5);
 * - the head has a size cap and a field-count cap, both answered with 431 (RFC 6585 §5);
 * - what it holds is bounded by the same cap, whatever the chunking: a line that spans pushes is
 *   appended into one buffer of at most `maxHeadSize` bytes (see `bufferedBytes`).
 *
 * It owns no socket: `push()` takes whatever chunks arrive and answers `incomplete`, `complete`
 * (with the bytes that followed the empty line — a pipelined frame must not be lost) or `error`.
 * The answer depends only on the bytes, never on how they were split into chunks.
 */
import { WebSocketError } from '../errors.js';
import type { HandshakeErrorCode } from './codes.js';
import { isFieldValueChar, isToken, trimOws } from './tokens.js';

/**
 * Header fields by lower-case name; a repeated field is one value joined with ", " (RFC 9110 §5.3),
 * except `set-cookie`, always a list of its lines (RFC 6265 §3), as node:http gives it.
 */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** A parsed request head. Same field names as node:http's IncomingMessage. */
export interface RequestHead {
  /** The method token, case-sensitive (RFC 9110 §9.1): `GET`, not `get`. */
  method: string;
  /** The request-target exactly as sent (RFC 9112 §3.2), e.g. `/chat?room=1`. */
  url: string;
  /** `major.minor`, e.g. `1.1` (RFC 9112 §2.3). */
  httpVersion: string;
  /** Lower-case field names; a null-prototype object, so `constructor` or `__proto__` are plain names. */
  headers: HeaderMap;
}

/** A parsed response head. */
export interface ResponseHead {
  httpVersion: string;
  /** The three-digit status code (RFC 9110 §15). */
  status: number;
  /** The reason phrase, which carries no meaning (RFC 9112 §4); may be empty. */
  statusText: string;
  headers: HeaderMap;
}

/** Limits on what the parser buffers before it gives up. */
export interface HeadParserOptions {
  /**
   * Largest head accepted, in bytes, counting the start line, every field line with its CRLF and
   * the final empty line. Default 16384 (16 KiB, like h11 and Node's own default). Larger → 431.
   */
  maxHeadSize?: number;
  /** Most header field lines accepted. Default 100. More → 431. */
  maxHeaderCount?: number;
}

/** What one `push()` found. */
export type HeadResult<T> =
  | { state: 'incomplete' }
  | { state: 'complete'; head: T; rest: Buffer }
  | { state: 'error'; error: WebSocketError };

export const DEFAULT_MAX_HEAD_SIZE = 16 * 1024;
export const DEFAULT_MAX_HEADER_COUNT = 100;

/**
 * First size of the buffer for a line that spans pushes: every request line and field line a
 * browser sends fits, so a head that arrives in small pieces usually needs one allocation.
 */
const FIRST_LINE_BUFFER = 256;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** The parser's states: where the next complete line belongs. Failure is a state, not a flag. */
const State = {
  START_LINE: 0,
  FIELDS: 1,
  DONE: 2,
  FAILED: 3,
} as const;
type State = (typeof State)[keyof typeof State];

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WebSocketError('WS_ERR_INVALID_OPTION', `${name} must be a positive integer, got ${String(value)}`, {
      side: 'local',
    });
  }
  return value;
}

/**
 * The machinery shared by requests and responses: line splitting, limits, field lines.
 * Subclasses only say how to read the start line and what status their errors carry.
 */
abstract class HeadParser<T> {
  private state: State = State.START_LINE;
  private readonly maxHeadSize: number;
  private readonly maxHeaderCount: number;
  /**
   * The current line while it has no LF yet, held across pushes in ONE buffer: made on first need
   * at {@link FIRST_LINE_BUFFER} bytes, doubled when a line outgrows it, never larger than
   * `maxHeadSize` (a line that would pass the cap fails with 431 before it is copied). It is kept
   * for the next partial line and dropped when the head completes or fails.
   */
  private lineBuffer: Buffer | undefined = undefined;
  /** Bytes of the partial line in `lineBuffer`. */
  private partialLength = 0;
  /** Bytes of the head consumed so far, in complete lines. */
  private consumed = 0;
  private fieldCount = 0;
  private failure: WebSocketError | undefined;
  protected readonly headers: HeaderMap = Object.create(null) as HeaderMap;

  constructor(options: HeadParserOptions = {}) {
    this.maxHeadSize = checkLimit('maxHeadSize', options.maxHeadSize, DEFAULT_MAX_HEAD_SIZE);
    this.maxHeaderCount = checkLimit('maxHeaderCount', options.maxHeaderCount, DEFAULT_MAX_HEADER_COUNT);
  }

  /** The status an error answers with: 400/431 for a request; none for a response (a client sends none). */
  protected abstract status(status: 400 | 431): number | undefined;
  /** Read the start line; return an error to fail. */
  protected abstract startLine(line: string): WebSocketError | undefined;
  /** Called for each field, after it has been checked and stored; may refuse it. */
  protected onField(_name: string): WebSocketError | undefined {
    return undefined;
  }
  /** Build the head once the empty line has arrived. */
  protected abstract finish(): T;

  /**
   * Feed the next bytes. After `complete` the parser is done: the bytes that followed the head are
   * in `rest` (a view of `chunk`, not a copy), and pushing again is a local bug that throws. After
   * `error` it stays failed and answers the same error, whatever comes next (RFC 6455 §7.1.7 spirit).
   */
  push(chunk: Buffer): HeadResult<T> {
    if (this.state === State.FAILED) return { state: 'error', error: this.failure as WebSocketError };
    if (this.state === State.DONE) {
      throw new WebSocketError('WS_ERR_PARSER_DONE', 'the head is already complete; the bytes after it were returned as `rest`', {
        side: 'local',
      });
    }
    let offset = 0;
    while (offset < chunk.length) {
      const lf = chunk.indexOf(LF, offset);
      if (lf === -1) {
        // No line end yet: copy the bytes (the caller may reuse its buffer once push() returns),
        // but never more than the head may hold.
        if (this.consumed + this.partialLength + (chunk.length - offset) > this.maxHeadSize) return this.fail(this.tooLarge());
        this.append(chunk, offset, chunk.length);
        return { state: 'incomplete' };
      }
      const lineLength = this.partialLength + (lf - offset) + 1;
      if (this.consumed + lineLength > this.maxHeadSize) return this.fail(this.tooLarge());
      let line: Buffer;
      if (this.partialLength === 0) {
        line = chunk.subarray(offset, lf); // the whole line is in this chunk: no copy
      } else {
        // `line()` copies what it keeps into strings, so a view of the line buffer is enough.
        this.append(chunk, offset, lf);
        line = (this.lineBuffer as Buffer).subarray(0, this.partialLength);
      }
      this.partialLength = 0;
      this.consumed += lineLength;
      offset = lf + 1;

      const error = this.line(line);
      if (error !== undefined) return this.fail(error);
      if (this.isDone()) {
        this.lineBuffer = undefined;
        return { state: 'complete', head: this.finish(), rest: chunk.subarray(offset) };
      }
    }
    return { state: 'incomplete' };
  }

  /**
   * Memory held for a line that has not ended yet: the size of the line buffer (at least the bytes
   * of that line), 0 before the first partial line and after the head completed or failed. Never
   * more than `maxHeadSize`, however the head is chunked — a head trickled one byte per push costs
   * one buffer, not one copy per push.
   */
  get bufferedBytes(): number {
    return this.lineBuffer === undefined ? 0 : this.lineBuffer.length;
  }

  /** Copy `chunk[start, end)` after the partial line; the caller has checked it fits maxHeadSize. */
  private append(chunk: Buffer, start: number, end: number): void {
    const needed = this.partialLength + (end - start);
    let buffer = this.lineBuffer;
    if (buffer === undefined || buffer.length < needed) {
      // Doubling keeps the copies of a line trickled byte by byte linear in its length; the cap
      // keeps the buffer within what the head may hold (needed <= maxHeadSize, checked by push()).
      const size = Math.min(this.maxHeadSize, Math.max(FIRST_LINE_BUFFER, needed, (buffer?.length ?? 0) * 2));
      // Own memory, not a slice of Node's shared 8 KiB pool, which a small slice would pin.
      const grown = Buffer.allocUnsafeSlow(size);
      if (buffer !== undefined) buffer.copy(grown, 0, 0, this.partialLength);
      buffer = grown;
      this.lineBuffer = grown;
    }
    chunk.copy(buffer, this.partialLength, start, end);
    this.partialLength = needed;
  }

  private isDone(): boolean {
    return this.state === State.DONE;
  }

  private fail(error: WebSocketError): HeadResult<T> {
    this.state = State.FAILED;
    this.failure = error;
    this.lineBuffer = undefined;
    this.partialLength = 0;
    return { state: 'error', error };
  }

  private tooLarge(): WebSocketError {
    return new WebSocketError(
      'WS_ERR_HEAD_TOO_LARGE',
      `the message head is larger than ${this.maxHeadSize} bytes`,
      { status: this.status(431), side: 'remote' },
    );
  }

  protected invalid(code: HandshakeErrorCode, message: string): WebSocketError {
    return new WebSocketError(code, message, { status: this.status(400), side: 'remote' });
  }

  /** One line, without its LF. */
  private line(raw: Buffer): WebSocketError | undefined {
    // RFC 9112 §2.2: lines end in CRLF. We do not take the "MAY recognize a single LF" leniency:
    // two parsers that disagree on where a line ends are how request smuggling starts.
    if (raw.length === 0 || raw[raw.length - 1] !== CR) {
      return this.invalid('WS_ERR_INVALID_HEADER', 'a line ends in a bare LF; HTTP lines end in CRLF');
    }
    const line = raw.subarray(0, raw.length - 1);
    if (line.includes(CR)) {
      return this.invalid('WS_ERR_INVALID_HEADER', 'a line holds a bare CR (RFC 9112 §2.2)');
    }
    if (this.state === State.START_LINE) {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line
      // (some old clients send a CRLF after a POST body). The head-size cap bounds how many.
      if (line.length === 0) return undefined;
      const error = this.startLine(line.toString('latin1'));
      if (error === undefined) this.state = State.FIELDS;
      return error;
    }
    if (line.length === 0) {
      this.state = State.DONE; // the empty line: the head is complete (RFC 9112 §2.1)
      return undefined;
    }
    return this.fieldLine(line);
  }

  /** `field-line = field-name ":" OWS field-value OWS` (RFC 9112 §5). */
  private fieldLine(line: Buffer): WebSocketError | undefined {
    if (line[0] === SP || line[0] === HTAB) {
      // Either obs-fold (a continuation of the previous field) or whitespace right after the start
      // line; RFC 9112 §5.2 and §2.2 let a server reject both with 400, which is the safe choice.
      return this.invalid('WS_ERR_INVALID_HEADER', 'a header line starts with whitespace (obsolete line folding is not accepted)');
    }
    const colon = line.indexOf(COLON);
    if (colon === -1) return this.invalid('WS_ERR_INVALID_HEADER', 'a header line has no colon');
    const name = line.toString('latin1', 0, colon);
    if (!isToken(name)) {
      // Also catches "Name : value": RFC 9112 §5.1 says whitespace before the colon MUST get a 400.
      return this.invalid('WS_ERR_INVALID_HEADER', `invalid header name ${JSON.stringify(name)}`);
    }
    for (let i = colon + 1; i < line.length; i++) {
      if (!isFieldValueChar(line[i])) {
        return this.invalid('WS_ERR_INVALID_HEADER', `header ${name} holds a control character (0x${line[i].toString(16).padStart(2, '0')})`);
      }
    }
    this.fieldCount++;
    if (this.fieldCount > this.maxHeaderCount) {
      return new WebSocketError('WS_ERR_TOO_MANY_HEADERS', `more than ${this.maxHeaderCount} header fields`, {
        status: this.status(431),
        side: 'remote',
      });
    }
    const key = name.toLowerCase(); // field names are case-insensitive (RFC 9110 §5.1)
    const value = trimOws(line.toString('latin1', colon + 1));
    const previous = this.headers[key];
    if (key === 'set-cookie') {
      // Never joined: a cookie's Expires date holds a comma (RFC 9110 §5.3, RFC 6265 §3). A list of
      // its lines, as node:http keeps it (ws's 'upgrade' listeners read res.headers['set-cookie'][i]).
      if (previous === undefined) this.headers[key] = [value];
      else (previous as string[]).push(value);
    } else {
      // RFC 9110 §5.3: repeated field lines are one list, joined in order with a comma.
      this.headers[key] = previous === undefined ? value : `${previous as string}, ${value}`;
    }
    return this.onField(key);
  }
}

/**
 * Reads a request head (RFC 9112 §3): `method SP request-target SP HTTP-version CRLF`, fields, CRLF.
 * Errors carry status 400 or 431, ready for `buildErrorResponse`.
 */
export class RequestHeadParser extends HeadParser<RequestHead> {
  private method = '';
  private url = '';
  private httpVersion = '';
  private hostSeen = false;

  protected status(status: 400 | 431): number {
    return status;
  }

  protected startLine(line: string): WebSocketError | undefined {
    // Exactly one SP between the parts (RFC 9112 §3); the target is visible ASCII only, which is
    // what a URI reference may contain (RFC 3986 §2); the version name is case-sensitive (§2.3).
    const match = /^([^ ]+) ([\x21-\x7e]+) HTTP\/(\d)\.(\d)$/.exec(line);
    if (match === null || !isToken(match[1] as string)) {
      return this.invalid('WS_ERR_INVALID_REQUEST_LINE', 'the request line is not "METHOD target HTTP/x.y"');
    }
    this.method = match[1] as string;
    this.url = match[2] as string;
    this.httpVersion = `${match[3]}.${match[4]}`;
    return undefined;
  }

  protected override onField(name: string): WebSocketError | undefined {
    // RFC 9112 §3.2: a request with more than one Host field line MUST get a 400. Joining them
    // into "a, b" would hide which host the client meant.
    if (name !== 'host') return undefined;
    if (this.hostSeen) return this.invalid('WS_ERR_INVALID_HEADER', 'more than one Host header');
    this.hostSeen = true;
    return undefined;
  }

  protected finish(): RequestHead {
    return { method: this.method, url: this.url, httpVersion: this.httpVersion, headers: this.headers };
  }
}

/**
 * Reads a response head (RFC 9112 §4): `HTTP-version SP status-code SP [reason-phrase] CRLF`, fields,
 * CRLF. Used by the client for the server's answer. Errors carry no status: the client sends none.
 */
export class ResponseHeadParser extends HeadParser<ResponseHead> {
  private httpVersion = '';
  private statusCode = 0;
  private statusText = '';

  protected status(): undefined {
    return undefined;
  }

  protected startLine(line: string): WebSocketError | undefined {
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). Some servers omit the SP after the code
    // when there is no phrase; the phrase means nothing (RFC 9112 §4), so we accept that.
    const match = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(line);
    if (match === null) {
      return this.invalid('WS_ERR_INVALID_STATUS_LINE', 'the status line is not "HTTP/x.y code reason"');
    }
    this.httpVersion = `${match[1]}.${match[2]}`;
    this.statusCode = Number(match[3]);
    this.statusText = match[4] ?? '';
    return undefined;
  }

  protected finish(): ResponseHead {
    return { httpVersion: this.httpVersion, status: this.statusCode, statusText: this.statusText, headers: this.headers };
  }
}
