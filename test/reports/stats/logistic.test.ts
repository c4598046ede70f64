import { describe, expect, it } from 'vitest';
import { type BinomialRow, fitLogistic } from '../../../src/reports/stats/index.ts';
import { coef, expectRel, fittedClicks, inverse3, rng, scoreViolation } from './helpers.ts';

describe('fitLogistic: one binary factor (closed form)', () => {
  // Control 20/1000, treatment 35/900. The MLE of the saturated 2-group model is the sample
  // log odds ratio: log(a·d/(b·c)) with a = 35, b = 865 (treated clicks / non-clicks), c = 20,
  // d = 980, SE = √(1/a + 1/b + 1/c + 1/d) (Woolf); the intercept is log(20/980), SE √(1/20 + 1/980).
  const rows = [
    { levels: [0], successes: 20, trials: 1000 },
    { levels: [1], successes: 35, trials: 900 },
  ];
  const fit = fitLogistic({ dimensions: [2], rows });

  it('reproduces log OR and Woolf SE to 1e-8 (in fact ~1e-13)', () => {
    const [b0, b1] = fit.coefficients;
    expect(Math.abs(b1!.estimate! - Math.log((35 * 980) / (865 * 20)))).toBeLessThan(1e-8);
    expect(Math.abs(b1!.se! - Math.sqrt(1 / 35 + 1 / 865 + 1 / 20 + 1 / 980))).toBeLessThan(1e-8);
    expectRel(b1!.estimate, Math.log((35 * 980) / (865 * 20)), 1e-12);
    expectRel(b1!.se, Math.sqrt(1 / 35 + 1 / 865 + 1 / 20 + 1 / 980), 1e-12);
    expectRel(b0!.estimate, Math.log(20 / 980), 1e-12);
    expectRel(b0!.se, Math.sqrt(1 / 20 + 1 / 980), 1e-12);
  });

  it('derives z, p, Wald CI and odds ratio from the estimate and SE', () => {
    const b1 = fit.coefficients[1]!;
    const est = Math.log((35 * 980) / (865 * 20));
    const se = Math.sqrt(1 / 35 + 1 / 865 + 1 / 20 + 1 / 980);
    expectRel(b1.z, est / se, 1e-12);
    // reference.py "2x1 z" / "2x1 p": 2.4086240583454614, 2·Φ(−z) = 0.016012783045274482.
    expectRel(b1.z, 2.4086240583454614, 1e-12);
    expectRel(b1.p_value, 0.01601278304527448, 1e-12);
    expectRel(b1.ci![0], est - 1.959963984540054 * se, 1e-12);
    expectRel(b1.ci![1], est + 1.959963984540054 * se, 1e-12);
    expectRel(b1.odds_ratio, (35 * 980) / (865 * 20), 1e-12);
    expectRel(b1.odds_ratio_ci![0], Math.exp(est - 1.959963984540054 * se), 1e-12);
    expect(b1.estimable).toBe(true);
    expect(b1.separation).toBe(false);
  });

  it('reports a saturated model: deviance 0, residual df 0, null deviance = G² of the 2×2 table', () => {
    expect(fit.converged).toBe(true);
    expect(fit.deviance).toBeLessThan(1e-10);
    expect(fit.residual_df).toBe(0);
    expect(fit.rows).toBe(2);
    expect(fit.parameters).toBe(2);
    // G² = 2 Σ O·log(O/E) over the four cells with pooled rate 55/1900.
    const cells = [
      [20, (1000 * 55) / 1900],
      [980, (1000 * 1845) / 1900],
      [35, (900 * 55) / 1900],
      [865, (900 * 1845) / 1900],
    ];
    const g2 = 2 * cells.reduce((s, [o, e]) => s + o! * Math.log(o! / e!), 0);
    expectRel(fit.null_deviance, g2, 1e-11);
  });
});

describe('fitLogistic: 2×2 factorial, main effects only', () => {
  // Not closed form. Expected values: dense Newton in mpmath at 50 digits (reference.py, "2x2
  // main effects"); independently, the likelihood equations (fitted = observed clicks on every
  // margin) and the inverse Fisher information by cofactors are checked in the test itself.
  const rows: BinomialRow[] = [
    { levels: [0, 0], successes: 30, trials: 1000 },
    { levels: [1, 0], successes: 45, trials: 1100 },
    { levels: [0, 1], successes: 52, trials: 950 },
    { levels: [1, 1], successes: 60, trials: 1020 },
  ];
  const fit = fitLogistic({ dimensions: [2, 2], rows });

  it('matches the mpmath MLE and SEs to 1e-10', () => {
    const expected = [
      [-3.390958224316449, 0.1452189168707623],
      [0.17485823457728747, 0.1510280739121329],
      [0.48829063358064034, 0.15265239504558853],
    ];
    fit.coefficients.forEach((c, j) => {
      expectRel(c.estimate, expected[j]![0]!, 1e-10);
      expectRel(c.se, expected[j]![1]!, 1e-10);
    });
    expectRel(fit.deviance, 0.6311675104215118, 1e-9);
    expect(fit.residual_df).toBe(1);
  });

  it('satisfies the score equations: fitted clicks match every margin to 1e-9', () => {
    expect(scoreViolation(fit, rows)).toBeLessThan(1e-9);
  });

  it('has SEs equal to the diagonal of the inverse Fisher information, inverted by cofactors', () => {
    const fitted = fittedClicks(fit, rows);
    const info = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    rows.forEach((r, i) => {
      const x = [1, r.levels[0]!, r.levels[1]!];
      const mu = fitted[i]! / r.trials;
      const w = r.trials * mu * (1 - mu);
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) info[a]![b]! += w * x[a]! * x[b]!;
    });
    const inv = inverse3(info);
    fit.coefficients.forEach((c, j) => {
      expectRel(c.se, Math.sqrt(inv[j]![j]!), 1e-10);
      expectRel(fit.covariance[j]![(j + 1) % 3]!, inv[j]![(j + 1) % 3]!, 1e-9);
    });
  });

  it('does not call a single zero-click cell separation: the main-effects MLE is finite', () => {
    const zeroCell = rows.map((r, i) => (i === 3 ? { ...r, successes: 0 } : r));
    const f = fitLogistic({ dimensions: [2, 2], rows: zeroCell });
    expect(f.converged).toBe(true);
    expect(f.separation).toBe(false);
    expect(f.coefficients.every((c) => c.estimate !== null && Number.isFinite(c.se))).toBe(true);
    expect(scoreViolation(f, zeroCell)).toBeLessThan(1e-9);
  });
});

// L9(3⁴) orthogonal array (Taguchi): every pair of columns shows each of the 9 level pairs once.
const L9 = [
  [0, 0, 0, 0],
  [0, 1, 1, 1],
  [0, 2, 2, 2],
  [1, 0, 1, 2],
  [1, 1, 2, 0],
  [1, 2, 0, 1],
  [2, 0, 2, 1],
  [2, 1, 0, 2],
  [2, 2, 1, 0],
];

describe('fitLogistic: L9 orthogonal array', () => {
  it('recovers generating odds ratios from sampling-free counts (4 factors, saturated)', () => {
    const odds0 = 0.01 / 0.99;
    const trueOR = [
      [1, 1.5, 0.8],
      [1, 1.2, 2],
      [1, 0.7, 0.9],
      [1, 1.1, 1.3],
    ];
    const n = 1e10;
    const rows = L9.map((levels) => {
      const odds = levels.reduce((o, l, d) => o * trueOR[d]![l]!, odds0);
      return { levels, trials: n, successes: Math.round((n * odds) / (1 + odds)) };
    });
    const fit = fitLogistic({ dimensions: [3, 3, 3, 3], rows });
    expect(fit.converged).toBe(true);
    expect(fit.parameters).toBe(9);
    expect(fit.residual_df).toBe(0);
    // Rounding clicks (~1e8 each) perturbs log odds by ≲ 1e-8.
    expectRel(Math.exp(coef(fit, null)), odds0, 1e-7);
    for (let d = 0; d < 4; d++) {
      for (let l = 1; l < 3; l++) {
        const c = fit.coefficients.find((k) => k.dimension === d && k.level === l)!;
        expectRel(c.odds_ratio, trueOR[d]![l]!, 1e-7);
      }
    }
    // Saturated: each row's fitted clicks equal its observed clicks.
    fittedClicks(fit, rows).forEach((f, i) => {
      expectRel(f, rows[i]!.successes, 1e-9);
    });
    expect(fit.deviance).toBeLessThan(1e-6);
  });

  it('fits noisy counts on 3 columns (7 parameters, 2 residual df) to the mpmath MLE', () => {
    const clicks = [31, 44, 29, 58, 40, 37, 25, 61, 47];
    const rows = L9.map((r, i) => ({ levels: r.slice(0, 3), successes: clicks[i]!, trials: 2000 }));
    const fit = fitLogistic({ dimensions: [3, 3, 3], rows });
    // reference.py, "L9 3 factors".
    const expected = [
      [-4.1154753353675595, 0.1522410368062445],
      [0.31245536753551384, 0.13380525635471158],
      [0.27238248075195265, 0.13395880407784805],
      [0.2684851699507911, 0.12851294713662542],
      [-0.030199411134256234, 0.13558080671833692],
      [0.17027893135552902, 0.12282868682994415],
      [-0.32928873546370846, 0.13788413121816742],
    ];
    fit.coefficients.forEach((c, j) => {
      expectRel(c.estimate, expected[j]![0]!, 1e-9);
      expectRel(c.se, expected[j]![1]!, 1e-9);
    });
    expectRel(fit.deviance, 5.755508911727203, 1e-9);
    expect(fit.residual_df).toBe(2);
    expect(scoreViolation(fit, rows)).toBeLessThan(1e-9);
  });
});

describe('fitLogistic: scale and robustness', () => {
  it('fits 100k rows × 61 parameters and converges (performance smoke, no timing asserted)', () => {
    const r = rng(2024);
    const levels = Array(10).fill(7) as number[];
    const effects = levels.map((L) =>
      Array.from({ length: L }, (_, l) => (l ? (r() - 0.5) * 0.8 : 0)),
    );
    const rows: BinomialRow[] = [];
    for (let i = 0; i < 100_000; i++) {
      const lv = levels.map((L) => Math.floor(r() * L));
      const eta = -3.5 + lv.reduce((s, l, d) => s + effects[d]![l]!, 0);
      const trials = 200 + Math.floor(r() * 2000);
      // Expected clicks, rounded: deterministic, near-model data.
      rows.push({ levels: lv, trials, successes: Math.round(trials / (1 + Math.exp(-eta))) });
    }
    const fit = fitLogistic({ dimensions: levels, rows });
    expect(fit.converged).toBe(true);
    expect(fit.parameters).toBe(61);
    expect(fit.rank).toBe(61);
    expect(fit.separation).toBe(false);
    expect(scoreViolation(fit, rows)).toBeLessThan(1e-9);
    // Rounding noise only: every effect is recovered to well within 0.05 on the log-odds scale.
    for (const c of fit.coefficients) {
      if (c.dimension === null) continue;
      expect(Math.abs(c.estimate! - effects[c.dimension]![c.level!]!)).toBeLessThan(0.05);
    }
  });

  it('ignores rows with zero impressions and rejects malformed rows', () => {
    const base = [
      { levels: [0], successes: 20, trials: 1000 },
      { levels: [1], successes: 35, trials: 900 },
    ];
    const a = fitLogistic({ dimensions: [2], rows: base });
    const b = fitLogistic({
      dimensions: [2],
      rows: [...base, { levels: [1], successes: 0, trials: 0 }],
    });
    expect(b.rows).toBe(2);
    expect(b.coefficients[1]!.estimate).toBe(a.coefficients[1]!.estimate);
    expect(() =>
      fitLogistic({ dimensions: [2], rows: [{ levels: [2], successes: 1, trials: 2 }] }),
    ).toThrow(RangeError);
    expect(() =>
      fitLogistic({ dimensions: [2], rows: [{ levels: [0], successes: 3, trials: 2 }] }),
    ).toThrow(RangeError);
    expect(() =>
      fitLogistic({ dimensions: [2, 2], rows: [{ levels: [0], successes: 1, trials: 2 }] }),
    ).toThrow(RangeError);
  });

  it('names coefficients from dimension specs', () => {
    const fit = fitLogistic({
      dimensions: [{ name: 'tone', levels: ['calm', 'funny', 'urgent'] }],
      rows: [
        { levels: [0], successes: 10, trials: 500 },
        { levels: [1], successes: 14, trials: 500 },
        { levels: [2], successes: 9, trials: 500 },
      ],
    });
    expect(fit.coefficients.map((c) => c.name)).toEqual([
      '(intercept)',
      'tone=funny',
      'tone=urgent',
    ]);
  });
});
