import { html, type SafeHtml, trusted } from './html.ts';

export interface ForestRow {
  label: string;
  reference: boolean;
  /** Odds ratio against the reference level (1 for the reference itself); null when unknown. */
  effect: number | null;
  ci: [number, number] | null;
  verdict: string;
}

const f = (n: number) => n.toFixed(1);

/**
 * A forest plot on a log scale: each level's odds ratio with its interval against the
 * reference (a dashed line at 1). Drawn on the server, labelled for screen readers, one
 * <title> per mark so a pointer or a reader can name it.
 */
export function forestPlot(name: string, rows: ForestRow[]): SafeHtml {
  const width = 560;
  const labelW = 170;
  const rowH = 28;
  const height = rows.length * rowH + 40;
  const values = rows
    .flatMap((r) => [r.effect, ...(r.ci ?? [])])
    .filter((x): x is number => typeof x === 'number' && x > 0 && Number.isFinite(x));
  const lo = Math.log(Math.min(0.5, ...values));
  const hi = Math.log(Math.max(2, ...values));
  const x = (v: number) => labelW + ((Math.log(v) - lo) / (hi - lo)) * (width - labelW - 20);
  const one = x(1);
  const ticks = [0.25, 0.5, 1, 2, 4].filter((t) => Math.log(t) >= lo && Math.log(t) <= hi);
  return html`<svg role="img" aria-label="Effects of ${name}" viewBox="0 0 ${width} ${height}" class="chart" xmlns="http://www.w3.org/2000/svg">
<line x1="${f(one)}" y1="10" x2="${f(one)}" y2="${height - 25}" class="ref-line"><title>No difference (odds ratio 1)</title></line>
${ticks.map((t) => html`<text x="${f(x(t))}" y="${height - 8}" class="tick" text-anchor="middle">${t}×</text>`)}
${rows.map((r, i) => {
  const y = 20 + i * rowH;
  // Long labels are cut to fit the column; the <title> keeps the whole of it.
  const full = `${r.label}${r.reference ? ' (reference)' : ''}`;
  const shown = full.length > 24 ? `${full.slice(0, 23)}…` : full;
  const label = html`<text x="0" y="${y + 4}" class="label"><title>${full}</title>${shown}</text>`;
  if (r.effect === null || !(r.effect > 0))
    return html`${label}<text x="${f(one + 6)}" y="${y + 4}" class="muted-text"><title>${r.label}: not enough data</title>not enough data</text>`;
  const ci = r.ci && r.ci[0] > 0 && Number.isFinite(r.ci[1]) ? r.ci : null;
  const text = `${r.label}: odds ratio ${r.effect.toFixed(2)}${ci ? ` (${ci[0].toFixed(2)}–${ci[1].toFixed(2)})` : ''}, ${r.verdict}`;
  return html`${label}${ci ? html`<line x1="${f(x(ci[0]))}" y1="${y}" x2="${f(x(ci[1]))}" y2="${y}" class="ci"><title>${text}</title></line>` : ''}<circle cx="${f(x(r.effect))}" cy="${y}" r="5" class="${r.reference ? 'mark ref' : 'mark'}"><title>${text}</title></circle>`;
})}
${trusted('')}</svg>`;
}

export interface HeatCell {
  impressions: number;
  clicks: number;
}

/**
 * CTR of every pair of levels of two dimensions: darker is higher, empty cells have no
 * impressions. Colour through fill-opacity (an attribute, so the CSP's style-src holds).
 */
export function heatmap(p: {
  rowName: string;
  colName: string;
  rows: { key: string; label: string }[];
  cols: { key: string; label: string }[];
  cell: (row: string, col: string) => HeatCell;
}): SafeHtml {
  const cw = 90;
  const ch = 30;
  const left = 150;
  const top = 40;
  const width = left + p.cols.length * cw + 10;
  const height = top + p.rows.length * ch + 10;
  const ctr = (c: HeatCell) => (c.impressions > 0 ? c.clicks / c.impressions : null);
  const all = p.rows.flatMap((r) => p.cols.map((c) => ctr(p.cell(r.key, c.key)) ?? 0));
  const max = Math.max(...all, 1e-9);
  const cut = (s: string) => (s.length > 14 ? `${s.slice(0, 13)}…` : s);
  return html`<svg role="img" aria-label="CTR by ${p.rowName} and ${p.colName}" viewBox="0 0 ${width} ${height}" class="chart" xmlns="http://www.w3.org/2000/svg">
${p.cols.map((c, j) => html`<text x="${left + j * cw + cw / 2}" y="${top - 10}" class="tick" text-anchor="middle"><title>${c.label}</title>${cut(c.label)}</text>`)}
${p.rows.map((r, i) => {
  const y = top + i * ch;
  return html`<text x="0" y="${y + ch / 2 + 4}" class="label"><title>${r.label}</title>${cut(r.label)}</text>${p.cols.map(
    (c, j) => {
      const cell = p.cell(r.key, c.key);
      const v = ctr(cell);
      const text = `${r.label} × ${c.label}: ${v === null ? 'no impressions' : `CTR ${(v * 100).toFixed(2)}% (${cell.clicks} clicks / ${cell.impressions} impressions)`}`;
      return html`<rect x="${left + j * cw}" y="${y}" width="${cw - 2}" height="${ch - 2}" class="cell" fill-opacity="${v === null ? 0.04 : (0.1 + 0.9 * (v / max)).toFixed(2)}"><title>${text}</title></rect><text x="${left + j * cw + cw / 2}" y="${y + ch / 2 + 4}" class="tick" text-anchor="middle">${v === null ? '—' : `${(v * 100).toFixed(1)}%`}</text>`;
    },
  )}`;
})}
</svg>`;
}

interface DayPoint {
  date: string;
  platform: string;
  impressions: number;
  clicks: number;
}

/** CTR per day, a line per platform ('' = none given), each point titled with its figures. */
export function ctrOverTime(points: DayPoint[]): SafeHtml {
  const width = 640;
  const height = 260;
  const left = 50;
  const bottom = 30;
  const dates = [...new Set(points.map((p) => p.date))].sort();
  const platforms = [...new Set(points.map((p) => p.platform))].sort().slice(0, 6);
  const ctr = (p: DayPoint) => (p.impressions > 0 ? p.clicks / p.impressions : 0);
  const max = Math.max(...points.map(ctr), 1e-6);
  const x = (d: string) =>
    left +
    (dates.length > 1
      ? (dates.indexOf(d) / (dates.length - 1)) * (width - left - 20)
      : (width - left) / 2);
  const y = (v: number) => height - bottom - (v / max) * (height - bottom - 20);
  const name = (p: string) => p || 'no platform';
  return html`<svg role="img" aria-label="CTR over time by platform" viewBox="0 0 ${width} ${height}" class="chart" xmlns="http://www.w3.org/2000/svg">
<text x="0" y="${y(max) + 4}" class="tick">${(max * 100).toFixed(1)}%</text><text x="0" y="${y(0) + 4}" class="tick">0%</text>
<text x="${left}" y="${height - 8}" class="tick">${dates[0] ?? ''}</text><text x="${width - 20}" y="${height - 8}" class="tick" text-anchor="end">${dates.at(-1) ?? ''}</text>
${platforms.map((pl, i) => {
  const mine = points.filter((p) => p.platform === pl);
  const path = mine.map((p) => `${x(p.date).toFixed(1)},${y(ctr(p)).toFixed(1)}`).join(' ');
  return html`<polyline points="${path}" class="series s${i}" fill="none"><title>${name(pl)}</title></polyline>
${mine.map((p) => html`<circle cx="${x(p.date).toFixed(1)}" cy="${y(ctr(p)).toFixed(1)}" r="3" class="point s${i}"><title>${name(pl)}, ${p.date}: CTR ${(ctr(p) * 100).toFixed(2)}% (${p.clicks} clicks / ${p.impressions} impressions)</title></circle>`)}
<text x="${left + 10 + i * 100}" y="14" class="label s${i}">${name(pl)}</text>`;
})}
</svg>`;
}
