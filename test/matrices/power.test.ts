import { describe, expect, it } from 'vitest';
import { analyseDesign } from '../../src/matrices/designs/index.ts';
import { type PowerInput, powerAnalysis } from '../../src/matrices/power.ts';

// Written out rather than computed by the code under test.
const Z975 = 1.959963984540054;
const Z80 = 0.8416212335729143;
const Z995 = 2.5758293035489004;
const Z90 = 1.2815515655446004;

const input = (over: Partial<PowerInput>): PowerInput => ({
  baseline_ctr: 0.01,
  impressions_per_variant: 100_000,
  confidence: 0.95,
  power: 0.8,
  variant_sd: 0,
  target_mde: 0.1,
  ...over,
});

/**
 * Two groups of g variants, m impressions each, no dispersion: the textbook two-proportion
 * comparison on the log odds ratio, Var = 1/(N·p·q) + 1/(N·p·q) with N = g·m per arm.
 */
function twoGroupMde(p0: number, g: number, m: number, tau: number, z: number): number {
  const n = g * m;
  const se = Math.sqrt(2 / (n * p0 * (1 - p0)) + (2 * tau * tau) / g);
  const odds = (p0 / (1 - p0)) * Math.exp(z * se);
  return odds / (1 + odds) / p0 - 1;
}

function twoGroups(g: number) {
  const combinations = [...Array(g).fill([0]), ...Array(g).fill([1])] as number[][];
  return {
    combinations,
    dimensions: [{ key: 'tone', levels: [{ key: 'calm' }, { key: 'playful' }] }],
    mainEffects: analyseDesign({ levels: [2], exclusions: [] }, combinations).mainEffects,
  };
}

describe('power before spend', () => {
  it('matches the two-proportion closed form for two equal groups', () => {
    const design = twoGroups(4);
    const out = powerAnalysis({ ...design, input: input({}) });
    const expected = twoGroupMde(0.01, 4, 100_000, 0, Z975 + Z80);
    expect(out.mde.tone).toBeCloseTo(expected, 12);
    expect(out.dimensions[0]).toMatchObject({
      dimension: 'tone',
      reference: 'calm',
      levels: [{ level: 'playful', variants: 4 }],
    });
    // Sanity on the scale: 400k impressions per arm at 1% CTR detect about +6.3%.
    expect(expected).toBeGreaterThan(0.06);
    expect(expected).toBeLessThan(0.065);
  });

  it('adds between-variant dispersion and other confidence and power', () => {
    const design = twoGroups(6);
    const out = powerAnalysis({
      ...design,
      input: input({ variant_sd: 0.1, confidence: 0.99, power: 0.9, baseline_ctr: 0.02 }),
    });
    expect(out.mde.tone).toBeCloseTo(twoGroupMde(0.02, 6, 100_000, 0.1, Z995 + Z90), 12);
  });

  it('spreads a media budget over the variants', () => {
    const design = twoGroups(5);
    // $2,000 at $10 CPM = 200,000 impressions over 10 variants.
    const out = powerAnalysis({
      ...design,
      input: input({ impressions_per_variant: undefined, media_budget_usd: 2000, cpm_usd: 10 }),
    });
    expect(out.impressions_per_variant).toBe(20_000);
    expect(out.mde.tone).toBeCloseTo(twoGroupMde(0.01, 5, 20_000, 0, Z975 + Z80), 12);
  });

  it('finds the fewest impressions per variant that detect the target MDE', () => {
    const design = twoGroups(4);
    for (const tau of [0, 0.02]) {
      const needed = powerAnalysis({ ...design, input: input({ variant_sd: tau }) })
        .impressions_needed_per_variant.tone!;
      expect(twoGroupMde(0.01, 4, needed, tau, Z975 + Z80)).toBeLessThanOrEqual(0.1 + 1e-12);
      expect(twoGroupMde(0.01, 4, needed - 1, tau, Z975 + Z80)).toBeGreaterThan(0.1);
    }
  });

  it('says no impressions suffice when dispersion alone hides the target', () => {
    // τ = 0.2 over 4 variants per arm: SE ≥ 0.2·√(2/4) ≈ 0.14 in log odds, far above +10%.
    const out = powerAnalysis({ ...twoGroups(4), input: input({ variant_sd: 0.2 }) });
    expect(out.impressions_needed_per_variant.tone).toBeNull();
    expect(out.mde.tone).toBeGreaterThan(0.1);
  });

  it('uses 2s/n for each level of an s-level dimension in an orthogonal array', () => {
    // L9: three variants per level, Var(level − reference) = 1/3 + 1/3 = 2·3/9.
    const combinations = [
      [0, 0, 0, 0],
      [0, 1, 1, 2],
      [0, 2, 2, 1],
      [1, 0, 1, 1],
      [1, 1, 2, 0],
      [1, 2, 0, 2],
      [2, 0, 2, 2],
      [2, 1, 0, 1],
      [2, 2, 1, 0],
    ];
    const me = analyseDesign({ levels: [3, 3, 3, 3], exclusions: [] }, combinations).mainEffects;
    const dims = ['a', 'b', 'c', 'd'].map((key) => ({
      key,
      levels: [{ key: 'x' }, { key: 'y' }, { key: 'z' }],
    }));
    const out = powerAnalysis({
      input: input({ variant_sd: 0.05 }),
      dimensions: dims,
      combinations,
      mainEffects: me,
    });
    const se = Math.sqrt((1 / (1e5 * 0.01 * 0.99) + 0.05 ** 2) * (2 / 3));
    const odds = (0.01 / 0.99) * Math.exp((Z975 + Z80) * se);
    for (const key of ['a', 'b', 'c', 'd'])
      expect(out.mde[key]).toBeCloseTo(odds / (1 + odds) / 0.01 - 1, 12);
  });

  it('reports null for a dimension the design cannot estimate', () => {
    const combinations = [
      [0, 0],
      [1, 1],
    ];
    const me = analyseDesign({ levels: [2, 2], exclusions: [] }, combinations).mainEffects;
    const out = powerAnalysis({
      input: input({}),
      dimensions: [
        { key: 'a', levels: [{ key: 'x' }, { key: 'y' }] },
        { key: 'b', levels: [{ key: 'x' }, { key: 'y' }] },
      ],
      combinations,
      mainEffects: me,
    });
    expect(out.mde).toEqual({ a: null, b: null });
    expect(out.impressions_needed_per_variant).toEqual({ a: null, b: null });
  });
});
