import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, processEnv, type TestApp, waitFor } from '../helpers/app.ts';
import { runCli, type Spawned } from '../helpers/process.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-chaos-'));
  fake = await startFakeVideoServer({
    defaults: { queuedMs: 50, renderMs: 250, progressSteps: 3 },
  });
  // The api validates campaigns against the providers it has keys for; the workers here talk
  // to the fake gateway.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  auth = await t.key('chaos-co');
});
afterAll(async () => {
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const settled = ['ready', 'failed', 'blocked', 'cancelled'];

function createdPerPrompt() {
  const counts = new Map<string, number>();
  for (const v of fake.videos.values()) counts.set(v.prompt, (counts.get(v.prompt) ?? 0) + 1);
  return counts;
}

async function allSettled(runId: string) {
  const variants = await variantsOf(t, runId);
  return variants.every((v) => settled.includes(v.status)) ? variants : undefined;
}

const workerEnv = (extra: Record<string, string> = {}) => ({
  ...processEnv(t),
  OPENAI_API_KEY: 'test',
  OPENAI_BASE_URL: fake.baseURL,
  OPENAI_MAX_CONCURRENT: '20',
  OPENAI_RPM: '100000',
  RENDER_CONCURRENCY: '8',
  RENDER_POLL_INTERVAL_MS: '40',
  LOG_LEVEL: 'info',
  ...extra,
});

describe('chaos', () => {
  it('recovers a run after Redis loses every job, paying for nothing twice', {
    timeout: 90_000,
  }, async () => {
    fake.reset();
    const workers = startTestWorkers(t, {
      ...workerEnv(),
      LOG_LEVEL: 'silent',
      RECONCILE_GRACE_MS: '100',
    });
    try {
      const s = await setupCampaign(t, auth, {
        levels: {
          tone: Array.from({ length: 10 }, (_, i) => `flush${i}`),
          setting: ['a', 'b', 'c'],
        },
      });
      const run = await startRun(t, auth, { ...s, key: 'flush' });
      await waitFor(
        async () =>
          (await variantsOf(t, run.id)).some((v) => v.status === 'ready') ? true : undefined,
        { timeoutMs: 30_000 },
      );
      // Everything under this file's prefix goes, mid-run: queued, delayed and active jobs alike.
      const redis = new Redis(t.config.REDIS_URL);
      const keys = await redis.keys(`${t.config.QUEUE_PREFIX}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
      await redis.quit();
      const before = await variantsOf(t, run.id);
      expect(before.some((v) => !settled.includes(v.status))).toBe(true);
      const variants = await waitFor(
        async () => {
          await workers.reconcile();
          return allSettled(run.id);
        },
        { timeoutMs: 60_000, what: 'every variant to settle after the flush' },
      );
      expect(variants.every((v) => v.status === 'ready')).toBe(true);
      const perPrompt = createdPerPrompt();
      expect(perPrompt.size).toBe(30);
      expect([...perPrompt.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await workers.close();
    }
  });

  it('survives workers killed with SIGKILL at random moments, one render per variant', {
    timeout: 150_000,
  }, async () => {
    fake.reset();
    // Slow creates widen the window in which a kill lands between "accepted" and "stored".
    fake.when(/kill[0-4] /, { createDelayMs: 400 });
    const s = await setupCampaign(t, auth, {
      levels: { tone: Array.from({ length: 12 }, (_, i) => `kill${i}`), setting: ['a', 'b'] },
    });
    const run = await startRun(t, auth, { ...s, key: 'sigkill' });
    const env = workerEnv({
      WORKER_LOCK_MS: '1500',
      RECONCILE_INTERVAL_MS: '300',
      RECONCILE_GRACE_MS: '500',
    });
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const worker: Spawned = runCli(['worker'], env);
      await worker.waitForOutput(/worker started/, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(random() * 900)));
      worker.child.kill('SIGKILL');
      await worker.exited();
      kills++;
      if (await allSettled(run.id)) break;
    }
    const last = runCli(['worker'], env);
    try {
      const variants = await waitFor(() => allSettled(run.id), {
        timeoutMs: 90_000,
        what: 'every variant to settle',
      }).catch(async (err: Error) => {
        const statuses = (await variantsOf(t, run.id)).map(
          (v) => `${v.status}/${v.attempts}/${v.error_code ?? ''}`,
        );
        throw new Error(`${err.message}: ${statuses.join(' ')}\n${last.output().slice(-3000)}`);
      });
      expect(kills).toBeGreaterThan(0);
      expect(variants.every((v) => v.status === 'ready')).toBe(true);
      const perPrompt = createdPerPrompt();
      expect(perPrompt.size).toBe(24);
      expect([...perPrompt.values()].every((n) => n === 1)).toBe(true);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited();
    }
  });
});
