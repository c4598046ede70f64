import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let fake: FakeRunwayServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

/** Runway's 5 s poll floor scaled down for the fake, still well above RENDER_POLL_INTERVAL_MS. */
const POLL_FLOOR_MS = 300;
const video = { provider: 'runway', seconds: 2, size: '1280x720' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-runway-'));
  fake = await startFakeRunway({ maxConcurrent: 8, defaults: { pendingMs: 50, renderMs: 200 } });
  // The api validates campaigns against the providers this deployment has keys for.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
  });
  workers = startTestWorkers(t, {
    RUNWAYML_API_SECRET: fake.apiKey,
    RUNWAYML_BASE_URL: fake.url,
    RUNWAY_POLL_MIN_MS: String(POLL_FLOOR_MS),
    RUNWAY_RPM: '100000',
    RUNWAY_MAX_CONCURRENT: '8',
    RENDER_CONCURRENCY: '8',
    RENDER_POLL_INTERVAL_MS: '20',
    RENDER_DEADLINE_MS: '20000',
  });
  auth = await t.key('runway-co');
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, key = auth) =>
  t.app.inject({ method, url, headers: { authorization: key }, ...(payload ? { payload } : {}) });

describe('runs on Runway', () => {
  it('renders each variant once, polls no faster than the floor, settles on Runway cost', {
    timeout: 40_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['calm', 'loud', 'dry'], setting: ['beach'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'rw-ready' });
    const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
    expect(done.counts.ready).toBe(3);
    const variants = await variantsOf(t, run.id);
    for (const v of variants) {
      expect(fake.createCount(v.prompt)).toBe(1);
      expect(v).toMatchObject({ provider: 'runway', provider_status: 'SUCCEEDED', width: 1280 });
      expect(v.height).toBe(720);
      expect(Number(v.duration_s)).toBeCloseTo(2, 0);
      // gen4.5: 12 credits a second, 1 credit = $0.01, as Runway's cost.credits said.
      expect(Number(v.actual_cost_usd)).toBe(0.24);
      expect(v.reserved_usd).toBeNull();
    }
    // Task reads of one job are at least the floor apart, whatever the pipeline's own interval.
    for (const v of variants) {
      const reads = fake.requests
        .filter((r) => r.method === 'GET' && r.url === `/v1/tasks/${v.provider_job_id}`)
        .map((r) => r.at)
        // The last one is the download's, which fetches the task again for a fresh output URL.
        .slice(0, -1);
      expect(reads.length).toBeGreaterThan(1);
      const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(POLL_FLOOR_MS - 20);
    }
  });

  it('ends a moderated render blocked, keeping Runway code', { timeout: 30_000 }, async () => {
    fake.when('mod-me', { outcome: 'failed', failureCode: 'SAFETY.INPUT.TEXT' });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['mod-me', 'fine'], setting: ['x'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'rw-mod' });
    const done = await waitForRun(t, auth, run.id, 'completed', 25_000);
    expect(done.counts).toMatchObject({ ready: 1, blocked: 1 });
    const blocked = (await variantsOf(t, run.id)).find((v) => v.status === 'blocked')!;
    expect(blocked).toMatchObject({
      error_code: 'moderation_blocked',
      provider_status: 'FAILED',
      provider_code: 'SAFETY.INPUT.TEXT',
    });
    expect(fake.createCount(blocked.prompt)).toBe(1);
    // Runway charged nothing for the refused task: the reservation was given back.
    expect(Number(blocked.actual_cost_usd)).toBe(0);
  });

  it('creates a task again after Runway INTERNAL, paying once', { timeout: 30_000 }, async () => {
    fake.when('flaky', { outcome: 'failed', failureCode: 'INTERNAL', failTimes: 1 });
    const s = await setupCampaign(t, auth, { levels: { tone: ['flaky'], setting: ['x'] }, video });
    const run = await startRun(t, auth, { ...s, key: 'rw-internal' });
    const done = await waitForRun(t, auth, run.id, 'completed', 25_000);
    expect(done.counts.ready).toBe(1);
    const [v] = await variantsOf(t, run.id);
    expect(fake.createCount(v!.prompt)).toBe(2);
    expect(v).toMatchObject({ recreates: 1, provider_status: 'SUCCEEDED' });
    expect(Number(v!.actual_cost_usd)).toBe(0.24);
  });

  it('holds an ambiguous create, then resubmits it only when asked', {
    timeout: 40_000,
  }, async () => {
    fake.when('lost', { outcome: 'drop_reply' });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['lost', 'kept'], setting: ['x'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'rw-held' });
    const held = await waitFor(
      async () => (await variantsOf(t, run.id)).find((v) => v.status === 'held'),
      { timeoutMs: 20_000, what: 'a held variant' },
    );
    expect(held.error_code).toBe('ambiguous_create');
    expect(fake.createCount(held.prompt)).toBe(1);
    const { rows: events } = await t.testDb.pool.query(
      `SELECT type FROM events WHERE data->>'variant_id' = $1`,
      [held.id],
    );
    expect(events.map((e) => e.type)).toContain('variant.held');
    // The run waits for a person: held is visible, the run not complete, nothing resubmitted.
    await waitFor(async () =>
      (await variantsOf(t, run.id)).some((v) => v.status === 'ready') ? true : undefined,
    );
    await workers.reconcile();
    const open = (await api('GET', `/v1/runs/${run.id}`)).json();
    expect(open.status).toBe('running');
    expect(open.counts).toMatchObject({ held: 1, ready: 1 });
    expect(fake.createCount(held.prompt)).toBe(1);

    const bad = await api('POST', `/v1/variants/${held.id}/resubmit`, {});
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body).toContain('accept_possible_duplicate_charge');
    const malformed = await api('POST', `/v1/variants/${held.id}/resubmit`, {
      accept_possible_duplicate_charge: 'yes',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).toContain('accept_possible_duplicate_charge');
    const stranger = await t.key('other-co');
    const foreign = await api(
      'POST',
      `/v1/variants/${held.id}/resubmit`,
      { accept_possible_duplicate_charge: true },
      stranger,
    );
    expect(foreign.statusCode).toBe(404);
    const ready = (await variantsOf(t, run.id)).find((v) => v.status === 'ready')!;
    const notHeld = await api('POST', `/v1/variants/${ready.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(notHeld.statusCode).toBe(409);
    expect(notHeld.headers['content-type']).toMatch(/problem\+json/);

    fake.reset();
    const ok = await api('POST', `/v1/variants/${held.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().status).toBe('queued');
    const done = await waitForRun(t, auth, run.id, 'completed', 25_000);
    expect(done.counts).toMatchObject({ ready: 2, held: 0 });
    expect(fake.createCalls.filter((c) => c.prompt === held.prompt).length).toBe(1);
  });

  it('cancels in-flight renders at Runway when the run is cancelled', {
    timeout: 30_000,
  }, async () => {
    fake.when('forever', { outcome: 'never_finish' });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['forever'], setting: ['x', 'y'] },
      video,
    });
    const run = await startRun(t, auth, { ...s, key: 'rw-cancel' });
    const started = await waitFor(async () => {
      const vs = await variantsOf(t, run.id);
      return vs.every((v) => v.provider_job_id && v.status === 'rendering') ? vs : undefined;
    });
    const res = await api('POST', `/v1/runs/${run.id}/cancel`, {});
    expect(res.statusCode).toBe(200);
    await waitFor(
      async () =>
        started.every((v) => fake.statusOf(v.provider_job_id!) === 'CANCELLED') ? true : undefined,
      { timeoutMs: 10_000, what: 'Runway to cancel the tasks' },
    );
  });
});
