import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secrets.ts';
import { signAsset } from '../../src/provenance/c2pa.ts';
import { credentialsFrom } from '../../src/provenance/credentials.ts';
import { makeDevelopmentChain } from '../../src/provenance/dev-chain.ts';
import { type FakeVideoServer, fakeMedia, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp, waitFor } from '../helpers/app.ts';
import { uploadSolidLogo } from '../helpers/assets.ts';
import { setupCampaign, startRun, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

const IPTC = 'http://cv.iptc.org/newscodes/digitalsourcetype/';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let otherAuth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let logo: string;
const logLines: string[] = [];
/** When set, the fake provider embeds its own C2PA manifest in what it serves. */
let providerSigns = false;
const providerChain = makeDevelopmentChain();
const providerCredentials = credentialsFrom(providerChain, 'configured');

async function asProvider(mp4: Buffer): Promise<Buffer> {
  if (!providerSigns) return mp4;
  const signed = await signAsset({
    manifest: {
      claim_generator_info: [{ name: 'fake-gateway', version: '1' }],
      title: 'render.mp4',
      format: 'video/mp4',
      assertions: [
        {
          label: 'c2pa.actions.v2',
          data: {
            actions: [
              {
                action: 'c2pa.created',
                digitalSourceType: `${IPTC}trainedAlgorithmicMedia`,
                softwareAgent: { name: 'fake-sora' },
              },
            ],
          },
        },
      ],
    },
    ingredients: [],
    format: 'video/mp4',
    bytes: mp4,
    signer: providerCredentials.signer,
  });
  return Buffer.from(signed);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-provenance-'));
  fake = await startFakeVideoServer({
    defaults: { queuedMs: 5, renderMs: 20 },
    videoContent: asProvider,
  });
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    PROVENANCE_MAX_BYTES: '2000000',
    ...openaiApiOnly,
  });
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  workers = startTestWorkers(
    t,
    {
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: fake.baseURL,
      RENDER_POLL_INTERVAL_MS: '30',
      LOG_LEVEL: 'debug',
    },
    logStream,
  );
  auth = await t.key('provenance-co');
  otherAuth = await t.key('provenance-other');
  logo = await uploadSolidLogo(t, auth, 'red', 32);
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, as = auth) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: as, 'idempotency-key': `k-${Math.random()}` },
    ...(payload ? { payload: payload as object } : {}),
  });

/** One composited variant on the fake gateway, with a logo and a text line. */
async function renderVariant(city: string, disclosure?: Record<string, unknown>) {
  const campaign = await api('POST', '/v1/campaigns', {
    name: `Provenance ${city}`,
    brief: { product: 'Fizz', key_message: 'Cold' },
    prompt_template: 'An ad for {{brief.product}} in {{city}}',
    video: { provider: 'openai', seconds: 4, size: '720x1280' },
    overlay: {
      logo_position: 'bottom-right',
      text_template: 'Now in {{city}}',
      ...(disclosure ? { disclosure } : {}),
    },
  });
  expect(campaign.statusCode).toBe(201);
  const campaignId = campaign.json().id;
  const matrix = await api('POST', `/v1/campaigns/${campaignId}/matrices`, {
    dimensions: [
      { key: 'city', levels: [{ key: city }] },
      { key: 'brand', levels: [{ key: 'acme', asset_id: logo }] },
    ],
  });
  expect(matrix.statusCode).toBe(201);
  const run = await api('POST', `/v1/campaigns/${campaignId}/runs`, {
    matrix_id: matrix.json().id,
    design: { type: 'full' },
  });
  expect(run.statusCode).toBe(202);
  const runId = run.json().id;
  await waitFor(
    async () => {
      const r = (await api('GET', `/v1/runs/${runId}`)).json();
      return r.status === 'completed' ? r : undefined;
    },
    { timeoutMs: 60_000, what: 'the run to complete' },
  );
  const list = (await api('GET', `/v1/variants?run_id=${runId}`)).json();
  expect(list.data).toHaveLength(1);
  expect(list.data[0].status).toBe('ready');
  return { campaignId, runId, variant: list.data[0] };
}

// biome-ignore lint/suspicious/noExplicitAny: a C2PA manifest store, read by key
type Json = Record<string, any>;
const activeOf = (store: Json) => store.manifests[store.active_manifest];
const actionsOf = (manifest: Json) =>
  manifest.assertions.find((a: Json) => a.label === 'c2pa.actions.v2').data.actions as Json[];

/** The first decoded RGB frame of a variant's stored video. */
async function frame(variantId: string, width: number, height: number) {
  const res = await api('GET', `/v1/variants/${variantId}/video`);
  const file = join(dir, `frame-${variantId}.mp4`);
  await writeFile(file, res.rawPayload);
  const raw = await t.infra.media.runner.ffmpeg(
    ['-i', `file:${file}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { captureStdout: true, maxStdoutBytes: width * height * 3 + 1024 },
  );
  return (x: number, y: number) => {
    const i = (y * width + x) * 3;
    return [raw.stdout[i]!, raw.stdout[i + 1]!, raw.stdout[i + 2]!];
  };
}

function verifyForm(bytes: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'ad.mp4');
  return t.app.inject({
    method: 'POST',
    url: '/v1/provenance/verify',
    headers: { authorization: auth },
    payload: form,
  });
}

describe('content credentials', () => {
  it('sign a composited variant: source type, actions, ingredients, ids; the reader validates it', {
    timeout: 90_000,
  }, async () => {
    const { campaignId, runId, variant } = await renderVariant('paris');
    expect(variant.ai_generated).toBe(true);
    expect(variant.digital_source_type).toBe(`${IPTC}compositeWithTrainedAlgorithmicMedia`);

    const res = await api('GET', `/v1/variants/${variant.id}/provenance`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // Valid signature and hashes; the development chain is nobody's trust anchor.
    expect(body.state).toBe('valid');
    expect(body.trusted).toBe(false);
    expect(body.signer).toEqual({ source: 'development', trusted: false });
    expect(body.failures.map((f: Json) => f.code)).toEqual(['signingCredential.untrusted']);
    expect(body.ai_generated).toBe(true);
    expect(body.digital_source_type).toBe(`${IPTC}compositeWithTrainedAlgorithmicMedia`);

    const manifest = activeOf(body.manifest_store);
    expect(manifest.claim_generator_info[0].name).toBe('admatrix');
    const actions = actionsOf(manifest);
    expect(actions.map((a) => a.action)).toEqual([
      'c2pa.created',
      'c2pa.placed',
      'c2pa.edited',
      'c2pa.edited',
      'c2pa.transcoded',
    ]);
    expect(actions[0]!.softwareAgent.name).toBe(`openai/${variant.model}`);
    expect(actions[0]!.digitalSourceType).toBe(`${IPTC}compositeWithTrainedAlgorithmicMedia`);
    expect(actions[2]!.description).toBe('text overlay');
    expect(actions[3]!.description).toBe('visible AI disclosure');
    const ids = manifest.assertions.find((a: Json) => a.label === 'com.admatrix.variant').data;
    expect(ids).toEqual({ campaign_id: campaignId, variant_id: variant.id, run_id: runId });

    const ingredients = manifest.ingredients as Json[];
    expect(ingredients.map((i) => [i.title, i.relationship])).toEqual([
      ['openai-render.mp4', 'componentOf'],
      ['logo', 'componentOf'],
    ]);
    const logoAsset = (await api('GET', `/v1/assets/${logo}`)).json();
    expect(ingredients[1]!.metadata['com.admatrix.sha256']).toBe(logoAsset.sha256);
    for (const i of ingredients)
      expect(i.metadata['com.admatrix.sha256']).toMatch(/^[0-9a-f]{64}$/);

    // The variant.ready event carries the platform flags.
    const events = await t.testDb.pool.query(
      `SELECT data FROM events WHERE type = 'variant.ready' AND data ->> 'variant_id' = $1`,
      [variant.id],
    );
    expect(events.rows[0].data).toMatchObject({
      ai_generated: true,
      digital_source_type: `${IPTC}compositeWithTrainedAlgorithmicMedia`,
    });

    // So does its delivery record, for the campaign tool that uploads it.
    const delivery = await api('POST', `/v1/variants/${variant.id}/deliveries`, {
      destination: 'tiktok',
      external_id: 'ad-1',
    });
    expect(delivery.statusCode).toBe(201);
    expect(delivery.json()).toMatchObject({
      ai_generated: true,
      digital_source_type: `${IPTC}compositeWithTrainedAlgorithmicMedia`,
    });
    const delivered = await t.testDb.pool.query(
      `SELECT data FROM events WHERE type = 'variant.delivered' AND data ->> 'variant_id' = $1`,
      [variant.id],
    );
    expect(delivered.rows[0].data).toMatchObject({ ai_generated: true });

    // And the report's rows, JSON and CSV.
    const report = (await api('GET', `/v1/campaigns/${campaignId}/report`)).json();
    expect(report.variants[0]).toMatchObject({
      id: variant.id,
      ai_generated: true,
      digital_source_type: `${IPTC}compositeWithTrainedAlgorithmicMedia`,
    });
    const csv = (await api('GET', `/v1/campaigns/${campaignId}/report?format=csv`)).body;
    expect(csv.split('\n')[0]).toMatch(/,ai_generated,digital_source_type$/);
    expect(csv.split('\n')[1]).toMatch(
      new RegExp(`^${variant.id},.*,true,${IPTC}compositeWithTrainedAlgorithmicMedia$`),
    );

    // Another tenant cannot read it.
    const other = await api('GET', `/v1/variants/${variant.id}/provenance`, undefined, otherAuth);
    expect(other.statusCode).toBe(404);
  });

  it("keeps a provider render's own manifest as an ingredient", { timeout: 90_000 }, async () => {
    providerSigns = true;
    try {
      const { variant } = await renderVariant('rome');
      const body = (await api('GET', `/v1/variants/${variant.id}/provenance`)).json();
      expect(body.state).toBe('valid');
      const manifest = activeOf(body.manifest_store);
      const render = manifest.ingredients.find((i: Json) => i.title === 'openai-render.mp4');
      expect(render.active_manifest).toEqual(expect.any(String));
      // The provider's manifest travels inside ours, with its own actions.
      const providers = body.manifest_store.manifests[render.active_manifest];
      expect(providers.claim_generator_info[0].name).toBe('fake-gateway');
      expect(actionsOf(providers)[0]).toMatchObject({
        action: 'c2pa.created',
        digitalSourceType: `${IPTC}trainedAlgorithmicMedia`,
      });
    } finally {
      providerSigns = false;
    }
  });

  it('verify: the signed MP4 is valid, a tampered one invalid, one without credentials absent', {
    timeout: 90_000,
  }, async () => {
    const { variant } = await renderVariant('oslo');
    const video = (await api('GET', `/v1/variants/${variant.id}/video`)).rawPayload;
    const ok = await verifyForm(video);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().state).toBe('valid');

    const tampered = Buffer.from(video);
    // A byte of the picture data (mdat), after the manifest at the front.
    const mdat = tampered.indexOf('mdat');
    tampered[mdat + 64] = tampered[mdat + 64]! ^ 0xff;
    const bad = await verifyForm(tampered);
    expect(bad.statusCode).toBe(200);
    expect(bad.json().state).toBe('invalid');
    expect(bad.json().failures.map((f: Json) => f.code)).toContain('assertion.bmffHash.mismatch');

    expect((await verifyForm(await fakeMedia('video'))).json().state).toBe('absent');

    const tooBig = await verifyForm(Buffer.alloc(2_000_001));
    expect(tooBig.statusCode).toBe(413);
  });

  it('draws the visible disclosure in the frame by default, and not when turned off', {
    timeout: 90_000,
  }, async () => {
    const on = (await renderVariant('kyiv')).variant;
    const off = (await renderVariant('riga', { visible: false })).variant;
    expect(on.disclosure).toBe('AI-generated');
    expect(off.disclosure).toBeNull();
    // The fake renders solid 0x3366cc; the label is a black box with white text, top left.
    const isBackground = ([r, g, b]: number[]) =>
      Math.abs(r! - 0x33) < 40 && Math.abs(g! - 0x66) < 40 && Math.abs(b! - 0xcc) < 40;
    const labelPixels = async (id: string) => {
      const px = await frame(id, 64, 64);
      let n = 0;
      for (let y = 2; y < 20; y++) for (let x = 2; x < 30; x++) if (!isBackground(px(x, y))) n++;
      return n;
    };
    expect(await labelPixels(on.id)).toBeGreaterThan(18 * 28 * 0.8);
    expect(await labelPixels(off.id)).toBe(0);
    // The label is in the manifest's actions only when drawn.
    const offManifest = activeOf(
      (await api('GET', `/v1/variants/${off.id}/provenance`)).json().manifest_store,
    );
    expect(actionsOf(offManifest).map((a) => a.description)).not.toContain('visible AI disclosure');
  });

  it('marks a local motion template algorithmicMedia: not AI-generated, no label', {
    timeout: 90_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { city: ['quito'] },
      video: { provider: 'local', seconds: 1, size: '320x180' },
    });
    const run = await startRun(t, auth, { ...s, key: 'local-provenance' });
    await waitForRun(t, auth, run.id, 'completed', 90_000);
    const variant = (await api('GET', `/v1/variants?run_id=${run.id}`)).json().data[0];
    expect(variant).toMatchObject({
      ai_generated: false,
      digital_source_type: `${IPTC}algorithmicMedia`,
      disclosure: null,
    });
    const body = (await api('GET', `/v1/variants/${variant.id}/provenance`)).json();
    expect(body.state).toBe('valid');
    const created = actionsOf(activeOf(body.manifest_store))[0]!;
    expect(created).toMatchObject({
      action: 'c2pa.created',
      digitalSourceType: `${IPTC}algorithmicMedia`,
      softwareAgent: { name: `local/${variant.model}` },
    });
  });

  it("lists a spot's shots as ingredients, placed in order", { timeout: 120_000 }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { city: ['bern'] },
      template: 'Ad in {{city}}',
      spot: {
        shots: [
          { key: 'opening', prompt_template: 'Opening in {{city}}', seconds: 4 },
          { key: 'pack', prompt_template: 'Pack shot of {{brief.product}}', seconds: 4 },
        ],
        transition: { type: 'cut', seconds: 0 },
      },
    });
    const run = await startRun(t, auth, { ...s, key: 'spot-provenance' });
    await waitForRun(t, auth, run.id, 'completed', 120_000);
    const variant = (await api('GET', `/v1/variants?run_id=${run.id}`)).json().data[0];
    const body = (await api('GET', `/v1/variants/${variant.id}/provenance`)).json();
    expect(body.state).toBe('valid');
    expect(body.digital_source_type).toBe(`${IPTC}compositeWithTrainedAlgorithmicMedia`);
    const manifest = activeOf(body.manifest_store);
    const shots = (
      await t.testDb.pool.query(
        `SELECT s.id, s.shot_key FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
         WHERE vs.variant_id = $1 ORDER BY vs.position`,
        [variant.id],
      )
    ).rows;
    const shotIngredients = (manifest.ingredients as Json[]).filter((i) =>
      i.title.startsWith('shot-'),
    );
    expect(shotIngredients.map((i) => [i.title, i.metadata['com.admatrix.shot_id']])).toEqual(
      shots.map((r) => [`shot-${r.shot_key}.mp4`, r.id]),
    );
    const assembled = actionsOf(manifest).find((a) => a.description === 'shots assembled in order');
    expect(assembled?.action).toBe('c2pa.placed');
    expect(assembled?.parameters.ingredients).toHaveLength(2);
  });

  it('never returns or logs the signing key or certificate', async () => {
    const row = await t.testDb.pool.query('SELECT cert_pem, key_sealed FROM signing_credentials');
    expect(row.rows).toHaveLength(1);
    const certBody = (row.rows[0].cert_pem as string).split('\n')[1]!;
    expect(row.rows[0].key_sealed).toMatch(/^v1\./);
    const keyBody = createSecretBox(t.config.SECRETS_KEY)
      .open(row.rows[0].key_sealed)
      .split('\n')[1]!;
    const { variant } = await renderVariant('lima');
    const bodies = [
      (await api('GET', `/v1/variants/${variant.id}/provenance`)).body,
      (await api('GET', `/v1/variants/${variant.id}`)).body,
    ];
    const logs = logLines.join('');
    expect(logs).toContain('render step');
    for (const text of [...bodies, logs]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain('BEGIN CERTIFICATE');
      expect(text).not.toContain(certBody);
      expect(text).not.toContain(keyBody);
    }
  });
});
