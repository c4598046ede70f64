/**
 * Comparisons among non-reference levels (compare) reach the downloads: the CSV stays one table
 * with a `kind` column (effect and comparison rows, then variant rows that are the plain CSV's),
 * the XLSX gains a comparisons sheet. Both are parsed back and checked against the JSON report.
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

// "level" as a dimension key collides with a contrast column: its variant column is renamed.
const levels = { tone: ['calm', 'bold', 'witty'], level: ['low', 'high'] };
const CTR: Record<string, number> = { calm: 0.01, bold: 0.012, witty: 0.02 };

type Contrast = {
  level: string;
  versus?: string;
  effect: number | null;
  effect_ci: [number, number] | null;
  lift: number | null;
  p_adjusted: number | null;
  prob_better?: number | null;
  prob_beat_reference?: number | null;
  verdict: string;
  reference?: boolean;
};
type Json = {
  by_dimension: { dimension: string; levels: Contrast[]; comparisons: Contrast[] }[];
};

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('export-comparisons-co');
  const existing = await setupCampaign(t, auth, {
    levels,
    labels: { 'tone.witty': '=Witty, "dry"' },
  });
  const combos = levels.tone.flatMap((tone) => levels.level.map((level) => ({ tone, level })));
  const c = await campaignWithVariants(t, auth, levels, combos, existing);
  campaignId = c.campaignId;
  const res = await postMetrics(
    t,
    auth,
    combos.flatMap((x, i) =>
      ['2026-11-01', '2026-11-02'].map((date, k) => {
        const impressions = 50_000 + 3_000 * i + 1_000 * k;
        const spread = 1 + ((i + k) % 3) * 0.03;
        return {
          variant_id: c.variant(x.tone, x.level),
          date,
          impressions,
          clicks: Math.round(impressions * CTR[x.tone]! * spread),
        };
      }),
    ),
  );
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(() => t.close());

async function json(): Promise<Json> {
  const res = await getReport(t, auth, campaignId, { compare: 'all' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function csv(query: Record<string, string>) {
  const res = await getReport(t, auth, campaignId, { format: 'csv', ...query });
  expect(res.statusCode, res.body).toBe(200);
  return parse(res.body, { columns: true, cast: false }) as Record<string, string>[];
}

/** A number as the CSV writes it: rounded by its column's rule, '' for null. */
function asCsv(column: string, x: number | null | undefined) {
  return x === null || x === undefined ? '' : String(csvRounders([column])[0]!(x));
}

describe('CSV report with compare', () => {
  it('is one table: effect and comparison rows, then the plain CSV’s variant rows', async () => {
    const [rows, plain, report] = await Promise.all([csv({ compare: 'all' }), csv({}), json()]);
    expect(Object.keys(rows[0]!)[0]).toBe('kind');
    expect(rows.map((r) => r.kind)).toEqual([
      'effect',
      'effect',
      'effect',
      'comparison',
      ...plain.map(() => 'variant'),
    ]);

    const tone = report.by_dimension.find((d) => d.dimension === 'tone')!;
    expect(tone.comparisons).toHaveLength(1);
    const pair = tone.comparisons[0]!;
    const shown = rows.find((r) => r.kind === 'comparison')!;
    expect(shown).toMatchObject({
      dimension: 'tone',
      level: 'witty',
      // Labels are text, never a formula.
      label: '\'=Witty, "dry"',
      versus: 'bold',
      versus_label: 'bold',
      verdict: pair.verdict,
      variant_id: '',
      ctr: '',
    });
    for (const [column, value] of [
      ['effect', pair.effect],
      ['effect_low', pair.effect_ci?.[0]],
      ['effect_high', pair.effect_ci?.[1]],
      ['lift', pair.lift],
      ['p_adjusted', pair.p_adjusted],
      ['prob_better', pair.prob_better],
    ] as const)
      expect(shown[column], column).toBe(asCsv(column, value));
    // The planted difference is large enough to be called either way but not unjudged.
    expect(Number(shown.effect)).toBeGreaterThan(1.3);

    const effect = rows.find((r) => r.kind === 'effect' && r.level === 'witty')!;
    const witty = tone.levels.find((l) => l.level === 'witty')!;
    expect(effect).toMatchObject({ dimension: 'tone', versus: 'calm', verdict: witty.verdict });
    expect(effect.p_adjusted).toBe(asCsv('p_adjusted', witty.p_adjusted));
    expect(effect.prob_better).toBe(asCsv('prob_better', witty.prob_beat_reference));
    expect(rows.find((r) => r.kind === 'effect' && r.level === 'high')).toMatchObject({
      dimension: 'level',
      versus: 'low',
    });

    // Variant rows, kind and contrast columns dropped, are the plain CSV, value for value; the
    // dimension called "level" is renamed here only, as the contrast rows have a level column.
    const plainColumns = Object.keys(plain[0]!);
    expect(plainColumns).toContain('level');
    expect(Object.keys(rows[0]!).filter((c) => c.startsWith('level'))).toEqual([
      'level_level',
      'level',
    ]);
    const variants = rows
      .filter((r) => r.kind === 'variant')
      .map((r) =>
        Object.fromEntries(plainColumns.map((c) => [c, r[c === 'level' ? 'level_level' : c]])),
      );
    const byId = (a: Record<string, string | undefined>, b: Record<string, string | undefined>) =>
      a.variant_id! < b.variant_id! ? -1 : 1;
    expect(variants.sort(byId)).toEqual([...plain].sort(byId));
    expect(rows.filter((r) => r.kind === 'variant').every((r) => r.effect === '')).toBe(true);
  });

  it('names an unknown dimension in compare with a 400, as the JSON does', async () => {
    const res = await getReport(t, auth, campaignId, { format: 'csv', compare: 'tone,mood' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body).toContain('query.compare');
  });
});

describe('XLSX report with compare', () => {
  async function workbook(query: Record<string, string>) {
    const res = await getReport(t, auth, campaignId, { format: 'xlsx', ...query });
    expect(res.statusCode).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    return book;
  }

  it('adds a comparisons sheet with the JSON’s numbers at full precision, formatted', async () => {
    const [book, report] = await Promise.all([workbook({ compare: 'all' }), json()]);
    expect(book.worksheets.map((s) => s.name)).toEqual([
      'summary',
      'operations',
      'model',
      'by_dimension',
      'comparisons',
      'variants',
    ]);
    const sheet = book.getWorksheet('comparisons')!;
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.rowCount).toBe(2);
    const header = sheet.getRow(1).values as unknown[];
    const cell = (column: string) => sheet.getRow(2).getCell(header.indexOf(column));
    const pair = report.by_dimension.find((d) => d.dimension === 'tone')!.comparisons[0]!;
    expect(cell('level').value).toBe('witty');
    expect(cell('label').value).toBe('\'=Witty, "dry"');
    expect(cell('versus').value).toBe('bold');
    expect(cell('effect').value).toBe(pair.effect);
    expect(cell('effect_high').value).toBe(pair.effect_ci![1]);
    expect(cell('p_adjusted').value).toBe(pair.p_adjusted);
    expect(cell('prob_better').value).toBe(pair.prob_better);
    expect(cell('verdict').value).toBe(pair.verdict);
    expect({
      effect: cell('effect').numFmt,
      lift: cell('lift').numFmt,
      prob_better: cell('prob_better').numFmt,
      p_adjusted: cell('p_adjusted').numFmt,
    }).toEqual({
      effect: '0.000',
      lift: '+0.0%;-0.0%;0.0%',
      prob_better: '0.00%',
      p_adjusted: '[<0.0001]"<0.0001";0.0000',
    });
  });

  it('has the sheet, empty, when only dimensions without pairs are compared; none by default', async () => {
    const only = await workbook({ compare: 'level' });
    expect(only.getWorksheet('comparisons')!.rowCount).toBe(1);
    expect((await workbook({})).getWorksheet('comparisons')).toBeUndefined();
  });
});
