import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerWorkDirAreas } from '../../src/providers/registry.ts';
import { stepScratchAreas, sweepWorkDir } from '../../src/render/work-dir-sweep.ts';
import { createTestApp, processEnv, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-sweep-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const areas = [...stepScratchAreas, ...providerWorkDirAreas];

/** Writes a file (and its parents) last modified `ageMs` ago. */
async function leave(path: string, ageMs: number): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, 'x');
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
  return path;
}

async function age(path: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
}

describe('work dir sweep', () => {
  it('removes stranded scratch and stale local renders, keeps what live steps are using', async () => {
    const work = join(dir, 'unit');
    const oldComposite = join(work, 'composite', 'dead');
    await leave(join(oldComposite, 'final.mp4'), 2 * HOUR);
    await age(oldComposite, 2 * HOUR);
    // A directory created long ago whose step is still writing: touched a minute ago.
    const busyComposite = join(work, 'composite', 'busy');
    await leave(join(busyComposite, 'final.mp4'), 60_000);
    await age(busyComposite, 3 * HOUR);
    const freshFrame = join(work, 'first-frame', 'fresh');
    await leave(join(freshFrame, 'in'), 1000);
    const oldFrame = join(work, 'first-frame', 'old');
    await leave(join(oldFrame, 'in'), 5 * HOUR);
    await age(oldFrame, 5 * HOUR);
    const tempRender = await leave(join(work, 'local', '.var_1.abc.render.mp4'), 2 * HOUR);
    const doneRender = await leave(join(work, 'local', 'var_2.mp4'), 2 * HOUR);
    const staleRender = await leave(join(work, 'local', 'var_3.mp4'), 25 * HOUR);
    const unrelated = await leave(join(work, 'fonts', 'cache'), 100 * HOUR);

    const removed = await sweepWorkDir(work, areas);
    expect(removed.sort()).toEqual([oldComposite, oldFrame, tempRender, staleRender].sort());
    for (const kept of [busyComposite, freshFrame, doneRender, unrelated])
      expect(existsSync(kept)).toBe(true);
    for (const gone of removed) expect(existsSync(gone)).toBe(false);
    // Nothing left to do: a second sweep removes nothing.
    expect(await sweepWorkDir(work, areas)).toEqual([]);
  });

  it('is a no-op on a work dir that does not exist yet', async () => {
    expect(await sweepWorkDir(join(dir, 'never-made'), areas)).toEqual([]);
  });

  describe('at worker start', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ WORK_DIR: join(dir, 'worker-work') });
    });
    afterAll(async () => {
      await t.close();
    });

    it('a restarted worker clears what a killed one left behind', async () => {
      const stranded = join(t.config.WORK_DIR, 'composite', 'killed-mid-step');
      await leave(join(stranded, 'assembled.mp4'), 2 * HOUR);
      await age(stranded, 2 * HOUR);
      const worker = runCli(['worker'], processEnv(t));
      try {
        await worker.waitForOutput(/work dir swept/, 30_000);
        expect(existsSync(stranded)).toBe(false);
      } finally {
        worker.child.kill('SIGTERM');
        await worker.exited();
      }
    });
  });
});
