/**
 * The server role of the Simpatico Registration Protocol, sans-I/O.
 *
 * It owns no socket and no clock. The caller reports what happened — a connection opened
 * (`open`), a text or binary message arrived (`receive`, `receiveBinary`), a timer it was asked
 * for fired (`tick`), a connection closed (`closed`) — passing the current time, and gets back
 * actions to perform: send a text to a connection, close a connection, (re)arm that connection's
 * one timer. Connections are identified by whatever the caller uses (`C`): a socket object, a
 * number, a relay peer id. Because nothing here touches I/O, the same object serves a Node
 * WebSocketServer, runs inside a browser, or runs inside a client behind a broadcast relay.
 *
 * The life of a connection (one table, here):
 *
 *   open ─► CHALLENGED ──valid answer──► REGISTERED ──every heartbeatInterval──► HEARTBEAT
 *             │  invalid answer: a new challenge while retries last            │ valid answer:
 *             │  retries spent, or registerTimeout passed: close 1008          │ back to REGISTERED
 *             ▼                                                                 ▼ retries spent or
 *           closed                                                 heartbeatTimeout passed: close 1008
 *
 * Nonces are single-use: the outstanding challenge is consumed by the first answer, right or
 * wrong, and a new one is issued for any retry. They also expire (`nonceTtl`).
 */

import { decodeBase64url, encodeBase64url } from './base64url.js';
import {
  NONCE_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  isSmallOrderKey,
  normalizeHost,
  registrationMessage,
  type RegistrationCrypto,
} from './crypto.js';
import { CLOSE, CLOSE_REASON, REJECT_REASON, REPLY_ERROR, parseClientMessage, type Json } from './messages.js';

/** The protocol's tunables. Times are milliseconds; every one has a safe default. */
export interface ServerRoleOptions {
  /** Signatures and nonces. */
  crypto: RegistrationCrypto;
  /**
   * The hosts a signature must name. Default: the connection's own `Host` (given to `open`).
   * Set it on the open internet and behind proxies: a default taken from the request trusts a
   * header the client chose.
   */
  expectedHosts?: readonly string[];
  /** Further attempts after a refused answer (default 3). */
  retries?: number;
  /** How long a challenge stays answerable (default 30 000). */
  nonceTtl?: number;
  /** How long a new connection has to register (default 10 000). */
  registerTimeout?: number;
  /** Interval between heartbeat challenges to a registered connection; 0 turns them off (default 30 000). */
  heartbeatInterval?: number;
  /** How long a heartbeat challenge waits for a valid answer (default 10 000). */
  heartbeatTimeout?: number;
  /** Largest message accepted, in UTF-8 bytes (default 65 536, at least 256); larger closes with 1009. */
  maxMessageBytes?: number;
  /** Sustained messages per second per connection (default 20); beyond the burst closes with 1008. */
  rate?: number;
  /** Messages a connection may send at once before the rate applies (default 2 × rate, at least 1). */
  burst?: number;
}

/** The defaults, in one place so that the CLI help and the README can quote them. */
export const SERVER_DEFAULTS = {
  retries: 3,
  nonceTtl: 30_000,
  registerTimeout: 10_000,
  heartbeatInterval: 30_000,
  heartbeatTimeout: 10_000,
  maxMessageBytes: 65_536,
  rate: 20,
} as const;

/** The smallest `maxMessageBytes`: room for an answer (about 160 bytes) with a margin. */
export const MIN_MESSAGE_BYTES = 256;

/** What the caller must do, in order. */
export type ServerAction<C> =
  | { type: 'send'; conn: C; text: string }
  /** Close the connection; its timer is implicitly cancelled and the role has already forgotten it. */
  | { type: 'close'; conn: C; code: number; reason: string }
  /** Arm the connection's single timer for time `at` (replacing any other), or cancel it (`null`). */
  | { type: 'timer'; conn: C; at: number | null }
  /** Informational: `publicKey` is now routable to `conn`. */
  | { type: 'registered'; conn: C; publicKey: string }
  /** Informational: `conn` no longer routes `publicKey`. */
  | { type: 'unregistered'; conn: C; publicKey: string };

interface Conn {
  hosts: readonly string[];
  /** The registered key, once registered. */
  key: string | undefined;
  /** The outstanding challenge, if any, and when it stops being answerable. */
  nonce: string | undefined;
  nonceExpires: number;
  /** Further attempts allowed after the next refusal. */
  retriesLeft: number;
  /** Unregistered: the registration deadline. Registered: when the next heartbeat is due, or
   *  (while a heartbeat challenge is outstanding) its deadline. */
  deadline: number;
  /** Registered and a heartbeat challenge has been sent but not yet answered validly. */
  inHeartbeat: boolean;
  tokens: number;
  refilledAt: number;
  /** The timer last requested, to emit a timer action only when it changes. */
  timerAt: number | null;
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return value;
}

/** UTF-8 length without encoding when the answer is obvious (each UTF-16 unit is 1 to 3 bytes). */
const encoder = new TextEncoder();
function exceeds(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return encoder.encode(text).length > max;
}

/**
 * The server role: a registry of public key → connections and the per-connection state machine.
 * `C` is the caller's connection handle.
 */
export class RegistrationServerRole<C> {
  private readonly crypto: RegistrationCrypto;
  private readonly expectedHosts: readonly string[] | undefined;
  private readonly retries: number;
  private readonly nonceTtl: number;
  private readonly registerTimeout: number;
  private readonly heartbeatInterval: number;
  private readonly heartbeatTimeout: number;
  private readonly maxMessageBytes: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly conns = new Map<C, Conn>();
  private readonly registry = new Map<string, Set<C>>();

  constructor(options: ServerRoleOptions) {
    this.crypto = options.crypto;
    this.expectedHosts = options.expectedHosts?.map(normalizeHost);
    const retries = positive('retries', options.retries, SERVER_DEFAULTS.retries, true);
    if (!Number.isInteger(retries)) throw new RangeError(`retries must be an integer, got ${retries}`);
    this.retries = retries;
    this.nonceTtl = positive('nonceTtl', options.nonceTtl, SERVER_DEFAULTS.nonceTtl);
    this.registerTimeout = positive('registerTimeout', options.registerTimeout, SERVER_DEFAULTS.registerTimeout);
    this.heartbeatInterval = positive('heartbeatInterval', options.heartbeatInterval, SERVER_DEFAULTS.heartbeatInterval, true);
    this.heartbeatTimeout = positive('heartbeatTimeout', options.heartbeatTimeout, SERVER_DEFAULTS.heartbeatTimeout);
    this.maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes, SERVER_DEFAULTS.maxMessageBytes);
    // An answer is about 160 bytes: a smaller limit would make registration impossible.
    if (this.maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new RangeError(`maxMessageBytes must be at least ${MIN_MESSAGE_BYTES}, got ${this.maxMessageBytes}`);
    }
    this.rate = positive('rate', options.rate, SERVER_DEFAULTS.rate);
    this.burst = positive('burst', options.burst, Math.max(1, this.rate * 2));
  }

  /** The keys currently routable. */
  keys(): string[] {
    return [...this.registry.keys()];
  }

  /** The key `conn` is registered under, if any. */
  keyOf(conn: C): string | undefined {
    return this.conns.get(conn)?.key;
  }

  /** The connections registered under `publicKey`. */
  connectionsOf(publicKey: string): C[] {
    return [...(this.registry.get(publicKey) ?? [])];
  }

  /** A connection opened: challenge it (protocol step 1). `host` is its `Host` header ('' if none). */
  open(conn: C, host: string, now: number): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    if (this.conns.has(conn)) return out;
    // No Host (HTTP/1.1 requires one, RFC 9112 §3.2) and no configured hosts: nothing a signature
    // could name, so nothing verifies — rather than accepting signatures made for "".
    const own = normalizeHost(host);
    const c: Conn = {
      hosts: this.expectedHosts ?? (own === '' ? [] : [own]),
      key: undefined,
      nonce: undefined,
      nonceExpires: 0,
      retriesLeft: this.retries,
      deadline: now + this.registerTimeout,
      inHeartbeat: false,
      tokens: this.burst,
      refilledAt: now,
      timerAt: null,
    };
    this.conns.set(conn, c);
    out.push({ type: 'send', conn, text: JSON.stringify({ challenge: this.issue(c, now) }) });
    this.timer(conn, c, out, false);
    return out;
  }

  /** A binary message arrived: the protocol is text, so close with 1003 (RFC 6455 §7.4.1). */
  receiveBinary(conn: C): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    if (this.conns.has(conn)) this.close(conn, CLOSE.UNSUPPORTED, CLOSE_REASON.BINARY, out);
    return out;
  }

  /**
   * A text message arrived. Asynchronous only because checking a signature is (WebCrypto); the
   * state changes that must not wait — consuming the nonce — happen before the first `await`.
   */
  async receive(conn: C, text: string, now: number): Promise<ServerAction<C>[]> {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c === undefined) return out;
    if (exceeds(text, this.maxMessageBytes)) {
      this.close(conn, CLOSE.TOO_BIG, CLOSE_REASON.TOO_BIG, out);
      return out;
    }
    if (!this.take(c, now)) {
      this.close(conn, CLOSE.POLICY, CLOSE_REASON.RATE, out);
      return out;
    }
    const msg = parseClientMessage(text);
    if (msg.kind === 'invalid') {
      this.reply(conn, { error: msg.error }, out);
    } else if (msg.kind === 'send') {
      this.route(conn, c, msg.to, msg.data, out);
    } else {
      await this.answer(conn, c, msg.publicKey, msg.response, now, out);
    }
    return out;
  }

  /** The connection's timer fired: enforce the registration deadline, send or enforce heartbeats. */
  tick(conn: C, now: number): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c === undefined) return out;
    if (now >= c.deadline) {
      if (c.key === undefined) {
        this.close(conn, CLOSE.POLICY, CLOSE_REASON.REGISTER_TIMEOUT, out);
        return out;
      }
      if (c.inHeartbeat) {
        this.close(conn, CLOSE.POLICY, CLOSE_REASON.HEARTBEAT_TIMEOUT, out);
        return out;
      }
      // Protocol step 6: the challenge doubles as a heartbeat.
      c.inHeartbeat = true;
      c.retriesLeft = this.retries;
      c.deadline = now + this.heartbeatTimeout;
      out.push({ type: 'send', conn, text: JSON.stringify({ challenge: this.issue(c, now) }) });
    }
    // The caller's timer has fired, so it has none: always ask again.
    this.timer(conn, c, out, true);
    return out;
  }

  /** The connection is gone (closed by either side): its key stops being routable through it. */
  closed(conn: C): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c !== undefined) this.forget(conn, c, out);
    return out;
  }

  private issue(c: Conn, now: number): string {
    c.nonce = encodeBase64url(this.crypto.randomBytes(NONCE_BYTES));
    c.nonceExpires = now + this.nonceTtl;
    return c.nonce;
  }

  /** Token bucket: `burst` tokens, refilled at `rate` per second; each message costs one. */
  private take(c: Conn, now: number): boolean {
    const elapsed = Math.max(0, now - c.refilledAt);
    c.refilledAt = now;
    c.tokens = Math.min(this.burst, c.tokens + (elapsed * this.rate) / 1000);
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  /** Protocol steps 2–3 (and 6): check an answer against the outstanding challenge. */
  private async answer(conn: C, c: Conn, publicKey: string, response: string, now: number, out: ServerAction<C>[]) {
    const nonce = c.nonce;
    if (nonce === undefined) {
      this.reply(conn, { error: REPLY_ERROR.NO_CHALLENGE }, out);
      return;
    }
    // Single use: whatever the outcome, this nonce is spent before anything can interleave.
    c.nonce = undefined;
    const key = decodeBase64url(publicKey);
    const signature = decodeBase64url(response);
    let reason: string | undefined;
    if (now > c.nonceExpires) reason = REJECT_REASON.EXPIRED;
    else if (key === undefined || key.length !== PUBLIC_KEY_BYTES) reason = REJECT_REASON.MALFORMED_KEY;
    else if (isSmallOrderKey(key)) reason = REJECT_REASON.WEAK_KEY;
    else if (signature === undefined || signature.length !== SIGNATURE_BYTES) reason = REJECT_REASON.MALFORMED_SIGNATURE;
    else if (c.key !== undefined && c.key !== publicKey) reason = REJECT_REASON.KEY_CHANGED;
    else {
      let valid = false;
      for (const host of c.hosts) {
        if (await this.crypto.verify(key, registrationMessage(host, nonce), signature)) {
          valid = true;
          break;
        }
      }
      // The connection may have closed or timed out while we waited.
      if (this.conns.get(conn) !== c) return;
      if (!valid) reason = REJECT_REASON.BAD_SIGNATURE;
    }
    if (reason === undefined) {
      out.push({ type: 'send', conn, text: JSON.stringify({ publicKey, response, accepted: true }) });
      if (c.key === undefined) {
        c.key = publicKey;
        let set = this.registry.get(publicKey);
        if (set === undefined) this.registry.set(publicKey, (set = new Set()));
        set.add(conn);
        out.push({ type: 'registered', conn, publicKey });
      }
      c.inHeartbeat = false;
      c.retriesLeft = this.retries;
      c.deadline = this.heartbeatInterval > 0 ? now + this.heartbeatInterval : Infinity;
      this.timer(conn, c, out, false);
      return;
    }
    if (c.retriesLeft > 0) {
      const retries = c.retriesLeft--;
      const challenge = this.issue(c, now);
      this.reply(conn, { publicKey, response, accepted: false, retries, challenge, reason }, out);
      return;
    }
    this.reply(conn, { publicKey, response, accepted: false, retries: 0, reason }, out);
    this.close(conn, CLOSE.POLICY, c.key === undefined ? CLOSE_REASON.REGISTER_FAILED : CLOSE_REASON.HEARTBEAT_FAILED, out);
  }

  /** Protocol step 5: `from` is always the sender's verified key, never anything the sender wrote. */
  private route(conn: C, c: Conn, to: string | undefined, data: Json, out: ServerAction<C>[]) {
    if (c.key === undefined) {
      this.reply(conn, { error: REPLY_ERROR.NOT_REGISTERED }, out);
      return;
    }
    let text: string;
    try {
      text = JSON.stringify({ from: c.key, data });
    } catch {
      // Only nesting deep enough to exhaust the stack gets here (JSON.parse built it iteratively).
      this.reply(conn, { error: REPLY_ERROR.INVALID_MESSAGE }, out);
      return;
    }
    if (to === undefined) {
      for (const [other, o] of this.conns) {
        if (other !== conn && o.key !== undefined) out.push({ type: 'send', conn: other, text });
      }
      return;
    }
    const targets = this.registry.get(to);
    if (targets === undefined) {
      this.reply(conn, { error: REPLY_ERROR.UNKNOWN_RECIPIENT, to }, out);
      return;
    }
    for (const target of targets) out.push({ type: 'send', conn: target, text });
  }

  private reply(conn: C, message: Record<string, unknown>, out: ServerAction<C>[]) {
    out.push({ type: 'send', conn, text: JSON.stringify(message) });
  }

  private close(conn: C, code: number, reason: string, out: ServerAction<C>[]) {
    this.forget(conn, this.conns.get(conn) as Conn, out);
    out.push({ type: 'close', conn, code, reason });
  }

  private forget(conn: C, c: Conn, out: ServerAction<C>[]) {
    this.conns.delete(conn);
    if (c.key === undefined) return;
    const set = this.registry.get(c.key) as Set<C>;
    set.delete(conn);
    if (set.size === 0) this.registry.delete(c.key);
    out.push({ type: 'unregistered', conn, publicKey: c.key });
  }

  private timer(conn: C, c: Conn, out: ServerAction<C>[], force: boolean) {
    const at = Number.isFinite(c.deadline) ? c.deadline : null;
    if (!force && at === c.timerAt) return;
    c.timerAt = at;
    out.push({ type: 'timer', conn, at });
  }
}
