/**
 * Interval of a ratio of sums R = Σy / Σx over units i (CPA: spend over conversions; ROAS:
 * revenue over spend) by the delta method: the first-order Taylor expansion of Σy/Σx gives
 * Var(R) ≈ n/(n − 1) · Σ(yᵢ − R·xᵢ)² / (Σx)² (the linearised ratio estimator; Deng, Knoblich &
 * Lu 2018, "Applying the delta method in metric analytics"). Numerator and denominator are both
 * random and correlated — spend follows delivery, revenue follows conversions — which is why the
 * units' own spread is used rather than a count model. The interval is taken on the log scale,
 * R·exp(±q·se/R), so it stays positive, with q the t quantile on n − 1 df: the units are few
 * (a variant's days, a level's variants) and their spread is itself estimated.
 */
import { studentQuantileTwoSided } from './student.ts';

/** Units and the first and second moments a ratio interval needs. */
export interface RatioSums {
  units: number;
  x: number;
  y: number;
  xx: number;
  xy: number;
  yy: number;
}

/** t quantiles by confidence and df: per-variant intervals ask for the same few again and again. */
const quantiles = new Map<string, number>();
function tQuantile(confidence: number, df: number): number {
  const key = `${confidence}:${df}`;
  let q = quantiles.get(key);
  if (q === undefined) {
    q = studentQuantileTwoSided(1 - confidence, df);
    if (quantiles.size < 10_000) quantiles.set(key, q);
  }
  return q;
}

/** Null when there is no ratio (Σx ≤ 0), it is 0 (no log scale), or fewer than two units. */
export function ratioInterval(s: RatioSums, confidence: number): [number, number] | null {
  if (!(s.x > 0) || !(s.y > 0) || s.units < 2) return null;
  const r = s.y / s.x;
  // Σ(y − r·x)², clamped: the expanded form can dip below 0 by rounding when the fit is exact.
  const squares = Math.max(0, s.yy - 2 * r * s.xy + r * r * s.xx);
  const se = Math.sqrt((s.units / (s.units - 1)) * squares) / s.x;
  const q = tQuantile(confidence, s.units - 1);
  const spread = Math.exp((q * se) / r);
  const ci: [number, number] = [r / spread, r * spread];
  return Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null;
}
