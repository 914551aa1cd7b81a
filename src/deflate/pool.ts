/**
 * A bounded pool of zlib engines, shared by every connection that needs no state between messages.
 *
 * Without context takeover (RFC 7692 §7.1.1), a compressor or decompressor is needed only while a
 * message is being compressed or inflated, so connections borrow one from here and give it back:
 * an idle connection holds no zlib state at all. Compressing is synchronous, so a deflate engine
 * comes back before `compress()` returns; an inflater is held from a message's first compressed
 * frame to its last (for the usual one-frame message, within one call).
 *
 * The bound is on what the pool keeps, not on what is lent: at most `maxIdle` idle engines per
 * configuration stay allocated; an engine given back when that many are already idle is closed.
 * What is lent is bounded by the callers — one inflater per connection with a compressed message
 * half received, one deflater while a `compress()` runs.
 */
import { checkOptions, rule } from '../options.js';
import { ZlibEngine, engineKey, type EngineKind, type EngineSettings } from './engine.js';

export interface ZlibPoolOptions {
  /**
   * Idle engines kept per configuration (kind, window, level, memLevel), 0..1024. Default 4.
   * An engine's memory, measured as RSS by bench/deflate.js (zlib's own estimate in brackets):
   * deflate at memLevel 8, about 267 KiB at windowBits 15 and 141 KiB at 8 or 9
   * [(1 << (windowBits + 2)) + (1 << (memLevel + 9))]; inflate about 38 KiB at 15 and 12 KiB at
   * 8 to 12 [(1 << windowBits) plus about 7 KiB of state].
   */
  maxIdle?: number;
}

/** What a pool holds and has done, for tests and monitoring. */
export interface ZlibPoolStats {
  /** Engines kept idle, ready to lend. */
  idle: number;
  /** Engines lent and not given back. */
  lent: number;
  /** Engines made since the pool was. */
  created: number;
  /** Engines closed since the pool was. */
  closed: number;
}

export class ZlibPool {
  readonly maxIdle: number;
  private readonly idleEngines = new Map<string, ZlibEngine[]>();
  private idleCount = 0;
  private lentCount = 0;
  private createdCount = 0;
  private closedCount = 0;

  constructor(options: ZlibPoolOptions = {}) {
    checkOptions('new ZlibPool()', options, { maxIdle: rule.integer(0, 1024) });
    this.maxIdle = options.maxIdle ?? 4;
  }

  /** An engine of this kind and settings: an idle one, or a new one. Give it back with `release()`. */
  acquire(kind: EngineKind, settings: EngineSettings): ZlibEngine {
    const idle = this.idleEngines.get(engineKey(kind, settings));
    let engine = idle?.pop();
    if (engine === undefined) {
      engine = new ZlibEngine(kind, settings);
      this.createdCount++;
    } else {
      this.idleCount--;
    }
    this.lentCount++;
    return engine;
  }

  /**
   * Give an engine back. It is reset (nothing of its last message survives into the next
   * borrower's) and kept if fewer than `maxIdle` of its kind are idle; otherwise, or when it was
   * closed by a zlib error, it is closed.
   */
  release(engine: ZlibEngine): void {
    this.lentCount--;
    if (engine.closed) {
      this.closedCount++;
      return;
    }
    let idle = this.idleEngines.get(engine.key);
    if (idle === undefined) {
      idle = [];
      this.idleEngines.set(engine.key, idle);
    }
    if (idle.length >= this.maxIdle) {
      engine.close();
      this.closedCount++;
      return;
    }
    engine.reset();
    idle.push(engine);
    this.idleCount++;
  }

  /** Close every idle engine (lent ones are closed when they come back, if the pool is full). */
  clear(): void {
    for (const idle of this.idleEngines.values()) {
      for (const engine of idle) engine.close();
      this.closedCount += idle.length;
    }
    this.idleEngines.clear();
    this.idleCount = 0;
  }

  get stats(): ZlibPoolStats {
    return { idle: this.idleCount, lent: this.lentCount, created: this.createdCount, closed: this.closedCount };
  }
}

/** The pool every Deflater and Inflater uses unless given another. */
export const sharedPool = new ZlibPool();
