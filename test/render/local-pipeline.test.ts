import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-local-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  auth = await t.key('local-co');
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const api = (
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: auth, ...headers },
    ...(payload ? { payload: payload as object } : {}),
  });

async function redLogo(width = 64, height = 64) {
  const png = (
    await t.infra.media.runner.ffmpeg(
      [
        '-f',
        'lavfi',
        '-i',
        `color=c=red:s=${width}x${height}`,
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-vcodec',
        'png',
        '-',
      ],
      {
        captureStdout: true,
      },
    )
  ).stdout;
  const form = new FormData();
  form.append('file', new Blob([png]), 'red.png');
  return (
    await t.app.inject({
      method: 'POST',
      url: '/v1/assets',
      headers: { authorization: auth },
      payload: form,
    })
  ).json().id as string;
}

/** One decoded RGB frame of a stored video, to look at pixels. */
async function frame(videoUrl: string, width: number, height: number) {
  const res = await api('GET', videoUrl);
  const file = join(dir, `frame-${Math.random()}.mp4`);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, res.rawPayload);
  const raw = await t.infra.media.runner.ffmpeg(
    ['-i', `file:${file}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    {
      captureStdout: true,
      maxStdoutBytes: width * height * 3 + 1024,
    },
  );
  return (x: number, y: number): [number, number, number] => {
    const i = (y * width + x) * 3;
    return [raw.stdout[i]!, raw.stdout[i + 1]!, raw.stdout[i + 2]!];
  };
}

describe('a run on the local provider', () => {
  it('renders, composites the partner logo and city text, and completes', {
    timeout: 120_000,
  }, async () => {
    const logo = await redLogo();
    const campaign = (
      await api('POST', '/v1/campaigns', {
        name: 'Local',
        brief: { product: 'Fizz', key_message: 'Cold' },
        prompt_template: 'A {{tone}} ad for {{brief.product}} in {{city}} with {{partner}}',
        video: { provider: 'local', seconds: 1, size: '320x180' },
        overlay: { logo_position: 'top-right', text_template: 'Now in {{city}}' },
      })
    ).json();
    const matrix = (
      await api('POST', `/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [
          { key: 'tone', levels: [{ key: 'playful' }, { key: 'calm' }] },
          { key: 'city', levels: [{ key: 'paris', label: 'Paris' }] },
          {
            key: 'partner',
            levels: [
              { key: 'acme', asset_id: logo },
              { key: 'none', label: 'no partner' },
            ],
          },
        ],
      })
    ).json();
    const accepted = await api(
      'POST',
      `/v1/campaigns/${campaign.id}/runs`,
      { matrix_id: matrix.id, design: { type: 'full' } },
      { 'idempotency-key': 'local-1' },
    );
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({
      status: 'queued',
      variant_count: 4,
      new_variant_count: 4,
      estimated_cost_usd: 0,
    });
    const runId = accepted.json().id;

    const run = await waitFor(
      async () => {
        const r = (await api('GET', `/v1/runs/${runId}`)).json();
        return r.status === 'completed' ? r : undefined;
      },
      { timeoutMs: 90_000, what: 'the run to complete' },
    ).catch(async (err: Error) => {
      // Say where it stuck: a hang here once cost a CI run with nothing to go on.
      const { rows } = await t.testDb.pool.query(
        'SELECT status, attempts, error_code, updated_at FROM variants',
      );
      throw new Error(`${err.message}: ${JSON.stringify(rows)}`);
    });
    expect(run.counts.ready).toBe(4);
    expect(run.cost).toEqual({ estimated_usd: 0, actual_usd: 0 });

    const list = (await api('GET', `/v1/variants?run_id=${runId}&levels[partner]=acme`)).json();
    expect(list.data).toHaveLength(2);
    const v = list.data[0];
    expect(v).toMatchObject({
      status: 'ready',
      provider: 'local',
      attempts: 1,
      video: { content_type: 'video/mp4', width: 320, height: 180 },
    });
    expect(v.video.duration_s).toBeCloseTo(1, 0);
    expect(v.provider_job_id).toBe(`local_${v.id}`);

    // The partner's logo sits in the top-right corner; the opposite corner shows the card.
    const px = await frame(v.video.url, 320, 180);
    const [r, g, b] = px(320 - 20, 20);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
    const [r2, g2, b2] = px(20, 90);
    expect(r2 > 180 && g2 < 80 && b2 < 80).toBe(false);

    const range = await api('GET', v.video.url, undefined, { range: 'bytes=0-99' });
    expect(range.statusCode).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 0-99/${v.video.bytes}`);
    expect(range.rawPayload.length).toBe(100);
    expect(range.rawPayload.subarray(4, 8).toString()).toBe('ftyp');
    expect(
      (await api('GET', v.video.url, undefined, { range: `bytes=${v.video.bytes}-` })).statusCode,
    ).toBe(416);
    const thumb = await api('GET', v.thumbnail_url);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect(thumb.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

    // The worker's metrics (same registry as the app here): settled count and render time.
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(
      /variants_settled_total\{[^}]*provider="local",status="ready"[^}]*\} 4/,
    );
    expect(metrics).toMatch(/render_duration_seconds_count\{[^}]*provider="local"[^}]*\} 4/);

    const events = await t.testDb.pool.query(
      `SELECT type, count(*)::int AS n FROM events GROUP BY type ORDER BY type`,
    );
    expect(events.rows).toEqual([
      { type: 'run.completed', n: 1 },
      { type: 'variant.ready', n: 4 },
    ]);

    // The same design again reuses every variant: nothing new to render, complete at once.
    const again = await api(
      'POST',
      `/v1/campaigns/${campaign.id}/runs`,
      { matrix_id: matrix.id, design: { type: 'full' } },
      { 'idempotency-key': 'local-2' },
    );
    expect(again.json()).toMatchObject({ variant_count: 4, new_variant_count: 0 });
    expect((await api('GET', `/v1/runs/${again.json().id}`)).json().status).toBe('completed');

    const other = await t.key('local-other');
    const theirs = await t.app.inject({
      method: 'GET',
      url: v.video.url,
      headers: { authorization: other },
    });
    expect(theirs.statusCode).toBe(404);
  });

  it('renders a campaign with a product image as a motion ad, to ready', {
    timeout: 120_000,
  }, async () => {
    const product = await redLogo(320, 240);
    const campaign = (
      await api('POST', '/v1/campaigns', {
        name: 'Local motion',
        brief: { product: 'Fizz', key_message: 'Cold fizz, hot city', call_to_action: 'Order now' },
        prompt_template: 'A {{tone}} ad for {{brief.product}}',
        video: { provider: 'local', seconds: 4, size: '720x1280', reference_asset_id: product },
        overlay: { logo_position: 'top-right' },
      })
    ).json();
    expect(campaign.video).toMatchObject({ model: 'motion-v1', reference_asset_id: product });
    const matrix = (
      await api('POST', `/v1/campaigns/${campaign.id}/matrices`, {
        dimensions: [{ key: 'tone', levels: [{ key: 'bold', label: 'Bold' }] }],
      })
    ).json();
    const accepted = await api(
      'POST',
      `/v1/campaigns/${campaign.id}/runs`,
      { matrix_id: matrix.id, design: { type: 'full' } },
      { 'idempotency-key': 'local-motion' },
    );
    expect(accepted.statusCode).toBe(202);
    const runId = accepted.json().id;
    await waitFor(
      async () =>
        (await api('GET', `/v1/runs/${runId}`)).json().status === 'completed' || undefined,
      { timeoutMs: 90_000, what: 'the motion run to complete' },
    );
    const [v] = (await api('GET', `/v1/variants?run_id=${runId}`)).json().data;
    expect(v).toMatchObject({
      status: 'ready',
      model: 'motion-v1',
      video: { content_type: 'video/mp4', width: 720, height: 1280 },
    });
    expect(v.video.duration_s).toBeCloseTo(4, 1);

    const file = join(dir, 'motion.mp4');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, (await api('GET', v.video.url)).rawPayload);
    const { stdout } = await t.infra.media.runner.ffprobe(
      [
        ...['-select_streams', 'v:0', '-count_frames'],
        ...['-show_entries', 'stream=r_frame_rate,nb_read_frames', '-of', 'json'],
        `file:${file}`,
      ],
      {},
    );
    expect(JSON.parse(stdout.toString()).streams[0]).toEqual({
      r_frame_rate: '25/1',
      nb_read_frames: '100',
    });
    // The product (red) sits in the upper part of the frame.
    const px = await frame(v.video.url, 720, 1280);
    const [r, g, b] = px(360, Math.round(1280 * 0.33));
    expect([r > 180, g < 80, b < 80]).toEqual([true, true, true]);
  });
});
