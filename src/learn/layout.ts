/**
 * Lines of output that stay readable at 80 columns: a label column, a text column, and long text
 * wrapped under its own column instead of running off the terminal.
 */

export const WIDTH = 80;

/** Collects output lines. */
export class Lines {
  readonly lines: string[] = [];

  /** `text` at `indent`, wrapped; continuation lines start at `hang` (default: two more than indent). */
  text(indent: number, text: string, hang = indent + 2): this {
    this.lines.push(...wrap(' '.repeat(indent) + text, hang));
    return this;
  }

  /** A label padded to `width` at `indent`, then `text`; wrapped lines continue under the text. */
  row(indent: number, label: string, width: number, text: string): this {
    const head = ' '.repeat(indent) + label.padEnd(width - 1) + ' ';
    this.lines.push(...wrap(head + text, head.length));
    return this;
  }

  blank(): this {
    this.lines.push('');
    return this;
  }
}

/** Breaks `line` at spaces so that no piece is wider than WIDTH (a single longer word stays whole). */
export function wrap(line: string, hang: number): string[] {
  // "RFC 6455" is one word: never end a line with "RFC".
  return breakLine(line.replace(/RFC (?=\d)/g, 'RFC\u0000'), hang).map((piece) => piece.replace(/\u0000/g, ' '));
}

function breakLine(line: string, hang: number): string[] {
  const out: string[] = [];
  let rest = line;
  const pad = ' '.repeat(hang);
  while (Array.from(rest).length > WIDTH) {
    const chars = Array.from(rest);
    // The last space at or before the width, past the indentation (never an empty first piece).
    const indentEnd = rest.length - rest.trimStart().length;
    let cut = chars.slice(0, WIDTH + 1).join('').lastIndexOf(' ');
    if (cut <= indentEnd) cut = rest.indexOf(' ', indentEnd);
    if (cut === -1 || cut <= indentEnd) break;
    out.push(rest.slice(0, cut).trimEnd());
    rest = pad + rest.slice(cut + 1).trimStart();
  }
  out.push(rest);
  return out;
}
