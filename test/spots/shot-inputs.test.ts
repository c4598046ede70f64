import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVideoServer, pngImage } from '../fake-provider/index.ts';
import type { TestApp } from '../helpers/app.ts';
import { startRun, uploadImage, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { frameAt } from '../media/helpers.ts';
import { type SpotStack, startSpotStack } from './stack.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let stack: SpotStack;

beforeAll(async () => {
  stack = await startSpotStack('shot-inputs-co', 4);
  ({ t, fake, auth } = stack);
});
afterAll(() => stack.close());

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: auth },
    ...(payload ? { payload: payload as object } : {}),
  });

type ShotRow = {
  id: string;
  shot_key: string;
  identity: string;
  prompt: string;
  attempts: number;
  status: string;
  reference_asset_id: string | null;
};
const shotRows = async (campaignId: string) =>
  (
    await t.testDb.pool.query(
      `SELECT id, shot_key, identity, prompt, attempts, status, reference_asset_id
       FROM shots WHERE campaign_id = $1 ORDER BY id`,
      [campaignId],
    )
  ).rows as ShotRow[];

const isColour = (channel: 0 | 1 | 2) => (p: [number, number, number]) =>
  p[channel] > 150 && p.every((v, i) => i === channel || v < 60);

describe('a shot is another render for every picture the built-in renderer draws', () => {
  it('splits levels whose prompts agree but whose backgrounds differ, reuses them unchanged, and renders again for a new product image or call to action', {
    timeout: 300_000,
  }, async () => {
    const green = await uploadImage(t, auth, await pngImage(400, 300, '0x00c000'), 'park.png');
    const blue = await uploadImage(t, auth, await pngImage(400, 300, '0x0000c0'), 'yard.png');
    const red = await uploadImage(t, auth, await pngImage(200, 200, '0xc00000'), 'can.png');
    const white = await uploadImage(t, auth, await pngImage(200, 200, '0xffffff'), 'tin.png');
    const campaign = await api('POST', '/v1/campaigns', {
      name: 'Shot inputs',
      brief: { product: 'Fizz', key_message: 'Cold', call_to_action: 'Buy now' },
      prompt_template: 'Ad for {{brief.product}} in {{setting}}',
      video: { provider: 'local', seconds: 4, size: '720x1280', reference_asset_id: red },
      spot: {
        shots: [
          { key: 'opening', prompt_template: 'Morning in {{setting}}', seconds: 1 },
          {
            key: 'close',
            prompt_template: 'Close on {{brief.product}}',
            seconds: 4,
            video: { provider: 'openai', model: 'sora-2' },
          },
        ],
        transition: { type: 'cut', seconds: 0 },
      },
    });
    expect(campaign.statusCode, campaign.body).toBe(201);
    const campaignId = campaign.json().id;
    // Two levels the opening's prompt cannot tell apart (same prompt, same label): only
    // their backgrounds differ.
    const matrix = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
      dimensions: [
        {
          key: 'setting',
          levels: [
            { key: 'park', label: 'Green', prompt: 'a city park', background_asset_id: green },
            { key: 'yard', label: 'Green', prompt: 'a city park', background_asset_id: blue },
          ],
        },
      ],
    });
    expect(matrix.statusCode, matrix.body).toBe(201);
    const runOnce = async (key: string) => {
      const run = await startRun(t, auth, { campaignId, matrixId: matrix.json().id, key });
      const done = await waitForRun(t, auth, run.id, 'completed', 180_000);
      expect(done.counts.ready).toBe(2);
      return run.id;
    };
    const backgroundOf = async (variantId: string) => {
      const file = join(stack.dir, `${variantId}.mp4`);
      await writeFile(file, (await api('GET', `/v1/variants/${variantId}/video`)).rawPayload);
      // The opening's top corners, where neither the product nor any caption is drawn.
      const frame = await frameAt(t.infra.media, file, 0.5);
      const corners = [frame.pixel(6, 6), frame.pixel(713, 6)];
      if (corners.every(isColour(1))) return 'green';
      if (corners.every(isColour(2))) return 'blue';
      return JSON.stringify(corners);
    };
    const levelOf = async (variantId: string) =>
      (await t.testDb.pool.query('SELECT levels FROM variants WHERE id = $1', [variantId])).rows[0]
        .levels.setting as string;

    const first = await runOnce('inputs-1');
    const openings = (await shotRows(campaignId)).filter((s) => s.shot_key === 'opening');
    expect(openings).toHaveLength(2);
    expect(new Set(openings.map((s) => s.prompt))).toEqual(new Set(['Morning in a city park']));
    expect(openings.every((s) => s.reference_asset_id === red && s.attempts === 1)).toBe(true);
    const drawn: Record<string, string> = {};
    for (const v of await variantsOf(t, first))
      drawn[await levelOf(v.id)] = await backgroundOf(v.id);
    expect(drawn).toEqual({ park: 'green', yard: 'blue' });
    // The trained model draws no background or product: its identity is the one it always had.
    const close = (await shotRows(campaignId)).find((s) => s.shot_key === 'close')!;
    const unchanged = createHash('sha256')
      .update(
        JSON.stringify([
          campaignId,
          'close',
          'Close on Fizz',
          'openai',
          'sora-2',
          '720x1280',
          4,
          null,
        ]),
      )
      .digest('hex');
    expect(close.identity).toBe(unchanged);
    expect(fake.createCalls).toHaveLength(1);

    // Nothing changed: a second run renders nothing and reuses both openings.
    const before = await shotRows(campaignId);
    await runOnce('inputs-2');
    expect(await shotRows(campaignId)).toEqual(before);
    expect(fake.createCalls).toHaveLength(1);

    // A new product image is a new picture for both openings, and nothing for the close.
    const patched = await api('PATCH', `/v1/campaigns/${campaignId}`, {
      video: { reference_asset_id: white },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const third = await runOnce('inputs-3');
    const after = await shotRows(campaignId);
    expect(after.filter((s) => before.some((b) => b.id === s.id))).toEqual(before);
    const fresh = after.filter((s) => !before.some((b) => b.id === s.id));
    expect(fresh.map((s) => [s.shot_key, s.reference_asset_id, s.attempts, s.status])).toEqual([
      ['opening', white, 1, 'ready'],
      ['opening', white, 1, 'ready'],
    ]);
    expect(fake.createCalls).toHaveLength(1);
    for (const v of await variantsOf(t, third))
      expect(await backgroundOf(v.id)).toBe((await levelOf(v.id)) === 'park' ? 'green' : 'blue');

    // A new call to action is new words on both openings (the built-in renderer draws it), and
    // nothing for the close, whose model reads only its prompt.
    const worded = await api('PATCH', `/v1/campaigns/${campaignId}`, {
      brief: { product: 'Fizz', key_message: 'Cold', call_to_action: 'Order today' },
    });
    expect(worded.statusCode, worded.body).toBe(200);
    await runOnce('inputs-4');
    const reworded = (await shotRows(campaignId)).filter((s) => !after.some((a) => a.id === s.id));
    expect(reworded.map((s) => [s.shot_key, s.status])).toEqual([
      ['opening', 'ready'],
      ['opening', 'ready'],
    ]);
    expect(fake.createCalls).toHaveLength(1);
  });
});
