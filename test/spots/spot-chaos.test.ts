import { readdirSync, readFileSync } from 'node:fs';
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

// The fake's time stands still while held: every render it has stays in progress, so a kill
// point "while a render is polled" cannot be overtaken by the renders finishing.
let heldAt: number | null = null;
let lostMs = 0;
const fakeNow = () => heldAt ?? Date.now() - lostMs;
const hold = () => {
  heldAt ??= fakeNow();
};
const release = () => {
  if (heldAt !== null) lostMs = Date.now() - heldAt;
  heldAt = null;
};

/** The worker's child processes with their command lines (absent once they exit). */
function childrenOf(pid: number): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`))
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' '))
        if (child.trim())
          found.push({
            pid: Number(child),
            argv: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0'),
          });
  } catch {
    // A child (or the worker) exited between the listing and the read: look again next time.
  }
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-spot-chaos-'));
  fake = await startFakeVideoServer({
    defaults: { queuedMs: 50, renderMs: 250, progressSteps: 3 },
    clock: fakeNow,
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
    // Bounded by the waits below; on 2 shared cores at load average ~30, settling 12 assemblies
    // (each with a rendition) alone took more than the 150 s this test used to allow.
    timeout: 600_000,
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
    // A retrieve of a render the fake still has in progress, answered after `since`.
    const polledInProgress = (since: number) =>
      fake.requests
        .slice(since)
        .map((r) => (r.method === 'GET' ? /^\/v1\/videos\/([^/?]+)$/.exec(r.url)?.[1] : undefined))
        .find((id) => id && ['queued', 'in_progress'].includes(fake.video(id)?.status ?? ''));
    const packs = /^Pack shot/;
    // Kills at observed points, never after a guessed delay. Round 0: a first-level create in
    // flight (the fake has the render, the worker has no id). Round 1, time held: while renders
    // are polled. Round 2, time running: a chained pack shot's create in flight (none can exist
    // before: its street cannot finish while time is held). Round 3, time held again from that
    // create on: while the pack shot is polled, so it cannot have finished.
    const rounds = [
      { time: 'held', point: 'create in flight' },
      { time: 'held', point: 'render polled' },
      { time: 'running', point: 'pack create in flight' },
      { time: 'held', point: 'render polled' },
    ] as const;
    const killPoints: string[] = [];
    for (const [round, plan] of rounds.entries()) {
      if (plan.time === 'held') hold();
      else release();
      const worker = await start();
      const createdBefore = fake.videos.size;
      const packsBefore = fake.createCount(packs);
      const requestsBefore = fake.requests.length;
      const point = await waitFor(
        () => {
          if (plan.point === 'create in flight')
            return fake.videos.size > createdBefore ? plan.point : undefined;
          if (plan.point === 'pack create in flight') {
            if (fake.createCount(packs) === packsBefore) return undefined;
            hold();
            return plan.point;
          }
          return polledInProgress(requestsBefore) ? plan.point : undefined;
        },
        { timeoutMs: 60_000, what: `kill point of round ${round} (${plan.point})` },
      );
      await kill(worker);
      killPoints.push(point);
    }
    // A kill in the middle of an assembly: once the worker has an ffmpeg child writing a
    // variant's assembled.mp4 (src/spots/assembly.ts) in its compositing scratch dir, not merely
    // a variant in status compositing, which it enters before ffmpeg starts.
    release();
    const worker = await start();
    const scratch = join(dir, 'work', 'composite');
    const ffmpeg = await waitFor(
      () =>
        childrenOf(worker.child.pid!).find(
          (c) =>
            /ffmpeg$/.test(c.argv[0] ?? '') &&
            c.argv.some((a) => a.includes(scratch) && a.includes('assembled.mp4')),
        ),
      { timeoutMs: 120_000, what: 'an assembly ffmpeg child of the worker' },
    );
    const assemblingVariants = (await statuses()).filter((st) => st === 'compositing').length;
    await kill(worker);
    // A host that dies takes the worker's children with it.
    try {
      process.kill(ffmpeg.pid, 'SIGKILL');
    } catch {
      // It had finished already.
    }

    // The survivor's jobs are not killed: a longer lock, so a loaded machine does not make them
    // look stalled and process them twice. The dead workers' locks (1.5 s) still expire soon.
    const last = runCli(['worker'], { ...env, WORKER_LOCK_MS: '5000' });
    spawned.push(last);
    try {
      const variants = await waitFor(
        async () => {
          const rows = await variantsOf(t, run.id);
          return rows.every((v) => settled.includes(v.status)) ? rows : undefined;
        },
        { timeoutMs: 360_000, what: 'every variant to settle' },
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}: ${(await statuses()).join(' ')}\n${last.output().slice(-3000)}`,
        );
      });
      expect(killPoints).toEqual(rounds.map((r) => r.point));
      expect(assemblingVariants).toBeGreaterThan(0);
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
      await last.exited(60_000);
    }
  });
});
