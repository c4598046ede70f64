import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startTestWorkers } from '../helpers/workers.ts';
import { readyVariants } from '../webhooks/helpers.ts';
import { type ConsoleClient, signIn } from './helpers.ts';

let t: TestApp;
let dir: string;
let workers: ReturnType<typeof startTestWorkers>;
let c: ConsoleClient;
let run: Awaited<ReturnType<typeof readyVariants>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amx-console-bulk-'));
  // Two at a time, so the bound shows with six variants.
  t = await createTestApp({
    STORAGE_DIR: join(dir, 'storage'),
    WORK_DIR: join(dir, 'work'),
    CONSOLE_BULK_REVIEW_MAX: '2',
  });
  workers = startTestWorkers(t, { RENDER_POLL_INTERVAL_MS: '50', LOCAL_MAX_CONCURRENT: '4' });
  const auth = await t.key('console-bulk-co');
  run = await readyVariants(t, auth, {
    levels: { tone: ['playful', 'serious'], setting: ['beach', 'city', 'park'] },
    key: 'console-bulk-run',
    requireApproval: true,
    reconcile: () => workers.reconcile(),
  });
  c = await signIn(t, auth);
}, 60_000);
afterAll(async () => {
  await workers?.close();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const statuses = async () =>
  (
    await t.testDb.pool.query<{ tone: string; status: string; review_reason: string | null }>(
      `SELECT v.levels->>'tone' AS tone, v.status, v.review_reason
       FROM variants v JOIN run_variants rv ON rv.variant_id = v.id WHERE rv.run_id = $1`,
      [run.runId],
    )
  ).rows;

describe('console review: all matching the filter', () => {
  it('states how many it will touch, asks again when that changed, and decides at most that many', async () => {
    const url = `/console/runs/${run.runId}/review-all`;
    const grid = await c.get(`/console/runs/${run.runId}/review?level.tone=playful`);
    expect(grid.statusCode).toBe(200);
    expect(grid.body).toContain('3 variants ready to review match this filter');
    expect(grid.body).toContain('Approve all 3 matching…</button>');
    expect(grid.body).toContain('<input type="hidden" name="level.tone" value="playful">');

    // First step: a confirmation naming the number, bounded to two at a time.
    const ask = await c.post(url, { decision: 'approved', 'level.tone': 'playful' });
    expect(ask.statusCode).toBe(200);
    expect(ask.body).toContain('<strong>2 variants</strong> of the 3 ready variants matching');
    expect(ask.body).toContain('<input type="hidden" name="expected" value="2">');
    expect(ask.body).toContain('>Approve 2 variants</button>');
    expect((await statuses()).filter((v) => v.status === 'approved')).toHaveLength(0);

    // A stale number (the page was open while things changed): asked again, nothing decided.
    const stale = await c.post(url, {
      decision: 'approved',
      'level.tone': 'playful',
      expected: '3',
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('The number changed since you asked (3 then)');
    expect((await statuses()).filter((v) => v.status === 'approved')).toHaveLength(0);

    const done = await c.post(url, {
      decision: 'approved',
      'level.tone': 'playful',
      expected: '2',
      reason: 'on brief',
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(
      `/console/runs/${run.runId}/review?level.tone=playful&approved=2`,
    );
    let rows = await statuses();
    expect(rows.filter((v) => v.status === 'approved')).toEqual([
      { tone: 'playful', status: 'approved', review_reason: 'on brief' },
      { tone: 'playful', status: 'approved', review_reason: 'on brief' },
    ]);
    expect((await c.get(String(done.headers.location))).body).toContain('2 variants approved.');

    // The rest of the filter, then nothing left to decide under it.
    const rest = await c.post(url, { decision: 'rejected', 'level.tone': 'playful' });
    expect(rest.body).toContain('<strong>1 variant</strong>: every ready variant of this run');
    expect(
      (await c.post(url, { decision: 'rejected', 'level.tone': 'playful', expected: '1' }))
        .statusCode,
    ).toBe(303);
    const none = await c.post(url, { decision: 'approved', 'level.tone': 'playful' });
    expect(none.body).toContain('No ready variants match this filter any more');
    expect(
      (await c.get(`/console/runs/${run.runId}/review?level.tone=playful`)).body,
    ).not.toContain('matching…</button>');
    rows = await statuses();
    expect(rows.filter((v) => v.tone === 'serious').every((v) => v.status === 'ready')).toBe(true);
    expect(rows.filter((v) => v.status === 'rejected')).toHaveLength(1);
  });

  it("decides only the run's own checked cards", async () => {
    const other = await readyVariants(t, await t.key('console-bulk-co'), {
      levels: { tone: ['calm', 'loud'] },
      key: 'console-bulk-other-run',
      requireApproval: true,
      reconcile: () => workers.reconcile(),
    });
    // Another run's variant, sent through this run's form: left alone.
    const res = await c.post(`/console/runs/${run.runId}/review`, {
      decision: 'approved',
      ids: [other.variants[0]?.id as string],
    });
    expect(res.statusCode).toBe(303);
    const { rows } = await t.testDb.pool.query<{ status: string }>(
      'SELECT status FROM variants WHERE id = $1',
      [other.variants[0]?.id],
    );
    expect(rows[0]?.status).toBe('ready');
  });

  it('offers nothing under another status filter, and refuses bad input and other tenants', async () => {
    const failed = await c.get(`/console/runs/${run.runId}/review?status=failed`);
    expect(failed.body).not.toContain('matching…</button>');
    const url = `/console/runs/${run.runId}/review-all`;
    const unknown = await c.post(url, { decision: 'approved', 'level.tone': 'grumpy' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.body).toContain('level.tone');
    expect((await c.post(url, { decision: 'maybe' })).statusCode).toBe(400);
    const other = await signIn(t, await t.key('console-bulk-other'));
    const foreign = await other.post(url, { decision: 'approved', expected: '2' });
    expect(foreign.statusCode).toBe(404);
    expect(
      (await statuses()).filter((v) => v.tone === 'serious').every((v) => v.status === 'ready'),
    ).toBe(true);
  });
});
