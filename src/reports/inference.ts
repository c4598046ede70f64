/**
 * Per-level numbers of the report from one fit: Wald statistics on the dispersion-scaled
 * covariance referred to t, adjusted over every level of every dimension at once, intervals
 * that agree with the adjusted tests, the relative CTR change, and the approximate posterior
 * probabilities of beating the reference and of being the dimension's best level.
 */
import {
  type Adjustment,
  adjust,
  type Coefficient,
  type LogisticFit,
  normalCdf,
  probBest,
  studentQuantileTwoSided,
  studentTwoSidedP,
} from './stats/index.ts';

export interface LevelInference {
  coefficient: Coefficient | null;
  /** Estimable, not separated: there is an odds ratio. */
  usable: boolean;
  effect: number | null;
  effect_ci: [number, number] | null;
  /** Relative CTR change against the reference implied by the odds ratio at the reference CTR. */
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  p_adjusted: number | null;
  /** Level of the shown interval (1 − its two-sided tail), after the adjustment. */
  interval_level: number | null;
  prob_beat_reference: number | null;
  prob_best: number | null;
}

interface InferenceOptions {
  /** Covariance multiplier max(1, φ); null when φ is unknown (no residual df). */
  scale: number | null;
  df: number;
  confidence: number;
  adjust: Adjustment;
  /** The reference level's CTR per dimension, for the relative change. */
  baseline: (dimension: number) => number | null;
}

/** CTR ratio against a reference CTR p0 for odds ratio r: r/(1 − p0 + r·p0); monotone in r. */
function liftOf(oddsRatio: number, p0: number): number {
  return oddsRatio / (1 - p0 + oddsRatio * p0) - 1;
}

export function inferLevels(
  fit: LogisticFit,
  levelCounts: readonly number[],
  o: InferenceOptions,
): LevelInference[][] {
  const byColumn = new Map<string, Coefficient>();
  const column = new Map<string, number>();
  fit.coefficients.forEach((c, j) => {
    if (c.dimension === null) return;
    byColumn.set(`${c.dimension}:${c.level}`, c);
    column.set(`${c.dimension}:${c.level}`, j);
  });
  const testable = o.scale !== null && o.df > 0;
  const sd = Math.sqrt(o.scale ?? Number.NaN);
  const coefs = levelCounts.map((n, d) =>
    Array.from({ length: n }, (_, l) => (l === 0 ? null : (byColumn.get(`${d}:${l}`) ?? null))),
  );
  const usable = (c: Coefficient | null): c is Coefficient & { estimate: number; se: number } =>
    !!c && c.estimable && !c.separation && c.estimate !== null && c.se !== null;

  // One family: every non-reference level of every dimension that has a test.
  const flat: (number | null)[] = [];
  const at: [number, number][] = [];
  coefs.forEach((row, d) => {
    row.forEach((c, l) => {
      if (l === 0) return;
      at.push([d, l]);
      flat.push(testable && usable(c) ? studentTwoSidedP(c.estimate / (c.se * sd), o.df) : null);
    });
  });
  const alpha = 1 - o.confidence;
  const adjusted = adjust(flat, o.adjust, alpha);
  const tested = new Map<string, { p: number; pAdj: number; tail: number }>();
  at.forEach(([d, l], k) => {
    if (flat[k] === null) return;
    tested.set(`${d}:${l}`, {
      p: flat[k]!,
      pAdj: adjusted.p[k]!,
      tail: adjusted.intervalAlpha[k]!,
    });
  });

  return coefs.map((row, d) => {
    const p0 = o.baseline(d);
    const best = testable ? bestOf(fit, row, column, d, o.scale!) : null;
    return row.map((c, l): LevelInference => {
      if (l === 0) {
        return {
          coefficient: null,
          usable: true,
          effect: 1,
          effect_ci: null,
          lift: 0,
          lift_ci: null,
          p_value: null,
          p_adjusted: null,
          interval_level: null,
          prob_beat_reference: null,
          prob_best: best?.[l] ?? null,
        };
      }
      const ok = usable(c);
      const effect = ok ? Math.exp(c.estimate) : null;
      const t = tested.get(`${d}:${l}`);
      let ci: [number, number] | null = null;
      if (ok && t) {
        const q = studentQuantileTwoSided(t.tail, o.df);
        const half = q * c.se * sd;
        ci = [Math.exp(c.estimate - half), Math.exp(c.estimate + half)];
      }
      const finiteCi = ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null;
      return {
        coefficient: c,
        usable: ok,
        effect: effect !== null && Number.isFinite(effect) ? effect : null,
        effect_ci: finiteCi,
        lift: effect !== null && p0 !== null ? liftOf(effect, p0) : null,
        lift_ci:
          finiteCi && p0 !== null ? [liftOf(finiteCi[0], p0), liftOf(finiteCi[1], p0)] : null,
        p_value: t?.p ?? null,
        p_adjusted: t?.pAdj ?? null,
        interval_level: t ? 1 - t.tail : null,
        prob_beat_reference: ok && t ? normalCdf(c.estimate / (c.se * sd)) : null,
        prob_best: best?.[l] ?? null,
      };
    });
  });
}

/**
 * P(best) over the reference and the usable levels of one dimension, from N(β̂, scale·V) on the
 * log odds ratios (the reference fixed at 0, so only contrasts matter); null for the others.
 */
function bestOf(
  fit: LogisticFit,
  row: (Coefficient | null)[],
  column: Map<string, number>,
  d: number,
  scale: number,
): (number | null)[] {
  const members: number[] = [0];
  row.forEach((c, l) => {
    if (l > 0 && c && c.estimable && !c.separation && c.estimate !== null) members.push(l);
  });
  const cols = members.map((l) => (l === 0 ? -1 : column.get(`${d}:${l}`)!));
  const mean = members.map((l) => (l === 0 ? 0 : row[l]!.estimate!));
  const cov = cols.map((a) =>
    cols.map((b) => (a < 0 || b < 0 ? 0 : scale * fit.covariance[a]![b]!)),
  );
  if (cov.some((r) => r.some((x) => !Number.isFinite(x)))) return row.map(() => null);
  const probs = probBest(mean, cov, { seed: 0x5eed + d });
  const out: (number | null)[] = row.map(() => null);
  members.forEach((l, k) => {
    out[l] = probs[k]!;
  });
  return out;
}
