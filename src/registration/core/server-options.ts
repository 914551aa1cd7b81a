/**
 * The server role's options: what each one means, its default, its rule. They are checked when
 * the role (or the hub) is made, with src/options.ts: a wrong type, a value out of range or an
 * unknown name throws `WS_ERR_INVALID_OPTION` naming the option, the value and what is accepted.
 */

import { checkOptions, invalidOption, rule, type OptionRule } from '../../options.js';
import type { RegistrationCrypto } from './crypto.js';

/** The protocol's tunables. Times are milliseconds; every one has a safe default. */
export interface ServerRoleOptions {
  /** Signatures and nonces. Required. */
  crypto: RegistrationCrypto;
  /**
   * The hosts a signature must name. Default: the connection's own `Host` (given to `open`).
   * Set it on the open internet and behind proxies: a default taken from the request trusts a
   * header the client chose, so a relay could re-register a victim's key under its own connection.
   */
  expectedHosts?: readonly string[];
  /** Further attempts after a refused answer (default 3, at most 1000). */
  retries?: number;
  /** How long a challenge stays answerable (default 30 000). */
  nonceTtl?: number;
  /** How long a new connection has to register (default 10 000). */
  registerTimeout?: number;
  /** Interval between heartbeat challenges to a registered connection; 0 turns them off (default 30 000). */
  heartbeatInterval?: number;
  /** How long a heartbeat challenge waits for a valid answer (default 10 000). */
  heartbeatTimeout?: number;
  /**
   * Largest message accepted, in UTF-8 bytes (default 65 536, at least 256); larger closes with
   * 1009. A forwarded message is at most this plus {@link FORWARD_OVERHEAD} bytes.
   */
  maxMessageBytes?: number;
  /**
   * Sustained messages per second per connection, Ping and Pong frames included (default 20);
   * beyond the burst closes with 1008.
   */
  rate?: number;
  /** Messages a connection may send at once before the rate applies (default 2 × rate, at least 1). */
  burst?: number;
  /**
   * Sustained deliveries per second per sender (default 500): a broadcast to N connections costs
   * N. Over it, the message is not delivered and the sender gets `{"error": "fan-out limit exceeded"}`.
   */
  fanout?: number;
  /** Deliveries a sender may make at once before the fan-out rate applies (default 2 × fanout, at least 1). */
  fanoutBurst?: number;
  /**
   * One node of many (default false): every routed message is also offered to the other nodes, as
   * a `publish` action beside the local deliveries, and "unknown recipient" is left to the caller,
   * who learns from its bus whether another node holds the key. Messages from other nodes come in
   * through `deliver`. The hub sets it; alone, a role answers "unknown recipient" itself.
   */
  publish?: boolean;
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
  fanout: 500,
} as const;

/** The smallest `maxMessageBytes`: room for an answer (about 160 bytes) with a margin. */
export const MIN_MESSAGE_BYTES = 256;
/** The largest `retries`: each attempt may cost one signature check per expected host. */
export const MAX_RETRIES = 1000;
/** The longest time option: what `setTimeout` can wait (2^31 - 1 ms, about 24.8 days). */
export const MAX_MILLISECONDS = 2 ** 31 - 1;
/** The largest `maxMessageBytes`. */
export const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

/** A time option: milliseconds above 0, at most what `setTimeout` can wait. */
export const DURATION_RULE: OptionRule = {
  accepts: 'a number of milliseconds above 0 and at most 2^31 - 1',
  check: (v) => typeof v === 'number' && v > 0 && v <= MAX_MILLISECONDS,
};

const crypto = rule.methods(['randomBytes', 'verify', 'sign', 'generateKeyPair'], 'nodeCrypto, webCrypto()');

const hosts: OptionRule = {
  accepts: 'a non-empty array of host[:port] strings, as clients put them in the URL',
  check: (v) => Array.isArray(v) && v.length > 0 && v.every((h) => typeof h === 'string' && h.trim() !== ''),
};

/** The rules of {@link ServerRoleOptions}, shared with the hub (which takes the same options). */
export const SERVER_RULES: Readonly<Record<keyof ServerRoleOptions, OptionRule>> = {
  crypto,
  expectedHosts: hosts,
  retries: rule.integer(0, MAX_RETRIES),
  nonceTtl: DURATION_RULE,
  registerTimeout: DURATION_RULE,
  heartbeatInterval: rule.either(rule.oneOf(0), DURATION_RULE),
  heartbeatTimeout: DURATION_RULE,
  maxMessageBytes: rule.bytes(MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES),
  rate: rule.positive(),
  burst: rule.integer(1),
  fanout: rule.positive(),
  fanoutBurst: rule.integer(1),
  publish: rule.boolean,
};

/** Every option resolved to its value. */
export type ServerConfig = Required<Omit<ServerRoleOptions, 'expectedHosts'>> & { expectedHosts: readonly string[] | undefined };

/** Checks `options` (throwing `WS_ERR_INVALID_OPTION`) and fills in the defaults. */
export function serverConfig(where: string, options: ServerRoleOptions): ServerConfig {
  checkOptions(where, options, SERVER_RULES);
  if (options?.crypto === undefined) {
    throw invalidOption(`${where}: option crypto is required: ${crypto.accepts}.`);
  }
  const rate = options.rate ?? SERVER_DEFAULTS.rate;
  const fanout = options.fanout ?? SERVER_DEFAULTS.fanout;
  return {
    crypto: options.crypto,
    expectedHosts: options.expectedHosts,
    retries: options.retries ?? SERVER_DEFAULTS.retries,
    nonceTtl: options.nonceTtl ?? SERVER_DEFAULTS.nonceTtl,
    registerTimeout: options.registerTimeout ?? SERVER_DEFAULTS.registerTimeout,
    heartbeatInterval: options.heartbeatInterval ?? SERVER_DEFAULTS.heartbeatInterval,
    heartbeatTimeout: options.heartbeatTimeout ?? SERVER_DEFAULTS.heartbeatTimeout,
    maxMessageBytes: options.maxMessageBytes ?? SERVER_DEFAULTS.maxMessageBytes,
    rate,
    burst: options.burst ?? Math.max(1, Math.ceil(rate * 2)),
    fanout,
    fanoutBurst: options.fanoutBurst ?? Math.max(1, Math.ceil(fanout * 2)),
    publish: options.publish ?? false,
  };
}
