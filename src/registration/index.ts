/**
 * The Simpatico Registration Protocol for Node (`simpatico-ws/registration`): a server that
 * challenges every new connection with a nonce, clients that answer with an Ed25519 public key and
 * a signature, and a registry that routes messages by key.
 *
 * - {@link RegistrationHub}: the server side, on a {@link WebSocketServer}.
 * - {@link register} / {@link connectAndRegister}: the client side.
 * - The sans-I/O roles underneath, for other transports: {@link RegistrationServerRole}, {@link RegistrationClientRole}.
 * - Crypto: {@link nodeCrypto}, {@link webCrypto}, {@link keyPairFromSeed}.
 */
export { RegistrationHub, type RegistrationHubOptions, type RegistrationHubEvents } from './hub.js';
export { register, connectAndRegister, Registration, type RegisterOptions, type RegistrationEvents } from './client.js';
export {
  RegistrationServerRole,
  SERVER_DEFAULTS,
  MIN_MESSAGE_BYTES,
  type ServerRoleOptions,
  type ServerAction,
} from './core/server-role.js';
export { RegistrationClientRole, CLIENT_ERROR, type ClientRoleOptions, type ClientEvent } from './core/client-role.js';
export {
  registrationMessage,
  hostOfUrl,
  normalizeHost,
  isSmallOrderKey,
  SIGNATURE_DOMAIN,
  type Ed25519KeyPair,
  type RegistrationCrypto,
} from './core/crypto.js';
export { CLOSE, CLOSE_REASON, REPLY_ERROR, REJECT_REASON, type Json } from './core/messages.js';
export { encodeBase64url, decodeBase64url } from './core/base64url.js';
export { webCrypto } from './core/webcrypto.js';
export { nodeCrypto, keyPairFromSeed } from './node-crypto.js';
export { demoHttpHandler, loadWebFiles } from './static.js';
