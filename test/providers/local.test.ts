import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  createMedia,
  defaultMediaBinaries,
  type Media,
  type RenderMotionOptions,
} from '../../src/media/index.ts';
import { createLocalProvider, keyWords } from '../../src/providers/local/adapter.ts';
import { createProviders } from '../../src/providers/registry.ts';
import { hasFtyp } from '../fake-provider/index.ts';
import { collect, providerError, spec } from './helpers.ts';

const base = createMedia(defaultMediaBinaries());
let renders: { lines: readonly string[]; background: string }[] = [];
let motions: RenderMotionOptions[] = [];
// Counts renders without changing what they do.
const media: Media = {
  ...base,
  renderCard: (opts) => {
    renders.push({ lines: opts.lines, background: opts.background });
    return base.renderCard(opts);
  },
  renderMotion: (opts) => {
    motions.push(opts);
    return base.renderMotion(opts);
  },
};

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'amx-local-'));
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

describe('keyWords', () => {
  it('keeps the meaningful words in order, without repeats or the Avoid line', () => {
    expect(
      keyWords(
        'A cinematic shot of a Golden Retriever running on the beach at sunset, the beach is calm.\nAvoid: alcohol, smoking.',
      ),
    ).toEqual(['Golden', 'Retriever', 'running', 'beach', 'sunset', 'calm']);
  });

  it('stops at the limit and copes with punctuation and other scripts', () => {
    expect(keyWords('Café — “déjà vu”, 50% off! Ölçü; one two three four', 4)).toEqual([
      'Café',
      'déjà',
      'vu',
      '50',
    ]);
    expect(keyWords('the of and')).toEqual([]);
  });
});

describe('local provider', () => {
  it('renders a real MP4 of the requested size and length, once per variant', async () => {
    renders = [];
    const provider = createLocalProvider({ media, workDir });
    const s = spec({
      model: 'card-v1',
      seconds: 3,
      size: '640x360',
      prompt: 'Fresh lemonade on a hot summer day',
      background: '#225588',
    });

    const { jobId } = await provider.submit(s);
    expect(jobId).toBe(`local_${s.variantId}`);
    expect(renders).toEqual([
      { lines: ['Fresh', 'lemonade', 'hot', 'summer', 'day'], background: '#225588' },
    ]);
    const file = join(workDir, 'local', `${s.variantId}.mp4`);
    const probed = await media.probe(file);
    expect(probed).toMatchObject({ width: 640, height: 360, video_codec: 'h264' });
    expect(probed.duration_s).toBeGreaterThan(2.9);
    expect(probed.duration_s).toBeLessThan(3.1);
    expect(await provider.status(jobId)).toEqual({ state: 'completed', progress: 100 });

    const before = await stat(file);
    expect(await provider.submit(s)).toEqual({ jobId });
    expect(await provider.findExisting(s, { since: new Date() })).toEqual({ jobId });
    expect(
      await provider.findExisting(s, { since: new Date(), exclude: new Set([jobId]) }),
    ).toBeNull();
    expect(renders).toHaveLength(1);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);

    const video = await collect(await provider.download(jobId, 'video'));
    expect(hasFtyp(video.bytes)).toBe(true);
    expect(video.bytes.length).toBe(before.size);
    const thumb = await collect(await provider.download(jobId, 'thumbnail'));
    expect([...thumb.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('draws the given captions and shares one render between concurrent submits', async () => {
    renders = [];
    const provider = createLocalProvider({ media, workDir });
    const s = spec({
      model: 'card-v1',
      seconds: 1,
      size: '320x180',
      captions: ['Summer', ' ', 'Beach'],
    });
    const [a, b] = await Promise.all([provider.submit(s), provider.submit(s)]);
    expect(a).toEqual(b);
    expect(renders).toHaveLength(1);
    expect(renders[0]?.lines).toEqual(['Summer', 'Beach']);
  });

  it('motion-v1 draws the product image, key message and CTA; equal specs give equal bytes', async () => {
    motions = [];
    const provider = createLocalProvider({ media, workDir });
    expect(provider.takesImage?.('motion-v1')).toBe(true);
    expect(provider.takesImage?.('card-v1')).toBe(false);
    const { stdout: png } = await base.runner.ffmpeg(
      ['-f', 'lavfi', '-i', 'color=c=red:s=200x150', '-frames:v', '1'].concat([
        '-f',
        'image2pipe',
        '-vcodec',
        'png',
        '-',
      ]),
      { captureStdout: true },
    );
    const image = { bytes: png, contentType: 'image/png', width: 200, height: 150, sha256: 'x' };
    const same = {
      model: 'motion-v1',
      seconds: 1,
      size: '360x640',
      prompt: 'A bold ad for Fizz in Paris',
      captions: ['Bold', 'Paris'],
      background: '#225588',
      keyMessage: 'Cold fizz',
      callToAction: 'Order now',
      image,
    };
    const a = spec(same);
    const b = spec(same);
    await provider.submit(a);
    await provider.submit(b);
    expect(motions).toHaveLength(2);
    expect(motions[0]).toMatchObject({
      kicker: 'Bold · Paris',
      headline: 'Cold fizz',
      cta: 'Order now',
      background: '#225588',
    });
    expect(motions[0]?.image).toMatch(/\.image$/);
    const bytes = async (v: string) =>
      (await collect(await provider.download(`local_${v}`, 'video'))).bytes;
    const [va, vb] = [await bytes(a.variantId), await bytes(b.variantId)];
    expect(va.length).toBeGreaterThan(1000);
    expect(Buffer.compare(va, vb)).toBe(0);
    // The image's temp copy is gone once the render is.
    expect((await readdir(join(workDir, 'local'))).filter((f) => f.endsWith('.image'))).toEqual([]);
  });

  it('knows nothing of a variant it never rendered', async () => {
    const provider = createLocalProvider({ media, workDir });
    const s = spec();
    expect(await provider.findExisting(s, { since: new Date(0) })).toBeNull();
    expect(await provider.status(`local_${s.variantId}`)).toMatchObject({
      state: 'failed',
      error: { code: 'not_found' },
    });
    expect(await providerError(provider.download(`local_${s.variantId}`, 'video'))).toMatchObject({
      kind: 'permanent',
      code: 'not_found',
    });
  });

  it('refuses ids that could leave its directory and sizes it cannot draw', async () => {
    const provider = createLocalProvider({ media, workDir });
    expect(await providerError(provider.submit(spec({ variantId: '../escape' })))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_variant_id',
    });
    expect(await providerError(provider.status('local_../../etc/passwd'))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_job_id',
    });
    expect(await providerError(provider.download('video_123', 'video'))).toMatchObject({
      code: 'invalid_job_id',
    });
    expect(await providerError(provider.submit(spec({ size: 'big' })))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_size',
    });
    expect(await providerError(provider.submit(spec({ size: '321x180' })))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_input',
    });
  });

  it('an aborted render leaves no file behind and can be submitted again', async () => {
    const provider = createLocalProvider({ media, workDir });
    const s = spec({ seconds: 1, size: '320x180' });
    const e = await providerError(provider.submit(s, { signal: AbortSignal.abort() }));
    expect(e).toMatchObject({ kind: 'transient', code: 'aborted' });
    const left = (await readdir(join(workDir, 'local'))).filter((f) => f.includes(s.variantId));
    expect(left).toEqual([]);
    expect(await provider.findExisting(s, { since: new Date(0) })).toBeNull();
    await provider.submit(s);
    expect((await provider.status(`local_${s.variantId}`)).state).toBe('completed');
  });
});

describe('createProviders', () => {
  const env = (extra: Record<string, string> = {}) =>
    loadConfig({ DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h', ...extra });

  it('always has local; openai only when configured', async () => {
    const without = createProviders(env(), { media, workDir });
    expect((await without.get('local')).name).toBe('local');
    expect(without.has('openai')).toBe(false);
    await expect(without.get('openai')).rejects.toMatchObject({
      kind: 'permanent',
      code: 'provider_not_configured',
    });

    const both = createProviders(
      env({
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
        OPENAI_WEBHOOK_SECRET: 'whsec_c2VjcmV0',
      }),
      { media, workDir },
    );
    expect(both.names().sort()).toEqual(['local', 'openai']);
    expect((await both.get('openai')).verifyWebhook).toBeTypeOf('function');
    expect((await both.get('local')).verifyWebhook).toBeUndefined();
    // Built once, then kept.
    expect(await both.get('openai')).toBe(await both.get('openai'));
  });
});
