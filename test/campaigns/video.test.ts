import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, createTestApp, type TestApp } from '../helpers/app.ts';

// Keys set, so every provider is configured; nothing here calls a provider.
let t: TestApp;
let auth: string;
beforeAll(async () => {
  t = await createTestApp({
    OPENAI_API_KEY: 'sk-test',
    RUNWAYML_API_SECRET: 'key_test',
    FAL_KEY: 'fal-test',
  });
  auth = await t.key('video-co');
});
afterAll(() => t.close());

const create = (video: Record<string, unknown>, as = auth) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: as },
    payload: { ...campaignBody, video },
  });

const errorsOf = (res: { json(): { errors: { path: string; message: string }[] } }) =>
  res.json().errors;

async function uploadImage(as: string) {
  const { stdout } = await t.infra.media.runner.ffmpeg(
    [
      ...['-f', 'lavfi', '-i', 'color=c=blue:s=64x64', '-frames:v', '1'],
      ...['-f', 'image2pipe', '-vcodec', 'png', '-'],
    ],
    { captureStdout: true },
  );
  const form = new FormData();
  form.append('file', new Blob([stdout]), 'product.png');
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/assets',
    headers: { authorization: as },
    payload: form,
  });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

describe('campaign video settings against the catalog', () => {
  it('accepts each provider at its own seconds and sizes', async () => {
    for (const video of [
      { provider: 'runway', model: 'gen4.5', seconds: 5, size: '1280x720' },
      { provider: 'runway', model: 'veo3.1_fast', seconds: 8, size: '1080x1920' },
      { provider: 'fal', model: 'fal-ai/pika/v2.2/text-to-video', seconds: 5, size: '720x1280' },
      { provider: 'fal', seconds: 10, size: '1080x1920' },
    ]) {
      const res = await create(video);
      expect(res.statusCode, JSON.stringify(video)).toBe(201);
    }
    const fal = await create({ provider: 'fal', seconds: 5, size: '720x1280' });
    expect(fal.json().video).toEqual({
      provider: 'fal',
      model: 'fal-ai/pika/v2.2/text-to-video',
      seconds: 5,
      size: '720x1280',
      reference_asset_id: null,
    });
  });

  it('names the field and lists the allowed values (runway)', async () => {
    const res = await create({ provider: 'runway', model: 'veo3.1', seconds: 5, size: '960x960' });
    expect(res.statusCode).toBe(422);
    expect(errorsOf(res)).toEqual([
      { path: 'video.seconds', message: 'runway/veo3.1 renders 4, 6, 8 s, not 5' },
      {
        path: 'video.size',
        message: 'runway/veo3.1 renders 1280x720, 720x1280, 1080x1920, 1920x1080, not 960x960',
      },
    ]);
    const unknown = await create({
      provider: 'runway',
      model: 'gen3a',
      seconds: 5,
      size: '1280x720',
    });
    expect(errorsOf(unknown)).toEqual([
      {
        path: 'video.model',
        message:
          'provider runway has no model gen3a (known: gen4.5, gen4_turbo, veo3.1, veo3.1_fast)',
      },
    ]);
  });

  it('names the field and lists the allowed values (fal)', async () => {
    const res = await create({
      provider: 'fal',
      model: 'fal-ai/veo3.1',
      seconds: 5,
      size: '1080x1080',
    });
    expect(res.statusCode).toBe(422);
    expect(errorsOf(res).map((e) => e.path)).toEqual(['video.seconds', 'video.size']);
    expect(errorsOf(res)[0]!.message).toBe('fal/fal-ai/veo3.1 renders 4, 6, 8 s, not 5');
    expect(errorsOf(res)[1]!.message).toMatch(
      /^fal\/fal-ai\/veo3\.1 renders 1280x720, .*not 1080x1080$/,
    );
  });

  it('refuses a text-to-video request to an image-only model, naming the reference field', async () => {
    for (const video of [
      { provider: 'runway', model: 'gen4_turbo', seconds: 5, size: '1280x720' },
      { provider: 'fal', model: 'fal-ai/pika/v2.2/image-to-video', seconds: 5, size: '720x1280' },
    ]) {
      const res = await create(video);
      expect(res.statusCode).toBe(422);
      expect(errorsOf(res)).toEqual([
        {
          path: 'video.reference_asset_id',
          message: `${video.provider}/${video.model} renders only from an image: set video.reference_asset_id`,
        },
      ]);
    }
  });

  it('takes a reference image of the tenant where the model takes one, and exposes it', async () => {
    const image = await uploadImage(auth);
    const turbo = await create({
      provider: 'runway',
      model: 'gen4_turbo',
      seconds: 5,
      size: '960x960',
      reference_asset_id: image,
    });
    expect(turbo.statusCode).toBe(201);
    expect(turbo.json().video).toMatchObject({ model: 'gen4_turbo', reference_asset_id: image });
    // gen4.5 takes 960x960 only from an image.
    const text = await create({ provider: 'runway', seconds: 5, size: '960x960' });
    expect(errorsOf(text)).toEqual([
      {
        path: 'video.size',
        message: 'runway/gen4.5 renders 1280x720, 720x1280, not 960x960',
      },
    ]);
    const fromImage = await create({
      provider: 'runway',
      seconds: 5,
      size: '960x960',
      reference_asset_id: image,
    });
    expect(fromImage.statusCode).toBe(201);
    // A model that takes no image refuses one rather than ignoring it.
    const local = await create({
      provider: 'local',
      model: 'card-v1',
      seconds: 4,
      size: '720x1280',
      reference_asset_id: image,
    });
    expect(local.statusCode).toBe(422);
    expect(errorsOf(local)).toEqual([
      {
        path: 'video.reference_asset_id',
        message: 'local/card-v1 does not take a first-frame image',
      },
    ]);
    // PATCH null removes it; the model must then render from text.
    const id = fromImage.json().id;
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/campaigns/${id}`,
      headers: { authorization: auth },
      payload: { video: { size: '1280x720', reference_asset_id: null } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().video.reference_asset_id).toBeNull();
  });

  it("refuses another tenant's asset and unknown ids as unknown, naming the field", async () => {
    const other = await t.key('video-other-co');
    const theirs = await uploadImage(other);
    for (const id of [theirs, 'ast_doesnotexist']) {
      const res = await create({
        provider: 'runway',
        model: 'gen4_turbo',
        seconds: 5,
        size: '1280x720',
        reference_asset_id: id,
      });
      expect(res.statusCode).toBe(422);
      expect(errorsOf(res)).toEqual([
        { path: 'video.reference_asset_id', message: `unknown asset ${id}` },
      ]);
    }
    const malformed = await create({
      provider: 'runway',
      model: 'gen4_turbo',
      seconds: 5,
      size: '1280x720',
      reference_asset_id: 'logo.png',
    });
    expect(malformed.statusCode).toBe(400);
  });
});

describe('a provider that is not configured', () => {
  let bare: TestApp;
  let bareAuth: string;
  beforeAll(async () => {
    bare = await createTestApp({ FAL_KEY: 'fal-test' });
    bareAuth = await bare.key('bare-co');
  });
  afterAll(() => bare.close());

  it('is a 422 naming video.provider with the configured providers, never a fallback', async () => {
    for (const provider of ['runway', 'openai']) {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { authorization: bareAuth },
        payload: { ...campaignBody, video: { provider, seconds: 8, size: '1280x720' } },
      });
      expect(res.statusCode).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(errorsOf(res)).toEqual([
        {
          path: 'video.provider',
          message: `provider ${provider} is not configured on this deployment (configured: local, fal)`,
        },
      ]);
    }
  });
});
