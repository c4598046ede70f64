import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;

/** Our own limits far above the fake's, so the fake's 429s are what the test exercises. */
const workerEnv = () => ({
  OPENAI_API_KEY: 'test',
  OPENAI_BASE_URL: fake.baseURL,
  OPENAI_RPM: '100000',
  OPENAI_MAX_CONCURRENT: '50',
  RENDER_CONCURRENCY: '16',
  RENDER_POLL_INTERVAL_MS: '30',
  RENDER_DEADLINE_MS: '5000',
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-openai-'));
  fake = await startFakeVideoServer({ defaults: { queuedMs: 5, renderMs: 20 } });
  // The api validates campaigns against the providers it has keys for; the workers here talk
  // to the fake gateway.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  workers = startTestWorkers(t, workerEnv());
  auth = await t.key('openai-co');
});
afterAll(async () => {
  await workers.close();
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

const createdPerPrompt = () => {
  const counts = new Map<string, number>();
  for (const v of fake.videos.values()) counts.set(v.prompt, (counts.get(v.prompt) ?? 0) + 1);
  return counts;
};

describe('runs on an OpenAI-compatible gateway', () => {
  it('fans 200 variants out and renders each exactly once', { timeout: 300_000 }, async () => {
    const tones = Array.from({ length: 20 }, (_, i) => `tone${i}`);
    const settings = Array.from({ length: 10 }, (_, i) => `set${i}`);
    // The fan-out is under test, not the frame: without the visible AI label (on by default,
    // drawn and tested in test/media/disclosure.test.ts) nothing re-encodes 200 clips, which
    // took 174 s of this test's 240 s on CI's two cores.
    const s = await setupCampaign(t, auth, {
      levels: { tone: tones, setting: settings },
      overlay: { disclosure: { visible: false } },
    });
    const run = await startRun(t, auth, { ...s, key: 'fanout-200' });
    expect(run.variant_count).toBe(200);
    const done = await waitForRun(t, auth, run.id, 'completed', 240_000);
    expect(done.counts.ready).toBe(200);
    expect(done.cost).toEqual({ estimated_usd: 80, actual_usd: 80 });
    const perPrompt = createdPerPrompt();
    expect(perPrompt.size).toBe(200);
    expect([...perPrompt.values()].every((n) => n === 1)).toBe(true);
    const variants = await variantsOf(t, run.id);
    expect(new Set(variants.map((v) => v.provider_job_id)).size).toBe(200);
  });

  it('ends moderated renders as blocked with the provider code, without retries', async () => {
    fake.when('tone0 / set0', { outcome: 'failed_moderation' });
    fake.when('tone1 / set0', { outcome: 'reject_400' });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['tone0', 'tone1', 'tone2'], setting: ['set0'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'moderation' });
    const done = await waitForRun(t, auth, run.id);
    expect(done.counts).toMatchObject({ ready: 1, blocked: 2 });
    const variants = await variantsOf(t, run.id);
    const blocked = variants.filter((v) => v.status === 'blocked');
    expect(blocked.map((v) => v.error_code)).toEqual(['moderation_blocked', 'moderation_blocked']);
    expect(blocked.every((v) => v.attempts === 1)).toBe(true);
    // Blocked at create was never paid for; blocked after rendering was.
    expect(done.cost.actual_usd).toBe(0.8);
  });

  it('rides out a 429 storm: the queue pauses, every variant renders once', async () => {
    await fake.close();
    fake = await startFakeVideoServer({
      rpm: 4,
      rpmWindowMs: 300,
      defaults: { queuedMs: 5, renderMs: 10 },
    });
    await workers.close();
    workers = startTestWorkers(t, workerEnv());
    const s = await setupCampaign(t, auth, {
      levels: { tone: Array.from({ length: 12 }, (_, i) => `storm${i}`), setting: ['a'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'storm' });
    const done = await waitForRun(t, auth, run.id, 'completed', 60_000);
    expect(done.counts.ready).toBe(12);
    expect(fake.count429).toBeGreaterThan(0);
    expect([...createdPerPrompt().values()].every((n) => n === 1)).toBe(true);
    // Every create call beyond one per variant was a refused 429, nothing else.
    expect(fake.createCalls.length).toBe(12 + fake.count429);
  });

  it('fails a render that never finishes at its deadline', async () => {
    fake.when('stuck', { outcome: 'never_finish' });
    const s = await setupCampaign(t, auth, { levels: { tone: ['stuck'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'stuck' });
    const done = await waitForRun(t, auth, run.id, 'completed', 30_000);
    expect(done.counts.failed).toBe(1);
    expect((await variantsOf(t, run.id))[0]).toMatchObject({
      status: 'failed',
      error_code: 'deadline_exceeded',
    });
  });

  it('retries the failed variants of a run', async () => {
    fake.when('flop', { outcome: 'failed' });
    const s = await setupCampaign(t, auth, { levels: { tone: ['flop', 'fine'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'retry' });
    await waitForRun(t, auth, run.id);
    fake.reset();
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/runs/${run.id}/retry`,
      headers: { authorization: auth },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().retried).toBe(1);
    const done = await waitForRun(t, auth, run.id);
    expect(done.counts).toMatchObject({ ready: 2, failed: 0 });
  });

  it('holds a lost create it cannot tell apart; run retry and a later run leave it alone', {
    timeout: 40_000,
  }, async () => {
    // The create is received (and renders), the answer is lost, and the gateway lists the render
    // without its prompt: findExisting cannot rule out that it is ours.
    fake.when('unseen', { outcome: 'drop_connection', failTimes: 1, hidePrompt: true });
    const s = await setupCampaign(t, auth, {
      levels: { tone: ['unseen', 'seen'], setting: ['x'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'unverifiable' });
    const held = await waitFor(
      async () => (await variantsOf(t, run.id)).find((v) => v.status === 'held'),
      { timeoutMs: 20_000, what: 'a held variant' },
    );
    expect(held.error_code).toBe('ambiguous_create');
    expect(held.error_message).toContain('existing_render_unverifiable');
    expect(fake.createCount(held.prompt)).toBe(1);
    const { rows: events } = await t.testDb.pool.query(
      `SELECT type FROM events WHERE data->>'variant_id' = $1`,
      [held.id],
    );
    expect(events.map((e) => e.type)).toContain('variant.held');
    await waitFor(async () =>
      (await variantsOf(t, run.id)).some((v) => v.status === 'ready') ? true : undefined,
    );
    const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
      t.app.inject({ method, url, headers: { authorization: auth }, payload: payload as object });
    const open = (await api('GET', `/v1/runs/${run.id}`)).json();
    expect(open).toMatchObject({ status: 'running', counts: { held: 1, ready: 1 } });
    // Neither a run retry nor a later run asking for the same variant creates it again.
    const retry = await api('POST', `/v1/runs/${run.id}/retry`);
    // 202 with nothing retried today; the route's description promises a 422 instead.
    expect(retry.statusCode === 422 || retry.json().retried === 0).toBe(true);
    const later = await startRun(t, auth, { ...s, key: 'unverifiable-later' });
    expect(later.variant_count).toBe(2);
    await workers.reconcile();
    expect((await variantsOf(t, later.id)).map((v) => v.status).sort()).toEqual(['held', 'ready']);
    expect(fake.createCount(held.prompt)).toBe(1);

    // Only a person accepting a possible second charge sends it again.
    const ok = await api('POST', `/v1/variants/${held.id}/resubmit`, {
      accept_possible_duplicate_charge: true,
    });
    expect(ok.statusCode).toBe(200);
    const done = await waitForRun(t, auth, run.id, 'completed', 20_000);
    expect(done.counts).toMatchObject({ ready: 2, held: 0 });
    expect(fake.createCount(held.prompt)).toBe(2);
  });

  it('holds a variant whose last attempt ended in an ambiguous create', {
    timeout: 30_000,
  }, async () => {
    // A 502 on create says nothing about whether the upstream took the render.
    fake.when('gateway-down', { outcome: 'error_5xx', httpStatus: 502 });
    await workers.close();
    const s = await setupCampaign(t, auth, { levels: { tone: ['gateway-down'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'last-ambiguous' });
    const [v] = await variantsOf(t, run.id);
    // One attempt instead of eight, so the first one is the last.
    const queue = t.infra.queues.get('render-openai');
    await queue.remove(v!.id);
    await queue.add('render-openai', { variantId: v!.id }, { jobId: v!.id, attempts: 1 });
    workers = startTestWorkers(t, workerEnv());
    const ended = await waitFor(async () => {
      const [x] = await variantsOf(t, run.id);
      return x && ['held', 'failed'].includes(x.status) ? x : undefined;
    });
    expect(ended).toMatchObject({ status: 'held', error_code: 'ambiguous_create' });
    expect(ended.error_message).toContain('502');
    expect(fake.createCount(ended.prompt)).toBe(1);
  });

  it('holds a variant whose last lookup for a lost create could not answer', {
    timeout: 30_000,
  }, async () => {
    // The create is received, its answer lost; the list that would find the render then fails.
    fake.when('lookup-down', { outcome: 'drop_connection' });
    fake.failLists(100);
    await workers.close();
    const s = await setupCampaign(t, auth, { levels: { tone: ['lookup-down'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'last-lookup' });
    const [v] = await variantsOf(t, run.id);
    // Two attempts: the create, then the lookup as the last one.
    const queue = t.infra.queues.get('render-openai');
    await queue.remove(v!.id);
    await queue.add('render-openai', { variantId: v!.id }, { jobId: v!.id, attempts: 2 });
    workers = startTestWorkers(t, workerEnv());
    const ended = await waitFor(async () => {
      const [x] = await variantsOf(t, run.id);
      return x && ['held', 'failed'].includes(x.status) ? x : undefined;
    });
    expect(ended).toMatchObject({ status: 'held', error_code: 'ambiguous_create' });
    expect(fake.createCount(ended.prompt)).toBe(1);
    const lists = fake.requests.filter(
      (r) => r.method === 'GET' && r.url.startsWith('/v1/videos?'),
    );
    // The SDK retries reads: every one of them failed, and nothing was created after them.
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.every((r) => r.status === 502)).toBe(true);
  });

  it('cancels what is not yet paid for', async () => {
    fake.when('slow', { queuedMs: 60_000 });
    const s = await setupCampaign(t, auth, {
      levels: { tone: Array.from({ length: 6 }, (_, i) => `slow${i}`), setting: ['x'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'cancel' });
    await waitFor(async () =>
      (await variantsOf(t, run.id)).some((v) => v.status === 'submitted') ? true : undefined,
    );
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/runs/${run.id}/cancel`,
      headers: { authorization: auth },
      payload: {},
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    expect(res.json().counts.cancelled).toBe(6);
    const before = fake.createCalls.length;
    // Nothing moves on afterwards: the workers see the guarded status and stop.
    await waitFor(async () =>
      (await variantsOf(t, run.id)).every((v) => v.status === 'cancelled') ? true : undefined,
    );
    expect(fake.createCalls.length).toBe(before);
  });
});

describe('Idempotency-Key on runs', () => {
  it('creates one run for duplicates and concurrent duplicates', async () => {
    const s = await setupCampaign(t, auth, { levels: { tone: ['i1', 'i2'], setting: ['x'] } });
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: `/v1/campaigns/${s.campaignId}/runs`,
        headers: { authorization: auth, 'idempotency-key': 'same-run' },
        payload: { matrix_id: s.matrixId, design: { type: 'full' } },
      });
    const all = await Promise.all([send(), send(), send(), send(), send()]);
    const accepted = all.filter((r) => r.statusCode === 202);
    expect(all.every((r) => r.statusCode === 202 || r.statusCode === 409)).toBe(true);
    expect(new Set(accepted.map((r) => r.json().id)).size).toBe(1);
    const later = await send();
    expect(later.statusCode).toBe(202);
    expect(later.json().id).toBe(accepted[0]!.json().id);
    expect(later.headers['idempotent-replayed']).toBe('true');
    const runs = await t.testDb.pool.query(
      'SELECT count(*)::int AS n FROM runs WHERE campaign_id = $1',
      [s.campaignId],
    );
    expect(runs.rows[0].n).toBe(1);
    const other = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${s.campaignId}/runs`,
      headers: { authorization: auth, 'idempotency-key': 'same-run' },
      payload: { matrix_id: s.matrixId, design: { type: 'sample', n: 1 } },
    });
    expect(other.statusCode).toBe(422);
  });

  it('requires the header', async () => {
    const s = await setupCampaign(t, auth, { levels: { tone: ['n1'], setting: ['x'] } });
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/campaigns/${s.campaignId}/runs`,
      headers: { authorization: auth },
      payload: { matrix_id: s.matrixId, design: { type: 'full' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('headers.idempotency-key');
  });
});
