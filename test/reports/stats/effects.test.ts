import { describe, expect, it } from 'vitest';
import { type BinomialRow, levelEffects, wilson } from '../../../src/reports/stats/index.ts';
import { expectRel } from './helpers.ts';

// Two dimensions: tone (3 levels) × city (3 levels), full factorial, with a zero-click level
// added as a fourth tone and a city that always co-occurs with it (confounded).
const rows: BinomialRow[] = [];
const clicks = [
  [20, 26, 31],
  [29, 35, 38],
  [18, 22, 27],
];
for (let t = 0; t < 3; t++) {
  for (let c = 0; c < 3; c++)
    rows.push({ levels: [t, c], successes: clicks[t]![c]!, trials: 1000 });
}
rows.push({ levels: [3, 3], successes: 0, trials: 500 });

const input = {
  dimensions: [
    { name: 'tone', levels: ['calm', 'funny', 'urgent', 'silent'] },
    { name: 'city', levels: ['Paris', 'Lyon', 'Nice', 'Lille'] },
  ],
  rows,
};

describe('levelEffects', () => {
  const out = levelEffects(input);
  const tone = out.dimensions[0]!;
  const city = out.dimensions[1]!;

  it('reports the reference level as odds ratio 1 with no test', () => {
    const ref = tone.levels[0]!;
    expect(ref).toMatchObject({
      level: 0,
      name: 'calm',
      reference: true,
      effect: 1,
      p_value: null,
      p_adjusted: null,
    });
    expect(tone.reference_level).toBe(0);
  });

  it('gives marginal counts with Wilson intervals at the model confidence', () => {
    const funny = tone.levels[1]!;
    expect(funny.successes).toBe(29 + 35 + 38);
    expect(funny.trials).toBe(3000);
    expectRel(funny.rate, 102 / 3000, 1e-15);
    expect(funny.rate_ci).toEqual(wilson(102, 3000));
  });

  it('Holm-adjusts within the dimension over levels that have a p-value', () => {
    // Hand-applied Holm on the two testable tone levels (silent is confounded: no p-value).
    const [p1, p2] = [tone.levels[1]!.p_value!, tone.levels[2]!.p_value!];
    const lo = Math.min(p1, p2);
    const hi = Math.max(p1, p2);
    const adjLo = Math.min(1, 2 * lo);
    const adjHi = Math.max(adjLo, hi);
    expect(tone.levels[p1 <= p2 ? 1 : 2]!.p_adjusted).toBeCloseTo(adjLo, 15);
    expect(tone.levels[p1 <= p2 ? 2 : 1]!.p_adjusted).toBeCloseTo(adjHi, 15);
    expect(tone.levels[3]!.p_adjusted).toBeNull();
  });

  it('passes odds ratios, intervals and flags through from the model', () => {
    const funny = tone.levels[1]!;
    expectRel(funny.effect, Math.exp(funny.log_odds_ratio!), 1e-15);
    expect(funny.effect_ci![0]).toBeLessThan(funny.effect!);
    expect(funny.effect_ci![1]).toBeGreaterThan(funny.effect!);
    // silent ≡ Lille: confounded, so no effect for either, whatever the zero clicks suggest.
    for (const level of [tone.levels[3]!, city.levels[3]!]) {
      expect(level.estimable).toBe(false);
      expect(level.effect).toBeNull();
      expect(level.reason).toMatch(/confounded/);
    }
  });

  it('describes the model', () => {
    expect(out.model).toMatchObject({
      family: 'binomial',
      link: 'logit',
      coding: 'treatment',
      rows: 10,
      parameters: 7,
      rank: 6,
      residual_df: 4,
      converged: true,
    });
    expect(out.model.deviance).toBeLessThan(out.model.null_deviance);
  });

  it('flags a separated level with its direction', () => {
    // Same data with "silent" spread over Paris and Lyon instead of a private city.
    const spread = rows.slice(0, 9).concat([
      { levels: [3, 0], successes: 0, trials: 500 },
      { levels: [3, 1], successes: 0, trials: 500 },
    ]);
    const silent = levelEffects({ ...input, rows: spread }).dimensions[0]!.levels[3]!;
    expect(silent).toMatchObject({
      estimable: true,
      separation: true,
      direction: -1,
      effect: null,
      p_value: null,
    });
    expect(silent.trials).toBe(1000);
    expect(silent.rate).toBe(0);
  });
});
