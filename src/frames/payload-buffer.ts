/**
 * A payload held while its pieces arrive: a message in any number of fragments (RFC 6455 §5.4),
 * each in any number of TCP chunks. The Receiver keeps a message here, the FrameParser a frame.
 *
 * What it holds is bounded by bytes, never by how the bytes were cut (§10.4: a peer must not be
 * able to exhaust memory):
 *
 * - Pieces are copied into blocks, one after the other, so that fragments cost no list entry and
 *   an empty fragment costs nothing. Only the last block has room left; every earlier one is full.
 * - A block is allocated for the bytes at hand plus some room: the rest of what the headers have
 *   announced, or, while small fragments keep coming, as much again as is held (the blocks then
 *   double, and a message in 64-byte fragments takes a few dozen blocks, not 65,536 pieces). The
 *   room is never more than {@link MAX_AHEAD}, nor more than the payload may still grow
 *   (`maxPayload`): a peer announcing 1 MiB and sending 1 byte gets 1 byte + 64 KiB allocated.
 *   After a large piece of a frame with more than that still to come there is no room: large
 *   socket reads are coming, and they are kept as they are (below).
 * - A socket chunk that is all payload (its memory holds nothing else) and large is kept as it
 *   is, without a copy, when no room is waiting for it in a block: it pins no more than the bytes
 *   kept. Any other piece is copied, since a view of it would keep the whole chunk alive — the
 *   frames around it too.
 *
 * So the memory held is at most the payload + 64 KiB (and at most the limit), in a few Buffers per
 * 16 KiB of it, whatever the number of fragments. Handing the payload on costs one copy into a
 * buffer of its exact size, unless it is held in one piece.
 *
 * A piece may come still masked, with its key (RFC 6455 §5.3): it is then unmasked on the way —
 * XORed while it is copied into a block (one pass over the bytes instead of an in-place unmask
 * followed by a copy), or in place when the chunk is kept as it is.
 */
import { xorCopy, xorRange } from './mask-fast.js';

/** The most a block is allocated beyond the bytes it is made for. */
export const MAX_AHEAD = 64 * 1024;

/** A chunk that is all payload is kept as it is from this size up (smaller ones are cheaper to copy). */
const KEEP_FROM = 16 * 1024;


export class PayloadBuffer {
  /** Payload bytes held. */
  length = 0;
  /** Bytes of memory held: every block at its full size, filled or not, and every chunk kept. */
  memory = 0;
  /** The payload in order, except the part of `block` from `blockStart`. */
  private readonly segments: Buffer[] = [];
  /** The block being filled: `[0, blockStart)` is in `segments`, `[blockStart, blockEnd)` not yet. */
  private block: Buffer | undefined = undefined;
  private blockStart = 0;
  private blockEnd = 0;

  /**
   * Appends `piece` (the caller gives it up: a chunk may be kept as it is). `announced` is the
   * payload length the headers have announced so far, this piece included; `limit` the most the
   * payload may grow to. Both only size the room of a new block. When `key` is given, `piece` is
   * still masked with it, its first byte taking key byte `phase` (the key as a number, see
   * mask-fast.ts's `readKey`); what is held is the unmasked bytes. When `check` is given, it sees
   * the unmasked bytes in order right after they are written (in cache), e.g. a UTF-8 validator;
   * returns false as soon as it does (the buffer is then to be dropped).
   */
  add(piece: Buffer, announced: number, limit: number, key?: number, phase = 0, check?: ByteCheck): boolean {
    const n = piece.length;
    const block = this.block;
    // Kept only when no room is waiting in the block: room allocated and left unused would be
    // memory beyond the bytes held (and beyond the limit the room was sized to).
    if (n >= KEEP_FROM && piece.byteOffset === 0 && piece.buffer.byteLength === n && (block === undefined || this.blockEnd === block.length)) {
      if (key !== undefined) xorRange(piece, 0, n, key, phase);
      if (check !== undefined && !check.write(piece, 0, n)) return false;
      this.flushBlock();
      this.segments.push(piece);
      this.length += n;
      this.memory += n;
      return true;
    }
    let copied = 0;
    if (block !== undefined) {
      copied = Math.min(n, block.length - this.blockEnd);
      copyInto(piece, 0, copied, block, this.blockEnd, key, phase);
      if (check !== undefined && !check.write(block, this.blockEnd, this.blockEnd + copied)) return false;
      this.blockEnd += copied;
      this.length += copied;
      if (copied === n) return true;
      this.flushBlock();
    }
    const rest = n - copied;
    const held = this.length + rest;
    // The room: what is announced and not here yet, or (for small fragments) as much as is held —
    // never past the limit, never more than MAX_AHEAD. None after a large piece of a frame that has
    // more than MAX_AHEAD still to come: large socket reads are coming, to be kept as they are.
    const ahead = announced - held;
    const room = rest >= KEEP_FROM && ahead > MAX_AHEAD ? 0 : Math.min(MAX_AHEAD, Math.max(ahead, Math.min(this.length, limit - held)));
    const next = Buffer.allocUnsafeSlow(rest + room);
    copyInto(piece, copied, n, next, 0, key, phase + copied);
    this.block = next;
    this.blockStart = 0;
    this.blockEnd = rest;
    this.length = held;
    this.memory += next.length;
    return check === undefined || check.write(next, 0, rest);
  }

  /** The whole payload, and empties the buffer. */
  take(): Buffer {
    this.flushBlock();
    const segments = this.segments;
    // (The receiver makes a payload buffer only for a message with bytes: never empty here.)
    const data = segments.length === 1 ? segments[0] : Buffer.concat(segments, this.length);
    this.clear();
    return data;
  }

  /** Drops everything held. */
  clear(): void {
    this.segments.length = 0;
    this.block = undefined;
    this.blockStart = this.blockEnd = 0;
    this.length = this.memory = 0;
  }

  /** Moves the block's pending bytes into `segments`; bytes handed out are never written again. */
  private flushBlock(): void {
    if (this.blockEnd === this.blockStart) return;
    this.segments.push((this.block as Buffer).subarray(this.blockStart, this.blockEnd));
    this.blockStart = this.blockEnd;
  }
}

/** What `add` may show the bytes to as they are written: `Utf8Validator` has this shape. */
export interface ByteCheck {
  write(buffer: Buffer, start: number, end: number): boolean;
}

/** Copies `piece[start .. end)` to `target[at ..]`, unmasking it on the way when a `key` is given (its byte `phase` for `piece[start]`). */
function copyInto(piece: Buffer, start: number, end: number, target: Buffer, at: number, key: number | undefined, phase: number): void {
  if (key === undefined) piece.copy(target, at, start, end);
  else xorCopy(piece, start, end, key, phase & 3, target, at);
}
