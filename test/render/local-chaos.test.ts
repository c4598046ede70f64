import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, processEnv, type TestApp, waitFor } from '../helpers/app.ts';
import { runCli, type Spawned } from '../helpers/process.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';

/**
 * The built-in renderer runs ffmpeg inside the worker, so a SIGKILL lands in the middle of a
 * render: the next worker must finish every variant from what Postgres and WORK_DIR hold, with
 * one MP4 per variant and nothing stored that no variant points to.
 */
let t: TestApp;
let auth: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-lchaos-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  auth = await t.key('lchaos-co');
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const workerEnv = () => ({
  ...processEnv(t),
  LOCAL_MAX_CONCURRENT: '4',
  RENDER_CONCURRENCY: '4',
  RENDER_POLL_INTERVAL_MS: '40',
  WORKER_LOCK_MS: '1500',
  RECONCILE_INTERVAL_MS: '300',
  RECONCILE_GRACE_MS: '500',
  LOG_LEVEL: 'info',
});

/** Every file under `root`, relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe('workers SIGKILLed while rendering on local', () => {
  it('a new worker finishes every variant, one MP4 and one stored set each', {
    timeout: 120_000,
  }, async () => {
    const s = await setupCampaign(t, auth, {
      levels: { tone: Array.from({ length: 8 }, (_, i) => `kill${i}`), setting: ['local'] },
      video: { provider: 'local', seconds: 2, size: '640x360' },
    });
    const run = await startRun(t, auth, { ...s, key: 'kill-local' });
    const inRender = async () =>
      (await variantsOf(t, run.id)).some((v) => v.status === 'submitting') ? true : undefined;
    const ready = async () => {
      const vs = await variantsOf(t, run.id);
      return vs.every((v) => v.status === 'ready') ? vs : undefined;
    };
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      const worker: Spawned = runCli(['worker'], workerEnv());
      await worker.waitForOutput(/worker started/, 30_000);
      // The local provider renders inside its create: `submitting` is ffmpeg at work.
      const rendering = await waitFor(inRender, { timeoutMs: 20_000 }).catch(() => false);
      worker.child.kill('SIGKILL');
      await worker.exited();
      if (rendering) kills++;
      if (await ready()) break;
    }
    const last = runCli(['worker'], workerEnv());
    try {
      const variants = await waitFor(ready, {
        timeoutMs: 60_000,
        what: 'every variant to be ready',
      }).catch(async (err: Error) => {
        const statuses = (await variantsOf(t, run.id)).map((v) => `${v.status}/${v.error_code}`);
        throw new Error(`${err.message}: ${statuses.join(' ')}\n${last.output().slice(-2000)}`);
      });
      expect(kills).toBeGreaterThan(0);
      // A kill inside a render left its variant `submitting`: claimed again, then rendered.
      expect(variants.some((v) => v.attempts > 1)).toBe(true);
      for (const v of variants) {
        expect(v.provider_job_id).toBe(`local_${v.id}`);
        expect(Number(v.duration_s)).toBeCloseTo(2, 0);
      }
      // One finished render per variant (a killed render's temp file is not one).
      const mp4s = (await filesUnder(join(dir, 'work', 'local'))).filter(
        (f) => f.endsWith('.mp4') && !f.startsWith('.'),
      );
      expect(mp4s).toEqual(variants.map((v) => `${v.id}.mp4`).sort());
      // Stored once: every object in storage is a variant's raw render, video or thumbnail.
      const { rows } = await t.testDb.pool.query(
        `SELECT raw_key, video_key, thumbnail_key FROM variants v
         JOIN run_variants rv ON rv.variant_id = v.id WHERE rv.run_id = $1`,
        [run.id],
      );
      const referenced = new Set(
        rows.flatMap((r) => [r.raw_key, r.video_key, r.thumbnail_key]).filter(Boolean),
      );
      const stored = (await filesUnder(join(dir, 'storage'))).filter((f) => !f.startsWith('.'));
      expect(stored.sort()).toEqual([...referenced].sort());
    } finally {
      last.child.kill('SIGTERM');
      await last.exited();
    }
  });
});
