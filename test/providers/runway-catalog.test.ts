import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  checkRunwayRequest,
  RUNWAY_MODELS,
  runwayPriceUsd,
  toLegacyModelSpecs,
} from '../../src/providers/runway/catalog.ts';
import { runwayConfigFrom } from '../../src/providers/runway/config.ts';
import { FAKE_MODELS } from '../fake-runway/index.ts';

const base = { DATABASE_URL: 'postgres://u@h/d', REDIS_URL: 'redis://h' };

describe('runway catalog', () => {
  it('offers each model exactly the ratios, lengths and modes Runway (as faked) accepts', () => {
    for (const [name, spec] of Object.entries(RUNWAY_MODELS)) {
      const fake = FAKE_MODELS[name];
      expect(fake, name).toBeDefined();
      expect(spec.ratios.textToVideo, name).toEqual(fake?.t2v ?? []);
      expect(spec.ratios.imageToVideo, name).toEqual(fake?.i2v);
      expect(spec.seconds, name).toEqual(fake?.durations);
      expect(spec.textToVideo, name).toBe(fake?.t2v !== null);
      expect(spec.sizes.imageToVideo.every((s) => /^\d+x\d+$/.test(s))).toBe(true);
    }
  });

  it('names the field and the allowed values of what a model cannot do', () => {
    expect(
      checkRunwayRequest(RUNWAY_MODELS, {
        model: 'veo3.1',
        seconds: 5,
        size: '960x960',
        hasImage: false,
      }),
    ).toEqual([
      { path: 'video.seconds', message: 'runway/veo3.1 renders 4, 6, 8 s, not 5' },
      {
        path: 'video.size',
        message: 'runway/veo3.1 renders 1280x720, 720x1280, 1080x1920, 1920x1080, not 960x960',
      },
    ]);
    expect(
      checkRunwayRequest(RUNWAY_MODELS, {
        model: 'gen4.5',
        seconds: 5,
        size: '960x960',
        hasImage: true,
      }),
    ).toEqual([]);
    expect(
      checkRunwayRequest(RUNWAY_MODELS, {
        model: 'gen5',
        seconds: 5,
        size: '1280x720',
        hasImage: false,
      })[0],
    ).toMatchObject({
      path: 'video.model',
      message: expect.stringMatching(/known: gen4\.5, gen4_turbo/),
    });
    expect(
      checkRunwayRequest(RUNWAY_MODELS, {
        model: 'gen4_turbo',
        seconds: 5,
        size: '1280x720',
        hasImage: false,
      }),
    ).toEqual([
      {
        path: 'video.reference_asset_id',
        message: 'runway/gen4_turbo renders only from an image: set video.reference_asset_id',
      },
    ]);
  });

  it('prices credits per second at $0.01, with audio where the model has it', () => {
    expect(runwayPriceUsd(RUNWAY_MODELS, { model: 'gen4.5', seconds: 10 })).toBe(1.2);
    expect(runwayPriceUsd(RUNWAY_MODELS, { model: 'veo3.1', seconds: 8 })).toBe(1.6);
    expect(runwayPriceUsd(RUNWAY_MODELS, { model: 'veo3.1', seconds: 8, audio: true })).toBe(3.2);
    expect(toLegacyModelSpecs(RUNWAY_MODELS).gen4_turbo).toEqual({
      seconds: RUNWAY_MODELS.gen4_turbo.seconds,
      pricePerSecond: Object.fromEntries(
        ['1280x720', '720x1280', '1104x832', '960x960', '832x1104', '1584x672'].map((s) => [
          s,
          0.05,
        ]),
      ),
    });
  });
});

describe('runway config', () => {
  it('is off without a key, and takes the SDK’s own names and per-provider limits', () => {
    expect(runwayConfigFrom(loadConfig(base))).toBeNull();
    const env = loadConfig({
      ...base,
      RUNWAYML_API_SECRET: 'key_x',
      RUNWAYML_BASE_URL: 'http://127.0.0.1:4020/',
      RUNWAY_MAX_CONCURRENT: '3',
      RUNWAY_DAILY_LIMIT: '50',
    });
    expect(runwayConfigFrom(env)).toEqual({
      apiKey: 'key_x',
      baseURL: 'http://127.0.0.1:4020',
      limits: { rpm: 60, maxConcurrent: 3, dailyLimit: 50 },
    });
  });

  it('refuses a base URL ending in /v1, which the SDK would double', () => {
    expect(() =>
      loadConfig({ ...base, RUNWAYML_BASE_URL: 'https://api.dev.runwayml.com/v1' }),
    ).toThrow(/RUNWAYML_BASE_URL: the base has no \/v1/);
  });
});
