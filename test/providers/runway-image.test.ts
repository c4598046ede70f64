import RunwayML from '@runwayml/sdk';
import { describe, expect, it } from 'vitest';
import {
  createRunwayProvider,
  runwayCanFetch,
  runwayImageInput,
} from '../../src/providers/runway/index.ts';
import { startFakeRunway } from '../fake-runway/index.ts';
import { firstFrame, onCleanup, providerError, spec } from './helpers.ts';

const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('runway image input', () => {
  it('uses a public HTTPS URL on a domain, else the bytes as a data URI', () => {
    expect(runwayCanFetch('https://cdn.example.com/a.png')).toBe(true);
    for (const url of [
      'http://cdn.example.com/a.png',
      'https://10.0.0.2/a.png',
      'https://[::1]/a',
      'https://localhost/a',
    ])
      expect(runwayCanFetch(url), url).toBe(false);
    const url = 'https://admatrix.example.com/v1/assets/x?sig=1';
    expect(runwayImageInput({ url, bytes: png, contentType: 'image/png' })).toEqual({ url });
    expect(
      runwayImageInput({ url: 'http://127.0.0.1:3000/a', bytes: png, contentType: 'image/png' }),
    ).toEqual({
      dataUri: `data:image/png;base64,${png.toString('base64')}`,
    });
  });

  it('refuses what Runway would not take, naming why', async () => {
    expect(() => runwayImageInput({ bytes: png, contentType: 'image/gif' })).toThrow(
      /JPEG, PNG or WebP/,
    );
    const big = Buffer.alloc(4 * 1024 * 1024); // 5.33 MB once base64-encoded
    const err = await providerError(
      Promise.resolve().then(() => runwayImageInput({ bytes: big, contentType: 'image/jpeg' })),
    );
    expect(err).toMatchObject({ kind: 'permanent', code: 'image_too_large' });
    expect(err.message).toMatch(/PUBLIC_URL/);
  });

  it('is accepted by the fake as Runway would, data URI or URL', async () => {
    const fake = await startFakeRunway({ mediaMatchesRequest: false });
    onCleanup(() => fake.close());
    const provider = createRunwayProvider({
      client: new RunwayML({ apiKey: fake.apiKey, baseURL: fake.url }),
    });
    const base = { model: 'gen4.5', seconds: 5, size: '832x1104' };
    await provider.submit(spec({ ...base, image: firstFrame() }));
    await provider.submit(
      spec({ ...base, image: firstFrame({ url: 'https://cdn.example.com/p.png' }) }),
    );
    expect(fake.createCalls.map((c) => [c.route, c.status])).toEqual([
      ['image_to_video', 200],
      ['image_to_video', 200],
    ]);
  });

  it('the fake refuses what Runway would: bytes unlike their type, URLs that redirect or lack a length', async () => {
    const served: Record<string, () => Response> = {
      'https://cdn.example.com/ok.png': () =>
        new Response(png, {
          headers: { 'content-type': 'image/png', 'content-length': String(png.length) },
        }),
      'https://cdn.example.com/moved.png': () =>
        new Response(null, {
          status: 302,
          headers: { location: 'https://cdn.example.com/ok.png' },
        }),
      'https://cdn.example.com/nolength.png': () =>
        new Response(null, { headers: { 'content-type': 'image/png' } }),
    };
    const fake = await startFakeRunway({
      mediaMatchesRequest: false,
      fetchImage: async (url) => served[url]?.() ?? new Response(null, { status: 404 }),
    });
    onCleanup(() => fake.close());
    const provider = createRunwayProvider({
      client: new RunwayML({ apiKey: fake.apiKey, baseURL: fake.url }),
    });
    const base = { model: 'gen4.5', seconds: 5, size: '832x1104' };
    const jpegLabel = await providerError(
      provider.submit(spec({ ...base, image: firstFrame({ contentType: 'image/jpeg' }) })),
    );
    expect(jpegLabel).toMatchObject({ kind: 'permanent', status: 400 });
    expect(jpegLabel.message).toMatch(/not a valid image\/jpeg/);
    for (const url of [
      'https://cdn.example.com/moved.png',
      'https://cdn.example.com/nolength.png',
    ]) {
      const e = await providerError(provider.submit(spec({ ...base, image: firstFrame({ url }) })));
      expect(e, url).toMatchObject({ kind: 'permanent', status: 400 });
    }
    await provider.submit(
      spec({ ...base, image: firstFrame({ url: 'https://cdn.example.com/ok.png' }) }),
    );
    expect(fake.createCalls.map((c) => c.status)).toEqual([400, 400, 400, 200]);
    expect(fake.createCalls[3]!.image).toMatchObject({
      source: 'url',
      type: 'image/png',
      width: 1,
    });
    expect(fake.tasks.size).toBe(1);
  });
});
