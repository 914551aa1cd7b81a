/**
 * simpatico-ws: a WebSocket implementation for Node.js with zero runtime dependencies.
 *
 * - {@link WebSocketServer}: standalone on `net`/`tls`, or embedded in a `node:http` server.
 * - {@link connect}: the client.
 * - {@link WebSocket}: one connection, either role.
 * - `simpatico-ws/frames` and `simpatico-ws/handshake`: the pure protocol modules underneath.
 */
export { WebSocket, type ConnectionOptions, type WebSocketEvents, type SendData } from './websocket.js';
export {
  WebSocketServer,
  type ServerOptions,
  type ServerEvents,
  type HttpRequest,
  type HttpResponse,
  type VerifyResult,
} from './server/server.js';
export { connect, type ClientOptions } from './client/connect.js';
export { WebSocketError } from './errors.js';
export { ReadyState } from './connection/connection.js';
export { CloseCode } from './frames/index.js';
