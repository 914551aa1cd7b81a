// The load generator's own minimal WebSocket wire code. It is deliberately NOT the project's codec:
// the client side of a benchmark must cost the same whichever server it measures, and must never
// share code (or bugs) with the server under test.
//
// Everything the client sends is encoded once, ahead of time: a run writes slices of one prebuilt
// buffer of masked frames, so sending costs one socket write per TCP read, not one encode per
// message. Replies are not decoded, only walked: the counter reads each frame header, skips the
// payload and counts completed messages and payload bytes.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

/** RFC 6455 §1.3: the GUID the server appends to Sec-WebSocket-Key before hashing. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Encode `count` copies of one binary message as masked client frames (RFC 6455 §5.2, §5.3), back to
 * back in one buffer. Each frame gets its own random mask key and its own random payload: a client
 * MUST mask, and the key is fresh per frame as §5.3 asks, even though the frames are prebuilt.
 * @param {number} size payload bytes per message
 * @param {number} count how many frames
 * @returns {{ buffer: Buffer, frameLength: number }}
 */
export function encodeMaskedBinaryFrames(size, count) {
  const headerLength = 2 + (size < 126 ? 0 : size < 65536 ? 2 : 8) + 4;
  const frameLength = headerLength + size;
  const buffer = Buffer.allocUnsafe(frameLength * count);
  for (let f = 0; f < count; f++) {
    const at = f * frameLength;
    buffer[at] = 0x82; // FIN + opcode 0x2 (binary), §5.2
    let o = at + 2;
    if (size < 126) {
      buffer[at + 1] = 0x80 | size; // MASK bit + 7-bit length
    } else if (size < 65536) {
      buffer[at + 1] = 0x80 | 126; // 16-bit extended length, §5.2
      buffer.writeUInt16BE(size, o);
      o += 2;
    } else {
      buffer[at + 1] = 0x80 | 127; // 64-bit extended length, §5.2
      buffer.writeUInt32BE(Math.floor(size / 2 ** 32), o);
      buffer.writeUInt32BE(size >>> 0, o + 4);
      o += 8;
    }
    const key = crypto.randomBytes(4);
    key.copy(buffer, o);
    o += 4;
    const payload = crypto.randomBytes(size);
    for (let i = 0; i < size; i++) buffer[o + i] = payload[i] ^ key[i & 3]; // §5.3 masking
  }
  return { buffer, frameLength };
}

/**
 * Encode text messages as masked, compressed client frames (RFC 7692 §7.2.1: DEFLATE with a sync
 * flush, its final 00 00 ff ff removed; RSV1 set on the first frame, §6). Each message is compressed
 * on its own, by a fresh compressor: it refers to nothing sent before, so the frames are valid under
 * any agreement, with or without context takeover, and can be sent again and again. Frames differ in
 * length, hence `ends`: the byte offset after each frame.
 * @param {Buffer[]} messages UTF-8 text, one frame each, in order
 * @returns {{ buffer: Buffer, ends: number[], wireBytes: number }}
 */
export function encodeMaskedDeflatedTextFrames(messages) {
  const frames = [];
  const ends = [];
  let at = 0;
  for (const message of messages) {
    const deflated = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const body = deflated.subarray(0, deflated.length - 4); // §7.2.1: without the empty block's 00 00 ff ff
    const size = body.length;
    const headerLength = 2 + (size < 126 ? 0 : size < 65536 ? 2 : 8) + 4;
    const frame = Buffer.allocUnsafe(headerLength + size);
    frame[0] = 0xc1; // FIN + RSV1 (compressed, RFC 7692 §6) + opcode 0x1 (text)
    let o = 2;
    if (size < 126) frame[1] = 0x80 | size;
    else if (size < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(size, 2);
      o = 4;
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(size / 2 ** 32), 2);
      frame.writeUInt32BE(size >>> 0, 6);
      o = 10;
    }
    const key = crypto.randomBytes(4);
    key.copy(frame, o);
    o += 4;
    for (let i = 0; i < size; i++) frame[o + i] = body[i] ^ key[i & 3]; // §5.3 masking
    frames.push(frame);
    at += frame.length;
    ends.push(at);
  }
  return { buffer: Buffer.concat(frames), ends, wireBytes: at };
}

/**
 * The value of one header in a response head (everything before the blank line), '' when absent.
 * @param {string} head
 * @param {string} name lower case
 */
export function headerValue(head, name) {
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return '';
}

/**
 * A masked Close frame with status 1000 (RFC 6455 §5.5.1, §7.4.1).
 * @returns {Buffer}
 */
export function encodeMaskedClose() {
  const key = crypto.randomBytes(4);
  const body = Buffer.from([0x03, 0xe8]); // 1000, normal closure
  const frame = Buffer.alloc(2 + 4 + body.length);
  frame[0] = 0x88; // FIN + opcode 0x8 (close)
  frame[1] = 0x80 | body.length;
  key.copy(frame, 2);
  for (let i = 0; i < body.length; i++) frame[6 + i] = body[i] ^ key[i & 3];
  return frame;
}

/**
 * The opening handshake request (RFC 6455 §4.1) and the Sec-WebSocket-Accept value the server must
 * answer with (§4.2.2). One key serves every connection of a run: it is a nonce for the server to
 * hash, and the server cannot tell it was reused.
 * @param {string} host
 * @param {number} port
 * @param {string} [extensions] a Sec-WebSocket-Extensions offer, none when empty
 * @returns {{ request: Buffer, accept: string }}
 */
export function upgradeRequest(host, port, extensions = '') {
  const key = crypto.randomBytes(16).toString('base64');
  const accept = crypto.createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
  const request = Buffer.from(
    `GET / HTTP/1.1\r\n` +
      `Host: ${host}:${port}\r\n` +
      `Upgrade: websocket\r\n` +
      `Connection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n` +
      (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
      '\r\n',
    'latin1',
  );
  return { request, accept };
}

/**
 * Check a complete response head (everything before the blank line) for a successful upgrade:
 * status 101 and the expected Sec-WebSocket-Accept (RFC 6455 §4.2.2, §4.1 client checks).
 * @param {string} head
 * @param {string} accept
 * @returns {string | null} null when the upgrade succeeded, otherwise what was wrong
 */
export function checkUpgradeResponse(head, accept) {
  const lines = head.split('\r\n');
  if (!/^HTTP\/1\.1 101\b/.test(lines[0])) return `expected 101, got: ${lines[0].slice(0, 80)}`;
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0 && lines[i].slice(0, colon).trim().toLowerCase() === 'sec-websocket-accept') {
      return lines[i].slice(colon + 1).trim() === accept ? null : 'wrong Sec-WebSocket-Accept';
    }
  }
  return 'no Sec-WebSocket-Accept header';
}

/**
 * Walks unmasked server frames across TCP chunks and counts what arrives. It does not look at
 * payloads: a benchmark only needs to know how many messages came back and how big they were.
 */
export class ReplyCounter {
  constructor() {
    /** Completed data messages (a FIN frame of opcode 0x1, 0x2 or a final continuation). */
    this.messages = 0;
    /** Payload bytes of data frames. */
    this.payloadBytes = 0;
    /** Data frames with RSV1 set: compressed by the server (RFC 7692 §6). */
    this.compressedFrames = 0;
    /** Data frames in all. */
    this.dataFrames = 0;
    /** Set when a Close frame arrives (opcode 0x8). */
    this.closeReceived = false;
    /** @type {string | null} a protocol problem the server caused; counting stops there */
    this.error = null;
    /** payload bytes of the current frame still to skip */
    this.left = 0;
    /** whether the current frame completes a data message */
    this.completes = false;
    /** @type {Buffer | null} a partial header carried over to the next chunk */
    this.stash = null;
  }

  /**
   * Feed one TCP chunk.
   * @param {Buffer} chunk
   * @returns {number} data messages completed by this chunk
   */
  push(chunk) {
    if (this.error) return 0;
    if (this.stash) {
      chunk = Buffer.concat([this.stash, chunk]);
      this.stash = null;
    }
    const before = this.messages;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.left > 0) {
        const take = Math.min(this.left, n - i);
        this.left -= take;
        i += take;
        if (this.left === 0 && this.completes) this.messages++;
        continue;
      }
      if (n - i < 2) break;
      const b0 = chunk[i];
      const b1 = chunk[i + 1];
      if (b1 & 0x80) {
        this.error = 'server frame is masked (RFC 6455 §5.1 forbids it)';
        return this.messages - before;
      }
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (n - i < 4) break;
        length = chunk.readUInt16BE(i + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (n - i < 10) break;
        length = chunk.readUInt32BE(i + 2) * 2 ** 32 + chunk.readUInt32BE(i + 6);
        headerLength = 10;
      }
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      i += headerLength;
      if (opcode === 0x8) this.closeReceived = true;
      this.completes = fin && opcode < 0x8; // data or continuation frame that ends a message
      if (opcode < 0x8) {
        this.payloadBytes += length;
        this.dataFrames++;
        if (b0 & 0x40) this.compressedFrames++;
      }
      this.left = length;
      if (length === 0 && this.completes) this.messages++;
    }
    if (i < n) this.stash = Buffer.from(chunk.subarray(i));
    return this.messages - before;
  }
}

/**
 * The payload a prebuilt masked frame carries, unmasked (RFC 6455 §5.3: the same XOR both ways).
 * @param {Buffer} frame one frame from encodeMaskedBinaryFrames
 * @param {number} size its payload length
 */
export function unmaskedPayload(frame, size) {
  const keyAt = frame.length - size - 4;
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = frame[keyAt + 4 + i] ^ frame[keyAt + (i & 3)];
  return out;
}

/**
 * Parse one complete unmasked server frame at the start of `buf`.
 * @param {Buffer} buf
 * @returns {{ fin: boolean, opcode: number, payload: Buffer, length: number } | null} null until it is complete
 */
export function parseServerFrame(buf) {
  if (buf.length < 2) return null;
  let length = buf[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    length = buf.readUInt32BE(2) * 2 ** 32 + buf.readUInt32BE(6);
    at = 10;
  }
  if (buf[1] & 0x80) at += 4; // a masked server frame is wrong; the caller reports it
  if (buf.length < at + length) return null;
  return { fin: (buf[0] & 0x80) !== 0, opcode: buf[0] & 0x0f, payload: buf.subarray(at, at + length), length: at + length };
}
