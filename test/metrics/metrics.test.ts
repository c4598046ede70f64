import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsService } from '../../src/metrics/service.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { campaignWithVariants, postMetrics } from '../reports/fixtures.ts';

let t: TestApp;
let auth: string;
let other: string;
let v1: string;
let v2: string;
let foreign: string;

const day = (offset: number) =>
  new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await createTestApp({
    ...openaiApiOnly,
    METRICS_MAX_ROWS: '300',
    METRICS_MAX_BYTES: '20000',
  });
  auth = await t.key('metrics-co');
  other = await t.key('metrics-rival');
  const mine = await campaignWithVariants(t, auth, { tone: ['calm', 'bold'] }, [
    { tone: 'calm' },
    { tone: 'bold' },
  ]);
  v1 = mine.variant('calm');
  v2 = mine.variant('bold');
  const theirs = await campaignWithVariants(t, other, { tone: ['calm'] }, [{ tone: 'calm' }]);
  foreign = theirs.variant('calm');
});
afterAll(() => t.close());

async function stored(variantId: string) {
  const { rows } = await t.testDb.pool.query(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, platform, impressions::int, clicks::int,
            conversions::int, spend_usd::float8 AS spend, video_views::int AS views, tenant_id, campaign_id
     FROM metrics WHERE variant_id = $1 ORDER BY date, platform`,
    [variantId],
  );
  return rows;
}

const csv = (text: string, as = auth) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { authorization: as, 'content-type': 'text/csv' },
    payload: text,
  });

describe('POST /v1/metrics', () => {
  it('upserts JSON rows on (variant, date, platform) and counts what changed', async () => {
    const rows = [
      { variant_id: v1, date: '2025-03-01', impressions: 1000, clicks: 20, spend_usd: 12.5 },
      { variant_id: v1, date: '2025-03-01', platform: 'meta', impressions: 500, clicks: 5 },
      {
        variant_id: v2,
        date: '2025-03-01',
        impressions: 800,
        clicks: 8,
        conversions: 3,
        video_views: 400,
      },
    ];
    const first = await postMetrics(t, auth, rows);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ upserted: 3, inserted: 3, updated: 0, unchanged: 0 });

    const again = await postMetrics(t, auth, [...rows.slice(0, 2), { ...rows[2]!, clicks: 9 }]);
    expect(again.json()).toMatchObject({ upserted: 3, inserted: 0, updated: 1, unchanged: 2 });

    expect(await stored(v1)).toEqual([
      expect.objectContaining({ date: '2025-03-01', platform: '', impressions: 1000, spend: 12.5 }),
      expect.objectContaining({ platform: 'meta', impressions: 500, clicks: 5, conversions: 0 }),
    ]);
    const [row] = await stored(v2);
    expect(row).toMatchObject({ clicks: 9, conversions: 3, views: 400 });
    const { rows: owner } = await t.testDb.pool.query(
      'SELECT tenant_id, campaign_id FROM variants WHERE id = $1',
      [v2],
    );
    expect(row).toMatchObject(owner[0]);
  });

  it('accepts CSV bodies: any column order, BOM, semicolons, blank optional cells', async () => {
    const res = await csv(
      `\uFEFFclicks;variant_id;date;impressions;spend_usd;platform\n4;${v2};2025-03-02;100;;\n"6";${v2};2025-03-02;120;1.25;tiktok\n`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ upserted: 2, inserted: 2 });
    expect(await stored(v2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ date: '2025-03-02', platform: 'tiktok', clicks: 6, spend: 1.25 }),
      ]),
    );
  });

  it('accepts a streamed CSV body over a real connection, not only through inject', async () => {
    // A request stream over a socket is not what inject builds: it reaches the server.
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'text/csv' },
      body: `variant_id,date,impressions,clicks\n${v1},2025-04-01,10,1\n`,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ upserted: 1 });
  });

  it('accepts a multipart .csv file', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([`variant_id,date,impressions,clicks\n${v1},2025-03-03,50,1\n`]),
      'm.csv',
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth },
      payload: form,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ upserted: 1, inserted: 1 });
  });

  it('rejects bad rows with 422 naming row and column, and writes nothing', async () => {
    const before = (await t.testDb.pool.query('SELECT count(*)::int AS n FROM metrics')).rows[0].n;
    const res = await csv(
      [
        'variant_id,date,impressions,clicks,conversions',
        `${v1},2025-04-01,100,5,`, // fine, but must not be written
        `${v1},2025-04-02,-3,0,`,
        `${v1},2025-04-03,10,11,`,
        `${v1},2025-02-30,10,1,`,
        `${v1},04/05/2025,10,1,`,
        `${v1},${day(2)},10,1,`,
        `${v1},2025-04-06,1.5,1,`,
        `${v1},2025-04-07,ten,1,`,
        `var_nope,2025-04-08,10,1,`,
        `${foreign},2025-04-08,10,1,`,
        `${v1},2025-04-01,100,5,`,
        `${v1},2025-04-09,,1,`,
        `${v1},2025-04-10,10,1,2,extra`,
      ].join('\n'),
    );
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.detail).toMatch(/nothing was written/);
    const byRow = (row: number) => body.errors.filter((e: { row: number }) => e.row === row);
    expect(byRow(3)).toEqual([
      { row: 3, column: 'impressions', message: 'impressions must not be negative (got -3)' },
    ]);
    expect(byRow(4)).toEqual([
      { row: 4, column: 'clicks', message: 'clicks (11) exceed impressions (10)' },
    ]);
    expect(byRow(5)[0]).toMatchObject({
      column: 'date',
      message: expect.stringMatching(/not a calendar date/),
    });
    expect(byRow(6)[0]).toMatchObject({
      column: 'date',
      message: expect.stringMatching(/YYYY-MM-DD/),
    });
    expect(byRow(7)[0]).toMatchObject({
      column: 'date',
      message: expect.stringMatching(/in the future/),
    });
    expect(byRow(8)[0]).toMatchObject({
      column: 'impressions',
      message: expect.stringMatching(/whole number/),
    });
    expect(byRow(9)[0]).toMatchObject({
      column: 'impressions',
      message: expect.stringMatching(/must be a number/),
    });
    // Another tenant's variant reads exactly like one that does not exist.
    expect(byRow(10)).toEqual([
      { row: 10, column: 'variant_id', message: 'unknown variant var_nope' },
    ]);
    expect(byRow(11)).toEqual([
      { row: 11, column: 'variant_id', message: `unknown variant ${foreign}` },
    ]);
    expect(byRow(12)).toEqual([
      {
        row: 12,
        column: 'variant_id',
        message: 'duplicate of row 2: same variant, date and platform',
      },
    ]);
    expect(byRow(13)[0]).toMatchObject({
      column: 'impressions',
      message: 'impressions is required',
    });
    expect(byRow(14)).toEqual([{ row: 14, message: 'row has 6 fields but the header has 5' }]);
    expect(body.errors, JSON.stringify(body.errors, null, 1)).toHaveLength(12);
    const after = (await t.testDb.pool.query('SELECT count(*)::int AS n FROM metrics')).rows[0].n;
    expect(after).toBe(before);
  });

  it('names JSON rows by path, for the same rules', async () => {
    const res = await postMetrics(t, auth, [
      { variant_id: v1, date: day(1), impressions: 10, clicks: 1 }, // tomorrow is allowed
      { variant_id: foreign, date: '2025-05-01', impressions: 10, clicks: 1 },
      { variant_id: v1, date: '2025-05-01', impressions: 10, clicks: -1, colour: 'red' },
      'not a row' as unknown as Record<string, unknown>,
    ]);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      { path: 'rows[1].variant_id', message: `unknown variant ${foreign}` },
      { path: 'rows[2]', message: 'unknown field "colour"' },
      { path: 'rows[2].clicks', message: 'clicks must not be negative (got -1)' },
      { path: 'rows[3]', message: 'must be an object' },
    ]);
  });

  it('checks the header, the body shape and empty uploads', async () => {
    const header = await csv('variant_id,date,clickz,impressions\n');
    expect(header.statusCode).toBe(422);
    expect(header.json().detail).toMatch(/Columns ignored: clickz/);
    expect(header.json().errors).toEqual([
      { row: 1, message: 'the required column clicks is missing' },
    ]);
    const noId = await csv('Ad name,date,clicks,impressions\n');
    expect(noId.json().errors).toEqual([
      { row: 1, message: 'a variant_id or an external_id column is required' },
    ]);
    expect((await csv('variant_id,date,impressions,clicks\n')).statusCode).toBe(422);
    expect((await csv('')).statusCode).toBe(400);
    expect((await csv('a,"b\n1,2')).statusCode).toBe(400);
    const shape = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: auth },
      payload: { data: [] },
    });
    expect(shape.statusCode).toBe(400);
  });

  it('refuses uploads over the byte or row limit with 413', async () => {
    const line = `${v1},2025-06-01,10,1\n`;
    const big = await csv(
      `variant_id,date,impressions,clicks\n${line.repeat(20000 / line.length + 1)}`,
    );
    expect(big.statusCode).toBe(413);
    const rows = Array.from({ length: 301 }, (_, i) => ({
      variant_id: v1,
      date: '2025-06-01',
      platform: `p${i}`,
      impressions: 1,
      clicks: 0,
    }));
    expect((await postMetrics(t, auth, rows)).statusCode).toBe(413);
  });

  it('needs the metrics:write scope', async () => {
    const reader = await t.key('metrics-co', ['reports:read']);
    const res = await postMetrics(t, reader, [
      { variant_id: v1, date: '2025-03-01', impressions: 1, clicks: 0 },
    ]);
    expect(res.statusCode).toBe(403);
  });

  it('streams a CSV in chunks: variant look-ups and inserts per chunk, one transaction', async () => {
    const service = createMetricsService({
      db: t.testDb.db,
      config: { maxBytes: 10_000_000, maxXlsxBytes: 1_000_000, maxRows: 10_000, chunkRows: 500 },
    });
    const tenantId = (
      await t.testDb.pool.query('SELECT tenant_id FROM variants WHERE id = $1', [v1])
    ).rows[0].tenant_id as string;
    const lines = Array.from(
      { length: 2_000 },
      (_, i) => `${i % 2 ? v1 : v2},2024-01-01,p${i},${100 + i},${i % 50}`,
    );
    async function* body(text: string) {
      // Small pieces, so records straddle chunk boundaries.
      for (let i = 0; i < text.length; i += 777) yield Buffer.from(text.slice(i, i + 777));
    }
    const header = 'variant_id,date,platform,impressions,clicks\n';
    const ok = await service.ingest(tenantId, {
      kind: 'csv',
      stream: body(header + lines.join('\n')),
    });
    expect(ok).toMatchObject({ upserted: 2_000, inserted: 2_000, updated: 0, unchanged: 0 });

    // One unknown variant deep in the third chunk fails the whole upload.
    lines[1_234] = `var_missing,2024-01-01,x,10,1`;
    const bad = await service
      .ingest(tenantId, { kind: 'csv', stream: body(header + lines.join('\n')) })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({
      status: 422,
      errors: [{ row: 1_236, column: 'variant_id', message: 'unknown variant var_missing' }],
    });
    const { rows } = await t.testDb.pool.query(
      "SELECT count(*)::int AS n, sum(impressions)::int AS i FROM metrics WHERE date = '2024-01-01'",
    );
    expect(rows[0]).toEqual({ n: 2_000, i: 2_000 * 100 + (1_999 * 2_000) / 2 });
  });
});
