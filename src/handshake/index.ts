/**
 * The WebSocket opening handshake (RFC 6455 §4), both sides, without I/O.
 *
 * Read in this order: `tokens` (the HTTP grammar), `head-parser` (bytes → request or response
 * head), `accept` (the key and its proof), `extensions` (RFC 6455 §9.1), `permessage-deflate`
 * (negotiating RFC 7692), `server` (validating an upgrade request), `responses` (the bytes a server
 * answers), `client` (the request and the check of the answer).
 */
export { GUID, acceptKey, generateKey, isValidKey } from './accept.js';
export {
  RequestHeadParser,
  ResponseHeadParser,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADER_COUNT,
  type HeaderMap,
  type RequestHead,
  type ResponseHead,
  type HeadParserOptions,
  type HeadResult,
} from './head-parser.js';
export { parseExtensions, formatExtensions, type ExtensionOffer, type ExtensionParam } from './extensions.js';
export {
  PERMESSAGE_DEFLATE,
  deflateServerPolicy,
  deflateClientPolicy,
  answerDeflateOffer,
  negotiateDeflate,
  deflateOffer,
  acceptDeflateAnswer,
  type DeflateParameters,
  type DeflateServerOptions,
  type DeflateServerPolicy,
  type DeflateClientOptions,
  type DeflateClientPolicy,
  type DeflateAgreement,
  type DeflateOfferAnswer,
} from './permessage-deflate.js';
export { parseTokenList, listHasToken, isToken } from './tokens.js';
export { validateUpgrade, type RequestLike, type UpgradeOptions, type UpgradeDecision } from './server.js';
export { buildAcceptResponse, buildErrorResponse, buildHttpResponse, type HeaderInput } from './responses.js';
export {
  buildClientRequest,
  validateServerResponse,
  HandshakeResponseError,
  type ClientRequestOptions,
  type ClientRequest,
  type ServerResponseCheck,
} from './client.js';
