/**
 * The small grammar of HTTP field values that the handshake needs (RFC 9110 §5.5, §5.6).
 *
 * Every rule here is a pure function over strings or bytes, so the head parser, the validator
 * and the response builders all agree on what a token or a field value is.
 */

/**
 * `tchar` (RFC 9110 §5.6.2): the characters allowed in a token — field names, methods,
 * Upgrade and Connection options, subprotocol names, extension names and parameters.
 *
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *
 * A 128-entry table indexed by char code: one array read per character.
 */
const TCHAR: readonly boolean[] = (() => {
  const table = new Array<boolean>(128).fill(false);
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = true;
  for (let code = 0x30; code <= 0x39; code++) table[code] = true; // DIGIT
  for (let code = 0x41; code <= 0x5a; code++) table[code] = true; // ALPHA upper
  for (let code = 0x61; code <= 0x7a; code++) table[code] = true; // ALPHA lower
  return table;
})();

/** `token = 1*tchar` (RFC 9110 §5.6.2). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (TCHAR[value.charCodeAt(i)] !== true) return false;
  }
  return true;
}

/** One character of a token, for the character-level parsers (extensions). */
export function isTchar(code: number): boolean {
  return TCHAR[code] === true;
}

/**
 * Is this character allowed inside a field value (RFC 9110 §5.5)?
 *
 *   field-value = *field-content
 *   field-vchar = VCHAR / obs-text          ; 0x21-0x7E, 0x80-0xFF
 *   plus SP and HTAB between visible characters
 *
 * Everything else — NUL, CR, LF, the other controls and DEL — is refused. CR and LF are what a
 * header-injection attack needs; NUL is what confuses C-string based intermediaries (RFC 9110
 * §5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous").
 */
export function isFieldValueChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/**
 * A whole field value we are about to *send*: only field-value characters, and no code point
 * above 0xFF, since header bytes are written as latin1 and such a character would be mangled.
 */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (!isFieldValueChar(value.charCodeAt(i))) return false;
  }
  return true;
}

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3). */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Strip optional whitespace from both ends (RFC 9110 §5.6.3, §5.5: OWS is not part of the value). */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** A header as it comes from our parser (a string) or from node:http (which may hold string[]). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.join(', ');
  return value;
}

/**
 * One header from a header map, as a string. Only own properties count: with a plain object (as
 * node:http's may be), `headers.constructor` would otherwise be Object's constructor.
 */
export function getHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  return Object.hasOwn(headers, name) ? headerValue(headers[name]) : undefined;
}

/**
 * Split a comma-separated list (RFC 9110 §5.6.1, `#element`): trim OWS around each element
 * and skip empty elements, which the list rule tells recipients to ignore ("a, , b" is "a, b").
 *
 * The elements are returned as written; whether each one is a token is the caller's question,
 * because the answer (ignore or reject) differs from header to header.
 */
export function parseTokenList(value: string | string[] | undefined): string[] {
  const joined = headerValue(value);
  if (joined === undefined) return [];
  const out: string[] = [];
  for (const part of joined.split(',')) {
    const element = trimOws(part);
    if (element.length > 0) out.push(element);
  }
  return out;
}

/** Does the list hold `token`, compared ASCII case-insensitively (RFC 9110 §7.6.1, §7.8)? */
export function listHasToken(value: string | string[] | undefined, token: string): boolean {
  const wanted = token.toLowerCase();
  return parseTokenList(value).some((element) => element.toLowerCase() === wanted);
}
