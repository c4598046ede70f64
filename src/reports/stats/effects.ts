/**
 * Per-level effects for the report layer: the main-effects logit model's odds ratios against
 * each dimension's reference level, Holm-adjusted within the dimension, next to the raw level
 * click-through with its Wilson interval. No verdicts here: thresholds belong to the caller.
 */
import type { LogisticInput } from './design.ts';
import { holm } from './holm.ts';
import { type Coefficient, fitLogistic, type LogisticOptions } from './logistic.ts';
import { normalQuantile } from './normal.ts';
import { wilson } from './wilson.ts';

export interface LevelEffect {
  readonly level: number;
  readonly name: string;
  readonly reference: boolean;
  /** Marginal clicks and impressions over all rows at this level (not model-adjusted). */
  readonly successes: number;
  readonly trials: number;
  readonly rate: number | null;
  /** Wilson interval of `rate` at the model's confidence; null without impressions. */
  readonly rate_ci: [number, number] | null;
  /** Adjusted odds ratio against the reference level; exactly 1 for the reference. */
  readonly effect: number | null;
  readonly effect_ci: [number, number] | null;
  readonly log_odds_ratio: number | null;
  readonly se: number | null;
  readonly p_value: number | null;
  /** Holm over this dimension's non-reference levels that have a p-value. */
  readonly p_adjusted: number | null;
  readonly estimable: boolean;
  readonly separation: boolean;
  /** Separated only: −1 when the odds ratio tends to 0, 1 when to ∞, null when unclear. */
  readonly direction: -1 | 1 | null;
  readonly reason: string | null;
}

export interface DimensionEffects {
  readonly dimension: number;
  readonly name: string;
  readonly reference_level: 0;
  readonly levels: LevelEffect[];
}

export interface LevelEffects {
  readonly dimensions: DimensionEffects[];
  readonly model: {
    readonly family: 'binomial';
    readonly link: 'logit';
    readonly coding: 'treatment';
    readonly rows: number;
    readonly parameters: number;
    readonly rank: number;
    readonly residual_df: number;
    readonly iterations: number;
    readonly converged: boolean;
    readonly separation: boolean;
    readonly deviance: number;
    readonly null_deviance: number;
    readonly confidence: number;
  };
}

export function levelEffects(input: LogisticInput, options: LogisticOptions = {}): LevelEffects {
  const fit = fitLogistic(input, options);
  const zc = zFor(fit.confidence);
  const counts = fit.level_names.map((names) => names.map(() => ({ successes: 0, trials: 0 })));
  for (const row of input.rows) {
    row.levels.forEach((l, d) => {
      const c = counts[d]![l]!;
      c.successes += row.successes;
      c.trials += row.trials;
    });
  }
  const byColumn = new Map<string, Coefficient>();
  for (const c of fit.coefficients) {
    if (c.dimension !== null) byColumn.set(`${c.dimension}:${c.level}`, c);
  }

  const dimensions = fit.dimension_names.map((name, d): DimensionEffects => {
    const levelNames = fit.level_names[d]!;
    const coefs = levelNames.map((_, l) => (l === 0 ? null : byColumn.get(`${d}:${l}`)!));
    const adjusted = holm(coefs.map((c) => c?.p_value ?? null));
    const levels = levelNames.map((levelName, l): LevelEffect => {
      const { successes, trials } = counts[d]![l]!;
      const raw = {
        level: l,
        name: levelName,
        successes,
        trials,
        rate: trials > 0 ? successes / trials : null,
        rate_ci: wilson(successes, trials, zc),
      };
      const c = coefs[l];
      if (!c) {
        return {
          ...raw,
          reference: true,
          effect: 1,
          effect_ci: null,
          log_odds_ratio: 0,
          se: null,
          p_value: null,
          p_adjusted: null,
          estimable: true,
          separation: false,
          direction: null,
          reason: null,
        };
      }
      const p = adjusted[l]!;
      return {
        ...raw,
        reference: false,
        effect: c.odds_ratio,
        effect_ci: c.odds_ratio_ci,
        log_odds_ratio: c.estimate,
        se: c.se,
        p_value: c.p_value,
        p_adjusted: Number.isNaN(p) ? null : p,
        estimable: c.estimable,
        separation: c.separation,
        direction: c.direction,
        reason: c.reason,
      };
    });
    return { dimension: d, name, reference_level: 0, levels };
  });

  return {
    dimensions,
    model: {
      family: fit.family,
      link: fit.link,
      coding: fit.coding,
      rows: fit.rows,
      parameters: fit.parameters,
      rank: fit.rank,
      residual_df: fit.residual_df,
      iterations: fit.iterations,
      converged: fit.converged,
      separation: fit.separation,
      deviance: fit.deviance,
      null_deviance: fit.null_deviance,
      confidence: fit.confidence,
    },
  };
}

function zFor(confidence: number): number {
  return normalQuantile(0.5 + confidence / 2);
}
