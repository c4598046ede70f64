import { describe, expect, it } from 'vitest';
import { type BinomialRow, fitLogistic } from '../../../src/reports/stats/index.ts';
import { expectRel, scoreViolation } from './helpers.ts';

const byName = (fit: ReturnType<typeof fitLogistic>, name: string) =>
  fit.coefficients.find((c) => c.name === name)!;

describe('identifiability', () => {
  // Dimension 1 always takes the same level as dimension 0 (e.g. every "Paris" variant used the
  // "café" setting): their effects are confounded. Dimension 2 varies freely.
  const rows: BinomialRow[] = [];
  const clicks = [21, 30, 26, 41, 33, 48];
  for (let l = 0; l < 3; l++) {
    for (let m = 0; m < 2; m++) {
      rows.push({ levels: [l, l, m], successes: clicks[rows.length]!, trials: 1000 + 100 * l });
    }
  }
  const fit = fitLogistic({ dimensions: [3, 3, 2], rows });

  it('marks the aliased coefficients not estimable, naming their partners, without numbers', () => {
    expect(fit.rank).toBe(4);
    for (const [name, partner] of [
      ['d0=1', 'd1=1'],
      ['d0=2', 'd1=2'],
      ['d1=1', 'd0=1'],
      ['d1=2', 'd0=2'],
    ] as const) {
      const c = byName(fit, name);
      expect(c.estimable).toBe(false);
      expect(c.aliased_with).toEqual([partner]);
      expect(c.reason).toMatch(/confounded with/);
      expect([c.estimate, c.se, c.p_value, c.ci, c.odds_ratio]).toEqual([
        null,
        null,
        null,
        null,
        null,
      ]);
    }
    expect(byName(fit, '(intercept)').estimable).toBe(true);
    expect(byName(fit, 'd2=1').estimable).toBe(true);
  });

  it('estimates the estimable ones exactly as the model without the duplicate dimension does', () => {
    // Dropping dimension 1 leaves a full-rank design spanning the same column space, so the
    // estimable coefficients (and their variances) must be identical.
    const reduced = fitLogistic({
      dimensions: [3, 2],
      rows: rows.map((r) => ({ ...r, levels: [r.levels[0]!, r.levels[2]!] })),
    });
    for (const [name, other] of [
      ['(intercept)', '(intercept)'],
      ['d2=1', 'd1=1'],
    ]) {
      expectRel(byName(fit, name!).estimate, byName(reduced, other!).estimate!, 1e-10);
      expectRel(byName(fit, name!).se, byName(reduced, other!).se!, 1e-10);
    }
    expectRel(fit.deviance, reduced.deviance, 1e-9);
    expect(fit.residual_df).toBe(reduced.residual_df);
  });

  it('handles fewer combinations than parameters: absent levels and a saturated remainder', () => {
    // 4 rows for 7 parameters; level 2 of every dimension never runs.
    const few = [
      { levels: [0, 0, 0], successes: 20, trials: 1000 },
      { levels: [1, 0, 0], successes: 30, trials: 1000 },
      { levels: [0, 1, 0], successes: 25, trials: 800 },
      { levels: [0, 0, 1], successes: 12, trials: 900 },
    ];
    const f = fitLogistic({ dimensions: [3, 3, 3], rows: few });
    expect(f.rank).toBe(4);
    expect(f.residual_df).toBe(0);
    for (const name of ['d0=2', 'd1=2', 'd2=2']) {
      expect(byName(f, name).estimable).toBe(false);
      expect(byName(f, name).reason).toBe('no impressions at this level');
    }
    // Saturated on the rest: each effect is a two-group log odds ratio against row 0.
    const logit = (y: number, n: number) => Math.log(y / (n - y));
    expectRel(byName(f, 'd0=1').estimate, logit(30, 1000) - logit(20, 1000), 1e-10);
    expectRel(byName(f, 'd1=1').estimate, logit(25, 800) - logit(20, 1000), 1e-10);
    expectRel(byName(f, 'd2=1').estimate, logit(12, 900) - logit(20, 1000), 1e-10);
  });

  it('says when a dimension has no data at its reference level', () => {
    const f = fitLogistic({
      dimensions: [3, 2],
      rows: [
        { levels: [1, 0], successes: 20, trials: 1000 },
        { levels: [2, 0], successes: 30, trials: 1000 },
        { levels: [1, 1], successes: 25, trials: 1000 },
        { levels: [2, 1], successes: 35, trials: 1000 },
      ],
    });
    for (const name of ['d0=1', 'd0=2']) {
      expect(byName(f, name).estimable).toBe(false);
      expect(byName(f, name).reason).toMatch(/reference level/);
    }
    expect(byName(f, 'd1=1').estimable).toBe(true);
  });

  it('keeps nearly aliased dimensions estimable when one row in 10,000 breaks the tie', () => {
    const near: BinomialRow[] = [];
    for (let i = 0; i < 10_000; i++) {
      const l = i % 2;
      near.push({ levels: [l, i === 0 ? 1 - l : l], successes: 10 + (i % 7), trials: 1000 });
    }
    const f = fitLogistic({ dimensions: [2, 2], rows: near });
    expect(f.rank).toBe(3);
    expect(f.coefficients.every((c) => c.estimable)).toBe(true);
    expect(scoreViolation(f, near)).toBeLessThan(1e-9);
  });
});

describe('separation', () => {
  const base: BinomialRow[] = [
    { levels: [0, 0], successes: 20, trials: 1000 },
    { levels: [1, 0], successes: 0, trials: 900 },
    { levels: [2, 0], successes: 30, trials: 1000 },
    { levels: [0, 1], successes: 25, trials: 1000 },
    { levels: [1, 1], successes: 0, trials: 800 },
    { levels: [2, 1], successes: 41, trials: 1000 },
  ];

  it('flags a level with zero clicks (odds ratio → 0) and prints no numbers for it', () => {
    const fit = fitLogistic({ dimensions: [3, 2], rows: base });
    const c = byName(fit, 'd0=1');
    expect(fit.separation).toBe(true);
    expect(c.separation).toBe(true);
    expect(c.estimable).toBe(true);
    expect(c.direction).toBe(-1);
    expect(c.reason).toMatch(/separation/);
    expect([c.estimate, c.se, c.z, c.p_value, c.ci, c.odds_ratio_ci]).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    for (const name of ['(intercept)', 'd0=2', 'd1=1'])
      expect(byName(fit, name).separation).toBe(false);
  });

  it('estimates the other coefficients as the fit without the separated level does', () => {
    // In the limit the zero-click rows are fitted perfectly and contribute nothing to the
    // likelihood equations, so the finite MLEs are those of the data without them.
    const fit = fitLogistic({ dimensions: [3, 2], rows: base });
    const without = fitLogistic({
      dimensions: [3, 2],
      rows: base.filter((r) => r.levels[0] !== 1),
    });
    expect(byName(without, 'd0=1').estimable).toBe(false);
    for (const name of ['(intercept)', 'd0=2', 'd1=1']) {
      expectRel(byName(fit, name).estimate, byName(without, name).estimate!, 1e-9);
      expectRel(byName(fit, name).se, byName(without, name).se!, 1e-7);
    }
    expectRel(fit.deviance, without.deviance, 1e-8);
  });

  it('flags a level where every impression clicked (odds ratio → ∞)', () => {
    const rows = base.map((r) => (r.levels[0] === 1 ? { ...r, successes: r.trials } : r));
    const c = byName(fitLogistic({ dimensions: [3, 2], rows }), 'd0=1');
    expect(c.separation).toBe(true);
    expect(c.direction).toBe(1);
  });

  it('flags the whole dimension when its reference level has zero clicks', () => {
    const rows = base.map((r) =>
      r.levels[0] === 0 ? { ...r, successes: 0 } : { ...r, successes: r.successes || 5 },
    );
    const fit = fitLogistic({ dimensions: [3, 2], rows });
    for (const name of ['(intercept)', 'd0=1', 'd0=2'])
      expect(byName(fit, name).separation).toBe(true);
    const other = byName(fit, 'd1=1');
    expect(other.separation).toBe(false);
    const without = fitLogistic({
      dimensions: [3, 2],
      rows: rows.filter((r) => r.levels[0] !== 0),
    });
    expectRel(other.estimate, byName(without, 'd1=1').estimate!, 1e-9);
  });

  it('does not flag a level whose clicks are merely rare', () => {
    const rows = base.map((r) => (r.levels[0] === 1 ? { ...r, successes: 1 } : r));
    const fit = fitLogistic({ dimensions: [3, 2], rows });
    expect(fit.separation).toBe(false);
    expect(fit.converged).toBe(true);
    expect(scoreViolation(fit, rows)).toBeLessThan(1e-9);
  });

  it('reports no estimates at all when nobody ever clicked', () => {
    const fit = fitLogistic({
      dimensions: [3, 2],
      rows: base.map((r) => ({ ...r, successes: 0 })),
    });
    expect(fit.coefficients.every((c) => c.separation && c.estimate === null)).toBe(true);
    expect(fit.null_deviance).toBe(0);
  });
});
