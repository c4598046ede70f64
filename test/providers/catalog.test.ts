import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildCatalog, checkVideo, configuredProviders } from '../../src/providers/catalog.ts';
import { falCatalog, falInput } from '../../src/providers/fal/catalog.ts';
import { checkRunwayRequest, RUNWAY_MODELS } from '../../src/providers/runway/catalog.ts';
import {
  RUNWAY_INLINE_IMAGE_MAX_BYTES,
  runwayImageInput,
} from '../../src/providers/runway/image.ts';

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

  it("holds a first frame to Runway's inline limit only where no HTTPS link can be given", () => {
    const over = RUNWAY_INLINE_IMAGE_MAX_BYTES + 1;
    const req = { provider: 'runway', seconds: 5, size: '1280x720', hasImage: true };
    const at = checkVideo(catalog, { ...req, imageBytes: RUNWAY_INLINE_IMAGE_MAX_BYTES });
    expect(at.ok).toBe(true);
    const inline = checkVideo(catalog, { ...req, imageBytes: over });
    expect(inline.ok ? [] : inline.errors.map((e) => e.path)).toEqual(['video.reference_asset_id']);
    expect(checkVideo(catalog, { ...req, imageBytes: over, imageByUrl: true }).ok).toBe(true);
    // Other providers take it inline at any size; so does Runway without an image.
    for (const other of [
      { provider: 'fal', model: 'fal-ai/pika/v2.2/image-to-video', seconds: 5, size: '1280x720' },
      { provider: 'openai', seconds: 4, size: '1280x720' },
    ])
      expect(checkVideo(catalog, { ...other, hasImage: true, imageBytes: over }).ok).toBe(true);
    // The limit agrees with the adapter's: the largest image passes as a data URI, one more fails.
    const webp = (n: number) => ({ bytes: Buffer.alloc(n), contentType: 'image/webp' });
    expect(runwayImageInput(webp(RUNWAY_INLINE_IMAGE_MAX_BYTES))).toHaveProperty('dataUri');
    expect(() => runwayImageInput(webp(over))).toThrow(/5 MB/);
  });
});
