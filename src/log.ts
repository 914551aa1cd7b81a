/**
 * What a server refused, and why, one line per event — for the commands (`echo`, `serve`), on stderr.
 *
 * An operator must be able to see an attack; an attack must not be able to flood the log. So lines
 * pass through a token bucket (by default 20 a second, bursts of 40): past it they are counted, not
 * written, and one line says how many were suppressed once lines flow again (or a second later).
 * Text by default; `json` writes one JSON object per line for tools.
 */
import type { WebSocketError } from './errors.js';
import type { Socket } from 'node:net';
import type { WebSocketServer } from './server/server.js';
import type { WebSocket } from './websocket.js';

export type LogFormat = 'text' | 'json';

export interface LogOptions {
  format: LogFormat;
  /** Where lines go (stderr in the commands). */
  write: (line: string) => void;
  /** Lines per second, sustained (default 20); bursts of twice that. */
  rate?: number;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** The fields of one line. `event` first; the rest as they come. */
export type LogFields = { event: string } & Record<string, string | number | boolean | undefined>;

export class Log {
  private readonly format: LogFormat;
  private readonly write: (line: string) => void;
  private readonly rate: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: LogOptions) {
    this.format = options.format;
    this.write = options.write;
    this.rate = options.rate ?? 20;
    this.now = options.now ?? Date.now;
    this.tokens = 2 * this.rate;
    this.refilledAt = this.now();
  }

  /** Writes one line, unless the rate is exceeded (then it is counted). */
  line(fields: LogFields): void {
    const now = this.now();
    this.tokens = Math.min(2 * this.rate, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.suppressed++;
      // Said once things calm down, or a second from now at the latest.
      this.timer ??= setTimeout(() => this.flushSuppressed(), 1000).unref();
      return;
    }
    this.tokens -= 1;
    this.flushSuppressed();
    this.emit(fields);
  }

  /** Writes the count of suppressed lines, if any. */
  flushSuppressed(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.emit({ event: 'suppressed', count, why: 'more lines than the log rate allows' });
  }

  private emit(fields: LogFields): void {
    if (this.format === 'json') {
      this.write(JSON.stringify({ time: new Date(this.now()).toISOString(), ...fields }));
      return;
    }
    let text = `simpatico-ws: ${fields.event}`;
    for (const [name, value] of Object.entries(fields)) {
      if (name === 'event' || value === undefined) continue;
      text += name === 'message' ? ` — ${String(value)}` : ` ${name}=${String(value)}`;
    }
    this.write(text);
  }
}

/**
 * Logs what `server` refuses and fails: every refused handshake (with its status: a bad request, a
 * limit, a timeout), every connection failed for its peer's fault (with the close code), and
 * listener errors such as EMFILE (an accept failure).
 */
export function logServer(server: WebSocketServer, log: Log): void {
  server.on('refused', (error: WebSocketError, address: string | undefined) =>
    log.line({ event: 'refused', address, status: error.status, code: error.code, message: error.message }),
  );
  server.on('connectionError', (error: WebSocketError, ws: WebSocket) =>
    log.line({ event: 'closed', address: (ws.driver?.socket as Socket | undefined)?.remoteAddress, close: error.closeCode, code: error.code, message: error.message }),
  );
  server.on('error', (error: Error) =>
    log.line({ event: 'error', code: (error as { code?: string }).code, message: error.message }),
  );
}
