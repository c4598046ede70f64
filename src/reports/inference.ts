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

/** A comparison of two non-reference levels of one dimension: `level` against `versus`. */
export interface Pair {
  dimension: number;
  level: number;
  versus: number;
}

export interface PairInference extends Pair {
  /** As a level's, with `versus` in the reference's place (prob_beat_reference: P(level > versus)). */
  inference: LevelInference;
}

interface InferenceOptions {
  /** Covariance multiplier max(1, φ); null when φ is unknown (no residual df). */
  scale: number | null;
  df: number;
  confidence: number;
  adjust: Adjustment;
  /** A level's observed rate of the modelled metric, the baseline of a relative change. */
  rate: (dimension: number, level: number) => number | null;
  /** Comparisons among non-reference levels asked for; they join the adjusted family. */
  pairs?: readonly Pair[];
}

/** CTR ratio against a reference CTR p0 for odds ratio r: r/(1 − p0 + r·p0); monotone in r. */
function liftOf(oddsRatio: number, p0: number): number {
  return oddsRatio / (1 - p0 + oddsRatio * p0) - 1;
}

/**
 * Every level against its reference and, on request, pairs of non-reference levels, as one
 * adjusted family: a pair's log odds ratio is the difference of the two coefficients, with
 * variance v_a + v_b − 2·c_ab from the same fit's covariance, scaled and referred to t alike.
 */
export function inferLevels(
  fit: LogisticFit,
  levelCounts: readonly number[],
  o: InferenceOptions,
): { levels: LevelInference[][]; pairs: PairInference[] } {
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
  const contrasts = (o.pairs ?? []).map((pair) => {
    const a = coefs[pair.dimension]?.[pair.level] ?? null;
    const b = coefs[pair.dimension]?.[pair.versus] ?? null;
    if (!usable(a) || !usable(b)) return { pair, a, b, estimate: null, se: null };
    const ja = column.get(`${pair.dimension}:${pair.level}`)!;
    const jb = column.get(`${pair.dimension}:${pair.versus}`)!;
    const V = fit.covariance;
    const variance = V[ja]![ja]! + V[jb]![jb]! - 2 * V[ja]![jb]!;
    return variance > 0 && Number.isFinite(variance)
      ? { pair, a, b, estimate: a.estimate - b.estimate, se: Math.sqrt(variance) }
      : { pair, a, b, estimate: null, se: null };
  });
  for (const k of contrasts)
    flat.push(
      testable && k.estimate !== null ? studentTwoSidedP(k.estimate / (k.se! * sd), o.df) : null,
    );
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

  const levels = coefs.map((row, d) => {
    const p0 = o.rate(d, 0);
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
      return {
        ...contrast(c, ok ? { estimate: c.estimate, se: c.se } : null, tested.get(`${d}:${l}`), p0),
        prob_best: best?.[l] ?? null,
      };
    });
  });

  const m = at.length;
  const pairs = contrasts.map((k, i): PairInference => {
    const t = Number.isNaN(adjusted.p[m + i]!)
      ? undefined
      : { p: flat[m + i]!, pAdj: adjusted.p[m + i]!, tail: adjusted.intervalAlpha[m + i]! };
    const shown = !usable(k.a) ? k.a : !usable(k.b) ? k.b : k.a;
    const p0 = o.rate(k.pair.dimension, k.pair.versus);
    const est = k.estimate === null ? null : { estimate: k.estimate, se: k.se! };
    return { ...k.pair, inference: { ...contrast(shown, est, t, p0), prob_best: null } };
  });
  return { levels, pairs };

  /** Odds ratio, its interval at the adjusted level, the relative change at rate p0, P(> 0). */
  function contrast(
    c: Coefficient | null,
    e: { estimate: number; se: number } | null,
    t: { p: number; pAdj: number; tail: number } | undefined,
    p0: number | null,
  ): Omit<LevelInference, 'prob_best'> {
    const effect = e ? Math.exp(e.estimate) : null;
    let ci: [number, number] | null = null;
    if (e && t) {
      const half = studentQuantileTwoSided(t.tail, o.df) * e.se * sd;
      ci = [Math.exp(e.estimate - half), Math.exp(e.estimate + half)];
    }
    const finiteCi = ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null;
    return {
      coefficient: c,
      usable: e !== null,
      effect: effect !== null && Number.isFinite(effect) ? effect : null,
      effect_ci: finiteCi,
      lift: effect !== null && p0 !== null ? liftOf(effect, p0) : null,
      lift_ci: finiteCi && p0 !== null ? [liftOf(finiteCi[0], p0), liftOf(finiteCi[1], p0)] : null,
      p_value: t?.p ?? null,
      p_adjusted: t?.pAdj ?? null,
      interval_level: t ? 1 - t.tail : null,
      prob_beat_reference: e && t ? normalCdf(e.estimate / (e.se * sd)) : null,
    };
  }
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
