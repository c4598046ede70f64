import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFal, startFakeFal } from '../fake-fal/index.ts';
import { type FakeRunwayServer, startFakeRunway } from '../fake-runway/index.ts';
import { createTestApp, processEnv, type TestApp, waitFor } from '../helpers/app.ts';
import { runCli, type Spawned } from '../helpers/process.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';

let t: TestApp;
let fal: FakeFal;
let runway: FakeRunwayServer;
let auth: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-pchaos-'));
  fal = await startFakeFal({ maxConcurrent: 8, defaults: { queuedMs: 50, renderMs: 250 } });
  runway = await startFakeRunway({ maxConcurrent: 8, defaults: { pendingMs: 50, renderMs: 250 } });
  // The api validates campaigns against the providers this deployment has keys for.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    RUNWAYML_API_SECRET: 'api-side-key',
    FAL_KEY: 'api-side-key',
  });
  auth = await t.key('pchaos-co');
});
afterAll(async () => {
  await t?.close();
  await fal?.close();
  await runway?.close();
  await rm(dir, { recursive: true, force: true });
});

// held is where a kill inside a create ends on these providers: out of the pipeline, unpaid twice.
const done = ['ready', 'failed', 'blocked', 'cancelled', 'held'];

const workerEnv = () => ({
  ...processEnv(t),
  FAL_KEY: 'test-fal-key',
  FAL_QUEUE_URL: fal.queueUrl,
  FAL_JWKS_URL: fal.jwksUrl,
  FAL_RPM: '100000',
  FAL_MAX_CONCURRENT: '20',
  RUNWAYML_API_SECRET: runway.apiKey,
  RUNWAYML_BASE_URL: runway.url,
  RUNWAY_POLL_MIN_MS: '100',
  RUNWAY_RPM: '100000',
  RUNWAY_MAX_CONCURRENT: '20',
  RENDER_CONCURRENCY: '8',
  RENDER_POLL_INTERVAL_MS: '40',
  WORKER_LOCK_MS: '1500',
  RECONCILE_INTERVAL_MS: '300',
  RECONCILE_GRACE_MS: '500',
  LOG_LEVEL: 'info',
});

const cases = [
  {
    provider: 'runway',
    video: { provider: 'runway', seconds: 2, size: '1280x720' },
    creates: (prompt: string) => runway.createCount(prompt),
    slowCreates: () => runway.when(/kill[0-3] /, { createDelayMs: 400 }),
  },
  {
    provider: 'fal',
    video: { provider: 'fal', seconds: 5, size: '1280x720' },
    creates: (prompt: string) => fal.createCount(prompt),
    slowCreates: () => {},
  },
] as const;

describe('workers SIGKILLed during a run', () => {
  for (const c of cases) {
    it(`${c.provider}: one create per variant at most, held where a kill hit a create`, {
      timeout: 60_000,
    }, async () => {
      c.slowCreates();
      const s = await setupCampaign(t, auth, {
        levels: { tone: Array.from({ length: 8 }, (_, i) => `kill${i}`), setting: [c.provider] },
        video: c.video,
      });
      const run = await startRun(t, auth, { ...s, key: `kill-${c.provider}` });
      let seed = 11;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const allDone = async () => {
        const vs = await variantsOf(t, run.id);
        return vs.every((v) => done.includes(v.status)) ? vs : undefined;
      };
      let kills = 0;
      for (let round = 0; round < 4; round++) {
        const worker: Spawned = runCli(['worker'], workerEnv());
        await worker.waitForOutput(/worker started/, 30_000);
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(random() * 700)));
        worker.child.kill('SIGKILL');
        await worker.exited();
        kills++;
        if (await allDone()) break;
      }
      const last = runCli(['worker'], workerEnv());
      try {
        const variants = await waitFor(allDone, {
          timeoutMs: 40_000,
          what: 'every variant to be ready or held',
        }).catch(async (err: Error) => {
          const statuses = (await variantsOf(t, run.id)).map((v) => `${v.status}/${v.error_code}`);
          throw new Error(`${err.message}: ${statuses.join(' ')}\n${last.output().slice(-2000)}`);
        });
        expect(kills).toBeGreaterThan(0);
        for (const v of variants) {
          const n = c.creates(v.prompt);
          if (v.status === 'held') {
            // Killed inside (or just before) the create: at most the one, never resubmitted.
            expect(v.error_code).toBe('ambiguous_create');
            expect(n).toBeLessThanOrEqual(1);
          } else {
            expect(v.status).toBe('ready');
            expect(n).toBe(1);
          }
        }
        const held = variants.filter((v) => v.status === 'held').length;
        const total = variants.reduce((a, v) => a + c.creates(v.prompt), 0);
        expect(total).toBeGreaterThanOrEqual(variants.length - held);
        expect(total).toBeLessThanOrEqual(variants.length);
      } finally {
        last.child.kill('SIGTERM');
        await last.exited();
      }
    });
  }
});
