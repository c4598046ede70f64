import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngImage } from '../fake-provider/media.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startRun, uploadImage, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { frameAt } from '../media/helpers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-background-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '2' });
  auth = await t.key('background-co');
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { authorization: auth, ...headers },
    payload: payload as string,
  });

describe("a level's background image on the local renderer", () => {
  it('is drawn behind the motion template for its level; the other level keeps its palette', {
    timeout: 120_000,
  }, async () => {
    const asset = await uploadImage(t, auth, await pngImage(400, 300, '0x00c000'), 'park.png');
    const campaign = await post('/v1/campaigns', {
      name: 'Backgrounds',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'An ad for {{brief.product}}',
      video: { provider: 'local', seconds: 1, size: '320x180' },
    });
    expect(campaign.statusCode, campaign.body).toBe(201);
    // The long-form sheet's background_asset_id column, beside asset_id for logos.
    const csv = `dimension,level,background_asset_id\nsetting,park,${asset}\nsetting,plain,\n`;
    const url = `/v1/campaigns/${campaign.json().id}/matrices`;
    const matrix = await post(url, csv, { 'content-type': 'text/csv' });
    expect(matrix.statusCode, matrix.body).toBe(201);
    const run = await startRun(t, auth, {
      campaignId: campaign.json().id,
      matrixId: matrix.json().id,
      key: 'background-1',
    });
    const done = await waitForRun(t, auth, run.id, 'completed', 90_000);
    expect(done.counts.ready).toBe(2);
    const isGreen = ([r, g, b]: [number, number, number]) => g > 150 && r < 60 && b < 60;
    const corners: Record<string, boolean> = {};
    for (const v of await variantsOf(t, run.id)) {
      const { rows } = await t.testDb.pool.query('SELECT levels FROM variants WHERE id = $1', [
        v.id,
      ]);
      const file = join(dir, `${v.id}.mp4`);
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/variants/${v.id}/video`,
        headers: { authorization: auth },
      });
      await writeFile(file, res.rawPayload);
      const frame = await frameAt(t.infra.media, file, 0);
      corners[rows[0].levels.setting] = isGreen(frame.pixel(4, 4)) && isGreen(frame.pixel(315, 4));
    }
    expect(corners).toEqual({ park: true, plain: false });
  });

  it("refuses another tenant's or an unknown asset, naming the level's field", async () => {
    const campaign = await post('/v1/campaigns', {
      name: 'Backgrounds',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'An ad for {{brief.product}}',
      video: { provider: 'local', seconds: 1, size: '320x180' },
    });
    const res = await post(`/v1/campaigns/${campaign.json().id}/matrices`, {
      dimensions: [
        {
          key: 'setting',
          levels: [{ key: 'park', background_asset_id: 'ast_01m883djf9s9pv9d835xhfj4sp' }],
        },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('dimensions[0].levels[0].background_asset_id');
  });
});
