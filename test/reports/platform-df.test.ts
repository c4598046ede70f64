/**
 * Platform strata cost residual df as far as they vary between variants (model.ts, by the rule
 * strata.ts gives for dates), checked against the share computed here from its definition.
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/reports/analysis.ts';
import { DEFAULTS, type Scenario, simulate } from './simulate.ts';
import { betweenShare } from './textbook.ts';

const levels = [3, 3, 2];
/** Intercept and each non-reference level. */
const parameters = 1 + 2 + 2 + 1;
const variants = 18;

function run(share: (levels: readonly number[]) => number[], names = ['meta', 'tiktok']) {
  const s: Scenario = {
    levels,
    impressions: 2e5,
    baseCtr: 0.01,
    variantSd: 0.05,
    platforms: { names, shift: names.map((_, k) => 0.2 * k), share },
  };
  const { collected, dims } = simulate(s, 77);
  return { collected, r: analyse(collected, dims, DEFAULTS) };
}

describe('platform strata in the residual df', () => {
  it('cost nothing when every variant splits its impressions across platforms alike', () => {
    const { r } = run(() => [0.6, 0.4]);
    expect(r.model.strata.platform).toEqual(['meta', 'tiktok']);
    expect(r.model.strata.platform_df).toBe(0);
    expect(r.model.dispersion!.residual_df).toBe(variants - parameters);
  });

  it('cost a df per platform column when each variant runs on one platform, as a level column would', () => {
    // Parity of the level sum: an interaction, so the platform column is estimable.
    const two = run((combo) => (combo.reduce((a, b) => a + b, 0) % 2 ? [0, 1] : [1, 0]));
    expect(two.r.model.strata.platform_df).toBe(1);
    expect(two.r.model.dispersion!.residual_df).toBe(variants - parameters - 1);
    const three = run(
      (combo) => [0, 1, 2].map((k) => (combo.reduce((a, b) => a + b, 0) % 3 === k ? 1 : 0)),
      ['meta', 'tiktok', 'youtube'],
    );
    expect(three.r.model.strata.platform_df).toBe(2);
    expect(three.r.model.dispersion!.residual_df).toBe(variants - parameters - 2);
    const { phi, pearson_chi2, residual_df } = three.r.model.dispersion!;
    expect(phi).toBeCloseTo(pearson_chi2 / residual_df, 12);
  });

  it('cost the between-variant share, rounded up, when the split differs by variant', () => {
    const { collected, r } = run((combo) => (combo[1] === 2 ? [0.7, 0.3] : [0.55, 0.45]));
    const perVariant = Array.from({ length: variants }, (_, v) => {
      const cells = collected.cells[v]!;
      const byName = new Map<string, number>();
      for (let k = 0; k < cells.length; k += 4)
        byName.set(collected.platforms[cells[k]!]!, cells[k + 2]!);
      return ['meta', 'tiktok'].map((p) => byName.get(p) ?? 0);
    });
    const share = betweenShare(perVariant);
    expect(share).toBeGreaterThan(0.001);
    expect(share).toBeLessThan(1);
    expect(r.model.strata.platform_df).toBe(Math.ceil(share));
    expect(r.model.dispersion!.residual_df).toBe(variants - parameters - Math.ceil(share));
    expect(r.model.description).toContain('charged 1 residual df');
  });
});
