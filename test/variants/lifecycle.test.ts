import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VariantStatus, variantStatuses } from '../../src/db/schema.ts';
import {
  activeStatuses,
  allowedTransitions,
  cancellableStatuses,
  canTransition,
  completeSettledRuns,
  inFlightStatuses,
  openStatuses,
  parkedStatuses,
  renderedStatuses,
  retryableStatuses,
  settledStatuses,
  transition,
} from '../../src/variants/lifecycle.ts';
import { createTestApp, openaiApiOnly, type TestApp, waitFor } from '../helpers/app.ts';
import { setupCampaign, startRun, variantsOf } from '../helpers/scenario.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(openaiApiOnly);
});
afterAll(() => t.close());

describe('the transition table', () => {
  it('splits every status into active, parked or settled, and the sets agree with the table', () => {
    expect([...activeStatuses, ...parkedStatuses, ...settledStatuses].sort()).toEqual(
      [...variantStatuses].sort(),
    );
    expect(activeStatuses.filter((s) => settledStatuses.includes(s))).toEqual([]);
    // held: only a person moves it, back to the start or out.
    expect(parkedStatuses).toEqual(['held']);
    expect(allowedTransitions.held).toEqual(['queued', 'cancelled']);
    expect(canTransition('submitting', 'held')).toBe(true);
    expect(Object.keys(allowedTransitions).sort()).toEqual([...variantStatuses].sort());
    // Anything still in the pipeline can fail; only what a cancel stops can be cancelled.
    for (const s of activeStatuses) expect(canTransition(s, 'failed'), s).toBe(true);
    for (const s of cancellableStatuses) expect(canTransition(s, 'cancelled'), s).toBe(true);
    expect(cancellableStatuses).toEqual([...openStatuses, ...inFlightStatuses, ...parkedStatuses]);
    // A settled variant goes back into the pipeline only by a retry, to the start.
    for (const s of settledStatuses)
      for (const to of allowedTransitions[s]) {
        if (activeStatuses.includes(to)) expect([s, to]).toEqual([s, 'queued']);
      }
    expect(retryableStatuses).toEqual(['failed', 'cancelled']);
    // Every move the render pipeline makes, crash recovery's re-claim included.
    const pipeline: [VariantStatus, VariantStatus][] = [
      ['queued', 'submitting'],
      ['submitting', 'submitting'],
      ['submitting', 'queued'],
      ['submitting', 'submitted'],
      ['submitted', 'rendering'],
      ['rendering', 'rendering'],
      ['rendering', 'submitted'],
      ['rendering', 'compositing'],
      ['compositing', 'ready'],
      ['ready', 'approved'],
      ['approved', 'delivered'],
      ['delivered', 'delivered'],
    ];
    for (const [from, to] of pipeline)
      expect(canTransition(from, to), `${from} -> ${to}`).toBe(true);
    expect(renderedStatuses.every((s) => settledStatuses.includes(s))).toBe(true);
  });

  it('refuses a change the table does not allow, before touching the row', async () => {
    await expect(
      transition(t.testDb.db, { id: 'var_none', from: ['ready'], to: 'queued' }),
    ).rejects.toThrow(/ready -> queued is not allowed/);
    await expect(
      transition(t.testDb.db, { id: 'var_none', from: ['blocked'], to: 'ready' }),
    ).rejects.toThrow(/blocked -> ready/);
  });
});

describe('run completion', () => {
  it('completes a run when its last two variants settle in overlapping transactions', async () => {
    const auth = await t.key('race-co');
    const s = await setupCampaign(t, auth, { levels: { tone: ['a', 'b'], setting: ['x'] } });
    const run = await startRun(t, auth, { ...s, key: 'race' });
    const [va, vb] = await variantsOf(t, run.id);
    const db = t.testDb.db;
    // Both variants reach compositing first, as the pipeline would.
    for (const v of [va!, vb!])
      await t.testDb.pool.query(`UPDATE variants SET status = 'compositing' WHERE id = $1`, [v.id]);

    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((r) => {
      releaseA = r;
    });
    let aSettled!: () => void;
    const aHasSettled = new Promise<void>((r) => {
      aSettled = r;
    });
    const a = db.transaction(async (tx) => {
      await transition(tx, { id: va!.id, from: ['compositing'], to: 'ready' });
      const completed = await completeSettledRuns(tx, { variantId: va!.id });
      aSettled();
      await aMayCommit;
      return completed;
    });
    await aHasSettled;
    // B settles the other variant while A is still open: it must wait for A, then see it.
    let bChecked = false;
    const b = db.transaction(async (tx) => {
      await transition(tx, { id: vb!.id, from: ['compositing'], to: 'ready' });
      const completed = await completeSettledRuns(tx, { variantId: vb!.id });
      bChecked = true;
      return completed;
    });
    // Only let A commit once B has checked (no lock: it saw A's variant unsettled) or is
    // waiting on a lock (the fix): either way the two transactions truly overlapped.
    await waitFor(async () => {
      if (bChecked) return true;
      const { rows } = await t.testDb.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows.length ? true : undefined;
    });
    releaseA();
    const [completedByA, completedByB] = await Promise.all([a, b]);
    expect(completedByA + completedByB).toBe(1);
    const { rows } = await t.testDb.pool.query(`SELECT status FROM runs WHERE id = $1`, [run.id]);
    expect(rows[0].status).toBe('completed');
    const events = await t.testDb.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'run.completed'`,
    );
    expect(events.rows[0].n).toBe(1);
  });
});
