/**
 * Inflating permessage-deflate messages (RFC 7692 §7.2.2), piece by piece, within `maxPayload`.
 *
 * The compressed payload of a message arrives frame by frame; `write()` inflates each piece as it
 * comes, so the caller can validate text as UTF-8 while the rest is still on the wire (a bad byte
 * early in a big message fails before the rest arrives), and `end()` appends the 4 octets the
 * sender removed, `00 00 ff ff`, and inflates what they complete (§7.2.2).
 *
 * Memory is bounded by bytes, not by trust: every zlib call is given an output buffer no larger
 * than what the message may still grow by, plus one byte. So a message that would inflate past
 * `maxPayload` is stopped with 1009 one byte past the limit — a deflate bomb (100 MiB of zeros
 * is about 100 KB on the wire) costs `maxPayload` plus one 64 KiB scratch buffer, however it is
 * sent. Bytes that are not valid DEFLATE fail with 1007.
 *
 * With context takeover (the peer's window carries over, §7.1.1) the inflater owns one engine,
 * taken from the pool on the first compressed message, at the agreed window (2^bits bytes of
 * history), and given back by `close()`. Without it, an engine is borrowed for the span of one
 * message — the first `write()` to `end()`, one call for a one-frame message — and an idle
 * connection holds none.
 *
 * Two edge cases the RFC allows, handled on purpose:
 * - a DEFLATE block with BFINAL set (§7.2.3.4) ends zlib's stream; what follows it in the message
 *   (the RFC's example has one more octet, then the appended tail) is inflated as a new stream.
 *   The window restarts there: a later message that refers back past it fails with 1007.
 * - a compressed message with an empty payload is an empty message. (A sender always leaves at
 *   least one octet, §7.2.1; inflating the tail alone would leave zlib inside a stored block.)
 */
import zlib from 'node:zlib';
import type { WebSocketError } from '../errors.js';
import { CloseCode } from '../frames/close.js';
import { FrameErrorCode, remoteError } from '../frames/codes.js';
import { DEFAULT_MAX_PAYLOAD } from '../frames/opcodes.js';
import { checkOptions, rule } from '../options.js';
import { DeflateErrorCode, deflateError } from './codes.js';
import { scratchBuffer, type EngineSettings, type ZlibEngine } from './engine.js';
import { sharedPool, type ZlibPool } from './pool.js';

export interface InflaterOptions {
  /**
   * Largest message, inflated, in bytes, or Infinity; default 1 MiB, as the frames layer. Past it
   * the message fails with 1009 (RFC 6455 §10.4) before the bytes exist.
   */
  maxPayload?: number;
  /**
   * The peer's window in bits, 8..15: the agreed `client_max_window_bits` on a server,
   * `server_max_window_bits` on a client (RFC 7692 §7.1.2). Default 15. Used with context
   * takeover, where the window is this connection's memory; pooled engines all use 15, which
   * inflates any smaller window too.
   */
  windowBits?: number;
  /** The peer's agreed `*_no_context_takeover` (§7.1.1): no window kept between messages. Default false. */
  noContextTakeover?: boolean;
  /** Where engines come from without context takeover. Default: the shared pool. */
  pool?: ZlibPool;
}

const RULES = {
  maxPayload: { accepts: `${rule.bytes().accepts}, or Infinity`, check: (v: unknown) => v === Infinity || rule.bytes().check(v) },
  windowBits: rule.integer(8, 15),
  noContextTakeover: rule.boolean,
  pool: rule.object,
};

/** What the sender removed (§7.2.1) and the receiver appends (§7.2.2): an empty stored block's LEN and NLEN. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Pooled inflaters all use the largest window, so one pool serves every agreement. */
const POOLED: EngineSettings = { windowBits: 15, level: 0, memLevel: 0 };

/** Inflates the peer's compressed messages, one at a time. One per connection. */
export class Inflater {
  readonly maxPayload: number;
  readonly noContextTakeover: boolean;
  private readonly settings: EngineSettings;
  private readonly pool: ZlibPool;
  private engine: ZlibEngine | undefined = undefined;
  /** Inflated bytes of the current message. */
  private length = 0;
  /** Compressed bytes written for the current message. */
  private written = 0;
  /** Failure is a state: once set, every call answers it (RFC 6455 §7.1.7: no more processing). */
  private failure: WebSocketError | undefined = undefined;
  private closed = false;

  constructor(options: InflaterOptions = {}) {
    checkOptions('new Inflater()', options, RULES);
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.noContextTakeover = options.noContextTakeover ?? false;
    this.settings = this.noContextTakeover ? POOLED : { windowBits: options.windowBits ?? 15, level: 0, memLevel: 0 };
    this.pool = options.pool ?? sharedPool;
  }

  /**
   * Inflate the next piece of the current message's compressed payload (any split: frame
   * payloads, or parts of them). Returns the inflated bytes so far produced, in order, each in
   * memory of its own; or the error that ends the connection — 1007 for data that is not DEFLATE,
   * 1009 past `maxPayload`. The pieces may be empty (zlib may need more input first).
   */
  write(piece: Buffer): Buffer[] | WebSocketError {
    this.checkOpen();
    if (this.failure !== undefined) return this.failure;
    if (piece.length === 0) return [];
    this.written += piece.length;
    return this.run(piece);
  }

  /**
   * End the current message: inflate the tail the sender removed (§7.2.2) and return the last
   * bytes. The next `write()` starts the next message.
   */
  end(): Buffer[] | WebSocketError {
    this.checkOpen();
    if (this.failure !== undefined) return this.failure;
    const out = this.written === 0 ? [] : this.run(TAIL);
    if (!Array.isArray(out)) return out;
    this.length = 0;
    this.written = 0;
    if (this.noContextTakeover) this.giveBack();
    return out;
  }

  /** A whole message at once: `write(message)` then `end()`, in one buffer. */
  inflate(message: Buffer): Buffer | WebSocketError {
    const first = this.write(message);
    if (!Array.isArray(first)) return first;
    const last = this.end();
    if (!Array.isArray(last)) return last;
    const pieces = first.concat(last);
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  /** Inflated bytes of the message in progress. */
  get messageLength(): number {
    return this.length;
  }

  /** Does this inflater hold zlib memory now? Without context takeover, only in the middle of a message. */
  get holdsEngine(): boolean {
    return this.engine !== undefined;
  }

  /** Free or give back the engine. Calls after this throw WS_ERR_CODEC_CLOSED. */
  close(): void {
    this.closed = true;
    this.giveBack();
  }

  private checkOpen(): void {
    if (this.closed) throw deflateError(DeflateErrorCode.CodecClosed, 'this Inflater was closed; make a new one for a new connection', { side: 'local' });
  }

  /** The engine goes back to the pool, which resets it (or closes it, if the pool is full). */
  private giveBack(): void {
    if (this.engine === undefined) return;
    this.pool.release(this.engine);
    this.engine = undefined;
  }

  private fail(error: WebSocketError): WebSocketError {
    this.failure = error;
    this.giveBack();
    return error;
  }

  private run(input: Buffer): Buffer[] | WebSocketError {
    const engine = (this.engine ??= this.pool.acquire('inflate', this.settings));
    const out = scratchBuffer();
    const pieces: Buffer[] = [];
    let inOffset = 0;
    let inLength = input.length;
    for (;;) {
      // Never let zlib write more than the message may still grow by, plus one byte to see it try.
      const room = Math.min(out.length, this.maxPayload - this.length + 1);
      const error = engine.run(zlib.constants.Z_SYNC_FLUSH, input, inOffset, inLength, out, 0, room);
      if (error !== undefined) {
        return this.fail(
          deflateError(DeflateErrorCode.InvalidCompressedData, `a compressed message does not inflate: ${error.message} (RFC 7692 §7.2.2)`, {
            side: 'remote',
            closeCode: CloseCode.InvalidPayload,
            cause: error,
          }),
        );
      }
      const have = room - engine.availOut;
      if (have > 0) {
        if (this.length + have > this.maxPayload) {
          return this.fail(
            remoteError(
              FrameErrorCode.MessageTooBig,
              CloseCode.MessageTooBig,
              `A compressed message inflates past maxPayload (${this.maxPayload} bytes) (RFC 6455 §10.4).`,
            ),
          );
        }
        // Memory of its own, not a slice of Node's shared pool: the caller may keep it for long.
        const piece = Buffer.allocUnsafeSlow(have);
        out.copy(piece, 0, 0, have);
        pieces.push(piece);
        this.length += have;
      }
      inOffset += inLength - engine.availIn;
      inLength = engine.availIn;
      if (engine.availOut === 0) continue; // output full: zlib may have more
      if (inLength === 0) return pieces; // all input read with room to spare: done for now
      // Input left and room to spare: zlib's stream ended at a BFINAL block (§7.2.3.4). What
      // follows is inflated as a new stream.
      engine.reset();
    }
  }
}
