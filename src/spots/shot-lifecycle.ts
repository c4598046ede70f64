import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { ShotStatus } from '../db/schema.ts';
import { forgetLostCreate, guardedStatusWrite, type StatusWrite } from '../variants/lifecycle.ts';

/**
 * Every status change a spot's shot may make: the provider half of a variant's table, ending
 * at `ready` (the render is stored; assembly belongs to each variant using it). The same
 * never-pay-twice rules hold: `submitting` is re-claimed by a recovery that looks for the
 * render first, `held` waits for a person, only failed or cancelled shots render again.
 */
const allowedShotTransitions: Readonly<Record<ShotStatus, readonly ShotStatus[]>> = {
  queued: ['submitting', 'failed', 'blocked', 'cancelled'],
  submitting: ['submitting', 'submitted', 'queued', 'held', 'failed', 'blocked', 'cancelled'],
  submitted: ['submitted', 'rendering', 'ready', 'queued', 'failed', 'blocked', 'cancelled'],
  rendering: ['submitted', 'rendering', 'ready', 'queued', 'failed', 'blocked', 'cancelled'],
  ready: [],
  failed: ['queued'],
  blocked: [],
  cancelled: ['queued'],
  held: ['queued', 'cancelled'],
};

/** A render job owns the shot; the reconciler revives a lost one. */
export const activeShotStatuses: readonly ShotStatus[] = [
  'queued',
  'submitting',
  'submitted',
  'rendering',
];

/** Settled, yet a variant asking for it again (a later run) renders it again. */
const retryableShotStatuses: readonly ShotStatus[] = ['failed', 'cancelled'];

type TransitionedShot = { id: string; tenant_id: string; status: ShotStatus };

function assertAllowed(from: readonly ShotStatus[], to: ShotStatus) {
  // A status shots never take (a variant's `pending`) is a bug too.
  const bad = from.filter((f) => !allowedShotTransitions[f]?.includes(to));
  if (bad.length) throw new Error(`shot transition ${bad.join('|')} -> ${to} is not allowed`);
}

/** The only way a shot changes status: the variants' guarded write on the shots table. */
export async function transitionShot(
  tx: DbOrTx,
  p: StatusWrite<ShotStatus>,
): Promise<TransitionedShot | null> {
  assertAllowed(p.from, p.to);
  return guardedStatusWrite<TransitionedShot>(tx, 'shots', sql`id, tenant_id, status`, p);
}

/** Ends a shot still in the pipeline as failed or blocked; its variants see it and fail. */
export function failShot(
  tx: DbOrTx,
  p: { id: string; to: 'failed' | 'blocked'; code: string; message: string },
) {
  return transitionShot(tx, {
    id: p.id,
    from: activeShotStatuses,
    to: p.to,
    set: { errorCode: p.code, errorMessage: p.message.slice(0, 1000) },
  });
}

/** submitting -> held: the create may have gone through and nobody can tell (see holdVariant). */
export function holdShot(tx: DbOrTx, p: { id: string; message: string }) {
  return transitionShot(tx, {
    id: p.id,
    from: ['submitting'],
    to: 'held',
    set: { errorCode: 'ambiguous_create', errorMessage: p.message.slice(0, 1000) },
  });
}

/** submitted | rendering -> queued after a provider failure that charged nothing. */
export async function requeueShotForRecreate(tx: DbOrTx, p: { id: string; jobId: string }) {
  const moved = await transitionShot(tx, {
    id: p.id,
    from: ['submitted', 'rendering'],
    to: 'queued',
    set: { providerJobId: null, submitStartedAt: null, submittedAt: null, progress: 0 },
  });
  if (moved) await tx.execute(sql`UPDATE shots SET recreates = recreates + 1 WHERE id = ${p.id}`);
  return moved;
}

/** failed | cancelled -> queued for shots a new run asks for again; returns the ids moved. */
export async function requeueShotsForRetry(tx: DbOrTx, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const { rows } = await tx.execute<{ id: string }>(sql`
    UPDATE shots SET status = 'queued', attempts = 0, progress = 0, error_code = NULL, error_message = NULL,
                     provider_job_id = NULL, submit_started_at = NULL, submitted_at = NULL, updated_at = now()
    WHERE id = ANY(${sql.param(ids)}::text[]) AND status = ANY(${sql.param([...retryableShotStatuses])}::text[])
    RETURNING id`);
  return rows.map((r) => r.id);
}

/**
 * held -> queued on a person's word that a second charge is acceptable: the lost create is
 * forgotten, so the next attempt creates a new render (see resubmitHeld for variants).
 */
export function resubmitHeldShot(tx: DbOrTx, id: string) {
  return transitionShot(tx, { id, from: ['held'], to: 'queued', set: { ...forgetLostCreate } });
}
