/** The stable error codes of the Simpatico Registration Protocol's clients, one per rule. */
export const RegistrationErrorCode = {
  /** The server refused every attempt (`accepted: false, retries: 0`). */
  Rejected: 'WS_ERR_REGISTRATION_REJECTED',
  /** The connection closed before the server accepted the key. */
  Closed: 'WS_ERR_REGISTRATION_CLOSED',
  /** The server did not accept the key in time. */
  Timeout: 'WS_ERR_REGISTRATION_TIMEOUT',
  /** `registeredSend` before the server accepted this client. Thrown locally. */
  NotRegistered: 'WS_ERR_NOT_REGISTERED',
  /** The browser cannot make an Ed25519 key (no WebCrypto Ed25519, or not a secure context). */
  NoEd25519: 'WS_ERR_NO_ED25519',
  /** The browser's WebSocket failed (browsers tell scripts no more than that). */
  Connection: 'WS_ERR_CONNECTION',
  /** An invalid option or argument. Thrown locally. */
  InvalidArgument: 'WS_ERR_INVALID_ARGUMENT',
} as const;
export type RegistrationErrorCode = (typeof RegistrationErrorCode)[keyof typeof RegistrationErrorCode];
