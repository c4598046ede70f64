import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp, waitFor } from '../helpers/app.ts';
import { campaignWithVariants, postMetrics } from '../reports/fixtures.ts';

let t: TestApp;
let auth: string;
let other: string;
let calm: string;
let bold: string;
let loud: string;
let foreign: string;

const XLSX_LIMIT = 40_000;
let deliveries = 0;
/** Recorded in SQL: the API only delivers rendered variants, and no worker runs here. */
async function deliver(variantId: string, destination: string, externalId: string) {
  await t.testDb.pool.query(
    `INSERT INTO deliveries (id, tenant_id, variant_id, campaign_id, destination, external_id,
                             delivered_at)
     SELECT $1, tenant_id, id, campaign_id, $3, $4, now() FROM variants WHERE id = $2`,
    [`dlv_imports${++deliveries}`, variantId, destination, externalId],
  );
}

beforeAll(async () => {
  t = await createTestApp({
    ...openaiApiOnly,
    METRICS_MAX_ROWS: '50',
    METRICS_MAX_XLSX_BYTES: String(XLSX_LIMIT),
  });
  auth = await t.key('imports-co');
  other = await t.key('imports-rival');
  const mine = await campaignWithVariants(t, auth, { tone: ['calm', 'bold', 'loud'] }, [
    { tone: 'calm' },
    { tone: 'bold' },
    { tone: 'loud' },
  ]);
  [calm, bold, loud] = [mine.variant('calm'), mine.variant('bold'), mine.variant('loud')];
  const theirs = await campaignWithVariants(t, other, { tone: ['calm'] }, [{ tone: 'calm' }]);
  foreign = theirs.variant('calm');
  await deliver(calm, 'meta_ads', '120210000000000001');
  // The same variant on two destinations under one id is still one variant.
  await deliver(bold, 'meta_ads', '120210000000000002');
  await deliver(bold, 'tiktok', '120210000000000002');
  // Two variants sharing an id (two platforms numbering alike) make it ambiguous.
  await deliver(calm, 'tiktok', '777');
  await deliver(loud, 'google_ads', '777');
  // Another tenant's ad id must read as unknown.
  await deliver(foreign, 'meta_ads', '999000');
});
afterAll(() => t.close());

const upload = (text: string, query = '', as = auth) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/metrics${query}`,
    headers: { authorization: as, 'content-type': 'text/csv' },
    payload: text,
  });

async function stored(variantId: string, date: string) {
  const { rows } = await t.testDb.pool.query(
    `SELECT platform, impressions::int, clicks::int, spend_usd::float8 AS spend
     FROM metrics WHERE variant_id = $1 AND date = $2 ORDER BY platform`,
    [variantId, date],
  );
  return rows;
}

describe('metrics imports as platforms export them', () => {
  it('matches rows by external_id, ignores and lists unknown columns, and counts both', async () => {
    const res = await upload(
      [
        'Ad name,External_ID,Variant_ID,Date,Platform,Impressions,Clicks,Spend_USD,Reach,CPM',
        `Spring A,120210000000000001,,2025-07-01,meta,1000,20,3.5,900,3.5`,
        `Spring B,120210000000000002,,2025-07-01,meta,800,8,2,700,2.5`,
        `Spring C,,${loud},2025-07-01,meta,500,5,1,400,2`,
        `Spring A,120210000000000001,${calm},2025-07-02,meta,100,1,0.5,90,5`,
      ].join('\n'),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      rows: 4,
      upserted: 4,
      inserted: 4,
      updated: 0,
      unchanged: 0,
      matched: { variant_id: 2, external_id: 2 },
      refused: {
        count: 0,
        by_reason: { unknown_variant: 0, unknown_external_id: 0, ambiguous_external_id: 0 },
        rows: [],
      },
      ignored_columns: ['Ad name', 'Reach', 'CPM'],
      warnings: ['3 columns ignored (not metric fields): Ad name, Reach, CPM'],
    });
    expect(await stored(calm, '2025-07-01')).toEqual([
      { platform: 'meta', impressions: 1000, clicks: 20, spend: 3.5 },
    ]);
    expect(await stored(bold, '2025-07-01')).toEqual([
      { platform: 'meta', impressions: 800, clicks: 8, spend: 2 },
    ]);
    expect(await stored(calm, '2025-07-02')).toHaveLength(1);
  });

  it('refuses a near miss of a field the header lacks, rather than store its numbers as 0', async () => {
    const res = await upload(
      [
        'variant_id,date,impressions,clicks,Spend (USD),Video views,Revenue,Ad name',
        `${calm},2025-07-05,100,2,3.5,40,9,Spring A`,
      ].join('\n'),
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors).toEqual([
      {
        row: 1,
        column: 'Spend (USD)',
        message:
          'looks like spend_usd (in US dollars): name the column spend_usd to read it, or rename it to have it ignored',
      },
      {
        row: 1,
        column: 'Video views',
        message:
          'looks like video_views: name the column video_views to read it, or rename it to have it ignored',
      },
      { row: 1, column: 'Revenue', message: expect.stringMatching(/^looks like revenue_usd /) },
    ]);
    expect(await stored(calm, '2025-07-05')).toEqual([]);
    // Beside the field itself, the look-alike is just another ignored column.
    const both = await upload(
      ['variant_id,date,impressions,clicks,spend_usd,Spend', `${calm},2025-07-05,100,2,3.5,3`].join(
        '\n',
      ),
    );
    expect(both.statusCode, both.body).toBe(200);
    expect(both.json().ignored_columns).toEqual(['Spend']);
    expect(await stored(calm, '2025-07-05')).toEqual([
      { platform: expect.any(String), impressions: 100, clicks: 2, spend: 3.5 },
    ]);
  });

  it('fails the upload on unknown, foreign, ambiguous or conflicting ids, naming row and column', async () => {
    const res = await upload(
      [
        'external_id,variant_id,date,impressions,clicks',
        `120210000000000001,,2025-07-03,10,1`, // fine, must not be written
        `404404,,2025-07-03,10,1`,
        `999000,,2025-07-03,10,1`,
        `777,,2025-07-03,10,1`,
        `120210000000000001,${bold},2025-07-03,10,1`,
        `,${foreign},2025-07-03,10,1`,
        `1.2021E+17,,2025-07-03,10,1`,
        `120210000000000001,${calm},2025-07-03,10,1`, // same variant, date, platform as row 2
      ].join('\n'),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      { row: 3, column: 'external_id', message: 'no delivery has external_id 404404' },
      { row: 4, column: 'external_id', message: 'no delivery has external_id 999000' },
      {
        row: 5,
        column: 'external_id',
        message: expect.stringMatching(/^external_id 777 belongs to 2 variants .*variant_id/),
      },
      {
        row: 6,
        column: 'external_id',
        message: `external_id 120210000000000001 is not a delivery of variant ${bold}`,
      },
      { row: 7, column: 'variant_id', message: `unknown variant ${foreign}` },
      {
        row: 8,
        column: 'external_id',
        message: expect.stringMatching(/scientific notation .*format the column as text/),
      },
      {
        row: 9,
        column: 'variant_id',
        message: 'duplicate of row 2: same variant, date and platform',
      },
    ]);
    expect(await stored(calm, '2025-07-03')).toEqual([]);
  });

  it('with unmatched=skip writes the rest and lists each refused row with its reason', async () => {
    const res = await upload(
      [
        'external_id;variant_id;date;impressions;clicks',
        `120210000000000001;;2025-07-04;10;1`,
        `404404;;2025-07-04;10;1`,
        `777;;2025-07-04;10;1`,
        `;${foreign};2025-07-04;10;1`,
        `;${loud};2025-07-04;30;3`,
      ].join('\n'),
      '?unmatched=skip',
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      rows: 5,
      upserted: 2,
      matched: { variant_id: 1, external_id: 1 },
      refused: {
        count: 3,
        by_reason: { unknown_variant: 1, unknown_external_id: 1, ambiguous_external_id: 1 },
      },
      warnings: ['3 rows named no variant of yours and were not written (unmatched=skip)'],
    });
    expect(
      body.refused.rows.map((r: { row: number; column: string }) => [r.row, r.column]),
    ).toEqual([
      [3, 'external_id'],
      [4, 'external_id'],
      [5, 'variant_id'],
    ]);
    expect(await stored(calm, '2025-07-04')).toHaveLength(1);
    expect(await stored(loud, '2025-07-04')).toHaveLength(1);
    // Bad values still fail the whole upload: skip is only about whose rows they are.
    const bad = await upload(
      `external_id,date,impressions,clicks\n404404,2025-07-05,10,1\n120210000000000001,2025-07-05,x,1\n`,
      '?unmatched=skip',
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([
      { row: 3, column: 'impressions', message: 'impressions must be a number (got "x")' },
    ]);
  });

  it('reads decimal commas and day-first or month-first dates when told to', async () => {
    const euro = await upload(
      `variant_id;date;impressions;clicks;spend_usd\n${calm};6/7/2025;1000;10;"12,75"\n${bold};13/07/2025;10;1;0,5\n`,
      '?decimal=,&date_format=DD/MM/YYYY',
    );
    expect(euro.statusCode, euro.body).toBe(200);
    expect(await stored(calm, '2025-07-06')).toEqual([
      { platform: '', impressions: 1000, clicks: 10, spend: 12.75 },
    ]);
    expect(await stored(bold, '2025-07-13')).toEqual([
      { platform: '', impressions: 10, clicks: 1, spend: 0.5 },
    ]);

    const us = await upload(
      `variant_id,date,impressions,clicks,spend_usd\n${loud},07/14/2025,10,1,1.25\n`,
      '?date_format=MM/DD/YYYY',
    );
    expect(us.statusCode, us.body).toBe(200);
    expect(await stored(loud, '2025-07-14')).toEqual([
      { platform: '', impressions: 10, clicks: 1, spend: 1.25 },
    ]);

    // A point where a comma is the decimal mark is refused, never read as a thousands separator.
    const wrong = await upload(
      `variant_id;date;impressions;clicks;spend_usd\n${calm};14/07/2025;1.000;1;1.5\n${calm};31/02/2025;10;1;0\n${calm};2025-07-15;10;1;0\n`,
      '?decimal=,&date_format=DD/MM/YYYY',
    );
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors).toEqual([
      { row: 2, column: 'impressions', message: 'impressions must be a number (got "1.000")' },
      { row: 2, column: 'spend_usd', message: 'spend_usd must be a number (got "1.5")' },
      { row: 3, column: 'date', message: 'date 31/02/2025 is not a calendar date' },
      {
        row: 4,
        column: 'date',
        message: 'date must be a date as DD/MM/YYYY (got "2025-07-15")',
      },
    ]);
  });

  it('refuses unknown options with a problem naming the parameter', async () => {
    const res = await upload(`variant_id,date,impressions,clicks\n`, '?date_format=YY-MM-DD');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(JSON.stringify(res.json().errors)).toMatch(/date_format/);
  });

  it('accepts external_id in JSON rows too, where unknown fields stay errors', async () => {
    const res = await postMetrics(t, auth, [
      { external_id: '120210000000000002', date: '2025-07-16', impressions: 5, clicks: 1 },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().matched).toEqual({ variant_id: 0, external_id: 1 });
    const none = await postMetrics(t, auth, [{ date: '2025-07-16', impressions: 5, clicks: 1 }]);
    expect(none.json().errors).toEqual([
      { path: 'rows[0].variant_id', message: 'variant_id or external_id is required' },
    ]);
  });
});

async function xlsx(rows: ExcelJS.CellValue[][], sheet = 'Ads report') {
  const book = new ExcelJS.Workbook();
  const ws = book.addWorksheet(sheet);
  for (const r of rows) ws.addRow(r);
  book.addWorksheet('Notes').addRow(['variant_id', 'date', 'impressions', 'clicks']);
  return Buffer.from(await book.xlsx.writeBuffer());
}

const uploadXlsx = (body: Buffer, query = '') =>
  t.app.inject({
    method: 'POST',
    url: `/v1/metrics${query}`,
    headers: {
      authorization: auth,
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    payload: body,
  });

describe('metrics imports from .xlsx', () => {
  it('reads the first worksheet: date and number cells as such, text cells by the options', async () => {
    const body = await xlsx([
      ['Exported from Ads Manager'], // not blank: so this is the header, and it fails below
    ]);
    const header = await uploadXlsx(body);
    expect(header.statusCode).toBe(422);
    expect(header.json().errors).toContainEqual({
      sheet: 'Ads report',
      row: 1,
      message: 'the required column date is missing',
    });

    const good = await xlsx([
      [],
      ['Ad ID', 'External_ID', 'Date', 'Impressions', 'Clicks', 'Spend_USD', 'Platform'],
      ['x', '120210000000000001', new Date(Date.UTC(2025, 7, 1)), 1200, 12, 4.5, 'meta'],
      ['y', '120210000000000002', '02/08/2025', 900, { formula: 'B1*0+9', result: 9 }, '1,25', ''],
      [null, null, null, null, null, null, null],
    ]);
    const res = await uploadXlsx(good, '?decimal=,&date_format=DD/MM/YYYY');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      rows: 2,
      upserted: 2,
      matched: { variant_id: 0, external_id: 2 },
      ignored_columns: ['Ad ID'],
    });
    expect(await stored(calm, '2025-08-01')).toEqual([
      { platform: 'meta', impressions: 1200, clicks: 12, spend: 4.5 },
    ]);
    expect(await stored(bold, '2025-08-02')).toEqual([
      { platform: '', impressions: 900, clicks: 9, spend: 1.25 },
    ]);
  });

  it('names sheet, row and column for bad cells, and a rounded ad id', async () => {
    const res = await uploadXlsx(
      await xlsx([
        ['external_id', 'date', 'impressions', 'clicks'],
        [Number('120210000000000001'), new Date(Date.UTC(2025, 7, 3)), 10, 1],
        ['120210000000000001', new Date(Date.UTC(2025, 7, 4)), { error: '#DIV/0!' }, 1],
        ['120210000000000001', new Date(Date.UTC(2025, 7, 5)), 2.5, 1],
      ]),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      {
        sheet: 'Ads report',
        row: 2,
        column: 'external_id',
        message: expect.stringMatching(/stored as a number and lost digits/),
      },
      {
        sheet: 'Ads report',
        row: 3,
        column: 'impressions',
        message: 'impressions shows the error #DIV/0!',
      },
      {
        sheet: 'Ads report',
        row: 4,
        column: 'impressions',
        message: 'impressions must be a whole number (got 2.5)',
      },
    ]);
  });

  it('takes a multipart .xlsx, refuses legacy .xls and a corrupt zip, and bounds the size', async () => {
    const form = new FormData();
    const book = await xlsx([
      ['variant_id', 'date', 'impressions', 'clicks'],
      [loud, new Date(Date.UTC(2025, 7, 6)), 10, 1],
    ]);
    form.append('file', new Blob([book]), 'report.xlsx');
    const multipart = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth },
      payload: form,
    });
    expect(multipart.statusCode, multipart.body).toBe(200);
    expect(await stored(loud, '2025-08-06')).toHaveLength(1);

    const ole = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(600),
    ]);
    expect((await uploadXlsx(ole)).statusCode).toBe(415);
    const corrupt = await uploadXlsx(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(600)]));
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.headers['content-type']).toMatch(/problem\+json/);
    const big = await uploadXlsx(Buffer.concat([book, Buffer.alloc(XLSX_LIMIT - book.length + 1)]));
    expect(big.statusCode).toBe(413);
  });

  it('leaves no temp files: exceljs parks sheets read before the shared strings on disk', async () => {
    // Two sheets (the second never read) and an upload stopped early by the row limit: the
    // test fails without the background read to the end (checked).
    const rows = Array.from({ length: 60 }, (_, i) => [calm, `2025-09-${(i % 28) + 1}`, i, 0]);
    const stopped = await uploadXlsx(
      await xlsx([['variant_id', 'date', 'impressions', 'clicks'], ...rows]),
    );
    expect(stopped.statusCode).toBe(413);
    const mine = async () =>
      (await readdir(tmpdir())).filter((f) => f.startsWith(`tmp-${process.pid}-`));
    await waitFor(async () => ((await mine()).length === 0 ? true : undefined), {
      what: 'exceljs temp files to be removed',
    });
  });
});
