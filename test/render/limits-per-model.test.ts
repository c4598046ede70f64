/**
 * A model's own caps (catalog `limits`, MODEL_LIMITS_JSON) in the create limiter
 * (src/render/claim.ts), against real Postgres, and through the BullMQ workers against the
 * fake gateway, whose own records say how many renders of each model ran at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Claim,
  claimSubmit,
  finishProviderCall,
  type ProviderLimits,
} from '../../src/render/claim.ts';
import { variantSubject } from '../../src/render/subject.ts';
import { openStatuses } from '../../src/variants/lifecycle.ts';
import { peakConcurrency } from '../fake-provider/behaviour.ts';
import { startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-model-limits-'));
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  auth = await t.key('model-limits-co');
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

/** Fresh queued variants on a provider name of their own, `models[i]` for the i-th. */
async function queuedVariants(models: string[]) {
  const key = `model-limits-${++n}`;
  const levels = models.map((_, i) => `${key}l${i}`);
  const s = await setupCampaign(t, auth, { levels: { tone: levels } });
  const run = await startRun(t, auth, { ...s, key });
  const ids = (await variantsOf(t, run.id)).map((v) => v.id);
  const provider = `pm${n}`;
  for (const [i, id] of ids.entries())
    await t.testDb.pool.query(`UPDATE variants SET provider = $2, model = $3 WHERE id = $1`, [
      id,
      provider,
      models[i],
    ]);
  return { ids, provider };
}

const claim = (
  p: { variantId: string; provider: string; model: string },
  limits: ProviderLimits,
): Promise<Claim> =>
  claimSubmit(t.infra.database.db, {
    subject: variantSubject,
    id: p.variantId,
    provider: p.provider,
    model: p.model,
    from: openStatuses,
    limits,
    busyRetryMs: 20,
  });

const outcome = (c: Claim) => (c.kind === 'wait' ? c.reason : c.kind);

describe('a model with caps of its own', () => {
  it("counts only its own renders against its concurrency, while the provider's cap bounds them all", async () => {
    const models = ['slow', 'slow', 'fast', 'fast', 'fast'];
    const { ids, provider } = await queuedVariants(models);
    const limits: ProviderLimits = {
      rpm: 1_000,
      maxConcurrent: 3,
      models: { slow: { maxConcurrent: 1 } },
    };
    const answers = [];
    for (const [i, id] of ids.entries())
      answers.push(outcome(await claim({ variantId: id, provider, model: models[i]! }, limits)));
    // slow: one at a time; fast: free of slow's cap, until the provider's three are in flight.
    expect(answers).toEqual(['claimed', 'busy', 'claimed', 'claimed', 'busy']);
    // The slow render leaves flight: the second slow one may go, though fast ones wait.
    await t.testDb.pool.query(`UPDATE variants SET status = 'ready' WHERE id = $1`, [ids[0]]);
    expect(outcome(await claim({ variantId: ids[1]!, provider, model: 'slow' }, limits))).toBe(
      'claimed',
    );
    expect(outcome(await claim({ variantId: ids[4]!, provider, model: 'fast' }, limits))).toBe(
      'busy',
    );
  });

  it('has its own RPM under the provider’s', async () => {
    const models = ['slow', 'slow', 'fast', 'fast'];
    const { ids, provider } = await queuedVariants(models);
    const limits: ProviderLimits = {
      rpm: 3,
      maxConcurrent: 1_000,
      windowMs: 60_000,
      models: { slow: { rpm: 1 } },
    };
    const answers = [];
    for (const [i, id] of ids.entries()) {
      const c = await claim({ variantId: id, provider, model: models[i]! }, limits);
      if (c.kind === 'claimed')
        await finishProviderCall(t.infra.database.db, { callId: c.callId, outcome: 'accepted' });
      answers.push(outcome(c));
    }
    // The second slow create waits for slow's own window; fast ones fill the provider's three.
    expect(answers).toEqual(['claimed', 'rpm', 'claimed', 'claimed']);
  });

  it('has its own daily cap: beside a provider-wide one, or in place of a per-model one', async () => {
    const db = t.infra.database.db;
    const take = async (id: string, provider: string, model: string, limits: ProviderLimits) => {
      const c = await claim({ variantId: id, provider, model }, limits);
      if (c.kind === 'claimed')
        await finishProviderCall(db, { callId: c.callId, outcome: 'accepted' });
      return outcome(c);
    };
    // fal's shape: the provider's cap counts every model; a model may have a smaller one.
    const wide = await queuedVariants(['veo', 'veo', 'pika', 'pika', 'pika']);
    const wideLimits: ProviderLimits = {
      rpm: 1_000,
      maxConcurrent: 1_000,
      dailyLimit: 3,
      models: { veo: { dailyLimit: 1 } },
    };
    const wideAnswers = [];
    for (const [i, id] of wide.ids.entries())
      wideAnswers.push(
        await take(id, wide.provider, ['veo', 'veo', 'pika', 'pika', 'pika'][i]!, wideLimits),
      );
    expect(wideAnswers).toEqual(['claimed', 'daily', 'claimed', 'claimed', 'daily']);

    // Runway's shape: the provider's cap is per model; a model's own replaces it.
    const perModel = await queuedVariants(['gen4.5', 'gen4.5', 'gen4.5', 'veo3.1', 'veo3.1']);
    const perModelLimits: ProviderLimits = {
      rpm: 1_000,
      maxConcurrent: 1_000,
      dailyLimit: 1,
      dailyPerModel: true,
      models: { 'gen4.5': { dailyLimit: 2 } },
    };
    const perModelAnswers = [];
    for (const [i, id] of perModel.ids.entries())
      perModelAnswers.push(
        await take(
          id,
          perModel.provider,
          ['gen4.5', 'gen4.5', 'gen4.5', 'veo3.1', 'veo3.1'][i]!,
          perModelLimits,
        ),
      );
    expect(perModelAnswers).toEqual(['claimed', 'claimed', 'daily', 'claimed', 'daily']);
  });

  it('workers hold a model to MODEL_LIMITS_JSON while its siblings use the provider’s slots', {
    timeout: 60_000,
  }, async () => {
    const fake = await startFakeVideoServer({ defaults: { queuedMs: 0, renderMs: 1_200 } });
    const workers = startTestWorkers(t, {
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MAX_CONCURRENT: '3',
      MODEL_LIMITS_JSON: JSON.stringify({ openai: { 'sora-2-pro': { max_concurrent: 1 } } }),
      RENDER_CONCURRENCY: '8',
      RENDER_POLL_INTERVAL_MS: '50',
      RENDER_DEADLINE_MS: '30000',
    });
    try {
      const s = await setupCampaign(t, auth, {
        levels: { tone: ['a', 'b', 'c', 'd'] },
        video: { provider: 'openai', model: 'sora-2', seconds: 4, size: '720x1280' },
      });
      // A generator dimension: each tone on sora-2 and on sora-2-pro.
      const matrix = await t.app.inject({
        method: 'POST',
        url: `/v1/campaigns/${s.campaignId}/matrices`,
        headers: { authorization: auth },
        payload: {
          dimensions: [
            { key: 'tone', levels: ['a', 'b', 'c', 'd'].map((key) => ({ key })) },
            {
              key: 'generator',
              levels: [
                { key: 'std' },
                { key: 'pro', video: { provider: 'openai', model: 'sora-2-pro' } },
              ],
            },
          ],
        },
      });
      expect(matrix.statusCode, matrix.body).toBe(201);
      const run = await startRun(t, auth, {
        campaignId: s.campaignId,
        matrixId: matrix.json().id,
        key: 'model-limits-workers',
      });
      expect(run.variant_count).toBe(8);
      const done = await waitForRun(t, auth, run.id, 'completed', 50_000);
      expect(done.counts.ready).toBe(8);
      const records = [...fake.videos.values()];
      const of = (model: string) => records.filter((r) => r.model === model);
      expect([of('sora-2').length, of('sora-2-pro').length]).toEqual([4, 4]);
      // The fake's own clock: a render runs from its create to its end there.
      expect(peakConcurrency(of('sora-2-pro'))).toBe(1);
      expect(peakConcurrency(records)).toBeLessThanOrEqual(3);
      // sora-2 is not held to sora-2-pro's cap.
      expect(peakConcurrency(of('sora-2'))).toBeGreaterThanOrEqual(2);
    } finally {
      await workers.close();
      await fake.close();
    }
  });
});
