/**
 * The connection options both a server and a client take: their rules (checked when the server or
 * client is made) and their defaults, resolved once into the settings every driver shares.
 */
import type { DriverSettings } from '../driver.js';
import { rule } from '../options.js';
import type { ConnectionOptions } from '../websocket.js';
import { tracerOf } from '../trace.js';

/** Defaults, in one place so that the README and the CLI's help can quote them. */
export const CONNECTION_DEFAULTS = {
  maxPayload: 1024 * 1024,
  handshakeTimeout: 10_000,
  closeTimeout: 10_000,
  // As Python's websockets: a peer silent for 20 s is pinged, and dropped if no answer in 20 s more.
  heartbeatInterval: 20_000,
  heartbeatTimeout: 20_000,
  frameTimeout: 10_000,
  minReceiveRate: 4096,
  highWaterMark: 1024 * 1024,
} as const;

export const CONNECTION_RULES = {
  maxPayload: rule.bytes(0),
  closeTimeout: rule.milliseconds(1),
  heartbeatInterval: rule.milliseconds(0),
  heartbeatTimeout: rule.milliseconds(1),
  frameTimeout: rule.milliseconds(0),
  minReceiveRate: rule.positive(),
  highWaterMark: rule.bytes(1),
  textAsBuffer: rule.boolean,
  trace: rule.either(rule.boolean, rule.function),
  allowSynchronousEvents: {
    accepts: 'true: the messages of one read are emitted one after another as they are parsed (ws\'s default); false is not supported',
    check: (v: unknown) => v === true,
  },
};

/** ws's option names that both a server and a client refuse, with why (a connection's own rules). */
export const CONNECTION_FOREIGN = {
  autoPong: 'is not supported: Pings are always answered (RFC 6455 §5.5.2).',
  maxFragments: 'no longer exists: a message is bounded by maxPayload, in bytes, whatever its fragments.',
  maxBufferedChunks: 'is not supported: a message being received holds at most maxPayload + 64 KiB, whatever its chunks.',
};

/** The settings of every driver of one server or client (one object, shared). */
export function driverSettings(options: ConnectionOptions, handshakeTimeout: number | undefined): DriverSettings {
  const d = CONNECTION_DEFAULTS;
  return {
    handshakeTimeout: handshakeTimeout ?? d.handshakeTimeout,
    closeTimeout: options.closeTimeout ?? d.closeTimeout,
    heartbeatInterval: options.heartbeatInterval ?? d.heartbeatInterval,
    // Given only an interval, the answer may take as long as the interval.
    heartbeatTimeout: options.heartbeatTimeout ?? (options.heartbeatInterval || d.heartbeatTimeout),
    highWaterMark: options.highWaterMark ?? d.highWaterMark,
    frameTimeout: options.frameTimeout ?? d.frameTimeout,
    minReceiveRate: options.minReceiveRate ?? d.minReceiveRate,
    tracer: tracerOf(options.trace),
  };
}
