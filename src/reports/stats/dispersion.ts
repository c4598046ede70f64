/**
 * Overdispersion between variants: the Pearson scale of the fit taken over variants, not over
 * the rows the model was fitted on.
 *
 * A variant's CTR departs from what its levels predict by an amount of its own (its actors, its
 * framing) that persists from day to day, so variants, not (variant, date, platform) cells, are
 * the units whose spread measures it. Each variant's residual sums its cells' residuals and is
 * standardised by its summed binomial variance: r_v = Σ(y − nμ)/√Σ nμ(1 − μ). Then
 * φ = Σ r_v² / (variants − rank) (quasi-binomial, McCullagh & Nelder §4.5), the covariance is
 * scaled by max(1, φ) and Wald statistics are referred to t on that residual df, which carries
 * the uncertainty of φ itself. Without residual df φ is unknown: the caller must not conclude.
 */
export interface Dispersion {
  /** Σ r_v² over variants with a positive binomial variance. */
  pearson_chi2: number;
  /** Variants the residuals were summed over. */
  variants: number;
  residual_df: number;
  /** X²/df; null when df ≤ 0. */
  phi: number | null;
  /** max(1, φ): what the covariance is multiplied by; null when φ is unknown. */
  scale: number | null;
}

export function variantDispersion(p: {
  successes: ArrayLike<number>;
  trials: ArrayLike<number>;
  fitted: ArrayLike<number>;
  /** Variant index of each row (0 … variants − 1). */
  group: ArrayLike<number>;
  variants: number;
  /** Parameters the variant totals had to fit (the rank of the level columns). */
  rank: number;
}): Dispersion {
  const resid = new Float64Array(p.variants);
  const variance = new Float64Array(p.variants);
  for (let i = 0; i < p.group.length; i++) {
    const g = p.group[i]!;
    const n = p.trials[i]!;
    const mu = p.fitted[i]!;
    resid[g]! += p.successes[i]! - n * mu;
    variance[g]! += n * mu * (1 - mu);
  }
  let chi2 = 0;
  let used = 0;
  for (let g = 0; g < p.variants; g++) {
    if (!(variance[g]! > 0)) continue;
    chi2 += resid[g]! ** 2 / variance[g]!;
    used++;
  }
  const df = used - p.rank;
  const phi = df > 0 ? chi2 / df : null;
  return {
    pearson_chi2: chi2,
    variants: used,
    residual_df: Math.max(0, df),
    phi,
    scale: phi === null ? null : Math.max(1, phi),
  };
}
