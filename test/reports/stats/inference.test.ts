/**
 * The inference pieces added for dispersion and report-wide error control, against scipy 1.17
 * values (computed once, quoted here) and against properties that define them.
 */
import { describe, expect, it } from 'vitest';
import {
  adjust,
  benjaminiHochberg,
  probBest,
  seededUniform,
  studentQuantileTwoSided,
  studentTwoSidedP,
  variantDispersion,
} from '../../../src/reports/stats/index.ts';
import { expectRel } from './helpers.ts';

describe('Student t', () => {
  // 2·stats.t.sf(t, df) and stats.t.isf(alpha / 2, df), scipy 1.17.
  const tails: [number, number, number][] = [
    [2, 1, 0.2951672353008665],
    [2, 5, 0.10193947882985835],
    [10, 3, 0.0021283990584141503],
    [5, 1e5, 5.742701678641679e-7],
    [30, 1e5, 7.37853687222276e-197],
    [1, 1e6, 0.3173107498335783],
    [0.1, 2, 0.9294654384141402],
    [40, 20, 1.457469655431075e-20],
  ];
  it('gives two-sided tails to 1e-9 relative, deep tails included', () => {
    for (const [t, df, p] of tails) expectRel(studentTwoSidedP(t, df), p, 1e-9);
    expect(studentTwoSidedP(1.5, Number.POSITIVE_INFINITY)).toBeCloseTo(0.1336144025377, 12);
  });

  const quantiles: [number, number, number][] = [
    [0.05, 1, 12.706204736174705],
    [0.05, 5, 2.5705818356363155],
    [0.001, 3, 12.923978636687481],
    [0.05, 1e5, 1.95998770753461],
    [0.2, 10, 1.3721836411103359],
    [1e-6, 2, 999.9992499998438],
  ];
  it('inverts the tail', () => {
    for (const [a, df, q] of quantiles) expectRel(studentQuantileTwoSided(a, df), q, 1e-9);
  });
});

describe('report-wide adjustment', () => {
  it('matches scipy false_discovery_control for Benjamini–Hochberg', () => {
    const p = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.5, null]);
    for (const [i, q] of [0.025, 0.05, 0.05, 0.025, 0.5].entries()) expectRel(p[i], q, 1e-15);
    expect(p[5]).toBeNaN();
  });

  it('gives intervals that exclude the null exactly when the adjusted test rejects', () => {
    // A z test per p-value: the interval at tail a excludes 0 iff p < a. Checked on random
    // families, for both methods and several alphas, including the Holm stop-early case.
    const u = seededUniform(7);
    let rejections = 0;
    let agreements = 0;
    for (let family = 0; family < 2000; family++) {
      const m = 1 + Math.floor(u() * 12);
      const ps = Array.from({ length: m }, () => (u() < 0.5 ? u() * 0.05 : u()));
      for (const method of ['holm', 'bh'] as const) {
        for (const alpha of [0.01, 0.05, 0.2]) {
          const { p, intervalAlpha } = adjust(ps, method, alpha);
          ps.forEach((raw, i) => {
            const rejected = p[i]! < alpha;
            const excludes = raw < intervalAlpha[i]!;
            if (rejected) rejections++;
            expect(excludes, `${method} ${alpha} ${ps} at ${i}`).toBe(rejected);
            agreements++;
          });
        }
      }
    }
    expect(rejections).toBeGreaterThan(agreements / 10);
  });

  it('uses Holm step levels: α/m, α/(m − 1), … up to the first acceptance', () => {
    const { p, intervalAlpha } = adjust([0.001, 0.02, 0.03, 0.2], 'holm', 0.05);
    expect(p).toEqual([0.004, 0.06, 0.06, 0.2]);
    // Step 1 rejects (0.001 < 0.0125); step 2 accepts (0.02 ≥ 0.05/3): steps 2–4 use 0.05/3.
    expect(intervalAlpha).toEqual([0.0125, 0.05 / 3, 0.05 / 3, 0.05 / 3]);
  });
});

describe('probability of being best', () => {
  it('matches numerical integration for independent contrasts (scipy quad)', () => {
    // Reference fixed at 0; levels N(0.1, 0.1²) and N(0.2, 0.1²), independent.
    const [ref, a, b] = probBest(
      [0, 0.1, 0.2],
      [
        [0, 0, 0],
        [0, 0.01, 0],
        [0, 0, 0.01],
      ],
    );
    expect(Math.abs(a! - 0.23831048939559185)).toBeLessThan(0.012);
    expect(Math.abs(b! - 0.7580800826431957)).toBeLessThan(0.012);
    expect(Math.abs(ref! - 0.003609427961212524)).toBeLessThan(0.003);
    expect(a! + b! + ref!).toBeCloseTo(1, 12);
  });

  it('is deterministic', () => {
    const cov = [
      [0, 0],
      [0, 0.04],
    ];
    expect(probBest([0, 0.05], cov)).toEqual(probBest([0, 0.05], cov));
  });
});

describe('dispersion between variants', () => {
  it('sums cells per variant before squaring', () => {
    // Two variants in two cells each, fitted rate 0.1 everywhere, one parameter.
    const d = variantDispersion({
      successes: [12, 8, 30, 25],
      trials: [100, 100, 200, 200],
      fitted: [0.1, 0.1, 0.1, 0.1],
      group: [0, 0, 1, 1],
      variants: 2,
      rank: 1,
    });
    // Variant 0: residual 0 → 0. Variant 1: residual 15, variance 36 → 6.25.
    expect(d.pearson_chi2).toBeCloseTo(6.25, 12);
    expect(d).toMatchObject({ variants: 2, residual_df: 1, phi: 6.25, scale: 6.25 });
    const none = variantDispersion({
      successes: [10],
      trials: [100],
      fitted: [0.1],
      group: [0],
      variants: 1,
      rank: 1,
    });
    expect(none).toMatchObject({ residual_df: 0, phi: null, scale: null });
  });
});
