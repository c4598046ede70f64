import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type FakeVideoServer, startFakeVideoServer } from '../fake-provider/index.ts';
import { createTestApp, openaiApiOnly, processEnv, type TestApp, waitFor } from '../helpers/app.ts';
import { runCli, type Spawned } from '../helpers/process.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';

let t: TestApp;
let fake: FakeVideoServer;
let auth: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-spot-chaos-'));
  fake = await startFakeVideoServer({
    defaults: { queuedMs: 50, renderMs: 250, progressSteps: 3 },
  });
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    ...openaiApiOnly,
  });
  auth = await t.key('spot-chaos-co');
});
afterAll(async () => {
  await t.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const settled = ['ready', 'failed', 'blocked', 'cancelled', 'held'];

const workerEnv = () => ({
  ...processEnv(t),
  OPENAI_API_KEY: 'test',
  OPENAI_BASE_URL: fake.baseURL,
  OPENAI_MAX_CONCURRENT: '20',
  OPENAI_RPM: '100000',
  RENDER_CONCURRENCY: '8',
  RENDER_POLL_INTERVAL_MS: '40',
  WORKER_LOCK_MS: '1500',
  RECONCILE_INTERVAL_MS: '300',
  RECONCILE_GRACE_MS: '500',
  LOG_LEVEL: 'info',
});

describe('spot chaos', () => {
  it('workers SIGKILLed during shot renders and during assembly: no shot paid twice, every variant assembled', {
    timeout: 240_000,
  }, async () => {
    // Every create is answered 400 ms after the fake records it: a kill sent as soon as a new
    // render appears lands while its create is still in flight (paid, id never received).
    fake.when(/./, { createDelayMs: 400 });
    const s = await setupCampaign(t, auth, {
      levels: { setting: ['pier', 'mall', 'farm'], tone: ['calm', 'loud'], city: ['nara', 'bern'] },
      template: 'Ad {{setting}} {{tone}} {{city}}',
      spot: {
        shots: [
          { key: 'opening', prompt_template: 'Opening: {{setting}}, {{tone}}', seconds: 4 },
          { key: 'street', prompt_template: 'Street in {{city}}\nhandheld', seconds: 4 },
          // Chained: one pack shot per street, each sent once its street is ready.
          {
            key: 'pack',
            prompt_template: 'Pack shot of {{brief.product}}',
            seconds: 4,
            first_frame: 'previous_last_frame',
          },
        ],
        transition: { type: 'cut' },
        // A kill during assembly may land between the renditions: none is stored twice.
        formats: ['1:1'],
      },
    });
    const run = await startRun(t, auth, { ...s, key: 'spot-sigkill' });
    const env = workerEnv();
    const statuses = async () => (await variantsOf(t, run.id)).map((v) => v.status);
    // Every worker this test spawns, so a failure part-way cannot leave one writing to Redis
    // after the test's keys are removed.
    const spawned: Spawned[] = [];
    const start = async () => {
      const worker = runCli(['worker'], env);
      spawned.push(worker);
      await worker.waitForOutput(/worker started/, 60_000);
      return worker;
    };
    const kill = async (worker: Spawned) => {
      worker.child.kill('SIGKILL');
      await worker.exited();
    };
    onTestFinished(async () => {
      for (const w of spawned)
        if (w.child.exitCode === null && w.child.signalCode === null) await kill(w);
    });
    const shotRows = async () =>
      (
        await t.testDb.pool.query<{ status: string }>(
          'SELECT status FROM shots WHERE campaign_id = $1',
          [s.campaignId],
        )
      ).rows;
    // Kills at observed points, never after a guessed delay: twice while creates are in flight
    // (the fake has the render, the worker has no id), then twice while renders are polled.
    const killPoints: string[] = [];
    for (let round = 0; round < 4; round++) {
      const worker = await start();
      const createdBefore = fake.videos.size;
      const point = await waitFor(
        async () => {
          if (round < 2 && fake.videos.size > createdBefore) return 'create in flight';
          if (round >= 2 && (await shotRows()).some((r) => r.status === 'rendering'))
            return 'rendering';
          if ((await shotRows()).every((r) => r.status === 'ready')) return 'all shots ready';
          return undefined;
        },
        { timeoutMs: 60_000, what: `kill point of round ${round}` },
      );
      await kill(worker);
      killPoints.push(point);
    }
    // A kill in the middle of an assembly (compositing is the ffmpeg step).
    const worker = await start();
    const assembling = await waitFor(
      async () => ((await statuses()).includes('compositing') ? true : undefined),
      { timeoutMs: 120_000, what: 'a variant to be assembling' },
    ).catch(() => false);
    await kill(worker);

    const last = runCli(['worker'], env);
    spawned.push(last);
    try {
      const variants = await waitFor(
        async () => {
          const rows = await variantsOf(t, run.id);
          return rows.every((v) => settled.includes(v.status)) ? rows : undefined;
        },
        { timeoutMs: 150_000, what: 'every variant to settle' },
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}: ${(await statuses()).join(' ')}\n${last.output().slice(-3000)}`,
        );
      });
      // The first two kills must have hit creates in flight; the others a render or later.
      expect(killPoints.slice(0, 2)).toEqual(['create in flight', 'create in flight']);
      expect(assembling).toBe(true);
      expect(variants.map((v) => v.status)).toEqual(Array(12).fill('ready'));
      // 6 openings + 2 streets + 2 pack shots (one per street), each created once whatever
      // the kills hit.
      const perPrompt = new Map<string, number>();
      for (const v of fake.videos.values())
        perPrompt.set(v.prompt, (perPrompt.get(v.prompt) ?? 0) + 1);
      expect(perPrompt.size).toBe(9);
      expect([...perPrompt.entries()].filter(([, n]) => n !== 1)).toEqual([
        ['Pack shot of Fizz', 2],
      ]);
      const renditions = await t.testDb.pool.query(
        `SELECT r.format, r.width, r.height FROM variant_renditions r
         JOIN run_variants rv ON rv.variant_id = r.variant_id WHERE rv.run_id = $1`,
        [run.id],
      );
      expect(renditions.rows).toEqual(Array(12).fill({ format: '1:1', width: 720, height: 720 }));
      const { rows } = await t.testDb.pool.query(
        'SELECT status, actual_cost_usd, cost_usd FROM shots WHERE campaign_id = $1',
        [s.campaignId],
      );
      expect(rows).toHaveLength(10);
      // Paid exactly once each: the price added at create, never a second time.
      expect(rows.every((r) => r.status === 'ready' && r.actual_cost_usd === r.cost_usd)).toBe(
        true,
      );
    } finally {
      last.child.kill('SIGTERM');
      await last.exited();
    }
  });
});
