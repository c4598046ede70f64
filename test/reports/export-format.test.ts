/**
 * Reports people can hand on: the XLSX is opened and its formats, frozen panes, widths, sheets
 * and level labels checked; the CSV's numbers are rounded by the documented rule.
 */
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRounders } from '../../src/reports/columns.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign } from '../helpers/scenario.ts';
import { campaignWithVariants, getReport, postMetrics } from './fixtures.ts';

let t: TestApp;
let auth: string;
let campaignId: string;
let ids: Record<string, string>;

const levels = { tone: ['calm', 'bold'], city: ['paris', 'rome'] };

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('export-format-co');
  const existing = await setupCampaign(t, auth, {
    levels,
    labels: {
      tone: 'Tone of voice (brand)',
      'tone.calm': 'Calm and quiet',
      'tone.bold': 'Bold',
      'city.paris': 'Paris, France',
    },
  });
  const combos = levels.tone.flatMap((tone) => levels.city.map((city) => ({ tone, city })));
  const c = await campaignWithVariants(t, auth, levels, combos, existing);
  campaignId = c.campaignId;
  ids = Object.fromEntries(combos.map((x) => [`${x.tone}|${x.city}`, c.variant(x.tone, x.city)]));
  const res = await postMetrics(
    t,
    auth,
    combos.map((x, i) => ({
      variant_id: ids[`${x.tone}|${x.city}`],
      date: '2025-03-01',
      // 1/3 CTR on the first: an endless decimal to round.
      impressions: i === 0 ? 30_000 : 20_000 + 1000 * i,
      clicks: i === 0 ? 10_000 : 400 + 37 * i,
      conversions: 7,
      spend_usd: 12.3456 + i,
    })),
  );
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(() => t.close());

async function workbook() {
  const res = await getReport(t, auth, campaignId, { format: 'xlsx' });
  expect(res.statusCode).toBe(200);
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
  return book;
}

/** The cell under a header name, in a table sheet's given data row (2 is the first). */
function cellOf(sheet: ExcelJS.Worksheet, column: string, row = 2) {
  const header = sheet.getRow(1).values as unknown[];
  const at = header.indexOf(column);
  expect(at, `column ${column}`).toBeGreaterThan(0);
  return sheet.getRow(row).getCell(at);
}

describe('XLSX report', () => {
  it('has one sheet per section, each with a frozen, bold header row', async () => {
    const book = await workbook();
    expect(book.worksheets.map((s) => s.name)).toEqual([
      'summary',
      'operations',
      'model',
      'by_dimension',
      'variants',
    ]);
    const frozen = Object.fromEntries(
      book.worksheets.map((s) => [
        s.name,
        (({ state, xSplit, ySplit }) => [state, xSplit ?? 0, ySplit])(
          s.views[0] as { state?: string; xSplit?: number; ySplit?: number },
        ),
      ]),
    );
    expect(frozen).toEqual({
      summary: ['frozen', 0, 1],
      operations: ['frozen', 0, 1],
      model: ['frozen', 0, 1],
      // The key columns stay in view while scrolling right: dimension, its label, the level.
      by_dimension: ['frozen', 3, 1],
      variants: ['frozen', 1, 1],
    });
    for (const sheet of book.worksheets) {
      expect(sheet.getRow(1).getCell(1).font?.bold, sheet.name).toBe(true);
    }
    expect(book.getWorksheet('variants')!.autoFilter).toBeTruthy();
  });

  it('formats rates as percentages, counts with separators, p-values and odds by kind', async () => {
    const book = await workbook();
    const variants = book.getWorksheet('variants')!;
    const formats = Object.fromEntries(
      ['impressions', 'ctr', 'ctr_low', 'cvr', 'spend_usd', 'cpa', 'variant_id'].map((c) => [
        c,
        cellOf(variants, c).numFmt,
      ]),
    );
    expect(formats).toEqual({
      impressions: '#,##0',
      ctr: '0.00%',
      ctr_low: '0.00%',
      cvr: '0.00%',
      spend_usd: '#,##0.00',
      cpa: '#,##0.00',
      variant_id: undefined,
    });
    // Full precision is kept; only the display rounds.
    expect(cellOf(variants, 'ctr').value).toBe(1 / 3);

    const levels = book.getWorksheet('by_dimension')!;
    const bold = 3; // tone: calm (reference), bold
    expect(cellOf(levels, 'level', bold).value).toBe('bold');
    expect(cellOf(levels, 'lift', bold).numFmt).toBe('+0.0%;-0.0%;0.0%');
    expect(cellOf(levels, 'effect', bold).numFmt).toBe('0.000');
    expect(cellOf(levels, 'p_value', bold).numFmt).toBe('[<0.0001]"<0.0001";0.0000');
    expect(cellOf(levels, 'prob_best', bold).numFmt).toBe('0.00%');
    expect(cellOf(levels, 'impressions', bold).numFmt).toBe('#,##0');

    const summary = new Map<unknown, ExcelJS.Cell>();
    book
      .getWorksheet('summary')!
      .eachRow((row) => summary.set(row.getCell(1).value, row.getCell(2)));
    expect(summary.get('ctr')!.numFmt).toBe('0.00%');
    expect(summary.get('impressions')!.numFmt).toBe('#,##0');
    expect(summary.get('spend_usd')!.numFmt).toBe('#,##0.00');
    expect(summary.get('campaign_id')!.numFmt).toBeUndefined();
    const model = new Map<unknown, ExcelJS.Cell>();
    book.getWorksheet('model')!.eachRow((row) => model.set(row.getCell(1).value, row.getCell(2)));
    expect(model.get('confidence')!.value).toBe(0.95);
    expect(model.get('confidence')!.numFmt).toBe('0.00%');
  });

  it('carries every metric of the JSON into the summary and by_dimension sheets (item 8)', async () => {
    const [book, res] = await Promise.all([workbook(), getReport(t, auth, campaignId)]);
    type Numbers = Record<string, number | null | [number, number]>;
    const report = res.json() as {
      summary: Numbers;
      by_dimension: { levels: (Numbers & { level: string })[] }[];
    };
    const metrics: [string, (n: Numbers) => unknown, string][] = [
      ['cvr_high', (n) => (n.cvr_ci as [number, number])[1], '0.00%'],
      ['cpa_low', (n) => (n.cpa_ci as [number, number])[0], '#,##0.00'],
      ['revenue_usd', (n) => n.revenue_usd, '#,##0.00'],
      ['roas', (n) => n.roas, '0.00'],
      ['view_rate', (n) => n.view_rate, '0.00%'],
    ];
    const summary = new Map<unknown, ExcelJS.Cell>();
    book
      .getWorksheet('summary')!
      .eachRow((row) => summary.set(row.getCell(1).value, row.getCell(2)));
    const levels = book.getWorksheet('by_dimension')!;
    const bold = report.by_dimension[0]!.levels[1]!;
    expect(bold.level).toBe('bold');
    for (const [name, of, format] of metrics) {
      expect(summary.get(name)?.value ?? null, `summary ${name}`).toBe(of(report.summary));
      expect(cellOf(levels, name, 3).value ?? null, `by_dimension ${name}`).toBe(of(bold));
      expect(cellOf(levels, name, 3).numFmt, name).toBe(format);
    }
    // Money ratios with intervals exist here (spend and conversions on every row).
    expect(cellOf(levels, 'cpa_low', 3).value).toEqual(expect.any(Number));
  });

  it('sets column widths that fit the headers, level keys and labels', async () => {
    const book = await workbook();
    const variants = book.getWorksheet('variants')!;
    const header = (variants.getRow(1).values as unknown[]).slice(1) as string[];
    for (const [i, name] of header.entries()) {
      expect(variants.getColumn(i + 1).width, name).toBeGreaterThanOrEqual(name.length + 2);
    }
    const width = (name: string) => variants.getColumn(header.indexOf(name) + 1).width!;
    expect(width('variant_id')).toBeGreaterThanOrEqual(ids['calm|paris']!.length);
    expect(width('tone_label')).toBe('Calm and quiet'.length + 2);
    const levels = book.getWorksheet('by_dimension')!;
    const levelHeader = (levels.getRow(1).values as unknown[]).slice(1) as string[];
    expect(levels.getColumn(levelHeader.indexOf('dimension_label') + 1).width).toBe(
      'Tone of voice (brand)'.length + 2,
    );
    expect(levels.getColumn(levelHeader.indexOf('note') + 1).width).toBe(60);
    const summary = book.getWorksheet('summary')!;
    expect(summary.getColumn(1).width).toBe('variants_with_impressions'.length + 2);
  });

  it('puts level labels beside their keys', async () => {
    const book = await workbook();
    const variants = book.getWorksheet('variants')!;
    const rows = variants.getSheetValues().slice(1) as unknown as unknown[][];
    expect(rows[0]!.slice(1, 7)).toEqual([
      'variant_id',
      'status',
      'tone',
      'tone_label',
      'city',
      'city_label',
    ]);
    const byId = new Map(rows.slice(1).map((r) => [r[1], r.slice(3, 7)]));
    expect(byId.get(ids['calm|paris'])).toEqual([
      'calm',
      'Calm and quiet',
      'paris',
      'Paris, France',
    ]);
    expect(byId.get(ids['bold|rome'])).toEqual(['bold', 'Bold', 'rome', 'rome']);
    const levels = book
      .getWorksheet('by_dimension')!
      .getSheetValues()
      .slice(2) as unknown as unknown[][];
    expect(levels.map((r) => r.slice(1, 5))).toEqual([
      ['tone', 'Tone of voice (brand)', 'calm', 'Calm and quiet'],
      ['tone', 'Tone of voice (brand)', 'bold', 'Bold'],
      ['city', 'city', 'paris', 'Paris, France'],
      ['city', 'city', 'rome', 'rome'],
    ]);
  });
});

describe('CSV report', () => {
  it('rounds rates to 6 decimal places and money to the cent; counts stay exact', async () => {
    const res = await getReport(t, auth, campaignId, { format: 'csv' });
    expect(res.statusCode).toBe(200);
    const records = parse(res.body, { columns: true }) as Record<string, string>[];
    const first = records.find((r) => r.variant_id === ids['calm|paris'])!;
    expect(first).toMatchObject({
      impressions: '30000',
      clicks: '10000',
      ctr: '0.333333',
      cvr: '0.0007',
      spend_usd: '12.35',
      // 12.3456 / 7 = 1.763657…
      cpa: '1.76',
    });
    for (const r of records) {
      for (const c of ['ctr', 'ctr_low', 'ctr_high', 'cvr']) {
        expect(r[c], c).toMatch(/^0(\.\d{1,6})?$/);
      }
      for (const c of ['spend_usd', 'cpa']) expect(r[c], c).toMatch(/^\d+(\.\d{1,2})?$/);
    }
  });
});

describe('CSV rounding rule', () => {
  it('rounds by column: rates 6 places, money 2, ROAS 4, counts and text untouched', () => {
    const columns = ['ctr', 'lift', 'spend_usd', 'revenue_usd', 'roas', 'impressions', 'tone'];
    const round = csvRounders(columns);
    const x = [1 / 7, -1e-9, 1234.5678, 0.005, 2.345678, 123456789, 1 / 3];
    expect(x.map((v, i) => round[i]!(v))).toEqual([
      0.142857,
      0,
      1234.57,
      0.01,
      2.3457,
      123456789,
      1 / 3,
    ]);
    // -1e-9 rounds to 0, not -0, so the CSV never shows "-0".
    expect(Object.is(round[1]!(-1e-9), 0)).toBe(true);
  });
});
