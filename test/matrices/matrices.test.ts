import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let auth: string;
let campaignId: string;

const matrix = {
  name: 'Summer',
  dimensions: [
    {
      key: 'tone',
      levels: [{ key: 'playful' }, { key: 'serious', prompt: 'earnest' }, { key: 'witty' }],
    },
    { key: 'setting', levels: [{ key: 'beach' }, { key: 'city' }, { key: 'desert' }] },
    { key: 'city', levels: [{ key: 'Paris' }, { key: 'Rome' }, { key: 'Oslo' }] },
    { key: 'partner', levels: [{ key: 'acme' }, { key: 'globex' }, { key: 'initech' }] },
  ],
};
const template = 'A {{tone}} ad for {{brief.product}} in {{setting}}, {{city}}, with {{partner}}';

beforeAll(async () => {
  t = await createTestApp({ MAX_VARIANTS_PER_RUN: '50', OPENAI_API_KEY: 'sk-test' });
  auth = await t.key('matrix-co');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: auth },
    payload: {
      ...campaignBody,
      prompt_template: template,
      video: { provider: 'openai', seconds: 4, size: '720x1280' },
      budget_usd: 5,
    },
  });
  campaignId = res.json().id;
});
afterAll(() => t.close());

const post = (payload: unknown, headers: Record<string, string> = {}, id = campaignId, as = auth) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${id}/matrices`,
    headers: { authorization: as, ...headers },
    payload: payload as string,
  });

function multipart(bytes: Buffer, filename: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([bytes]), filename);
  return form;
}

async function xlsx(rows: (string | number | null)[][]) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('matrix');
  for (const row of rows) ws.addRow(row);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const preview = (id: string, body: unknown, as = auth) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/matrices/${id}/preview`,
    headers: { authorization: as },
    payload: body as object,
  });

describe('creating matrices', () => {
  it('accepts JSON and counts the factorial', async () => {
    const res = await post({
      ...matrix,
      constraints: [{ exclude: { city: 'Paris', setting: ['desert', 'beach'] } }],
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      name: 'Summer',
      source: 'json',
      full_factorial_count: '81',
      allowed_count: '63',
    });
    expect(body.dimensions[0].levels[1]).toEqual({
      key: 'serious',
      label: 'serious',
      prompt: 'earnest',
    });
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/matrices/${body.id}`,
      headers: { authorization: auth },
    });
    // The upload's warnings (none here: every label has glyphs) are not part of the matrix.
    const { warnings, ...stored } = body;
    expect(warnings).toEqual([]);
    expect(got.json()).toEqual(stored);
  });

  it('accepts a wide CSV body and a multipart long-form CSV alike', async () => {
    const wide =
      'tone,setting,city,partner\nplayful,beach,Paris,acme\nserious,city,Rome,globex\nwitty,desert,Oslo,initech\n';
    const a = await post(wide, { 'content-type': 'text/csv' });
    expect(a.statusCode).toBe(201);
    const long = [
      'dimension,level,label',
      ...matrix.dimensions.flatMap((d) => d.levels.map((l) => `${d.key},${l.key},${l.key}`)),
    ].join('\n');
    const b = await post(multipart(Buffer.from(long), 'matrix.csv', { name: 'Long' }));
    expect(b.statusCode).toBe(201);
    expect(b.json()).toMatchObject({ source: 'csv', name: 'Long', full_factorial_count: '81' });
    expect(b.json().dimensions.map((d: { key: string }) => d.key)).toEqual(
      a.json().dimensions.map((d: { key: string }) => d.key),
    );
  });

  it('accepts an XLSX upload with constraints', async () => {
    const file = await xlsx([
      ['tone', 'setting', 'city', 'partner'],
      ['playful', 'beach', 'Paris', 'acme'],
      ['serious', 'city', 'Rome', null],
    ]);
    const res = await post(
      multipart(file, 'm.xlsx', {
        constraints: JSON.stringify([{ exclude: { tone: 'playful', city: 'Rome' } }]),
      }),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      source: 'xlsx',
      full_factorial_count: '8',
      allowed_count: '6',
    });
  });

  it('names the row and column of a duplicate level in CSV', async () => {
    const res = await post(
      'tone,setting,city,partner\nplayful,beach,Paris,acme\nplayful,city,Rome,globex\n',
      { 'content-type': 'text/csv' },
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      expect.objectContaining({
        row: 3,
        column: 'tone',
        message: expect.stringContaining('duplicate'),
      }),
    ]);
  });

  it('answers 400 for malformed CSV and corrupt XLSX', async () => {
    const csv = await post('tone,setting\n"playful,beach\n', { 'content-type': 'text/csv' });
    expect(csv.statusCode).toBe(400);
    expect(csv.json().errors[0].row).toBeGreaterThan(0);
    const corrupt = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100, 7)]);
    const res = await post(multipart(corrupt, 'm.xlsx'));
    expect(res.statusCode).toBe(400);
  });

  it('answers 422 for an empty dimension, a constraint on an unknown level, and duplicate keys', async () => {
    const empty = await post({
      dimensions: [...matrix.dimensions.slice(0, 3), { key: 'partner', levels: [] }],
    });
    expect(empty.statusCode).toBe(422);
    expect(empty.json().errors[0].path).toMatch(/^dimensions\[3\]/);
    const unknown = await post({ ...matrix, constraints: [{ exclude: { city: 'Lima' } }] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0].path).toMatch(/^constraints\[0\]/);
    const dup = await post({
      dimensions: [
        { key: 'tone', levels: [{ key: 'a' }, { key: 'a' }] },
        ...matrix.dimensions.slice(1),
      ],
    });
    expect(dup.statusCode).toBe(422);
    expect(dup.json().errors[0].path).toBe('dimensions[0].levels[1].key');
  });

  it('answers 422 when the template and the matrix do not match', async () => {
    const extra = await post({
      dimensions: [...matrix.dimensions, { key: 'mood', levels: [{ key: 'calm' }] }],
    });
    expect(extra.statusCode).toBe(422);
    expect(extra.json().errors[0]).toEqual({
      path: 'dimensions[4].key',
      message: 'dimension "mood" has no {{mood}} placeholder in prompt_template',
    });
    const missing = await post({ dimensions: matrix.dimensions.slice(0, 3) });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors[0].message).toContain('partner');
  });

  it("refuses a level pointing at another tenant's logo", async () => {
    const other = await t.key('other-matrix-co');
    const png = (
      await t.infra.media.runner.ffmpeg(
        [
          '-f',
          'lavfi',
          '-i',
          'color=c=blue:s=32x32',
          '-frames:v',
          '1',
          '-f',
          'image2pipe',
          '-vcodec',
          'png',
          '-',
        ],
        { captureStdout: true },
      )
    ).stdout;
    const form = new FormData();
    form.append('file', new Blob([png]), 'l.png');
    const asset = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: other },
      payload: form,
    });
    expect(asset.statusCode).toBe(201);
    const dims = structuredClone(matrix.dimensions) as {
      key: string;
      levels: { key: string; asset_id?: string }[];
    }[];
    dims[3]!.levels[0]!.asset_id = asset.json().id;
    const res = await post({ dimensions: dims });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      { path: 'dimensions[3].levels[0].asset_id', message: `unknown asset ${asset.json().id}` },
    ]);
  });

  it("answers 404 for another tenant's campaign and matrix", async () => {
    const other = await t.key('nosy-co');
    expect((await post(matrix, {}, campaignId, other)).statusCode).toBe(404);
    const mine = (await post(matrix)).json().id;
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/matrices/${mine}`,
          headers: { authorization: other },
        })
      ).statusCode,
    ).toBe(404);
    expect((await preview(mine, { design: { type: 'full' } }, other)).statusCode).toBe(404);
  });
});

describe('previews', () => {
  let id: string;
  beforeAll(async () => {
    id = (await post(matrix)).json().id;
  });

  it('quotes a balanced design: an orthogonal array with rendered prompts, writing nothing', async () => {
    const before = await t.testDb.pool.query(
      'SELECT (SELECT count(*) FROM matrices) m, (SELECT count(*) FROM campaigns) c',
    );
    const res = await preview(id, { design: { type: 'balanced', n: 9, seed: 7 }, sample_size: 9 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      variant_count: 9,
      unit_cost_usd: 0.4,
      estimated_cost_usd: 3.6,
      design_stats: { pair_coverage: 1, level_balance: 1 },
    });
    expect(body.sample).toHaveLength(9);
    expect(body.sample[0].prompt).toMatch(/^A \w+ ad for Fizz soda in \w+, \w+, with \w+/);
    const serious = body.sample.find(
      (s: { levels: Record<string, string> }) => s.levels.tone === 'serious',
    );
    expect(serious.prompt).toContain('A earnest ad');
    const after = await t.testDb.pool.query(
      'SELECT (SELECT count(*) FROM matrices) m, (SELECT count(*) FROM campaigns) c',
    );
    expect(after.rows).toEqual(before.rows);
  });

  it('is deterministic for a seed', async () => {
    const a = await preview(id, { design: { type: 'sample', n: 12, seed: 42 }, sample_size: 12 });
    const b = await preview(id, { design: { type: 'sample', n: 12, seed: 42 }, sample_size: 12 });
    expect(a.json().sample).toEqual(b.json().sample);
    const c = await preview(id, { design: { type: 'sample', n: 12, seed: 43 }, sample_size: 12 });
    expect(c.json().sample).not.toEqual(a.json().sample);
  });

  it('covers every pair with 9 pairwise variants for four 3-level dimensions', async () => {
    const res = await preview(id, { design: { type: 'pairwise' } });
    expect(res.json()).toMatchObject({ variant_count: 9, design_stats: { pair_coverage: 1 } });
  });

  it('checks explicit combinations against the matrix', async () => {
    const ok = await preview(id, {
      design: {
        type: 'explicit',
        combinations: [{ tone: 'witty', setting: 'city', city: 'Oslo', partner: 'acme' }],
      },
    });
    expect(ok.json().sample[0].levels).toEqual({
      tone: 'witty',
      setting: 'city',
      city: 'Oslo',
      partner: 'acme',
    });
    const bad = await preview(id, {
      design: {
        type: 'explicit',
        combinations: [{ tone: 'witty', setting: 'moon', city: 'Oslo', partner: 'acme' }],
      },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([
      { path: 'design.combinations[0].setting', message: 'unknown level "moon"' },
    ]);
  });

  it('refuses too many variants, saying by how much', async () => {
    const res = await preview(id, { design: { type: 'full' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toBe(
      'The design yields 81 variants, 31 over the limit of 50 per run.',
    );
  });

  it('quotes a design over budget as not fitting, saying by how much', async () => {
    const res = await preview(id, { design: { type: 'sample', n: 20, seed: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      variant_count: 20,
      new_variant_count: 20,
      reused_variant_count: 0,
      estimated_cost_usd: 8,
      budget: {
        budget_usd: 5,
        committed_usd: 0,
        remaining_usd: 5,
        fits: false,
        detail: "The design costs $8.00, $3.00 over the campaign's remaining budget of $5.00.",
      },
    });
  });

  it('validates the design shape with field paths', async () => {
    const res = await preview(id, { design: { type: 'sample' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('design.n');
  });
});
