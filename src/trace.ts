/**
 * The `trace` option of servers and clients: the same view `simpatico-ws trace` gives of a relayed
 * connection, of this program's own connections — the heads, every frame both ways (FIN, opcode,
 * mask key, length, a preview), messages reassembled, the closing handshake and its states.
 *
 * It watches copies of the bytes as they are read and written (src/learn/conversation.ts), so it
 * never changes the conversation; unused, it costs one check of a shared setting per read and per
 * write, and nothing per connection.
 */
import type { Socket } from 'node:net';
import { Conversation, type TraceEvent } from './learn/conversation.js';
import { traceLines } from './learn/trace-text.js';

export type { TraceEvent } from './learn/conversation.js';

/** `true`: lines of text on stderr, as `simpatico-ws trace` prints them; a function: the events themselves. */
export type TraceOption = boolean | ((event: TraceEvent) => void);

/** The sink the drivers of one server or client share, or undefined when not tracing. */
export type Tracer = (event: TraceEvent) => void;

export function tracerOf(option: TraceOption | undefined): Tracer | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return traceTo((line) => process.stderr.write(`${line}\n`));
  return option;
}

/** A tracer that writes each event's lines of text (the commands' `--trace`). */
export function traceTo(write: (line: string) => void): Tracer {
  return (event) => {
    for (const line of traceLines(event)) write(line);
  };
}

let count = 0;

/** One traced connection: which side we are, and the watcher of its bytes. */
export class Watch {
  private readonly conversation: Conversation;
  private readonly us: 'client' | 'server';

  constructor(role: 'client' | 'server', socket: Socket | undefined, tracer: Tracer) {
    const conn = ++count;
    this.us = role;
    this.conversation = new Conversation(conn, tracer);
    const peer = socket?.remoteAddress === undefined ? 'the peer' : `${socket.remoteAddress}:${socket.remotePort}`;
    tracer({ event: 'connection', conn, client: role === 'server' ? peer : 'this client', target: role === 'server' ? 'this server' : peer });
  }

  /** Bytes read from the peer (a copy is watched: the receiver unmasks the chunk in place). */
  read(chunk: Buffer): void {
    if (this.us === 'server') this.conversation.fromClient(Buffer.from(chunk));
    else this.conversation.fromServer(Buffer.from(chunk));
  }

  /** Bytes written to the peer. */
  wrote(chunk: Buffer): void {
    if (this.us === 'server') this.conversation.fromServer(Buffer.from(chunk));
    else this.conversation.fromClient(Buffer.from(chunk));
  }

  /** A side ended its half of TCP. */
  ended(byUs: boolean): void {
    this.conversation.tcpEnded(byUs ? this.us : this.us === 'server' ? 'client' : 'server', 'fin');
  }

  closed(): void {
    this.conversation.closed();
  }
}
