import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRenderShot } from '../../src/spots/shot-subject.ts';
import { type FakeVideoServer, pngImage } from '../fake-provider/index.ts';
import type { TestApp } from '../helpers/app.ts';
import { startRun, uploadImage, waitForRun } from '../helpers/scenario.ts';
import { frameAt } from '../media/helpers.ts';
import { type SpotStack, startSpotStack } from './stack.ts';

const IPTC = 'http://cv.iptc.org/newscodes/digitalsourcetype/';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let stack: SpotStack;

beforeAll(async () => {
  stack = await startSpotStack('spot-provenance-co', 4);
  ({ t, fake, auth } = stack);
});
afterAll(() => stack.close());

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: auth },
    ...(payload ? { payload: payload as object } : {}),
  });

// biome-ignore lint/suspicious/noExplicitAny: a C2PA manifest store, read by key
type Json = Record<string, any>;
const activeOf = (store: Json) => store.manifests[store.active_manifest];
const actionsOf = (manifest: Json) =>
  manifest.assertions.find((a: Json) => a.label === 'c2pa.actions.v2').data.actions as Json[];
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A spot campaign and its one-level matrix, run to completion; returns its one variant. */
async function runSpot(p: {
  key: string;
  video: Record<string, unknown>;
  shots: unknown[];
  level?: Record<string, unknown>;
}) {
  const campaign = await api('POST', '/v1/campaigns', {
    name: `Spot provenance ${p.key}`,
    brief: { product: 'Fizz', key_message: 'Cold', call_to_action: 'Buy now' },
    prompt_template: 'Ad for {{brief.product}} in {{setting}}',
    video: p.video,
    spot: { shots: p.shots, transition: { type: 'cut', seconds: 0 } },
  });
  expect(campaign.statusCode, campaign.body).toBe(201);
  const matrix = await api('POST', `/v1/campaigns/${campaign.json().id}/matrices`, {
    dimensions: [{ key: 'setting', levels: [{ key: 'park', label: 'City park', ...p.level }] }],
  });
  expect(matrix.statusCode, matrix.body).toBe(201);
  const run = await startRun(t, auth, {
    campaignId: campaign.json().id,
    matrixId: matrix.json().id,
    key: p.key,
  });
  await waitForRun(t, auth, run.id, 'completed', 120_000);
  const variant = (await api('GET', `/v1/variants?run_id=${run.id}`)).json().data[0];
  const provenance = (await api('GET', `/v1/variants/${variant.id}/provenance`)).json();
  expect(provenance.state).toBe('valid');
  return { variant, manifest: activeOf(provenance.manifest_store) as Json };
}

describe("a spot's provenance follows its shots", () => {
  it('labels a local campaign with one trained-model shot AI-generated, naming each generator, with every image by hash', {
    timeout: 180_000,
  }, async () => {
    const product = await pngImage(200, 200, '0xff00ff');
    const background = await pngImage(400, 300, '0x00c000');
    const firstFrame = await pngImage(720, 1280, '0x0000ff');
    const productId = await uploadImage(t, auth, product, 'product.png');
    const backgroundId = await uploadImage(t, auth, background, 'park.png');
    const firstFrameId = await uploadImage(t, auth, firstFrame, 'frame.png');
    const { variant, manifest } = await runSpot({
      key: 'mixed',
      video: {
        provider: 'local',
        seconds: 4,
        size: '720x1280',
        reference_asset_id: productId,
      },
      level: { background_asset_id: backgroundId },
      shots: [
        { key: 'opening', prompt_template: 'Morning in {{setting}}', seconds: 4 },
        {
          key: 'close',
          prompt_template: 'Close on {{brief.product}}',
          seconds: 4,
          video: { provider: 'openai', model: 'sora-2' },
          first_frame: { asset_id: firstFrameId },
        },
      ],
    });
    expect(fake.createCalls).toHaveLength(1);
    const openaiModel = fake.createCalls[0]!.model;
    // The variant's own provider is the campaign's (local), but the close is a trained model's.
    expect(variant).toMatchObject({
      provider: 'local',
      ai_generated: true,
      digital_source_type: `${IPTC}compositeWithTrainedAlgorithmicMedia`,
      disclosure: 'AI-generated',
    });
    const actions = actionsOf(manifest);
    expect(actions[0]).toMatchObject({
      action: 'c2pa.created',
      digitalSourceType: `${IPTC}compositeWithTrainedAlgorithmicMedia`,
      softwareAgent: { name: 'admatrix' },
    });
    const shotActions = actions.filter((a) => /^shot /.test(a.description ?? ''));
    expect(
      shotActions.map((a) => [a.description, a.softwareAgent.name, a.digitalSourceType]),
    ).toEqual([
      ['shot opening', expect.stringMatching(/^local\//), `${IPTC}algorithmicMedia`],
      ['shot close', `openai/${openaiModel}`, `${IPTC}trainedAlgorithmicMedia`],
    ]);
    expect(actions.map((a) => a.description)).toContain('visible AI disclosure');
    // Each uploaded image that went into a shot is an input ingredient, by its hash.
    const inputs = (manifest.ingredients as Json[])
      .filter((i) => i.relationship === 'inputTo')
      .map((i) => [i.title, i.metadata['com.admatrix.sha256']]);
    expect(inputs.sort()).toEqual(
      [
        ['background', sha256(background)],
        ['first frame of shot close', sha256(firstFrame)],
        ['product image', sha256(product)],
      ].sort(),
    );

    // The local opening shot drew the level's background and label, not its key.
    const { rows } = await t.testDb.pool.query(
      `SELECT s.id FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
       WHERE vs.variant_id = $1 ORDER BY vs.position`,
      [variant.id],
    );
    const opening = await loadRenderShot(t.testDb.db, rows[0].id);
    expect(opening).toMatchObject({
      captions: ['City park'],
      background_asset_id: backgroundId,
      reference_asset_id: productId,
    });
    // The openai close keeps its own first frame only.
    expect(await loadRenderShot(t.testDb.db, rows[1].id)).toMatchObject({
      reference_asset_id: firstFrameId,
    });
    const file = join(stack.dir, `${variant.id}.mp4`);
    await writeFile(file, (await api('GET', `/v1/variants/${variant.id}/video`)).rawPayload);
    const pixel = (await frameAt(t.infra.media, file, 0.5)).pixel(715, 640);
    expect(pixel[1]).toBeGreaterThan(150);
    expect(pixel[0]).toBeLessThan(60);
    expect(pixel[2]).toBeLessThan(60);
  });

  it('labels an openai campaign whose shots all render locally as not AI-generated', {
    timeout: 120_000,
  }, async () => {
    const { variant, manifest } = await runSpot({
      key: 'all-local',
      video: { provider: 'openai', seconds: 4, size: '720x1280' },
      shots: [
        {
          key: 'opening',
          prompt_template: 'Morning in {{setting}}',
          seconds: 4,
          video: { provider: 'local', model: 'motion-v1' },
        },
      ],
    });
    expect(variant).toMatchObject({
      provider: 'openai',
      ai_generated: false,
      digital_source_type: `${IPTC}algorithmicMedia`,
      disclosure: null,
    });
    expect(actionsOf(manifest).map((a) => a.description)).not.toContain('visible AI disclosure');
    // The event and the delivery record a campaign tool reads say the same.
    const notAi = { ai_generated: false, digital_source_type: `${IPTC}algorithmicMedia` };
    const events = await t.testDb.pool.query(
      `SELECT data FROM events WHERE type = 'variant.ready' AND data ->> 'variant_id' = $1`,
      [variant.id],
    );
    expect(events.rows[0].data).toMatchObject(notAi);
    const delivery = await t.app.inject({
      method: 'POST',
      url: `/v1/variants/${variant.id}/deliveries`,
      headers: { authorization: auth, 'idempotency-key': 'spot-delivery' },
      payload: { destination: 'tiktok', external_id: 'ad-1' },
    });
    expect(delivery.statusCode, delivery.body).toBe(201);
    expect(delivery.json()).toMatchObject(notAi);
  });

  it("refuses a generator dimension on a spot campaign, naming the level's video", async () => {
    const campaign = await api('POST', '/v1/campaigns', {
      name: 'Spot with generators',
      brief: { product: 'Fizz', key_message: 'Cold' },
      prompt_template: 'Ad for {{brief.product}} in {{setting}}',
      video: { provider: 'local', seconds: 4, size: '720x1280' },
      spot: {
        shots: [{ key: 'opening', prompt_template: 'Morning in {{setting}}', seconds: 4 }],
        transition: { type: 'cut', seconds: 0 },
      },
    });
    expect(campaign.statusCode, campaign.body).toBe(201);
    const matrix = await api('POST', `/v1/campaigns/${campaign.json().id}/matrices`, {
      dimensions: [
        { key: 'setting', levels: [{ key: 'park' }] },
        { key: 'engine', levels: [{ key: 'own' }, { key: 'sora', video: { provider: 'openai' } }] },
      ],
    });
    expect(matrix.statusCode, matrix.body).toBe(422);
    expect(matrix.headers['content-type']).toMatch(/problem\+json/);
    expect(matrix.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'dimensions[1].levels[1].video',
    ]);
  });
});
