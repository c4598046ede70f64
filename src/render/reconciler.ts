import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Queues } from '../queue/registry.ts';
import { activeShotStatuses } from '../spots/shot-lifecycle.ts';
import { activeStatuses, completeSettledRuns, failVariant } from '../variants/lifecycle.ts';
import { enqueueRenders, isProviderName, renderQueueOf, UnknownProviderError } from './enqueue.ts';

const batch = 2_000;

/**
 * Postgres is the truth and Redis only transport: whatever Redis lost (a restart, a flush, a
 * crash between commit and enqueue), this rebuilds from the variant rows. Safe to run on any
 * number of workers at once: jobId = variant id makes every re-add idempotent.
 */
export function createReconciler(deps: {
  db: Db;
  queues: Queues;
  logger: Logger;
  graceMs: number;
}) {
  const { db, queues } = deps;
  const log = deps.logger.child({ component: 'reconciler' });

  /** Variants and spot shots (ids `var_…`, `sht_…`, one order) still in the pipeline. */
  async function stale(afterId: string) {
    const grace = sql`updated_at < now() - make_interval(secs => ${deps.graceMs / 1000}) AND id > ${afterId}`;
    const { rows } = await db.execute<{ id: string; provider: string; shot: boolean }>(sql`
      (SELECT id, provider, false AS shot FROM variants
       WHERE status = ANY(${sql.param([...activeStatuses])}::text[]) AND ${grace}
       ORDER BY id LIMIT ${batch})
      UNION ALL
      (SELECT id, provider, true AS shot FROM shots
       WHERE status = ANY(${sql.param([...activeShotStatuses])}::text[]) AND ${grace}
       ORDER BY id LIMIT ${batch})
      ORDER BY id LIMIT ${batch}`);
    return rows;
  }

  /**
   * Which of these variants have no job that will ever run: two pipelined commands per
   * variant rather than a script call each, so a backlog of 100,000 queued variants costs a
   * few round trips per cycle.
   */
  async function withoutLiveJob(rows: { id: string; provider: string; shot: boolean }[]) {
    const dead: typeof rows = [];
    const finished: typeof rows = [];
    const pipe = queues.connection.pipeline();
    for (const r of rows) {
      const key = queues.get(renderQueueOf(r.provider)).toKey(r.id);
      pipe.exists(key);
      pipe.hget(key, 'finishedOn');
    }
    const replies = (await pipe.exec()) ?? [];
    rows.forEach((r, i) => {
      const exists = replies[2 * i]?.[1];
      const finishedOn = replies[2 * i + 1]?.[1];
      if (exists === 0) dead.push(r);
      else if (finishedOn) finished.push(r);
    });
    // A finished job keeps its id: remove it, or the re-add would be ignored.
    await Promise.all(finished.map((r) => queues.get(renderQueueOf(r.provider)).remove(r.id)));
    return [...dead, ...finished];
  }

  return async function reconcile() {
    let revived = 0;
    for (let after = ''; ; ) {
      const rows = await stale(after);
      if (!rows.length) break;
      // No queue is another provider's fallback: a variant naming none admatrix knows fails.
      for (const r of rows.filter((r) => !r.shot && !isProviderName(r.provider))) {
        const message = new UnknownProviderError(r.provider).message;
        await db.transaction((tx) =>
          failVariant(tx, { id: r.id, to: 'failed', code: 'provider_unknown', message }),
        );
        log.warn(
          { variantId: r.id, provider: r.provider },
          'failed a variant of an unknown provider',
        );
      }
      const dead = await withoutLiveJob(rows.filter((r) => isProviderName(r.provider)));
      if (dead.length) await enqueueRenders(queues, dead);
      revived += dead.length;
      after = rows.at(-1)!.id;
    }
    const { rows: open } = await db.execute<{ id: string }>(
      sql`SELECT id FROM runs WHERE status IN ('queued', 'running')`,
    );
    let completed = 0;
    for (const run of open)
      completed += await db.transaction((tx) => completeSettledRuns(tx, { runId: run.id }));
    if (revived || completed) log.info({ revived, completed }, 'reconciled');
    return { revived, completed };
  };
}
