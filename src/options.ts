/**
 * Options are checked when the object that takes them is made, never later: a wrong type, a value
 * out of range or an unknown name (a typo) throws a {@link WebSocketError} with code
 * `WS_ERR_INVALID_OPTION` at once, with a message that names the option, shows the value with its
 * type, and says what is accepted. A server that starts is a server whose options all make sense.
 *
 * Environment-neutral (no Node imports): the registration roles use it in the browser too.
 */
import { WebSocketError } from './errors.js';

/** One option's rule: what it accepts, in words for the error message, and the check itself. */
export interface OptionRule {
  /** Completes "must be …", e.g. `a whole number of bytes from 1 to 2^53 - 1`. */
  readonly accepts: string;
  readonly check: (value: unknown) => boolean;
}

const MAX = Number.MAX_SAFE_INTEGER;
const bound = (n: number): string => (n === MAX ? '2^53 - 1' : n === 2 ** 31 - 1 ? '2^31 - 1' : String(n));

/** The rules options are made of. */
export const rule = {
  /** A whole number of bytes in [min, max]. */
  bytes(min = 0, max = MAX): OptionRule {
    return {
      accepts: `a whole number of bytes from ${bound(min)} to ${bound(max)}`,
      check: (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max,
    };
  },
  /** A duration in milliseconds in [min, max]; fractions are fine. `max` defaults to what setTimeout can wait. */
  milliseconds(min = 0, max = 2 ** 31 - 1): OptionRule {
    return {
      accepts: `a number of milliseconds from ${bound(min)} to ${bound(max)}`,
      check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max,
    };
  },
  /** A whole number in [min, max]. */
  integer(min: number, max = MAX): OptionRule {
    return {
      accepts: `a whole number from ${bound(min)} to ${bound(max)}`,
      check: (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max,
    };
  },
  /** A finite number in (0, max] (a rate, a ratio). */
  positive(max = MAX): OptionRule {
    return { accepts: `a number above 0 and at most ${bound(max)}`, check: (v) => typeof v === 'number' && v > 0 && v <= max };
  },
  boolean: { accepts: 'true or false', check: (v) => typeof v === 'boolean' } as OptionRule,
  function: { accepts: 'a function', check: (v) => typeof v === 'function' } as OptionRule,
  string: { accepts: 'a string', check: (v) => typeof v === 'string' } as OptionRule,
  /** A plain object (e.g. TLS options, headers). */
  object: {
    accepts: 'an object',
    check: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  } as OptionRule,
  /** An array of strings. */
  strings: {
    accepts: 'an array of strings',
    check: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  } as OptionRule,
  /** One of a few literal values. */
  oneOf(...values: readonly unknown[]): OptionRule {
    return { accepts: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, check: (v) => values.includes(v) };
  },
  /** Either of two rules. */
  either(a: OptionRule, b: OptionRule): OptionRule {
    return { accepts: `${a.accepts}, or ${b.accepts}`, check: (v) => a.check(v) || b.check(v) };
  },
  /** An object with each of `names` as a function (an interface the caller implements); `examples` names some. */
  methods(names: readonly string[], examples: string): OptionRule {
    return {
      accepts: `an object with ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} functions (${examples})`,
      check: (v) => typeof v === 'object' && v !== null && names.every((f) => typeof (v as Record<string, unknown>)[f] === 'function'),
    };
  },
  /** Anything at all (checked elsewhere, e.g. by Node's own tls module). */
  any: { accepts: 'anything', check: () => true } as OptionRule,
} as const;

/** `"1048576" (a string)`, `1.5 (a number)`, `null`, `[1, 2] (an array)`: a value as the message shows it. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (a string)`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${String(value)} (a ${typeof value})`;
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}

export function invalidOption(message: string): WebSocketError {
  return new WebSocketError('WS_ERR_INVALID_OPTION', message, { side: 'local' });
}

/** Edit distance, to suggest the option a typo meant (small strings only). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/**
 * Checks `options` against `rules` and throws the first mistake as `WS_ERR_INVALID_OPTION`.
 * An option set to `undefined` counts as absent.
 *
 * @param where who takes the options, for the message: `new WebSocketServer()`, `connect()`.
 * @param foreign names other libraries (ws) use that mean something else here, with what to use
 *   instead: passing one is an error whose message is that advice, never silently ignored.
 */
export function checkOptions(
  where: string,
  options: unknown,
  rules: Readonly<Record<string, OptionRule>>,
  foreign: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(`${where}: options must be an object, got ${describeValue(options)}.`);
  }
  const known = Object.keys(rules);
  for (const name of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[name];
    if (Object.hasOwn(rules, name)) {
      if (value === undefined || rules[name].check(value)) continue;
      throw invalidOption(`${where}: option ${name} must be ${rules[name].accepts}; got ${describeValue(value)}.`);
    }
    if (value === undefined) continue;
    if (Object.hasOwn(foreign, name)) throw invalidOption(`${where}: option ${name} — ${foreign[name]}`);
    const guess = closest(name, known);
    throw invalidOption(
      `${where}: unknown option ${JSON.stringify(name)}${guess === undefined ? '' : `; did you mean ${JSON.stringify(guess)}?`} ` +
        `Known options: ${known.join(', ')}.`,
    );
  }
}
