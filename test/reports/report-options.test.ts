/**
 * The report's analysis options over HTTP: confidence, adjust and equivalence_margin are echoed
 * and applied, bad values are problem+json naming the parameter, and the new per-level and
 * per-dimension fields are there (platform strata, dispersion, summary, probabilities).
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/reports/schemas.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, getReport, postMetrics } from './fixtures.ts';

let t: TestApp;
let auth: string;
let campaignId: string;

const levels = {
  tone: ['calm', 'bold', 'witty'],
  city: ['paris', 'rome'],
  setting: ['beach', 'town'],
};
const combos = levels.tone.flatMap((tone) =>
  levels.city.flatMap((city) => levels.setting.map((setting) => ({ tone, city, setting }))),
);

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('report-options-co');
  const c = await campaignWithVariants(t, auth, levels, combos);
  campaignId = c.campaignId;
  // 200,000 impressions per variant, 60% on meta (CTR × 1.3); bold +20% CTR; each variant off
  // its prediction by a fixed few percent of its own (overdispersion between variants).
  const wobble = [0.03, -0.02, 0.01, -0.04, 0.02, 0.0, -0.01, 0.04, -0.03, 0.02, -0.02, 0.01];
  const rows = combos.flatMap((combo, v) => {
    const ctr = 0.01 * (combo.tone === 'bold' ? 1.2 : 1) * (1 + wobble[v]!);
    const id = c.variant(combo.tone, combo.city, combo.setting);
    return [
      {
        variant_id: id,
        date: '2025-03-01',
        platform: 'meta',
        impressions: 120_000,
        clicks: Math.round(120_000 * ctr * 1.3),
      },
      {
        variant_id: id,
        date: '2025-03-01',
        platform: 'tiktok',
        impressions: 80_000,
        clicks: Math.round(80_000 * ctr),
      },
    ];
  });
  expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
});
afterAll(() => t.close());

async function reportWith(query: Record<string, string> = {}) {
  const res = await getReport(t, auth, campaignId, query);
  expect(res.statusCode, res.body).toBe(200);
  return reportSchema.parse(res.json());
}

describe('report analysis options', () => {
  it('defaults to 95% confidence, Holm over the report and a 5% margin, and says so', async () => {
    const r = await reportWith();
    expect(r.model).toMatchObject({
      confidence: 0.95,
      adjust: 'holm',
      equivalence_margin: 0.05,
      tests: 4,
      conclusive_possible: true,
      strata: { platform: ['meta', 'tiktok'] },
      formula: 'clicks / impressions ~ tone + city + setting + strata(platform)',
      dispersion: { method: 'pearson_between_variants', variants: 12, residual_df: 7 },
      thresholds: { alpha: expect.closeTo(0.05, 12) },
    });
    expect(r.model.dispersion!.scale).toBeGreaterThan(1);
    const [tone, city] = r.by_dimension;
    expect(tone!.levels.map((l) => l.verdict)).toEqual(['reference', 'conclusive', 'inconclusive']);
    expect(tone!.summary).toMatch(
      /^bold beats calm: \+2\d% CTR, 95% CI \+\d+% to \+\d+% \(Holm-adjusted\)\.$/,
    );
    const bold = tone!.levels[1]!;
    expect(bold.lift).toBeCloseTo(0.2, 1);
    expect(bold.prob_beat_reference).toBeGreaterThan(0.99);
    expect(bold.prob_best).toBeGreaterThan(0.9);
    const probs = tone!.levels.map((l) => l.prob_best!);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // Every variant is split 60/40: delivery follows the design.
    for (const level of [...tone!.levels, ...city!.levels]) {
      expect(level.delivery).toMatchObject({
        warning: null,
        platform_mix_distance: expect.closeTo(0, 12),
      });
    }
    expect(tone!.levels[0]!.delivery.design_share).toBeCloseTo(1 / 3, 12);
    expect(tone!.warnings).toEqual([]);
  });

  it('applies confidence, adjust=bh and equivalence_margin', async () => {
    const r = await reportWith({ confidence: '0.99', adjust: 'bh', equivalence_margin: '0.2' });
    expect(r.model).toMatchObject({ confidence: 0.99, adjust: 'bh', equivalence_margin: 0.2 });
    const tested = r.by_dimension.flatMap((d) => d.levels.filter((l) => !l.reference));
    // Benjamini–Yekutieli: one interval level for every test, 1 − R·α/m.
    const rejected = tested.filter((l) => l.verdict === 'conclusive').length;
    for (const l of tested)
      expect(l.interval_level).toBeCloseTo(1 - (Math.max(rejected, 1) * 0.01) / 4, 12);
    // No effect on city, and a wide margin: its whole interval sits inside ±20%.
    expect(r.by_dimension[1]!.levels[1]!.verdict).toBe('no_difference');
    expect(r.by_dimension[1]!.summary).toBe(
      'No level differs from paris by more than ±20% CTR (99% CI).',
    );
  });

  it.each([
    ['confidence', '0.5'],
    ['confidence', 'high'],
    ['adjust', 'bonferroni'],
    ['equivalence_margin', '1.5'],
    ['equivalence_margin', '0'],
    ['equivalence_margin', 'abc'],
    ['compare', 'tone,,city'],
    ['compare', 'tone,mood'],
  ])('answers %s=%s with a problem naming the parameter', async (name, value) => {
    const res = await getReport(t, auth, campaignId, { [name]: value });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: `query.${name}` })]),
    );
  });

  it('compares non-reference levels on request, within the report-wide family', async () => {
    for (const format of ['json', 'csv', 'xlsx']) {
      const res = await getReport(t, auth, campaignId, { format, compare: 'tone,mood' });
      expect(res.statusCode, format).toBe(400);
      expect(res.json().errors).toEqual([
        { path: 'query.compare', message: 'unknown dimension "mood"' },
      ]);
    }
    const plain = await reportWith();
    expect(plain.by_dimension.every((d) => d.comparisons.length === 0)).toBe(true);
    expect(plain.model).toMatchObject({ compare: [], comparison_tests: 0, tests: 4 });
    for (const compare of ['all', 'tone']) {
      const r = await reportWith({ compare });
      // tone has two non-reference levels (one pair); city and setting have one each.
      expect(r.model).toMatchObject({ compare: ['tone'], comparison_tests: 1, tests: 5 });
      const [pair] = r.by_dimension[0]!.comparisons;
      expect(pair).toMatchObject({ level: 'witty', versus: 'bold' });
      // witty is bold's -20%: the pair differs clearly, the lift is about -1/6.
      expect(pair!.effect).toBeLessThan(1);
      expect(pair!.lift).toBeCloseTo(1 / 1.2 - 1, 1);
      expect(pair!.p_adjusted).toBeGreaterThanOrEqual(pair!.p_value!);
      // One more test in the family: a level's Holm-adjusted p can only grow.
      const bold = (x: typeof r) => x.by_dimension[0]!.levels[1]!.p_adjusted!;
      expect(bold(r)).toBeGreaterThanOrEqual(bold(plain));
    }
  });

  it('takes the options in the CSV and XLSX formats too; the workbook carries the new numbers', async () => {
    const csv = await getReport(t, auth, campaignId, { format: 'csv', confidence: '0.9' });
    expect(csv.statusCode).toBe(200);
    const res = await getReport(t, auth, campaignId, {
      format: 'xlsx',
      confidence: '0.9',
      adjust: 'bh',
    });
    expect(res.statusCode).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const values = (name: string) =>
      book.getWorksheet(name)!.getSheetValues().slice(1) as unknown as unknown[][];
    const summary = new Map(values('summary').map((r) => [r[1], r[2]]));
    const model = new Map(values('model').map((r) => [r[1], r[2]]));
    expect(model.get('confidence')).toBe(0.9);
    expect(model.get('adjust')).toBe('bh');
    expect(summary.get('summary: tone')).toMatch(/^bold beats calm: .*90% CI .*\(BH-adjusted\)\.$/);
    const [header, ...rows] = values('by_dimension');
    const col = (name: string) => header!.indexOf(name);
    const bold = rows.find((r) => r[col('level')] === 'bold')!;
    expect(bold[col('verdict')]).toBe('conclusive');
    expect(bold[col('prob_best')]).toBeGreaterThan(0.9);
    expect(bold[col('lift')]).toBeCloseTo(0.2, 1);
  });
});
