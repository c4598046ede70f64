/**
 * Multiplicity adjustment over the whole report, with the per-test interval level that makes
 * each interval agree with its test: the interval excludes the null exactly when the adjusted
 * p-value is below alpha.
 *
 * - Holm (family-wise error). Sorted p(1) ≤ … ≤ p(m), Holm rejects steps 1…k−1 where k is the
 *   first step with p(k) ≥ alpha/(m − k + 1). Test i (sorted position s) gets the interval at
 *   level 1 − alpha/(m − min(s, k) + 1): a rejected test's interval is at its own Holm level, so
 *   it excludes the null; a test at or after step k gets the level of step k, where p ≥ p(k) ≥
 *   alpha/(m − k + 1), so it contains the null. When nothing is rejected that is Bonferroni's
 *   1 − alpha/m, whose intervals are simultaneous.
 * - Benjamini–Hochberg (false discovery rate). With R rejections, every interval is at level
 *   1 − max(R, 1)·alpha/m: Benjamini & Yekutieli's (2005) false-coverage-rate intervals, which
 *   exclude the null exactly for the rejected tests (rejected: p ≤ R·alpha/m; not rejected:
 *   p > (R + 1)·alpha/m).
 * Missing p-values (null/NaN) are not part of the family and get NaN.
 */
import { holm } from './holm.ts';

export type Adjustment = 'holm' | 'bh';

export interface Adjusted {
  /** Adjusted p-values: reject at level alpha iff adjusted < alpha. */
  p: number[];
  /** Two-sided tail for each test's interval (the interval is at 1 − this). */
  intervalAlpha: number[];
}

/** Benjamini–Hochberg step-up adjusted p-values: min over j ≥ i of m·p(j)/j, capped at 1. */
export function benjaminiHochberg(pValues: readonly (number | null | undefined)[]): number[] {
  const out = new Array<number>(pValues.length).fill(Number.NaN);
  const present = presentSorted(pValues);
  const m = present.length;
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const { p, i } = present[r]!;
    running = Math.min(running, (m * p) / (r + 1));
    out[i] = running;
  }
  return out;
}

function presentSorted(pValues: readonly (number | null | undefined)[]) {
  const present: { p: number; i: number }[] = [];
  pValues.forEach((p, i) => {
    if (p === null || p === undefined || Number.isNaN(p)) return;
    if (p < 0 || p > 1) throw new RangeError(`p-value ${p} at ${i} is outside [0, 1]`);
    present.push({ p, i });
  });
  return present.sort((u, v) => u.p - v.p);
}

export function adjust(
  pValues: readonly (number | null | undefined)[],
  method: Adjustment,
  alpha: number,
): Adjusted {
  const present = presentSorted(pValues);
  const m = present.length;
  const intervalAlpha = new Array<number>(pValues.length).fill(Number.NaN);
  if (method === 'bh') {
    const p = benjaminiHochberg(pValues);
    const rejected = present.filter(({ i }) => p[i]! < alpha).length;
    for (const { i } of present) intervalAlpha[i] = (Math.max(rejected, 1) * alpha) / m;
    return { p, intervalAlpha };
  }
  const p = holm(pValues);
  // Adjusted p below alpha is exactly "every step up to here rejected".
  let k = present.findIndex(({ i }) => !(p[i]! < alpha));
  if (k < 0) k = m;
  present.forEach(({ i }, s) => {
    intervalAlpha[i] = alpha / (m - Math.min(s, k));
  });
  return { p, intervalAlpha };
}
