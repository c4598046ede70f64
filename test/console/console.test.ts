import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import {
  type ConsoleClient,
  campaignForm,
  createCampaign as createCampaignWith,
  matrixCsv,
  signIn,
  testPng,
} from './helpers.ts';

let t: TestApp;
let bearer: string;
let c: ConsoleClient;

beforeAll(async () => {
  t = await createTestApp();
  bearer = await t.key('console-co');
  c = await signIn(t, bearer);
});
afterAll(() => t?.close());

const createCampaign = (client = c) => createCampaignWith(client);

async function uploadMatrix(campaignId: string) {
  const res = await c.upload(`/console/campaigns/${campaignId}/matrices`, {
    name: 'm.csv',
    body: matrixCsv,
  });
  expect(res.statusCode).toBe(303);
  return String(res.headers.location).split('/').at(-1) as string;
}

describe('console campaigns and matrices', () => {
  it('creates a campaign from the form and renders markup in its name as text', async () => {
    const id = await createCampaign();
    const page = await c.get(`/console/campaigns/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).toContain('Spring &lt;script&gt;alert(1)&lt;/script&gt; &quot;drop&quot;');
    expect(page.body).toContain('<label for="matrix_file">Matrix file</label>');
    const list = await c.get('/console');
    expect(list.body).toContain(`/console/campaigns/${id}`);
  });

  it('edits a campaign from a form filled with what it is', async () => {
    const id = await createCampaign();
    const form = await c.get(`/console/campaigns/${id}/edit`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="Light as air"');
    expect(form.body).toContain('value="50"');
    const saved = await c.post(`/console/campaigns/${id}`, {
      ...campaignForm,
      name: 'Renamed',
      budget_usd: '',
      seconds: '6',
    });
    expect(saved.statusCode).toBe(303);
    const row = await t.app.inject({
      method: 'GET',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: bearer },
    });
    expect(row.json()).toMatchObject({ name: 'Renamed', budget_usd: null, video: { seconds: 6 } });
    const bad = await c.post(`/console/campaigns/${id}`, { ...campaignForm, size: '1x1' });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain('video.size');
    expect(bad.body).toContain('>Save campaign</button>');
  });

  it('covers the whole brief: brand guidelines and things to avoid, and clears emptied fields on edit', async () => {
    const res = await c.post('/console/campaigns', {
      ...campaignForm,
      audience: 'Runners',
      brand_guidelines: 'Warm <b>colours</b>',
      avoid: 'rain\n\n  competitor logos  ',
    });
    expect(res.statusCode).toBe(303);
    const id = String(res.headers.location).split('/').at(-1) as string;
    const v1 = async () =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/campaigns/${id}`,
          headers: { authorization: bearer },
        })
      ).json().brief;
    expect(await v1()).toMatchObject({
      audience: 'Runners',
      brand_guidelines: 'Warm <b>colours</b>',
      avoid: ['rain', 'competitor logos'],
    });
    const form = await c.get(`/console/campaigns/${id}/edit`);
    expect(form.body).toContain('<label for="f_brand_guidelines">Brand guidelines</label>');
    expect(form.body).toContain('>Warm &lt;b&gt;colours&lt;/b&gt;</textarea>');
    expect(form.body).toContain('>rain\ncompetitor logos</textarea>');
    const saved = await c.post(`/console/campaigns/${id}`, {
      ...campaignForm,
      audience: '',
      brand_guidelines: 'Warm colours',
      avoid: '',
    });
    expect(saved.statusCode).toBe(303);
    const brief = await v1();
    expect(brief.brand_guidelines).toBe('Warm colours');
    expect(brief.audience ?? '').toBe('');
    expect(brief.avoid ?? []).toEqual([]);
  });

  it('shows the form again with each field error when the campaign is invalid', async () => {
    const res = await c.post('/console/campaigns', { ...campaignForm, product: '', size: '1x1' });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('brief.product');
    expect(res.body).toContain('video.size');
    expect(res.body).toContain('value="Light as air"');
  });

  it("answers 404 for another tenant's campaign", async () => {
    const id = await createCampaign();
    const other = await signIn(t, await t.key('console-other-co'));
    expect((await other.get(`/console/campaigns/${id}`)).statusCode).toBe(404);
    expect((await other.get('/console/campaigns/not-an-id')).statusCode).toBe(404);
  });

  it('lists every matrix error with its row and column', async () => {
    const id = await createCampaign();
    const bad = 'dimension,level,label,prompt\ntone,,Playful,x\ntone,calm,Calm,y\n';
    const res = await c.upload(`/console/campaigns/${id}/matrices`, { name: 'bad.csv', body: bad });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.body).toContain('<caption>Problems found</caption>');
    expect(res.body).toMatch(/<td>2<\/td><td>level<\/td>/);
  });

  it('reads an XLSX matrix file, and names the sheet, row and column of its errors', async () => {
    const id = await createCampaign();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('matrix');
    for (const row of [
      ['dimension', 'level', 'label'],
      ['tone', 'bold', 'Bold'],
      ['tone', 'calm', 'Calm'],
      ['setting', 'park', 'Park'],
    ])
      ws.addRow(row);
    const good = await c.upload(`/console/campaigns/${id}/matrices`, {
      name: 'matrix.xlsx',
      body: Buffer.from(await wb.xlsx.writeBuffer()),
    });
    expect(good.statusCode).toBe(303);
    expect((await c.get(String(good.headers.location))).body).toContain('<li>Calm</li>');
    ws.addRow(['tone', '', 'Nameless']);
    const bad = await c.upload(`/console/campaigns/${id}/matrices`, {
      name: 'bad.xlsx',
      body: Buffer.from(await wb.xlsx.writeBuffer()),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toMatch(/<td>5<\/td><td>matrix · /);
  });

  it("uploads a partner level's logo through the asset service and saves the matrix again with it", async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const png = await testPng(t);
    const send = (token: string, level = JSON.stringify(['setting', 'city']), client = c) => {
      const boundary = '----logo';
      const field = (name: string, value: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const payload = Buffer.concat([
        Buffer.from(field('_csrf', token) + field('level', level)),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        png,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return t.app.inject({
        method: 'POST',
        url: `/console/matrices/${matrixId}/logos`,
        headers: {
          cookie: client.cookie,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        payload,
      });
    };
    expect((await send('wrong')).statusCode).toBe(403);
    // A level the matrix lacks, or another tenant's matrix: refused before any asset is stored.
    expect((await send(c.csrf, JSON.stringify(['setting', 'moon']))).statusCode).toBe(422);
    const other = await signIn(t, await t.key('console-logo-other'));
    expect((await send(other.csrf, undefined, other)).statusCode).toBe(404);
    const assets = await t.testDb.pool.query(
      `SELECT 1 FROM assets WHERE tenant_id IN
       (SELECT id FROM tenants WHERE name IN ('console-co', 'console-logo-other'))`,
    );
    expect(assets.rows).toHaveLength(0);
    const res = await send(c.csrf);
    expect(res.statusCode, res.body).toBe(303);
    const next = await c.get(String(res.headers.location));
    expect(next.body).toContain('<li>City (logo)</li>');
    const { rows } = await t.testDb.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM matrices WHERE campaign_id = $1 AND document::text LIKE '%ast_%'",
      [id],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('shows dimensions × levels with hostile labels as text, and quotes a design', async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const page = await c.get(`/console/matrices/${matrixId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain("<script>alert('x')</script>");
    expect(page.body).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
    expect(page.body).toContain('Earnest &quot;honest&quot;');
    const quote = await c.get(`/console/matrices/${matrixId}/quote?design=full`, {
      'hx-request': 'true',
    });
    expect(quote.statusCode).toBe(200);
    expect(quote.body).toContain('<dd data-testid="variant-count">4</dd>');
    expect(quote.body).toContain('Pair coverage');
    expect(quote.body).toContain('>Start run</button>');
    expect(quote.body).toMatch(/name="idempotency_key" value="console-[0-9a-f-]{36}"/);
    expect(quote.body).toContain('<dd data-testid="estimable">yes');
    expect(quote.body).not.toContain('Minimum detectable effect');
    // An expected CTR and impressions per variant: each dimension's MDE, from the service.
    const powered = await c.get(
      `/console/matrices/${matrixId}/quote?design=full&baseline_ctr=1.5&impressions=20000`,
      { 'hx-request': 'true' },
    );
    expect(powered.statusCode).toBe(200);
    expect(powered.body).toContain('<h3>Minimum detectable effect</h3>');
    expect(powered.body).toMatch(/<dd data-testid="mde-tone">\+\d[\d.]*% CTR<\/dd>/);
    expect(powered.body).toMatch(/<dd data-testid="mde-setting">\+\d[\d.]*% CTR<\/dd>/);
    const halfPower = await c.get(
      `/console/matrices/${matrixId}/quote?design=full&baseline_ctr=1.5`,
      {
        'hx-request': 'true',
      },
    );
    expect(halfPower.statusCode).toBe(422);
    expect(halfPower.body).toContain('<td>Impressions per variant</td>');
    const bad = await c.get(`/console/matrices/${matrixId}/quote?design=sample`);
    expect(bad.statusCode).toBe(422);
    const badFragment = await c.get(`/console/matrices/${matrixId}/quote?design=sample`, {
      'hx-request': 'true',
    });
    expect(badFragment.statusCode).toBe(422);
    expect(badFragment.body.startsWith('<section id="quote"')).toBe(true);
    expect(badFragment.body).toContain('A sample needs a number of variants.');
  });
});

describe('console runs, review and report', () => {
  it('starts one run for a double submit, shows progress, the review grid and the report', async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const form = {
      matrix_id: matrixId,
      design: 'full',
      n: '',
      idempotency_key: `console-${crypto.randomUUID()}`,
    };
    const [a, b] = await Promise.all([
      c.post(`/console/campaigns/${id}/runs`, form),
      c.post(`/console/campaigns/${id}/runs`, form),
    ]);
    expect(a.statusCode).toBe(303);
    expect(b.statusCode).toBe(303);
    expect(a.headers.location).toBe(b.headers.location);
    const { rows } = await t.testDb.pool.query('SELECT id FROM runs WHERE campaign_id = $1', [id]);
    expect(rows).toHaveLength(1);
    const runUrl = String(a.headers.location);
    const run = await c.get(runUrl);
    expect(run.statusCode).toBe(200);
    expect(run.body).toContain('hx-trigger="every 2s"');
    expect(run.body).toContain('<progress');
    // No worker runs in this file: the page says so.
    expect(run.body).toContain('No render worker has been seen');
    const frag = await c.get(`${runUrl}/progress`, { 'hx-request': 'true' });
    expect(frag.body.startsWith('<section id="progress"')).toBe(true);
    const review = await c.get(`${runUrl}/review?status=queued`);
    expect(review.statusCode).toBe(200);
    expect(review.body.match(/class="variant"/g)).toHaveLength(4);
    expect(review.body).not.toContain("<script>alert('x')</script>");
    // Metrics for the four variants: the report draws effects and the CTR heatmap from them.
    const variants = await t.testDb.pool.query<{ id: string; levels: Record<string, string> }>(
      'SELECT id, levels FROM variants WHERE campaign_id = $1',
      [id],
    );
    const csvRows = variants.rows.map(
      (v, i) => `${v.id},2026-11-01,meta,${5000 + i * 1000},${100 + i * 60}`,
    );
    const upload = await t.app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { authorization: bearer, 'content-type': 'text/csv' },
      payload: ['variant_id,date,platform,impressions,clicks', ...csvRows].join('\n'),
    });
    expect(upload.statusCode, upload.body).toBeLessThan(300);
    const report = await c.get(`/console/campaigns/${id}/report`);
    expect(report.body).toContain('<svg role="img" aria-label="CTR by tone and setting"');
    expect(report.body).toContain('<svg role="img" aria-label="CTR over time by platform"');
    expect(report.body).toMatch(/<title>meta, 2026-11-01: CTR \d+\.\d\d%/);
    expect(report.body).toMatch(/<title>Earnest &quot;honest&quot; × Beach: CTR \d+\.\d\d%/);
    expect(report.body).toMatch(/<circle [^>]*><title>Earnest &quot;honest&quot;: odds ratio \d/);
    expect(report.statusCode).toBe(200);
    expect(report.body).toContain('<svg role="img" aria-label="Effects of tone"');
    expect(report.body).toContain('<svg role="img" aria-label="Effects of setting"');
    expect(report.body).toContain('&lt;script&gt;');
    // Verdicts in words, never the API's names for them (2 × 2 levels: one df, inconclusive).
    for (const raw of ['no_difference', 'insufficient_data', 'inconclusive', 'directional'])
      expect(report.body, raw).not.toMatch(new RegExp(`<td>${raw}|>${raw}<`));
    expect(report.body).toMatch(
      /<td>(no clear difference yet|no meaningful difference|a clear difference|a hint, not yet certain|not enough data yet)/,
    );
    const csv = await c.get(`/console/campaigns/${id}/report.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    // Another tenant finds nothing of this run: pages, fragments, media and actions are 404s.
    const other = await signIn(t, await t.key('console-runs-other'));
    const variantId = variants.rows[0]?.id as string;
    for (const url of [runUrl, `${runUrl}/progress`, `${runUrl}/review`])
      expect((await other.get(url)).statusCode, url).toBe(404);
    for (const url of [
      `/console/variants/${variantId}/video`,
      `/console/variants/${variantId}/thumbnail`,
    ])
      expect((await other.get(url)).statusCode, url).toBe(404);
    for (const url of [`${runUrl}/cancel`, `${runUrl}/retry`, `${runUrl}/review-all`])
      expect((await other.post(url, { decision: 'approved' })).statusCode, url).toBe(404);
    expect(
      (await other.post(`/console/variants/${variantId}/review`, { decision: 'approved' }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await other.post(`/console/campaigns/${id}/runs`, {
          ...form,
          idempotency_key: `console-${crypto.randomUUID()}`,
        })
      ).statusCode,
    ).toBe(404);
    expect((await other.get(`/console/campaigns/${id}/report`)).statusCode).toBe(404);
    expect((await other.get(`/console/matrices/${matrixId}/quote?design=full`)).statusCode).toBe(
      404,
    );
    const cancel = await c.post(`${runUrl}/cancel`, {});
    expect(cancel.statusCode).toBe(303);
    expect((await c.get(runUrl)).body).toContain('<span data-testid="run-status">cancelled</span>');
  });

  it('shows spend against budget, the ETA withheld without a worker, failures grouped by reason, and retries them', async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const started = await c.post(`/console/campaigns/${id}/runs`, {
      matrix_id: matrixId,
      design: 'full',
      n: '',
      idempotency_key: `console-${crypto.randomUUID()}`,
    });
    expect(started.statusCode).toBe(303);
    const runUrl = String(started.headers.location);
    const runId = runUrl.split('/').at(-1)!;
    const { rows } = await t.testDb.pool.query<{ id: string }>(
      'SELECT variant_id AS id FROM run_variants WHERE run_id = $1 ORDER BY variant_id',
      [runId],
    );
    expect(rows).toHaveLength(4);
    // Two minutes in, three of four settled (two failed alike, one otherwise), $0.75 paid:
    // no worker runs here, so the states are written as a worker would leave them.
    const fail = (variant: string, code: string) =>
      t.testDb.pool.query(
        `UPDATE variants SET status = 'failed', error_code = $2, actual_cost_usd = 0.25 WHERE id = $1`,
        [variant, code],
      );
    await fail(rows[0]!.id, 'provider_timeout');
    await fail(rows[1]!.id, 'provider_timeout');
    await fail(rows[2]!.id, 'content_policy');
    await t.testDb.pool.query(
      `UPDATE runs SET status = 'running', started_at = now() - interval '120 seconds' WHERE id = $1`,
      [runId],
    );
    const frag = await c.get(`${runUrl}/progress`, { 'hx-request': 'true' });
    expect(frag.statusCode).toBe(200);
    const estimated =
      /<dt>Spent<\/dt><dd>\$0\.75 of \$(\d+\.\d\d) estimated · budget \$50\.00<\/dd>/.exec(
        frag.body,
      );
    expect(estimated, frag.body).not.toBeNull();
    // No worker is alive here, so the pace so far (120 s for 3) is not extrapolated: the ETA is
    // withheld and the page says why.
    expect(frag.body).toContain('<dt>ETA</dt><dd>—</dd>');
    expect(frag.body).toContain('No render worker has been seen');
    expect(frag.body).toContain('<dd data-status="failed">3</dd>');
    expect(frag.body).toContain('<h3>Failures by reason</h3>');
    expect(frag.body).toMatch(
      /<tr><td>provider_timeout<\/td><td>failed<\/td><td>2<\/td><\/tr><tr><td>content_policy<\/td><td>failed<\/td><td>1<\/td><\/tr>/,
    );
    expect(frag.body).toContain('3 of 4 settled');
    const page = await c.get(runUrl);
    expect(page.body).toContain('Retry failed (3)');
    // Retry requeues the failed variants, and nothing else.
    const retry = await c.post(`${runUrl}/retry`, {});
    expect(retry.statusCode).toBe(303);
    const after = await t.testDb.pool.query<{ status: string; n: number }>(
      `SELECT v.status, count(*)::int AS n FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
       WHERE rv.run_id = $1 GROUP BY 1`,
      [runId],
    );
    expect(after.rows).toEqual([{ status: 'queued', n: 4 }]);
    const again = await c.get(runUrl);
    expect(again.body).not.toContain('Retry failed');
    expect(again.body).not.toContain('Failures by reason');
  });

  it('refuses a run form whose idempotency key is missing', async () => {
    const id = await createCampaign();
    const matrixId = await uploadMatrix(id);
    const res = await c.post(`/console/campaigns/${id}/runs`, {
      matrix_id: matrixId,
      design: 'full',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('text/html');
  });
});
