import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFal, startFakeFal } from '../fake-fal/index.ts';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let fal: FakeFal;
let runway: FakeRunwayServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

const video = { provider: 'fal', seconds: 5, size: '1280x720' };
const DEADLINE_MS = 20_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-fal-'));
  fal = await startFakeFal({ maxConcurrent: 8, defaults: { queuedMs: 50, renderMs: 200 } });
  runway = await startFakeRunway({ maxConcurrent: 8, defaults: { pendingMs: 50, renderMs: 150 } });
  // The api validates campaigns against the providers this deployment has keys for.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
  });
  workers = startTestWorkers(t, {
    FAL_KEY: 'test-fal-key',
    FAL_QUEUE_URL: fal.queueUrl,
    FAL_JWKS_URL: fal.jwksUrl,
    FAL_RPM: '100000',
    FAL_MAX_CONCURRENT: '8',
    RUNWAYML_API_SECRET: runway.apiKey,
    RUNWAYML_BASE_URL: runway.url,
    RUNWAY_POLL_MIN_MS: '100',
    RUNWAY_RPM: '100000',
    RUNWAY_MAX_CONCURRENT: '8',
    RENDER_CONCURRENCY: '8',
    RENDER_POLL_INTERVAL_MS: '30',
    RENDER_DEADLINE_MS: String(DEADLINE_MS),
  });
  auth = await t.key('fal-co');
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await fal?.close();
  await runway?.close();
  await rm(dir, { recursive: true, force: true });
});

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: auth }, ...(payload ? { payload } : {}) });

describe('runs on fal', () => {
  it('renders each variant once, with the remaining deadline as the request timeout', {
    timeout: 40_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['calm', 'loud'], setting: ['beach'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'fal-ready' });
    const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
    expect(done.counts.ready).toBe(2);
    for (const v of await variantsOf(t, run.id)) {
      expect(fal.createCount(v.prompt)).toBe(1);
      expect(v).toMatchObject({ provider: 'fal', width: 1280, height: 720 });
      expect(Number(v.duration_s)).toBeCloseTo(5, 0);
      const call = fal.createCalls.find((c) => c.prompt === v.prompt)!;
      const timeout = Number(call.requestTimeout);
      expect(timeout).toBeGreaterThan(0);
      expect(timeout).toBeLessThanOrEqual(DEADLINE_MS / 1000);
      // fal reports no cost: the catalog price is the cost (Pika 720p $0.04/s, 5 s).
      expect(Number(v.actual_cost_usd)).toBe(0.2);
    }
  });

  it('ends a content-policy refusal blocked', { timeout: 30_000 }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['[content-policy]', 'fine'], setting: ['x'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'fal-mod' });
    const done = await waitForRun(t, auth, run.id, 'completed', 25_000);
    expect(done.counts).toMatchObject({ ready: 1, blocked: 1 });
    const blocked = (await variantsOf(t, run.id)).find((v) => v.status === 'blocked')!;
    expect(blocked.error_code).toBe('moderation_blocked');
    expect(fal.createCount(blocked.prompt)).toBe(1);
  });

  it('holds a dropped submit, then renders it on resubmit with exactly two submits', {
    timeout: 30_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['lostfal'], setting: ['x'] },
      video,
    });
    // The first submit of this prompt loses its reply; later ones behave (the fake has no
    // failTimes: a matcher that matches once stands in).
    let drops = 1;
    const once = { test: (p: string) => p.includes('lostfal') && drops-- > 0 } as RegExp;
    fal.when(once, { outcome: 'drop_reply' });
    const run = await startRun(t, auth, { ...s, key: 'fal-held' });
    const held = await waitFor(
      async () => (await variantsOf(t, run.id)).find((v) => v.status === 'held'),
      { timeoutMs: 20_000, what: 'a held variant' },
    );
    expect(held.error_code).toBe('ambiguous_create');
    await workers.reconcile();
    expect(fal.createCount(held.prompt)).toBe(1);
    expect((await api('GET', `/v1/runs/${run.id}`)).json()).toMatchObject({
      status: 'running',
      counts: { held: 1 },
    });
    const ok = await api('POST', `/v1/variants/${held.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(ok.statusCode).toBe(200);
    const done = await waitForRun(t, auth, run.id, 'completed', 25_000);
    expect(done.counts).toMatchObject({ ready: 1, held: 0 });
    expect(fal.createCount(held.prompt)).toBe(2);
  });
});

describe('a run per generator', () => {
  it('routes local, runway and fal variants each to its own renderer', {
    timeout: 45_000,
  }, async () => {
    const runs = [];
    for (const [provider, v] of [
      ['local', { provider: 'local', seconds: 2, size: '640x360' }],
      ['runway', { provider: 'runway', seconds: 2, size: '1280x720' }],
      ['fal', video],
    ] as const) {
      const s = await setupCampaign(t, auth, {
        levels: { gen: [`span-${provider}`], setting: ['a', 'b'] },
        video: v,
      });
      runs.push({ provider, run: await startRun(t, auth, { ...s, key: `span-${provider}` }) });
    }
    for (const { provider, run } of runs) {
      const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
      expect(done.counts.ready, provider).toBe(2);
      const variants = await variantsOf(t, run.id);
      expect(variants.every((v) => v.provider === provider)).toBe(true);
      for (const v of variants) {
        expect(runway.createCount(v.prompt)).toBe(provider === 'runway' ? 1 : 0);
        expect(fal.createCount(v.prompt)).toBe(provider === 'fal' ? 1 : 0);
      }
    }
  });
});
