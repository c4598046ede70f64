import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { runs, type VariantStatus } from '../db/schema.ts';
import { openStatuses } from '../variants/lifecycle.ts';

export type RunRow = typeof runs.$inferSelect;

/** Serialises fan-outs of one campaign, so two concurrent runs cannot both spend the budget. */
export async function lockCampaign(tx: DbOrTx, campaignId: string) {
  await tx.execute(sql`SELECT 1 FROM campaigns WHERE id = ${campaignId} FOR UPDATE`);
}

export async function findExistingVariants(tx: DbOrTx, p: { campaignId: string; keys: string[] }) {
  const { rows } = await tx.execute<{
    id: string;
    variant_key: string;
    status: VariantStatus;
    provider: string;
  }>(
    sql`SELECT id, variant_key, status, provider FROM variants
        WHERE campaign_id = ${p.campaignId} AND variant_key = ANY(${sql.param(p.keys)}::text[])`,
  );
  return rows;
}

/** Paid so far plus reserved by variants not yet submitted, and how many variants there are. */
export async function campaignSpend(
  tx: DbOrTx,
  campaignId: string,
): Promise<{ committed: number; variants: number }> {
  // A spot's shots are paid (and reserved while queued) like variants.
  const { rows } = await tx.execute<{ committed: string; variants: number }>(
    sql`SELECT coalesce(sum(actual_cost_usd), 0)
             + coalesce(sum(cost_usd) FILTER (WHERE status = ANY(${sql.param([...openStatuses])}::text[])), 0)
             + (SELECT coalesce(sum(actual_cost_usd), 0) + coalesce(sum(cost_usd) FILTER (WHERE status = 'queued'), 0)
                FROM shots WHERE campaign_id = ${campaignId}) AS committed,
               count(*)::int AS variants
        FROM variants WHERE campaign_id = ${campaignId}`,
  );
  return { committed: Number(rows[0]?.committed ?? 0), variants: rows[0]?.variants ?? 0 };
}

export async function insertRun(tx: DbOrTx, row: typeof runs.$inferInsert) {
  await tx.insert(runs).values(row);
}

export async function findRun(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.tenantId, p.tenantId), eq(runs.id, p.id)));
  return row ?? null;
}

export async function listRuns(
  db: DbOrTx,
  p: { tenantId: string; campaignId: string; after?: string; limit: number },
) {
  return db
    .select()
    .from(runs)
    .where(
      and(
        eq(runs.tenantId, p.tenantId),
        eq(runs.campaignId, p.campaignId),
        p.after ? gt(runs.id, p.after) : undefined,
      ),
    )
    .orderBy(asc(runs.id))
    .limit(p.limit);
}

/** Variants per status and their cost, for many runs in one grouped query (a page of a list). */
export async function runCounts(db: DbOrTx, runIds: string[]) {
  if (!runIds.length) return [];
  const { rows } = await db.execute<{
    run_id: string;
    status: VariantStatus;
    n: string;
    estimated: string;
    actual: string;
  }>(sql`
    SELECT rv.run_id, v.status, count(*) AS n, sum(v.cost_usd) AS estimated, sum(v.actual_cost_usd) AS actual
    FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
    WHERE rv.run_id = ANY(${sql.param(runIds)}::text[])
    GROUP BY rv.run_id, v.status`);
  return rows.map((r) => ({
    runId: r.run_id,
    status: r.status,
    n: Number(r.n),
    estimated: Number(r.estimated),
    actual: Number(r.actual),
  }));
}

/**
 * What a spot's shots cost the runs that made them: a shot belongs to the run of the first
 * variant assembled from it (ids sort by creation); later runs reuse it for nothing.
 */
export async function runShotCosts(db: DbOrTx, runIds: string[]) {
  if (!runIds.length) return new Map<string, { estimated: number; actual: number }>();
  const { rows } = await db.execute<{ run_id: string; estimated: string; actual: string }>(sql`
    SELECT v.run_id, sum(s.cost_usd) AS estimated, sum(s.actual_cost_usd) AS actual
    FROM shots s
    JOIN variants v ON v.id = (SELECT min(f.variant_id) FROM variant_shots f WHERE f.shot_id = s.id)
    WHERE v.run_id = ANY(${sql.param(runIds)}::text[])
    GROUP BY v.run_id`);
  return new Map(
    rows.map((r) => [r.run_id, { estimated: Number(r.estimated), actual: Number(r.actual) }]),
  );
}

/** Variants of a run in the given states, for cancel and retry. */
export async function runVariantIds(db: DbOrTx, p: { runId: string; statuses: VariantStatus[] }) {
  const { rows } = await db.execute<{ id: string; cost_usd: string; provider: string }>(sql`
    SELECT v.id, v.cost_usd, v.provider FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
    WHERE rv.run_id = ${p.runId} AND v.status = ANY(${sql.param(p.statuses)}::text[])`);
  return rows.map((r) => ({ id: r.id, cost: Number(r.cost_usd), provider: r.provider }));
}

export async function markRunCancelled(tx: DbOrTx, id: string) {
  await tx.execute(sql`UPDATE runs SET status = 'cancelled', finished_at = now()
                       WHERE id = ${id} AND status IN ('queued', 'running')`);
}

/** A completed run with variants rendering again is running again. */
export async function reopenRun(tx: DbOrTx, id: string) {
  await tx.execute(sql`UPDATE runs SET status = 'running', finished_at = NULL
                       WHERE id = ${id} AND status = 'completed'`);
}
