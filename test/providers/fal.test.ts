import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createMedia, defaultMediaBinaries } from '../../src/media/index.ts';
import { createFalProvider } from '../../src/providers/fal/adapter.ts';
import {
  AMBIGUOUS_CREATE,
  type ProviderStatus,
  type VideoProvider,
} from '../../src/providers/types.ts';
import { type FakeFalOptions, startFakeFal } from '../fake-fal/index.ts';
import { hasFtyp, waitUntil } from '../fake-provider/index.ts';
import { firstFrame, ONE_PIXEL_PNG, onCleanup, providerError, spec } from './helpers.ts';

const media = createMedia(defaultMediaBinaries());
const T2V = 'fal-ai/pika/v2.2/text-to-video';
const I2V = 'fal-ai/pika/v2.2/image-to-video';

async function setup(opts: FakeFalOptions = {}) {
  const fake = await startFakeFal(opts);
  onCleanup(() => fake.close());
  const provider = createFalProvider({ key: 'k', queueUrl: fake.queueUrl, jwksUrl: fake.jwksUrl });
  return { fake, provider };
}

const falSpec = (o: Parameters<typeof spec>[0] = {}) =>
  spec({ model: T2V, seconds: 5, size: '1280x720', ...o });

async function settled(provider: VideoProvider, jobId: string): Promise<ProviderStatus> {
  return waitUntil(
    async () => {
      const s = await provider.status(jobId);
      return s.state === 'completed' || s.state === 'failed' ? s : undefined;
    },
    { what: `${jobId} to settle`, timeoutMs: 10_000 },
  );
}

describe('fal provider against the fake queue', () => {
  it('submits text-to-video once, maps the spec, walks IN_QUEUE → IN_PROGRESS → COMPLETED', async () => {
    const { fake, provider } = await setup({ defaults: { queuedMs: 150, renderMs: 300 } });
    expect(provider.searchable).toBe(false);
    const s = falSpec({
      prompt: 'a red bicycle',
      size: '720x1280',
      seconds: 10,
      deadlineSeconds: 600,
    });
    const { jobId } = await provider.submit(s);
    expect(jobId).toMatch(/^fal-ai\/pika\|[0-9a-f-]{36}$/);
    expect(fake.createCount('a red bicycle')).toBe(1);
    expect(fake.createCalls[0]).toMatchObject({
      endpoint: T2V,
      requestTimeout: '600',
      webhookUrl: undefined,
      input: { prompt: 'a red bicycle', duration: 10, aspect_ratio: '9:16', resolution: '720p' },
    });
    const seen: string[] = [];
    await waitUntil(async () => {
      const st = await provider.status(jobId);
      if (seen.at(-1) !== st.state) seen.push(st.state);
      return st.state === 'completed';
    });
    expect(seen).toEqual(['queued', 'in_progress', 'completed']);
  });

  it('hands image-to-video its first frame, and refuses it without one before calling fal', async () => {
    const url = 'https://cdn.example.com/product.png';
    const image = firstFrame({ url });
    // fal's runner downloads the URL: here it reaches the image at that address.
    const { fake, provider } = await setup({
      fetchImage: async (u) =>
        u === url ? new Response(new Uint8Array(image.bytes)) : new Response(null, { status: 404 }),
    });
    const { jobId } = await provider.submit(falSpec({ model: I2V, prompt: 'i2v', image }));
    expect(fake.createCalls[0]).toMatchObject({
      endpoint: I2V,
      input: { image_url: url },
      image: { source: 'url', type: 'image/png', sha256: image.sha256 },
    });
    expect((await settled(provider, jobId)).state).toBe('completed');
    // Without a public URL the bytes go inline, and arrive intact.
    const inline = firstFrame();
    await provider.submit(falSpec({ model: I2V, prompt: 'inline', image: inline }));
    expect(fake.createCalls[1]).toMatchObject({
      input: { image_url: `data:image/png;base64,${ONE_PIXEL_PNG.toString('base64')}` },
      image: { source: 'data_uri', type: 'image/png', sha256: inline.sha256 },
    });
    // A text-to-video model is handed no image field at all.
    await provider.submit(falSpec({ prompt: 'text only', image: inline }));
    expect(fake.createCalls[2]!.input).not.toHaveProperty('image_url');
    expect(provider.takesImage?.(I2V)).toBe(true);
    expect(provider.takesImage?.(T2V)).toBe(false);

    const e = await providerError(provider.submit(falSpec({ model: I2V, prompt: 'no image' })));
    expect(e).toMatchObject({ kind: 'permanent', code: 'image_required' });
    const size = await providerError(provider.submit(falSpec({ size: '640x360' })));
    expect(size).toMatchObject({ kind: 'permanent', code: 'unsupported_size' });
    expect(fake.createCalls).toHaveLength(3);
  });

  it('maps each catalog model\'s duration spelling (Veo "8s", Kling "5")', async () => {
    const { fake, provider } = await setup();
    await provider.submit(falSpec({ model: 'fal-ai/veo3.1', seconds: 8, prompt: 'veo' }));
    await provider.submit(
      falSpec({
        model: 'fal-ai/kling-video/v2.6/pro/text-to-video',
        size: '1080x1080',
        prompt: 'kling',
      }),
    );
    expect(fake.createCalls.map((c) => c.input)).toEqual([
      {
        prompt: 'veo',
        duration: '8s',
        aspect_ratio: '16:9',
        resolution: '720p',
        generate_audio: false,
      },
      { prompt: 'kling', duration: '5', aspect_ratio: '1:1', generate_audio: false },
    ]);
  });

  it('completes and streams the real MP4 at the asked size and length', async () => {
    const { provider } = await setup();
    const { jobId } = await provider.submit(falSpec({ prompt: 'download me' }));
    expect(await settled(provider, jobId)).toEqual({
      state: 'completed',
      progress: 100,
      raw: { status: 'COMPLETED' },
    });
    const dir = await mkdtemp(join(tmpdir(), 'amx-fal-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'v.mp4');
    await pipeline(await provider.download(jobId, 'video'), createWriteStream(out));
    expect(hasFtyp(await readFile(out))).toBe(true);
    const probed = await media.probe(out);
    expect(probed).toMatchObject({ width: 1280, height: 720, video_codec: 'h264' });
    expect(probed.duration_s).toBeGreaterThan(4.9);
    expect(probed.duration_s).toBeLessThan(5.2);
  });

  it("reports a content-policy 422 as moderation_blocked with fal's detail kept", async () => {
    const { provider } = await setup();
    const { jobId } = await provider.submit(falSpec({ prompt: 'bad [content-policy]' }));
    const s = await settled(provider, jobId);
    expect(s).toMatchObject({
      state: 'failed',
      error: { code: 'moderation_blocked' },
      raw: { status: 'COMPLETED', code: 'content_policy_violation' },
    });
    expect(s.error?.message).toContain('violence');
    const e = await providerError(provider.download(jobId, 'video'));
    expect(e).toMatchObject({ kind: 'permanent', code: 'moderation_blocked' });
  });

  it('treats a 504 result as transient, another model error as a failure', async () => {
    const { provider } = await setup();
    const slow = await provider.submit(falSpec({ prompt: 'slow [504]' }));
    const e = await waitUntil(async () => {
      try {
        await provider.status(slow.jobId);
        return undefined;
      } catch (err) {
        return err;
      }
    });
    expect(e).toMatchObject({ kind: 'transient', code: 'request_timeout', status: 504 });

    const bad = await provider.submit(falSpec({ prompt: 'x [model-error]' }));
    expect(await settled(provider, bad.jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'image_load_error' },
    });
  });

  it('cancels a queued request; cancelling a finished one is a no-op', async () => {
    const { fake, provider } = await setup({ maxConcurrent: 1 });
    const first = await provider.submit(falSpec({ prompt: 'hog [never]' }));
    const second = await provider.submit(falSpec({ prompt: 'waiting' }));
    await waitUntil(async () => (await provider.status(first.jobId)).state === 'in_progress');
    expect((await provider.status(second.jobId)).state).toBe('queued');
    await provider.cancel!(second.jobId);
    expect(
      fake.log.some((l) => l.method === 'PUT' && l.url.endsWith('/cancel') && l.status === 202),
    ).toBe(true);
    expect((await provider.status(second.jobId)).state).toBe('failed');
    await provider.cancel!(second.jobId);
    expect(fake.peakConcurrent).toBe(1);
  });

  it('a dropped submit reply: exactly one create reached fal, and the adapter says ambiguous', async () => {
    const { fake, provider } = await setup();
    const e = await providerError(provider.submit(falSpec({ prompt: 'lost [drop]' })));
    expect(e.code).toBe(AMBIGUOUS_CREATE);
    expect(fake.createCount('lost [drop]')).toBe(1);
    // The render exists and runs: it would be paid for a second time by a retry.
    expect(fake.requests.size).toBe(1);
    const f = await providerError(provider.submit(falSpec({ prompt: 'gateway [submit-500]' })));
    expect(f).toMatchObject({ code: AMBIGUOUS_CREATE, status: 500 });
    expect(fake.createCount('gateway [submit-500]')).toBe(1);
    await expect(provider.findExisting(falSpec(), { since: new Date() })).rejects.toMatchObject({
      kind: 'permanent',
      code: 'not_searchable',
    });
  });

  it('connection refused is transient (nothing sent); 429 carries Retry-After; 401 is permanent', async () => {
    const port = await freePort();
    const down = createFalProvider({ key: 'k', queueUrl: `http://127.0.0.1:${port}` });
    const e = await providerError(down.submit(falSpec()));
    expect(e).toMatchObject({ kind: 'transient', code: 'unreachable' });

    const { fake } = await setup({ key: 'right' });
    const wrong = createFalProvider({ key: 'wrong', queueUrl: fake.queueUrl });
    expect(await providerError(wrong.submit(falSpec()))).toMatchObject({
      kind: 'permanent',
      code: 'unauthorized',
      status: 401,
    });
    const right = createFalProvider({ key: 'right', queueUrl: fake.queueUrl });
    expect(await providerError(right.submit(falSpec({ prompt: 'busy [429]' })))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 7000,
    });
  });

  it('expired media and results: permanent, never retried into a second render', async () => {
    const { fake, provider } = await setup({ resultTtlMs: 200 });
    const { jobId } = await provider.submit(falSpec({ prompt: 'short-lived' }));
    expect((await settled(provider, jobId)).state).toBe('completed');
    fake.setMediaTtlMs(0);
    await waitUntil(async () => {
      const r = await fetch(`${fake.queueUrl}/media/${jobId.split('|')[1]}.mp4`);
      await r.arrayBuffer();
      return r.status === 404;
    });
    expect(await providerError(provider.download(jobId, 'video'))).toMatchObject({
      kind: 'permanent',
      code: 'expired',
    });
    // Another worker, without the cached URL, reads the result: gone after its lifetime.
    const other = createFalProvider({ key: 'k', queueUrl: fake.queueUrl });
    const gone = await waitUntil(async () => {
      const s = await other.status(jobId);
      return s.error?.code === 'result_expired' ? s : undefined;
    });
    expect(gone.state).toBe('failed');
    expect(fake.createCount()).toBe(1);
  });

  it('a request still queued at its deadline fails as timed out, not as transient', async () => {
    const { fake, provider } = await setup({ maxConcurrent: 1 });
    await provider.submit(falSpec({ prompt: 'hog [never]' }));
    const { jobId } = await provider.submit(falSpec({ prompt: 'late', deadlineSeconds: 0.2 }));
    expect(fake.createCalls[1]!.requestTimeout).toBe('1');
    const s = await settled(provider, jobId);
    expect(s).toMatchObject({ state: 'failed', error: { code: 'request_timeout' } });
  });

  it('registers the webhook URL with the app in its path', async () => {
    const { fake } = await setup();
    const provider = createFalProvider({
      key: 'k',
      queueUrl: fake.queueUrl,
      webhookUrl: 'https://amx.example.com/v1/providers/fal/webhook',
    });
    await provider.submit(falSpec({ prompt: 'hooked' }));
    expect(fake.createCalls[0]!.webhookUrl).toBe(
      'https://amx.example.com/v1/providers/fal/webhook/fal-ai/pika',
    );
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}
