/**
 * The server role of the Simpatico Registration Protocol, sans-I/O.
 *
 * It owns no socket and no clock. The caller reports what happened — a connection opened
 * (`open`), a text, binary or control frame arrived (`receive`, `receiveBinary`, `receiveControl`),
 * a timer it was asked for fired (`tick`), a connection closed (`closed`) — passing the current
 * time, and gets back actions to perform: send a text to a connection, send one text to many,
 * close a connection, (re)arm that connection's one timer. Connections are identified by whatever
 * the caller uses (`C`): a socket object, a number, a relay peer id. Because nothing here touches
 * I/O, the same object serves a Node WebSocketServer, runs inside a browser, or runs inside a
 * client behind a broadcast relay.
 *
 * The life of a connection, one phase at a time ({@link Phase}):
 *
 *   open ─► CHALLENGED ──valid answer──► REGISTERED ──heartbeatInterval passed──► HEARTBEAT
 *             │  refused: a new challenge while retries last    ▲                    │
 *             │                                                 └───valid answer─────┤
 *             │  retries spent: close 1008 registration failed       retries spent: close 1008 heartbeat failed
 *             │  registerTimeout passed: close 1008 registration timeout   heartbeatTimeout passed: close 1008
 *             ▼                                                                      ▼ heartbeat timeout
 *           closed ◄──────────── any phase: closed by either side, a limit, a binary frame ────────
 *
 * Only CHALLENGED and HEARTBEAT have a challenge outstanding; only REGISTERED and HEARTBEAT route.
 * Nonces are single-use: the outstanding challenge is consumed by the first answer, right or
 * wrong, before its signature is checked, and a new one is issued for any retry. They also
 * expire (`nonceTtl`).
 *
 * The sender pays for what it makes the server do: every message and control frame costs a token
 * of its rate bucket, every delivery of a routed message a token of its fan-out bucket (a
 * broadcast to N connections costs N), and a routed message is forwarded as the sender's own
 * bytes (json-scan.ts finds its `data` value), never re-serialised, so it cannot grow on the way.
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
import { CLOSE, CLOSE_REASON, REJECT_REASON, REPLY_ERROR, forwardText, parseClientMessage } from './messages.js';
import { serverConfig, type ServerConfig, type ServerRoleOptions } from './server-options.js';
import { TokenBucket } from './token-bucket.js';

export { SERVER_DEFAULTS, MIN_MESSAGE_BYTES, type ServerRoleOptions } from './server-options.js';

/** The phases of a connection (see the diagram above). A closed connection has none: it is forgotten. */
export const Phase = {
  /** Challenged, not yet registered: answers are checked, routed messages refused. */
  CHALLENGED: 'challenged',
  /** Its key is routable; no challenge is outstanding. */
  REGISTERED: 'registered',
  /** Still routable, and a heartbeat challenge is outstanding. */
  HEARTBEAT: 'heartbeat',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What the caller must do, in order. */
export type ServerAction<C> =
  | { type: 'send'; conn: C; text: string }
  /** Send `text` to every connection of `conns` (a routed message): encode it once for all of them. */
  | { type: 'broadcast'; conns: readonly C[]; text: string }
  /**
   * With the `publish` option: offer a routed message to the other nodes — to those holding `to`,
   * or (undefined) to all. `delivered` is how many connections of this node got it; when it is 0
   * and `to` is set, nobody anywhere taking it means the caller answers `conn` "unknown recipient".
   */
  | { type: 'publish'; conn: C; to: string | undefined; text: string; delivered: number }
  /** Close the connection; its timer is implicitly cancelled and the role has already forgotten it. */
  | { type: 'close'; conn: C; code: number; reason: string }
  /** Arm the connection's single timer for time `at` (replacing any other), or cancel it (`null`). */
  | { type: 'timer'; conn: C; at: number | null }
  /** Informational: `publicKey` is now routable to `conn`. */
  | { type: 'registered'; conn: C; publicKey: string }
  /** Informational: `conn` no longer routes `publicKey`. */
  | { type: 'unregistered'; conn: C; publicKey: string }
  /** Informational: an answer from `conn` was refused (the hub counts these per address). */
  | { type: 'refused'; conn: C };

interface Conn {
  phase: Phase;
  hosts: readonly string[];
  /** The registered key; '' while CHALLENGED. */
  key: string;
  /** The outstanding challenge (CHALLENGED, HEARTBEAT; `undefined` once an answer consumed it) and its expiry. */
  nonce: string | undefined;
  nonceExpires: number;
  /** Further attempts allowed after the next refusal. */
  retriesLeft: number;
  /** CHALLENGED: the registration deadline. REGISTERED: when the next heartbeat is due.
   *  HEARTBEAT: the deadline of the heartbeat challenge. */
  deadline: number;
  /** Messages and control frames. */
  messages: TokenBucket;
  /** Deliveries of routed messages. */
  deliveries: TokenBucket;
  /** The timer last requested, to emit a timer action only when it changes. */
  timerAt: number | null;
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
  private readonly config: ServerConfig;
  private readonly expectedHosts: readonly string[] | undefined;
  private readonly conns = new Map<C, Conn>();
  private readonly registry = new Map<string, Set<C>>();

  /** @throws WebSocketError `WS_ERR_INVALID_OPTION` for an option of the wrong type, range or name. */
  constructor(options: ServerRoleOptions) {
    this.config = serverConfig('new RegistrationServerRole()', options);
    this.expectedHosts = this.config.expectedHosts?.map(normalizeHost);
  }

  /** The keys currently routable. */
  keys(): string[] {
    return [...this.registry.keys()];
  }

  /** The key `conn` is registered under, if any. */
  keyOf(conn: C): string | undefined {
    const c = this.conns.get(conn);
    return c === undefined || c.phase === Phase.CHALLENGED ? undefined : c.key;
  }

  /** The phase `conn` is in; `undefined` for a connection the role does not know (or has closed). */
  phaseOf(conn: C): Phase | undefined {
    return this.conns.get(conn)?.phase;
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
    const { burst, rate, fanout, fanoutBurst } = this.config;
    const c: Conn = {
      phase: Phase.CHALLENGED,
      hosts: this.expectedHosts ?? (own === '' ? [] : [own]),
      key: '',
      nonce: undefined,
      nonceExpires: 0,
      retriesLeft: this.config.retries,
      deadline: now + this.config.registerTimeout,
      messages: new TokenBucket(rate, burst, now),
      deliveries: new TokenBucket(fanout, fanoutBurst, now),
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
   * A Ping or Pong arrived. The connection layer answers Pings by itself (RFC 6455 §5.5.2), so a
   * flood of them costs this side work and bandwidth like messages do: each one costs a token of
   * the same rate bucket, and a flood is closed with 1008.
   */
  receiveControl(conn: C, now: number): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c !== undefined && !c.messages.take(now)) this.close(conn, CLOSE.POLICY, CLOSE_REASON.RATE, out);
    return out;
  }

  /**
   * A text message arrived. Asynchronous only because checking a signature is (WebCrypto); the
   * state changes that must not wait — charging the rate, consuming the nonce, routing — happen
   * before the first `await`. {@link receiveText} is the same without a promise for the messages
   * that need none.
   */
  async receive(conn: C, text: string, now: number): Promise<ServerAction<C>[]> {
    return this.receiveText(conn, text, now);
  }

  /**
   * {@link receive}, with the actions returned at once (an array) for every message but an answer
   * to a challenge, whose signature check may be asynchronous (a promise). A hub on the routing
   * path calls this: a routed message then costs no promise and no trip through the microtask
   * queue.
   */
  receiveText(conn: C, text: string, now: number): ServerAction<C>[] | Promise<ServerAction<C>[]> {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c === undefined) return out;
    if (exceeds(text, this.config.maxMessageBytes)) {
      this.close(conn, CLOSE.TOO_BIG, CLOSE_REASON.TOO_BIG, out);
      return out;
    }
    if (!c.messages.take(now)) {
      this.close(conn, CLOSE.POLICY, CLOSE_REASON.RATE, out);
      return out;
    }
    const msg = parseClientMessage(text);
    if (msg.kind === 'invalid') {
      this.reply(conn, { error: msg.error }, out);
    } else if (msg.kind === 'send') {
      this.route(conn, c, msg.to, msg.data, now, out);
    } else {
      return this.answer(conn, c, msg.publicKey, msg.response, now, out).then(() => out);
    }
    return out;
  }

  /** The connection's timer fired: enforce the deadline of its phase, or send a heartbeat. */
  tick(conn: C, now: number): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c === undefined) return out;
    if (now >= c.deadline) {
      if (c.phase === Phase.CHALLENGED) {
        this.close(conn, CLOSE.POLICY, CLOSE_REASON.REGISTER_TIMEOUT, out);
        return out;
      }
      if (c.phase === Phase.HEARTBEAT) {
        this.close(conn, CLOSE.POLICY, CLOSE_REASON.HEARTBEAT_TIMEOUT, out);
        return out;
      }
      // REGISTERED → HEARTBEAT (protocol step 6): the challenge doubles as a heartbeat.
      c.phase = Phase.HEARTBEAT;
      c.retriesLeft = this.config.retries;
      c.deadline = now + this.config.heartbeatTimeout;
      out.push({ type: 'send', conn, text: JSON.stringify({ challenge: this.issue(c, now) }) });
    }
    // The caller's timer has fired, so it has none: always ask again.
    this.timer(conn, c, out, true);
    return out;
  }

  /**
   * A routed message from another node (its `text` as that node's role made it, `from` stamped
   * there): to this node's connections of `to`, or (undefined) to every registered one. The
   * sender's own node has charged its fan-out; a key this node no longer holds gets nothing.
   */
  deliver(to: string | undefined, text: string): ServerAction<C>[] {
    const conns: C[] = [];
    if (to === undefined) {
      for (const [conn, c] of this.conns) if (c.phase !== Phase.CHALLENGED) conns.push(conn);
    } else {
      conns.push(...(this.registry.get(to) ?? []));
    }
    return conns.length === 0 ? [] : [{ type: 'broadcast', conns, text }];
  }

  /** The connection is gone (closed by either side): its key stops being routable through it. */
  closed(conn: C): ServerAction<C>[] {
    const out: ServerAction<C>[] = [];
    const c = this.conns.get(conn);
    if (c !== undefined) this.forget(conn, c, out);
    return out;
  }

  private issue(c: Conn, now: number): string {
    c.nonce = encodeBase64url(this.config.crypto.randomBytes(NONCE_BYTES));
    c.nonceExpires = now + this.config.nonceTtl;
    return c.nonce;
  }

  /** Protocol steps 2–3 (and 6): check an answer against the outstanding challenge. */
  private async answer(conn: C, c: Conn, publicKey: string, response: string, now: number, out: ServerAction<C>[]) {
    const nonce = c.nonce;
    // REGISTERED, or an answer already being checked: nothing to answer.
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
    else if (c.phase === Phase.HEARTBEAT && c.key !== publicKey) reason = REJECT_REASON.KEY_CHANGED;
    else {
      let valid: boolean;
      try {
        valid = await this.verify(c.hosts, key, nonce, signature);
      } catch {
        // The crypto implementation itself failed: this side's fault, never the peer's (1011).
        if (this.conns.get(conn) === c) this.close(conn, CLOSE.INTERNAL, CLOSE_REASON.INTERNAL, out);
        return;
      }
      // The connection may have closed or timed out while we waited.
      if (this.conns.get(conn) !== c) return;
      if (!valid) reason = REJECT_REASON.BAD_SIGNATURE;
    }
    if (reason === undefined) this.accept(conn, c, publicKey, response, now, out);
    else this.refuse(conn, c, publicKey, response, reason, now, out);
  }

  private async verify(hosts: readonly string[], key: Uint8Array, nonce: string, signature: Uint8Array): Promise<boolean> {
    for (const host of hosts) {
      if (await this.config.crypto.verify(key, registrationMessage(host, nonce), signature)) return true;
    }
    return false;
  }

  /**
   * CHALLENGED or HEARTBEAT → REGISTERED. `registered` comes before the `accepted: true` text, so
   * that a caller spanning nodes can make the key routable everywhere before the client hears it is.
   */
  private accept(conn: C, c: Conn, publicKey: string, response: string, now: number, out: ServerAction<C>[]) {
    if (c.phase === Phase.CHALLENGED) {
      c.key = publicKey;
      let set = this.registry.get(publicKey);
      if (set === undefined) this.registry.set(publicKey, (set = new Set()));
      set.add(conn);
      out.push({ type: 'registered', conn, publicKey });
    }
    out.push({ type: 'send', conn, text: JSON.stringify({ publicKey, response, accepted: true }) });
    c.phase = Phase.REGISTERED;
    c.retriesLeft = this.config.retries;
    c.deadline = this.config.heartbeatInterval > 0 ? now + this.config.heartbeatInterval : Infinity;
    this.timer(conn, c, out, false);
  }

  /** A refused answer: a new challenge in the same phase while retries last, else the phase's failure. */
  private refuse(conn: C, c: Conn, publicKey: string, response: string, reason: string, now: number, out: ServerAction<C>[]) {
    out.push({ type: 'refused', conn });
    if (c.retriesLeft > 0) {
      const retries = c.retriesLeft--;
      const challenge = this.issue(c, now);
      this.reply(conn, { publicKey, response, accepted: false, retries, challenge, reason }, out);
      return;
    }
    this.reply(conn, { publicKey, response, accepted: false, retries: 0, reason }, out);
    const why = c.phase === Phase.HEARTBEAT ? CLOSE_REASON.HEARTBEAT_FAILED : CLOSE_REASON.REGISTER_FAILED;
    this.close(conn, CLOSE.POLICY, why, out);
  }

  /**
   * Protocol step 5: `from` is always the sender's verified key, never anything the sender wrote,
   * and `data` is the sender's own text. Every delivery is charged to the sender's fan-out budget
   * before anything is sent; a message it cannot pay for goes to nobody.
   */
  private route(conn: C, c: Conn, to: string | undefined, data: string, now: number, out: ServerAction<C>[]) {
    if (c.phase === Phase.CHALLENGED) {
      this.reply(conn, { error: REPLY_ERROR.NOT_REGISTERED }, out);
      return;
    }
    let recipients: C[];
    if (to === undefined) {
      recipients = [];
      for (const [other, o] of this.conns) if (other !== conn && o.phase !== Phase.CHALLENGED) recipients.push(other);
    } else {
      const targets = this.registry.get(to);
      if (targets === undefined && !this.config.publish) {
        this.reply(conn, { error: REPLY_ERROR.UNKNOWN_RECIPIENT, to }, out);
        return;
      }
      recipients = targets === undefined ? [] : [...targets];
    }
    const text = forwardText(c.key, data);
    // What other nodes deliver is theirs to do; this node charges what it delivers itself.
    if (recipients.length > 0) {
      if (!c.deliveries.take(now, recipients.length)) {
        this.reply(conn, { error: REPLY_ERROR.FANOUT }, out);
        return;
      }
      out.push({ type: 'broadcast', conns: recipients, text });
    }
    if (this.config.publish) out.push({ type: 'publish', conn, to, text, delivered: recipients.length });
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
    if (c.phase === Phase.CHALLENGED) return;
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
