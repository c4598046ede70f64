import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFal, startFakeFal } from '../fake-fal/index.ts';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

/**
 * A render whose output the provider has dropped is lost: the variant fails at once with
 * `output_expired`, instead of spending the job's eight attempts (about four minutes of
 * backoff) asking again. A download that fails for a moment is still retried.
 */
let t: TestApp;
let openai: FakeVideoServer;
let fal: FakeFal;
let runway: FakeRunwayServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

/** Well under the first backoffs of a render job (2 s, 4 s, 8 s, ...), summed over attempts. */
const SETTLE_MS = 8_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-expiry-'));
  // Every OpenAI-shape download 404s as soon as the render completes, past its expires_at.
  openai = await startFakeVideoServer({
    expiresAfterMs: 0,
    defaults: { queuedMs: 5, renderMs: 20 },
  });
  fal = await startFakeFal({ maxConcurrent: 4, defaults: { queuedMs: 10, renderMs: 30 } });
  runway = await startFakeRunway({ maxConcurrent: 4, defaults: { pendingMs: 10, renderMs: 30 } });
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
  });
  workers = startTestWorkers(t, {
    OPENAI_API_KEY: 'test',
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_RPM: '100000',
    OPENAI_MAX_CONCURRENT: '20',
    FAL_KEY: 'test-fal-key',
    FAL_QUEUE_URL: fal.queueUrl,
    FAL_JWKS_URL: fal.jwksUrl,
    FAL_RPM: '100000',
    FAL_MAX_CONCURRENT: '20',
    RUNWAYML_API_SECRET: runway.apiKey,
    RUNWAYML_BASE_URL: runway.url,
    RUNWAY_POLL_MIN_MS: '50',
    RUNWAY_RPM: '100000',
    RUNWAY_MAX_CONCURRENT: '20',
    RENDER_CONCURRENCY: '8',
    RENDER_POLL_INTERVAL_MS: '30',
    RENDER_DEADLINE_MS: '30000',
  });
  auth = await t.key('expiry-co');
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await openai?.close();
  await fal?.close();
  await runway?.close();
  await rm(dir, { recursive: true, force: true });
});

async function oneVariantRun(key: string, video?: Parameters<typeof setupCampaign>[2]['video']) {
  const s = await setupCampaign(t, auth, {
    levels: { tone: [key], setting: ['x'] },
    ...(video ? { video } : {}),
  });
  const run = await startRun(t, auth, { ...s, key });
  const done = await waitForRun(t, auth, run.id, 'completed', SETTLE_MS);
  const [v] = await variantsOf(t, run.id);
  return { done, v: v! };
}

describe('a render whose output is gone', () => {
  it('openai: content past expires_at fails the variant at once, output_expired', async () => {
    const { done, v } = await oneVariantRun('oa-expired');
    expect(done.counts.failed).toBe(1);
    expect(v).toMatchObject({ status: 'failed', error_code: 'output_expired' });
    expect(openai.createCount(v.prompt)).toBe(1);
    const contentGets = openai.requests.filter((r) => r.url.includes('/content'));
    expect(contentGets).toHaveLength(1);
  });

  it('fal: media dropped from the CDN fails the variant at once, output_expired', async () => {
    fal.setMediaTtlMs(0);
    try {
      const { v } = await oneVariantRun('fal-expired', {
        provider: 'fal',
        seconds: 5,
        size: '1280x720',
      });
      expect(v).toMatchObject({ status: 'failed', error_code: 'output_expired' });
      expect(fal.createCount(v.prompt)).toBe(1);
      expect(fal.log.filter((r) => r.url.startsWith('/media/'))).toHaveLength(1);
    } finally {
      fal.setMediaTtlMs(3_600_000);
    }
  });

  it('runway: re-mints the URL once, then fails the variant at once, output_expired', async () => {
    // Every URL the task hands out from here is already expired, re-minted ones included.
    runway.staleOutputs(1_000);
    try {
      const { v } = await oneVariantRun('rw-expired', {
        provider: 'runway',
        seconds: 2,
        size: '1280x720',
      });
      expect(v).toMatchObject({ status: 'failed', error_code: 'output_expired' });
      expect(runway.createCount(v.prompt)).toBe(1);
      // The first URL, then the one a fresh GET of the task minted: both 403, and no more.
      expect(runway.outputFetches.map((f) => f.status)).toEqual([403, 403]);
    } finally {
      runway.staleOutputs(0);
    }
  });

  it('fal: a CDN hiccup is retried, and the render is kept', { timeout: 20_000 }, async () => {
    fal.failMedia(1, 503);
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['fal-hiccup'], setting: ['x'] },
      video: { provider: 'fal', seconds: 5, size: '1280x720' },
    });
    const run = await startRun(t, auth, { ...s, key: 'fal-hiccup' });
    const done = await waitForRun(t, auth, run.id, 'completed', 15_000);
    expect(done.counts.ready).toBe(1);
    const [v] = await variantsOf(t, run.id);
    expect(fal.createCount(v!.prompt)).toBe(1);
    const media = fal.log.filter((r) => r.url.includes(v!.provider_job_id!.split('|')[1]!));
    expect(media.filter((r) => r.url.startsWith('/media/')).map((r) => r.status)).toEqual([
      503, 200,
    ]);
  });
});
