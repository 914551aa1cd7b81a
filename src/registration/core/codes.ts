/**
 * The stable error codes of the Simpatico Registration Protocol, one per rule. Every one is thrown
 * or reported as a `WebSocketError` with its `side` stated: `remote` when the server (or the
 * connection) decided, `local` when this side's own call, options or crypto were wrong.
 */
export const RegistrationErrorCode = {
  /** The server refused every attempt (`accepted: false, retries: 0`). Remote, closeCode 1008. */
  Rejected: 'WS_ERR_REGISTRATION_REJECTED',
  /** The connection closed before the server accepted the key. Remote, closeCode: the close code. */
  Closed: 'WS_ERR_REGISTRATION_CLOSED',
  /** The server did not accept the key within the client's own `timeout`. Local. */
  Timeout: 'WS_ERR_REGISTRATION_TIMEOUT',
  /** `registeredSend` before the server accepted this client. Thrown locally. */
  NotRegistered: 'WS_ERR_NOT_REGISTERED',
  /** This side cannot make an Ed25519 key (no WebCrypto Ed25519, or not a secure context). Local. */
  NoEd25519: 'WS_ERR_NO_ED25519',
  /** This side's crypto failed to sign an answer (e.g. a key pair made by another implementation). Local. */
  SignFailed: 'WS_ERR_REGISTRATION_SIGN_FAILED',
  /** The browser's WebSocket failed (browsers tell scripts no more than that). Remote. */
  Connection: 'WS_ERR_CONNECTION',
  /** An invalid argument (not an option), e.g. `register()` on a socket without a URL. Thrown locally. */
  InvalidArgument: 'WS_ERR_INVALID_ARGUMENT',
  /** An option of the hub, the server role or `register()` has the wrong type, range or name. Thrown locally. */
  InvalidOption: 'WS_ERR_INVALID_OPTION',
} as const;
export type RegistrationErrorCode = (typeof RegistrationErrorCode)[keyof typeof RegistrationErrorCode];
