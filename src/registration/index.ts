/**
 * The Simpatico Registration Protocol for Node (`simpatico-ws/registration`): a server that
 * challenges every new connection with a nonce, clients that answer with an Ed25519 public key and
 * a signature, and a registry that routes messages by key.
 *
 * - {@link RegistrationHub}: the server side, on a {@link WebSocketServer}.
 * - {@link MemoryBus} / {@link RedisBus}: the bus that lets many hubs (processes, machines) share one key space.
 * - {@link register} / {@link connectAndRegister}: the client side.
 * - The sans-I/O pieces underneath, for other transports: {@link RegistrationServerRole},
 *   {@link RegistrationClientRole}, and {@link ClientSession} (the client loop both clients share).
 * - Crypto: {@link nodeCrypto}, {@link webCrypto}, {@link keyPairFromSeed}.
 *
 * The demo's HTTP side (`simpatico-ws serve`) is not part of this API; it lives in ./serve.ts.
 */
export { RegistrationHub, HUB_DEFAULTS, type RegistrationHubOptions, type RegistrationHubEvents } from './hub.js';
export { MemoryBus, type Bus, type BusDeliver } from './bus.js';
export {
  RedisBus,
  type RedisBusOptions,
  type RedisBusEvents,
  type RedisClientLike,
  type RedisSubscriberLike,
} from './redis-bus.js';
export { register, connectAndRegister, Registration, type RegisterOptions, type RegistrationEvents } from './client.js';
export {
  RegistrationServerRole,
  Phase,
  SERVER_DEFAULTS,
  MIN_MESSAGE_BYTES,
  type ServerRoleOptions,
  type ServerAction,
} from './core/server-role.js';
export { RegistrationClientRole, CLIENT_ERROR, type ClientRoleOptions, type ClientEvent } from './core/client-role.js';
export {
  ClientSession,
  type ClientSessionOptions,
  type ProtocolEvent,
  type ProtocolListener,
  type SessionEvent,
  type SessionListener,
  type SessionTransport,
} from './core/client-session.js';
export { RegistrationErrorCode } from './core/codes.js';
export {
  registrationMessage,
  hostOfUrl,
  normalizeHost,
  isSmallOrderKey,
  SIGNATURE_DOMAIN,
  type Ed25519KeyPair,
  type RegistrationCrypto,
} from './core/crypto.js';
export { CLOSE, CLOSE_REASON, REPLY_ERROR, REJECT_REASON, FORWARD_OVERHEAD, type Json } from './core/messages.js';
export { MAX_DEPTH } from './core/json-scan.js';
export { encodeBase64url, decodeBase64url } from './core/base64url.js';
export { webCrypto, type WebCryptoLike, type Ed25519Subtle } from './core/webcrypto.js';
export { nodeCrypto, keyPairFromSeed } from './node-crypto.js';
