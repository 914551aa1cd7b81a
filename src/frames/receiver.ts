/**
 * `Receiver`: bytes in (any chunking), messages and control frames out, through a sink.
 *
 * On top of the frame rules of `FrameDecoder` it assembles messages (RFC 6455 §5.4): a message is
 * one Text or Binary frame, then zero or more Continuation frames, the last with FIN set; control
 * frames may come in between. It caps each message's size and frame count (§10.4), validates text
 * as UTF-8 as it arrives (§5.6, §8.1) and decodes Close payloads (§5.5.1).
 */
import { WebSocketError } from '../errors.js';
import { CloseCode, decodeClosePayload } from './close.js';
import { FrameErrorCode as E, localError, remoteError } from './codes.js';
import { type DecoderOptions, FrameDecoder } from './decoder.js';
import { Opcode } from './opcodes.js';
import { isValidUtf8, Utf8Validator } from './utf8.js';

/**
 * Default cap on the frames of one message. A flood of tiny (or empty) fragments costs a header
 * parse each and bookkeeping that `maxPayload` does not see (a denial of service fixed in ws 8.21).
 * 4096 still lets a message of the default 1 MiB come in 256-byte fragments, far smaller than any
 * real client uses (browsers do not fragment at all).
 */
export const DEFAULT_MAX_FRAGMENTS = 4096;

/**
 * A one-frame message up to this size whose payload spans chunks is gathered into one buffer of
 * its exact size (see `wholePiece`). Bigger ones go piece by piece: their pieces are mostly whole
 * socket reads, kept as views (measured: faster from 64 KiB up), and a peer can never make this
 * side allocate more than this ahead of the bytes it actually sent.
 */
const WHOLE_LIMIT = 16 * 1024;

/** Pieces shorter than this are copied into a shared block instead of kept as views (see `store`). */
const COALESCE_BELOW = 1024;
const BLOCK_SIZE = 16384;

const EMPTY = Buffer.alloc(0);

/** A copy in memory of its own (not a slice of the shared pool, which other buffers pin). */
function copy(piece: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(piece.length);
  piece.copy(own);
  return own;
}

export interface ReceiverOptions extends DecoderOptions {
  /** Cap per MESSAGE (all fragments together), default 1 MiB; checked on each header (close code 1009). */
  maxPayload?: number;
  /** Cap on the frames of one message, default {@link DEFAULT_MAX_FRAGMENTS} (close code 1009). */
  maxFragments?: number;
}

/** Where the Receiver delivers what it decodes. Callbacks run synchronously inside `push`. */
export interface ReceiverSink {
  /**
   * A complete message. Text is already validated UTF-8 (unless `rsv1`: then it is still compressed
   * and the extension validates after inflating). `rsv1` is the first frame's RSV1 bit, only ever
   * true with `allowRsv1`.
   */
  onMessage(data: Buffer, isBinary: boolean, rsv1: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** A valid Close frame: 1005 and '' when it had no payload. No more input is processed after it. */
  onClose(code: number, reason: string): void;
  /** The input broke the protocol; at most once, with closeCode 1002, 1007 or 1009. */
  onError(error: WebSocketError): void;
}

/** Bytes in (any chunking) → messages and control frames out, through the sink. */
export class Receiver extends FrameDecoder {
  private readonly sink: ReceiverSink;
  private readonly maxFragments: number;
  /** The message being assembled (§5.4). */
  private inMessage = false;
  private messageBinary = false;
  private messageRsv1 = false;
  /** Text to validate: a Text message not compressed by an extension. */
  private validate = false;
  private fragments = 0;
  /** Payload bytes announced by this message's headers so far (checked against maxPayload). */
  private messageLength = 0;
  /** Payload received so far, as views of chunks or of `block`. */
  private readonly pieces: Buffer[] = [];
  private piecesLength = 0;
  private block: Buffer | undefined = undefined;
  private blockStart = 0;
  private blockEnd = 0;
  /** Incremental UTF-8 state for text that arrives in pieces (made on first need). */
  private utf8: Utf8Validator | undefined = undefined;
  /** The payload of a one-frame message that spans chunks, gathered at its exact size. */
  private whole: Buffer | undefined = undefined;
  /** A control frame payload that spans chunks (≤ 125 bytes, §5.5). */
  private control: Buffer | undefined = undefined;

  constructor(options: ReceiverOptions, sink: ReceiverSink) {
    super(options);
    const maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
    if (!(maxFragments === Infinity || (Number.isSafeInteger(maxFragments) && maxFragments >= 1))) {
      throw localError(E.InvalidOption, `options.maxFragments must be a positive integer or Infinity, got ${maxFragments}.`);
    }
    this.maxFragments = maxFragments;
    this.sink = sink;
  }

  /** Bytes held for incomplete frames and messages (for memory accounting). */
  get bufferedBytes(): number {
    const whole = this.whole === undefined ? 0 : this.whole.length;
    return this.held + this.piecesLength + this.blockEnd - this.blockStart + whole + (this.control === undefined ? 0 : this.received);
  }

  protected checkFrame(): WebSocketError | undefined {
    const opcode = this.opcode;
    if (opcode >= 8) return undefined; // §5.4: control frames may be injected in the middle of a message
    if (opcode === Opcode.Continuation) {
      if (!this.inMessage) {
        return remoteError(E.UnexpectedContinuation, CloseCode.ProtocolError, 'Continuation frame with no fragmented message to continue (RFC 6455 §5.4).');
      }
      // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
      if (this.rsv1) {
        return remoteError(E.UnexpectedRsv, CloseCode.ProtocolError, 'RSV1 set on a continuation frame (RFC 7692 §6.1).');
      }
      if (++this.fragments > this.maxFragments) {
        return remoteError(E.TooManyFragments, CloseCode.MessageTooBig, `Message in more than ${this.maxFragments} frames (maxFragments).`);
      }
    } else {
      if (this.inMessage) {
        return remoteError(E.ExpectedContinuation, CloseCode.ProtocolError, `New data frame (opcode ${opcode}) inside a fragmented message: expected a continuation frame (RFC 6455 §5.4).`);
      }
      this.inMessage = true;
      this.messageBinary = opcode === Opcode.Binary;
      this.messageRsv1 = this.rsv1;
      this.validate = opcode === Opcode.Text && !this.rsv1;
      this.fragments = 1;
      this.messageLength = 0;
      this.utf8?.reset();
    }
    const total = this.messageLength + this.payloadLength;
    if (total > this.maxPayload) {
      return remoteError(E.MessageTooBig, CloseCode.MessageTooBig, `Message of ${total} bytes or more exceeds maxPayload (${this.maxPayload}) (RFC 6455 §10.4).`);
    }
    this.messageLength = total;
    return undefined;
  }

  protected onFramePayload(payload: Buffer): void {
    const opcode = this.opcode;
    if (opcode >= 8) return this.controlFrame(payload);
    if (this.fin && opcode !== Opcode.Continuation) {
      // The fast path: a whole message in one frame within one chunk, delivered as a view of it.
      this.inMessage = false;
      if (this.validate && !isValidUtf8(payload)) return this.invalidUtf8();
      this.sink.onMessage(payload, this.messageBinary, this.messageRsv1);
      return;
    }
    if (this.addData(payload) && this.fin) this.finishMessage();
  }

  protected onFramePiece(piece: Buffer, last: boolean): void {
    if (this.opcode >= 8) {
      let control = this.control;
      if (control === undefined) control = this.control = Buffer.allocUnsafe(this.payloadLength);
      piece.copy(control, this.received - piece.length);
      if (!last) return;
      this.control = undefined;
      return this.controlFrame(control);
    }
    if (this.fin && this.opcode !== Opcode.Continuation && this.payloadLength <= WHOLE_LIMIT) {
      return this.wholePiece(piece, last);
    }
    if (this.addData(piece) && last && this.fin) this.finishMessage();
  }

  /**
   * A message of one frame whose payload spans chunks: its size is known from the header, so it is
   * gathered straight into one buffer of exactly that size — one copy, where pieces would take two
   * (each piece, then their concatenation), and no chunk is kept alive by a view of it.
   */
  private wholePiece(piece: Buffer, last: boolean): void {
    if (this.validate && !(this.utf8 ??= new Utf8Validator()).write(piece, 0, piece.length)) return this.invalidUtf8();
    const whole = (this.whole ??= Buffer.allocUnsafeSlow(this.payloadLength));
    piece.copy(whole, this.received - piece.length);
    if (!last) return;
    this.whole = undefined;
    this.inMessage = false;
    // §8.1: a text message must not end inside a code point.
    if (this.validate && !this.utf8!.complete) return this.invalidUtf8();
    this.sink.onMessage(whole, this.messageBinary, this.messageRsv1);
  }

  protected onFailure(error: WebSocketError): void {
    this.release();
    this.sink.onError(error);
  }

  /** Validates (fail fast: §8.1 allows failing as soon as the text is known to be invalid) and stores. */
  private addData(piece: Buffer): boolean {
    if (this.validate && !(this.utf8 ??= new Utf8Validator()).write(piece, 0, piece.length)) {
      this.invalidUtf8();
      return false;
    }
    if (piece.length !== 0) this.store(piece);
    return true;
  }

  /**
   * Keeps a piece until the message is complete. Large pieces stay views of their chunk (no copy)
   * when they fill most of it; small ones are copied into a shared block, so that a message
   * trickling in byte by byte costs neither a Buffer object per byte nor a whole retained chunk per
   * byte.
   */
  private store(piece: Buffer): void {
    const length = piece.length;
    if (length >= COALESCE_BELOW) {
      this.flushBlock();
      // A view keeps its whole chunk alive, so it is taken only when the piece is most of that
      // chunk; otherwise the piece is copied. Else maxPayload would not bound memory: 1 KiB
      // fragments, each read in a 64 KiB chunk padded with pongs, would pin 64 times maxPayload.
      this.pieces.push(piece.buffer.byteLength <= 2 * length ? piece : copy(piece));
      this.piecesLength += length;
      return;
    }
    let block = this.block;
    if (block === undefined || block.length - this.blockEnd < length) {
      this.flushBlock();
      block = this.block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.blockStart = this.blockEnd = 0;
    }
    piece.copy(block, this.blockEnd);
    this.blockEnd += length;
  }

  /** Moves the block's pending bytes into `pieces`. Bytes handed out are never written again. */
  private flushBlock(): void {
    if (this.blockEnd === this.blockStart) return;
    this.pieces.push((this.block as Buffer).subarray(this.blockStart, this.blockEnd));
    this.piecesLength += this.blockEnd - this.blockStart;
    this.blockStart = this.blockEnd;
  }

  private finishMessage(): void {
    this.inMessage = false;
    // §8.1: a text message must not end inside a code point.
    if (this.validate && !this.utf8!.complete) return this.invalidUtf8();
    this.flushBlock();
    const pieces = this.pieces;
    const data = pieces.length === 1 ? pieces[0] : pieces.length === 0 ? EMPTY : Buffer.concat(pieces, this.piecesLength);
    this.release();
    this.sink.onMessage(data, this.messageBinary, this.messageRsv1);
  }

  private controlFrame(payload: Buffer): void {
    const opcode = this.opcode;
    if (opcode === Opcode.Close) {
      const close = decodeClosePayload(payload);
      if (close instanceof WebSocketError) return this.failWith(close);
      // §5.5.1: the endpoint MUST NOT send more data frames after a Close; nothing after it counts.
      this.stop();
      this.release();
      this.sink.onClose(close.code, close.reason);
    } else if (opcode === Opcode.Ping) {
      this.sink.onPing(payload);
    } else {
      this.sink.onPong(payload);
    }
  }

  private invalidUtf8(): void {
    this.fail(E.InvalidUtf8, CloseCode.InvalidPayload, 'Text message is not valid UTF-8 (RFC 6455 §8.1).');
  }

  /** Drops the message in progress. */
  private release(): void {
    this.whole = undefined;
    this.pieces.length = 0;
    this.piecesLength = 0;
    this.blockStart = this.blockEnd;
  }
}
