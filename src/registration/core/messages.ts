/**
 * The wire format of the Simpatico Registration Protocol: JSON objects in WebSocket text frames.
 * Field names are the protocol's (the user's design) and must not change: `challenge`,
 * `publicKey`, `response`, `accepted`, `retries`, `to`, `from`, `data`, `error`.
 *
 * Every constant a peer or an operator can observe — error strings, close codes, close reasons —
 * is defined here, once, so the README, the roles and the tests agree.
 */

import { decodeString, scanMessage } from './json-scan.js';

/** Close codes the server uses (RFC 6455 §7.4.1). */
export const CLOSE = {
  /** Policy violation: registration timeout or failure, heartbeat failure, rate exceeded. */
  POLICY: 1008,
  /** A message larger than the configured maximum. */
  TOO_BIG: 1009,
  /** A binary frame: the protocol is JSON text only. */
  UNSUPPORTED: 1003,
  /** The server's own fault (its crypto failed); never caused by the peer. */
  INTERNAL: 1011,
} as const;

/** Close reasons (each under the 123 bytes RFC 6455 §5.5.1 leaves for a reason). */
export const CLOSE_REASON = {
  REGISTER_TIMEOUT: 'registration timeout',
  REGISTER_FAILED: 'registration failed',
  HEARTBEAT_TIMEOUT: 'heartbeat timeout',
  HEARTBEAT_FAILED: 'heartbeat failed',
  RATE: 'rate limit exceeded',
  TOO_BIG: 'message too big',
  BINARY: 'binary messages are not supported',
  INTERNAL: 'internal error',
} as const;

/** The `error` strings of `{"error": ...}` replies. They never close the connection by themselves. */
export const REPLY_ERROR = {
  INVALID_JSON: 'invalid JSON',
  INVALID_MESSAGE: 'invalid message',
  NOT_REGISTERED: 'not registered',
  UNKNOWN_RECIPIENT: 'unknown recipient',
  NO_CHALLENGE: 'no challenge pending',
  /** Nesting deeper than MAX_DEPTH (json-scan.ts): refused before anything after the bracket is read. */
  TOO_DEEP: 'nesting too deep',
  /** The sender's fan-out budget is spent: the message was not delivered to anyone. */
  FANOUT: 'fan-out limit exceeded',
  /**
   * Many nodes, and their bus is down (or did not answer in time): a message to a key this node
   * does not hold could not be offered to the others. Nothing was delivered.
   */
  UNREACHABLE: 'other nodes unreachable',
} as const;

/** Why an answer was refused; sent as `reason` beside `accepted: false`. */
export const REJECT_REASON = {
  EXPIRED: 'expired challenge',
  MALFORMED_KEY: 'malformed key',
  /** A small-order point: anyone can sign for it, so it identifies no one. */
  WEAK_KEY: 'weak key',
  MALFORMED_SIGNATURE: 'malformed signature',
  KEY_CHANGED: 'key changed',
  BAD_SIGNATURE: 'bad signature',
} as const;

/**
 * The text recipients get: `{"from":"KEY","data":DATA}`, DATA being the sender's own JSON text of
 * its value, byte for byte. KEY is base64url, so it needs no escaping.
 */
export function forwardText(from: string, data: string): string {
  return `{"from":"${from}","data":${data}}`;
}

/**
 * How much larger than the largest message a forwarded one can be: a sender's message spends at
 * least the 9 bytes of `{"data":}` around its DATA, the forwarded one the 19 of `{"from":"","data":}`
 * and the 43 of a key. So a forwarded message is at most `maxMessageBytes + 53` bytes: set a
 * client's own message limit at least that high.
 */
export const FORWARD_OVERHEAD = '{"from":"","data":}'.length + 43 - '{"data":}'.length;

/** Any value JSON can carry. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A message from a client, as the server role classifies it. A routed message's `data` is the JSON
 * text of the sender's value, exactly as it was sent: the server forwards it without parsing it.
 */
export type ClientMessage =
  | { kind: 'answer'; publicKey: string; response: string }
  | { kind: 'send'; to: string | undefined; data: string }
  | { kind: 'invalid'; error: (typeof REPLY_ERROR)['INVALID_JSON' | 'INVALID_MESSAGE' | 'TOO_DEEP'] };

/** A message from the server, as the client role classifies it. */
export type ServerMessage =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'accepted'; publicKey: string }
  | { kind: 'rejected'; retries: number; challenge: string | undefined; reason: string | undefined }
  | { kind: 'message'; from: string; data: Json }
  | { kind: 'error'; error: string; to: string | undefined }
  | { kind: 'unknown' };

type Obj = Record<string, unknown>;

/** Parses JSON; `undefined` for a syntax error, `null` for valid JSON that is not a plain object. */
function parseObject(text: string): Obj | null | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return value as Obj;
}

const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Classifies a client's text message, with the scanner of json-scan.ts rather than `JSON.parse`
 * (no value is built). An answer carries `publicKey` and `response` strings; a routed message
 * carries `data` and an optional string `to`. Anything else is invalid, and so is a message that
 * names one of these members twice.
 */
export function parseClientMessage(text: string): ClientMessage {
  const scan = scanMessage(text);
  switch (scan.kind) {
    case 'syntax':
      return { kind: 'invalid', error: REPLY_ERROR.INVALID_JSON };
    case 'too-deep':
      return { kind: 'invalid', error: REPLY_ERROR.TOO_DEEP };
    case 'not-object':
    case 'duplicate':
      // Valid JSON of the wrong shape is not a syntax error.
      return { kind: 'invalid', error: REPLY_ERROR.INVALID_MESSAGE };
  }
  const { publicKey, response, to, data } = scan.fields;
  if (publicKey !== undefined || response !== undefined) {
    if (publicKey?.isString === true && response?.isString === true && data === undefined) {
      return { kind: 'answer', publicKey: decodeString(text, publicKey), response: decodeString(text, response) };
    }
    return { kind: 'invalid', error: REPLY_ERROR.INVALID_MESSAGE };
  }
  if (data !== undefined && (to === undefined || to.isString)) {
    return { kind: 'send', to: to === undefined ? undefined : decodeString(text, to), data: text.slice(data.start, data.end) };
  }
  return { kind: 'invalid', error: REPLY_ERROR.INVALID_MESSAGE };
}

/** Classifies a server's text message; anything unrecognised is `unknown` (and ignored). */
export function parseServerMessage(text: string): ServerMessage {
  const o = parseObject(text);
  if (o === undefined || o === null) return { kind: 'unknown' };
  if (o.accepted === true && typeof o.publicKey === 'string') {
    return { kind: 'accepted', publicKey: o.publicKey };
  }
  if (o.accepted === false && typeof o.retries === 'number') {
    return {
      kind: 'rejected',
      retries: o.retries,
      challenge: typeof o.challenge === 'string' ? o.challenge : undefined,
      reason: typeof o.reason === 'string' ? o.reason : undefined,
    };
  }
  if (typeof o.challenge === 'string' && !has(o, 'accepted')) return { kind: 'challenge', challenge: o.challenge };
  if (typeof o.from === 'string' && has(o, 'data')) return { kind: 'message', from: o.from, data: o.data as Json };
  if (typeof o.error === 'string') {
    return { kind: 'error', error: o.error, to: typeof o.to === 'string' ? o.to : undefined };
  }
  return { kind: 'unknown' };
}
