import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/providers/openai.ts';
import {
  AMBIGUOUS_CREATE,
  isAmbiguousCreate,
  type VideoProvider,
} from '../../src/providers/types.ts';
import { hasFtyp, manualClock, waitUntil } from '../fake-provider/index.ts';
import { collect, fakeWith, onCleanup, providerError, spec } from './helpers.ts';

async function untilSettled(provider: VideoProvider, jobId: string) {
  return waitUntil(
    async () => {
      const s = await provider.status(jobId);
      return s.state === 'completed' || s.state === 'failed' ? s : undefined;
    },
    { what: `${jobId} to settle` },
  );
}

describe('openai provider: a render from submit to bytes', () => {
  it('submits once with the spec, reports progress, and streams a real MP4 to a file', async () => {
    const clock = manualClock();
    const { fake, client } = await fakeWith({
      clock: clock.now,
      defaults: { queuedMs: 1000, renderMs: 4000, progressSteps: 4 },
    });
    const provider = createOpenAIProvider({ client, now: clock.now });
    const s = spec({ prompt: 'a red bicycle at dawn', seconds: 8, size: '720x1280' });

    const { jobId } = await provider.submit(s);
    expect(await provider.status(jobId)).toEqual({ state: 'queued', progress: 0 });
    clock.advance(1000);
    expect(await provider.status(jobId)).toEqual({ state: 'in_progress', progress: 0 });
    clock.advance(2000);
    expect(await provider.status(jobId)).toEqual({ state: 'in_progress', progress: 50 });
    clock.advance(2000);
    expect(await provider.status(jobId)).toEqual({ state: 'completed', progress: 100 });

    expect(fake.createCount('a red bicycle at dawn')).toBe(1);
    const call = fake.createCalls[0];
    expect(call).toMatchObject({ model: 'sora-2', seconds: '8', size: '720x1280', videoId: jobId });

    const dir = await mkdtemp(join(tmpdir(), 'amx-openai-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'video.mp4');
    await pipeline(await provider.download(jobId, 'video'), createWriteStream(out));
    expect(hasFtyp(await readFile(out))).toBe(true);

    const thumb = await collect(await provider.download(jobId, 'thumbnail'));
    expect(thumb.bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
  });

  it('hands the body on as it arrives instead of buffering it', async () => {
    const { client } = await fakeWith({
      defaults: { contentChunkBytes: 256, contentChunkDelayMs: 20 },
    });
    const provider = createOpenAIProvider({ client });
    const { jobId } = await provider.submit(spec({ prompt: 'slow body' }));
    await untilSettled(provider, jobId);

    const { bytes, chunks } = await collect(await provider.download(jobId, 'video'));
    expect(hasFtyp(bytes)).toBe(true);
    // A buffered download would arrive as one chunk of the whole file.
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]).toBeLessThan(bytes.length);
  });

  it('reports a render refused by moderation as failed with its code, not as a throw', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[mod]', { outcome: 'failed_moderation' });
    fake.when('[gw-policy]', {
      outcome: 'failed',
      error: { code: 'content_policy_violation', message: 'policy' },
    });
    fake.when('[broken]', { outcome: 'failed' });
    const provider = createOpenAIProvider({ client });

    const mod = await provider.submit(spec({ prompt: 'beer ad [mod]' }));
    const gw = await provider.submit(spec({ prompt: 'beer ad [gw-policy]' }));
    const broken = await provider.submit(spec({ prompt: 'beer ad [broken]' }));

    expect(await untilSettled(provider, mod.jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'moderation_blocked', message: expect.stringContaining('moderation') },
    });
    expect(await untilSettled(provider, gw.jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'moderation_blocked', message: 'policy' },
    });
    expect(await untilSettled(provider, broken.jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'internal_error' },
    });
  });

  it('keeps a never-finishing render in_progress however long it is polled', async () => {
    const clock = manualClock();
    const { fake, client } = await fakeWith({ clock: clock.now });
    fake.when('[never]', { outcome: 'never_finish' });
    const provider = createOpenAIProvider({ client, now: clock.now });
    const { jobId } = await provider.submit(spec({ prompt: 'stuck [never]' }));

    expect((await provider.status(jobId)).state).toBe('queued');
    for (const step of [1_000, 60_000, 3_600_000]) {
      clock.advance(step);
      expect((await provider.status(jobId)).state).toBe('in_progress');
    }
    const e = await providerError(provider.download(jobId, 'video'));
    expect(e).toMatchObject({ kind: 'permanent', code: 'not_ready', status: 404 });
  });

  it('tells an expired download from an unknown video', async () => {
    const clock = manualClock();
    const { client } = await fakeWith({ clock: clock.now, expiresAfterMs: 60_000 });
    const provider = createOpenAIProvider({ client, now: clock.now });
    const { jobId } = await provider.submit(spec({ prompt: 'expires' }));
    clock.advance(61_000);
    expect((await provider.status(jobId)).state).toBe('completed');

    const expired = await providerError(provider.download(jobId, 'video'));
    expect(expired).toMatchObject({ kind: 'permanent', code: 'expired', status: 404 });
    expect(expired.requestId).toMatch(/^req_/);

    const unknown = await providerError(provider.status('video_doesnotexist'));
    expect(unknown).toMatchObject({ kind: 'permanent', code: 'not_found', status: 404 });
    const gone = await providerError(provider.download('video_doesnotexist', 'video'));
    expect(gone).toMatchObject({ kind: 'permanent', code: 'not_found', status: 404 });
  });
});

describe('openai provider: errors at create', () => {
  it('a 400 is permanent and keeps the provider code and request id', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[400]', { outcome: 'reject_400' });
    fake.when('[bad-size]', { outcome: 'reject_400', error: { code: 'invalid_size' } });
    const provider = createOpenAIProvider({ client });

    const moderation = await providerError(provider.submit(spec({ prompt: 'x [400]' })));
    expect(moderation).toMatchObject({
      kind: 'permanent',
      code: 'moderation_blocked',
      status: 400,
    });
    expect(moderation.requestId).toMatch(/^req_/);
    expect(isAmbiguousCreate(moderation)).toBe(false);

    const size = await providerError(provider.submit(spec({ prompt: 'x [bad-size]' })));
    expect(size).toMatchObject({ kind: 'permanent', code: 'invalid_size', status: 400 });

    // The fake's own validation, as a gateway that does not render this size answers it.
    const real = await providerError(provider.submit(spec({ prompt: 'odd', size: '640x480' })));
    expect(real).toMatchObject({ kind: 'permanent', code: 'invalid_value', status: 400 });
    expect(fake.createCount()).toBe(3);
  });

  it('a wrong API key is permanent', async () => {
    const { fake, client } = await fakeWith({ apiKey: 'right' }, { apiKey: 'wrong' });
    const provider = createOpenAIProvider({ client });
    const e = await providerError(provider.submit(spec()));
    expect(e).toMatchObject({ kind: 'permanent', code: 'invalid_api_key', status: 401 });
    expect(fake.videos.size).toBe(0);
  });

  it('a 5xx is transient, ambiguous, and never retried by the SDK', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[500]', { outcome: 'error_5xx' });
    const provider = createOpenAIProvider({ client });
    expect(client.maxRetries).toBe(2);

    const e = await providerError(provider.submit(spec({ prompt: 'boom [500]' })));
    expect(e).toMatchObject({ kind: 'transient', code: AMBIGUOUS_CREATE, status: 500 });
    expect(e.requestId).toMatch(/^req_/);
    expect(fake.createCount('boom [500]')).toBe(1);
  });

  it('a 429 is rate_limited with the wait the gateway asked for, and not retried', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[429]', { outcome: 'rate_limit_429', retryAfterMs: 2500 });
    const provider = createOpenAIProvider({ client });

    const e = await providerError(provider.submit(spec({ prompt: 'busy [429]' })));
    expect(e).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2500, status: 429 });
    expect(isAmbiguousCreate(e)).toBe(false);
    expect(fake.createCount('busy [429]')).toBe(1);
  });

  it('the concurrency cap answers rate_limited too', async () => {
    const { fake, client } = await fakeWith({ maxConcurrent: 1, concurrencyRetryAfterMs: 1500 });
    fake.when('[never]', { outcome: 'never_finish' });
    const provider = createOpenAIProvider({ client });
    await provider.submit(spec({ prompt: 'hog [never]' }));

    const e = await providerError(provider.submit(spec({ prompt: 'second' })));
    expect(e).toMatchObject({ kind: 'rate_limited', code: 'rate_limit_exceeded' });
    expect(e.retryAfterMs).toBe(1500);
    expect(fake.createCount('second')).toBe(1);
  });

  it('an exhausted balance (429 insufficient_quota) is permanent: waiting will not help', async () => {
    const { fake, client } = await fakeWith();
    fake.when('[broke]', { outcome: 'rate_limit_429', error: { code: 'insufficient_quota' } });
    const provider = createOpenAIProvider({ client });
    const e = await providerError(provider.submit(spec({ prompt: 'x [broke]' })));
    expect(e).toMatchObject({ kind: 'permanent', code: 'insufficient_quota', status: 429 });
  });

  it('a connection refused before sending is transient and not ambiguous', async () => {
    const { fake } = await fakeWith();
    const baseURL = fake.baseURL;
    await fake.close();
    const provider = createOpenAIProvider({
      client: new OpenAI({ apiKey: 'test', baseURL, maxRetries: 0 }),
    });
    const e = await providerError(provider.submit(spec()));
    expect(e).toMatchObject({ kind: 'transient', code: 'unreachable' });
  });

  it('an already aborted signal sends nothing', async () => {
    const { fake, client } = await fakeWith();
    const provider = createOpenAIProvider({ client });
    const e = await providerError(provider.submit(spec(), { signal: AbortSignal.abort() }));
    expect(e).toMatchObject({ kind: 'transient', code: 'aborted' });
    expect(fake.createCount()).toBe(0);
  });
});
