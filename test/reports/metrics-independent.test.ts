/**
 * CVR, view rate, CPA and ROAS and the metric query parameter, against a computation written
 * here from the definitions: metrics go in through the API (three dates per variant, so the
 * report's aggregation and its second moments are checked too), Wilson by the textbook formula,
 * the ratio intervals by linearising Σy/Σx over the units by hand, and the CVR model by a dense
 * Newton fit of conversions out of clicks with t tests on the variants' Pearson X².
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/reports/schemas.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, getReport, postMetrics } from './fixtures.ts';
import { rng } from './simulate.ts';
import { expectRel } from './stats/helpers.ts';
import { logisticFit, tQuantile, tTail } from './textbook.ts';

let t: TestApp;
let auth: string;

const TONES = ['calm', 'bold', 'loud'];
const CITIES = ['paris', 'rome', 'oslo'];
const DATES = ['2025-02-01', '2025-02-02', '2025-02-03'];

interface Row {
  variant_id: string;
  date: string;
  impressions: number;
  clicks: number;
  conversions: number;
  spend_usd: number;
  video_views: number;
  revenue_usd: number;
}

/** Per variant (tone, city), its three daily rows; (loud, oslo) reports view-through conversions. */
function dailyRows(variant: (tone: string, city: string) => string): Row[][] {
  const r = rng(77);
  return TONES.flatMap((tone, a) =>
    CITIES.map((city, b) =>
      DATES.map((date) => {
        const impressions = 20_000 + Math.floor(r.uniform() * 5_000);
        const clicks = Math.floor(impressions * (0.02 + 0.002 * a) * (0.8 + 0.4 * r.uniform()));
        const conversions =
          tone === 'loud' && city === 'oslo'
            ? clicks + 5
            : Math.floor(clicks * (0.05 + 0.01 * b) * (0.7 + 0.6 * r.uniform()));
        return {
          variant_id: variant(tone, city),
          date,
          impressions,
          clicks,
          conversions,
          // Cents, as platforms export them: the sums stay exact in the database.
          spend_usd: Math.round(impressions * (0.4 + 0.2 * r.uniform())) / 100,
          video_views: Math.floor(impressions * (0.3 + 0.1 * r.uniform())),
          revenue_usd: Math.round(conversions * (2500 + 1000 * r.uniform())) / 100,
        };
      }),
    ),
  );
}

const Z = 1.959963984540054;
function textbookWilson(x: number, n: number): [number, number] {
  const p = x / n;
  const centre = p + (Z * Z) / (2 * n);
  const half = Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return [(centre - half) / (1 + (Z * Z) / n), (centre + half) / (1 + (Z * Z) / n)];
}

/** Σy/Σx with its delta-method interval over the units (x, y), on the log scale, t on n − 1. */
function ratioByHand(units: [number, number][], confidence = 0.95): [number, number] {
  const X = units.reduce((s, [x]) => s + x, 0);
  const Y = units.reduce((s, [, y]) => s + y, 0);
  const R = Y / X;
  const n = units.length;
  // The linearised ratio: each unit's y − R·x, over ΣX.
  const variance = ((n / (n - 1)) * units.reduce((s, [x, y]) => s + (y - R * x) ** 2, 0)) / X ** 2;
  const q = tQuantile(1 - confidence, n - 1);
  const k = Math.exp((q * Math.sqrt(variance)) / R);
  return [R / k, R * k];
}

const sum = (rows: Row[], f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0);

let days: Row[][];
let campaignId: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('metrics-numbers-co');
  const c = await campaignWithVariants(
    t,
    auth,
    { tone: TONES, city: CITIES },
    TONES.flatMap((tone) => CITIES.map((city) => ({ tone, city }))),
  );
  campaignId = c.campaignId;
  days = dailyRows(c.variant);
  const res = await postMetrics(t, auth, days.flat() as unknown as Record<string, unknown>[]);
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(() => t.close());

async function reportOf(query: Record<string, string> = {}) {
  const res = await getReport(t, auth, campaignId, query);
  expect(res.statusCode, res.body).toBe(200);
  return reportSchema.parse(res.json());
}

describe('rates and money ratios per variant and per level', () => {
  it('gives each variant its rates with Wilson intervals and CPA/ROAS over its days', async () => {
    const report = await reportOf();
    for (const rows of days) {
      const v = report.variants.find((x) => x.id === rows[0]!.variant_id)!;
      const [n, x, c, s, w, r] = [
        sum(rows, (d) => d.impressions),
        sum(rows, (d) => d.clicks),
        sum(rows, (d) => d.conversions),
        sum(rows, (d) => d.spend_usd),
        sum(rows, (d) => d.video_views),
        sum(rows, (d) => d.revenue_usd),
      ];
      expect(v).toMatchObject({ impressions: n, clicks: x, conversions: c, video_views: w });
      expectRel(v.revenue_usd, r, 1e-12);
      expectRel(v.cvr, c / x, 1e-15);
      expectRel(v.view_rate, w / n, 1e-15);
      expectRel(v.roas, r / s, 1e-12);
      const [vlo, vhi] = textbookWilson(w, n);
      expectRel(v.view_rate_ci![0], vlo, 1e-12);
      expectRel(v.view_rate_ci![1], vhi, 1e-12);
      if (c > x) {
        // View-through conversions: CVR is no proportion, so it has no Wilson interval.
        expect(v.cvr_ci).toBeNull();
      } else {
        const [lo, hi] = textbookWilson(c, x);
        expectRel(v.cvr_ci![0], lo, 1e-12);
        expectRel(v.cvr_ci![1], hi, 1e-12);
      }
      const cpa = ratioByHand(rows.map((d) => [d.conversions, d.spend_usd]));
      // CPA is money, rounded to the database's four decimals.
      expect(v.cpa_ci![0]).toBeCloseTo(cpa[0], 4);
      expect(v.cpa_ci![1]).toBeCloseTo(cpa[1], 4);
      const roas = ratioByHand(rows.map((d) => [d.spend_usd, d.revenue_usd]));
      expectRel(v.roas_ci![0], roas[0], 1e-9);
      expectRel(v.roas_ci![1], roas[1], 1e-9);
      expect(v.roas_ci![0]).toBeLessThan(v.roas!);
      expect(v.roas_ci![1]).toBeGreaterThan(v.roas!);
    }
  });

  it('breaks each level down by date from the rows read one by one, and says why dates stay out', async () => {
    const report = await reportOf();
    expect(report.breakdowns).toMatchObject({ dates: 3, dates_shown: 3, platforms: 1 });
    const bold = report.by_dimension[0]!.levels[1]!;
    expect(bold.by_date).toEqual(
      DATES.map((date, k) => {
        const rows = days.slice(3, 6).map((v) => v[k]!);
        const impressions = sum(rows, (d) => d.impressions);
        const clicks = sum(rows, (d) => d.clicks);
        return { date, impressions, clicks, ctr: clicks / impressions };
      }),
    );
    // Every variant has a day's share of about a third: no confounding, no date strata.
    expect(report.model.strata).toMatchObject({ date: [], date_df: 0 });
    expect(report.model.strata.note).toMatch(/same 3 days/);
  });

  it("takes a level's variants as the units of its CPA and ROAS, at the chosen confidence", async () => {
    const report = await reportOf({ confidence: '0.9' });
    TONES.forEach((tone, a) => {
      const level = report.by_dimension[0]!.levels[a]!;
      expect(level.level).toBe(tone);
      const variants = days.slice(a * 3, a * 3 + 3);
      const totals = (f: (r: Row) => number) => variants.map((rows) => sum(rows, f));
      const spend = totals((d) => d.spend_usd);
      const conversions = totals((d) => d.conversions);
      const revenue = totals((d) => d.revenue_usd);
      const cpa = ratioByHand(
        conversions.map((c, k) => [c, spend[k]!]),
        0.9,
      );
      expect(level.cpa_ci![0]).toBeCloseTo(cpa[0], 4);
      expect(level.cpa_ci![1]).toBeCloseTo(cpa[1], 4);
      const roas = ratioByHand(
        spend.map((s, k) => [s, revenue[k]!]),
        0.9,
      );
      expectRel(level.roas_ci![0], roas[0], 1e-9);
      expectRel(level.roas_ci![1], roas[1], 1e-9);
      expectRel(level.roas, revenue.reduce((x, y) => x + y) / spend.reduce((x, y) => x + y), 1e-12);
    });
  });
});

describe('metric=cvr: the model explains conversions out of clicks', () => {
  it('fits conversions / clicks without the view-through variant and agrees with a textbook fit', async () => {
    const report = await reportOf({ metric: 'cvr' });
    expect(report.model).toMatchObject({
      metric: 'cvr',
      formula: 'conversions / clicks ~ tone + city',
      rows: 8,
      excluded: { no_impressions: 0, missing_levels: 0, successes_exceed_trials: 1 },
      residual_df: 3,
    });
    expect(report.model.description).toMatch(/conversions out of clicks \(CVR\)/);
    const X: number[][] = [];
    const y: number[] = [];
    const n: number[] = [];
    days.forEach((rows, v) => {
      const [a, b] = [Math.floor(v / 3), v % 3];
      if (a === 2 && b === 2) return;
      X.push([1, a === 1 ? 1 : 0, a === 2 ? 1 : 0, b === 1 ? 1 : 0, b === 2 ? 1 : 0]);
      y.push(sum(rows, (d) => d.conversions));
      n.push(sum(rows, (d) => d.clicks));
    });
    const { beta, cov, mu } = logisticFit(X, y, n);
    const chi2 = y.reduce(
      (s, yi, i) => s + (yi - n[i]! * mu[i]!) ** 2 / (n[i]! * mu[i]! * (1 - mu[i]!)),
      0,
    );
    const scale = Math.max(1, chi2 / 3);
    expectRel(report.model.dispersion!.pearson_chi2, chi2, 1e-7);
    const at: [number, number][] = [
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
    ];
    at.forEach(([d, l], k) => {
      const level = report.by_dimension[d]!.levels[l]!;
      const se = Math.sqrt(cov[k + 1]![k + 1]! * scale);
      expectRel(level.effect, Math.exp(beta[k + 1]!), 1e-7);
      expectRel(level.p_value, tTail(beta[k + 1]! / se, 3), 1e-6);
    });
    // The relative change is of CVR, at the reference level's CVR.
    const ref = report.by_dimension[1]!.levels[0]!;
    const p0 = ref.conversions / ref.clicks;
    const oslo = report.by_dimension[1]!.levels[2]!;
    expectRel(oslo.lift, oslo.effect! / (1 - p0 + oslo.effect! * p0) - 1, 1e-12);
    for (const d of report.by_dimension) expect(d.summary).toMatch(/CVR|conversions/);
    expect(report.by_dimension[0]!.summary).not.toMatch(/CTR/);
  });

  it('fits video views out of impressions for metric=view_rate, and rejects other metrics', async () => {
    const report = await reportOf({ metric: 'view_rate' });
    expect(report.model).toMatchObject({
      metric: 'view_rate',
      formula: 'video_views / impressions ~ tone + city',
      rows: 9,
    });
    const bad = await getReport(t, auth, campaignId, { metric: 'roas' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatch(/metric/);
  });
});
