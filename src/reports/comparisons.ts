/**
 * Comparisons among non-reference levels, on request (`compare=all` or dimension keys): every
 * pair of a dimension's non-reference levels, later level against earlier. They come from the
 * same fit as the level effects and join the report's adjusted family (inference.ts), so asking
 * for them widens every interval of the report a little: the error control stays report-wide.
 */
import type { ReportDimension } from './dimensions.ts';
import type { Pair, PairInference } from './inference.ts';
import { finite } from './numbers.ts';
import { judge, type Verdict, type VerdictOptions } from './verdicts.ts';

export type CompareOption = 'all' | readonly string[];

/** An odds ratio from the fit, as the report shows it for a level or a pair. */
export interface ContrastNumbers {
  effect: number | null;
  effect_ci: [number, number] | null;
  lift: number | null;
  lift_ci: [number, number] | null;
  interval_level: number | null;
  p_value: number | null;
  p_adjusted: number | null;
}

export interface ComparisonReport extends ContrastNumbers {
  level: string;
  label: string;
  versus: string;
  versus_label: string;
  prob_better: number | null;
  verdict: Exclude<Verdict, 'reference'>;
  note: string | null;
}

/** Dimension keys of `compare` that the report does not have; [] when all are known. */
export function unknownDimensions(compare: CompareOption | undefined, dims: ReportDimension[]) {
  if (!compare || compare === 'all') return [];
  return compare.filter((k) => !dims.some((d) => d.key === k));
}

export function pairsOf(dims: ReportDimension[], compare: CompareOption | undefined): Pair[] {
  if (!compare) return [];
  const pairs: Pair[] = [];
  dims.forEach((dim, d) => {
    if (compare !== 'all' && !compare.includes(dim.key)) return;
    for (let level = 2; level < dim.levels.length; level++)
      for (let versus = 1; versus < level; versus++) pairs.push({ dimension: d, level, versus });
  });
  return pairs;
}

export function comparisonReports(
  dim: ReportDimension,
  pairs: readonly PairInference[],
  p: { short: (level: number) => boolean; converged: boolean; saturated: boolean },
  o: VerdictOptions,
): ComparisonReport[] {
  return pairs.map(({ level, versus, inference: e }) => {
    const versusLabel = dim.labels[versus] ?? dim.levels[versus]!;
    const judged = judge(
      {
        reference: false,
        short: p.short(level),
        referenceShort: p.short(versus),
        converged: p.converged,
        saturated: p.saturated,
        inference: e,
      },
      o,
    );
    return {
      level: dim.levels[level]!,
      label: dim.labels[level] ?? dim.levels[level]!,
      versus: dim.levels[versus]!,
      versus_label: versusLabel,
      effect: finite(e.effect),
      effect_ci: e.effect_ci,
      lift: finite(e.lift),
      lift_ci: e.lift_ci,
      interval_level: e.interval_level,
      p_value: finite(e.p_value),
      p_adjusted: finite(e.p_adjusted),
      prob_better: finite(e.prob_beat_reference),
      verdict: judged.verdict as Exclude<Verdict, 'reference'>,
      // judge speaks of "the reference level"; here that is the level compared against.
      note: judged.note?.replace('the reference level', versusLabel) ?? null,
    };
  });
}
