/**
 * `Receiver`: bytes in (any chunking), messages and control frames out, through a sink.
 *
 * On top of the frame rules of `FrameDecoder` it assembles messages (RFC 6455 §5.4): a message is
 * one Text or Binary frame, then zero or more Continuation frames, the last with FIN set; control
 * frames may come in between. It caps each message's size (§10.4) on every header, validates text
 * as UTF-8 as it arrives (§5.6, §8.1) and decodes Close payloads (§5.5.1). A fragment costs its
 * bytes and a header parse, like any frame: there is no fragment count to exhaust, and the memory
 * a message holds is bounded by its bytes (see payload-buffer.ts).
 */
import { WebSocketError } from '../errors.js';
import { CloseCode, decodeClosePayload } from './close.js';
import { FrameErrorCode as E, remoteError } from './codes.js';
import { type DecoderOptions, FrameDecoder } from './decoder.js';
import { Opcode } from './opcodes.js';
import { PayloadBuffer } from './payload-buffer.js';
import { isValidUtf8, Utf8Validator } from './utf8.js';

/**
 * An extension that turns a compressed message back into its payload as it arrives — the inflater
 * of permessage-deflate (RFC 7692 §7.2.2). Each returns the payload bytes it produced (in memory
 * of their own), or the error that fails the connection (1007 for data that does not inflate,
 * 1009 for a message that would inflate past its limit).
 */
export interface MessageInflater {
  /** The next piece of the compressed message, in order. */
  write(piece: Buffer): Buffer[] | WebSocketError;
  /** The message's last frame is in: finish it. */
  end(): Buffer[] | WebSocketError;
}

export type { DecoderOptions };

const EMPTY = Buffer.alloc(0);

/**
 * Options of {@link Receiver}. `maxPayload` caps each MESSAGE, all its fragments together, as it
 * comes on the wire; `inflate` (which also allows RSV1) inflates messages that carry RSV1, and its
 * own limit caps what they inflate to.
 */
export interface ReceiverOptions extends DecoderOptions {
  inflate?: MessageInflater;
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

/**
 * Bytes in (any chunking) → messages and control frames out, through the sink.
 *
 * Memory: a message being received holds at most its payload so far + 64 KiB (never more than
 * `maxPayload`), whatever its fragment count; a frame whose header announces more than has arrived
 * gets at most 64 KiB allocated ahead of its bytes. {@link bufferedBytes} is the exact figure.
 */
export class Receiver extends FrameDecoder {
  private readonly sink: ReceiverSink;
  /** The message being assembled (§5.4). */
  private inMessage = false;
  private messageBinary = false;
  private messageRsv1 = false;
  /** Text to validate: a Text message not compressed by an extension. */
  private validate = false;
  /** Payload bytes announced by this message's headers so far (checked against maxPayload). */
  private messageLength = 0;
  /** The payload of a message that did not come whole in one chunk. */
  /** (Made when a message first spans chunks: an idle connection holds none.) */
  private payloadBuffer: PayloadBuffer | undefined = undefined;
  /** Incremental UTF-8 state for text that arrives in pieces (made on first need). */
  private utf8: Utf8Validator | undefined = undefined;
  /** A control frame payload that spans chunks (≤ 125 bytes, §5.5). */
  private control: Buffer | undefined = undefined;

  /** The inflater of compressed messages, when an extension negotiated one. */
  private readonly inflate: MessageInflater | undefined;
  /** The message being received is compressed and is being inflated piece by piece. */
  private inflating = false;

  constructor(options: ReceiverOptions, sink: ReceiverSink) {
    // The decoder checks its options; the inflater is the Receiver's own (and allows RSV1).
    const inflate = typeof options === 'object' && options !== null ? options.inflate : undefined;
    super(inflate === undefined ? options : { role: options.role, maxPayload: options.maxPayload, allowRsv1: true }, 'new Receiver()');
    this.inflate = inflate;
    this.sink = sink;
  }

  /**
   * Bytes of memory held for the frame and message in progress: header bytes gathered, and the
   * buffers holding payload at their full size (see payload-buffer.ts). 0 between messages.
   */
  get bufferedBytes(): number {
    return this.held + (this.payloadBuffer?.memory ?? 0) + (this.control === undefined ? 0 : this.control.length);
  }

  /**
   * Whether a frame (from its first header byte) or a fragmented message has started and is not
   * finished. False once the stream has failed or a Close arrived.
   */
  get inProgress(): boolean {
    return this.inMessage || this.inFrame;
  }

  /**
   * Payload bytes announced so far by the headers of what is in progress: the message's frames,
   * and a control frame being read (in the middle of a message or not). 0 when nothing is.
   */
  get announcedBytes(): number {
    return (this.inMessage ? this.messageLength : 0) + (this.opcode >= 8 ? this.frameAnnounced : 0);
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
    } else {
      if (this.inMessage) {
        return remoteError(E.ExpectedContinuation, CloseCode.ProtocolError, `New data frame (opcode ${opcode}) inside a fragmented message: expected a continuation frame (RFC 6455 §5.4).`);
      }
      this.inMessage = true;
      this.messageBinary = opcode === Opcode.Binary;
      this.messageRsv1 = this.rsv1;
      this.inflating = this.rsv1 && this.inflate !== undefined;
      // Text is validated as it arrives — after inflating, when it comes compressed (RFC 7692 §8.1
      // applies to the payload, not to the compressed bytes). Without an inflater a compressed
      // message is handed on as it is, for whoever negotiated it.
      this.validate = opcode === Opcode.Text && (!this.rsv1 || this.inflating);
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
    if (this.inflating) {
      if (this.inflatePiece(payload) && this.fin) this.finishInflating();
      return;
    }
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
    if (this.inflating) {
      if (this.inflatePiece(piece) && last && this.fin) this.finishInflating();
      return;
    }
    if (this.addData(piece) && last && this.fin) this.finishMessage();
  }

  /**
   * A piece of a masked frame, still masked. Data is unmasked while it is copied into the payload
   * buffer (one pass, not an in-place unmask and then a copy; see {@link addData}). Control frames
   * and compressed pieces have other places to go: unmasked in place.
   */
  protected override onMaskedPiece(chunk: Buffer, start: number, end: number, key: number, phase: number, last: boolean): void {
    if (this.opcode >= 8 || this.inflating) return super.onMaskedPiece(chunk, start, end, key, phase, last);
    if (this.addData(chunk.subarray(start, end), undefined, undefined, key, phase) && last && this.fin) this.finishMessage();
  }

  /** A piece of a compressed message: inflate it, validate and keep what comes out. Fail fast. */
  private inflatePiece(piece: Buffer): boolean {
    return this.addInflated(this.inflate!.write(piece));
  }

  /** The compressed message's last frame is in: the rest of its payload, then the message. */
  private finishInflating(): void {
    if (!this.addInflated(this.inflate!.end())) return;
    this.inflating = false;
    this.finishMessage();
  }

  private addInflated(pieces: Buffer[] | WebSocketError): boolean {
    if (pieces instanceof WebSocketError) {
      this.failWith(pieces);
      return false;
    }
    for (const out of pieces) {
      // The inflater bounds the total; room grows with what came out (no header announces it).
      const announced = (this.payloadBuffer?.length ?? 0) + out.length;
      if (!this.addData(out, announced, this.maxPayload)) return false;
    }
    return true;
  }

  protected onFailure(error: WebSocketError): void {
    this.release();
    this.sink.onError(error);
  }

  /**
   * Stores and validates (fail fast: §8.1 allows failing as soon as the text is known to be
   * invalid): the validator reads the bytes right where they land in the payload buffer, so text
   * still fails at the chunk that holds the bad byte. `announced` and `limit` size the payload
   * buffer's room (see payload-buffer.ts): by default, what the headers announced. `key` and `phase`:
   * the piece is still masked (§5.3), and is unmasked on its way in.
   */
  private addData(piece: Buffer, announced = this.messageLength, limit = this.fin ? this.messageLength : this.maxPayload, key?: number, phase = 0): boolean {
    if (piece.length === 0) return true;
    const check = this.validate ? (this.utf8 ??= new Utf8Validator()) : undefined;
    if (!(this.payloadBuffer ??= new PayloadBuffer()).add(piece, announced, limit, key, phase, check)) {
      this.invalidUtf8();
      return false;
    }
    return true;
  }

  private finishMessage(): void {
    this.inMessage = false;
    // §8.1: a text message must not end inside a code point. (No validator yet: no bytes came, so
    // none can be cut.)
    if (this.validate && this.utf8 !== undefined && !this.utf8.complete) return this.invalidUtf8();
    const data = this.payloadBuffer?.take() ?? EMPTY;
    this.payloadBuffer = undefined;
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
    this.inMessage = false;
    this.inflating = false;
    this.payloadBuffer = undefined;
    this.control = undefined;
  }
}
