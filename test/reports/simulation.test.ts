/**
 * The report's verdicts on simulated campaigns, in-process against the analysis (no HTTP, no
 * database): a 3×3×2×2 full factorial (36 variants, 6 level tests, 29 residual df) at 1% CTR,
 * each variant with a logit deviation of its own (overdispersion between variants). Seeded, so
 * the shares below are fixed numbers; the bounds allow for Monte Carlo error (≈ 2 SE).
 */
import { describe, expect, it } from 'vitest';
import { generateDesign } from '../../src/matrices/designs/index.ts';
import { analyse } from '../../src/reports/analysis.ts';
import { reportHead } from '../../src/reports/report.ts';
import { wilson } from '../../src/reports/stats/index.ts';
import { DEFAULTS, report, type Scenario, simulate } from './simulate.ts';

const levels = [3, 3, 2, 2];
const REPORTS = 300;
/** 5% plus two Monte Carlo standard errors at REPORTS reports. */
const NOMINAL = 0.05 + 2 * Math.sqrt((0.05 * 0.95) / REPORTS);

function shareWith(
  s: Scenario,
  seed0: number,
  n: number,
  hit: (r: ReturnType<typeof report>) => boolean,
) {
  let hits = 0;
  for (let k = 0; k < n; k++) if (hit(report(s, seed0 + k))) hits++;
  return hits / n;
}

const anyConclusive = (r: ReturnType<typeof report>) =>
  r.by_dimension.some((d) => d.levels.some((l) => l.verdict === 'conclusive'));

describe('no true effect, variants overdispersed', () => {
  for (const variantSd of [0.05, 0.1]) {
    for (const impressions of [1e5, 1e6]) {
      it(`keeps reports with any conclusive level at ≤ 5% + MC error (logit SD ${variantSd}, ${impressions} impressions per variant)`, () => {
        const s: Scenario = { levels, impressions, baseCtr: 0.01, variantSd };
        const share = shareWith(s, 10_000, REPORTS, anyConclusive);
        expect(share).toBeLessThanOrEqual(NOMINAL);
      });
    }
  }
});

describe('no true effect, variants overdispersed, small designs with few residual df', () => {
  // The generators' own designs for 3×3×2×2 (7 parameters): pairwise leaves 2 residual df,
  // balanced n = 12 leaves 5, so the dispersion rests on t(2) or t(5).
  const space = { levels: [...levels], exclusions: [] };
  const designs = {
    pairwise: generateDesign(space, { type: 'pairwise' }, { maxVariants: 100 }).combinations,
    'balanced 12': generateDesign(space, { type: 'balanced', n: 12 }, { maxVariants: 100 })
      .combinations,
  };
  // Two platforms every variant splits alike (no df charged), the second with a lower CTR.
  // Seeds 60,000–60,299: 1.0% of pairwise reports and 6.0% of balanced ones have a conclusive
  // level (bound 7.5%).
  const platforms = { names: ['meta', 'tiktok'], shift: [0, -0.3], share: () => [0.6, 0.4] };
  for (const [name, combos] of Object.entries(designs)) {
    it(`keeps reports with any conclusive level at ≤ 5% + MC error (${name}, ${combos.length} variants, 2 platforms)`, () => {
      const s: Scenario = {
        levels,
        combos,
        impressions: 1e6,
        baseCtr: 0.01,
        variantSd: 0.05,
        platforms,
      };
      const first = report(s, 60_000);
      expect(first.model.strata.platform).toEqual(['meta', 'tiktok']);
      expect(first.model.residual_df).toBeGreaterThan(0);
      expect(first.model.dispersion!.residual_df).toBe(combos.length - 7);
      expect(shareWith(s, 60_000, REPORTS, anyConclusive)).toBeLessThanOrEqual(NOMINAL);
    });
  }
});

describe("a level's CTR interval, no true effect, variants overdispersed", () => {
  // The true rate of every level: E[expit(logit 1% + 0.05·Z)], by the midpoint rule on ±8 SD.
  const base = Math.log(0.01 / 0.99);
  let truth = 0;
  for (let k = 0, K = 4000; k < K; k++) {
    const z = -8 + (16 * (k + 0.5)) / K;
    truth +=
      ((Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) * (16 / K)) /
      (1 + Math.exp(-(base + 0.05 * z)));
  }
  const covers = (ci: readonly [number, number] | null) => !!ci && ci[0] <= truth && truth <= ci[1];

  it('covers the true level rate at close to the nominal 95%, where pooled Wilson does not', () => {
    // Seeds 50,000–50,199, 10 levels a report: 0.9545 for the dispersion-widened interval against
    // 0.3065 for Wilson on the pooled counts (0.707 at 1e5 impressions per variant).
    const s: Scenario = { levels, impressions: 1e6, baseCtr: 0.01, variantSd: 0.05 };
    let widened = 0;
    let pooled = 0;
    let n = 0;
    for (let k = 0; k < 200; k++) {
      for (const dim of report(s, 50_000 + k).by_dimension) {
        for (const l of dim.levels) {
          n++;
          if (covers(l.ctr_ci)) widened++;
          if (covers(wilson(l.clicks, l.impressions))) pooled++;
        }
      }
    }
    const { model } = report(s, 50_000);
    expect(model.rate_scales.ctr).toEqual({
      scale: model.dispersion!.scale,
      residual_df: model.dispersion!.residual_df,
    });
    expect(widened / n).toBeGreaterThanOrEqual(0.93);
    expect(widened / n).toBeLessThanOrEqual(0.975);
    expect(pooled / n).toBeLessThan(0.5);
  });

  it("covers the campaign's true rate in the summary at close to 95%, where pooled Wilson does not", () => {
    // Seeds 50,000–50,199, one summary a report: 0.97 for the widened interval against 0.34 for
    // Wilson on the campaign's pooled counts.
    const s: Scenario = { levels, impressions: 1e6, baseCtr: 0.01, variantSd: 0.05 };
    let widened = 0;
    let pooled = 0;
    const n = 200;
    for (let k = 0; k < n; k++) {
      const { collected, dims } = simulate(s, 50_000 + k);
      const { summary } = reportHead({
        campaign: { id: 'cmp_sim', name: 'sim' },
        runId: null,
        generatedAt: new Date(0),
        collected,
        analysis: analyse(collected, dims, DEFAULTS),
      });
      if (covers(summary.ctr_ci)) widened++;
      if (covers(wilson(summary.clicks, summary.impressions))) pooled++;
    }
    expect(widened / n).toBeGreaterThanOrEqual(0.92);
    expect(widened / n).toBeLessThanOrEqual(0.98);
    expect(pooled / n).toBeLessThan(0.5);
  });

  it('stays Wilson where no dispersion can be estimated (one variant per level: no residual df)', () => {
    const r = report({ levels: [2], impressions: 1e6, baseCtr: 0.01, variantSd: 0.05 }, 50_000);
    expect(r.model.conclusive_possible).toBe(false);
    expect(r.model.rate_scales).toEqual({ ctr: null, cvr: null, view_rate: null });
    for (const l of r.by_dimension[0]!.levels) {
      expect(l.ctr_ci).toEqual(wilson(l.clicks, l.impressions));
    }
  });
});

describe('a planted +15% CTR effect', () => {
  // Odds ratio giving CTR × 1.15 at a 1% reference CTR.
  const or = 1.15 / (1 - (0.01 * 0.15) / 0.99);
  const s: Scenario = {
    levels,
    impressions: 1e6,
    baseCtr: 0.01,
    variantSd: 0.05,
    effects: [[0, Math.log(or)]],
  };

  it('is conclusive in most reports at 1e6 impressions per variant, with the lift inside its interval', () => {
    let conclusive = 0;
    let covered = 0;
    const n = 100;
    for (let k = 0; k < n; k++) {
      const level = report(s, 20_000 + k).by_dimension[0]!.levels[1]!;
      if (level.verdict === 'conclusive') conclusive++;
      if (level.lift_ci && level.lift_ci[0] <= 0.15 && 0.15 <= level.lift_ci[1]) covered++;
    }
    expect(conclusive / n).toBeGreaterThanOrEqual(0.9);
    // Holm-level intervals cover at least as often as the nominal 95%.
    expect(covered / n).toBeGreaterThanOrEqual(0.9);
  });

  it('says so in one sentence', () => {
    const r = report(s, 20_000);
    expect(r.by_dimension[0]!.summary).toMatch(
      /^d0l1 beats d0l0: \+1\d% CTR, 95% CI \+\d+(\.\d)?% to \+\d+% \(Holm-adjusted\)\.$/,
    );
    expect(r.by_dimension[0]!.levels[1]!.prob_beat_reference).toBeGreaterThan(0.999);
    expect(r.by_dimension[0]!.levels[1]!.prob_best).toBeGreaterThan(0.95);
  });
});

describe('a level served 80% on a high-CTR platform, with no effect of its own', () => {
  const s: Scenario = {
    levels,
    impressions: 1e6,
    baseCtr: 0.01,
    variantSd: 0.05,
    platforms: {
      names: ['meta', 'tiktok'],
      shift: [0.4, -0.4],
      share: (combo) => (combo[0] === 1 ? [0.8, 0.2] : [0.5, 0.5]),
    },
  };

  it('is flagged and, compared within platforms, not called conclusive', () => {
    let conclusive = 0;
    for (let k = 0; k < 100; k++) {
      const r = report(s, 30_000 + k);
      const [d0] = r.by_dimension;
      expect(d0!.levels[1]!.delivery.warning).toMatch(
        /80% of its impressions on meta against 60% overall/,
      );
      expect(d0!.levels[0]!.delivery.warning).toBeNull();
      expect(d0!.warnings).toHaveLength(1);
      expect(r.model.strata.platform).toEqual(['meta', 'tiktok']);
      if (d0!.levels[1]!.verdict === 'conclusive') conclusive++;
    }
    expect(conclusive / 100).toBeLessThanOrEqual(0.05 + 2 * Math.sqrt((0.05 * 0.95) / 100));
  });

  it('would be conclusive if platforms were pooled (the confounding the strata remove)', () => {
    const pooled: Scenario = {
      ...s,
      platforms: { ...s.platforms!, names: ['', ''] },
    };
    const level = report(pooled, 30_000).by_dimension[0]!.levels[1]!;
    expect(level.verdict).toBe('conclusive');
    expect(level.lift!).toBeGreaterThan(0.15);
  });
});

describe('lack of fit: a real two-way interaction', () => {
  it('flags the interacting pair and not the others (3×3×3, one cell of the d0×d1 pair +25%)', () => {
    // Variant CTR gets +25% odds where d0 = 1 and d1 = 1, nothing else; per-variant SD 0.05.
    let flagged = 0;
    let others = 0;
    const n = 40;
    for (let k = 0; k < n; k++) {
      const { collected, dims, combos } = simulate(
        { levels: [3, 3, 3], impressions: 1e6, baseCtr: 0.01, variantSd: 0.05 },
        40_000 + k,
      );
      // Plant the interaction on the simulated counts: scale clicks of the (1, 1, ·) variants.
      combos.forEach((combo, v) => {
        if (combo[0] === 1 && combo[1] === 1) {
          collected.clicks[v] = Math.round(collected.clicks[v]! * 1.25);
          collected.successes[v] = collected.clicks[v]!;
        }
      });
      const r = analyse(collected, dims, DEFAULTS);
      const [d01, d02, d12] = r.model.lack_of_fit;
      expect(d01!.dimensions).toEqual(['d0', 'd1']);
      expect(d01!.df).toBe(4);
      if (d01!.p_adjusted! < 0.05) flagged++;
      if (d02!.p_adjusted! < 0.05 || d12!.p_adjusted! < 0.05) others++;
    }
    expect(flagged / n).toBeGreaterThanOrEqual(0.9);
    expect(others / n).toBeLessThanOrEqual(0.15);
  });
});

describe('metric=cvr: conversions out of clicks', () => {
  // 5% CVR; every variant has its own CVR deviation (logit SD 0.05) as well as its CTR one.
  const cvr = (effects?: number[][]): Scenario => ({
    levels,
    impressions: 1e6,
    baseCtr: 0.01,
    variantSd: 0.05,
    // A planted +15% CTR in d0l1 that must not read as a CVR effect.
    effects: [[0, Math.log(1.15 / (1 - (0.01 * 0.15) / 0.99))]],
    conversions: { baseCvr: 0.05, ...(effects ? { effects } : {}) },
  });

  it('keeps reports with any conclusive level at ≤ 5% + MC error when only CTR differs', () => {
    let hits = 0;
    for (let k = 0; k < REPORTS; k++) {
      const r = report(cvr(), 80_000 + k, { metric: 'cvr' });
      if (anyConclusive(r)) hits++;
    }
    expect(hits / REPORTS).toBeLessThanOrEqual(NOMINAL);
  });

  it('finds a planted +30% CVR in most reports and says so in CVR', () => {
    // Odds ratio giving CVR × 1.3 at a 5% reference CVR.
    const or = 1.3 / (1 - (0.05 * 0.3) / 0.95);
    let conclusive = 0;
    const n = 100;
    for (let k = 0; k < n; k++) {
      const r = report(cvr([[], [0, 0, Math.log(or)]]), 90_000 + k, { metric: 'cvr' });
      expect(r.model.formula).toBe('conversions / clicks ~ d0 + d1 + d2 + d3');
      if (r.by_dimension[1]!.levels[2]!.verdict === 'conclusive') conclusive++;
    }
    expect(conclusive / n).toBeGreaterThanOrEqual(0.9);
    const r = report(cvr([[], [0, 0, Math.log(or)]]), 90_000, { metric: 'cvr' });
    expect(r.by_dimension[1]!.summary).toMatch(/^d1l2 beats d1l0: \+\d+% CVR, 95% CI/);
  });
});
