/**
 * The text form of `trace` events: one or a few lines each, prefixed with the connection number,
 * marked by direction, short enough to follow at 80 columns. (`--json` prints the events as they are.)
 */
import { type FrameEvent, type MessageEvent, type TraceEvent } from './conversation.js';
import { type Side, closeName, direction, other, plural } from './words.js';

/** Characters of text, or bytes of hex, a frame line previews. */
const TEXT_CHARS = 24;
const HEX_BYTES = 8;

/** The lines that tell `event`. */
export function traceLines(event: TraceEvent): string[] {
  switch (event.event) {
    case 'listening':
      return [event.url, `relaying every client to ${event.target}, bytes unchanged; Ctrl-C stops`];
    case 'connection':
      return [`#${event.conn} TCP connected from ${event.client}, relayed to ${event.target} (CONNECTING)`];
    case 'unreachable':
      return [`#${event.conn} cannot reach ${event.target} (${event.error}): answered the client 502 and closed it`];
    case 'request':
      return event.lines.map((line) => `#${event.conn} ${direction('client')}  ${line}`);
    case 'response':
      return [...event.lines.map((line) => `#${event.conn} ${direction('server')}  ${line}`), ...responseNotes(event)];
    case 'not-http':
      return [`#${event.conn} ${direction(event.from)}  not an HTTP head (${event.error}); relayed, not decoded`];
    case 'state': {
      const said = event.code === undefined ? '' : ` by Close ${closeText(event.code, event.reason as string)}`;
      const by = event.to === 'CLOSED' && event.by !== undefined ? `; the ${event.by} closed TCP first` : '';
      return [`#${event.conn} state ${event.from} → ${event.to}${said}: ${event.why}${by}`];
    }
    case 'close-answered':
      return [`#${event.conn} the ${event.from} answered Close ${closeText(event.code, event.reason)}: the closing handshake is complete (§5.5.1)`];
    case 'frame':
      return [frameLine(event)];
    case 'message':
      return event.frames === 1 ? [] : [messageLine(event)];
    case 'violation':
      return [
        `#${event.conn} ${direction(event.from)}  ✗ frame ${event.frame}: ${event.message} The ${other(event.from)} must fail the connection with ${event.closeCode} (${event.code}); not decoded further (§7.1.7)`,
      ];
    case 'undecoded':
      return [`#${event.conn} ${direction(event.from)}  not decoded: ${event.why}`];
    case 'tcp':
      return [tcpLine(event.conn, event.from, event.how, event.first)];
  }
}

function responseNotes(event: TraceEvent & { event: 'response' }): string[] {
  const notes: string[] = [];
  const accept = event.accept;
  if (accept !== undefined) {
    if (accept.ok) notes.push(`#${event.conn} Sec-WebSocket-Accept ✓ matches base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2)`);
    else if (accept.key === undefined) notes.push(`#${event.conn} Sec-WebSocket-Accept ✗ cannot be checked: the request had no Sec-WebSocket-Key`);
    else notes.push(`#${event.conn} Sec-WebSocket-Accept ✗ should be ${accept.expected}: the client must fail the connection (§4.1)`);
  }
  if (event.extensions.includes('permessage-deflate')) {
    notes.push(`#${event.conn} permessage-deflate was negotiated (RFC 7692): RSV1 marks compressed messages, previewed as sent, not inflated`);
  }
  return notes;
}

function closeText(code: number, reason: string): string {
  return `${code} (${closeName(code)})${reason === '' ? '' : ` ${JSON.stringify(reason)}`}`;
}

/** Text (a few characters) or hex (a few bytes) of a payload of `length` bytes, then how many more. */
function payloadPreview(hex: string, text: string | undefined, length: number): string {
  if (text !== undefined) {
    const chars = Array.from(text);
    const shown = chars.slice(0, TEXT_CHARS).join('');
    const rest = length - Buffer.byteLength(shown);
    return `${JSON.stringify(shown)}${rest > 0 ? ` … ${plural(rest, 'more byte')}` : ''}`;
  }
  const bytes = Buffer.from(hex, 'hex').subarray(0, HEX_BYTES);
  const spaced = bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ');
  const rest = length - bytes.length;
  return `${spaced}${rest > 0 ? ` … ${plural(rest, 'more byte')}` : ''}`;
}

function frameLine(e: FrameEvent): string {
  const parts = [e.type];
  if (e.fin) parts.push('FIN');
  // RSV2 and RSV3 are never set on a frame that was read: no extension claims them, so they fail it.
  if (e.rsv1) parts.push('RSV1');
  if (e.message !== undefined && !(e.fin && e.fragment === 1)) {
    parts.push(`(fragment ${e.fragment} of message ${e.message}${e.fin ? ', the last' : ''})`);
  }
  if (e.maskKey !== undefined) parts.push(`mask ${e.maskKey}`);
  let body: string;
  if (e.close !== undefined) {
    body = e.length === 0 ? 'no status code (1005)' : closeText(e.close.code, e.close.reason);
  } else if (e.length === 0) {
    body = '';
  } else {
    body = payloadPreview(e.preview, e.text, e.length);
  }
  return `#${e.conn} ${direction(e.from)}  ${parts.join(' ')}, ${plural(e.length, 'byte')}${body === '' ? '' : `: ${body}`}`;
}

function messageLine(e: MessageEvent): string {
  const compressed = e.compressed ? ', compressed' : '';
  return `#${e.conn} ${direction(e.from)}  message ${e.index} reassembled: ${e.type}${compressed}, ${plural(e.length, 'byte')} in ${e.frames} fragments: ${payloadPreview(e.preview, e.text, e.length)}`;
}

function tcpLine(conn: number, from: Side, how: 'fin' | 'reset', first: boolean): string {
  if (how === 'reset') return `#${conn} TCP: the ${from}'s side was reset or broke${first ? ' first' : ''}`;
  if (!first) return `#${conn} TCP: the ${from} closed its side too (FIN)`;
  return from === 'server'
    ? `#${conn} TCP: the server closed its side first (FIN), as RFC 6455 §7.1.1 advises`
    : `#${conn} TCP: the client closed its side first (FIN); §7.1.1 has the server close first, so that the server holds TIME_WAIT`;
}
