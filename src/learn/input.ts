/**
 * What the learner types: hex on the command line or on stdin. Input that cannot be read is an
 * `InputError`, which the command prints as one line and exits 2 for (never a stack trace).
 */

/** Input or usage the command cannot work with: one line on stderr, exit status 2. */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * The bytes spelled by `text`: pairs of hex digits, with any whitespace between them (so `81 05`,
 * `8105` and several arguments joined by spaces all work), and an optional `0x` before a group,
 * as copied from C or a debugger.
 */
export function parseHex(text: string): Buffer {
  let digits = '';
  for (const group of text.split(/\s+/)) {
    const body = /^0x/i.test(group) ? group.slice(2) : group;
    const bad = /[^0-9a-f]/i.exec(body);
    if (bad !== null) {
      const where = digits.length + bad.index;
      throw new InputError(`not hex: ${JSON.stringify(bad[0])} in ${JSON.stringify(group)} (after ${where} hex digits); give bytes as pairs of 0-9 a-f, e.g. 81 05 48 65 6c 6c 6f`);
    }
    digits += body;
  }
  if (digits.length === 0) throw new InputError('no bytes given: pass frames as hex, e.g. 81 05 48 65 6c 6c 6f, or - to read hex from stdin');
  if (digits.length % 2 !== 0) {
    throw new InputError(`odd number of hex digits (${digits.length}): every byte is two digits, e.g. 05 rather than 5`);
  }
  return Buffer.from(digits, 'hex');
}

/** Everything a stream yields, as text (stdin, or a test's stand-in for it). */
export async function readText(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
