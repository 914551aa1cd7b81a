/**
 * Opcodes and the `Frame` record (RFC 6455 §5.2, §11.8).
 */

/**
 * Frame opcodes (RFC 6455 §5.2). 0x3–0x7 are reserved for further non-control frames and 0xB–0xF
 * for further control frames; a receiver fails the connection on any of them (§5.2).
 */
export const Opcode = {
  /** §5.4: a continuation of a fragmented message. */
  Continuation: 0,
  /** §5.6: UTF-8 text. */
  Text: 1,
  /** §5.6: arbitrary bytes. */
  Binary: 2,
  /** §5.5.1: the closing handshake. */
  Close: 8,
  /** §5.5.2: a keep-alive or probe; the peer answers with a Pong. */
  Ping: 9,
  /** §5.5.3: the answer to a Ping, or a unidirectional heartbeat. */
  Pong: 10,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Control frames are those whose opcode has the high bit set (RFC 6455 §5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/** Whether the opcode is one RFC 6455 defines (§5.2); the rest are reserved and fail the connection. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 2 || (opcode >= 8 && opcode <= 10);
}

/** The bits of a frame's first two bytes (RFC 6455 §5.2), the length aside. */
export interface FrameBits {
  /** FIN: this is the final fragment of a message (§5.4). */
  fin: boolean;
  /** RSV1–3: zero unless an extension defines them (§5.2, §9). */
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** Whether the payload was masked on the wire (always true from a client, false from a server; §5.1). */
  masked: boolean;
}

/** A frame as it is on the wire, payload already unmasked (RFC 6455 §5.2). */
export interface Frame extends FrameBits {
  /** The unmasked payload. */
  payload: Buffer;
}

/**
 * The default cap on a message (all its fragments together): 1 MiB, the default of Python's
 * websockets. Enough for any chat or JSON API; a peer needing more must be configured for it.
 */
export const DEFAULT_MAX_PAYLOAD = 1_048_576;
