import { studentQuantileTwoSided } from '../reports/stats/student.ts';
import type { MainEffects } from './designs/index.ts';

/**
 * Power before spend: how large a change in CTR each level comparison of a design can detect
 * for the impressions the variants will get.
 *
 * Model (the report's: logistic main effects, level against its dimension's reference). Under
 * the null every variant has CTR p₀. Variant v's observed log-odds after m impressions has
 *   σ² = 1 / (m·p₀·(1 − p₀)) + τ²
 * (binomial sampling, delta method; τ the between-variant SD of the true log-odds, the
 * overdispersion: actors, framing). With equal impressions the fit weighs variants equally, so a
 * level's estimated effect has variance σ²·h, h = [(X'X)⁻¹] at its dummy column
 * (`MainEffects.level_variance`: 2/g for two groups of g variants, 2s/n in an s-level
 * orthogonal array of n rows). A two-sided test at confidence 1 − α with power π detects a
 * log-odds shift of
 *   δ = (z_{1−α/2} + z_π) · σ · √h   (quantiles as below),
 * reported as the relative change in CTR it means, expit(logit p₀ + δ) / p₀ − 1 (the upward
 * change; a drop of the same log-odds is a slightly smaller relative change). A dimension's MDE
 * is its worst-placed level's. Inverting the same equation for a target relative change r,
 * δ_r = logit(p₀(1 + r)) − logit p₀, gives the impressions per variant needed:
 *   m = 1 / (p₀(1 − p₀)·((δ_r / (z_{1−α/2} + z_π))² / h − τ²)),
 * none when the bracket is ≤ 0: overdispersion alone then hides the change, and only more
 * variants per level (a smaller h) help, never more impressions.
 *
 * τ defaults to 0.05: the smaller spread in issue 13's simulations, at which a binomial-only
 * analysis already called 85% of null reports at 1e5 impressions "conclusive". Planning at τ = 0
 * would promise a sensitivity that a report accounting for dispersion cannot deliver; a client
 * with its own estimate (another campaign's report) passes it, or 0 for the binomial-only figure.
 *
 * The quantiles are those of the test the report will make, not a lone z test. By default the
 * report Holm-adjusts over every non-reference level of every dimension, m = Σ(levels − 1)
 * tests, and Holm's first step is Bonferroni's α/m: a change must clear that to be called
 * conclusive whichever level it is in, so α/m is what the plan can count on (3^4: z 2.73, not
 * 1.96). And the report scales by a dispersion estimated on the variants' residual df,
 * n − rank, and refers its tests to t on them, so t replaces z on both sides of the equation
 * (t_{1−α/2m} + t_π, the usual approximation to the noncentral t). With no residual df the
 * report cannot call anything conclusive, so there is no MDE and no impressions suffice.
 *
 * What the preview cannot know. The report enters platforms and dates as strata and charges the
 * residual df the part of them that lies between variants (model.strata.platform_df, date_df):
 * nothing when every variant runs on the same platforms and days in the same proportions, up to
 * one df per platform or date column when variants are delivered apart. Delivery decides that,
 * after the preview, so the plan assumes even delivery and charges nothing; variants delivered
 * apart leave the report fewer df and a somewhat larger MDE. Nor does the preview take the
 * report's adjust: Benjamini–Hochberg compares the k-th smallest p-value with k·α/m, and for a
 * lone real effect that is α/m, Holm's first step, so the MDE holds under either adjustment
 * (conservative under bh when several levels have real effects).
 */
export interface PowerInput {
  baseline_ctr: number;
  impressions_per_variant?: number | undefined;
  media_budget_usd?: number | undefined;
  cpm_usd?: number | undefined;
  confidence: number;
  power: number;
  variant_sd: number;
  target_mde: number;
}

interface PowerDimension {
  key: string;
  levels: Array<{ key: string }>;
}

const logit = (p: number) => Math.log(p / (1 - p));
const expit = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * t_{1−α/2m} + t_π on the residual df (the header says why); null without residual df, where
 * the report cannot conclude.
 */
function testQuantiles(alpha: number, tests: number, power: number, df: number): number | null {
  if (df <= 0) return null;
  return studentQuantileTwoSided(alpha / tests, df) + studentQuantileTwoSided(2 * (1 - power), df);
}

/** Impressions per variant: given, or the media budget spread evenly over the variants. */
function impressionsPerVariant(input: PowerInput, variants: number): number {
  if (input.impressions_per_variant !== undefined) return input.impressions_per_variant;
  const total = (input.media_budget_usd! / input.cpm_usd!) * 1000;
  return variants > 0 ? Math.floor(total / variants) : 0;
}

export function powerAnalysis(p: {
  input: PowerInput;
  dimensions: PowerDimension[];
  combinations: readonly number[][];
  mainEffects: MainEffects;
}) {
  const { input, dimensions, combinations, mainEffects } = p;
  const p0 = input.baseline_ctr;
  const tau = input.variant_sd;
  const m = impressionsPerVariant(input, combinations.length);
  const tests = dimensions.reduce((s, d) => s + Math.max(0, d.levels.length - 1), 0);
  const residualDf = Math.max(0, combinations.length - mainEffects.rank);
  const z = testQuantiles(1 - input.confidence, Math.max(1, tests), input.power, residualDf);
  const sigma2 = m > 0 ? 1 / (m * p0 * (1 - p0)) + tau * tau : Number.POSITIVE_INFINITY;
  const mdeOf = (h: number | null): number | null => {
    if (h === null || z === null || !Number.isFinite(sigma2)) return null;
    return expit(logit(p0) + z * Math.sqrt(sigma2 * h)) / p0 - 1;
  };
  const target = logit(p0 * (1 + input.target_mde)) - logit(p0);
  const neededFor = (h: number | null): number | null => {
    if (h === null || z === null) return null;
    const bracket = (target / z) ** 2 / h - tau * tau;
    return bracket > 0 ? Math.ceil(1 / (p0 * (1 - p0) * bracket)) : null;
  };

  const mde: Record<string, number | null> = {};
  const needed: Record<string, number | null> = {};
  const detail = dimensions.map((dim, d) => {
    const counts = new Array<number>(dim.levels.length).fill(0);
    for (const combo of combinations) counts[combo[d]!]!++;
    const variances = mainEffects.level_variance[d] ?? [];
    const others = variances.slice(1);
    // A dimension is as sensitive as its worst-placed level; one it cannot estimate, not at all.
    const worst = others.some((h) => h === null)
      ? null
      : others.reduce<number>((acc, h) => Math.max(acc, h!), 0);
    mde[dim.key] = others.length ? mdeOf(worst) : null;
    needed[dim.key] = others.length ? neededFor(worst) : null;
    return {
      dimension: dim.key,
      reference: dim.levels[0]?.key ?? null,
      levels: dim.levels.slice(1).map((level, i) => ({
        level: level.key,
        variants: counts[i + 1]!,
        mde: mdeOf(variances[i + 1] ?? null),
      })),
    };
  });
  return {
    baseline_ctr: p0,
    impressions_per_variant: m,
    confidence: input.confidence,
    tests,
    residual_df: residualDf,
    power: input.power,
    variant_sd: tau,
    target_mde: input.target_mde,
    mde,
    impressions_needed_per_variant: needed,
    dimensions: detail,
  };
}
