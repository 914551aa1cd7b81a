/**
 * Sec-WebSocket-Extensions (RFC 6455 §9.1): the list of extensions a client offers and a server
 * accepts, each with parameters. permessage-deflate (RFC 7692) is the one that matters today.
 *
 *   Sec-WebSocket-Extensions = extension-list
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-token = registered-token                  ; a token
 *   extension-param = token [ "=" (token | quoted-string) ]
 *       ; a quoted-string value, once unescaped, MUST itself be a token
 *
 * Optional whitespace is allowed around `,`, `;` and `=` (the RFC's ABNF uses implied linear
 * whitespace, RFC 2616 §2.1). An offer may repeat a name with other parameters: the server picks.
 *
 * This file knows the grammar only. What the parameters mean, and whether a repeated or unknown
 * one makes an offer unusable, belongs to each extension: RFC 7692 §7 has the server *decline*
 * such a permessage-deflate offer and go on to the next one, not refuse the handshake. So the
 * parameters are kept as written — an ordered list, repetitions included — and only a header that
 * breaks the grammar is an error.
 */
import { WebSocketError } from '../errors.js';
import { isOws, isTchar, isToken } from './tokens.js';

/** One parameter as written: its name, and its value (unquoted) or `true` when it had none. */
export type ExtensionParam = readonly [name: string, value: string | true];

/** One extension in a list: its name and its parameters in order, repetitions included. */
export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A character-level reader over one header value. */
class Reader {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }
  peek(): string {
    return this.text.charAt(this.position);
  }
  skipOws(): void {
    while (!this.done && isOws(this.text.charCodeAt(this.position))) this.position++;
  }
  token(): string {
    const start = this.position;
    while (!this.done && isTchar(this.text.charCodeAt(this.position))) this.position++;
    return this.text.slice(start, this.position);
  }
  /**
   * quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4). Returns the
   * unescaped content, or undefined if the string is malformed or unterminated.
   */
  quoted(): string | undefined {
    this.position++; // the opening DQUOTE
    let out = '';
    while (!this.done) {
      const code = this.text.charCodeAt(this.position++);
      if (code === DQUOTE) return out;
      if (code === BACKSLASH) {
        if (this.done) return undefined;
        const escaped = this.text.charCodeAt(this.position++);
        if (escaped !== 0x09 && (escaped < 0x20 || escaped === 0x7f || escaped > 0xff)) return undefined;
        out += String.fromCharCode(escaped);
      } else if (code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff)) {
        out += String.fromCharCode(code); // qdtext: the field-value characters except DQUOTE and "\"
      } else {
        return undefined;
      }
    }
    return undefined;
  }
}

function invalid(message: string): WebSocketError {
  return new WebSocketError('WS_ERR_HANDSHAKE_EXTENSIONS', `invalid Sec-WebSocket-Extensions: ${message}`, {
    status: 400,
    side: 'remote',
  });
}

/**
 * Parse a Sec-WebSocket-Extensions value (RFC 6455 §9.1) into offers, in order. Empty list
 * elements are skipped (RFC 9110 §5.6.1). A value that breaks the grammar is a `WebSocketError`
 * (WS_ERR_HANDSHAKE_EXTENSIONS, status 400) — returned, not thrown. A parameter given twice is
 * not a grammar error: both are kept, in order, for the extension's negotiator to judge.
 */
export function parseExtensions(value: string): ExtensionOffer[] | WebSocketError {
  const reader = new Reader(value);
  const list: ExtensionOffer[] = [];
  for (;;) {
    reader.skipOws();
    if (reader.done) return list;
    if (reader.peek() === ',') {
      reader.position++; // an empty element: ignored
      continue;
    }
    const name = reader.token();
    if (name === '') return invalid(`expected an extension name at offset ${reader.position}`);
    const params: ExtensionParam[] = [];
    reader.skipOws();
    while (reader.peek() === ';') {
      reader.position++;
      reader.skipOws();
      const param = reader.token();
      if (param === '') return invalid(`expected a parameter name at offset ${reader.position}`);
      reader.skipOws();
      let paramValue: string | true = true;
      if (reader.peek() === '=') {
        reader.position++;
        reader.skipOws();
        const raw = reader.peek() === '"' ? reader.quoted() : reader.token();
        if (raw === undefined || !isToken(raw)) {
          return invalid(`parameter ${param} of ${name} needs a token value`);
        }
        paramValue = raw;
        reader.skipOws();
      }
      params.push([param, paramValue]);
    }
    if (!reader.done && reader.peek() !== ',') {
      return invalid(`unexpected character ${JSON.stringify(reader.peek())} at offset ${reader.position}`);
    }
    list.push({ name, params });
  }
}

/**
 * Format a list of extensions for a Sec-WebSocket-Extensions header, e.g.
 * `permessage-deflate; client_max_window_bits=10, x-other`. Names and values must be tokens
 * (RFC 6455 §9.1); anything else throws a `WebSocketError` (side 'local', WS_ERR_INVALID_HEADER),
 * since it can only be a bug in the caller.
 */
export function formatExtensions(list: readonly ExtensionOffer[]): string {
  return list
    .map(({ name, params }) => {
      if (!isToken(name)) throw localInvalid(`extension name ${JSON.stringify(name)} is not a token`);
      let out = name;
      for (const [param, paramValue] of params) {
        if (!isToken(param)) throw localInvalid(`parameter name ${JSON.stringify(param)} is not a token`);
        if (paramValue === true) {
          out += `; ${param}`;
        } else if (isToken(paramValue)) {
          out += `; ${param}=${paramValue}`;
        } else {
          throw localInvalid(`value of ${param} must be a token, got ${JSON.stringify(paramValue)}`);
        }
      }
      return out;
    })
    .join(', ');
}

function localInvalid(message: string): WebSocketError {
  return new WebSocketError('WS_ERR_INVALID_HEADER', `Sec-WebSocket-Extensions: ${message}`, { side: 'local' });
}
