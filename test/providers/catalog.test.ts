import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildCatalog, checkVideo, configuredProviders } from '../../src/providers/catalog.ts';
import { falCatalog, falInput } from '../../src/providers/fal/catalog.ts';
import { checkRunwayRequest, RUNWAY_MODELS } from '../../src/providers/runway/catalog.ts';

const catalog = buildCatalog(
  loadConfig({
    DATABASE_URL: 'postgres://h/db',
    REDIS_URL: 'redis://h',
    OPENAI_API_KEY: 'sk',
    RUNWAYML_API_SECRET: 'k',
    FAL_KEY: 'f',
  }),
);

const seconds = Array.from({ length: 17 }, (_, i) => i);

describe('the catalog speaks for each provider module', () => {
  it("agrees with Runway's own request check on every model, length, size and mode", () => {
    const sizes = new Set(['999x999']);
    for (const m of Object.values(RUNWAY_MODELS))
      for (const s of [...m.sizes.textToVideo, ...m.sizes.imageToVideo]) sizes.add(s);
    let compared = 0;
    for (const model of Object.keys(RUNWAY_MODELS))
      for (const s of seconds)
        for (const size of sizes)
          for (const hasImage of [false, true]) {
            const req = { model, seconds: s, size, hasImage };
            const theirs = checkRunwayRequest(RUNWAY_MODELS, req).map((e) => e.path);
            const ours = checkVideo(catalog, { provider: 'runway', ...req });
            expect(ours.ok ? [] : ours.errors.map((e) => e.path), JSON.stringify(req)).toEqual(
              theirs,
            );
            compared++;
          }
    expect(compared).toBeGreaterThan(500);
  });

  it("accepts exactly what fal's input mapping accepts", () => {
    for (const model of Object.values(falCatalog))
      for (const s of seconds)
        for (const size of [...Object.keys(model.sizes), '999x999']) {
          const hasImage = model.mode === 'i2v';
          const mapped = falInput(model, {
            prompt: 'p',
            seconds: s,
            size,
            ...(hasImage ? { imageUrl: 'https://example.com/a.png' } : {}),
          });
          const ours = checkVideo(catalog, {
            provider: 'fal',
            model: model.id,
            seconds: s,
            size,
            hasImage,
          });
          expect(ours.ok, `${model.id} ${s} ${size}`).toBe('input' in mapped);
        }
  });

  it('knows which providers a deployment has keys for', () => {
    expect(configuredProviders({})).toEqual(['local']);
    expect(configuredProviders({ RUNWAYML_API_SECRET: 'k', FAL_KEY: 'f' })).toEqual([
      'local',
      'runway',
      'fal',
    ]);
    expect(configuredProviders({ OPENAI_API_KEY: 'sk' })).toEqual(['local', 'openai']);
  });
});
