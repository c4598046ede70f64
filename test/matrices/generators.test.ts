import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantKey } from '../../src/prompts/variant-key.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

// Runway and fal configured for the api; no worker runs here (the pipeline's e2e tests render).
let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp({ RUNWAYML_API_SECRET: 'key_test', FAL_KEY: 'fal-test' });
  auth = await t.key('generators-co');
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, as = auth) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: as },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function campaign(over: Record<string, unknown> = {}, as = auth, app = t) {
  const res = await app.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: as },
    payload: {
      name: 'Generators',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'A {{tone}} ad for {{brief.product}}',
      video: { provider: 'local', seconds: 5, size: '720x1280' },
      ...over,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

const generatorLevels = [
  { key: 'card' },
  { key: 'gen45', video: { provider: 'runway' } },
  { key: 'pika', video: { provider: 'fal', model: 'fal-ai/pika/v2.2/text-to-video' } },
];

const matrixBody = (generators: unknown[] = generatorLevels) => ({
  dimensions: [
    { key: 'tone', levels: [{ key: 'bold' }, { key: 'calm' }] },
    { key: 'generator', levels: generators },
  ],
});

describe('a generator dimension spanning local, runway and fal', () => {
  it('quotes, stores, keys and routes each variant by its own provider and model', async () => {
    const campaignId = await campaign();
    const matrix = await api('POST', `/v1/campaigns/${campaignId}/matrices`, matrixBody());
    expect(matrix.statusCode, matrix.body).toBe(201);
    expect(matrix.json().dimensions[1].levels[1]).toEqual({
      key: 'gen45',
      label: 'gen45',
      video: { provider: 'runway' },
    });
    const matrixId = matrix.json().id;

    // local 0 + runway gen4.5 12 credits/s × 5 s ($0.60) + Pika 720p $0.04/s × 5 s ($0.20), per tone.
    const preview = await api('POST', `/v1/matrices/${matrixId}/preview`, {
      design: { type: 'full' },
    });
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json()).toMatchObject({
      variant_count: 6,
      unit_cost_usd: 0,
      estimated_cost_usd: 1.6,
    });
    expect(
      preview.json().sample.map((v: { provider: string; model: string }) => [v.provider, v.model]),
    ).toEqual(
      [1, 2].flatMap(() => [
        ['local', 'motion-v1'],
        ['runway', 'gen4.5'],
        ['fal', 'fal-ai/pika/v2.2/text-to-video'],
      ]),
    );

    const run = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/runs`,
      headers: { authorization: auth, 'idempotency-key': 'generators-run' },
      payload: { matrix_id: matrixId, design: { type: 'full' } },
    });
    expect(run.statusCode, run.body).toBe(202);
    expect(run.json()).toMatchObject({ variant_count: 6, estimated_cost_usd: 1.6 });

    const { rows } = await t.testDb.pool.query(
      `SELECT id, levels, prompt, provider, model, seconds, size, cost_usd::float AS cost, variant_key
         FROM variants WHERE campaign_id = $1 ORDER BY levels->>'tone', levels->>'generator'`,
      [campaignId],
    );
    expect(rows.map((r) => [r.levels.generator, r.provider, r.model, r.cost])).toEqual([
      ['card', 'local', 'motion-v1', 0],
      ['gen45', 'runway', 'gen4.5', 0.6],
      ['pika', 'fal', 'fal-ai/pika/v2.2/text-to-video', 0.2],
      ['card', 'local', 'motion-v1', 0],
      ['gen45', 'runway', 'gen4.5', 0.6],
      ['pika', 'fal', 'fal-ai/pika/v2.2/text-to-video', 0.2],
    ]);
    // The key holds each variant's own provider and model.
    for (const r of rows) {
      expect(r.variant_key).toBe(
        variantKey({
          campaignId,
          levels: r.levels,
          prompt: r.prompt,
          video: { provider: r.provider, model: r.model, seconds: r.seconds, size: r.size },
        }),
      );
    }
    // Each on its own provider's render queue.
    for (const r of rows) {
      const job = await t.infra.queues
        .get(`render-${r.provider}` as Parameters<typeof t.infra.queues.get>[0])
        .getJob(r.id);
      expect(job?.data, `${r.provider} ${r.id}`).toEqual({ variantId: r.id });
    }

    // The generator is a dimension like any other, so the report compares generators.
    const clicksOf: Record<string, number> = { card: 10, gen45: 40, pika: 20 };
    const metrics = await api('POST', '/v1/metrics', {
      rows: rows.map((r) => ({
        variant_id: r.id,
        date: '2026-12-01',
        impressions: 1000,
        clicks: clicksOf[r.levels.generator],
      })),
    });
    expect(metrics.statusCode, metrics.body).toBe(200);
    const report = await api('GET', `/v1/campaigns/${campaignId}/report`);
    expect(report.statusCode, report.body).toBe(200);
    const generator = report
      .json()
      .by_dimension.find((d: { dimension: string }) => d.dimension === 'generator');
    expect(generator.reference_level).toBe('card');
    expect(generator.levels.map((l: { ctr: number }) => l.ctr)).toEqual([0.01, 0.04, 0.02]);

    // The same design again reuses all six: nothing to pay.
    const again = await api('POST', `/v1/matrices/${matrixId}/preview`, {
      design: { type: 'full' },
    });
    expect(again.json()).toMatchObject({ reused_variant_count: 6, estimated_cost_usd: 0 });
  });

  it('names the level whose generator cannot make the campaign video, with the allowed values', async () => {
    const campaignId = await campaign();
    const res = await api(
      'POST',
      `/v1/campaigns/${campaignId}/matrices`,
      matrixBody([
        { key: 'card' },
        { key: 'veo', video: { provider: 'runway', model: 'veo3.1' } },
        { key: 'nope', video: { provider: 'fal', model: 'fal-ai/sora' } },
        { key: 'turbo', video: { provider: 'runway', model: 'gen4_turbo' } },
      ]),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      { path: 'dimensions[1].levels[1].video', message: 'runway/veo3.1 renders 4, 6, 8 s, not 5' },
      {
        path: 'dimensions[1].levels[2].video.model',
        message: expect.stringMatching(
          /^provider fal has no model fal-ai\/sora \(known: fal-ai\/pika\/v2\.2\/text-to-video, /,
        ),
      },
      {
        path: 'dimensions[1].levels[3].video',
        message: 'runway/gen4_turbo renders only from an image: set video.reference_asset_id',
      },
    ]);
  });

  it('keeps generators to one dimension, naming the second', async () => {
    const campaignId = await campaign();
    const res = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        { key: 'tone', levels: [{ key: 'bold', video: { provider: 'fal' } }] },
        { key: 'generator', levels: [{ key: 'x' }, { key: 'y', video: { provider: 'runway' } }] },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      {
        path: 'dimensions[1].levels[1].video',
        message: 'dimension "generator" carries a generator, but "tone" already does',
      },
    ]);
    const bad = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [{ key: 'tone', levels: [{ key: 'bold', video: { provider: 'sora' } }] }],
    });
    // The JSON body's schema is the route's: a bad value there is a 400 naming the field.
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().errors).toEqual([
      {
        path: 'dimensions.0.levels.0.video.provider',
        message: 'provider must be one of local, openai, runway, fal, got "sora"',
      },
    ]);
  });

  it("refuses a prompt longer than the variant's model takes, naming the levels", async () => {
    // 1,100 characters: under PROMPT_MAX_CHARS (2,000) and fal's limit, over Runway's 1,000.
    const filler = 'x'.repeat(1100);
    const campaignId = await campaign({ prompt_template: `A {{tone}} ad. ${filler}` });
    const matrix = await api('POST', `/v1/campaigns/${campaignId}/matrices`, matrixBody());
    expect(matrix.statusCode, matrix.body).toBe(201);
    const preview = await api('POST', `/v1/matrices/${matrix.json().id}/preview`, {
      design: { type: 'full' },
    });
    expect(preview.statusCode).toBe(422);
    expect(preview.json().errors).toEqual([
      {
        path: 'prompt_template',
        message: `the prompt for levels {"tone":"bold","generator":"gen45"} is 1111 characters; runway/gen4.5 takes up to 1000`,
      },
      {
        path: 'prompt_template',
        message: `the prompt for levels {"tone":"calm","generator":"gen45"} is 1111 characters; runway/gen4.5 takes up to 1000`,
      },
    ]);
  });

  it('reads provider and model columns in the CSV long form, locating bad ones', async () => {
    const campaignId = await campaign();
    const csv = [
      'dimension,level,provider,model',
      'tone,bold,,',
      'generator,card,,',
      'generator,gen45,Runway,gen4.5',
      'generator,pika,fal,',
    ].join('\n');
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/matrices`,
      headers: { authorization: auth, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().dimensions[1].levels.map((l: { video?: unknown }) => l.video)).toEqual([
      undefined,
      { provider: 'runway', model: 'gen4.5' },
      { provider: 'fal' },
    ]);
    const preview = await api('POST', `/v1/matrices/${res.json().id}/preview`, {
      design: { type: 'full' },
    });
    expect(preview.json().estimated_cost_usd).toBe(0.8);

    const bad = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/matrices`,
      headers: { authorization: auth, 'content-type': 'text/csv' },
      payload:
        'dimension,level,provider,model\ntone,bold,,\ngenerator,a,sora,\ngenerator,b,,gen4.5\n',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([
      {
        row: 3,
        column: 'provider',
        message: 'provider must be one of local, openai, runway, fal, got "sora"',
      },
      { row: 4, column: 'model', message: 'model needs a provider in the same row' },
    ]);
  });
});

describe('generators and the XLSX long form', () => {
  it('reads provider and model columns from a workbook', async () => {
    const campaignId = await campaign();
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('matrix');
    for (const row of [
      ['Dimension', 'Level', 'Provider', 'Model'],
      ['tone', 'bold', null, null],
      ['generator', 'card', null, null],
      ['generator', 'wan', 'fal', 'wan/v2.6/text-to-video'],
    ])
      ws.addRow(row);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from(await wb.xlsx.writeBuffer())]), 'matrix.xlsx');
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaignId}/matrices`,
      headers: { authorization: auth },
      payload: form,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().dimensions[1].levels[1].video).toEqual({
      provider: 'fal',
      model: 'wan/v2.6/text-to-video',
    });
  });
});

describe('generators and a reference image', () => {
  it('sends the image where the level model takes one, and needs it where the model needs one', async () => {
    const { stdout } = await t.infra.media.runner.ffmpeg(
      [
        ...['-f', 'lavfi', '-i', 'color=c=green:s=64x64', '-frames:v', '1'],
        ...['-f', 'image2pipe', '-vcodec', 'png', '-'],
      ],
      { captureStdout: true },
    );
    const form = new FormData();
    form.append('file', new Blob([stdout]), 'product.png');
    const asset = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth },
      payload: form,
    });
    const image = asset.json().id as string;
    // gen4.5 from the image; Pika's image-to-video takes it; Pika's text-to-video renders
    // from the prompt and leaves it out; the local motion template puts it on screen.
    const withImage = await campaign({
      video: { provider: 'runway', seconds: 5, size: '720x1280', reference_asset_id: image },
    });
    const ok = await api('POST', `/v1/campaigns/${withImage}/matrices`, {
      dimensions: [
        { key: 'tone', levels: [{ key: 'bold' }] },
        {
          key: 'generator',
          levels: [
            { key: 'gen45' },
            {
              key: 'pika_i2v',
              video: { provider: 'fal', model: 'fal-ai/pika/v2.2/image-to-video' },
            },
            {
              key: 'pika_t2v',
              video: { provider: 'fal', model: 'fal-ai/pika/v2.2/text-to-video' },
            },
            { key: 'card', video: { provider: 'local' } },
          ],
        },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(201);
    // Without an image, the image-only level is refused, naming it.
    const without = await campaign();
    const refused = await api('POST', `/v1/campaigns/${without}/matrices`, {
      dimensions: [
        { key: 'tone', levels: [{ key: 'bold' }] },
        {
          key: 'generator',
          levels: [
            { key: 'card' },
            {
              key: 'pika_i2v',
              video: { provider: 'fal', model: 'fal-ai/pika/v2.2/image-to-video' },
            },
          ],
        },
      ],
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([
      {
        path: 'dimensions[1].levels[1].video',
        message:
          'fal/fal-ai/pika/v2.2/image-to-video renders only from an image: set video.reference_asset_id',
      },
    ]);
  });
});

describe('a generator level on a provider that is not configured', () => {
  it('is a 422 naming the level, with the configured providers', async () => {
    const bare = await createTestApp();
    try {
      const as = await bare.key('bare-generators-co');
      const campaignId = await campaign({}, as, bare);
      const res = await bare.app.inject({
        method: 'POST',
        url: `/v1/campaigns/${campaignId}/matrices`,
        headers: { authorization: as },
        payload: matrixBody(),
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        {
          path: 'dimensions[1].levels[1].video.provider',
          message: 'provider runway is not configured on this deployment (configured: local)',
        },
        {
          path: 'dimensions[1].levels[2].video.provider',
          message: 'provider fal is not configured on this deployment (configured: local)',
        },
      ]);
    } finally {
      await bare.close();
    }
  });
});
