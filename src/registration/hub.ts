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
 */

import { EventEmitter } from 'node:events';
import { checkOptions, rule } from '../options.js';
import { broadcast } from '../server/broadcast.js';
import type { HttpRequest, VerifyResult, WebSocketServer } from '../server/server.js';
import type { WebSocket } from '../websocket.js';
import { AddressLimiter } from './core/address-limiter.js';
import type { RegistrationCrypto } from './core/crypto.js';
import { SERVER_RULES } from './core/server-options.js';
import { RegistrationServerRole, type ServerAction, type ServerRoleOptions } from './core/server-role.js';
import { nodeCrypto } from './node-crypto.js';

/** Options of a {@link RegistrationHub}: the protocol's (milliseconds), crypto, and the hub's own limits. */
export interface RegistrationHubOptions extends Omit<ServerRoleOptions, 'crypto'> {
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
}

/** The hub's own defaults (the role's are `SERVER_DEFAULTS`). */
export const HUB_DEFAULTS = {
  maxBufferedAmount: 1024 * 1024,
  refusalsPerMinute: 30,
} as const;

const HUB_RULES = {
  ...SERVER_RULES,
  maxBufferedAmount: rule.bytes(1),
  refusalsPerMinute: rule.integer(1),
  now: rule.function,
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

  /** @throws WebSocketError `WS_ERR_INVALID_OPTION` for an option of the wrong type, range or name. */
  constructor(options: RegistrationHubOptions = {}) {
    super();
    checkOptions('new RegistrationHub()', options, HUB_RULES);
    const { crypto, maxBufferedAmount, refusalsPerMinute, now, ...protocol } = options;
    this.role = new RegistrationServerRole<WebSocket>({ ...protocol, crypto: crypto ?? nodeCrypto });
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
      else this.role.receive(ws, data as string, this.now()).then((actions) => this.apply(actions));
    });
    // Control frames cost the sender as messages do (the connection layer has already answered a Ping).
    const control = () => this.apply(this.role.receiveControl(ws, this.now()));
    ws.on('ping', control);
    ws.on('pong', control);
    ws.on('close', () => {
      this.clearTimer(ws);
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
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          // One recipient, the same path: a peer that does not read its replies meets the same policy.
          broadcast([action.conn], action.text, { slowClient: this.slowClient });
          break;
        case 'broadcast':
          broadcast(action.conns, action.text, { slowClient: this.slowClient });
          break;
        case 'close':
          this.clearTimer(action.conn);
          action.conn.close(action.code, action.reason);
          break;
        case 'timer':
          this.arm(action.conn, action.at);
          break;
        case 'registered':
          this.emit('registered', action.publicKey, action.conn);
          break;
        case 'unregistered':
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
