/**
 * Compressing messages for permessage-deflate (RFC 7692 §7.2.1).
 *
 * A message is compressed whole, as one raw DEFLATE run ended by a sync flush — which always ends
 * in an empty stored block, `00 00 ff ff` — and those 4 octets are removed (§7.2.1); the receiver
 * puts them back (§7.2.2). The framing layer sends the result as one message with RSV1 set on its
 * first frame only (§6.1).
 *
 * With context takeover the compressor keeps its LZ77 window from message to message, so a
 * message may refer back to earlier ones (§7.2.3.2); the connection then holds one engine from
 * its first compressed message until `close()`. Without it (the agreed `*_no_context_takeover` for this side,
 * §7.1.1) every message starts afresh, the engine comes from the shared pool and goes back before
 * `compress()` returns, and the bytes depend on the message alone — so one compression can be sent
 * to every such recipient (`shareKey`).
 *
 * Window 8: zlib's deflate has no 256-byte window (zlib refuses windowBits 8 for raw deflate;
 * Node.js silently uses 9). A 9-bit zlib compressor never refers back more than 512 - 262 = 250
 * bytes (zlib's MAX_DIST), so its output is valid for a peer that allowed only 8 bits; the test
 * suite decodes it to check that. So an agreed window of 8 runs as windowBits 9.
 */
import zlib from 'node:zlib';
import { checkOptions, rule } from '../options.js';
import { DeflateErrorCode, deflateError } from './codes.js';
import { scratchBuffer, type EngineSettings, type ZlibEngine } from './engine.js';
import { sharedPool, type ZlibPool } from './pool.js';

/** Messages shorter than this are sent uncompressed by default (as ws does): 1 KiB. */
export const DEFAULT_THRESHOLD = 1024;

export interface DeflaterOptions {
  /**
   * This side's window in bits, 8..15: the agreed `server_max_window_bits` on a server,
   * `client_max_window_bits` on a client (RFC 7692 §7.1.2). Default 15. 8 runs as 9 (see above).
   */
  windowBits?: number;
  /** This side's agreed `*_no_context_takeover` (§7.1.1): start every message afresh. Default false. */
  noContextTakeover?: boolean;
  /** zlib compression level 0..9, or -1 for zlib's default (6). Default -1, as ws. */
  level?: number;
  /** zlib memLevel 1..9: memory for the match finder. Default 8, zlib's default. */
  memLevel?: number;
  /** `compress()` leaves messages shorter than this uncompressed, in bytes. Default {@link DEFAULT_THRESHOLD}. */
  threshold?: number;
  /** Where engines come from without context takeover. Default: the shared pool. */
  pool?: ZlibPool;
}

const RULES = {
  windowBits: rule.integer(8, 15),
  noContextTakeover: rule.boolean,
  level: rule.integer(-1, 9),
  memLevel: rule.integer(1, 9),
  threshold: rule.bytes(),
  pool: rule.object,
};

/** The 4 octets a sync flush ends with, removed from every compressed message (§7.2.1). */
const TAIL_LENGTH = 4;

/** Compresses this side's messages. One per connection; see the file comment. */
export class Deflater {
  readonly settings: EngineSettings;
  readonly noContextTakeover: boolean;
  readonly threshold: number;
  private readonly pool: ZlibPool;
  /** The connection's own engine, with context takeover only; made on first need. */
  private engine: ZlibEngine | undefined = undefined;
  private closed = false;

  constructor(options: DeflaterOptions = {}) {
    checkOptions('new Deflater()', options, RULES);
    this.settings = {
      windowBits: Math.max(9, options.windowBits ?? 15),
      level: options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION,
      memLevel: options.memLevel ?? 8,
    };
    this.noContextTakeover = options.noContextTakeover ?? false;
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    this.pool = options.pool ?? sharedPool;
  }

  /**
   * Compress one whole message as RFC 7692 §7.2.1 says, always: the payload to send with RSV1.
   * With context takeover the window carries on into the next message.
   */
  deflate(data: Buffer): Buffer {
    return this.run(data, Infinity) as Buffer;
  }

  /**
   * The send path: the compressed payload, or `undefined` for "send it uncompressed" — when the
   * message is shorter than `threshold`, or when deflating does not make it smaller (random or
   * already compressed data). With context takeover, a message given up on also resets the
   * window: the peer never sees it inflated, so later messages must not refer back to it.
   */
  compress(data: Buffer): Buffer | undefined {
    if (data.length < this.threshold) {
      this.checkOpen();
      return undefined;
    }
    return this.run(data, data.length);
  }

  /**
   * Recipients whose deflaters have the same key get the same bytes from `compress()` for the
   * same message, so a broadcast compresses once for all of them. `undefined` with context
   * takeover: each connection's bytes depend on its history.
   */
  get shareKey(): string | undefined {
    return this.noContextTakeover ? `${this.settings.windowBits}:${this.settings.level}:${this.settings.memLevel}:${this.threshold}` : undefined;
  }

  /** Does this deflater hold zlib memory between messages? Only with context takeover, after its first message. */
  get holdsEngine(): boolean {
    return this.engine !== undefined;
  }

  /** Free the engine. Calls after this throw WS_ERR_CODEC_CLOSED. */
  close(): void {
    this.closed = true;
    if (this.engine !== undefined) this.pool.release(this.engine);
    this.engine = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw deflateError(DeflateErrorCode.CodecClosed, 'this Deflater was closed; make a new one for a new connection', { side: 'local' });
  }

  /** Deflate `data`; give up (undefined) once the payload would be `limit` bytes or more. */
  private run(data: Buffer, limit: number): Buffer | undefined {
    this.checkOpen();
    if (this.noContextTakeover) {
      const engine = this.pool.acquire('deflate', this.settings);
      try {
        return deflateOnce(engine, data, limit);
      } finally {
        this.pool.release(engine); // reset there: the next message starts afresh
      }
    }
    this.engine ??= this.pool.acquire('deflate', this.settings);
    const payload = deflateOnce(this.engine, data, limit);
    if (payload === undefined) this.engine.reset();
    return payload;
  }
}

/**
 * One message through `engine` with a sync flush, without the final 4 octets. Gives up (returns
 * undefined, leaving the engine mid-message: reset it) as soon as the payload reaches `limit`.
 */
function deflateOnce(engine: ZlibEngine, data: Buffer, limit: number): Buffer | undefined {
  const out = scratchBuffer();
  const pieces: Buffer[] = [];
  let total = 0;
  let inOffset = 0;
  let inLength = data.length;
  for (;;) {
    const error = engine.run(zlib.constants.Z_SYNC_FLUSH, data, inOffset, inLength, out, 0, out.length);
    /* c8 ignore next -- deflate fails only on a misused stream (Z_STREAM_ERROR), which this module never makes. */
    if (error !== undefined) throw error;
    const have = out.length - engine.availOut;
    total += have;
    if (total - TAIL_LENGTH >= limit) return undefined;
    // One piece is the usual case (up to 64 KiB compressed): one copy at the exact size.
    const piece = Buffer.allocUnsafe(have);
    out.copy(piece, 0, 0, have);
    pieces.push(piece);
    inOffset += inLength - engine.availIn;
    inLength = engine.availIn;
    if (engine.availOut !== 0) break; // the flush is complete: zlib had room to spare
  }
  // The flush ended in 00 00 ff ff, possibly split across pieces: keep all but those 4 octets.
  const length = total - TAIL_LENGTH;
  const only = pieces[0] as Buffer;
  return pieces.length === 1 ? only.subarray(0, length) : Buffer.concat(pieces, length);
}

/**
 * Compress `data` for every recipient without context takeover whose deflater's `shareKey` is
 * `shareKeyOf(options)`: the broadcast path, one compression for many. Returns undefined for
 * "send it uncompressed", exactly as those deflaters' `compress()` would.
 */
export function compressShared(data: Buffer, options: Omit<DeflaterOptions, 'noContextTakeover'> = {}): Buffer | undefined {
  return new Deflater({ ...options, noContextTakeover: true }).compress(data);
}

/** The `shareKey` of a deflater without context takeover made with these options. */
export function shareKeyOf(options: Omit<DeflaterOptions, 'noContextTakeover'> = {}): string {
  return new Deflater({ ...options, noContextTakeover: true }).shareKey as string;
}
