// The registration benchmark's load generator client (bench/registration.js --load): the Simpatico
// Registration Protocol (src/registration/PROTOCOL.md) over raw TCP sockets, cheap enough that the
// server, not this side, is the limit of a routing figure.
//
// Like loadgen.js for e2e it is deliberately NOT the project's code: the same bytes go to both
// servers, and nothing here can share a bug with the server under test. Registration is the protocol
// as written (challenge, Ed25519 signature over `simpatico-registration-v1\n` + HOST + `\n` + NONCE,
// `accepted: true`); after it, every message sent is a masked text frame copied from a prebuilt
// template with a fixed-width sequence number written (and masked) into its `data` digits, and every
// delivery is checked by a minimal frame scanner: one text frame holding exactly
// `{"from":"SENDER_KEY","data":SEQ}` — the sender's key byte for byte, the number it sent — without a
// string or JSON.parse per message.
import crypto from 'node:crypto';
import net from 'node:net';
import { registrations } from './registrations.js';
import { checkUpgradeResponse, upgradeRequest } from './wire.js';

/** Sequence numbers are written as this many decimal digits (the first one never 0: a JSON number). */
export const SEQ_DIGITS = 16;
const SEQ_BASE = 10 ** (SEQ_DIGITS - 1);
const HEAD_LIMIT = 16 * 1024;
/** RFC 8410 §4: a raw 32-byte Ed25519 public key inside a SubjectPublicKeyInfo starts with this. */
const SPKI_PREFIX_LENGTH = 12;

/**
 * A masked client text frame (RFC 6455 §5.2, §5.3) with a fresh random mask key.
 * @param {Buffer} payload
 */
export function maskedText(payload) {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + 4 + n);
  frame[0] = 0x81; // FIN + text
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65536) (frame[1] = 0x80 | 126), frame.writeUInt16BE(n, 2);
  else (frame[1] = 0x80 | 127), frame.writeBigUInt64BE(BigInt(n), 2);
  crypto.randomFillSync(frame, header, 4);
  for (let i = 0; i < n; i++) frame[header + 4 + i] = payload[i] ^ frame[header + (i & 3)];
  return frame;
}

/** A masked Close frame with status 1000 (RFC 6455 §5.5.1). */
const CLOSE_1000 = maskedClose();
function maskedClose() {
  const f = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
  crypto.randomFillSync(f, 2, 4);
  f[6] ^= f[2];
  f[7] ^= f[3];
  return f;
}

/**
 * Messages of one shape with a sequence number in their `data`: `{"to":"KEY","data":SEQ}` or
 * `{"data":SEQ}`, masked, written into a reused buffer `count` at a time.
 */
export class FrameTemplate {
  /** @param {string | undefined} to */
  constructor(to) {
    const text = to === undefined ? `{"data":${SEQ_BASE}}` : `{"to":${JSON.stringify(to)},"data":${SEQ_BASE}}`;
    this.frame = maskedText(Buffer.from(text));
    this.length = this.frame.length;
    // Where the digits sit in the frame, and the mask bytes over them (header 2 + key 4 < 126 bytes).
    this.digitsAt = this.length - 1 - SEQ_DIGITS;
    this.mask = Buffer.from(this.frame.subarray(2, 6));
    this.payloadStart = 6;
  }

  /**
   * `count` frames back to back, carrying sequence numbers `first`, `first + 1`, …, for one write.
   * @param {number} first @param {number} count
   */
  frames(first, count) {
    const out = Buffer.allocUnsafe(count * this.length);
    for (let k = 0; k < count; k++) {
      const at = k * this.length;
      this.frame.copy(out, at);
      let v = SEQ_BASE + first + k;
      // Digits right to left; each one masked by the key byte of its payload position (§5.3).
      for (let d = SEQ_DIGITS - 1; d >= 0; d--) {
        const pos = this.digitsAt + d;
        out[at + pos] = (48 + (v % 10)) ^ this.mask[(pos - this.payloadStart) & 3];
        v = Math.floor(v / 10);
      }
    }
    return out;
  }
}

/**
 * A masked Pong echoing a Ping's payload (RFC 6455 §5.5.3): the server's own keep-alive pings a
 * connection that has been quiet for a while, and a real client answers.
 * @param {Buffer} payload at most 125 bytes (§5.5)
 */
export function maskedPong(payload) {
  const frame = maskedText(payload);
  frame[0] = 0x8a; // FIN + pong
  return frame;
}

/**
 * Walks unmasked server frames across TCP chunks and hands each complete text payload to `onText`
 * (a view valid during the call), and each Ping's payload to `onPing`. Frames this benchmark never
 * gets (binary, fragmented, masked) are reported as `error`, and so is a Close.
 */
export class FrameScanner {
  /**
   * @param {(buf: Buffer, start: number, end: number) => void} onText
   * @param {(payload: Buffer) => void} [onPing]
   */
  constructor(onText, onPing = () => {}) {
    this.onText = onText;
    this.onPing = onPing;
    /** @type {Buffer | null} */
    this.stash = null;
    /** @type {string | null} */
    this.error = null;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    if (this.stash !== null) {
      chunk = Buffer.concat([this.stash, chunk]);
      this.stash = null;
    }
    const n = chunk.length;
    let i = 0;
    while (this.error === null && n - i >= 2) {
      const b0 = chunk[i];
      const b1 = chunk[i + 1];
      let length = b1 & 0x7f;
      let at = i + 2;
      if (length === 126) {
        if (n - i < 4) break;
        length = chunk.readUInt16BE(i + 2);
        at = i + 4;
      } else if (length === 127) {
        if (n - i < 10) break;
        length = chunk.readUInt32BE(i + 2) * 2 ** 32 + chunk.readUInt32BE(i + 6);
        at = i + 10;
      }
      if (n - at < length) break;
      if (b1 & 0x80) this.error = 'a masked server frame (RFC 6455 §5.1 forbids it)';
      else if (b0 === 0x88) this.error = `the server closed the connection (${length >= 2 ? chunk.readUInt16BE(at) : 'no code'} ${chunk.toString('utf8', at + 2, at + length)})`;
      else if (b0 === 0x89) this.onPing(Buffer.from(chunk.subarray(at, at + length)));
      else if (b0 === 0x8a) {
        // an unsolicited Pong: nothing to do (§5.5.3)
      } else if (b0 !== 0x81) this.error = `an unexpected frame (first byte 0x${b0.toString(16)})`;
      else this.onText(chunk, at, at + length);
      i = at + length;
    }
    if (i < n && this.error === null) this.stash = Buffer.from(chunk.subarray(i));
  }
}

const FROM = Buffer.from('{"from":"');
const DATA = Buffer.from('","data":');

/**
 * Checks one delivery: exactly `{"from":"KEY","data":SEQ}` with `key` the sender's. Returns its
 * sequence number, or -1 for anything else.
 * @param {Buffer} buf @param {number} start @param {number} end @param {Buffer} key the sender's key, ASCII
 */
export function deliveredSeq(buf, start, end, key) {
  // {"from":" (9 bytes), the key, ","data": (9 bytes), the digits, }
  if (end - start !== 9 + key.length + 9 + SEQ_DIGITS + 1) return -1;
  const d0 = start + 9 + key.length + 9;
  if (
    buf.compare(FROM, 0, 9, start, start + 9) !== 0 ||
    buf.compare(key, 0, key.length, start + 9, d0 - 9) !== 0 ||
    buf.compare(DATA, 0, 9, d0 - 9, d0) !== 0 ||
    buf[end - 1] !== 0x7d
  ) {
    return -1;
  }
  let v = 0;
  for (let i = d0; i < d0 + SEQ_DIGITS; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v - SEQ_BASE;
}

/**
 * Opens a WebSocket to `url` over a raw socket and registers a new Ed25519 key, the signature naming
 * `signHost` (default: the URL's host, what the server must bind). Resolves once `accepted: true`
 * arrives, with the socket paused and its key; rejects with the server's refusal otherwise.
 * Bounded: 10 s.
 * @param {string} url ws://HOST:PORT/
 * @param {string} [signHost]
 * @returns {Promise<{ socket: net.Socket, publicKey: string, keyBytes: Buffer }>}
 */
export function openRegistered(url, signHost) {
  const { hostname, port, host } = new URL(url);
  const { request, accept } = upgradeRequest(hostname, Number(port));
  const { publicKey: pub, privateKey } = crypto.generateKeyPairSync('ed25519');
  const publicKey = pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH).toString('base64url');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    const timer = setTimeout(() => fail(new Error('registration took over 10 s')), 10_000);
    let head = Buffer.alloc(0);
    let upgraded = false;
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const scanner = new FrameScanner((buf, start, end) => {
      const m = JSON.parse(buf.toString('utf8', start, end));
      if (typeof m.challenge === 'string' && m.accepted === undefined) {
        const signed = Buffer.from(`simpatico-registration-v1\n${signHost ?? host}\n${m.challenge}`);
        const response = crypto.sign(null, signed, privateKey).toString('base64url');
        socket.write(maskedText(Buffer.from(JSON.stringify({ publicKey, response }))));
      } else if (m.accepted === true && m.publicKey === publicKey) {
        clearTimeout(timer);
        socket.pause();
        socket.removeAllListeners('data');
        socket.removeListener('error', fail);
        socket.removeListener('close', onClose);
        resolve({ socket, publicKey, keyBytes: Buffer.from(publicKey, 'latin1') });
      } else {
        fail(Object.assign(new Error(`refused: ${JSON.stringify(m)}`), { refused: true }));
      }
    });
    const onClose = () => fail(new Error(scanner.error ?? 'closed before the key was accepted'));
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (/** @type {Buffer} */ chunk) => {
      if (upgraded) {
        scanner.push(chunk);
        if (scanner.error !== null) fail(new Error(scanner.error));
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > HEAD_LIMIT) fail(new Error('no response head within 16 KiB'));
        return;
      }
      const problem = checkUpgradeResponse(head.toString('latin1', 0, end), accept);
      if (problem !== null) return fail(new Error(problem));
      upgraded = true;
      if (head.length > end + 4) scanner.push(head.subarray(end + 4));
    });
  });
}

/** Sends a Close (1000) and lets the server end the connection; destroys it after 1 s at most. */
export function closeRegistered(/** @type {net.Socket} */ socket) {
  if (socket.destroyed) return;
  socket.resume();
  socket.end(CLOSE_1000);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Registers `count` clients at `url`, 10 at a time, each closed once accepted: what the server's
 * Ed25519 verification allows per second. (Key pairs and signatures are made here, the same work for
 * both servers.)
 * @param {string} url @param {number} count
 */
export function rawRegistrations(url, count) {
  return registrations(async (u) => {
    const { socket } = await openRegistered(u);
    return { close: () => closeRegistered(socket) };
  }, url, count);
}
