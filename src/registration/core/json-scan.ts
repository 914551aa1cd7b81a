/**
 * A validating JSON scanner for the messages clients send (RFC 8259), in one linear pass and
 * without building any value.
 *
 * Why not `JSON.parse`: the server forwards a sender's `data` without needing to know what is in
 * it. Parsing it into objects and serialising it again costs CPU that grows with its nesting (16 to
 * 30 times that of flat JSON of the same size, measured) and changes its bytes: `1e20` comes back
 * as `100000000000000000000`, so 64,960 bytes of `[1e20,…]` left as 285,843 and overflowed the
 * recipient. The scanner instead checks the whole text against the grammar, refuses nesting deeper
 * than {@link MAX_DEPTH} the moment it sees the bracket that is one too many (nothing after it is
 * read), and reports where each top-level member's value starts and ends, so the server can slice
 * the sender's own `data` text and forward exactly those bytes.
 *
 * The text is the string the connection layer decoded from a text frame, so it is valid UTF-8
 * already (RFC 6455 §8.1); the scanner works on its UTF-16 code units.
 */

/**
 * The deepest nesting of arrays and objects a client message may have, the message's own object
 * counting as 1: `{"data":[[1]]}` is 3 deep. The protocol needs 2; 32 leaves applications room and
 * keeps the cost of a message linear in its size.
 */
export const MAX_DEPTH = 32;

/** Where a top-level member's value lies in the text: `text.slice(start, end)` is its JSON. */
export interface Span {
  readonly start: number;
  readonly end: number;
  /** The value is a string (the span includes its quotes). */
  readonly isString: boolean;
}

/** The members of a client message the protocol reads; any other member is validated and skipped. */
export type FieldName = 'publicKey' | 'response' | 'to' | 'data';
const FIELDS: ReadonlySet<string> = new Set<FieldName>(['publicKey', 'response', 'to', 'data']);

export type ScanResult =
  /** A JSON object; `fields` has the spans of the protocol's members that it has. */
  | { kind: 'object'; fields: Partial<Record<FieldName, Span>> }
  /** Valid JSON, but not an object. */
  | { kind: 'not-object' }
  /** A protocol member appears twice (`JSON.parse` would silently keep the last; we refuse). */
  | { kind: 'duplicate' }
  /** Nesting deeper than {@link MAX_DEPTH}. */
  | { kind: 'too-deep' }
  /** Not JSON. */
  | { kind: 'syntax' };

// What a regular expression checks faster than a loop can: the contents of a string — runs of
// anything but a quote, a backslash or a control character, and escapes (RFC 8259 §7) — and a
// number (§6). Each alternative starts with a different character, so neither ever backtracks.
const STRING_BODY = /(?:[^"\\\u0000-\u001f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Thrown inside the scanner only, to unwind the (at most {@link MAX_DEPTH} deep) recursion. */
class Stop {
  constructor(readonly kind: 'syntax' | 'too-deep' | 'duplicate') {}
}

class Scanner {
  i = 0;
  constructor(readonly text: string) {}

  /** RFC 8259 §2: space, tab, line feed, carriage return. */
  space(): void {
    const text = this.text;
    let i = this.i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }

  expect(code: number): void {
    if (this.text.charCodeAt(this.i) !== code) throw new Stop('syntax');
    this.i++;
  }

  value(depth: number): void {
    const c = this.text.charCodeAt(this.i);
    if (c === OPEN_BRACE) this.object(depth + 1, undefined);
    else if (c === OPEN_BRACKET) this.array(depth + 1);
    else if (c === QUOTE) this.string();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else this.number();
  }

  /** Called on `{` at nesting `depth`; returns just past the matching `}`. */
  object(depth: number, onMember: ((key: Span, value: Span) => void) | undefined): void {
    if (depth > MAX_DEPTH) throw new Stop('too-deep');
    this.i++;
    this.space();
    if (this.text.charCodeAt(this.i) === CLOSE_BRACE) {
      this.i++;
      return;
    }
    for (;;) {
      const keyStart = this.i;
      if (this.text.charCodeAt(keyStart) !== QUOTE) throw new Stop('syntax');
      this.string();
      const keyEnd = this.i;
      this.space();
      this.expect(COLON);
      this.space();
      const start = this.i;
      this.value(depth);
      // Spans only for the message's own members: nested objects cost no allocation.
      if (onMember !== undefined) {
        onMember({ start: keyStart, end: keyEnd, isString: true }, { start, end: this.i, isString: this.text.charCodeAt(start) === QUOTE });
      }
      this.space();
      const c = this.text.charCodeAt(this.i++);
      if (c === CLOSE_BRACE) return;
      if (c !== COMMA) throw new Stop('syntax');
      this.space();
    }
  }

  /** Called on `[` at nesting `depth`; returns just past the matching `]`. */
  array(depth: number): void {
    if (depth > MAX_DEPTH) throw new Stop('too-deep');
    this.i++;
    this.space();
    if (this.text.charCodeAt(this.i) === CLOSE_BRACKET) {
      this.i++;
      return;
    }
    for (;;) {
      this.value(depth);
      this.space();
      const c = this.text.charCodeAt(this.i++);
      if (c === CLOSE_BRACKET) return;
      if (c !== COMMA) throw new Stop('syntax');
      this.space();
    }
  }

  /** Called on `"`; returns just past the closing quote. */
  string(): void {
    const text = this.text;
    // The common string has no escape: a loop over its code units finds its end without the
    // RegExp's setup (a key or a `to` of 43 characters is most of what a routed message holds).
    let i = this.i + 1;
    let c = text.charCodeAt(i);
    while (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) c = text.charCodeAt(++i);
    if (c === QUOTE) {
      this.i = i + 1;
      return;
    }
    // An escape (or no string at all): the RegExp checks the rest.
    STRING_BODY.lastIndex = i;
    STRING_BODY.test(text);
    const end = STRING_BODY.lastIndex;
    // Anything else here — a control character, a bad escape, the end of the text — is no string.
    if (this.text.charCodeAt(end) !== QUOTE) throw new Stop('syntax');
    this.i = end + 1;
  }

  number(): void {
    NUMBER.lastIndex = this.i;
    if (!NUMBER.test(this.text)) throw new Stop('syntax');
    this.i = NUMBER.lastIndex;
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.i)) throw new Stop('syntax');
    this.i += word.length;
  }
}

/**
 * Checks that `text` is one JSON value no deeper than {@link MAX_DEPTH} and, when it is an object,
 * where the values of its `publicKey`, `response`, `to` and `data` members lie.
 */
export function scanMessage(text: string): ScanResult {
  const s = new Scanner(text);
  const fields: Partial<Record<FieldName, Span>> = {};
  try {
    s.space();
    const isObject = text.charCodeAt(s.i) === OPEN_BRACE;
    if (isObject) {
      s.object(1, (key, span) => {
        const name = fieldName(text, key);
        if (name === undefined) return;
        if (Object.hasOwn(fields, name)) throw new Stop('duplicate');
        fields[name as FieldName] = span;
      });
    } else {
      s.value(0);
    }
    s.space();
    if (s.i !== text.length) return { kind: 'syntax' };
    return isObject ? { kind: 'object', fields } : { kind: 'not-object' };
  } catch (error) {
    // Only the scanner's own Stop is thrown in here: decodeString gets only strings already checked.
    return { kind: (error as Stop).kind };
  }
}

/**
 * The protocol member a (scanned) key names, if any, without making a string of it in the common
 * case: a key without an escape is compared in place. A key is decoded like any string:
 * "d\u0061ta" is "data" to JSON.parse, so it is to us.
 */
function fieldName(text: string, key: Span): FieldName | undefined {
  const at = key.start + 1;
  const length = key.end - 1 - at;
  // Only within the key (indexOf would read on through the rest of the text, once per key).
  let escaped = false;
  for (let i = at; i < key.end - 1 && !escaped; i++) escaped = text.charCodeAt(i) === BACKSLASH;
  if (!escaped) {
    const name = length === 4 ? 'data' : length === 2 ? 'to' : length === 9 ? 'publicKey' : length === 8 ? 'response' : undefined;
    return name !== undefined && text.startsWith(name, at) ? name : undefined;
  }
  const name = decodeString(text, key);
  return FIELDS.has(name) ? (name as FieldName) : undefined;
}

/** The string a span of a (scanned, so valid) string value stands for. */
export function decodeString(text: string, span: Span): string {
  const raw = text.slice(span.start + 1, span.end - 1);
  // Only a string with an escape needs decoding; JSON.parse does that exactly as a peer's would.
  return raw.includes('\\') ? (JSON.parse(text.slice(span.start, span.end)) as string) : raw;
}
