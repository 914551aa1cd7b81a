/**
 * The stable error codes of the connection layer — the lifecycle, the socket binding, the server
 * and the client — one per rule.
 */
export const ConnectionErrorCode = {
  /** A verb used in a state where it cannot be: `send`, `ping` or `pong` while CONNECTING. Thrown locally. */
  NotOpen: 'WS_ERR_NOT_OPEN',
  /** An option of the wrong type, out of range, or unknown (a typo). Thrown when the object is made. */
  InvalidOption: 'WS_ERR_INVALID_OPTION',
  /** A method of the lifecycle called in a state it does not apply to (a bug of the binding). Thrown locally. */
  InvalidState: 'WS_ERR_INVALID_STATE',
  /** An argument of a method of the wrong type or out of range. Thrown locally. */
  InvalidArgument: 'WS_ERR_INVALID_ARGUMENT',
  /** The socket failed (reset, TLS alert, …). */
  Transport: 'WS_ERR_TRANSPORT',
  /** A listener of this side threw while handling an event: the connection is failed with 1011. */
  Listener: 'WS_ERR_LISTENER',
  /** A server hook (`verifyClient`, `protocols`, `httpHandler`) threw, rejected or answered something unusable: 500. */
  Hook: 'WS_ERR_HOOK',
  /** A frame or message that had started was not completed within frameTimeout and minReceiveRate: 1008. */
  TooSlow: 'WS_ERR_TOO_SLOW',
  /** The peer answered no heartbeat Ping (no Pong, no complete frame) within heartbeatTimeout: the socket is dropped (1006). */
  HeartbeatTimeout: 'WS_ERR_HEARTBEAT_TIMEOUT',
  /** The client could not open its TCP or TLS connection. */
  Connect: 'WS_ERR_CONNECT',
  /** The opening handshake did not complete within `handshakeTimeout`. */
  HandshakeTimeout: 'WS_ERR_HANDSHAKE_TIMEOUT',
  /** The peer closed the TCP connection during the opening handshake. */
  HandshakeClosed: 'WS_ERR_HANDSHAKE_CLOSED',
  /** The connection was closed or terminated before it opened. */
  Aborted: 'WS_ERR_ABORTED',
  /** The server is at maxConnections: 503 with Retry-After. */
  ConnectionLimit: 'WS_ERR_CONNECTION_LIMIT',
  /** One address is over maxConnectionsPerAddress or maxHandshakesPerAddress: 429 with Retry-After. */
  AddressLimit: 'WS_ERR_ADDRESS_LIMIT',
  /** The server's close() has begun: 503. */
  ShuttingDown: 'WS_ERR_SHUTTING_DOWN',
  /** The server is not listening (noServer, or not ready yet). */
  NotListening: 'WS_ERR_NOT_LISTENING',
} as const;
export type ConnectionErrorCode = (typeof ConnectionErrorCode)[keyof typeof ConnectionErrorCode];
