// One SVG chart per table of bench/results/latest.json, without dependencies: for each figure of a
// table, one bar per comparison (simpatico-ws against ws, ws pure JS, raw net; or the table's own
// pairs), drawn from the 1× line on a log scale, so that a bar to the right means simpatico-ws did
// better and one to the left worse, whichever way the figure is better. Targets of the issues are
// marked on the bars they concern. The codec's tables come as markdown (its output is stored as
// text): their ratio columns ("vs …", and "… / XOR", the fraction of the physical limit) are read
// back from it.
//
//   node bench/lib/charts.js     (redraws every chart and BENCHMARKS.md from the committed latest.json)
//
// writeBenchmarksMd (report.js) draws them on every run of a part, so `npm run bench` keeps them in
// step with the figures; they are pure functions of latest.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHARTS_DIR = path.join(ROOT, 'bench/results/charts');

const SUBJECT = 'simpatico';
const REFERENCES = ['ws', 'ws-js', 'raw'];
/** Bars are drawn to scale up to 2^CLIP times better or worse. */
const CLIP = 6;
const COLOURS = ['#2f6db3', '#e08a1e', '#3a9a4a', '#b03a48', '#7b52ab', '#5f7f8f'];

/**
 * @typedef {{ label: string, better: 'higher' | 'lower', bars: (number | null)[], goals: (number | null)[] }} Row
 *   one figure: per series, how many times better simpatico-ws did (null: not measured), and the
 *   target on that scale, if any
 * @typedef {{ name: string, title: string, note: string, series: string[], rows: Row[] }} Chart
 */

/** @param {string} s */
const xml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * How many times better the subject did than the reference: their ratio for a higher-is-better
 * figure, its inverse for a lower-is-better one. NaN when either is missing.
 * @param {any} f @param {string} subject @param {string} ref
 */
function advantage(f, subject, ref) {
  const a = f.values?.[subject]?.median;
  const b = f.values?.[ref]?.median;
  if (!(a > 0 && b > 0)) return NaN;
  return f.better === 'lower' ? b / a : a / b;
}

/**
 * The chart of a table of figures.
 * @param {string} name @param {string} title @param {any} section {figures, servers, pairs?}
 * @param {any[]} targets report.js TARGETS
 * @param {(f: any) => boolean} [keep]
 * @returns {Chart | null}
 */
function figureChart(name, title, section, targets, keep = () => true) {
  const cols = (section.servers ?? []).filter((/** @type {any} */ s) => s.available);
  const has = (/** @type {string} */ id) => cols.some((/** @type {any} */ c) => c.id === id);
  const label = (/** @type {string} */ id) => cols.find((/** @type {any} */ c) => c.id === id)?.label ?? id;
  /** @type {{ subject: string, ref: string }[]} */
  const own = Array.isArray(section.pairs) ? section.pairs : null;
  const pairs = (own ?? REFERENCES.map((ref) => ({ subject: SUBJECT, ref }))).filter(
    (/** @type {any} */ p) => has(p.subject) && has(p.ref),
  );
  if (pairs.length === 0) return null;
  const series = pairs.map((p) => (own ? `${label(p.subject)} ÷ ${label(p.ref)}` : `vs ${label(p.ref)}`));
  /** @type {Row[]} */
  const rows = [];
  for (const f of section.figures ?? []) {
    if ((f.better !== 'higher' && f.better !== 'lower') || !keep(f)) continue;
    const bars = pairs.map((p) => advantage(f, p.subject, p.ref));
    if (!bars.some(Number.isFinite)) continue;
    const goals = pairs.map((p) => {
      const t = targets.find(
        (x) => x.figure === f.id && (x.subject ?? SUBJECT) === p.subject && x.against === p.ref && (x.kind === 'ratio-min' || x.kind === 'ratio-max'),
      );
      // On the chart's scale a target is a minimum advantage: ≥ g on a higher-is-better figure, ≤ g on a lower one.
      return t ? (f.better === 'lower' ? 1 / t.goal : t.goal) : null;
    });
    rows.push({ label: `${f.label} (${f.unit})`, better: f.better, bars: bars.map((b) => (Number.isFinite(b) ? b : null)), goals });
  }
  return rows.length ? { name, title, note: '', series, rows } : null;
}

/**
 * Ratio columns of the markdown tables in a part's stored output: a column whose header starts
 * with "vs " or whose every cell is a ratio ("2.5×"). Row labels are the text cells before the
 * first number. Every ratio there is higher-is-better (throughput, or a fraction of a limit).
 * @param {string} name @param {string} title @param {string} output
 * @returns {Chart[]}
 */
export function markdownCharts(name, title, output) {
  /** @type {Chart[]} */
  const charts = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || !/^\|[\s:|-]+\|$/.test(lines[i + 1] ?? '')) continue;
    const cells = (/** @type {string} */ l) => l.slice(1, l.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    const head = cells(lines[i]);
    const body = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].startsWith('|'); j++) body.push(cells(lines[j]));
    i = j;
    const ratioCols = head
      .map((h, c) => c)
      .filter((c) => c > 0 && (head[c].startsWith('vs ') || (body.length > 0 && body.every((r) => /^[\d.]+×$/.test(r[c] ?? '')))));
    if (ratioCols.length === 0) continue;
    /** @type {Row[]} */
    const rows = body.map((r) => {
      // The first plain number ("159", "9.93M"); "16 B" is a size, part of the label.
      const firstNumber = r.findIndex((c, k) => k > 0 && /^[\d.]+[kM]?$/.test(c));
      const text = r.slice(0, firstNumber > 0 ? firstNumber : 1).join(' ');
      return {
        label: text,
        better: /** @type {const} */ ('higher'),
        bars: ratioCols.map((c) => {
          const x = Number.parseFloat(r[c] ?? '');
          return Number.isFinite(x) && x > 0 ? x : null;
        }),
        goals: ratioCols.map(() => null),
      };
    });
    const n = charts.length;
    charts.push({
      name: n === 0 ? name : `${name}-${n + 1}`,
      title: n === 0 ? title : `${title} (${n + 1})`,
      note: '',
      series: ratioCols.map((c) => head[c]),
      rows: rows.filter((r) => r.bars.some((b) => b !== null)),
    });
  }
  return charts.filter((c) => c.rows.length > 0);
}

/** Every chart latest.json has data for, in BENCHMARKS.md's order. @param {any} all @param {any[]} targets */
export function chartsOf(all, targets = []) {
  /** @type {(Chart | null)[]} */
  const charts = [];
  if (all.e2e) {
    // MB/s rows have the msg/s rows' ratios (the same rounds): one of each is enough.
    charts.push(figureChart('e2e', 'End to end: simpatico-ws against ws, ws pure JS and raw TCP (the limit)', all.e2e, targets, (f) => !f.id.startsWith('mbps-')));
  }
  if (all.scale) {
    charts.push(figureChart('scale', 'Memory per idle connection: against ws, ws pure JS and raw TCP (the limit)', all.scale, targets));
    if (all.scale.variants) charts.push(figureChart('scale-variants', 'Idle connections with compression and heartbeat', all.scale.variants, targets));
  }
  if (all.compression) charts.push(figureChart('compression', 'Compressed echo (permessage-deflate): our modes against ws', all.compression, targets));
  if (all.broadcast) charts.push(figureChart('broadcast', 'Broadcast to clients that never read: against ws', all.broadcast, targets));
  if (all.registration) charts.push(figureChart('registration', 'Registration path: RegistrationHub against the same routing on ws', all.registration, targets));
  if (all.codec?.output) charts.push(...markdownCharts('codec', 'Codec: against ws (pure JS and native)', all.codec.output));
  return /** @type {Chart[]} */ (charts.filter((c) => c !== null));
}

/** A ratio as the tables print it, with k and M past 10,000 and two digits below 0.01. @param {number} v */
function times(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M×`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k×`;
  if (v >= 10) return `${v.toFixed(0)}×`;
  return `${v >= 0.01 ? v.toFixed(2) : v.toPrecision(2)}×`;
}

/**
 * The SVG of a chart: a row per figure, a bar per series from 1× on a log2 scale, the value in a
 * column on the right, a target as a dark tick on its bar.
 * @param {Chart} chart
 */
export function renderSvg(chart) {
  const W = 900;
  const labelW = 360;
  const valueW = 64;
  const x0 = labelW + 10;
  const x1 = W - valueW - 10;
  const bar = 11;
  const gap = 3;
  const rowGap = 9;
  const top = 58 + Math.ceil(chart.series.length / 3) * 16;
  const all = chart.rows.flatMap((r) => [...r.bars, ...r.goals]).filter((v) => v !== null);
  // At most 64× either way is drawn to scale (a ratio of memory near zero can be millions); a bar
  // beyond that ends in an arrow, and its value column says how far it goes.
  const lo = Math.max(-CLIP, Math.min(-1, Math.floor(Math.log2(Math.min(...all)))));
  const hi = Math.min(CLIP, Math.max(1, Math.ceil(Math.log2(Math.max(...all)))));
  const x = (/** @type {number} */ v) => x0 + ((Math.min(hi, Math.max(lo, Math.log2(v))) - lo) / (hi - lo)) * (x1 - x0);
  const rowH = chart.series.length * (bar + gap) - gap + rowGap;
  const plotH = chart.rows.length * rowH;
  const H = top + plotH + 48;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${xml(chart.title)}</text>`,
    `<text x="10" y="38" fill="#444">Times better than the reference (log scale; right of 1× favours simpatico-ws; for a lower-is-better figure, the reference's value over ours)</text>`,
  ];
  chart.series.forEach((s, i) => {
    const lx = 10 + (i % 3) * 290;
    const ly = 52 + Math.floor(i / 3) * 16;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>`, `<text x="${lx + 15}" y="${ly}">${xml(s)}</text>`);
  });
  const step = 1;
  for (let p = lo; p <= hi; p += step) {
    const gx = x(2 ** p).toFixed(1);
    const name = p >= 0 ? `${2 ** p}×` : `1/${2 ** -p}`;
    out.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + plotH}" stroke="${p === 0 ? '#000' : '#ddd'}" stroke-width="${p === 0 ? 1.2 : 1}"/>`,
      `<text x="${gx}" y="${top + plotH + 14}" text-anchor="middle" fill="#444">${name}</text>`,
    );
  }
  chart.rows.forEach((row, r) => {
    const y = top + r * rowH;
    const full = `${row.label}, ${row.better} is better`;
    const shown = full.length > 64 ? `${full.slice(0, 63)}…` : full;
    const mid = y + (rowH - rowGap) / 2 + 4;
    out.push(`<text x="${labelW}" y="${mid.toFixed(1)}" text-anchor="end"><title>${xml(full)}</title>${xml(shown)}</text>`);
    row.bars.forEach((v, i) => {
      const by = y + i * (bar + gap);
      if (v === null) {
        out.push(`<text x="${x1 + 8}" y="${by + bar - 2}" fill="#888">–</text>`);
        return;
      }
      const a = x(Math.min(v, 1));
      const b = x(Math.max(v, 1));
      const colour = COLOURS[i % COLOURS.length];
      out.push(
        `<rect x="${a.toFixed(1)}" y="${by}" width="${Math.max(1, b - a).toFixed(1)}" height="${bar}" fill="${colour}"><title>${xml(`${chart.series[i]}: ${times(v)} better`)}</title></rect>`,
        `<text x="${x1 + 8}" y="${by + bar - 2}" fill="${colour}">${times(v)}</text>`,
      );
      if (Math.log2(v) > hi) out.push(`<path d="M${x1} ${by - 2} l7 ${bar / 2 + 2} l-7 ${bar / 2 + 2} z" fill="${colour}"/>`);
      if (Math.log2(v) < lo) out.push(`<path d="M${x0} ${by - 2} l-7 ${bar / 2 + 2} l7 ${bar / 2 + 2} z" fill="${colour}"/>`);
      const goal = row.goals[i];
      if (goal !== null) {
        const gx = x(goal).toFixed(1);
        out.push(`<line x1="${gx}" y1="${by - 2}" x2="${gx}" y2="${by + bar + 2}" stroke="#000" stroke-width="2.5"><title>target: ${goal.toFixed(2)}× better</title></line>`);
      }
    });
  });
  const targets = chart.rows.some((r) => r.goals.some((g) => g !== null));
  out.push(`<text x="10" y="${H - 12}" fill="#444">${targets ? 'Black tick: the issue’s target for that bar. ' : ''}Medians of rounds measured in one run; generated from bench/results/latest.json by bench/lib/charts.js.</text>`, '</svg>', '');
  return out.join('\n');
}

/**
 * Draws every chart into bench/results/charts/ (stale ones removed) and returns, per chart name,
 * its path from the repository's root.
 * @param {any} all latest.json @param {any[]} targets
 * @returns {Record<string, string>}
 */
export function writeCharts(all, targets = []) {
  fs.mkdirSync(CHARTS_DIR, { recursive: true });
  const charts = chartsOf(all, targets);
  const names = new Set(charts.map((c) => `${c.name}.svg`));
  for (const f of fs.readdirSync(CHARTS_DIR)) if (f.endsWith('.svg') && !names.has(f)) fs.rmSync(path.join(CHARTS_DIR, f));
  /** @type {Record<string, string>} */
  const paths = {};
  for (const c of charts) {
    fs.writeFileSync(path.join(CHARTS_DIR, `${c.name}.svg`), renderSvg(c));
    paths[c.name] = path.relative(ROOT, path.join(CHARTS_DIR, `${c.name}.svg`)).split(path.sep).join('/');
  }
  return paths;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // BENCHMARKS.md embeds the charts, so it is rewritten too (from the same file, its notes kept).
  // Not awaited at the top level: report.js imports this module, which must have finished evaluating.
  import('./report.js').then(({ RESULTS, writeBenchmarksMd }) => {
    writeBenchmarksMd(JSON.parse(fs.readFileSync(RESULTS, 'utf8')));
    console.error(`# drew ${fs.readdirSync(CHARTS_DIR).filter((f) => f.endsWith('.svg')).length} charts in ${path.relative(ROOT, CHARTS_DIR)}/ and rewrote BENCHMARKS.md`);
  });
}
