/**
 * The report's contrasts as table rows for the downloads: each non-reference level against its
 * dimension's reference (`effect`) and each pair of non-reference levels asked for with
 * `compare` (`comparison`). Both kinds share one row shape, so the CSV stays one table and its
 * columns are the XLSX comparisons sheet's.
 */
import type { DimensionReport } from './analysis.ts';
import type { ContrastNumbers } from './comparisons.ts';

/** An odds ratio's columns, in the order numberCells writes them (by_dimension has them too). */
export const NUMBER_COLUMNS = [
  'effect',
  'effect_low',
  'effect_high',
  'lift',
  'lift_low',
  'lift_high',
  'interval_level',
  'p_value',
  'p_adjusted',
] as const;

export const CONTRAST_COLUMNS = [
  'dimension',
  'level',
  'label',
  'versus',
  'versus_label',
  ...NUMBER_COLUMNS,
  'prob_better',
  'verdict',
  'note',
] as const;

type ContrastKind = 'effect' | 'comparison';
type Cell = string | number | null;

export function numberCells(c: ContrastNumbers): Cell[] {
  return [
    c.effect,
    c.effect_ci?.[0] ?? null,
    c.effect_ci?.[1] ?? null,
    c.lift,
    c.lift_ci?.[0] ?? null,
    c.lift_ci?.[1] ?? null,
    c.interval_level,
    c.p_value,
    c.p_adjusted,
  ];
}

/** Effects first (every dimension), then comparisons (every dimension), in report order. */
export function contrastRows(
  dims: readonly DimensionReport[],
  kinds: readonly ContrastKind[] = ['effect', 'comparison'],
): { kind: ContrastKind; cells: Cell[] }[] {
  const rows: { kind: ContrastKind; cells: Cell[] }[] = [];
  if (kinds.includes('effect'))
    for (const d of dims) {
      const ref = d.levels.find((l) => l.reference);
      for (const l of d.levels) {
        if (l.reference) continue;
        rows.push({
          kind: 'effect',
          cells: [
            d.dimension,
            l.level,
            l.label,
            ref?.level ?? null,
            ref?.label ?? null,
            ...numberCells(l),
            l.prob_beat_reference,
            l.verdict,
            l.note,
          ],
        });
      }
    }
  if (kinds.includes('comparison'))
    for (const d of dims)
      for (const c of d.comparisons)
        rows.push({
          kind: 'comparison',
          cells: [
            d.dimension,
            c.level,
            c.label,
            c.versus,
            c.versus_label,
            ...numberCells(c),
            c.prob_better,
            c.verdict,
            c.note,
          ],
        });
  return rows;
}
