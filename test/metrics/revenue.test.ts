/**
 * revenue_usd on metric rows: accepted in JSON and CSV (any column order, blank = 0), part of
 * the upsert's change detection, and a bad value is a 422 naming its row and column with
 * nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, postMetrics } from '../reports/fixtures.ts';

let t: TestApp;
let auth: string;
let v1: string;
let v2: string;

beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
  auth = await t.key('revenue-co');
  const mine = await campaignWithVariants(t, auth, { tone: ['calm', 'bold'] }, [
    { tone: 'calm' },
    { tone: 'bold' },
  ]);
  v1 = mine.variant('calm');
  v2 = mine.variant('bold');
});
afterAll(() => t.close());

async function revenue(variantId: string) {
  const { rows } = await t.testDb.pool.query<{ date: string; revenue: number }>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, revenue_usd::float8 AS revenue
     FROM metrics WHERE variant_id = $1 ORDER BY date, platform`,
    [variantId],
  );
  return rows;
}

const csv = (text: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { authorization: auth, 'content-type': 'text/csv' },
    payload: text,
  });

const metricRows = async () =>
  (await t.testDb.pool.query('SELECT count(*)::int AS n FROM metrics')).rows[0].n as number;

describe('revenue_usd on metric rows', () => {
  it('is stored from JSON, to four decimals, and a change of revenue alone is an update', async () => {
    const row = {
      variant_id: v1,
      date: '2025-06-01',
      impressions: 1000,
      clicks: 20,
      conversions: 2,
      spend_usd: 10,
      revenue_usd: 123.45678,
    };
    const first = await postMetrics(t, auth, [row, { ...row, date: '2025-06-02' }]);
    expect(first.statusCode, first.body).toBe(200);
    expect(await revenue(v1)).toEqual([
      { date: '2025-06-01', revenue: 123.4568 },
      { date: '2025-06-02', revenue: 123.4568 },
    ]);
    const again = await postMetrics(t, auth, [
      row,
      { ...row, date: '2025-06-02', revenue_usd: 99 },
    ]);
    expect(again.json()).toMatchObject({ upserted: 2, inserted: 0, updated: 1, unchanged: 1 });
    expect((await revenue(v1))[1]).toEqual({ date: '2025-06-02', revenue: 99 });
  });

  it('is read from CSV in any column position; a blank or missing cell is 0', async () => {
    const res = await csv(
      `revenue_usd;variant_id;date;impressions;clicks\n1.5;${v2};2025-06-01;100;1\n;${v2};2025-06-02;100;1\n0.25;${v2};2025-06-03;100;1\n`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const plain = await csv(`variant_id,date,impressions,clicks\n${v2},2025-06-04,100,1\n`);
    expect(plain.statusCode, plain.body).toBe(200);
    expect(await revenue(v2)).toEqual([
      { date: '2025-06-01', revenue: 1.5 },
      { date: '2025-06-02', revenue: 0 },
      { date: '2025-06-03', revenue: 0.25 },
      { date: '2025-06-04', revenue: 0 },
    ]);
  });

  it('rejects a negative, non-numeric or too large value naming row and column, writing nothing', async () => {
    const before = await metricRows();
    const res = await csv(
      [
        'variant_id,date,impressions,clicks,Revenue_USD',
        `${v1},2025-07-01,100,5,10`,
        `${v1},2025-07-02,100,5,-1`,
        `${v1},2025-07-03,100,5,lots`,
        `${v1},2025-07-04,100,5,10000000000`,
      ].join('\n'),
    );
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([
      { row: 3, column: 'Revenue_USD', message: 'revenue_usd must not be negative (got -1)' },
      { row: 4, column: 'Revenue_USD', message: 'revenue_usd must be a number (got "lots")' },
      { row: 5, column: 'Revenue_USD', message: 'revenue_usd must be below 10000000000' },
    ]);
    const json = await postMetrics(t, auth, [
      { variant_id: v1, date: '2025-07-05', impressions: 10, clicks: 1, revenue_usd: '12' },
      { variant_id: v1, date: '2025-07-06', impressions: 10, clicks: 1, revenue_usd: true },
    ]);
    expect(json.statusCode).toBe(422);
    expect(json.json().errors).toEqual([
      { path: 'rows[1].revenue_usd', message: 'revenue_usd must be a number (got true)' },
    ]);
    expect(await metricRows()).toBe(before);
  });
});
