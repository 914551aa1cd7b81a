/**
 * The outgoing byte queue of one connection.
 *
 * Why it exists: a WebSocket server that answers a TCP read holding 100 small messages with 100
 * socket writes spends its time in syscalls, not in WebSocket work. The outbox collects every frame
 * produced while one read is handled (echoes, pongs, broadcasts) and hands them to the socket as a
 * few large chunks, ideally one.
 *
 * How: small frames are written, header and payload together, into a slab shared by all
 * connections (like Node's own `Buffer` pool), so consecutive frames of one connection are
 * contiguous and leave as one chunk. Large payloads are not copied: the header goes in the slab and
 * the payload is queued by reference, for the socket's `writev`.
 *
 * Pure: no sockets, no timers. The binding calls {@link Outbox.take} and writes what it returns.
 */
import { frameHeaderSize, mask, writeFrameHeader } from '../frames/index.js';

/** Size of each shared slab. Slabs are never reused: a full one is dropped and GC'd once written. */
const SLAB_SIZE = 64 * 1024;
/**
 * Payloads up to this size are copied next to their header; larger ones are queued by reference.
 * Copying lets many small frames leave in one write; above ~1 KiB the copy costs more than the
 * extra iovec it saves (measured: 16 KiB echoes took ~10% less server CPU per message than with a
 * 16 KiB limit).
 */
const COPY_LIMIT = 1024;

/** Every slab's memory, so that `take(true)` can tell slab views from payloads queued by reference. */
const slabs = new WeakSet<ArrayBufferLike>();

function newSlab(): Buffer {
  // 64 KiB is over Buffer's pool limit: each slab has an ArrayBuffer of its own.
  const fresh = Buffer.allocUnsafe(SLAB_SIZE);
  slabs.add(fresh.buffer);
  return fresh;
}

let slab = newSlab();
let slabUsed = 0;

/** Reserves `n` bytes of the shared slab (n ≤ SLAB_SIZE) and returns their offset. */
function reserve(n: number): number {
  if (SLAB_SIZE - slabUsed < n) {
    slab = newSlab();
    slabUsed = 0;
  }
  const offset = slabUsed;
  slabUsed += n;
  return offset;
}

/** Replaces every slab view in `chunks` by a copy in memory of its own. */
function detachAll(chunks: Buffer[]): void {
  for (let i = 0; i < chunks.length; i++) {
    const view = chunks[i];
    if (!slabs.has(view.buffer)) continue;
    const own = Buffer.allocUnsafeSlow(view.length);
    view.copy(own);
    chunks[i] = own;
  }
}

export class Outbox {
  /** Chunks ready to be written, in order. */
  /** (Made on first need and handed over whole by `take`: an idle connection holds no array.) */
  private chunks: Buffer[] | undefined = undefined;
  /** This outbox's pending region of the shared slab: [regionStart, regionEnd) of `regionSlab`. */
  private regionSlab: Buffer | undefined = undefined;
  private regionStart = 0;
  private regionEnd = 0;
  /** Bytes queued and not yet taken. */
  bytes = 0;

  /** @param masked whether frames are masked (RFC 6455 §5.3: every client-to-server frame is). */
  constructor(private readonly masked: boolean) {}

  /** Queues one frame. The payload is never modified; when masked, a masked copy is made. */
  frame(opcode: number, payload: Buffer, fin: boolean, rsv1 = false): void {
    const length = payload.length;
    const headerSize = frameHeaderSize(length, this.masked);
    if (length <= COPY_LIMIT) {
      const at = this.extend(headerSize + length);
      const end = writeFrameHeader(slab, at, fin, opcode, length, this.masked, rsv1);
      if (this.masked) mask(payload, slab, end - 4, slab, end);
      else payload.copy(slab, end);
      return;
    }
    const at = this.extend(headerSize);
    const end = writeFrameHeader(slab, at, fin, opcode, length, this.masked, rsv1);
    if (this.masked) {
      // §5.3: the payload is masked on the wire; the caller's buffer must stay as it was.
      const copy = Buffer.allocUnsafe(length);
      mask(payload, slab, end - 4, copy, 0);
      this.push(copy);
    } else {
      this.push(payload);
    }
  }

  /**
   * Queues one text frame straight from a string, without an intermediate Buffer when it is
   * small enough to encode into the slab.
   */
  text(data: string, fin: boolean, opcode: number): void {
    // Each UTF-16 unit encodes to at most 3 UTF-8 bytes, so this bound is safe without measuring.
    if (data.length * 3 > COPY_LIMIT) {
      this.frame(opcode, Buffer.from(data, 'utf8'), fin);
      return;
    }
    const length = Buffer.byteLength(data, 'utf8');
    const headerSize = frameHeaderSize(length, this.masked);
    const at = this.extend(headerSize + length);
    const end = writeFrameHeader(slab, at, fin, opcode, length, this.masked, false);
    slab.write(data, end, 'utf8');
    if (this.masked) mask(slab.subarray(end, end + length), slab, end - 4, slab, end);
  }

  /** Queues bytes that are already a complete frame (a broadcast encoded once for all recipients). */
  raw(bytes: Buffer): void {
    if (bytes.length <= COPY_LIMIT) {
      const at = this.extend(bytes.length);
      bytes.copy(slab, at);
    } else {
      this.push(bytes);
    }
  }

  /**
   * Hands over everything queued, as few chunks as possible, and empties the outbox.
   *
   * @param detach copy the slab regions out into memory of their own. The binding asks for this
   *   when the socket is already backed up: the chunks will then wait in its queue, and a view
   *   waiting there keeps the whole 64 KiB slab alive — a peer that does not read could pin a slab
   *   for every few bytes queued for it.
   */
  take(detach = false): Buffer[] {
    this.closeRegion();
    const chunks = this.chunks ?? [];
    if (detach) detachAll(chunks);
    this.chunks = undefined;
    this.bytes = 0;
    return chunks;
  }

  /** Drops everything queued and not yet taken (a recipient too slow to keep: its backlog is shed). */
  clear(): void {
    this.closeRegion();
    this.chunks = undefined;
    this.bytes = 0;
  }

  /**
   * Keeps everything queued here, in memory of its own. The binding calls this instead of `take`
   * while the socket has not drained: the bytes then wait in the outbox — counted, and never in the
   * kernel's or the socket's queue beyond what it already holds — and no view pins a shared slab.
   */
  hold(): void {
    this.closeRegion();
    if (this.chunks !== undefined) detachAll(this.chunks);
  }

  /** Grows this outbox's slab region by n bytes and returns where they start. */
  private extend(n: number): number {
    // The region stays one chunk only while nobody else wrote into the slab after it.
    if (this.regionSlab !== slab || this.regionEnd !== slabUsed || SLAB_SIZE - slabUsed < n) {
      this.closeRegion();
      const at = reserve(n);
      this.regionSlab = slab;
      this.regionStart = at;
      this.regionEnd = at + n;
    } else {
      slabUsed += n;
      this.regionEnd += n;
    }
    this.bytes += n;
    return this.regionEnd - n;
  }

  private push(chunk: Buffer): void {
    this.closeRegion();
    (this.chunks ??= []).push(chunk);
    this.bytes += chunk.length;
  }

  private closeRegion(): void {
    if (this.regionSlab !== undefined && this.regionEnd > this.regionStart) {
      (this.chunks ??= []).push(this.regionSlab.subarray(this.regionStart, this.regionEnd));
    }
    this.regionSlab = undefined;
    this.regionStart = this.regionEnd = 0;
  }
}
