/**
 * `WireReader`: the frame decoder of src/frames, watched. It reads one direction of a connection
 * (bytes in, any chunking) and reports every frame with its header fields and where it lies in the
 * stream, every message with its reassembled size, and the first rule broken — with the same
 * error codes and close codes as the `Receiver` the server runs.
 *
 * The frame rules are the decoder's own (it is a `FrameDecoder` subclass: nothing is parsed twice).
 * The message rules of RFC 6455 §5.4 (continuations), §8.1 (UTF-8, fail fast) and §5.5.1 (Close
 * payloads) are checked here as the Receiver checks them, but without holding a message: the reader
 * keeps at most `keep` bytes of each data frame and message, and counts the rest, so a relay can
 * watch a message of any size in bounded memory. test/learn/reader.test.ts holds it to the
 * Receiver's verdict on every kind of invalid input.
 */
import { WebSocketError } from '../errors.js';
import { CloseCode, FrameErrorCode, Utf8Validator, decodeClosePayload, type FrameBits } from '../frames/index.js';
import { FrameDecoder } from '../frames/decoder.js';
import type { Side } from './words.js';

/** The three forms of the payload length (RFC 6455 §5.2): in byte 1, or in 2 or 8 bytes after it. */
export type LengthForm = 7 | 16 | 64;

/** The header of a frame, as far as it was read. */
export interface FrameHeader extends FrameBits {
  /** 1-based position of the frame in this direction. */
  index: number;
  /** Offset of the frame's first byte in the stream. */
  offset: number;
  /** Known once the length fields are read. */
  lengthForm?: LengthForm;
  length?: number;
  /** Header bytes: 2, plus 2 or 8 of extended length, plus 4 of masking key. Known with the length. */
  headerSize?: number;
  /** For a data frame that passed the §5.4 checks: its message and its place in it (1-based). */
  message?: number;
  fragment?: number;
}

/** A complete frame. */
export interface ReadFrame extends FrameHeader {
  lengthForm: LengthForm;
  length: number;
  headerSize: number;
  /** The 4-byte masking key (§5.3), when masked. */
  maskKey: Buffer | undefined;
  /** The first bytes of the unmasked payload: all of a control frame's, at most `keep` of a data frame's. */
  payload: Buffer;
  /** For frames of an uncompressed text message: whether the text so far ends on a whole character. */
  utf8?: 'complete' | 'partial';
  /** For a Close frame: its decoded code and reason (1005 and '' for an empty payload, §7.1.5). */
  close?: { code: number; reason: string };
}

/** A complete data message (§5.4: a Text or Binary frame, then continuations, the last with FIN). */
export interface ReadMessage {
  index: number;
  /** Index of its first frame, and how many frames it took. */
  firstFrame: number;
  frames: number;
  binary: boolean;
  /** RSV1 on its first frame: compressed by permessage-deflate (RFC 7692 §6). */
  compressed: boolean;
  length: number;
  /** Its first `keep` bytes. */
  preview: Buffer;
}

/** The first rule the stream broke. Nothing after it is read (RFC 6455 §7.1.7). */
export interface ReadFailure {
  error: WebSocketError;
  /** The frame that broke it, as far as its header was read. */
  frame: FrameHeader;
  maskKey: Buffer | undefined;
  /** The unmasked payload bytes of that frame read so far (at most `keep`). */
  payload: Buffer;
}

export interface ReaderSink {
  frame(frame: ReadFrame): void;
  message(message: ReadMessage): void;
  failure(failure: ReadFailure): void;
}

export interface ReaderOptions {
  /** Who sends these bytes: a client's frames must be masked, a server's must not (§5.1). */
  from: Side;
  /** An extension (permessage-deflate) was negotiated that defines RSV1. Default false. */
  allowRsv1?: boolean;
  /** Payload bytes kept per data frame and per message; the rest is counted. Default: all. */
  keep?: number;
}

/** Where the decoder stands when the input ends: inside a frame, and in which part of it. */
export interface Incomplete {
  frame: FrameHeader | undefined;
  offset: number;
  /** What is missing, in words: "its 64-bit extended length (8 bytes)". */
  missing: string;
  /** Bytes of the frame present. */
  have: number;
}

const EMPTY = Buffer.alloc(0);

export class WireReader extends FrameDecoder {
  readonly from: Side;
  private readonly sink: ReaderSink;
  private readonly keep: number;
  /** Bytes pushed so far, and the offset just past the last complete frame. */
  private total = 0;
  private frameEnd = 0;
  private frames = 0;
  private header: FrameHeader | undefined = undefined;
  private kept: Buffer[] = [];
  private keptLength = 0;
  private maskBytes: Buffer | undefined = undefined;
  // The message being assembled (§5.4): only its counts and its first bytes.
  private messages = 0;
  private inMessage = false;
  private messageFirst = 0;
  private messageFrames = 0;
  private messageBinary = false;
  private messageCompressed = false;
  private messageLength = 0;
  private preview: Buffer[] = [];
  private previewLength = 0;
  private validate = false;
  private readonly utf8 = new Utf8Validator();

  constructor(options: ReaderOptions, sink: ReaderSink) {
    // The reader is a witness, not a gatekeeper: no size cap of its own (the decoder still stops
    // at 2^53, past which a JavaScript number cannot count).
    super({ role: options.from === 'client' ? 'server' : 'client', maxPayload: Infinity, allowRsv1: options.allowRsv1 === true }, 'new WireReader()');
    this.from = options.from;
    this.sink = sink;
    this.keep = options.keep ?? Infinity;
  }

  override push(chunk: Buffer): void {
    this.total += chunk.length;
    super.push(chunk);
  }

  /** Bytes pushed so far. */
  get bytesRead(): number {
    return this.total;
  }

  /** Bytes pushed after the stream failed or a Close frame ended it (§5.5.1, §7.1.7): not read. */
  get ignored(): number {
    return this.awaiting === 'ended' && this.error === undefined ? this.total - this.frameEnd : 0;
  }

  /** Whether the stream ended: failed, or a Close frame came. */
  get done(): boolean {
    return this.awaiting === 'ended';
  }

  /** Bytes the reader holds: previews and the first bytes of the frame in progress. */
  get heldBytes(): number {
    return this.held + this.keptLength + this.previewLength;
  }

  /** If the input ended inside a frame: where, and what is missing. */
  incomplete(): Incomplete | undefined {
    const have = this.total - this.frameEnd;
    if (this.done || have === 0) return undefined;
    const offset = this.frameEnd;
    const frame = this.header;
    switch (this.awaiting) {
      case 'header':
        return { frame: undefined, offset, have, missing: 'the 2 bytes every frame header starts with' };
      case 'length16':
        return { frame: this.partialHeader(16), offset, have, missing: 'its 16-bit extended length (2 bytes after byte 1)' };
      case 'length64':
        return { frame: this.partialHeader(64), offset, have, missing: 'its 64-bit extended length (8 bytes after byte 1)' };
      case 'mask':
        return { frame, offset, have, missing: 'its 4-byte masking key' };
      default: {
        // Reading the payload: checkFrame has set the header, with its length.
        const length = (frame as FrameHeader).length as number;
        return { frame, offset, have, missing: `${length - this.received} more payload bytes` };
      }
    }
  }

  protected checkFrame(): WebSocketError | undefined {
    const form: LengthForm = this.lengthForm;
    const header = (this.header = this.partialHeader(form));
    header.length = this.payloadLength;
    header.headerSize = 2 + (form === 16 ? 2 : form === 64 ? 8 : 0) + (this.masked ? 4 : 0);
    this.kept = [];
    this.keptLength = 0;
    this.maskBytes = undefined;
    const opcode = this.opcode;
    // §5.5: control frames may come between the fragments of a message; they belong to none.
    if (opcode >= 8) return undefined;
    if (opcode === 0) {
      if (!this.inMessage) {
        return remote(FrameErrorCode.UnexpectedContinuation, CloseCode.ProtocolError, 'Continuation frame with no fragmented message to continue (RFC 6455 §5.4).');
      }
      // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
      if (this.rsv1) return remote(FrameErrorCode.UnexpectedRsv, CloseCode.ProtocolError, 'RSV1 set on a continuation frame (RFC 7692 §6.1).');
    } else {
      if (this.inMessage) {
        return remote(
          FrameErrorCode.ExpectedContinuation,
          CloseCode.ProtocolError,
          `New data frame (opcode ${opcode}) inside a fragmented message: expected a continuation frame (RFC 6455 §5.4).`,
        );
      }
      this.inMessage = true;
      this.messages++;
      this.messageFirst = header.index;
      this.messageFrames = 0;
      this.messageBinary = opcode === 2;
      this.messageCompressed = this.rsv1;
      this.messageLength = 0;
      this.preview = [];
      this.previewLength = 0;
      // A compressed text message can only be checked once inflated (RFC 7692 §6); the lens does not inflate.
      this.validate = opcode === 1 && !this.rsv1;
      this.utf8.reset();
    }
    header.message = this.messages;
    header.fragment = ++this.messageFrames;
    return undefined;
  }

  protected onFramePayload(payload: Buffer): void {
    this.onFramePiece(payload, true);
  }

  protected onFramePiece(piece: Buffer, last: boolean): void {
    if (this.maskBytes === undefined && this.masked) {
      const key = (this.maskBytes = Buffer.allocUnsafe(4));
      key.writeUInt32BE(this.maskKey >>> 0, 0);
    }
    const control = this.opcode >= 8;
    // A control payload is at most 125 bytes (§5.5) and is kept whole, to decode a Close.
    const room = (control ? 125 : this.keep) - this.keptLength;
    if (room > 0 && piece.length > 0) this.keepBytes(piece.subarray(0, room));
    if (!control) {
      if (this.validate && !this.utf8.write(piece, 0, piece.length)) return this.invalidUtf8();
      const roomInPreview = this.keep - this.previewLength;
      if (roomInPreview > 0 && piece.length > 0) {
        const copy = Buffer.from(piece.subarray(0, roomInPreview));
        this.preview.push(copy);
        this.previewLength += copy.length;
      }
      this.messageLength += piece.length;
    }
    if (last) this.frameDone();
  }

  protected onFailure(error: WebSocketError): void {
    // The decoder sets its state to FAILED before calling this; a failure inside the 64-bit length
    // (its top bit, or a length past 2^53) is the only one met before the header is complete.
    const inLength = error.code === FrameErrorCode.InvalidPayloadLength || error.code === FrameErrorCode.MessageTooBig;
    const frame = this.header ?? this.partialHeader(inLength ? 64 : undefined);
    this.preview = [];
    this.previewLength = 0;
    this.sink.failure({ error, frame, maskKey: this.maskBytes, payload: this.keptPayload() });
  }

  private frameDone(): void {
    const header = this.header as FrameHeader & { lengthForm: LengthForm; length: number; headerSize: number };
    const payload = this.keptPayload();
    let close: { code: number; reason: string } | undefined;
    if (header.opcode === 8) {
      const decoded = decodeClosePayload(payload);
      // The frame is whole, but its payload breaks §5.5.1 (or §8.1 for the reason): it fails.
      if (decoded instanceof WebSocketError) return this.failWith(decoded);
      close = decoded;
    } else if (header.opcode < 8 && this.validate && header.fin && !this.utf8.complete) {
      // §8.1: a text message must not end inside a character.
      return this.invalidUtf8();
    }
    this.header = undefined;
    this.frameEnd = header.offset + header.headerSize + header.length;
    this.frames++;
    const frame: ReadFrame = { ...header, maskKey: this.maskBytes, payload };
    this.kept = [];
    this.keptLength = 0;
    this.maskBytes = undefined;
    if (close !== undefined) {
      frame.close = close;
      // §5.5.1: nothing after a Close frame is data.
      this.stop();
    }
    if (header.opcode >= 8) return this.sink.frame(frame);
    if (this.validate) frame.utf8 = this.utf8.complete ? 'complete' : 'partial';
    this.sink.frame(frame);
    if (!header.fin) return;
    this.inMessage = false;
    const message: ReadMessage = {
      index: this.messages,
      firstFrame: this.messageFirst,
      frames: this.messageFrames,
      binary: this.messageBinary,
      compressed: this.messageCompressed,
      length: this.messageLength,
      preview: this.preview.length === 1 ? this.preview[0] : Buffer.concat(this.preview),
    };
    this.preview = [];
    this.previewLength = 0;
    this.sink.message(message);
  }

  private keepBytes(bytes: Buffer): void {
    // A copy: the decoder's chunk belongs to the caller once push() returns.
    this.kept.push(Buffer.from(bytes));
    this.keptLength += bytes.length;
  }

  private keptPayload(): Buffer {
    return this.kept.length === 0 ? EMPTY : this.kept.length === 1 ? this.kept[0] : Buffer.concat(this.kept);
  }

  /** The header fields the decoder has read for the frame in progress. */
  private partialHeader(form: LengthForm | undefined): FrameHeader {
    const header: FrameHeader = { index: this.frames + 1, offset: this.frameEnd, ...this.bits };
    if (form !== undefined) header.lengthForm = form;
    return header;
  }

  private invalidUtf8(): void {
    this.fail(FrameErrorCode.InvalidUtf8, CloseCode.InvalidPayload, 'Text message is not valid UTF-8 (RFC 6455 §8.1).');
  }
}

function remote(code: FrameErrorCode, closeCode: number, message: string): WebSocketError {
  return new WebSocketError(code, message, { side: 'remote', closeCode });
}

