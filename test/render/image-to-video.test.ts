import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNWAY_INLINE_IMAGE_MAX_BYTES } from '../../src/providers/runway/index.ts';
import { type FakeFal, startFakeFal } from '../fake-fal/index.ts';
import { type FakeVideoServer, pngImage, startFakeVideoServer } from '../fake-provider/index.ts';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let runway: FakeRunwayServer;
let fal: FakeFal;
let openai: FakeVideoServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
/** The product shot every campaign here names as its first frame, as uploaded. */
let product: { id: string; sha256: string; bytes: Buffer };

const PUBLIC_HOST = 'admatrix.example';

/**
 * Runway's servers fetching our signed link: PUBLIC_URL's host is this api, reached through
 * inject, so the HEAD and GET see exactly what the route answers (headers, redirects, bytes).
 */
async function fetchFromApi(url: string, method: 'HEAD' | 'GET'): Promise<Response> {
  const u = new URL(url);
  if (u.host !== PUBLIC_HOST) return new Response(null, { status: 404 });
  const res = await t.app.inject({ method, url: `${u.pathname}${u.search}` });
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, String(v));
  return new Response(method === 'HEAD' ? null : new Uint8Array(res.rawPayload), {
    status: res.statusCode,
    headers,
  });
}

const workerEnv = (extra: Record<string, string> = {}) => ({
  RUNWAYML_API_SECRET: runway.apiKey,
  RUNWAYML_BASE_URL: runway.url,
  RUNWAY_POLL_MIN_MS: '100',
  RUNWAY_RPM: '100000',
  RUNWAY_MAX_CONCURRENT: '8',
  FAL_KEY: 'test-fal-key',
  FAL_QUEUE_URL: fal.queueUrl,
  FAL_JWKS_URL: fal.jwksUrl,
  FAL_RPM: '100000',
  FAL_MAX_CONCURRENT: '8',
  OPENAI_API_KEY: 'test',
  OPENAI_BASE_URL: openai.baseURL,
  OPENAI_RPM: '100000',
  OPENAI_MAX_CONCURRENT: '8',
  RENDER_CONCURRENCY: '8',
  RENDER_POLL_INTERVAL_MS: '30',
  RENDER_DEADLINE_MS: '20000',
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-i2v-'));
  runway = await startFakeRunway({
    maxConcurrent: 8,
    defaults: { pendingMs: 30, renderMs: 100 },
    fetchImage: fetchFromApi,
  });
  fal = await startFakeFal({ maxConcurrent: 8, defaults: { queuedMs: 30, renderMs: 100 } });
  openai = await startFakeVideoServer({
    defaults: { queuedMs: 5, renderMs: 20 },
    allowedSizes: ['1280x720', '720x1280'],
  });
  // The api validates campaigns against the providers it has keys for.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: 'http://127.0.0.1:9',
    // Room for an image over Runway's inline limit whatever this ffmpeg's PNG encoder makes.
    UPLOAD_LIMIT_BYTES: String(12 << 20),
  });
  workers = startTestWorkers(t, workerEnv());
  auth = await t.key('i2v-co');
  const bytes = await pngImage(1280, 720, 'red');
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), 'product.png');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: auth },
    payload: form,
  });
  expect(res.statusCode).toBe(201);
  product = { id: res.json().id, sha256: res.json().sha256, bytes };
  expect(product.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await runway?.close();
  await fal?.close();
  await openai?.close();
  await rm(dir, { recursive: true, force: true });
});

async function renderWith(
  key: string,
  video: { provider: string; model?: string; seconds: number; size: string },
  levels: Record<string, string[]> = { tone: [key], setting: ['shelf'] },
) {
  const s = await setupCampaign(t, auth, {
    levels,
    video: { ...video, reference_asset_id: product.id },
  });
  const run = await startRun(t, auth, { ...s, key });
  const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
  return { done, variants: await variantsOf(t, run.id) };
}

describe('image to video: the campaign reference image reaches each provider', () => {
  it('Runway gets it as a data URI without a public HTTPS PUBLIC_URL', async () => {
    const { done, variants } = await renderWith('rw-inline', {
      provider: 'runway',
      model: 'gen4.5',
      seconds: 5,
      size: '1280x720',
    });
    expect(done.counts.ready).toBe(1);
    const [v] = variants;
    expect(v).toMatchObject({ status: 'ready', width: 1280, height: 720 });
    const calls = runway.createCalls.filter((c) => c.prompt === v!.prompt);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      route: 'image_to_video',
      status: 200,
      image: { source: 'data_uri', type: 'image/png', width: 1280, height: 720 },
    });
    expect(calls[0]!.image!.sha256).toBe(product.sha256);
    // Bytes inline in the create, never in a job payload: the queue holds only the variant id.
    const jobs = await t.infra.queues
      .get('render-runway')
      .getJobs(['completed', 'delayed', 'wait']);
    for (const job of jobs) expect(Object.keys(job.data)).toEqual(['variantId']);
  });

  it('fal image-to-video gets it in image_url', async () => {
    const { done, variants } = await renderWith('fal-inline', {
      provider: 'fal',
      model: 'fal-ai/pika/v2.2/image-to-video',
      seconds: 5,
      size: '1280x720',
    });
    expect(done.counts.ready).toBe(1);
    const calls = fal.createCalls.filter((c) => c.prompt === variants[0]!.prompt);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      endpoint: 'fal-ai/pika/v2.2/image-to-video',
      image: { source: 'data_uri', type: 'image/png', width: 1280, height: 720 },
    });
    expect(calls[0]!.image!.sha256).toBe(product.sha256);
    expect(variants[0]).toMatchObject({ status: 'ready', width: 1280, height: 720 });
  });

  it('the OpenAI shape gets it as the input_reference file, fitted to the size when it differs', async () => {
    const same = await renderWith('oa-same', { provider: 'openai', seconds: 4, size: '1280x720' });
    expect(same.done.counts.ready).toBe(1);
    const exact = openai.createCalls.find((c) => c.prompt === same.variants[0]!.prompt)!;
    expect(exact).toMatchObject({
      status: 200,
      size: '1280x720',
      inputReference: { kind: 'file', mimetype: 'image/png' },
    });
    // Already at the render's size: the uploaded bytes go as they are.
    expect(exact.inputReference?.kind === 'file' && exact.inputReference.image.sha256).toBe(
      product.sha256,
    );

    const portrait = await renderWith('oa-fit', {
      provider: 'openai',
      seconds: 4,
      size: '720x1280',
    });
    expect(portrait.done.counts.ready).toBe(1);
    const fitted = openai.createCalls.find((c) => c.prompt === portrait.variants[0]!.prompt)!;
    expect(fitted.status).toBe(200);
    expect(fitted.inputReference).toMatchObject({
      kind: 'file',
      mimetype: 'image/png',
      image: { type: 'image/png', width: 720, height: 1280 },
    });
  });

  it('a generator level on a text-only model renders from the prompt alone', async () => {
    // The campaign's model takes the image; the level's (Pika text-to-video) cannot, and the
    // comparison is the point of the matrix, so that level leaves the image out.
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['mixed-gen'], generator: ['i2v'] },
      template: 'Ad for {{brief.product}}: {{tone}} by {{generator}}',
      video: {
        provider: 'fal',
        model: 'fal-ai/pika/v2.2/image-to-video',
        seconds: 5,
        size: '1280x720',
        reference_asset_id: product.id,
      },
    });
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${s.campaignId}/matrices`,
      headers: { authorization: auth },
      payload: {
        dimensions: [
          { key: 'tone', levels: [{ key: 'mixed-gen' }] },
          {
            key: 'generator',
            levels: [
              { key: 'i2v' },
              {
                key: 't2v',
                video: { provider: 'fal', model: 'fal-ai/pika/v2.2/text-to-video' },
              },
            ],
          },
        ],
      },
    });
    expect(matrix.statusCode, matrix.body).toBe(201);
    const run = await startRun(t, auth, {
      campaignId: s.campaignId,
      matrixId: matrix.json().id,
      key: 'mixed-gen',
    });
    const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
    expect(done.counts.ready).toBe(2);
    const prompts = new Set((await variantsOf(t, run.id)).map((v) => v.prompt));
    const calls = fal.createCalls.filter((c) => prompts.has(c.prompt));
    expect(calls.map((c) => c.endpoint).sort()).toEqual([
      'fal-ai/pika/v2.2/image-to-video',
      'fal-ai/pika/v2.2/text-to-video',
    ]);
    const t2v = calls.find((c) => c.endpoint.endsWith('text-to-video'))!;
    expect(t2v.input).not.toHaveProperty('image_url');
    expect(calls.find((c) => c.endpoint.endsWith('image-to-video'))!.image!.sha256).toBe(
      product.sha256,
    );
  });

  it('an image too large for Runway inline: 422 on the campaign, a free failure on a level', async () => {
    // Noise does not compress: several MB of PNG, over the 3.9 MB a 5 MB data URI holds.
    const { stdout } = await t.infra.media.runner.ffmpeg(
      [
        ...[
          '-f',
          'lavfi',
          '-i',
          "nullsrc=s=2100x1400,geq=r='random(1)*255':g='random(2)*255':b='random(3)*255'",
        ],
        ...['-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'],
      ],
      { captureStdout: true, maxStdoutBytes: 16 << 20 },
    );
    expect(stdout.length).toBeGreaterThan(RUNWAY_INLINE_IMAGE_MAX_BYTES);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(stdout)]), 'big.png');
    const upload = await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth },
      payload: form,
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const big = upload.json().id as string;
    const base = {
      name: 'Big',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'Ad for {{brief.product}}: {{tone}} by {{generator}}',
    };
    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: {
        ...base,
        video: { provider: 'runway', seconds: 5, size: '1280x720', reference_asset_id: big },
      },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([
      {
        path: 'video.reference_asset_id',
        message: expect.stringMatching(
          /^runway takes a first frame of at most \d+ bytes inline.*PUBLIC_URL/,
        ),
      },
    ]);
    // On fal it is fine; a generator level routing to Runway fails at submit, before any create.
    const campaign = await t.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { authorization: auth },
      payload: {
        ...base,
        video: {
          provider: 'fal',
          model: 'fal-ai/pika/v2.2/image-to-video',
          seconds: 5,
          size: '1280x720',
          reference_asset_id: big,
        },
      },
    });
    expect(campaign.statusCode, campaign.body).toBe(201);
    const matrix = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${campaign.json().id}/matrices`,
      headers: { authorization: auth },
      payload: {
        dimensions: [
          { key: 'tone', levels: [{ key: 'big-frame' }] },
          {
            key: 'generator',
            levels: [
              { key: 'pika' },
              { key: 'gen45', video: { provider: 'runway', model: 'gen4.5' } },
            ],
          },
        ],
      },
    });
    expect(matrix.statusCode, matrix.body).toBe(201);
    const run = await startRun(t, auth, {
      campaignId: campaign.json().id,
      matrixId: matrix.json().id,
      key: 'big-frame',
    });
    const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
    expect(done.counts).toMatchObject({ ready: 1, failed: 1 });
    const variants = await variantsOf(t, run.id);
    const failed = variants.find((v) => v.status === 'failed')!;
    expect(failed).toMatchObject({ provider: 'runway', error_code: 'image_too_large' });
    expect(Number(failed.actual_cost_usd)).toBe(0);
    expect(runway.createCount(failed.prompt)).toBe(0);
    // Refused before its create slot was claimed: none of Runway's rate or daily quota spent.
    const { rows } = await t.testDb.pool.query(
      'SELECT count(*)::int AS n FROM provider_calls WHERE variant_id = $1',
      [failed.id],
    );
    expect(rows[0].n).toBe(0);
    expect(failed.attempts).toBe(0);
    const ready = variants.find((v) => v.status === 'ready')!;
    const falCall = fal.createCalls.find((c) => c.prompt === ready.prompt)!;
    expect(falCall.image).toMatchObject({ source: 'data_uri', bytes: stdout.length });
  });

  it('with an HTTPS PUBLIC_URL, Runway gets a signed link that answers HEAD and serves the bytes', async () => {
    await workers.close();
    workers = startTestWorkers(t, workerEnv({ PUBLIC_URL: `https://${PUBLIC_HOST}` }));
    const { done, variants } = await renderWith('rw-link', {
      provider: 'runway',
      model: 'gen4_turbo',
      seconds: 5,
      size: '1280x720',
    });
    expect(done.counts.ready).toBe(1);
    const call = runway.createCalls.find((c) => c.prompt === variants[0]!.prompt)!;
    const sent = call.body.promptImage as string;
    expect(sent).toMatch(
      new RegExp(`^https://${PUBLIC_HOST}/v1/media/assets/${product.id}\\?expires=\\d+&signature=`),
    );
    // The fake fetched it as Runway does (HEAD with type and length, no redirect, then GET).
    expect(call.image).toMatchObject({ source: 'url', type: 'image/png', sha256: product.sha256 });
    const head = await fetchFromApi(sent, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/png');
    expect(Number(head.headers.get('content-length'))).toBe(product.bytes.length);
    // The link is no key to anything else: a changed id, expiry or signature is refused.
    const u = new URL(sent);
    const forged = new URL(sent);
    forged.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 1));
    expect((await fetchFromApi(forged.toString(), 'GET')).status).toBe(403);
    const other = await t.app.inject({
      method: 'GET',
      url: `/v1/media/assets/ast_other${u.search}`,
    });
    expect(other.statusCode).toBe(403);
    expect(other.headers['content-type']).toMatch(/problem\+json/);
  });
});
