/**
 * Incremental UTF-8 validation (RFC 3629 §4), for text messages that arrive in pieces
 * (RFC 6455 §5.6, §8.1: invalid text fails the connection with 1007).
 *
 * `buffer.isUtf8` (simdutf, in C++) validates whole runs fast, but only complete ones. A piece of a
 * message can end inside a code point, so the validator cuts each piece into three parts:
 *   1. the bytes that complete a code point left open by the previous piece (at most 3),
 *   2. a middle of whole code points, handed to `isUtf8` in one call,
 *   3. a trailing incomplete code point (at most 3 bytes), checked byte by byte as a valid prefix.
 * Parts 1 and 3 run through a tiny byte-level state machine, so an invalid byte anywhere in a piece
 * fails at that piece, without waiting for the rest of the frame or message ("fail fast").
 */
import { isUtf8 } from 'node:buffer';

/** Runs shorter than this are checked in JavaScript: the native call costs more than the loop. */
const NATIVE_THRESHOLD = 24;

/** Whether `buffer` is entirely valid UTF-8. Short buffers are checked here, long ones natively. */
export function isValidUtf8(buffer: Buffer): boolean {
  if (buffer.length >= NATIVE_THRESHOLD) return isUtf8(buffer);
  const v = scratchValidator;
  v.reset();
  return v.stepRange(buffer, 0, buffer.length) && v.complete;
}

/**
 * The state of a partially read code point: `need` continuation bytes still expected, the next of
 * which must lie in `lo .. hi` (the table of RFC 3629 §4 narrows the second byte after E0, ED, F0
 * and F4 to exclude overlong forms, surrogates and code points above U+10FFFF).
 */
export class Utf8Validator {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;

  /** True when no code point is left open: a message may end here. */
  get complete(): boolean {
    return this.need === 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** Feeds `buffer[start .. end)`; false at the first byte that cannot be UTF-8 (the state is then unspecified). */
  write(buffer: Buffer, start: number, end: number): boolean {
    let i = start;
    // 1. Finish the code point the previous piece left open.
    while (this.need !== 0 && i < end) {
      if (!this.step(buffer[i++])) return false;
    }
    if (end - i < NATIVE_THRESHOLD) return this.stepRange(buffer, i, end);
    // 3. Find where a trailing incomplete code point starts: walk back over at most 3 continuation
    //    bytes (10xxxxxx) to a lead byte, and see whether its sequence runs past the end.
    let cut = end;
    let j = end - 1;
    while (j > end - 4 && (buffer[j] & 0xc0) === 0x80) j--;
    const lead = buffer[j];
    if (lead >= 0xc0) {
      const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      if (end - j < length) cut = j;
    }
    // 2. The whole code points in between, natively. A bad lead byte found above is left in the
    //    trailing part, where the byte check rejects it.
    if (!isUtf8(buffer.subarray(i, cut))) return false;
    return this.stepRange(buffer, cut, end);
  }

  /** Byte-by-byte check of `buffer[start .. end)`. */
  stepRange(buffer: Uint8Array, start: number, end: number): boolean {
    for (let i = start; i < end; i++) {
      const b = buffer[i];
      // ASCII outside a code point: the common case, no state to touch.
      if (b < 0x80 && this.need === 0) continue;
      if (!this.step(b)) return false;
    }
    return true;
  }

  /** One byte of RFC 3629 §4's UTF8-octets grammar; callers pass ASCII only inside a code point. */
  private step(b: number): boolean {
    if (this.need !== 0) {
      if (b < this.lo || b > this.hi) return false;
      this.need--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      // UTF8-2 = %xC2-DF UTF8-tail (C0 and C1 would be overlong)
      this.need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      // UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) / %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0; // no overlong 3-byte forms
      else if (b === 0xed) this.hi = 0x9f; // no UTF-16 surrogates D800–DFFF
    } else if (b >= 0xf0 && b <= 0xf4) {
      // UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) / %xF4 %x80-8F 2( UTF8-tail )
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90; // no overlong 4-byte forms
      else if (b === 0xf4) this.hi = 0x8f; // nothing above U+10FFFF
    } else {
      // 80–BF (a stray continuation), C0–C1 (overlong), F5–FF (beyond U+10FFFF).
      return false;
    }
    return true;
  }
}

const scratchValidator = new Utf8Validator();
