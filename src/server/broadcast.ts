/**
 * One message to many connections, framed once: the frame's bytes are built a single time and the
 * same Buffer is queued for every recipient, so a broadcast to N clients costs one encoding and
 * one allocation, not N. With permessage-deflate the message is compressed once for all the
 * recipients that share compression parameters without context takeover (RFC 7692 §7.1.1); only
 * a recipient with context takeover compresses its own copy. The slow-recipient policy lives here,
 * in one place, for the server's `broadcast` and the registration hub alike.
 */
import { Opcode, encodeFrame } from '../frames/index.js';
import { WebSocket, toBuffer, type SendData } from '../websocket.js';

/** What a broadcast does with recipients that are not keeping up. */
export interface SlowClientPolicy {
  /** Buffered outgoing bytes above which a recipient is slow. Default 1 MiB. */
  maxBufferedAmount?: number;
  /** 'skip' it for this message (the default, as Python's websockets does), or 'close' it: its backlog is dropped and it is closed with 1008. */
  policy?: 'skip' | 'close';
  /**
   * Buffered outgoing bytes of all the recipients of one broadcast together, above which the
   * slowest are shed (backlog dropped, closed with 1013 "try again later") until the rest fit.
   * Default 64 MiB. Counted as queued, so a frame shared by N recipients counts N times.
   */
  maxTotalBufferedAmount?: number;
}

export interface BroadcastOptions {
  /** Send as binary (default: strings as text, everything else as binary). */
  binary?: boolean;
  /** A connection not to send to (typically the sender). */
  except?: WebSocket;
  slowClient?: SlowClientPolicy;
}

export const DEFAULT_SLOW_CLIENT_BYTES = 1024 * 1024;
export const DEFAULT_BROADCAST_BUDGET = 64 * 1024 * 1024;
const SLOW_REASON = 'too slow: messages were piling up';
const BUDGET_REASON = 'try again later: the server is over its outgoing budget';

/**
 * Sends one message to every OPEN connection of `recipients`, encoding the frame once.
 * @returns how many connections it was queued for.
 */
export function broadcast(recipients: Iterable<WebSocket>, data: SendData, options: BroadcastOptions = {}): number {
  const isBinary = options.binary ?? typeof data !== 'string';
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
  let plain: Buffer | undefined;
  const compressed = new Map<string, Buffer>();
  const limit = options.slowClient?.maxBufferedAmount ?? DEFAULT_SLOW_CLIENT_BYTES;
  const budget = options.slowClient?.maxTotalBufferedAmount ?? DEFAULT_BROADCAST_BUDGET;
  const closeSlow = options.slowClient?.policy === 'close';
  const sent: WebSocket[] = [];
  let total = 0;
  for (const client of recipients) {
    if (client === options.except || client.readyState !== WebSocket.OPEN) continue;
    if (client.bufferedAmount > limit) {
      if (closeSlow) client.shed(1008, SLOW_REASON);
      continue;
    }
    const key = client.shareKey;
    if (key === undefined) {
      // Context takeover: its compressed bytes depend on what it sent before.
      client.send(payload, { binary: isBinary });
    } else if (key === null) {
      client.sendEncoded((plain ??= Buffer.concat(encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, payload))));
    } else {
      let frame = compressed.get(key);
      if (frame === undefined) compressed.set(key, (frame = client.encodeMessage(payload, isBinary)));
      client.sendEncoded(frame);
    }
    sent.push(client);
    total += client.bufferedAmount;
  }
  if (total > budget) {
    // Over the budget: shed the slowest first, until what the rest hold fits.
    sent.sort((a, b) => b.bufferedAmount - a.bufferedAmount);
    for (let i = 0; i < sent.length && total > budget; i++) {
      total -= sent[i].bufferedAmount;
      sent[i].shed(1013, BUDGET_REASON);
    }
  }
  return sent.length;
}
