import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import RunwayML from '@runwayml/sdk';
import { describe, expect, it } from 'vitest';
import { createMedia, defaultMediaBinaries } from '../../src/media/index.ts';
import {
  createRunwayProvider,
  RUNWAY_MODELS,
  RUNWAY_RETRYABLE_FAILURES,
  type RunwayProviderOptions,
} from '../../src/providers/runway/index.ts';
import { AMBIGUOUS_CREATE, isAmbiguousCreate } from '../../src/providers/types.ts';
import { manualClock } from '../fake-provider/index.ts';
import { media as fakeMedia, TINY } from '../fake-provider/media.ts';
import { type FakeRunwayOptions, startFakeRunway } from '../fake-runway/index.ts';
import { collect, firstFrame, ONE_PIXEL_PNG, onCleanup, providerError, spec } from './helpers.ts';

const media = createMedia(defaultMediaBinaries());

/**
 * The SDK's own retries (2) are left on in the client handed over, so one create seen by the
 * fake proves the adapter turned them off for create.
 */
async function setup(opts: FakeRunwayOptions = {}, provider: Partial<RunwayProviderOptions> = {}) {
  const fake = await startFakeRunway(opts);
  onCleanup(() => fake.close());
  const client = new RunwayML({ apiKey: fake.apiKey, baseURL: fake.url });
  return { fake, client, provider: createRunwayProvider({ client, ...provider }) };
}

const rw = (overrides: Parameters<typeof spec>[0] = {}) =>
  spec({ model: 'gen4.5', seconds: 4, size: '1280x720', ...overrides });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('runway provider: text to video from submit to bytes', () => {
  it('reserves the estimate, walks THROTTLED → PENDING → RUNNING → SUCCEEDED, streams a real MP4', async () => {
    const clock = manualClock();
    const { fake, provider } = await setup({
      clock: clock.now,
      maxConcurrent: 1,
      defaults: { pendingMs: 1000, renderMs: 4000, progressSteps: 4 },
    });
    const first = await provider.submit(rw({ prompt: 'a red bicycle at dawn' }));
    const second = await provider.submit(rw({ prompt: 'a blue kite', size: '720x1280' }));
    // gen4.5 at 12 credits a second, 4 s, 1 credit = $0.01.
    expect(first.reservedUsd).toBe(0.48);
    expect(fake.createCalls[0]).toMatchObject({
      route: 'text_to_video',
      body: {
        model: 'gen4.5',
        promptText: 'a red bicycle at dawn',
        ratio: '1280:720',
        duration: 4,
      },
    });

    expect(await provider.status(first.jobId)).toEqual({
      state: 'queued',
      progress: 0,
      raw: { status: 'PENDING' },
    });
    expect(await provider.status(second.jobId)).toEqual({
      state: 'queued',
      progress: 0,
      raw: { status: 'THROTTLED' },
    });
    clock.advance(1000);
    expect(await provider.status(first.jobId)).toMatchObject({ state: 'in_progress', progress: 0 });
    clock.advance(2000);
    expect(await provider.status(first.jobId)).toEqual({
      state: 'in_progress',
      progress: 50,
      raw: { status: 'RUNNING' },
    });
    expect((await provider.status(second.jobId)).raw?.status).toBe('THROTTLED');
    clock.advance(2000);
    expect(await provider.status(first.jobId)).toEqual({
      state: 'completed',
      progress: 100,
      costUsd: 0.48,
      raw: { status: 'SUCCEEDED' },
    });
    // The slot passed on in submission order.
    expect((await provider.status(second.jobId)).raw?.status).toBe('PENDING');
    expect(fake.peakConcurrent('gen4.5')).toBe(1);

    const dir = await mkdtemp(join(tmpdir(), 'amx-runway-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'video.mp4');
    await pipeline(await provider.download(first.jobId, 'video'), createWriteStream(out));
    const facts = await media.probe(out);
    expect(facts).toMatchObject({ width: 1280, height: 720, video_codec: 'h264' });
    expect(facts.duration_s).toBeCloseTo(4, 0);
    expect(fake.createCount('a red bicycle at dawn')).toBe(1);
  });

  it('hands the output body on as it arrives, for longer than the headers may take', async () => {
    const { provider } = await setup(
      {
        mediaMatchesRequest: false,
        defaults: { pendingMs: 0, renderMs: 0, outputChunkDelayMs: 40 },
      },
      // The body takes several times this: only the wait for headers is bounded.
      { downloadHeadersTimeoutMs: 100 },
    );
    // The fake makes its clip with ffmpeg on first use; made beforehand, the 100 ms bound
    // measures the wait for headers alone, not an ffmpeg run on a loaded machine.
    await fakeMedia('video', TINY);
    const { jobId } = await provider.submit(rw({ prompt: 'slow body' }));
    const { bytes, chunks } = await collect(await provider.download(jobId, 'video'));
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]).toBeLessThan(bytes.length);
  });
});

describe('runway provider: image to video', () => {
  it('sends a data URI to image_to_video, on a model that renders only from an image', async () => {
    const { fake, provider } = await setup({ defaults: { pendingMs: 0, renderMs: 0 } });
    const s = rw({
      model: 'gen4_turbo',
      seconds: 5,
      size: '960x960',
      image: firstFrame(),
    });
    const { jobId, reservedUsd } = await provider.submit(s);
    expect(reservedUsd).toBe(0.25);
    expect(fake.createCalls[0]).toMatchObject({
      route: 'image_to_video',
      body: {
        model: 'gen4_turbo',
        promptImage: `data:image/png;base64,${ONE_PIXEL_PNG.toString('base64')}`,
        ratio: '960:960',
        duration: 5,
      },
    });
    expect((await provider.status(jobId)).state).toBe('completed');
    const out = await collect(await provider.download(jobId, 'video'));
    expect(out.bytes.length).toBeGreaterThan(0);
  });

  it('sends an HTTPS URL, and asks Veo for no soundtrack unless configured', async () => {
    const { fake, provider } = await setup({ mediaMatchesRequest: false });
    const url = 'https://assets.example.com/product.png';
    await provider.submit(
      rw({ model: 'veo3.1', seconds: 6, size: '1080x1920', image: firstFrame({ url }) }),
    );
    expect(fake.createCalls[0]).toMatchObject({
      route: 'image_to_video',
      body: { model: 'veo3.1', promptImage: url, ratio: '1080:1920', duration: 6, audio: false },
    });
    const withAudio = createRunwayProvider({
      client: new RunwayML({ apiKey: fake.apiKey, baseURL: fake.url }),
      audio: true,
    });
    const { reservedUsd } = await withAudio.submit(rw({ model: 'veo3.1_fast', seconds: 4 }));
    expect(fake.createCalls[1]?.body).toMatchObject({ audio: true });
    expect(reservedUsd).toBe(0.6); // 15 credits a second with audio
  });

  it('refuses, before any paid call, what the catalog says the model cannot do', async () => {
    const { fake, provider } = await setup();
    const noImage = await providerError(provider.submit(rw({ model: 'gen4_turbo', seconds: 5 })));
    expect(noImage).toMatchObject({ kind: 'permanent', code: 'invalid_request' });
    expect(noImage.message).toMatch(/only from an image/);
    // 600 emoji are 1200 UTF-16 units: over Runway's 1000.
    const long = await providerError(provider.submit(rw({ prompt: '🎬'.repeat(600) })));
    expect(long.message).toMatch(/up to 1000 characters, not 1200/);
    const ratio = await providerError(provider.submit(rw({ size: '960x960' })));
    expect(ratio.message).toMatch(/video\.size: .*1280x720, 720x1280, not 960x960/);
    expect(fake.createCalls).toHaveLength(0);
  });
});

describe('runway provider: failures are statuses', () => {
  it('turns SAFETY.* into moderation_blocked, keeping Runway’s code and zero cost', async () => {
    const { provider } = await setup({
      defaults: { pendingMs: 0, renderMs: 0 },
      behave: [
        { match: '[in]', outcome: 'failed', failureCode: 'SAFETY.INPUT.TEXT', failure: 'text' },
        { match: '[out]', outcome: 'failed', failureCode: 'SAFETY.OUTPUT.VIDEO' },
      ],
    });
    const a = await provider.submit(rw({ prompt: 'weapons [in]' }));
    expect(await provider.status(a.jobId)).toEqual({
      state: 'failed',
      progress: 0,
      error: { code: 'moderation_blocked', message: 'text' },
      costUsd: 0,
      raw: { status: 'FAILED', code: 'SAFETY.INPUT.TEXT' },
    });
    const b = await provider.submit(rw({ prompt: 'output [out]' }));
    expect(await provider.status(b.jobId)).toMatchObject({
      error: { code: 'moderation_blocked' },
      raw: { code: 'SAFETY.OUTPUT.VIDEO' },
    });
  });

  it('fails ASSET.INVALID for good and marks INTERNAL* as worth a new create', async () => {
    const { provider } = await setup({
      defaults: { pendingMs: 0, renderMs: 0 },
      behave: [
        { match: '[asset]', outcome: 'failed', failureCode: 'ASSET.INVALID' },
        { match: '[internal]', outcome: 'failed', failureCode: 'INTERNAL' },
        { match: '[bad]', outcome: 'failed', failureCode: 'INTERNAL.BAD_OUTPUT.CODE01' },
      ],
    });
    const codes = [];
    for (const p of ['x [asset]', 'x [internal]', 'x [bad]']) {
      const { jobId } = await provider.submit(rw({ prompt: p }));
      const s = await provider.status(jobId);
      expect(s.state).toBe('failed');
      codes.push([s.error?.code, s.raw?.code, RUNWAY_RETRYABLE_FAILURES.has(s.error?.code ?? '')]);
    }
    expect(codes).toEqual([
      ['asset_invalid', 'ASSET.INVALID', false],
      ['provider_internal', 'INTERNAL', true],
      ['provider_internal', 'INTERNAL.BAD_OUTPUT.CODE01', true],
    ]);
  });
});

describe('runway provider: output URLs and cancel', () => {
  it('re-mints an expired output URL by fetching the task again, once', async () => {
    const { fake, provider } = await setup({
      mediaMatchesRequest: false,
      defaults: { pendingMs: 0, renderMs: 0 },
    });
    const { jobId } = await provider.submit(rw({ prompt: 'expiring' }));
    fake.staleOutputs(1);
    const { bytes } = await collect(await provider.download(jobId, 'video'));
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(fake.outputFetches.map((f) => f.status)).toEqual([403, 200]);
    // Two different URLs: the second came from a fresh GET of the task.
    expect(new Set(fake.outputFetches.map((f) => f.path)).size).toBe(2);

    fake.staleOutputs(2);
    const err = await providerError(provider.download(jobId, 'video'));
    expect(err).toMatchObject({ kind: 'permanent', code: 'output_expired', status: 403 });
    expect(fake.outputFetches).toHaveLength(4);
  });

  it('cancels a running task with DELETE and leaves a finished one alone', async () => {
    const { fake, provider } = await setup({
      mediaMatchesRequest: false,
      behave: [{ match: '[never]', outcome: 'never_finish' }],
      defaults: { pendingMs: 0, renderMs: 0 },
    });
    const running = await provider.submit(rw({ prompt: 'long [never]' }));
    await provider.cancel?.(running.jobId);
    expect(fake.statusOf(running.jobId)).toBe('CANCELLED');
    expect(await provider.status(running.jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'cancelled' },
      raw: { status: 'CANCELLED' },
    });

    const done = await provider.submit(rw({ prompt: 'done' }));
    await provider.cancel?.(done.jobId);
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    // Still there to download: a DELETE would have deleted it.
    expect(
      (await collect(await provider.download(done.jobId, 'video'))).bytes.length,
    ).toBeGreaterThan(0);
  });
});

describe('runway provider: errors and the never-pay-twice rule', () => {
  it('a dropped create reply reaches Runway once and is ambiguous_create, not retried', async () => {
    const { fake, provider } = await setup({
      behave: [{ match: '[drop]', outcome: 'drop_reply' }],
    });
    const err = await providerError(provider.submit(rw({ prompt: 'lost reply [drop]' })));
    expect(err).toMatchObject({ kind: 'permanent', code: AMBIGUOUS_CREATE });
    expect(isAmbiguousCreate(err)).toBe(true);
    expect(fake.createCount('lost reply [drop]')).toBe(1);
    expect(fake.tasks.size).toBe(1); // it was created, and will be billed
    expect(provider.searchable).toBe(false);
    const find = await providerError(provider.findExisting(rw(), { since: new Date() }));
    expect(find).toMatchObject({ kind: 'permanent', code: 'not_searchable' });
  });

  it('a 5xx or a timeout on create is ambiguous, with one create', async () => {
    const { fake, provider } = await setup(
      {
        behave: [
          { match: '[5xx]', outcome: 'error_5xx', errorStatus: 503, createAnyway: true },
          { match: '[slow]', createDelayMs: 1500 },
        ],
      },
      { timeoutMs: 300 },
    );
    expect(await providerError(provider.submit(rw({ prompt: 'p [5xx]' })))).toMatchObject({
      code: AMBIGUOUS_CREATE,
      status: 503,
    });
    expect(await providerError(provider.submit(rw({ prompt: 'p [slow]' })))).toMatchObject({
      code: AMBIGUOUS_CREATE,
    });
    expect([fake.createCount('p [5xx]'), fake.createCount('p [slow]')]).toEqual([1, 1]);
  });

  it('a refused connection is transient: nothing was sent, the create may be repeated', async () => {
    const client = new RunwayML({ apiKey: 'k', baseURL: `http://127.0.0.1:${await closedPort()}` });
    const err = await providerError(createRunwayProvider({ client }).submit(rw()));
    expect(err).toMatchObject({ kind: 'transient', code: 'unreachable' });
  });

  it('a 400 is permanent and names Runway’s message; a 401 is unauthorized', async () => {
    // A catalog that wrongly allows 20 s: Runway's own check answers.
    const catalog = { 'gen4.5': { ...RUNWAY_MODELS['gen4.5'], seconds: [20] } };
    const { fake, provider } = await setup({}, { catalog });
    const err = await providerError(provider.submit(rw({ seconds: 20 })));
    expect(err).toMatchObject({ kind: 'permanent', code: 'bad_request', status: 400 });
    expect(err.message).toBe(
      "Invalid parameter 'duration': must be one of 2, 3, 4, 5, 6, 7, 8, 9, 10",
    );

    const wrongKey = createRunwayProvider({
      client: new RunwayML({ apiKey: 'nope', baseURL: fake.url }),
    });
    expect(await providerError(wrongKey.submit(rw()))).toMatchObject({
      kind: 'permanent',
      code: 'unauthorized',
      status: 401,
    });
  });

  it('a daily cap 429 is rate_limited with code daily_limit and its Retry-After, sent once', async () => {
    const { fake, provider } = await setup({ dailyLimit: 1 });
    await provider.submit(rw({ prompt: 'first of the day' }));
    const err = await providerError(provider.submit(rw({ prompt: 'second of the day' })));
    expect(err).toMatchObject({ kind: 'rate_limited', code: 'daily_limit', status: 429 });
    expect(err.retryAfterMs).toBeGreaterThan(86_000_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(86_400_000);
    fake.setDailyCapReached(true, 7200);
    const other = await providerError(provider.submit(rw({ model: 'veo3.1', prompt: 'veo' })));
    expect(other).toMatchObject({ code: 'daily_limit', retryAfterMs: 7_200_000 });
    expect([fake.createCount('second of the day'), fake.createCount('veo')]).toEqual([1, 1]);
  });

  it('reads retry a few times on 5xx, then give up as transient', async () => {
    const { fake, provider } = await setup({}, { readRetries: 2 });
    const { jobId } = await provider.submit(rw());
    fake.failReads(2, 502);
    expect((await provider.status(jobId)).raw?.status).toBeDefined();
    fake.failReads(3, 503);
    expect(await providerError(provider.status(jobId))).toMatchObject({
      kind: 'transient',
      code: 'server_error',
      status: 503,
    });
    const gets = fake.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/v1/tasks/'));
    expect(gets).toHaveLength(6);
  });
});

describe('runway provider from config', () => {
  it('builds its own clients from the key and base URL, and refuses to start without a key', async () => {
    const fake = await startFakeRunway({ mediaMatchesRequest: false });
    onCleanup(() => fake.close());
    const provider = createRunwayProvider({ apiKey: fake.apiKey, baseURL: fake.url });
    const { jobId } = await provider.submit(rw({ prompt: 'configured' }));
    expect(fake.tasks.has(jobId)).toBe(true);
    expect(() => createRunwayProvider({ baseURL: fake.url })).toThrow(/apiKey or client/);
  });
});

describe('runway account', () => {
  it('reads the credit balance and per-model tier limits from GET /v1/organization', async () => {
    const { provider } = await setup({
      creditBalance: 5000,
      maxConcurrent: 3,
      dailyLimit: 50,
      defaults: { pendingMs: 0, renderMs: 0 },
      mediaMatchesRequest: false,
    });
    const { jobId } = await provider.submit(rw({ seconds: 5 }));
    expect((await provider.status(jobId)).state).toBe('completed');
    const account = await provider.account();
    expect(account).toMatchObject({ creditBalance: 4940, balanceUsd: 49.4 });
    expect(account.models['gen4.5']).toEqual({ maxConcurrent: 3, maxDaily: 50, dailyUsed: 1 });
    expect(account.models['veo3.1']?.dailyUsed).toBe(0);
  });
});
