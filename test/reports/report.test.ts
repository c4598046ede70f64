import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CsvCell, createCsvLine } from '../../src/reports/csv.ts';
import { reportSchema } from '../../src/reports/schemas.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, getReport, postMetrics } from './fixtures.ts';

let t: TestApp;
let auth: string;
let rival: string;
let ops: Awaited<ReturnType<typeof campaignWithVariants>>;

const levels = { tone: ['calm', 'bold', 'witty'], city: ['paris', 'rome'] };
const combos = levels.tone.flatMap((tone) => levels.city.map((city) => ({ tone, city })));

async function sql(text: string, values: unknown[] = []) {
  return (await t.testDb.pool.query(text, values)).rows;
}

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('report-co');
  rival = await t.key('report-rival');
  ops = await campaignWithVariants(t, auth, levels, combos);
  // Six variants in six states, with known render times, costs, reviews and deliveries.
  const states: [string, string, string | null, number | null, boolean][] = [
    ['calm|paris', 'ready', null, 10, false],
    ['calm|rome', 'approved', null, 20, true],
    ['bold|paris', 'delivered', null, 30, false],
    ['bold|rome', 'rejected', null, 40, true],
    ['witty|paris', 'failed', 'provider_failed', null, false],
    ['witty|rome', 'blocked', 'moderation_blocked', null, false],
  ];
  for (const [key, status, code, seconds, reviewed] of states) {
    await sql(
      `UPDATE variants SET status = $2, error_code = $3, cost_usd = 0.4,
              actual_cost_usd = CASE WHEN $2 = 'blocked' THEN 0 ELSE 0.4 END,
              submitted_at = CASE WHEN $4::int IS NULL THEN NULL ELSE timestamptz '2025-01-01' END,
              ready_at = timestamptz '2025-01-01' + make_interval(secs => $4::int),
              reviewed_at = CASE WHEN $5 THEN now() END
       WHERE id = $1`,
      [ops.variant(...key.split('|')), status, code, seconds, reviewed],
    );
  }
  const deliveries: [string, string][] = [
    ['bold|paris', 'meta'],
    ['bold|paris', 'tiktok'],
    ['calm|rome', 'meta'],
    ['bold|rome', 'meta'],
  ];
  for (const [i, [key, destination]] of deliveries.entries()) {
    await sql(
      `INSERT INTO deliveries (id, tenant_id, variant_id, campaign_id, destination, delivered_at)
       SELECT $1, tenant_id, id, campaign_id, $3, now() FROM variants WHERE id = $2`,
      [`dlv_test${i}`, ops.variant(...key.split('|')), destination],
    );
  }
  const res = await postMetrics(t, auth, [
    {
      variant_id: ops.variant('calm', 'paris'),
      date: '2025-02-01',
      impressions: 1000,
      clicks: 50,
      conversions: 5,
      spend_usd: 20,
    },
    { variant_id: ops.variant('calm', 'rome'), date: '2025-02-01', impressions: 400, clicks: 8 },
  ]);
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(() => t.close());

describe('GET /v1/campaigns/{id}/report', () => {
  it('reports operations: statuses, cost, render times, failures, review and delivery', async () => {
    const res = await getReport(t, auth, ops.campaignId);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const report = reportSchema.parse(res.json());
    expect(report.by_status).toMatchObject({
      ready: 1,
      approved: 1,
      delivered: 1,
      rejected: 1,
      failed: 1,
      blocked: 1,
      queued: 0,
    });
    expect(report.operations).toEqual({
      cost: { estimated_usd: 2.4, actual_usd: 2 },
      // Type-7 quantiles of 10, 20, 30, 40 s: 25 and 30 + 0.7 × 10.
      render_time_s: { count: 4, p50: 25, p90: 37 },
      failures: [
        { code: 'moderation_blocked', count: 1 },
        { code: 'provider_failed', count: 1 },
      ],
      review: { rendered: 4, reviewed: 2, coverage: 0.5 },
      // The rejected variant is not deliverable, so its delivery counts nowhere here.
      delivery: {
        eligible: 3,
        delivered: 2,
        coverage: 2 / 3,
        by_destination: [
          { destination: 'meta', variants: 2, coverage: 2 / 3 },
          { destination: 'tiktok', variants: 1, coverage: 1 / 3 },
        ],
      },
    });
    const bold = report.by_dimension[0]!.levels[1]!;
    expect(bold).toMatchObject({ level: 'bold', variants: 2, ready: 2, delivered: 2 });
    expect(report.by_dimension[0]!.levels[2]).toMatchObject({ variants: 2, ready: 0 });
  });

  it('lists every variant with its performance', async () => {
    const report = reportSchema.parse((await getReport(t, auth, ops.campaignId)).json());
    expect(report.variants).toHaveLength(6);
    const a = report.variants.find((v) => v.id === ops.variant('calm', 'paris'))!;
    expect(a).toMatchObject({
      levels: { tone: 'calm', city: 'paris' },
      status: 'ready',
      deliveries: 0,
      impressions: 1000,
      clicks: 50,
      ctr: 0.05,
      conversions: 5,
      cvr: 0.1,
      spend_usd: 20,
      cpa: 4,
    });
    const c = report.variants.find((v) => v.id === ops.variant('bold', 'paris'))!;
    expect(c).toMatchObject({ deliveries: 2, impressions: 0, ctr: null, ctr_ci: null, cpa: null });
    expect(report.model).toMatchObject({ rows: 2, excluded: { no_impressions: 4 } });
    expect(report.summary).toMatchObject({ variants: 6, variants_with_impressions: 2 });
  });

  it('says when the design confounds effects instead of printing numbers', async () => {
    // tone and city always move together; only setting varies independently.
    const c = await campaignWithVariants(
      t,
      auth,
      { tone: ['calm', 'bold'], city: ['paris', 'rome'], setting: ['beach', 'town'] },
      [
        { tone: 'calm', city: 'paris', setting: 'beach' },
        { tone: 'calm', city: 'paris', setting: 'town' },
        { tone: 'bold', city: 'rome', setting: 'beach' },
        { tone: 'bold', city: 'rome', setting: 'town' },
      ],
    );
    const rows = c.variantIds.map((id, i) => ({
      variant_id: id,
      date: '2025-02-01',
      impressions: 5000,
      clicks: 100 + 20 * i,
    }));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
    const report = reportSchema.parse((await getReport(t, auth, c.campaignId)).json());
    const [tone, city, setting] = report.by_dimension;
    expect(tone!.levels[1]).toMatchObject({
      verdict: 'insufficient_data',
      effect: null,
      effect_ci: null,
      p_value: null,
      note: expect.stringMatching(/confounded with city=rome/),
    });
    expect(city!.levels[1]!.note).toMatch(/confounded with tone=bold/);
    expect(setting!.levels[1]!.effect).toBeGreaterThan(1);
    expect(setting!.levels[1]!.verdict).not.toBe('insufficient_data');
  });

  it('reports one run alone, and hides other tenants and other campaigns', async () => {
    const second = await campaignWithVariants(t, auth, levels, [{ tone: 'witty', city: 'paris' }], {
      campaignId: ops.campaignId,
      matrixId: ops.matrixId,
    });
    const whole = reportSchema.parse((await getReport(t, auth, ops.campaignId)).json());
    const one = reportSchema.parse(
      (await getReport(t, auth, ops.campaignId, { run_id: second.runId })).json(),
    );
    // The second run reuses an existing variant rather than making a new one.
    expect(whole.variants).toHaveLength(6);
    expect(one.run_id).toBe(second.runId);
    expect(one.variants.map((v) => v.id)).toEqual([ops.variant('witty', 'paris')]);

    const other = await campaignWithVariants(t, rival, { tone: ['calm'] }, [{ tone: 'calm' }]);
    expect((await getReport(t, rival, ops.campaignId)).statusCode).toBe(404);
    expect((await getReport(t, auth, other.campaignId)).statusCode).toBe(404);
    const foreignRun = await getReport(t, auth, ops.campaignId, { run_id: other.runId });
    expect(foreignRun.statusCode).toBe(404);
    const readerOnly = await t.key('report-co', ['campaigns:read']);
    expect((await getReport(t, readerOnly, ops.campaignId)).statusCode).toBe(403);
    expect((await getReport(t, auth, ops.campaignId, { format: 'pdf' })).statusCode).toBe(400);
  });
});

describe('campaigns with several matrices', () => {
  it('keeps the first matrix order and appends what later matrices add', async () => {
    const first = await campaignWithVariants(t, auth, { tone: ['calm', 'bold'] }, [
      { tone: 'calm' },
      { tone: 'bold' },
    ]);
    const headers = { authorization: auth };
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/campaigns/${first.campaignId}`,
      headers,
      payload: { prompt_template: 'Ad: {{tone}} in {{city}}' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${first.campaignId}/matrices`,
      headers,
      payload: {
        dimensions: [
          { key: 'city', levels: [{ key: 'paris' }] },
          { key: 'tone', levels: [{ key: 'witty' }, { key: 'bold' }] },
        ],
      },
    });
    expect(matrix.statusCode, matrix.body).toBe(201);
    const second = await campaignWithVariants(
      t,
      auth,
      { city: ['paris'], tone: ['witty', 'bold'] },
      [
        { city: 'paris', tone: 'witty' },
        { city: 'paris', tone: 'bold' },
      ],
      { campaignId: first.campaignId, matrixId: matrix.json().id },
    );
    const rows = [...first.variantIds, ...second.variantIds].map((id) => ({
      variant_id: id,
      date: '2025-02-01',
      impressions: 3000,
      clicks: 60,
    }));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
    const report = reportSchema.parse((await getReport(t, auth, first.campaignId)).json());
    expect(report.by_dimension.map((d) => [d.dimension, d.levels.map((l) => l.level)])).toEqual([
      ['tone', ['calm', 'bold', 'witty']],
      ['city', ['paris']],
    ]);
    // The first run's variants have no city, so the model leaves them out and says so; that
    // leaves the reference tone (calm) without data in the model.
    expect(report.model).toMatchObject({ rows: 2, excluded: { missing_levels: 2 } });
    expect(report.by_dimension[0]!.levels[0]).toMatchObject({ impressions: 3000, clicks: 60 });
    expect(report.by_dimension[0]!.levels[2]).toMatchObject({
      verdict: 'insufficient_data',
      effect: null,
      note: 'the reference level of this dimension has no impressions',
    });
    const secondOnly = reportSchema.parse(
      (await getReport(t, auth, first.campaignId, { run_id: second.runId })).json(),
    );
    expect(secondOnly.by_dimension.map((d) => d.dimension)).toEqual(['city', 'tone']);
    expect(secondOnly.by_dimension[1]!.reference_level).toBe('witty');
  });
});

describe('exports', () => {
  let campaignId: string;
  let ids: string[];
  const risky = ['=1+1', '@SUM(A1)', '-2%', 'plain', 'say "hi", ok'];

  beforeAll(async () => {
    const c = await campaignWithVariants(
      t,
      auth,
      { tone: risky },
      risky.map((tone) => ({ tone })),
    );
    campaignId = c.campaignId;
    ids = risky.map((k) => c.variant(k));
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/campaigns/${campaignId}`,
      headers: { authorization: auth },
      payload: { name: '=HYPERLINK("http://evil.example","x")' },
    });
    expect(patch.statusCode).toBe(200);
    const rows = ids.map((id, i) => ({
      variant_id: id,
      date: '2025-02-01',
      impressions: 2000,
      clicks: 40 + i,
    }));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(200);
  });

  it('streams CSV: one row per variant, level columns, formulas defused', async () => {
    const res = await getReport(t, auth, campaignId, { format: 'csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="report-${campaignId}.csv"`,
    );
    const records = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0]!)).toEqual([
      'variant_id',
      'status',
      'tone',
      'deliveries',
      'impressions',
      'clicks',
      'ctr',
      'ctr_low',
      'ctr_high',
      'conversions',
      'cvr',
      'spend_usd',
      'cpa',
      'video_views',
      'view_rate',
      'view_rate_low',
      'view_rate_high',
      'cvr_low',
      'cvr_high',
      'cpa_low',
      'cpa_high',
      'revenue_usd',
      'roas',
      'roas_low',
      'roas_high',
      'ai_generated',
      'digital_source_type',
    ]);
    expect(records.map((r) => r.tone)).toEqual([
      "'=1+1",
      "'@SUM(A1)",
      "'-2%",
      'plain',
      'say "hi", ok',
    ]);
    expect(records[0]).toMatchObject({ variant_id: ids[0], impressions: '2000', clicks: '40' });
    expect(Number(records[0]!.ctr)).toBe(0.02);
    expect(records[0]!.cpa).toBe('');
  });

  it('writes each line exactly as csv-stringify with escape_formulas would', () => {
    const records: CsvCell[][] = [
      ['var_1', 'ready', '=1+1', '@x', '-2%', '+1', '\tTab', 'a,"b"', null, 0, 0.1 + 0.2, 1e-7],
      ['var_2', 'failed', 'plain', '', 'ÿnicode', '\uFF1Dwide', 'x\ry', 'q"', 12, null, 3, -0],
    ];
    const line = createCsvLine();
    expect(records.map((r) => `${line(r)}\n`).join('')).toBe(
      stringify(records, { escape_formulas: true }),
    );
  });

  it('streams XLSX with a sheet per section, formulas defused', async () => {
    const res = await getReport(t, auth, campaignId, { format: 'xlsx' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    // The sheets, formats and widths are checked in export-format.test.ts.
    const values = (name: string) =>
      book.getWorksheet(name)!.getSheetValues().slice(1) as unknown as unknown[][];
    const summary = new Map(values('summary').map((r) => [r[1], r[2]]));
    expect(summary.get('campaign_name')).toBe('\'=HYPERLINK("http://evil.example","x")');
    expect(summary.get('variants')).toBe(5);
    const byDimension = values('by_dimension');
    expect(byDimension[0]!.slice(1, 5)).toEqual(['dimension', 'dimension_label', 'level', 'label']);
    expect(byDimension.slice(1).map((r) => r[3])).toEqual([
      "'=1+1",
      "'@SUM(A1)",
      "'-2%",
      'plain',
      'say "hi", ok',
    ]);
    const variants = values('variants');
    expect(variants).toHaveLength(6);
    expect(variants[1]!.slice(1, 7)).toEqual([ids[0], 'queued', "'=1+1", "'=1+1", 0, 2000]);
    // Nothing in the file is a formula.
    for (const sheet of book.worksheets) {
      sheet.eachRow((row) =>
        row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula)),
      );
    }
  });

  it('reports an empty campaign without a model', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: {
        name: 'Empty',
        brief: { product: 'p', key_message: 'k' },
        prompt_template: 'x',
        video: { seconds: 4, size: '720x1280' },
      },
    });
    const report = reportSchema.parse((await getReport(t, auth, created.json().id)).json());
    expect(report).toMatchObject({ variants: [], by_dimension: [], model: { fitted: false } });
    const csv = await getReport(t, auth, created.json().id, { format: 'csv' });
    expect(csv.body.trim()).toBe(
      'variant_id,status,deliveries,impressions,clicks,ctr,ctr_low,ctr_high,conversions,cvr,spend_usd,cpa,video_views,view_rate,view_rate_low,view_rate_high,cvr_low,cvr_high,cpa_low,cpa_high,revenue_usd,roas,roas_low,roas_high,ai_generated,digital_source_type',
    );
  });
});
