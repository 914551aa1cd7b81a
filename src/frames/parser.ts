/**
 * `FrameParser`: bytes in (any chunking), frames out. The frame-level view of the wire, enforcing
 * every rule of RFC 6455 §5 that one frame can break on its own (masking by role, RSV bits,
 * reserved opcodes, control frame FIN and size, the 64-bit length MSB, the payload cap).
 *
 * Message-level rules (continuations, UTF-8, close payloads) belong to the `Receiver`; this parser
 * is for tests, tools and readers who want to see frames as they are.
 */
import type { WebSocketError } from '../errors.js';
import { CloseCode } from './close.js';
import { FrameErrorCode, remoteError } from './codes.js';
import { type DecoderOptions, FrameDecoder } from './decoder.js';
import type { Frame } from './opcodes.js';
import { PayloadBuffer } from './payload-buffer.js';

/** Options of {@link FrameParser}. `maxPayload` (default 1 MiB) caps each frame's payload. */
export type FrameParserOptions = DecoderOptions;

/**
 * Incremental frame parser. `push` returns the frames the chunk completed; when the input breaks a
 * rule, `error` is set (a `WebSocketError` with its close code) and all later input is ignored.
 */
export class FrameParser extends FrameDecoder {
  private frames: Frame[] = [];
  /** The payload of a frame that spans chunks. */
  private readonly payload = new PayloadBuffer();

  constructor(options: FrameParserOptions) {
    super(options, 'new FrameParser()');
  }

  /**
   * Feeds bytes and returns the frames completed by them, in order (frames before an error are
   * still returned). Payloads that lie within one chunk are views of it (unmasked in place).
   */
  override push(chunk: Buffer): Frame[] {
    super.push(chunk);
    const frames = this.frames;
    this.frames = [];
    return frames;
  }

  /**
   * Bytes of memory held for an incomplete frame: header bytes gathered, and the buffers holding its
   * payload at their full size — at most the payload so far + 64 KiB, never more than the frame.
   */
  get bufferedBytes(): number {
    return this.held + this.payload.memory;
  }

  protected checkFrame(): WebSocketError | undefined {
    if (this.payloadLength > this.maxPayload) {
      return remoteError(
        FrameErrorCode.MessageTooBig,
        CloseCode.MessageTooBig,
        `Frame payload of ${this.payloadLength} bytes exceeds maxPayload (${this.maxPayload}) (RFC 6455 §10.4).`,
      );
    }
    return undefined;
  }

  protected onFramePayload(payload: Buffer): void {
    this.frames.push({ ...this.bits, payload });
  }

  protected onFramePiece(piece: Buffer, last: boolean): void {
    this.payload.add(piece, this.payloadLength, this.payloadLength);
    if (last) this.onFramePayload(this.payload.take());
  }

  /** A piece of a masked frame that spans chunks: unmasked while it is copied into the frame's buffer (one pass). */
  protected override onMaskedPiece(chunk: Buffer, start: number, end: number, key: number, phase: number, last: boolean): void {
    this.payload.add(chunk.subarray(start, end), this.payloadLength, this.payloadLength, key, phase);
    if (last) this.onFramePayload(this.payload.take());
  }

  protected onFailure(): void {
    this.payload.clear();
  }
}
