/**
 * The request a standalone server hands to its hooks and to 'connection', in the shape of
 * node:http's IncomingMessage — `method`, `url`, `headers`, `httpVersion`, `socket` — so that code
 * written for ws (`req.socket.remoteAddress`, `req.headers['sec-websocket-protocol']`) runs as it is.
 * Embedded in a node:http server, the hooks get node:http's own IncomingMessage.
 */
import type { Socket } from 'node:net';
import type { HeaderMap, RequestHead } from '../handshake/index.js';

/** What every server hook and 'connection' listener is given. */
export interface HttpRequest extends RequestHead {
  /** The peer's IP address (the socket's `remoteAddress`; behind a proxy, the proxy's). */
  remoteAddress?: string | undefined;
  /** The TCP (or TLS) socket, as on node:http's IncomingMessage. */
  socket?: Socket;
}

export class UpgradeRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: HeaderMap;
  readonly socket: Socket;
  readonly remoteAddress: string | undefined;

  constructor(head: RequestHead, socket: Socket) {
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = head.httpVersion;
    this.headers = head.headers;
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
  }

  get httpVersionMajor(): number {
    return Number(this.httpVersion.split('.')[0]);
  }

  get httpVersionMinor(): number {
    return Number(this.httpVersion.split('.')[1]);
  }

  /** node:http's older name for `socket`. */
  get connection(): Socket {
    return this.socket;
  }
}
