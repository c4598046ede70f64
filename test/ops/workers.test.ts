import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, processEnv, type TestApp, waitFor } from '../helpers/app.ts';
import { runCli, type Spawned } from '../helpers/process.ts';
import { setupCampaign, startRun, variantsOf, waitForRun } from '../helpers/scenario.ts';
import { startTestWorkers } from '../helpers/workers.ts';

let t: TestApp;
let auth: string;
let dir: string;
let cli: Spawned | undefined;

// Short, so that "gone after the TTL" is waited for in well under a second of silence.
const heartbeat = { WORKER_HEARTBEAT_MS: '100', WORKER_HEARTBEAT_TTL_MS: '600' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-heartbeat-'));
  t = await createTestApp({ STORAGE_DIR: join(dir, 'storage'), WORK_DIR: join(dir, 'work') });
  auth = await t.key('heartbeat-co');
});
afterAll(async () => {
  cli?.child.kill('SIGKILL');
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const getRun = async (id: string) =>
  (
    await t.app.inject({ method: 'GET', url: `/v1/runs/${id}`, headers: { authorization: auth } })
  ).json() as {
    status: string;
    eta_seconds: number | null;
    workers?: { alive: number; last_seen_at: string | null; warning?: string };
  };
const readyWithWorkers = () => t.app.inject('/readyz?workers=1');
const aliveIs = (n: number) => async () => {
  const res = await readyWithWorkers();
  return res.json().workers?.alive === n || (n === 0 && res.statusCode === 503) ? res : undefined;
};

async function newRun(key: string) {
  const ids = await setupCampaign(t, auth, {
    levels: { tone: ['bold'] },
    video: { provider: 'local', seconds: 4, size: '720x1280' },
  });
  return startRun(t, auth, { ...ids, key });
}

describe('worker heartbeats', () => {
  it('a run with no worker ever seen has no ETA and says so; readiness only when asked', async () => {
    const run = await newRun('hb-1');
    const seen = await getRun(run.id);
    expect(seen.status).toBe('queued');
    expect(seen.eta_seconds).toBeNull();
    expect(seen.workers).toEqual({
      alive: 0,
      last_seen_at: null,
      warning: expect.stringMatching(/No render worker has been seen ever/),
    });
    // The api itself is ready without workers (runs wait in Postgres)...
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    // ...and says otherwise only when asked.
    const strict = await readyWithWorkers();
    expect(strict.statusCode).toBe(503);
    expect(strict.headers['content-type']).toMatch(/problem\+json/);
    expect(strict.json().errors).toEqual([
      { path: 'workers', message: 'no render worker alive (never seen)' },
    ]);
  });

  it('sees a worker process, logs its render steps, and loses it after the TTL when killed', async () => {
    const run = await newRun('hb-2');
    cli = runCli(['worker'], { ...processEnv(t), ...heartbeat });
    await cli.waitForOutput(/worker started/);
    const ready = await waitFor(aliveIs(1), { what: 'the worker heartbeat' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ postgres: 'ok', redis: 'ok', workers: 'ok' });
    await waitForRun(t, auth, run.id);
    // One info line per step, naming the variant, the step and its duration; the run of the
    // first test renders alongside, so this run's variant is picked out by its id.
    const [variant] = await variantsOf(t, run.id);
    await cli.waitForOutput(new RegExp(`"variantId":"${variant?.id}","step":"\\w+","to":"ready"`));
    const steps = cli
      .output()
      .split('\n')
      .filter((l) => l.includes('"render step"') && l.includes(`${variant?.id}`))
      .map((l) => JSON.parse(l));
    expect(steps.length).toBeGreaterThan(1);
    for (const step of steps)
      expect(step).toMatchObject({
        level: 30,
        step: expect.any(String),
        to: expect.any(String),
        ms: expect.any(Number),
      });
    expect((await getRun(run.id)).workers).toMatchObject({ alive: 1 });

    cli.child.kill('SIGKILL');
    await cli.exited();
    cli = undefined;
    // No goodbye from a killed process: it is gone once its key expires.
    await waitFor(aliveIs(0), { what: 'the heartbeat to expire', timeoutMs: 10_000 });
    const waiting = await getRun((await newRun('hb-3')).id);
    expect(waiting.eta_seconds).toBeNull();
    expect(waiting.workers?.alive).toBe(0);
    expect(Date.parse(waiting.workers?.last_seen_at ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(waiting.workers?.warning).toMatch(/No render worker has been seen since/);
  });

  it('sees the test workers, and a clean shutdown at once', async () => {
    const workers = startTestWorkers(t, heartbeat);
    try {
      await waitFor(aliveIs(1), { what: 'the test workers heartbeat' });
    } finally {
      await workers.close();
    }
    // Not waiting for the TTL: a worker that stops cleanly removes its key.
    const res = await readyWithWorkers();
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0].message).toMatch(/no render worker alive \(last seen /);
  });
});
