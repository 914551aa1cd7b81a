/**
 * The server side of the Simpatico Registration Protocol on Node: the sans-I/O server role
 * (./core/server-role.ts) bound to the connections of a {@link WebSocketServer}, with real timers.
 *
 * All the decisions — challenges, verification, retries, heartbeats, routing, limits — are the
 * role's; this file carries its actions out: send, close, (re)arm a timer. Every text leaves
 * through {@link broadcast} (src/server/broadcast.ts), which frames it once however many
 * recipients it has and holds the one slow-recipient policy: a recipient whose buffered bytes are
 * over `maxBufferedAmount` is closed with 1008 instead of being sent more.
 *
 * Besides the role's own limits, the hub keeps one across connections: refused answers per
 * address ({@link RegistrationHub.verifyClient}).
 *
 * Many nodes share one key space through a {@link Bus} (./bus.ts): every routed message is also
 * published to the other nodes, a key is subscribed while this node holds a connection for it,
 * and what other nodes publish is delivered here. The default bus is a node alone: one process.
 */

import { EventEmitter } from 'node:events';
import { checkOptions, rule } from '../options.js';
import { broadcast } from '../server/broadcast.js';
import type { HttpRequest, VerifyResult, WebSocketServer } from '../server/server.js';
import type { WebSocket } from '../websocket.js';
import { MemoryBus, type Bus } from './bus.js';
import { AddressLimiter } from './core/address-limiter.js';
import type { RegistrationCrypto } from './core/crypto.js';
import { REPLY_ERROR } from './core/messages.js';
import { SERVER_RULES } from './core/server-options.js';
import { RegistrationServerRole, type ServerAction, type ServerRoleOptions } from './core/server-role.js';
import { nodeCrypto } from './node-crypto.js';

/** Options of a {@link RegistrationHub}: the protocol's (milliseconds), crypto, and the hub's own limits. */
export interface RegistrationHubOptions extends Omit<ServerRoleOptions, 'crypto' | 'publish'> {
  /** Default: node:crypto. */
  crypto?: RegistrationCrypto;
  /**
   * Buffered outgoing bytes above which a recipient that does not read is closed (1008) rather
   * than sent more: routing never buffers without bound. Default 1 MiB.
   */
  maxBufferedAmount?: number;
  /**
   * Refused answers one address may cause per minute (default 30; IPv6 addresses count by /64).
   * Over it, new connections from that address are refused at the handshake with 429 and
   * `Retry-After` (through {@link RegistrationHub.verifyClient}); other addresses are served.
   */
  refusalsPerMinute?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /**
   * The bus to the other nodes sharing this key space: a `RedisBus`, or a {@link MemoryBus} peer.
   * Default: a `MemoryBus` of its own (one node; nothing leaves the process).
   */
  bus?: Bus;
}

/** The hub's own defaults (the role's are `SERVER_DEFAULTS`). */
export const HUB_DEFAULTS = {
  maxBufferedAmount: 1024 * 1024,
  refusalsPerMinute: 30,
} as const;

// The hub always publishes (its bus decides whether anyone else is there): not an option of its own.
const { publish: _publish, ...ROLE_RULES } = SERVER_RULES;
const HUB_RULES = {
  ...ROLE_RULES,
  maxBufferedAmount: rule.bytes(1),
  refusalsPerMinute: rule.integer(1),
  now: rule.function,
  bus: rule.methods(['open', 'subscribe', 'unsubscribe', 'publish'], 'a MemoryBus or a RedisBus'),
};

/** Events of a {@link RegistrationHub}. */
export interface RegistrationHubEvents {
  /** `publicKey` became routable to `socket`. */
  registered: [publicKey: string, socket: WebSocket];
  /** `socket` no longer routes `publicKey` (it closed, or failed a heartbeat). */
  unregistered: [publicKey: string, socket: WebSocket];
}

/** setTimeout fires at once beyond 2^31 - 1 ms; a longer wait is done in steps (tick re-arms). */
const MAX_TIMER = 2 ** 31 - 1;

/** The registry of public key → connections, routing and heartbeats for one or more servers. */
export class RegistrationHub extends EventEmitter<RegistrationHubEvents> {
  /** The sans-I/O role doing the work (its `keys()`, `keyOf()`, `phaseOf()`, `connectionsOf()` are useful). */
  readonly role: RegistrationServerRole<WebSocket>;
  private readonly timers = new Map<WebSocket, NodeJS.Timeout>();
  private readonly addresses = new WeakMap<WebSocket, string>();
  private readonly refusals: AddressLimiter;
  private readonly slowClient: { maxBufferedAmount: number; policy: 'close' };
  private readonly now: () => number;
  private readonly servers = new Map<WebSocketServer, (ws: WebSocket, req: HttpRequest) => void>();
  private readonly bus: Bus;
  /**
   * Connections accepted by the role whose `accepted: true` waits for the bus to subscribe their
   * key, with what was routed to them meanwhile (sent after it, in order; at most
   * `maxBufferedAmount` bytes, the rest dropped) and its size.
   */
  private readonly held = new Map<WebSocket, { texts: string[]; bytes: number }>();

  /** @throws WebSocketError `WS_ERR_INVALID_OPTION` for an option of the wrong type, range or name. */
  constructor(options: RegistrationHubOptions = {}) {
    super();
    checkOptions('new RegistrationHub()', options, HUB_RULES);
    const { crypto, maxBufferedAmount, refusalsPerMinute, now, bus, ...protocol } = options;
    this.role = new RegistrationServerRole<WebSocket>({ ...protocol, crypto: crypto ?? nodeCrypto, publish: true });
    this.bus = bus ?? new MemoryBus();
    this.bus.open((to, text) => this.apply(this.role.deliver(to, text)));
    this.slowClient = { maxBufferedAmount: maxBufferedAmount ?? HUB_DEFAULTS.maxBufferedAmount, policy: 'close' };
    this.refusals = new AddressLimiter(refusalsPerMinute ?? HUB_DEFAULTS.refusalsPerMinute);
    this.now = now ?? Date.now;
  }

  /**
   * The `verifyClient` of a {@link WebSocketServer} (`new WebSocketServer({ verifyClient: hub.verifyClient })`):
   * refuses a new connection with 429 and `Retry-After` (RFC 6585 §4) while its address is over
   * `refusalsPerMinute`. Bound: it can be passed around as is.
   */
  readonly verifyClient = (request: Pick<HttpRequest, 'remoteAddress'>): VerifyResult => {
    const address = request.remoteAddress;
    const wait = address === undefined ? 0 : this.refusals.wait(address, this.now());
    if (wait === 0) return true;
    // Whole seconds, rounded up (RFC 9110 §10.2.3), without letting float error turn 1.000000001 into 2.
    const seconds = Math.ceil(wait / 1000 - 1e-6);
    return {
      status: 429,
      message: `Too many refused registration answers from this address; try again in ${seconds} s.`,
      headers: { 'retry-after': String(seconds) },
    };
  };

  /** Registers every connection `server` accepts from now on. */
  attach(server: WebSocketServer): this {
    if (!this.servers.has(server)) {
      const listener = (ws: WebSocket, req: HttpRequest) => this.handle(ws, req);
      this.servers.set(server, listener);
      server.on('connection', listener);
    }
    return this;
  }

  /**
   * Takes one open connection through the protocol: for `handleUpgrade` callbacks, or any other
   * source of server-side connections. `req` gives the `Host` the signature is checked against,
   * and the address refusals are counted for.
   */
  handle(ws: WebSocket, req: Pick<HttpRequest, 'headers' | 'remoteAddress'>): void {
    const raw = req.headers.host;
    const host = (Array.isArray(raw) ? raw[0] : raw) ?? '';
    if (req.remoteAddress !== undefined) this.addresses.set(ws, req.remoteAddress);
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.apply(this.role.receiveBinary(ws));
      else {
        // Routed messages come back at once; only an answer's signature check is awaited.
        const actions = this.role.receiveText(ws, data as string, this.now());
        if (Array.isArray(actions)) this.apply(actions);
        else actions.then((a) => this.apply(a));
      }
    });
    // Control frames cost the sender as messages do (the connection layer has already answered a Ping).
    const control = () => this.apply(this.role.receiveControl(ws, this.now()));
    ws.on('ping', control);
    ws.on('pong', control);
    ws.on('close', () => {
      this.clearTimer(ws);
      this.held.delete(ws);
      this.apply(this.role.closed(ws));
    });
    this.apply(this.role.open(ws, host, this.now()));
  }

  /** The keys currently routable. */
  keys(): string[] {
    return this.role.keys();
  }

  /** Stops taking new connections from the attached servers and cancels every timer. */
  detach(): void {
    for (const [server, listener] of this.servers) server.off('connection', listener);
    this.servers.clear();
    for (const ws of [...this.timers.keys()]) this.clearTimer(ws);
  }

  private apply(actions: ServerAction<WebSocket>[]): void {
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i];
      switch (action.type) {
        case 'send':
          // One recipient, the same path: a peer that does not read its replies meets the same policy.
          this.send([action.conn], action.text);
          break;
        case 'broadcast':
          this.send(action.conns, action.text);
          break;
        case 'publish':
          this.publish(action.conn, action.to, action.text, action.delivered);
          break;
        case 'close':
          this.clearTimer(action.conn);
          this.held.delete(action.conn);
          action.conn.close(action.code, action.reason);
          break;
        case 'timer':
          this.arm(action.conn, action.at);
          break;
        case 'registered': {
          this.emit('registered', action.publicKey, action.conn);
          const subscribed = this.bus.subscribe(action.publicKey);
          if (subscribed !== undefined) {
            // Routable from every node before the client is told it is: the rest of this batch
            // (its `accepted: true`, its timer) waits for the bus, and so does what is routed to it.
            const conn = action.conn;
            const rest = actions.slice(i + 1);
            this.held.set(conn, { texts: [], bytes: 0 });
            void subscribed.then(() => this.release(conn, rest));
            return;
          }
          break;
        }
        case 'unregistered':
          if (this.role.connectionsOf(action.publicKey).length === 0) this.bus.unsubscribe(action.publicKey);
          this.emit('unregistered', action.publicKey, action.conn);
          break;
        case 'refused': {
          const address = this.addresses.get(action.conn);
          if (address !== undefined) this.refusals.charge(address, this.now());
          break;
        }
      }
    }
  }

  /** Every text leaves here: through {@link broadcast}'s slow-client policy, or into a held connection's queue. */
  private send(conns: readonly WebSocket[], text: string): void {
    if (this.held.size > 0) {
      conns = conns.filter((conn) => {
        const queue = this.held.get(conn);
        if (queue === undefined) return true;
        // At most once: past the slow-recipient limit (in bytes, as the socket would hold them),
        // what it would not have read is dropped.
        const bytes = Buffer.byteLength(text);
        if (queue.bytes + bytes <= this.slowClient.maxBufferedAmount) {
          queue.texts.push(text);
          queue.bytes += bytes;
        }
        return false;
      });
    }
    broadcast(conns, text, { slowClient: this.slowClient });
  }

  /** The key of `conn` is subscribed: tell it it is accepted, then what was routed to it meanwhile. */
  private release(conn: WebSocket, rest: ServerAction<WebSocket>[]): void {
    const queue = this.held.get(conn);
    // Closed while it waited: nothing to tell it, no timer to arm.
    if (queue === undefined) return;
    this.held.delete(conn);
    this.apply(rest);
    for (const text of queue.texts) this.send([conn], text);
  }

  /**
   * Offers a routed message to the other nodes. A message to a key this node does not hold is
   * answered here: "unknown recipient" when no other node took it, "other nodes unreachable" when
   * the bus could not say.
   */
  private publish(conn: WebSocket, to: string | undefined, text: string, delivered: number): void {
    const answer = to !== undefined && delivered === 0;
    const received = this.bus.publish(to, text);
    // A bus alone (MemoryBus) answers at once, with no closure per message on this path; one
    // across processes answers later, or fails.
    if (typeof received === 'number') {
      if (answer && received === 0) this.reply(conn, REPLY_ERROR.UNKNOWN_RECIPIENT, to);
      return;
    }
    received.then(
      (n) => answer && n === 0 && this.reply(conn, REPLY_ERROR.UNKNOWN_RECIPIENT, to),
      () => answer && this.reply(conn, REPLY_ERROR.UNREACHABLE, to),
    );
  }

  /** An `{"error": …, "to": KEY}` reply to the sender of a message to `to`. */
  private reply(conn: WebSocket, error: string, to: string | undefined): void {
    this.send([conn], JSON.stringify({ error, to }));
  }

  private arm(ws: WebSocket, at: number | null): void {
    this.clearTimer(ws);
    if (at === null) return;
    const timer = setTimeout(() => {
      this.timers.delete(ws);
      this.apply(this.role.tick(ws, this.now()));
    }, Math.min(MAX_TIMER, Math.max(0, at - this.now())));
    // A pending heartbeat is no reason to keep the process alive once everything else is done.
    timer.unref();
    this.timers.set(ws, timer);
  }

  private clearTimer(ws: WebSocket): void {
    const timer = this.timers.get(ws);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(ws);
    }
  }
}
