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
