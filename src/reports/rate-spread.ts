/**
 * How much wider than binomial a level's pooled rate interval must be: the between-variant
 * Pearson scale of each rate, with the residual df that measured it.
 *
 * A level's CTR sums the clicks of its variants, and each variant's CTR departs from what its
 * levels predict by an amount of its own (stats/dispersion.ts). A Wilson interval on the pooled
 * counts counts every impression as independent, so with 1e6 impressions per variant and a
 * logit SD of 0.05 it is about 5× too narrow, and two levels' intervals could fail to overlap
 * while the verdict says inconclusive. Under the quasi-binomial model the level total has
 * variance φ·Σ nμ(1 − μ), so the interval is Wilson on the effective sample size n/φ (Kish),
 * which is Wilson with z² replaced by t²·φ: t on the residual df that estimated φ, as the
 * effects' tests use.
 *
 * Why this and not an interval clustered on the level's own variants (as CPA and ROAS are): a
 * clustered interval would rest on the level's k − 1 df (t = 4.3 for a level of three
 * variants) and count the other dimensions' real effects as noise, where the pooled scale has
 * the whole model's residual df and takes those effects out; and it is the scale the effects
 * and verdicts are judged on, so the rate intervals and the verdicts agree.
 *
 * The campaign summary's rates sum every variant the same way, so they take the same scale.
 *
 * The modelled metric's scale is the model's own (strata included). The other rates get a
 * main-effects fit of their own on variant totals (no strata, so platform mix left in the
 * residual errs wide). No estimate (no residual df: a saturated design, or no successes to
 * fit): null, and the interval stays Wilson.
 */
import type { Collected } from './collect.ts';
import { type ModelledMetric, outcome } from './metric.ts';
import type { FittedModel } from './model.ts';
import { type BinomialRow, fitLogistic, variantDispersion } from './stats/index.ts';

interface RateSpread {
  /** max(1, φ): the factor on the binomial variance. */
  scale: number;
  /** Residual df φ was estimated on: the t quantile's. */
  residual_df: number;
}

export type RateSpreads = Record<ModelledMetric, RateSpread | null>;

const METRICS: readonly ModelledMetric[] = ['ctr', 'cvr', 'view_rate'];

function spreadOf(d: { scale: number | null; residual_df: number }): RateSpread | null {
  return d.scale !== null && d.residual_df > 0
    ? { scale: d.scale, residual_df: d.residual_df }
    : null;
}

/** The between-variant scale of one rate from a main-effects fit on variant totals. */
function totalsSpread(
  c: Collected,
  dims: readonly { key: string; levels: readonly string[] }[],
  metric: ModelledMetric,
): RateSpread | null {
  const D = dims.length;
  const rows: BinomialRow[] = [];
  let successes = 0;
  for (let i = 0; i < c.count; i++) {
    const o = outcome(metric, {
      impressions: c.impressions[i]!,
      clicks: c.clicks[i]!,
      conversions: c.conversions[i]!,
      videoViews: c.videoViews[i]!,
    });
    const levels = c.levels.slice(i * D, i * D + D);
    if (!(o.trials > 0) || o.successes > o.trials || levels.some((l) => l < 0)) continue;
    rows.push({ levels, successes: o.successes, trials: o.trials });
    successes += o.successes;
  }
  if (successes === 0) return null;
  const fit = fitLogistic({
    dimensions: dims.map((d) => ({ name: d.key, levels: d.levels })),
    rows,
  });
  if (!fit.converged) return null;
  return spreadOf(
    variantDispersion({
      successes: rows.map((r) => r.successes),
      trials: rows.map((r) => r.trials),
      fitted: fit.fitted,
      group: rows.map((_, g) => g),
      variants: rows.length,
      rank: fit.rank,
    }),
  );
}

export function rateSpreads(
  c: Collected,
  dims: readonly { key: string; levels: readonly string[] }[],
  metric: ModelledMetric,
  model: FittedModel | null,
): RateSpreads {
  const spreads = { ctr: null, cvr: null, view_rate: null } as RateSpreads;
  if (dims.length === 0) return spreads;
  for (const m of METRICS) {
    spreads[m] =
      m === metric
        ? model?.fit.converged
          ? spreadOf(model.dispersion)
          : null
        : totalsSpread(c, dims, m);
  }
  return spreads;
}
