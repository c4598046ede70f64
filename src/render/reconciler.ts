import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Queues } from '../queue/registry.ts';
import { markQueued } from '../runs/repository.ts';
import { enqueueRenders, renderQueueOf } from './enqueue.ts';
import { completeSettledRuns } from './transitions.ts';

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

  async function stale(statuses: string[], afterId: string) {
    const { rows } = await db.execute<{ id: string; provider: string; status: string }>(sql`
      SELECT id, provider, status FROM variants
      WHERE status = ANY(${sql.param(statuses)}::text[])
        AND updated_at < now() - make_interval(secs => ${deps.graceMs / 1000})
        AND id > ${afterId}
      ORDER BY id LIMIT ${batch}`);
    return rows;
  }

  return async function reconcile() {
    let requeued = 0;
    let revived = 0;
    // The outbox: committed but never enqueued (or enqueued but never marked).
    for (let after = ''; ; ) {
      const rows = await stale(['pending'], after);
      if (!rows.length) break;
      await enqueueRenders(queues, rows);
      await markQueued(
        db,
        rows.map((r) => r.id),
      );
      requeued += rows.length;
      after = rows.at(-1)!.id;
    }
    // In the pipeline, but nothing in Redis will ever move them on.
    for (let after = ''; ; ) {
      const rows = await stale(
        ['queued', 'submitting', 'submitted', 'rendering', 'compositing'],
        after,
      );
      if (!rows.length) break;
      const dead: typeof rows = [];
      await Promise.all(
        rows.map(async (r) => {
          const queue = queues.get(renderQueueOf(r.provider));
          const state = await queue.getJobState(r.id);
          if (state === 'unknown') dead.push(r);
          else if (state === 'completed' || state === 'failed') {
            await queue.remove(r.id);
            dead.push(r);
          }
        }),
      );
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
    if (requeued || revived || completed) log.info({ requeued, revived, completed }, 'reconciled');
    return { requeued, revived, completed };
  };
}
