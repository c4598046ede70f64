/**
 * The create limiter (src/render/claim.ts) against real Postgres and the fake gateway's own
 * arrival stamps: the provider's clock is the one that decides 429s, so it is the one checked.
 * Windows are short (R per 1.5 s) so a test takes seconds; waits are the limiter's own answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunwayProvider } from '../../src/providers/runway/index.ts';
import { ProviderError } from '../../src/providers/types.ts';
import {
  type Claim,
  claimSubmit,
  finishProviderCall,
  type ProviderLimits,
  pauseProvider,
} from '../../src/render/claim.ts';
import { variantSubject } from '../../src/render/subject.ts';
import { openStatuses } from '../../src/variants/lifecycle.ts';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, openaiApiOnly, type TestApp } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-limits-'));
  // The api validates campaigns against the providers this deployment has keys for.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
    ...openaiApiOnly,
  });
  auth = await t.key('limits-co');
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

/** Fresh queued variants (no worker runs them): the limiter's subjects. */
async function queuedVariants(count: number, model?: string) {
  const key = `limits-${++n}`;
  const levels = Array.from({ length: count }, (_, i) => `${key}l${i}`);
  const s = await setupCampaign(t, auth, { levels: { tone: levels } });
  const run = await startRun(t, auth, { ...s, key });
  const ids = (await variantsOf(t, run.id)).map((v) => v.id);
  // Each test its own provider name, so windows, pauses and caps never mix between tests.
  const provider = `p${n}`;
  await t.testDb.pool.query(
    `UPDATE variants SET provider = $2, model = coalesce($3, model) WHERE id = ANY($1)`,
    [ids, provider, model ?? null],
  );
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

/** The most arrivals any window of `windowMs` held, as the fake stamped them. */
function busiest(ats: number[], windowMs: number) {
  const sorted = [...ats].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('create limiter', () => {
  it('never lets the provider see more than R creates in its window, whatever the send latency', {
    timeout: 60_000,
  }, async () => {
    const rpm = 4;
    const windowMs = 1_500;
    const fake: FakeVideoServer = await startFakeVideoServer({
      rpm,
      rpmWindowMs: windowMs,
      defaults: { queuedMs: 0, renderMs: 0 },
    });
    try {
      const { ids, provider } = await queuedVariants(12);
      // Every fourth create is slow to arrive (a congested link): stamped at claim time, it
      // lands late in the provider's window while a fast one enters the next window on time.
      let sent = 0;
      const client = new OpenAI({
        apiKey: 'test',
        baseURL: fake.baseURL,
        maxRetries: 0,
        fetch: async (url, init) => {
          if (sent++ % rpm === 0) await new Promise((r) => setTimeout(r, 400));
          return fetch(url, init);
        },
      });
      const limits = { rpm, maxConcurrent: 1_000, windowMs };
      const queue = [...ids];
      const lanes = Array.from({ length: 4 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          for (;;) {
            const c = await claim({ variantId: id, provider, model: 'sora-2' }, limits);
            if (c.kind === 'wait') {
              // What a worker does with the answer: a delayed re-run after `ms`.
              await new Promise((r) => setTimeout(r, c.ms));
              continue;
            }
            if (c.kind !== 'claimed') throw new Error(`variant ${id} is ${c.kind}`);
            const outcome = await client.videos
              .create({ prompt: id, seconds: '4', size: '720x1280' })
              .then(() => 'accepted' as const)
              .catch(() => 'rejected' as const);
            await finishProviderCall(t.infra.database.db, { callId: c.callId, outcome });
            break;
          }
        }
      });
      await Promise.all(lanes);
      const arrivals = fake.createCalls.map((c) => c.at);
      expect(arrivals).toHaveLength(12);
      expect(fake.count429).toBe(0);
      expect(busiest(arrivals, windowMs)).toBeLessThanOrEqual(rpm);
    } finally {
      await fake.close();
    }
  });

  it('a 429 pauses creates for exactly its Retry-After, recorded, not the queue', {
    timeout: 60_000,
  }, async () => {
    const fake = await startFakeVideoServer({
      defaults: { queuedMs: 0, renderMs: 10 },
      behave: { match: 'busy', outcome: 'rate_limit_429', retryAfterMs: 1_500, failTimes: 1 },
    });
    const workers = startTestWorkers(t, {
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_RPM: '100000',
      OPENAI_MAX_CONCURRENT: '50',
      RENDER_POLL_INTERVAL_MS: '30',
      RENDER_DEADLINE_MS: '10000',
    });
    try {
      const s = await setupCampaign(t, auth, { levels: { tone: ['busy', 'calm'] } });
      const run = await startRun(t, auth, { ...s, key: 'retry-after' });
      await waitForRun(t, auth, run.id, 'completed', 30_000);
      const variants = await variantsOf(t, run.id);
      expect(variants.map((v) => v.status)).toEqual(['ready', 'ready']);
      const { rows } = await t.testDb.pool.query(
        `SELECT model, code, extract(epoch FROM until - created_at) * 1000 AS ms
         FROM provider_pauses WHERE provider = 'openai'`,
      );
      // One pause for the whole provider (a rate limit, not a daily cap), as long as the
      // 429 asked: created_at is the statement's start, so a few ms of slack at most.
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ model: '', code: 'rate_limit_exceeded' });
      expect(Number(rows[0].ms)).toBeGreaterThanOrEqual(1_500);
      expect(Number(rows[0].ms)).toBeLessThan(1_600);
      // Retried once after the pause: one 429, then one accepted create for the prompt.
      expect(fake.count429).toBe(1);
    } finally {
      await workers.close();
      await fake.close();
    }
  });

  it('a daily-cap 429 for one model leaves the provider and its other models running', async () => {
    const { ids, provider } = await queuedVariants(3, 'gen4.5');
    const limits = { rpm: 1_000, maxConcurrent: 1_000 };
    const until = await pauseProvider(t.infra.database.db, {
      provider,
      model: 'gen4.5',
      retryAfterMs: 3_600_000,
      code: 'daily_limit',
    });
    const a = await claim({ variantId: ids[0]!, provider, model: 'gen4.5' }, limits);
    expect(a).toMatchObject({ kind: 'wait', reason: 'paused' });
    const waitMs = (a as { ms: number }).ms;
    expect(waitMs).toBeGreaterThan(3_590_000);
    expect(waitMs).toBeLessThanOrEqual(until.getTime() - Date.now() + 1_000);
    await t.testDb.pool.query(`UPDATE variants SET model = 'veo3.1' WHERE id = $1`, [ids[1]]);
    const b = await claim({ variantId: ids[1]!, provider, model: 'veo3.1' }, limits);
    expect(b.kind).toBe('claimed');
  });

  it('our own daily cap refuses creates beyond it, per model, not counting refused ones', async () => {
    const { ids, provider } = await queuedVariants(5, 'gen4.5');
    const db = t.infra.database.db;
    const limits = { rpm: 1_000, maxConcurrent: 1_000, dailyLimit: 2, dailyPerModel: true };
    const take = async (id: string, model: string) => {
      const c = await claim({ variantId: id, provider, model }, limits);
      if (c.kind !== 'claimed') return c;
      return c;
    };
    const first = await take(ids[0]!, 'gen4.5');
    if (first.kind !== 'claimed') throw new Error('first create refused');
    // The provider refused this one (a 4xx): no generation happened, so it does not count.
    await finishProviderCall(db, { callId: first.callId, outcome: 'rejected' });
    for (const id of ids.slice(1, 3)) {
      const c = await take(id, 'gen4.5');
      if (c.kind !== 'claimed') throw new Error(`create for ${id} refused: ${JSON.stringify(c)}`);
      await finishProviderCall(db, { callId: c.callId, outcome: 'accepted' });
    }
    const over = await take(ids[3]!, 'gen4.5');
    expect(over).toMatchObject({ kind: 'wait', reason: 'daily' });
    // The oldest counted create leaves the rolling day in just under 24 h.
    expect((over as { ms: number }).ms).toBeGreaterThan(23.9 * 3_600_000);
    await t.testDb.pool.query(`UPDATE variants SET model = 'veo3.1' WHERE id = $1`, [ids[4]]);
    expect((await take(ids[4]!, 'veo3.1')).kind).toBe('claimed');
  });

  it('against Runway, our daily cap per model stops creates before Runway would 429', async () => {
    const fake = await startFakeRunway({ dailyLimit: 2 });
    try {
      const provider = createRunwayProvider({ apiKey: fake.apiKey, baseURL: fake.url });
      const { ids, provider: name } = await queuedVariants(4, 'gen4.5');
      await t.testDb.pool.query(`UPDATE variants SET model = 'veo3.1' WHERE id = $1`, [ids[3]]);
      const limits = { rpm: 1_000, maxConcurrent: 1_000, dailyLimit: 2, dailyPerModel: true };
      const answers: string[] = [];
      for (const [i, id] of ids.entries()) {
        const model = i === 3 ? 'veo3.1' : 'gen4.5';
        const c = await claim({ variantId: id, provider: name, model }, limits);
        if (c.kind !== 'claimed') {
          answers.push(c.kind === 'wait' ? c.reason : c.kind);
          continue;
        }
        const outcome = await provider
          .submit({ variantId: id, prompt: `ad ${id}`, model, seconds: 4, size: '1280x720' })
          .then(() => 'accepted' as const)
          .catch((err: unknown) => {
            if (err instanceof ProviderError) answers.push(err.code);
            return 'rejected' as const;
          });
        await finishProviderCall(t.infra.database.db, { callId: c.callId, outcome });
        answers.push(outcome);
      }
      // The third gen4.5 create would be Runway's 429 daily_limit; it is never sent.
      expect(answers).toEqual(['accepted', 'accepted', 'daily', 'accepted']);
      expect(fake.createCalls.map((c) => c.status)).toEqual([200, 200, 200]);
    } finally {
      await fake.close();
    }
  });
});
