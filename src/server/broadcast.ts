/**
 * One message to many connections, framed once: the frame's bytes are built a single time and the
 * same Buffer is queued for every recipient, so a broadcast to N clients costs one encoding and
 * one allocation, not N. The slow-recipient policy lives here, in one place, for the server's
 * `broadcast` and the registration hub alike.
 */
import { Opcode, encodeFrame } from '../frames/index.js';
import { WebSocket, toBuffer, type SendData } from '../websocket.js';

/** What a broadcast does with a recipient that is not keeping up. */
export interface SlowClientPolicy {
  /** Buffered outgoing bytes above which a recipient is slow. Default 4 MiB. */
  maxBufferedAmount?: number;
  /** 'skip' it for this message (the default, as Python's websockets does), or 'close' it with 1008. */
  policy?: 'skip' | 'close';
}

export interface BroadcastOptions {
  /** Send as binary (default: strings as text, everything else as binary). */
  binary?: boolean;
  /** A connection not to send to (typically the sender). */
  except?: WebSocket;
  slowClient?: SlowClientPolicy;
}

export const DEFAULT_SLOW_CLIENT_BYTES = 4 * 1024 * 1024;
const SLOW_REASON = 'Too slow: messages were piling up';

/**
 * Sends one message to every OPEN connection of `recipients`, encoding the frame once.
 * @returns how many connections it was queued for.
 */
export function broadcast(recipients: Iterable<WebSocket>, data: SendData, options: BroadcastOptions = {}): number {
  const isBinary = options.binary ?? typeof data !== 'string';
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
  const frame = Buffer.concat(encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, payload));
  const limit = options.slowClient?.maxBufferedAmount ?? DEFAULT_SLOW_CLIENT_BYTES;
  const closeSlow = options.slowClient?.policy === 'close';
  let sent = 0;
  for (const client of recipients) {
    if (client === options.except || client.readyState !== WebSocket.OPEN) continue;
    if (client.bufferedAmount > limit) {
      if (closeSlow) client.close(1008, SLOW_REASON);
      continue;
    }
    client.sendEncoded(frame);
    sent++;
  }
  return sent;
}
