import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { VariantStatus } from '../db/schema.ts';
import { recordEvent } from '../events/outbox.ts';

/** Past the pipeline: a run whose variants are all here is complete. */
export const settledStatuses: readonly VariantStatus[] = [
  'ready',
  'approved',
  'rejected',
  'delivered',
  'failed',
  'blocked',
  'cancelled',
];

export const inFlightStatuses: readonly VariantStatus[] = ['submitting', 'submitted', 'rendering'];

type Assignable = Record<string, string | number | Date | null>;

const columnNames: Record<string, string> = {
  providerJobId: 'provider_job_id',
  submittedAt: 'submitted_at',
  submitStartedAt: 'submit_started_at',
  readyAt: 'ready_at',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  rawKey: 'raw_key',
  videoKey: 'video_key',
  thumbnailKey: 'thumbnail_key',
  videoBytes: 'video_bytes',
  videoSha256: 'video_sha256',
  durationS: 'duration_s',
  width: 'width',
  height: 'height',
  progress: 'progress',
};

export type TransitionedVariant = {
  id: string;
  tenant_id: string;
  campaign_id: string;
  run_id: string;
  levels: Record<string, string>;
  status: VariantStatus;
  error_code: string | null;
  error_message: string | null;
};

/**
 * The only way a variant changes status: `… WHERE id = $1 AND status = ANY($from)`. Two workers
 * holding the same job cannot both act; the loser gets null and stops.
 */
export async function transition(
  tx: DbOrTx,
  p: {
    id: string;
    from: readonly VariantStatus[];
    to: VariantStatus;
    set?: Assignable;
    addPaid?: boolean;
  },
): Promise<TransitionedVariant | null> {
  const assignments = Object.entries(p.set ?? {}).map(([k, v]) => {
    const column = columnNames[k];
    if (!column) throw new Error(`unknown variant column ${k}`);
    return sql`${sql.raw(column)} = ${v}`;
  });
  if (p.addPaid) assignments.push(sql`actual_cost_usd = actual_cost_usd + cost_usd`);
  const extra = assignments.length ? sql`, ${sql.join(assignments, sql`, `)}` : sql``;
  const { rows } = await tx.execute<TransitionedVariant>(sql`
    UPDATE variants SET status = ${p.to}, updated_at = now()${extra}
    WHERE id = ${p.id} AND status = ANY(${sql.param([...p.from])}::text[])
    RETURNING id, tenant_id, campaign_id, run_id, levels, status, error_code, error_message`);
  return rows[0] ?? null;
}

/**
 * `transition` to cancelled for every variant of a run still in one of `from`: the same guard,
 * in one statement, so cancelling 100,000 variants is one UPDATE rather than 100,000. A variant
 * that another open run also asked for is left to that run.
 */
export async function cancelRunVariants(
  tx: DbOrTx,
  p: { runId: string; from: readonly VariantStatus[] },
): Promise<number> {
  const result = await tx.execute(sql`
    UPDATE variants v SET status = 'cancelled', error_code = 'cancelled',
                          error_message = 'run cancelled', updated_at = now()
    FROM run_variants rv
    WHERE rv.run_id = ${p.runId} AND v.id = rv.variant_id
      AND v.status = ANY(${sql.param([...p.from])}::text[])
      AND NOT EXISTS (SELECT 1 FROM run_variants other JOIN runs r ON r.id = other.run_id
                      WHERE other.variant_id = v.id AND other.run_id <> ${p.runId}
                        AND r.status IN ('queued', 'running'))`);
  return result.rowCount ?? 0;
}

/** Marks the runs that include this variant as running, the first time any of it moves. */
export async function markRunsStarted(tx: DbOrTx, variantId: string) {
  await tx.execute(sql`
    UPDATE runs SET status = 'running', started_at = now()
    WHERE status = 'queued' AND id IN (SELECT run_id FROM run_variants WHERE variant_id = ${variantId})`);
}

/**
 * Completes every open run that has no variant left in the pipeline, with its run.completed
 * event, in the caller's transaction. Derived from Postgres, so it holds after any crash.
 */
export async function completeSettledRuns(tx: DbOrTx, p: { variantId?: string; runId?: string }) {
  const scope = p.runId
    ? sql`r.id = ${p.runId}`
    : sql`r.id IN (SELECT run_id FROM run_variants WHERE variant_id = ${p.variantId ?? ''})`;
  // Lock the open runs first, in a statement of its own: when the last two variants of a run
  // settle in overlapping transactions, the second waits here, and its check below then takes
  // a fresh snapshot that sees the first one's commit. Without the lock each saw the other
  // unsettled and nobody completed the run. Id order, so runs sharing variants cannot deadlock.
  const { rows: open } = await tx.execute<{ id: string }>(
    sql`SELECT r.id FROM runs r WHERE ${scope} AND r.status IN ('queued', 'running') ORDER BY r.id FOR UPDATE`,
  );
  if (!open.length) return 0;
  const ids = open.map((r) => r.id);
  const { rows } = await tx.execute<{ id: string; tenant_id: string; campaign_id: string }>(sql`
    UPDATE runs r SET status = 'completed', finished_at = now(), started_at = coalesce(r.started_at, now())
    WHERE r.id = ANY(${sql.param(ids)}::text[]) AND r.status IN ('queued', 'running')
      AND NOT EXISTS (
        SELECT 1 FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
        WHERE rv.run_id = r.id AND v.status <> ALL(${sql.param([...settledStatuses])}::text[]))
    RETURNING r.id, r.tenant_id, r.campaign_id`);
  for (const run of rows) {
    const { rows: counts } = await tx.execute<{ status: string; n: string }>(sql`
      SELECT v.status, count(*) AS n FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
      WHERE rv.run_id = ${run.id} GROUP BY v.status`);
    await recordEvent(tx, {
      tenantId: run.tenant_id,
      type: 'run.completed',
      data: {
        run_id: run.id,
        campaign_id: run.campaign_id,
        counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])),
      },
    });
  }
  return rows.length;
}
