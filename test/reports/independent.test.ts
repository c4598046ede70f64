/**
 * One simulated report's numbers against a computation written here from the textbook
 * definitions, sharing no code with the engine: a dense Newton–Raphson fit with Gauss–Jordan
 * inversion, the Pearson X² of variant totals, t tail areas by Simpson integration of the t
 * density, Holm by its definition and the Holm-consistent interval levels (adjust.ts).
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/reports/analysis.ts';
import { DEFAULTS, type Scenario, simulate } from './simulate.ts';
import { expectRel } from './stats/helpers.ts';
import { betweenShare, logisticFit, tQuantile, tTail } from './textbook.ts';

describe('a simulated report against an independent computation', () => {
  // Planted effect and a platform split that differs by level: strata, overdispersion, some
  // levels rejected and some not, so Holm's interval levels differ.
  const s: Scenario = {
    levels: [3, 3, 2, 2],
    impressions: 2e5,
    baseCtr: 0.01,
    variantSd: 0.05,
    effects: [
      [0, 0.12, -0.03],
      [0, 0.05, 0.02],
      [0, 0.08],
    ],
    platforms: {
      names: ['meta', 'tiktok'],
      shift: [0.3, -0.3],
      share: (combo) => (combo[1] === 2 ? [0.7, 0.3] : [0.55, 0.45]),
    },
  };

  it('agrees on odds ratios, dispersion, t p-values, Holm and interval ends', () => {
    const { collected, dims, combos } = simulate(s, 4242);
    const r = analyse(collected, dims, DEFAULTS);
    // Design: intercept, 2 + 2 + 1 + 1 level columns, then tiktok (meta is the larger stratum).
    const X: number[][] = [];
    const y: number[] = [];
    const n: number[] = [];
    const variantOf: number[] = [];
    combos.forEach((combo, v) => {
      const cells = collected.cells[v]!;
      for (let k = 0; k < cells.length; k += 4) {
        const x = [1];
        combo.forEach((l, d) => {
          for (let j = 1; j < s.levels[d]!; j++) x.push(l === j ? 1 : 0);
        });
        x.push(collected.platforms[cells[k]!] === 'tiktok' ? 1 : 0);
        X.push(x);
        n.push(cells[k + 2]!);
        y.push(cells[k + 3]!);
        variantOf.push(v);
      }
    });
    const { beta, cov, mu } = logisticFit(X, y, n);
    const resid = combos.map(() => 0);
    const variance = combos.map(() => 0);
    X.forEach((_, i) => {
      resid[variantOf[i]!]! += y[i]! - n[i]! * mu[i]!;
      variance[variantOf[i]!]! += n[i]! * mu[i]! * (1 - mu[i]!);
    });
    const chi2 = resid.reduce((a, e, v) => a + (e * e) / variance[v]!, 0);
    // Seven level columns, and the platform column's share of variation between variants
    // (tiktok takes 30% or 45% by level), rounded up: it can fit variant totals that far.
    const split = combos.map((_, v) => {
      const cells = collected.cells[v]!;
      const at = (name: string) => {
        for (let k = 0; k < cells.length; k += 4)
          if (collected.platforms[cells[k]!] === name) return cells[k + 2]!;
        return 0;
      };
      return [at('meta'), at('tiktok')];
    });
    const df = combos.length - 7 - Math.ceil(betweenShare(split));
    expect(Math.ceil(betweenShare(split))).toBe(1);
    const scale = Math.max(1, chi2 / df);
    expectRel(r.model.dispersion!.pearson_chi2, chi2, 1e-7);
    expect(r.model.dispersion!.residual_df).toBe(df);
    expect(scale).toBeGreaterThan(1.5);

    const tests = [1, 2, 3, 4, 5, 6].map((j) => {
      const se = Math.sqrt(cov[j]![j]! * scale);
      return { j, beta: beta[j]!, se, p: tTail(beta[j]! / se, df) };
    });
    const sorted = [...tests].sort((a, b) => a.p - b.p);
    let running = 0;
    let stop = sorted.length;
    sorted.forEach((t, s) => {
      running = Math.max(running, Math.min(1, (6 - s) * t.p));
      Object.assign(t, { holm: running });
      if (stop === sorted.length && !(running < 0.05)) stop = s;
    });
    sorted.forEach((t, s) => {
      Object.assign(t, { tail: 0.05 / (6 - Math.min(s, stop)) });
    });
    const at = [
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
      [2, 1],
      [3, 1],
    ];
    let rejected = 0;
    tests.forEach((t, k) => {
      const [d, l] = at[k]!;
      const level = r.by_dimension[d!]!.levels[l!]!;
      const { holm, tail } = t as typeof t & { holm: number; tail: number };
      const q = tQuantile(tail, df);
      expectRel(level.effect, Math.exp(t.beta), 1e-7);
      expectRel(level.p_value, t.p, 1e-6);
      expectRel(level.p_adjusted, holm, 1e-6);
      expectRel(level.interval_level, 1 - tail, 1e-12);
      expectRel(level.effect_ci![0], Math.exp(t.beta - q * t.se), 1e-6);
      expectRel(level.effect_ci![1], Math.exp(t.beta + q * t.se), 1e-6);
      expect(level.verdict === 'conclusive').toBe(holm < 0.05);
      if (holm < 0.05) rejected++;
    });
    // The case is only a check of the interval levels if some, not all, are rejected.
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(6);
  });
});
