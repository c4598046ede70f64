import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { type VariantStatus, variantStatuses } from '../db/schema.ts';
import { recordEvent, variantEventData } from '../events/outbox.ts';

/**
 * Every status change a variant may make, and nothing else: `transition` refuses any other.
 * A status listed as its own target is rewritten in place (progress while polling, a repeat
 * delivery receipt).
 */
export const allowedTransitions: Readonly<Record<VariantStatus, readonly VariantStatus[]>> = {
  pending: ['submitting', 'failed', 'blocked', 'cancelled'],
  // A spot's variant pays no provider itself: once its shots are ready it goes to assembly.
  queued: ['submitting', 'compositing', 'failed', 'blocked', 'cancelled'],
  // Re-claimed by the attempt after a crash or a transient error (it looks for the render
  // first); back to queued when the provider answers 429 before accepting the render.
  // held when the create may have reached a provider that cannot be searched for it, or whose
  // search cannot tell.
  submitting: ['submitting', 'submitted', 'queued', 'held', 'failed', 'blocked', 'cancelled'],
  // Back to queued when the provider failed the job for its own reasons and charged nothing
  // (Runway INTERNAL): the job is created again, a bounded number of times.
  submitted: ['submitted', 'rendering', 'compositing', 'queued', 'failed', 'blocked', 'cancelled'],
  rendering: ['submitted', 'rendering', 'compositing', 'queued', 'failed', 'blocked', 'cancelled'],
  compositing: ['ready', 'failed', 'blocked'],
  ready: ['approved', 'rejected', 'delivered'],
  approved: ['delivered'],
  rejected: [],
  delivered: ['delivered'],
  // A later run asking for the variant again renders it again.
  failed: ['queued'],
  blocked: [],
  cancelled: ['queued'],
  // Only a person moves it: resubmit (accepting a possible second charge) or cancel.
  held: ['queued', 'cancelled'],
};

/** What a new variant starts as (the fan-out writes its rows with it). */
export const initialStatus = 'queued' satisfies VariantStatus;

/** Not yet sent to a provider: nothing paid, cancelling costs nothing. */
export const openStatuses: readonly VariantStatus[] = ['pending', 'queued'];

/** Sent to a provider, or being sent: a provider slot is taken. */
export const inFlightStatuses: readonly VariantStatus[] = ['submitting', 'submitted', 'rendering'];

/** The provider accepted the render; a job polls it (or a provider webhook nudges it). */
export const awaitingProviderStatuses: readonly VariantStatus[] = ['submitted', 'rendering'];

/** Still in the pipeline: a render job owns the variant, the reconciler revives a lost one. */
export const activeStatuses: readonly VariantStatus[] = [
  ...openStatuses,
  ...inFlightStatuses,
  'compositing',
];

/**
 * Out of the pipeline but not settled: no job owns it (the reconciler leaves it alone) and
 * nothing moves it until a person does. Its run is not complete meanwhile: whether the render
 * exists (and was paid for) is unknown, and `GET /v1/runs/{id}` shows it in the counts.
 */
export const parkedStatuses: readonly VariantStatus[] = ['held'];

/** What a run's cancel stops; compositing is past the provider and finishes. */
export const cancellableStatuses: readonly VariantStatus[] = [
  ...openStatuses,
  ...inFlightStatuses,
  ...parkedStatuses,
];

/** Past the pipeline: a run whose variants are all here is complete. */
export const settledStatuses: readonly VariantStatus[] = variantStatuses.filter(
  (s) => !activeStatuses.includes(s) && !parkedStatuses.includes(s),
);

/** Settled, yet a new run may render it again. */
export const retryableStatuses: readonly VariantStatus[] = settledStatuses.filter((s) =>
  allowedTransitions[s].includes(initialStatus),
);

/** A render finished: the video exists, whatever was decided about it since. */
export const renderedStatuses: readonly VariantStatus[] = [
  'ready',
  'approved',
  'rejected',
  'delivered',
];

/** What a variant must be to be delivered: approved first when its campaign asks for review. */
export function deliverableStatuses(requireApproval: boolean): readonly VariantStatus[] {
  return requireApproval ? ['approved', 'delivered'] : ['ready', 'approved', 'delivered'];
}

export function canTransition(from: VariantStatus, to: VariantStatus) {
  return allowedTransitions[from].includes(to);
}

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
  digitalSourceType: 'digital_source_type',
  disclosureText: 'disclosure_text',
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
  provider: string;
  digital_source_type: string | null;
};

/** The guarded write's options, whichever table it moves. */
export interface StatusWrite<S extends string> {
  id: string;
  from: readonly S[];
  to: S;
  set?: Assignable;
  /**
   * The provider accepted a job: add its price to actual_cost_usd and remember it as the
   * job's reservation (`reservedUsd`, the provider's own estimate, else the catalog price).
   */
  addPaid?: boolean | { reservedUsd?: number | undefined };
}

/**
 * `UPDATE <table> SET status = $to … WHERE id = $1 AND status = ANY($from)`: the guard both
 * render subjects (variants and spot shots, which share the render columns) change status
 * through. Two workers holding the same job cannot both act; the loser gets null and stops.
 */
export async function guardedStatusWrite<Row>(
  tx: DbOrTx,
  table: 'variants' | 'shots',
  returning: SQL,
  p: StatusWrite<string>,
): Promise<Row | null> {
  const assignments = Object.entries(p.set ?? {}).map(([k, v]) => {
    const column = columnNames[k];
    if (!column) throw new Error(`unknown ${table} column ${k}`);
    return sql`${sql.raw(column)} = ${v}`;
  });
  if (p.addPaid) {
    const reserved = typeof p.addPaid === 'object' ? p.addPaid.reservedUsd : undefined;
    const amount = reserved === undefined ? sql`cost_usd` : sql`${reserved}::numeric`;
    assignments.push(
      sql`actual_cost_usd = actual_cost_usd + ${amount}`,
      sql`reserved_usd = ${amount}`,
    );
  }
  const extra = assignments.length ? sql`, ${sql.join(assignments, sql`, `)}` : sql``;
  const { rows } = await tx.execute(sql`
    UPDATE ${sql.raw(table)} SET status = ${p.to}, updated_at = now()${extra}
    WHERE id = ${p.id} AND status = ANY(${sql.param([...p.from])}::text[])
    RETURNING ${returning}`);
  return (rows[0] as Row | undefined) ?? null;
}

/** The only way a variant changes status (see `guardedStatusWrite`). */
export async function transition(
  tx: DbOrTx,
  p: StatusWrite<VariantStatus>,
): Promise<TransitionedVariant | null> {
  assertAllowed(p.from, p.to);
  return guardedStatusWrite<TransitionedVariant>(
    tx,
    'variants',
    sql`id, tenant_id, campaign_id, run_id, levels, status, error_code, error_message, provider, digital_source_type`,
    p,
  );
}

/** A caller asking for a change the table does not allow is a bug, not a race: fail loudly. */
function assertAllowed(from: readonly VariantStatus[], to: VariantStatus) {
  const bad = from.filter((f) => !canTransition(f, to));
  if (bad.length) throw new Error(`variant transition ${bad.join('|')} -> ${to} is not allowed`);
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
  assertAllowed(p.from, 'cancelled');
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

/**
 * Ends a variant still in the pipeline as failed (or blocked, for a moderation refusal), with
 * its variant.failed event and the completion of runs it was the last of, in the caller's
 * transaction. Null when it had settled meanwhile.
 */
export async function failVariant(
  tx: DbOrTx,
  p: { id: string; to: 'failed' | 'blocked'; code: string; message: string },
): Promise<TransitionedVariant | null> {
  const done = await transition(tx, {
    id: p.id,
    from: activeStatuses,
    to: p.to,
    set: { errorCode: p.code, errorMessage: p.message.slice(0, 1000) },
  });
  if (!done) return null;
  await recordEvent(tx, {
    tenantId: done.tenant_id,
    type: 'variant.failed',
    data: variantEventData(done),
  });
  await completeSettledRuns(tx, { variantId: p.id });
  return done;
}

/**
 * failed | cancelled -> queued for the variants a new run (or a retry) asks for again: a fresh
 * start, attempts and provider job forgotten. Returns the ids that moved.
 */
export async function requeueForRetry(tx: DbOrTx, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const { rows } = await tx.execute<{ id: string }>(sql`
    UPDATE variants SET status = ${initialStatus}, attempts = 0, progress = 0, error_code = NULL, error_message = NULL,
                        provider_job_id = NULL, submit_started_at = NULL, submitted_at = NULL, updated_at = now()
    WHERE id = ANY(${sql.param(ids)}::text[]) AND status = ANY(${sql.param([...retryableStatuses])}::text[])
    RETURNING id`);
  return rows.map((r) => r.id);
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

/**
 * submitting -> held: the create may have reached a provider that cannot be searched for it
 * (Runway, fal), or whose search cannot tell (the OpenAI shape past its scan limit, or listing
 * renders without prompts), so sending it again could pay twice. `message` keeps the reason.
 * Emits variant.held; the run stays open.
 */
export async function holdVariant(
  tx: DbOrTx,
  p: { id: string; message: string },
): Promise<TransitionedVariant | null> {
  const held = await transition(tx, {
    id: p.id,
    from: ['submitting'],
    to: 'held',
    set: { errorCode: 'ambiguous_create', errorMessage: p.message.slice(0, 1000) },
  });
  if (held)
    await recordEvent(tx, {
      tenantId: held.tenant_id,
      type: 'variant.held',
      data: variantEventData(held),
    });
  return held;
}

/** What a resubmit of a held render forgets: the lost create's job id, times and error. */
export const forgetLostCreate = {
  errorCode: null,
  errorMessage: null,
  providerJobId: null,
  submitStartedAt: null,
  submittedAt: null,
  progress: 0,
} as const;

/**
 * held -> queued, on a person's word that a second charge is acceptable: the job id and submit
 * time of the lost create are forgotten, so the next attempt creates a new render.
 */
export async function resubmitHeld(tx: DbOrTx, id: string): Promise<TransitionedVariant | null> {
  return transition(tx, { id, from: ['held'], to: 'queued', set: { ...forgetLostCreate } });
}

/**
 * submitted | rendering -> queued after the provider failed the job for its own reasons and
 * charged nothing for it (Runway INTERNAL): the job id goes, the next attempt creates anew.
 */
export async function requeueForRecreate(
  tx: DbOrTx,
  p: { id: string; jobId: string; code: string },
): Promise<TransitionedVariant | null> {
  const moved = await transition(tx, {
    id: p.id,
    from: awaitingProviderStatuses,
    to: 'queued',
    set: { providerJobId: null, submitStartedAt: null, submittedAt: null, progress: 0 },
  });
  if (moved)
    await tx.execute(sql`UPDATE variants SET recreates = recreates + 1 WHERE id = ${p.id}`);
  return moved;
}

/**
 * The provider said what the job cost (Runway's `cost.credits` at the end): replace the
 * reservation added at create with it. Once per job: the reservation is cleared.
 */
export async function settleProviderCost(
  tx: DbOrTx,
  p: { table: 'variants' | 'shots'; id: string; jobId: string; costUsd: number },
): Promise<void> {
  await tx.execute(sql`
    UPDATE ${sql.raw(p.table)} SET actual_cost_usd = greatest(actual_cost_usd - reserved_usd + ${p.costUsd}::numeric, 0),
                        reserved_usd = NULL
    WHERE id = ${p.id} AND provider_job_id = ${p.jobId} AND reserved_usd IS NOT NULL`);
}
