import { expect } from 'vitest';
import type { BinomialRow, LogisticFit } from '../../../src/reports/stats/index.ts';

/** |actual − expected| ≤ rel·|expected| (or ≤ rel when expected is 0). */
export function expectRel(actual: number | null | undefined, expected: number, rel: number): void {
  expect(actual).toBeTypeOf('number');
  const scale = expected === 0 ? 1 : Math.abs(expected);
  const err = Math.abs((actual as number) - expected) / scale;
  expect(err, `${actual} vs ${expected} (relative error ${err})`).toBeLessThanOrEqual(rel);
}

/** The coefficient estimate for (dimension, level), 0 for a reference level. */
export function coef(fit: LogisticFit, dimension: number | null, level = 0): number {
  if (dimension !== null && level === 0) return 0;
  const c = fit.coefficients.find(
    (k) => k.dimension === dimension && k.level === (dimension === null ? null : level),
  );
  if (!c || c.estimate === null) throw new Error(`no estimate for ${dimension}:${level}`);
  return c.estimate;
}

/** Expected clicks per row under the fitted model, from the reported estimates alone. */
export function fittedClicks(fit: LogisticFit, rows: readonly BinomialRow[]): number[] {
  return rows.map((r) => {
    const eta = r.levels.reduce((s, l, d) => s + coef(fit, d, l), coef(fit, null));
    return r.trials / (1 + Math.exp(-eta));
  });
}

/**
 * The likelihood equations of a treatment-coded main-effects logit model say: for the whole
 * table and for every (dimension, level ≠ 0) margin, fitted clicks = observed clicks. Returns the
 * largest relative violation over all margins that have any clicks.
 */
export function scoreViolation(fit: LogisticFit, rows: readonly BinomialRow[]): number {
  const fitted = fittedClicks(fit, rows);
  const margins = new Map<string, { obs: number; fit: number }>();
  const add = (key: string, obs: number, f: number) => {
    const m = margins.get(key) ?? { obs: 0, fit: 0 };
    m.obs += obs;
    m.fit += f;
    margins.set(key, m);
  };
  rows.forEach((r, i) => {
    add('total', r.successes, fitted[i]!);
    r.levels.forEach((l, d) => {
      if (l > 0) add(`${d}:${l}`, r.successes, fitted[i]!);
    });
  });
  let worst = 0;
  for (const { obs, fit: f } of margins.values()) {
    if (obs > 0) worst = Math.max(worst, Math.abs(f - obs) / obs);
  }
  return worst;
}

/** Inverse of a symmetric 3×3 matrix by cofactors — deliberately not the engine's Cholesky. */
export function inverse3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, k] = m[2]!;
  const A = e! * k! - f! * h!;
  const B = -(d! * k! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * k! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * k! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

/** Small deterministic PRNG (mulberry32) so large fixtures need no stored data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
