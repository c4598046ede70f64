import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { uploadSolidLogo } from '../helpers/assets.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let logo: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-logo-dim-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  auth = await t.key('logo-dim-co');
  logo = await uploadSolidLogo(t, auth);
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

/** One decoded RGB frame of a stored video, to look at pixels. */
async function frame(videoUrl: string, width: number, height: number) {
  const res = await api('GET', videoUrl);
  const file = join(dir, `frame-${Math.random()}.mp4`);
  await writeFile(file, res.rawPayload);
  const raw = await t.infra.media.runner.ffmpeg(
    ['-i', `file:${file}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { captureStdout: true, maxStdoutBytes: width * height * 3 + 1024 },
  );
  return (x: number, y: number): [number, number, number] => {
    const i = (y * width + x) * 3;
    return [raw.stdout[i]!, raw.stdout[i + 1]!, raw.stdout[i + 2]!];
  };
}

const isRed = ([r, g, b]: [number, number, number]) => r > 180 && g < 80 && b < 80;

async function campaign(promptTemplate: string) {
  return (
    await api('POST', '/v1/campaigns', {
      name: 'Brands',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: promptTemplate,
      video: { provider: 'local', seconds: 1, size: '320x180' },
      overlay: { logo_position: 'top-right' },
    })
  ).json().id as string;
}

describe('a logo dimension', () => {
  it('is drawn whatever it is called, and need not be in the prompt', {
    timeout: 120_000,
  }, async () => {
    // The prompt names only the tone: the brand varies the logo, not the clip.
    const campaignId = await campaign('A {{tone}} ad for {{brief.product}}');
    const created = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        { key: 'tone', levels: [{ key: 'playful' }] },
        {
          key: 'brand',
          levels: [
            { key: 'acme', asset_id: logo },
            { key: 'plain', label: 'no logo' },
          ],
        },
      ],
    });
    expect(created.statusCode).toBe(201);
    const accepted = await api(
      'POST',
      `/v1/campaigns/${campaignId}/runs`,
      { matrix_id: created.json().id, design: { type: 'full' } },
      { 'idempotency-key': 'brand-1' },
    );
    expect(accepted.statusCode).toBe(202);
    const runId = accepted.json().id;
    await waitFor(
      async () => {
        const r = (await api('GET', `/v1/runs/${runId}`)).json();
        return r.status === 'completed' ? r : undefined;
      },
      { timeoutMs: 90_000, what: 'the run to complete' },
    );

    const branded = (await api('GET', `/v1/variants?run_id=${runId}&levels[brand]=acme`)).json();
    expect(branded.data).toHaveLength(1);
    const px = await frame(branded.data[0].video.url, 320, 180);
    // The logo sits in the top-right corner; the opposite corner shows the card.
    expect(isRed(px(320 - 20, 20))).toBe(true);
    expect(isRed(px(20, 90))).toBe(false);

    const plain = (await api('GET', `/v1/variants?run_id=${runId}&levels[brand]=plain`)).json();
    const plainPx = await frame(plain.data[0].video.url, 320, 180);
    expect(isRed(plainPx(320 - 20, 20))).toBe(false);
  });

  it('may be only one per matrix: the second is named', async () => {
    const campaignId = await campaign('A {{tone}} ad for {{brief.product}}');
    const res = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        { key: 'brand', levels: [{ key: 'acme', asset_id: logo }] },
        { key: 'tone', levels: [{ key: 'playful' }] },
        { key: 'partner', levels: [{ key: 'none' }, { key: 'globex', asset_id: logo }] },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([
      {
        path: 'dimensions[2].levels[1].asset_id',
        message: 'dimension "partner" carries a logo, but "brand" already does',
      },
    ]);
    const count = await t.testDb.pool.query(
      'SELECT count(*)::int AS n FROM matrices WHERE campaign_id = $1',
      [campaignId],
    );
    expect(count.rows[0].n).toBe(0);
  });

  it('is the only dimension the prompt may leave out', async () => {
    const campaignId = await campaign('An ad for {{brief.product}}');
    const res = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        { key: 'tone', levels: [{ key: 'playful' }] },
        { key: 'brand', levels: [{ key: 'acme', asset_id: logo }] },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      {
        path: 'dimensions[0].key',
        message: 'dimension "tone" has no {{tone}} placeholder in prompt_template',
      },
    ]);
  });
});
