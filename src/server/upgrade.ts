/**
 * The server's side of the opening handshake, over any socket: read the request head (standalone
 * path), decide (RFC 6455 §4.2), answer with 101 or with a complete HTTP error response.
 *
 * The decisions themselves are the pure functions of src/handshake; this file adds what waits —
 * the handshake timeout, an asynchronous `verifyClient`, the plain HTTP handler.
 */
import type { Duplex } from 'node:stream';
import {
  RequestHeadParser,
  buildAcceptResponse,
  buildErrorResponse,
  buildHttpResponse,
  validateUpgrade,
  type HeadParserOptions,
  type RequestHead,
  type UpgradeOptions,
} from '../handshake/index.js';

/** A request as the server's hooks see it: the parsed head and the peer's address. */
export interface HttpRequest extends RequestHead {
  remoteAddress?: string | undefined;
}

/** The answer of an {@link UpgradePolicy.httpHandler} to a plain (non-upgrade) request. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What `verifyClient` answers: true to accept, false to refuse with 401, or a status of its choice. */
export type VerifyResult = boolean | { status: number; message?: string; headers?: Record<string, string> };

/** The server options that decide whether a request becomes a WebSocket. */
export interface UpgradePolicy extends HeadParserOptions {
  /** Accept upgrades only on this path (the URL without its query); others get 404. Default: any path. */
  path?: string;
  /** Subprotocols by preference, or a callback that picks one of those offered (RFC 6455 §4.2.2). */
  protocols?: UpgradeOptions['protocols'];
  /** Origins allowed to connect (browsers send one), or a callback; others get 403. Default: any. */
  allowedOrigins?: UpgradeOptions['allowedOrigins'];
  /** Last check before accepting, e.g. authentication from a cookie or header. */
  verifyClient?: (request: HttpRequest) => VerifyResult | Promise<VerifyResult>;
  /** Serves plain HTTP requests (no Upgrade header), e.g. a page; without it they get 426. */
  httpHandler?: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
}

/** How long a refused client may keep the socket after our response before it is destroyed. */
const LINGER_MS = 2_000;

/**
 * Reads a request head off a raw socket. Answers 400/431 itself; drops a client that does not
 * finish within `timeout` (a slowloris attack sends a request one byte at a time forever).
 */
export function readRequest(
  socket: Duplex,
  limits: HeadParserOptions,
  timeout: number,
  onRequest: (request: RequestHead, head: Buffer) => void,
): void {
  const parser = new RequestHeadParser({ maxHeadSize: limits.maxHeadSize, maxHeaderCount: limits.maxHeaderCount });
  const timer = setTimeout(() => socket.destroy(), timeout);
  const onClose = (): void => clearTimeout(timer);
  const onData = (chunk: Buffer): void => {
    const result = parser.push(chunk);
    if (result.state === 'incomplete') return;
    // Nothing of the handshake may outlive it: these closures hold the parser and the timer.
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    clearTimeout(timer);
    if (result.state === 'error') {
      // The head parser gives every error its status (400 or 431).
      respondAndClose(socket, result.error.status!, result.error.message);
      return;
    }
    onRequest(result.head, result.rest);
  };
  socket.on('data', onData);
  socket.on('close', onClose);
}

/**
 * Validates an upgrade request and answers it. Calls `onAccepted` with the selected subprotocol
 * right after the 101 response is written; every refusal is answered and the socket closed here.
 */
export function upgrade(
  request: HttpRequest,
  socket: Duplex,
  policy: UpgradePolicy,
  onAccepted: (protocol: string) => void,
): void {
  // A request that does not ask for an upgrade at all is plain HTTP: the page handler's, if any.
  const asksUpgrade = request.headers.upgrade !== undefined;
  if (!asksUpgrade && policy.httpHandler !== undefined) {
    serveHttp(request, socket, policy.httpHandler);
    return;
  }
  const decision = validateUpgrade(request, { protocols: policy.protocols, allowedOrigins: policy.allowedOrigins });
  if (!decision.ok) {
    writeAndClose(socket, decision.response);
    return;
  }
  // The resource is the target's path and query, also for an absolute-form target (RFC 9112 §3.2.2).
  if (policy.path !== undefined && pathOf(decision.resource) !== policy.path) {
    respondAndClose(socket, 404, `No WebSocket endpoint at this path; connect to ${policy.path}.`);
    return;
  }
  const finish = (verdict: VerifyResult): void => {
    if (socket.destroyed) return;
    if (verdict !== true) {
      const refusal = verdict === false ? { status: 401, message: 'The server refused this client.' } : verdict;
      respondAndClose(socket, refusal.status, refusal.message ?? 'The server refused this client.', refusal.headers);
      return;
    }
    socket.write(buildAcceptResponse(decision.accept, { protocol: decision.protocol }));
    onAccepted(decision.protocol ?? '');
  };
  if (policy.verifyClient === undefined) {
    finish(true);
    return;
  }
  let verdict: VerifyResult | Promise<VerifyResult>;
  try {
    verdict = policy.verifyClient(request);
  } catch {
    respondAndClose(socket, 500, 'The server failed to check this request.');
    return;
  }
  if (verdict instanceof Promise) {
    verdict.then(finish, () => respondAndClose(socket, 500, 'The server failed to check this request.'));
  } else {
    finish(verdict);
  }
}

/** Answers a request with a complete HTTP error response and closes the connection. */
export function respondAndClose(socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
  writeAndClose(socket, buildErrorResponse(status, message, headers));
}

function writeAndClose(socket: Duplex, response: Buffer): void {
  if (socket.destroyed) return;
  socket.end(response);
  // A lingering close (RFC 9112 §9.6): after our FIN, keep reading (and discarding) until the
  // client closes too, so its FIN is seen and the socket freed at once; one that does not close is
  // destroyed after LINGER_MS. The timer goes with the socket, or it would hold it that long.
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
}

function serveHttp(
  request: HttpRequest,
  socket: Duplex,
  handler: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>,
): void {
  Promise.resolve()
    .then(() => handler(request))
    .then(
      (response) => {
        // HEAD: the GET response's Content-Length without its body (RFC 9110 §9.3.2).
        const head = request.method === 'HEAD';
        writeAndClose(socket, buildHttpResponse(response.status, response.headers ?? {}, response.body ?? '', { head }));
      },
      () => respondAndClose(socket, 500, 'The server failed to answer this request.'),
    );
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

