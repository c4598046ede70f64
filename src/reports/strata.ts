/**
 * Dates as strata of the report's model, and what they cost.
 *
 * A date's effect (a holiday, a platform's budget pacing) is estimated from the contrast
 * between days, and that contrast is either within variants (a variant seen on several days)
 * or between them (variants seen on different days). Only the part between variants competes
 * with the variants' own deviations for the residual df that measure overdispersion: when every
 * variant runs on the same days in the same proportions the date columns are orthogonal to the
 * variant totals and cost nothing; when variants run on different days a date column can fit
 * the variants of that day and costs a whole df. So each date column is charged the share of
 * its indicator's variation (weighted by trials) that lies between variants,
 * B/T = (Σ_v N_vs²/W_v − N_s²/W) / (N_s(1 − N_s/W)), and the sum is rounded up. Dates enter the
 * model only when that charge leaves the variants at least one residual df; otherwise, and
 * when the campaign is too large to read day by day, the report says why they are left out.
 */
import type { Collected } from './collect.ts';
import type { BinomialRow } from './stats/index.ts';

/** Name of the date strata column group in the fit; not a valid dimension key. */
export const DATE_STRATUM = '(date)';

const DAY_MS = 86_400_000;
const EPOCH = Date.UTC(2000, 0, 1);
export const isoDay = (day: number) => new Date(EPOCH + day * DAY_MS).toISOString().slice(0, 10);

/**
 * df charged for a stratum column group: Σ over its non-reference columns of the share of the
 * column's variation between variants. Rows of one variant are contiguous in `group`.
 */
export function betweenVariantDf(
  rows: readonly BinomialRow[],
  group: readonly number[],
  column: number,
  strata: number,
): number {
  const total = new Float64Array(strata);
  const squares = new Float64Array(strata);
  const own = new Map<number, number>();
  let W = 0;
  let Wv = 0;
  const flush = () => {
    for (const [s, n] of own) squares[s]! += (n * n) / Wv;
    own.clear();
    Wv = 0;
  };
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && group[i] !== group[i - 1]) flush();
    const s = rows[i]!.levels[column]!;
    const n = rows[i]!.trials;
    own.set(s, (own.get(s) ?? 0) + n);
    total[s]! += n;
    Wv += n;
    W += n;
  }
  flush();
  let df = 0;
  for (let s = 1; s < strata; s++) {
    const N = total[s]!;
    const T = N * (1 - N / W);
    if (T > 0) df += Math.min(1, Math.max(0, (squares[s]! - (N * N) / W) / T));
  }
  return df;
}

interface DayRows {
  rows: BinomialRow[];
  group: number[];
  /** ISO dates, most impressions first (the reference). */
  dates: string[];
}

/**
 * One row per (variant, platform, day) cell with trials, levels then the platform rank (when
 * `platformRank` is given) then the day rank; null with fewer than two days.
 */
export function dayRows(
  c: Collected,
  D: number,
  variantAt: readonly number[],
  platformRank: Int32Array | null,
): DayRows | null {
  const perDay = new Map<number, number>();
  for (const i of variantAt) {
    const cells = c.dayCells[i];
    if (!cells) continue;
    for (let k = 0; k < cells.length; k += 5) {
      if (cells[k + 3]! > 0)
        perDay.set(cells[k + 1]!, (perDay.get(cells[k + 1]!) ?? 0) + cells[k + 2]!);
    }
  }
  if (perDay.size < 2) return null;
  const days = [...perDay.keys()].sort((a, b) => perDay.get(b)! - perDay.get(a)! || a - b);
  const dayRank = new Map(days.map((d, r) => [d, r]));
  const rows: BinomialRow[] = [];
  const group: number[] = [];
  variantAt.forEach((i, g) => {
    const levels = c.levels.slice(i * D, i * D + D);
    const cells = c.dayCells[i] ?? [];
    for (let k = 0; k < cells.length; k += 5) {
      if (!(cells[k + 3]! > 0)) continue;
      const strata = platformRank
        ? [platformRank[cells[k]!]!, dayRank.get(cells[k + 1]!)!]
        : [dayRank.get(cells[k + 1]!)!];
      rows.push({
        levels: [...levels, ...strata],
        successes: cells[k + 4]!,
        trials: cells[k + 3]!,
      });
      group.push(g);
    }
  });
  return { rows, group, dates: days.map(isoDay) };
}
