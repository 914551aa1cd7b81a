// Summaries of per-round figures: median with min–max, and number formatting for the tables.

/**
 * @param {number[]} values one figure per round
 * @returns {{ median: number, min: number, max: number, rounds: number[] }}
 */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, rounds: values };
}

/**
 * Compact, human-readable numbers: 3 significant digits, k/M suffixes from 10,000 up.
 * @param {number} x
 */
export function fmt(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e7) return `${(x / 1e6).toFixed(a >= 1e8 ? 0 : 1)}M`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e5) return `${(x / 1e3).toFixed(0)}k`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** @param {{ median: number, min: number, max: number } | undefined} s */
export function fmtSummary(s) {
  if (!s || !Number.isFinite(s.median)) return '–';
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

/** @param {number} r */
export function fmtRatio(r) {
  return Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×` : '–';
}
