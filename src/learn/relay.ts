/**
 * `TraceRelay`: the sockets of `simpatico-ws trace`. It listens on a loopback port, opens one
 * connection to the target for each client (TLS on the target side for wss://), and relays bytes
 * both ways EXACTLY — the same bytes, in the same order, with TCP half-closes passed on — while a
 * `Conversation` watches a copy of each chunk and reports what it means.
 *
 * Memory stays bounded whatever passes: a side that cannot keep up pauses the other (the same
 * backpressure as a pipe), and the conversation keeps only heads and previews.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { buildClientRequest, buildErrorResponse } from '../handshake/index.js';
import { checkOptions, rule } from '../options.js';
import { Conversation, type TraceEvent } from './conversation.js';

export interface TraceRelayOptions {
  /** The ws:// or wss:// URL to relay to. */
  target: string;
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Certificate authorities (PEM) to trust for a wss:// target, besides the system's. */
  ca?: string | Buffer;
}

/** High-water marks the relay reached: what it held at most, in bytes, at any moment. */
export interface TraceStats {
  connections: number;
  /** Most bytes the conversations held at once (heads in progress, previews). */
  maxHeldBytes: number;
  /** Most bytes queued in one socket's write buffer (bounded by backpressure). */
  maxQueuedBytes: number;
}

const RULES = {
  target: rule.string,
  port: rule.integer(0, 65535),
  host: rule.string,
  ca: rule.any,
};

interface Pair {
  client: net.Socket;
  target: net.Socket;
  conversation: Conversation;
}

export class TraceRelay {
  readonly ready: Promise<void>;
  readonly stats: TraceStats = { connections: 0, maxHeldBytes: 0, maxQueuedBytes: 0 };
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private readonly targetHost: string;
  private readonly targetPort: number;
  private readonly secure: boolean;
  private readonly servername: string;
  private readonly path: string;
  private readonly options: TraceRelayOptions;

  /**
   * @param emit receives every event, in order, as it happens.
   * @throws WebSocketError `WS_ERR_INVALID_OPTION` for a bad option, `WS_ERR_INVALID_URL` for a
   *   target that is not a ws:// or wss:// URL.
   */
  constructor(
    options: TraceRelayOptions,
    private readonly emit: (event: TraceEvent) => void,
  ) {
    checkOptions('new TraceRelay()', options, RULES);
    this.options = options;
    // The handshake module's URL rules (RFC 6455 §3): the same target a client could connect to.
    const request = buildClientRequest(options.target);
    this.targetHost = request.host;
    this.targetPort = request.port;
    this.secure = request.secure;
    this.servername = request.servername;
    this.path = request.path;
    // allowHalfOpen: a FIN from one side is passed on as a FIN, not turned into a full close, so
    // that the trace sees (and the peers keep) who closed first (RFC 6455 §7.1.1).
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    this.ready = new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The URL to point a client at: the relay's address, with the target's path and query. */
  get url(): string {
    const { address, family, port } = this.server.address() as net.AddressInfo;
    return `ws://${family === 'IPv6' ? `[${address}]` : address}:${port}${this.path}`;
  }

  /** Stops listening and drops every relayed connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const { client, target } of this.pairs) {
      client.destroy();
      target.destroy();
    }
    await closed;
  }

  private accept(client: net.Socket): void {
    const conn = ++this.stats.connections;
    // tls.connect takes allowHalfOpen as net.connect does (Node's docs), though @types/node omits it.
    const secure: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      host: this.targetHost,
      port: this.targetPort,
      servername: this.servername === '' ? undefined : this.servername,
      ca: this.options.ca,
      allowHalfOpen: true,
    };
    const target = this.secure
      ? tls.connect(secure)
      : net.connect({ host: this.targetHost, port: this.targetPort, allowHalfOpen: true });
    const conversation = new Conversation(conn, this.emit);
    const pair: Pair = { client, target, conversation };
    this.pairs.add(pair);
    let connected = false;
    client.on('error', () => {
      if (connected) conversation.tcpEnded('client', 'reset');
      target.destroy();
    });
    target.on('error', (error) => {
      if (connected) {
        conversation.tcpEnded('server', 'reset');
        client.destroy();
        return;
      }
      this.unreachable(conn, client, error);
    });
    target.once(this.secure ? 'secureConnect' : 'connect', () => {
      connected = true;
      this.emit({ event: 'connection', conn, client: `${client.remoteAddress}:${client.remotePort}`, target: this.options.target });
      this.relay(pair);
      client.resume();
    });
    let open = 2;
    const gone = (): void => {
      if (--open > 0) return;
      this.pairs.delete(pair);
      if (connected) conversation.closed();
    };
    client.once('close', gone);
    target.once('close', gone);
  }

  /** Wires one direction each way: copy to the conversation, then the same bytes on to the other side. */
  private relay({ client, target, conversation }: Pair): void {
    const pipe = (from: net.Socket, to: net.Socket, side: 'client' | 'server'): void => {
      from.on('data', (chunk: Buffer) => {
        // The conversation unmasks payloads in place: it gets a copy, the peer gets the original.
        if (side === 'client') conversation.fromClient(Buffer.from(chunk));
        else conversation.fromServer(Buffer.from(chunk));
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
        this.measure(conversation, to);
      });
      from.on('end', () => {
        conversation.tcpEnded(side, 'fin');
        to.end();
      });
    };
    pipe(client, target, 'client');
    pipe(target, client, 'server');
  }

  private measure(conversation: Conversation, to: net.Socket): void {
    const stats = this.stats;
    stats.maxQueuedBytes = Math.max(stats.maxQueuedBytes, to.writableLength);
    let held = 0;
    for (const pair of this.pairs) held += pair.conversation.heldBytes;
    stats.maxHeldBytes = Math.max(stats.maxHeldBytes, held, conversation.heldBytes);
  }

  /** The target refused or is down: one event, and a 502 to the client (RFC 9110 §15.6.3). */
  private unreachable(conn: number, client: net.Socket, error: Error): void {
    const message = `simpatico-ws trace: cannot reach ${this.options.target}: ${error.message}`;
    this.emit({ event: 'unreachable', conn, target: this.options.target, error: error.message });
    // Read (and drop) what the client sent, so that closing does not reset the connection before
    // the answer is read.
    client.resume();
    client.end(buildErrorResponse(502, message));
  }
}
