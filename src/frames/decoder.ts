/**
 * The frame-level state machine shared by `FrameParser` (bytes → frames) and `Receiver`
 * (bytes → messages): the incremental form of reference.ts's `readHeader` and `readPayload`. It
 * reads headers and payloads in any chunking and enforces the rules of RFC 6455 §5 that a single
 * frame can break; what a frame means for the message around it is left to the subclass, through
 * four hooks. Every frame-level state transition is in this file: subclasses read the state
 * through getters and end the stream only through `fail`/`failWith` and `stop`.
 *
 * A header is decoded field by field (§5.2), one state per field:
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |   GET_INFO: bytes 0–1
 *     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |   GET_PAYLOAD_LENGTH_16: 2–3
 *     |N|V|V|V|       |S|             |   (if payload len==126/127)   |   GET_PAYLOAD_LENGTH_64: 2–9
 *     | |1|2|3|       |K|             |                               |
 *     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *     |     Extended payload length continued, if payload len == 127  |
 *     + - - - - - - - - - - - - - - - +-------------------------------+
 *     |                               |Masking-key, if MASK set to 1  |   GET_MASK: 4 bytes
 *     +-------------------------------+-------------------------------+
 *     | Masking-key (continued)       |          Payload Data         |   GET_DATA
 *     +-------------------------------- - - - - - - - - - - - - - - - +
 *
 * States are plain integers (the same shape as ws's receiver): each header field is read either
 * straight from the chunk, or, when a chunk ends inside it, gathered into a small scratch buffer.
 * A payload that lies within one chunk is handed on as a view of that chunk — never copied.
 */
import type { WebSocketError } from '../errors.js';
import { checkOptions, invalidOption, rule } from '../options.js';
import { CloseCode } from './close.js';
import { type FrameErrorCode, FrameErrorCode as E, remoteError } from './codes.js';
import { readKey, xorRange } from './mask-fast.js';
import { DEFAULT_MAX_PAYLOAD, type FrameBits, isKnownOpcode } from './opcodes.js';

/** Waiting for the first 2 header bytes: FIN, RSV1–3, opcode, MASK, 7-bit length (§5.2). */
const GET_INFO = 0;
/** Waiting for the 16-bit extended length (7-bit length was 126). */
const GET_PAYLOAD_LENGTH_16 = 1;
/** Waiting for the 64-bit extended length (7-bit length was 127). */
const GET_PAYLOAD_LENGTH_64 = 2;
/** Waiting for the 4-byte masking key (§5.3). */
const GET_MASK = 3;
/** Reading payload bytes. */
const GET_DATA = 4;
/** Failed (RFC 6455 §7.1.7: after failing, no more data is processed). Terminal. */
const FAILED = 5;
/** Done: a Close frame was received (§5.5.1: nothing after it is data). Terminal. */
const STOPPED = 6;

/** Bytes each header state needs before it can decide. */
const FIELD_SIZE = [2, 2, 8, 4];

/** Options common to FrameParser and Receiver. */
export interface DecoderOptions {
  /** §5.1: a server MUST fail unmasked frames; a client MUST fail masked ones. */
  role: 'server' | 'client';
  /**
   * Payload cap in bytes (a whole message for the Receiver, one frame for the FrameParser), checked
   * on each header before its payload is read (close code 1009). Default 1 MiB; `Infinity` for none.
   */
  maxPayload?: number;
  /** An extension (permessage-deflate) has claimed RSV1; default false. */
  allowRsv1?: boolean;
}

const OPTION_RULES = {
  role: rule.oneOf('server', 'client'),
  maxPayload: rule.either(rule.bytes(0), { accepts: 'Infinity (no limit)', check: (v: unknown) => v === Infinity }),
  allowRsv1: rule.boolean,
};

export abstract class FrameDecoder {
  /** One of the state constants above; only this class moves it. */
  private state = GET_INFO;
  /** Header of the frame being read. Valid from its header until the next frame's header. */
  protected fin = false;
  protected rsv1 = false;
  protected rsv2 = false;
  protected rsv3 = false;
  protected opcode = 0;
  protected masked = false;
  protected payloadLength = 0;
  /** Payload bytes of the current frame received so far (only when it spans chunks). */
  protected received = 0;
  /** The masking key (§5.3) as one number, first byte highest: no Buffer per connection. */
  protected maskKey = 0;
  protected readonly maxPayload: number;
  private readonly expectMask: boolean;
  private readonly allowRsv1: boolean;
  /** Bytes of a header field gathered across chunks (made on first need: most headers lie in one chunk), and how many. */
  private scratch: Buffer | undefined = undefined;
  protected held = 0;
  private failure: WebSocketError | undefined = undefined;

  /** Throws `WS_ERR_INVALID_OPTION` (side `local`) for an option of the wrong type, out of range or unknown. */
  constructor(options: DecoderOptions, where: string) {
    checkOptions(where, options, OPTION_RULES);
    if (options === undefined || options.role === undefined) {
      throw invalidOption(`${where}: option role is required: 'server' or 'client' (RFC 6455 §5.1: the role decides which frames must be masked).`);
    }
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.expectMask = options.role === 'server';
    this.allowRsv1 = options.allowRsv1 === true;
  }

  /** The error that failed the stream, if any. Once set, all further input is ignored. */
  get error(): WebSocketError | undefined {
    return this.failure;
  }

  /** Whether a frame has started and is not finished: header bytes gathered, or its payload being read. */
  protected get inFrame(): boolean {
    return this.held !== 0 || (this.state !== GET_INFO && this.state < FAILED);
  }

  /** The current frame's payload length once its header has told it, until the frame ends; else 0. */
  protected get frameAnnounced(): number {
    return this.state === GET_MASK || this.state === GET_DATA ? this.payloadLength : 0;
  }

  /** The current frame's header bits as a record (for readers that report frames; not the hot path). */
  protected get bits(): FrameBits {
    return { fin: this.fin, rsv1: this.rsv1, rsv2: this.rsv2, rsv3: this.rsv3, opcode: this.opcode, masked: this.masked };
  }

  /**
   * What the decoder waits for (for readers that show a frame in progress, e.g. `trace`): the first
   * two header bytes, a 16- or 64-bit extended length, the masking key, payload bytes, or nothing
   * more (the stream ended: a Close frame came, or it failed).
   */
  protected get awaiting(): 'header' | 'length16' | 'length64' | 'mask' | 'payload' | 'ended' {
    return (['header', 'length16', 'length64', 'mask', 'payload', 'ended', 'ended'] as const)[this.state];
  }

  /**
   * Which of the three length forms (§5.2) the current header used: 7 bits, or 16 or 64 after 126
   * and 127. Read it in `checkFrame`, which runs right after the length was read.
   */
  protected get lengthForm(): 7 | 16 | 64 {
    return this.state === GET_PAYLOAD_LENGTH_16 ? 16 : this.state === GET_PAYLOAD_LENGTH_64 ? 64 : 7;
  }

  /**
   * Feeds bytes. Takes ownership of `chunk`: masked payloads are unmasked in place, and payload
   * views of it are handed on. Never throws on any input.
   */
  push(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      const state = this.state;
      if (state === GET_DATA) {
        pos = this.readData(chunk, pos, end);
        continue;
      }
      if (state >= FAILED) return;
      const size = FIELD_SIZE[state];
      if (this.held === 0 && end - pos >= size) {
        this.readField(state, chunk, pos);
        pos += size;
      } else {
        // The field straddles chunks: gather it.
        const take = Math.min(size - this.held, end - pos);
        const scratch = (this.scratch ??= Buffer.allocUnsafe(8));
        chunk.copy(scratch, this.held, pos, pos + take);
        this.held += take;
        pos += take;
        if (this.held < size) return;
        this.held = 0;
        this.readField(state, scratch, 0);
      }
    }
  }

  /** Decodes one header field from `b[o ..]` and moves to the next state. */
  private readField(state: number, b: Buffer, o: number): void {
    if (state === GET_INFO) {
      const b0 = b[o];
      const b1 = b[o + 1];
      this.fin = (b0 & 0x80) !== 0;
      this.rsv1 = (b0 & 0x40) !== 0;
      this.rsv2 = (b0 & 0x20) !== 0;
      this.rsv3 = (b0 & 0x10) !== 0;
      const opcode = b0 & 0x0f;
      this.opcode = opcode;
      this.masked = (b1 & 0x80) !== 0;
      const length = b1 & 0x7f;
      this.received = 0;
      // §5.2: RSV bits MUST be 0 unless an extension defines them.
      if ((b0 & 0x30) !== 0 || (this.rsv1 && !this.allowRsv1)) {
        return this.fail(E.UnexpectedRsv, CloseCode.ProtocolError, `RSV bits set (first byte 0x${hex(b0)}) but no extension was negotiated that defines them (RFC 6455 §5.2).`);
      }
      // §5.2: opcodes 3–7 and 11–15 are reserved; receiving one fails the connection.
      if (!isKnownOpcode(opcode)) {
        return this.fail(E.InvalidOpcode, CloseCode.ProtocolError, `Reserved opcode ${opcode} (RFC 6455 §5.2).`);
      }
      if (opcode >= 8) {
        // §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes (so no extended length).
        if (!this.fin) {
          return this.fail(E.FragmentedControlFrame, CloseCode.ProtocolError, `Control frame (opcode ${opcode}) without FIN: control frames must not be fragmented (RFC 6455 §5.5).`);
        }
        if (length > 125) {
          return this.fail(E.ControlFrameTooBig, CloseCode.ProtocolError, `Control frame (opcode ${opcode}) with a payload over 125 bytes (RFC 6455 §5.5).`);
        }
        // RFC 7692 §6: permessage-deflate sets RSV1 only on the first frame of a data message.
        if (this.rsv1) {
          return this.fail(E.UnexpectedRsv, CloseCode.ProtocolError, `RSV1 set on a control frame (opcode ${opcode}) (RFC 7692 §6).`);
        }
      }
      // §5.1: client-to-server frames are masked, server-to-client frames are not.
      if (this.masked !== this.expectMask) {
        return this.expectMask
          ? this.fail(E.ExpectedMask, CloseCode.ProtocolError, 'Unmasked frame from a client: a server must fail it (RFC 6455 §5.1).')
          : this.fail(E.UnexpectedMask, CloseCode.ProtocolError, 'Masked frame from a server: a client must fail it (RFC 6455 §5.1).');
      }
      if (length === 126) {
        this.state = GET_PAYLOAD_LENGTH_16;
        return;
      }
      if (length === 127) {
        this.state = GET_PAYLOAD_LENGTH_64;
        return;
      }
      return this.lengthKnown(length);
    }
    if (state === GET_PAYLOAD_LENGTH_16) return this.lengthKnown((b[o] << 8) | b[o + 1]);
    if (state === GET_PAYLOAD_LENGTH_64) {
      const high = b.readUInt32BE(o);
      // §5.2: "the most significant bit MUST be 0".
      if (high >= 0x8000_0000) {
        return this.fail(E.InvalidPayloadLength, CloseCode.ProtocolError, '64-bit payload length with its most significant bit set (RFC 6455 §5.2).');
      }
      // Past 2^53 a JavaScript number cannot count the bytes; no configurable limit goes that high.
      if (high >= 0x20_0000) {
        return this.fail(E.MessageTooBig, CloseCode.MessageTooBig, `Payload length of ${high} * 2^32 bytes or more is beyond what this implementation supports (2^53 - 1).`);
      }
      return this.lengthKnown(high * 0x1_0000_0000 + b.readUInt32BE(o + 4));
    }
    // GET_MASK
    this.maskKey = readKey(b, o);
    this.startPayload();
  }

  private lengthKnown(length: number): void {
    this.payloadLength = length;
    // The subclass checks what the frame means for its message, and the payload cap, before any
    // payload is read (§10.4: limits protect against resource exhaustion).
    const error = this.checkFrame();
    if (error !== undefined) return this.failWith(error);
    if (this.masked) {
      this.state = GET_MASK;
      return;
    }
    this.startPayload();
  }

  private startPayload(): void {
    if (this.payloadLength === 0) {
      this.state = GET_INFO;
      this.onFramePayload(EMPTY);
      return;
    }
    this.state = GET_DATA;
  }

  /** Reads payload bytes from `chunk[pos .. end)`; returns the new position. */
  private readData(chunk: Buffer, pos: number, end: number): number {
    const remaining = this.payloadLength - this.received;
    if (this.received === 0 && end - pos >= remaining) {
      // The whole payload is in this chunk: unmask in place and hand on a view (zero-copy).
      const stop = pos + remaining;
      if (this.masked) xorRange(chunk, pos, stop, this.maskKey, 0);
      this.state = GET_INFO;
      this.onFramePayload(chunk.subarray(pos, stop));
      return stop;
    }
    const stop = end - pos < remaining ? end : pos + remaining;
    // §5.3: byte i of the payload takes key byte i mod 4, wherever the chunk boundary fell.
    const phase = this.received & 3;
    this.received += stop - pos;
    const done = this.received === this.payloadLength;
    if (done) this.state = GET_INFO;
    if (this.masked) this.onMaskedPiece(chunk, pos, stop, this.maskKey, phase, done);
    else this.onFramePiece(chunk.subarray(pos, stop), done);
    return stop;
  }

  /**
   * Part of a masked frame's payload, `chunk[start .. end)`, still masked: its first byte takes key
   * byte `phase` of `key` (§5.3). A frame that spans chunks is copied into its message's buffer
   * anyway, so a subclass that copies it can unmask it in the same pass (payload-buffer.ts) rather
   * than here and then copy it. This default unmasks in place and hands the piece to `onFramePiece`.
   */
  protected onMaskedPiece(chunk: Buffer, start: number, end: number, key: number, phase: number, last: boolean): void {
    xorRange(chunk, start, end, key, phase);
    this.onFramePiece(chunk.subarray(start, end), last);
  }

  /** Fails the stream with a remote error (RFC 6455 §7.1.7). */
  protected fail(code: FrameErrorCode, closeCode: number, message: string): void {
    this.failWith(remoteError(code, closeCode, message));
  }

  protected failWith(error: WebSocketError): void {
    this.state = FAILED;
    this.failure = error;
    this.onFailure(error);
  }

  /** Ends the stream without an error: a Close frame was received (§5.5.1: nothing after it is data). */
  protected stop(): void {
    this.state = STOPPED;
  }

  /** Header complete up to the length (mask key not read yet): validate it against the message. */
  protected abstract checkFrame(): WebSocketError | undefined;
  /** The whole payload of the current frame (a view of one chunk, unmasked). */
  protected abstract onFramePayload(payload: Buffer): void;
  /** Part of the current frame's payload (unmasked); `last` when the frame is complete with it. */
  protected abstract onFramePiece(piece: Buffer, last: boolean): void;
  /** Called once, when the stream fails. */
  protected abstract onFailure(error: WebSocketError): void;
}

const EMPTY = Buffer.alloc(0);

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
