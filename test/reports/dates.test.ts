/**
 * Dates as strata, on simulated campaigns in-process (the 3×3×2×2 factorial of
 * simulation.test.ts, 1% CTR, per-variant logit SD 0.05, 1e6 impressions per variant, metric
 * rows one by one as for a campaign under the day-by-day bound): a level launched into a
 * high-CTR period is compared within days, dates that run between variants cost residual df,
 * and dates every variant shares stay out of the fit.
 */
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/reports/analysis.ts';
import type { Collected } from '../../src/reports/collect.ts';
import { betweenVariantDf } from '../../src/reports/strata.ts';
import { DEFAULTS, report, type Scenario, simulate } from './simulate.ts';

const levels = [3, 3, 2, 2];
const base = { levels, impressions: 1e6, baseCtr: 0.01, variantSd: 0.05 };
const mc = (n: number) => 0.05 + 2 * Math.sqrt((0.05 * 0.95) / n);
const conclusiveAnywhere = (r: ReturnType<typeof report>) =>
  r.by_dimension.some((d) => d.levels.some((l) => l.verdict === 'conclusive'));

/** The same campaign as if it were too large to read day by day: totals per platform only. */
function undated(c: Collected): Collected {
  return { ...c, daily: false, undated: true, dayCells: c.dayCells.map(() => null) };
}

describe('a level launched into a high-CTR period, with no effect of its own', () => {
  // Days 3 and 4 have +0.3 logit CTR; d0l1 variants get 80% of their impressions there.
  const s: Scenario = {
    ...base,
    days: {
      shift: [0, 0, 0.3, 0.3],
      share: (combo) => (combo[0] === 1 ? [0.1, 0.1, 0.4, 0.4] : [0.25, 0.25, 0.25, 0.25]),
    },
  };

  it('is compared within days: dates enter as strata, cost df, and it is not called conclusive', () => {
    let conclusive = 0;
    const n = 100;
    for (let k = 0; k < n; k++) {
      const r = report(s, 50_000 + k);
      expect(r.model.strata.date).toHaveLength(4);
      expect(r.model.formula).toBe('clicks / impressions ~ d0 + d1 + d2 + d3 + strata(date)');
      // 36 variants, 7 level parameters, and the dates' between-variant share rounded up.
      expect(r.model.strata.date_df).toBe(1);
      expect(r.model.dispersion!.residual_df).toBe(36 - 7 - 1);
      if (r.by_dimension[0]!.levels[1]!.verdict === 'conclusive') conclusive++;
    }
    expect(conclusive / n).toBeLessThanOrEqual(mc(n));
  });

  it('would be conclusive on totals (the confounding the date strata remove)', () => {
    const { collected, dims } = simulate(s, 50_000);
    const r = analyse(undated(collected), dims, DEFAULTS);
    expect(r.model.strata.date).toEqual([]);
    expect(r.model.strata.note).toMatch(/more than 200000 metric rows/);
    const level = r.by_dimension[0]!.levels[1]!;
    expect(level.verdict).toBe('conclusive');
    // 80% against 50% of impressions in the +0.3 days: about +9% CTR from timing alone.
    expect(level.lift!).toBeGreaterThan(0.05);
  });

  it('shows each level by date and by platform', () => {
    const { collected, dims } = simulate(s, 50_000);
    const r = analyse(collected, dims, DEFAULTS);
    const level = r.by_dimension[0]!.levels[1]!;
    expect(level.by_date.map((d) => d.date)).toEqual([
      '2025-01-01',
      '2025-01-02',
      '2025-01-03',
      '2025-01-04',
    ]);
    // 12 variants of d0l1, 10% of each one's million impressions on the first day.
    expect(level.by_date[0]!.impressions).toBe(12 * 1e5);
    expect(level.by_date.reduce((a, d) => a + d.clicks, 0)).toBe(level.clicks);
    expect(level.by_date[3]!.ctr).toBeCloseTo(level.by_date[3]!.clicks / (12 * 4e5), 15);
    expect(level.by_platform).toEqual([
      { platform: '', impressions: level.impressions, clicks: level.clicks, ctr: level.ctr },
    ]);
    expect(r.breakdowns).toEqual({
      dates: 4,
      dates_shown: 4,
      platforms: 1,
      platforms_shown: 1,
      note: null,
    });
  });
});

describe('dates that run between variants, no true effect', () => {
  // Each variant runs on one day of four: the date columns are wholly between variants.
  const s: Scenario = {
    ...base,
    days: {
      shift: [0, 0.2, -0.1, 0.1],
      share: (combo) => {
        const day = (combo[1]! + combo[2]! + combo[3]!) % 4;
        return [0, 1, 2, 3].map((d) => (d === day ? 1 : 0));
      },
    },
  };

  it('charges each date column a whole df and keeps false conclusions at ≤ 5% + MC error', () => {
    let hits = 0;
    const n = 300;
    for (let k = 0; k < n; k++) {
      const r = report(s, 60_000 + k);
      expect(r.model.strata.date_df).toBe(3);
      expect(r.model.dispersion!.residual_df).toBe(36 - 7 - 3);
      if (conclusiveAnywhere(r)) hits++;
    }
    expect(hits / n).toBeLessThanOrEqual(mc(n));
  });
});

describe('dates every variant shares', () => {
  it('stay out of the fit, with the reason', () => {
    const r = report({ ...base, days: { shift: [0, 0.3], share: () => [0.5, 0.5] } }, 70_000);
    expect(r.model.strata.date).toEqual([]);
    expect(r.model.strata.note).toMatch(/same 2 days in nearly the same proportions/);
    expect(r.model.formula).toBe('clicks / impressions ~ d0 + d1 + d2 + d3');
  });
});

describe('the df a date column costs', () => {
  it('is the share of its indicator variation between variants, by definition', () => {
    // Three variants over three days with uneven mixes; column 0 is the date rank.
    const trials = [
      [100, 200, 300],
      [50, 0, 450],
      [300, 300, 300],
    ];
    const rows = trials.flatMap((byDay) =>
      byDay.flatMap((n, day) => (n > 0 ? [{ levels: [day], successes: 0, trials: n }] : [])),
    );
    const group = trials.flatMap((byDay, v) => byDay.filter((n) => n > 0).map(() => v));
    const W = trials.flat().reduce((a, b) => a + b, 0);
    let expected = 0;
    for (const day of [1, 2]) {
      // Weighted variance of the day indicator: total around the overall share, and the part
      // of it that the variants' own shares explain.
      const overall = trials.reduce((a, t) => a + t[day]!, 0) / W;
      const total = W * overall * (1 - overall);
      const between = trials.reduce((a, t) => {
        const Wv = t.reduce((x, y) => x + y, 0);
        return a + Wv * (t[day]! / Wv - overall) ** 2;
      }, 0);
      expected += between / total;
    }
    expect(betweenVariantDf(rows, group, 0, 3)).toBeCloseTo(expected, 12);
    expect(expected).toBeGreaterThan(0.05);
    expect(expected).toBeLessThan(1);
  });
});
