/**
 * One zlib engine (a raw deflate or raw inflate stream, RFC 1951) driven synchronously and kept
 * between calls — the one place in simpatico-ws that relies on Node.js internals.
 *
 * Why synchronous: on this project's 2-core machine (bench/deflate.js, medians, ratios to ws's
 * PerMessageDeflate, which runs the same zlib on the thread pool, in the same run), a persistent
 * engine on the main thread compressed 1 KiB JSON messages about 4.6-5.3 times as fast and
 * inflated them 11 times as fast or more; at 16 KiB, 1.3 and 11 times; at 256 KiB compressing is
 * about even. Each message on the thread pool pays a hop to a worker and back, which costs more
 * than zlib's work on a small message. Running on this thread also keeps memory exact — the
 * caller sizes every output buffer, so an inflater stops one byte past `maxPayload`, not one
 * 16 KiB chunk past it — and bounds the work in flight: one zlib call at a time, never a queue.
 * The price: a big message blocks the event loop while it is compressed (about 3 ms for 256 KiB
 * of JSON here), as JSON.stringify of it would.
 *
 * Why internals: Node.js documents no way to run a zlib stream synchronously more than once —
 * `zlib.deflateRawSync()` makes and frees an engine per call (a context cannot be kept, and the
 * setup alone costs more than compressing 1 KiB), and the undocumented `_processChunk()` closes
 * its engine after one call. So this file uses what `zlib.deflateRawSync()` itself uses inside
 * lib/zlib.js (unchanged from Node.js 12 to 24):
 *
 *   stream._handle.writeSync(flush, input, inOffset, inLength, output, outOffset, outLength)
 *   stream._writeState   — a Uint32Array: [output bytes left, input bytes left] after each call
 *
 * Everything else is documented: `zlib.createDeflateRaw/createInflateRaw` and their options,
 * `reset()`, `close()`, and `errored` (a zlib error destroys the stream synchronously, inside
 * writeSync). `checkInternals` looks for both members when an engine is made and throws
 * WS_ERR_ZLIB_UNSUPPORTED naming what is missing, so a Node.js that changes them fails loudly at
 * the first compressed message instead of corrupting data.
 */
import zlib from 'node:zlib';
import type { WebSocketError } from '../errors.js';
import { DeflateErrorCode, deflateError } from './codes.js';

/** The zlib members this file drives (see the file comment). */
interface ZlibInternals {
  _handle: { writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): void } | null;
  _writeState: Uint32Array;
}

export type EngineKind = 'deflate' | 'inflate';

/** How an engine is configured; engines with equal settings are interchangeable (see the pool). */
export interface EngineSettings {
  /** zlib windowBits, 9..15 for deflate (see deflater.ts about 8), 8..15 for inflate. */
  windowBits: number;
  /** Deflate only: zlib level 0..9 (or -1, zlib's default, which is 6). */
  level: number;
  /** Deflate only: zlib memLevel 1..9. */
  memLevel: number;
}

/**
 * The internals a stream must have, or the reason it does not. Exported for the test that feeds it
 * a stream from a Node.js without them.
 */
export function checkInternals(stream: object): string | undefined {
  const internals = stream as Partial<ZlibInternals>;
  if (typeof internals._handle?.writeSync !== 'function') return 'zlib streams have no _handle.writeSync()';
  if (!(internals._writeState instanceof Uint32Array) || internals._writeState.length < 2) return 'zlib streams have no _writeState';
  return undefined;
}

const noop = (): void => {};

/** A raw deflate or inflate engine, called synchronously. */
export class ZlibEngine {
  readonly kind: EngineKind;
  readonly settings: EngineSettings;
  /** Equal keys, interchangeable engines. */
  readonly key: string;
  /** After `run()`: bytes of `output` it left unwritten. */
  availOut = 0;
  /** After `run()`: bytes of `input` it left unread. */
  availIn = 0;
  private readonly stream: zlib.DeflateRaw | zlib.InflateRaw;
  private readonly state: Uint32Array;
  private readonly handle: NonNullable<ZlibInternals['_handle']>;

  constructor(kind: EngineKind, settings: EngineSettings) {
    this.kind = kind;
    this.settings = settings;
    this.key = engineKey(kind, settings);
    // chunkSize is the stream's own output buffer, which this class never uses: the smallest
    // zlib accepts (64 bytes) instead of the default 16 KiB per engine.
    this.stream =
      kind === 'deflate'
        ? zlib.createDeflateRaw({ windowBits: settings.windowBits, level: settings.level, memLevel: settings.memLevel, chunkSize: zlib.constants.Z_MIN_CHUNK })
        : zlib.createInflateRaw({ windowBits: settings.windowBits, chunkSize: zlib.constants.Z_MIN_CHUNK });
    // A zlib error destroys the stream, which emits 'error' on the next tick: `run()` reports the
    // error as a value, so the event must find a listener or it would crash the process.
    this.stream.on('error', noop);
    assertInternals(this.stream);
    const internals = this.stream as unknown as ZlibInternals;
    this.state = internals._writeState;
    this.handle = internals._handle as NonNullable<ZlibInternals['_handle']>;
  }

  /**
   * One zlib call: consume `input[inOffset, inOffset + inLength)`, write at most `outLength` bytes
   * at `output[outOffset]`, with `flush` (a zlib.constants flush value). Sets `availIn` and
   * `availOut`. Returns zlib's error, if any; the engine is then closed.
   */
  run(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): Error | undefined {
    this.handle.writeSync(flush, input, inOffset, inLength, output, outOffset, outLength);
    const error = this.stream.errored;
    if (error !== null) return error;
    this.availOut = this.state[0] as number;
    this.availIn = this.state[1] as number;
    return undefined;
  }

  /** Forget the stream so far, keeping the memory (zlib's deflateReset / inflateReset). */
  reset(): void {
    this.stream.reset();
  }

  /** Free zlib's memory. The engine cannot be used again. */
  close(): void {
    this.stream.close();
  }

  /** True once closed, by `close()` or by a zlib error. */
  get closed(): boolean {
    return this.stream.destroyed;
  }
}

export function engineKey(kind: EngineKind, settings: EngineSettings): string {
  return kind === 'deflate' ? `deflate:${settings.windowBits}:${settings.level}:${settings.memLevel}` : `inflate:${settings.windowBits}`;
}

function unsupported(missing: string): WebSocketError {
  return deflateError(
    DeflateErrorCode.ZlibUnsupported,
    `permessage-deflate cannot run on Node.js ${process.version}: ${missing}. Turn perMessageDeflate off, or use a Node.js version this release was tested with.`,
    { side: 'local' },
  );
}

/** Throws WS_ERR_ZLIB_UNSUPPORTED for a stream without the internals (exported for its test). */
export function assertInternals(stream: object): void {
  const missing = checkInternals(stream);
  if (missing !== undefined) throw unsupported(missing);
}

let scratch: Buffer | undefined;

/**
 * The output buffer every engine writes into before the bytes are copied out at their exact size
 * (so a 200-byte result does not pin a 64 KiB buffer). One per process, made on first need: the
 * engines run synchronously, so no two calls ever use it at once.
 */
export function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  return scratch;
}

export const SCRATCH_SIZE = 64 * 1024;
