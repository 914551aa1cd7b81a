/**
 * simpatico-ws: a WebSocket implementation for Node.js with zero runtime dependencies.
 *
 * - {@link WebSocketServer}: standalone on `net`/`tls`, or embedded in a `node:http` server.
 * - {@link WebSocket}: one connection, either role; `new WebSocket(url)` (or {@link connect}) is the client.
 * - {@link createWebSocketStream}: a connection as a Duplex stream.
 * - `simpatico-ws/frames` and `simpatico-ws/handshake`: the pure protocol modules underneath.
 *
 * The default export is the `WebSocket` class with ws's statics (`WebSocket.Server`, …), so that
 * `import WebSocket from 'simpatico-ws'` reads as `import WebSocket from 'ws'` does.
 */
import { WebSocket } from './websocket.js';
import { WebSocketServer } from './server/server.js';
import { createWebSocketStream } from './stream.js';

WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.createWebSocketStream = createWebSocketStream;

export default WebSocket;
export {
  WebSocket,
  type ConnectionOptions,
  type WebSocketEvents,
  type SendData,
  type SendOptions,
  type SendCallback,
  type BinaryType,
  type UpgradeResponse,
} from './websocket.js';
export {
  WebSocketServer,
  /** ws's other name for WebSocketServer (also `WebSocket.Server`). */
  WebSocketServer as Server,
  type ServerOptions,
  type ServerEvents,
  type HttpRequest,
  type HttpResponse,
  type VerifyResult,
  type VerifyClient,
  type VerifyInfo,
} from './server/server.js';
export { connect, type ClientOptions } from './client/connect.js';
export { createWebSocketStream } from './stream.js';
export { MessageEvent, CloseEvent, ErrorEvent } from './event-target.js';
export { WebSocketError, type ErrorCode, type ErrorSide, type ErrorDetails } from './errors.js';
export type { TraceEvent, TraceOption } from './trace.js';
export type { SlowClientPolicy } from './server/broadcast.js';
export type { ServerDeflateOptions, ClientDeflateOptions, CompressionOptions } from './server/compression.js';
export { ReadyState } from './connection/connection.js';
export { CloseCode } from './frames/index.js';
