/**
 * The stable error codes of the opening handshake (RFC 6455 §4), one per rule. Request errors
 * carry the HTTP status the server answers with; response errors (the client's checks) carry none.
 */
export const HandshakeErrorCode = {
  /** RFC 9112 §2.2: a line that does not end in CRLF, a bare CR, obs-fold, a bad field name or value. 400. */
  InvalidHeader: 'WS_ERR_INVALID_HEADER',
  /** RFC 9112 §3: the request line is not `METHOD target HTTP/x.y`. 400. */
  InvalidRequestLine: 'WS_ERR_INVALID_REQUEST_LINE',
  /** RFC 9112 §4: the status line is not `HTTP/x.y code reason`. */
  InvalidStatusLine: 'WS_ERR_INVALID_STATUS_LINE',
  /** The head is larger than `maxHeadSize`. 431 (RFC 6585 §5). */
  HeadTooLarge: 'WS_ERR_HEAD_TOO_LARGE',
  /** More header fields than `maxHeaderCount`. 431. */
  TooManyHeaders: 'WS_ERR_TOO_MANY_HEADERS',
  /** `push` after the head was complete: a local bug. */
  ParserDone: 'WS_ERR_PARSER_DONE',
  /** §4.2.1 item 1: not GET. 405. */
  Method: 'WS_ERR_HANDSHAKE_METHOD',
  /** §4.2.1 item 1: not HTTP/1.1. 505. */
  HttpVersion: 'WS_ERR_HANDSHAKE_HTTP_VERSION',
  /** RFC 9112 §3.2: a target that is not a path (or absolute URI), or has a fragment. 400. */
  Target: 'WS_ERR_HANDSHAKE_TARGET',
  /** §4.2.1 item 2: no Host, or an invalid one. 400. */
  Host: 'WS_ERR_HANDSHAKE_HOST',
  /** A request body on an upgrade. 400. */
  Body: 'WS_ERR_HANDSHAKE_BODY',
  /** §4.2.1 item 3 / §4.1: Upgrade does not name websocket. 400. */
  Upgrade: 'WS_ERR_HANDSHAKE_UPGRADE',
  /** A plain HTTP request to a WebSocket-only resource. 426 (RFC 9110 §15.5.22). */
  NotUpgrade: 'WS_ERR_HANDSHAKE_NOT_UPGRADE',
  /** §4.2.1 item 4 / §4.1: Connection does not list Upgrade. 400. */
  Connection: 'WS_ERR_HANDSHAKE_CONNECTION',
  /** §4.2.1 item 5: Sec-WebSocket-Key missing or not the base64 of 16 bytes. 400. */
  Key: 'WS_ERR_HANDSHAKE_KEY',
  /** §4.2.1 item 6, §4.4: not version 13. 426. */
  WsVersion: 'WS_ERR_HANDSHAKE_WS_VERSION',
  /** §4.2.2 step 4, §10.2: an Origin the server does not allow. 403. */
  Origin: 'WS_ERR_HANDSHAKE_ORIGIN',
  /** §4.1 item 10 / §4.1 item 6: a subprotocol list or choice that breaks the rules. 400 on the server. */
  Protocol: 'WS_ERR_HANDSHAKE_PROTOCOL',
  /** §9.1: a malformed Sec-WebSocket-Extensions, or (client) an extension we did not offer. 400 on the server. */
  Extensions: 'WS_ERR_HANDSHAKE_EXTENSIONS',
  /** §4.1 item 4: Sec-WebSocket-Accept does not match our key. */
  Accept: 'WS_ERR_HANDSHAKE_ACCEPT',
  /** §4.1 item 1: the server answered another status than 101. */
  Status: 'WS_ERR_HANDSHAKE_STATUS',
  /** The server's policy refused the upgrade (verifyClient, a limit, shutting down): the status it chose. */
  Refused: 'WS_ERR_HANDSHAKE_REFUSED',
  /** A server hook (`allowedOrigins`, `protocols`) threw or answered something unusable. 500, side local. */
  Callback: 'WS_ERR_HANDSHAKE_CALLBACK',
  /** A URL that is not ws:, wss:, http: or https:, or has a fragment or credentials. Thrown locally. */
  InvalidUrl: 'WS_ERR_INVALID_URL',
  /** A status that this kind of response cannot carry. Thrown locally. */
  InvalidStatus: 'WS_ERR_INVALID_STATUS',
  /** An invalid option. Thrown locally. */
  InvalidOption: 'WS_ERR_INVALID_OPTION',
} as const;
export type HandshakeErrorCode = (typeof HandshakeErrorCode)[keyof typeof HandshakeErrorCode];
