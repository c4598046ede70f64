/**
 * Comparisons among non-reference levels (compare) against a computation written here from the
 * textbook definitions, sharing no code with the engine: the contrast β_a − β_b of a dense
 * Newton fit with variance v_a + v_b − 2·c_ab scaled by the Pearson dispersion of variant
 * totals, t tail areas by Simpson integration, and Holm over every test of the report.
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/reports/analysis.ts';
import { DEFAULTS, type Scenario, simulate } from './simulate.ts';
import { expectRel } from './stats/helpers.ts';
import { logisticFit, tQuantile, tTail } from './textbook.ts';

// Levels 1 and 2 of d0 nearly alike, level 3 well below: some pairs rejected, some not.
const s: Scenario = {
  levels: [4, 3, 2],
  impressions: 2e5,
  baseCtr: 0.01,
  variantSd: 0.05,
  effects: [
    [0, 0.1, 0.11, -0.06],
    [0, 0.04, 0.09],
    [0, 0.02],
  ],
};

/** Columns: intercept, d0 levels 1–3, d1 levels 1–2, d2 level 1. */
const column = (d: number, l: number) => [1, 4, 6][d]! + l - 1;

describe('comparisons among non-reference levels against an independent computation', () => {
  it('agrees on odds ratios, t p-values, Holm over levels and pairs together, and interval ends', () => {
    const { collected, dims, combos } = simulate(s, 9191);
    const r = analyse(collected, dims, { ...DEFAULTS, compare: 'all' });
    const X = combos.map((combo) => {
      const x = [1];
      combo.forEach((l, d) => {
        for (let j = 1; j < s.levels[d]!; j++) x.push(l === j ? 1 : 0);
      });
      return x;
    });
    const n = combos.map((_, v) => collected.trials[v]!);
    const y = combos.map((_, v) => collected.successes[v]!);
    const { beta, cov, mu } = logisticFit(X, y, n);
    const chi2 = y.reduce(
      (a, yv, v) => a + (yv - n[v]! * mu[v]!) ** 2 / (n[v]! * mu[v]! * (1 - mu[v]!)),
      0,
    );
    const df = combos.length - 7;
    const scale = Math.max(1, chi2 / df);
    expect(r.model.dispersion!.residual_df).toBe(df);

    // Six levels against their reference, then the pairs: d0 (2|1, 3|1, 3|2) and d1 (2|1).
    const levelTests = [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 1],
      [1, 2],
      [2, 1],
    ].map(([d, l]) => {
      const j = column(d!, l!);
      const se = Math.sqrt(cov[j]![j]! * scale);
      return { kind: 'level', d: d!, l: l!, versus: 0, est: beta[j]!, se };
    });
    const pairTests = [
      [0, 2, 1],
      [0, 3, 1],
      [0, 3, 2],
      [1, 2, 1],
    ].map(([d, a, b]) => {
      const ja = column(d!, a!);
      const jb = column(d!, b!);
      const variance = cov[ja]![ja]! + cov[jb]![jb]! - 2 * cov[ja]![jb]!;
      return {
        kind: 'pair',
        d: d!,
        l: a!,
        versus: b!,
        est: beta[ja]! - beta[jb]!,
        se: Math.sqrt(variance * scale),
      };
    });
    const tests = [...levelTests, ...pairTests].map((t) => ({
      ...t,
      p: tTail(t.est / t.se, df),
      holm: 0,
      tail: 0,
    }));
    const m = tests.length;
    const sorted = [...tests].sort((a, b) => a.p - b.p);
    let running = 0;
    let stop = m;
    sorted.forEach((t, k) => {
      running = Math.max(running, Math.min(1, (m - k) * t.p));
      t.holm = running;
      if (stop === m && !(running < 0.05)) stop = k;
    });
    sorted.forEach((t, k) => {
      t.tail = 0.05 / (m - Math.min(k, stop));
    });
    expect(r.model.tests).toBe(10);
    expect(r.model.comparison_tests).toBe(4);
    expect(r.model.compare).toEqual(['d0', 'd1']);
    expect(r.by_dimension[2]!.comparisons).toEqual([]);

    let rejectedPairs = 0;
    for (const t of tests) {
      const shown =
        t.kind === 'level'
          ? r.by_dimension[t.d]!.levels[t.l]!
          : r.by_dimension[t.d]!.comparisons.find(
              (c) => c.level === `d${t.d}l${t.l}` && c.versus === `d${t.d}l${t.versus}`,
            )!;
      expect(shown).toBeDefined();
      const q = tQuantile(t.tail, df);
      expectRel(shown.effect, Math.exp(t.est), 1e-7);
      expectRel(shown.p_value, t.p, 1e-6);
      expectRel(shown.p_adjusted, t.holm, 1e-6);
      expectRel(shown.interval_level, 1 - t.tail, 1e-12);
      expectRel(shown.effect_ci![0], Math.exp(t.est - q * t.se), 1e-6);
      expectRel(shown.effect_ci![1], Math.exp(t.est + q * t.se), 1e-6);
      expect(shown.verdict === 'conclusive').toBe(t.holm < 0.05);
      if (t.kind === 'pair' && t.holm < 0.05) rejectedPairs++;
    }
    // A check of both sides of the verdict among the pairs.
    expect(rejectedPairs).toBeGreaterThan(0);
    expect(rejectedPairs).toBeLessThan(4);
    // The lift of a pair is taken at the rate of the level it is compared with.
    const pair = r.by_dimension[0]!.comparisons.find(
      (c) => c.level === 'd0l3' && c.versus === 'd0l1',
    )!;
    const p1 = r.by_dimension[0]!.levels[1]!.ctr!;
    expectRel(pair.lift, pair.effect! / (1 - p1 + pair.effect! * p1) - 1, 1e-12);
  });

  it('asks nothing extra by default: no pairs, the family of levels alone', () => {
    const { collected, dims } = simulate(s, 9191);
    const plain = analyse(collected, dims, DEFAULTS);
    const compared = analyse(collected, dims, { ...DEFAULTS, compare: ['d1'] });
    expect(plain.by_dimension.every((d) => d.comparisons.length === 0)).toBe(true);
    expect(plain.model.tests).toBe(6);
    expect(compared.model.tests).toBe(7);
    expect(compared.by_dimension[0]!.comparisons).toEqual([]);
    expect(compared.by_dimension[1]!.comparisons.map((c) => [c.level, c.versus])).toEqual([
      ['d1l2', 'd1l1'],
    ]);
    // Same fit, same raw p-values; one more test can only raise a Holm-adjusted p.
    plain.by_dimension.forEach((d, i) => {
      d.levels.forEach((l, j) => {
        const other = compared.by_dimension[i]!.levels[j]!;
        expect(other.p_value).toBe(l.p_value);
        if (l.p_adjusted !== null) expect(other.p_adjusted!).toBeGreaterThanOrEqual(l.p_adjusted);
      });
    });
  });
});

describe('comparisons on simulated campaigns (3×3×2×2, 36 variants, seeded)', () => {
  const REPORTS = 300;
  /** 5% plus two Monte Carlo standard errors. */
  const NOMINAL = 0.05 + 2 * Math.sqrt((0.05 * 0.95) / REPORTS);

  it('keeps reports with any conclusive level or pair at ≤ 5% + MC error with no true effect', () => {
    const null0: Scenario = {
      levels: [3, 3, 2, 2],
      impressions: 1e5,
      baseCtr: 0.01,
      variantSd: 0.1,
    };
    let hits = 0;
    for (let k = 0; k < REPORTS; k++) {
      const { collected, dims } = simulate(null0, 30_000 + k);
      const r = analyse(collected, dims, { ...DEFAULTS, compare: 'all' });
      expect(r.model.tests).toBe(8);
      const any = r.by_dimension.some(
        (d) =>
          d.levels.some((l) => l.verdict === 'conclusive') ||
          d.comparisons.some((c) => c.verdict === 'conclusive'),
      );
      if (any) hits++;
    }
    expect(hits / REPORTS).toBeLessThanOrEqual(NOMINAL);
  });

  it('finds a planted difference between two non-reference levels and covers it', () => {
    // d0l2 against d0l1: log odds ratio 0.15 (about +16% CTR), per-variant logit SD 0.05.
    const planted: Scenario = {
      levels: [3, 3, 2, 2],
      impressions: 1e6,
      baseCtr: 0.01,
      variantSd: 0.05,
      effects: [[0, 0.05, 0.2]],
    };
    let conclusive = 0;
    let covered = 0;
    const n = 100;
    for (let k = 0; k < n; k++) {
      const { collected, dims } = simulate(planted, 40_000 + k);
      const pair = analyse(collected, dims, { ...DEFAULTS, compare: ['d0'] }).by_dimension[0]!
        .comparisons[0]!;
      expect([pair.level, pair.versus]).toEqual(['d0l2', 'd0l1']);
      if (pair.verdict === 'conclusive') conclusive++;
      if (
        pair.effect_ci &&
        pair.effect_ci[0] <= Math.exp(0.15) &&
        Math.exp(0.15) <= pair.effect_ci[1]
      )
        covered++;
    }
    expect(conclusive / n).toBeGreaterThanOrEqual(0.9);
    expect(covered / n).toBeGreaterThanOrEqual(0.9);
  });
});
