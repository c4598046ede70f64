import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { events, webhookAttempts, webhookEndpoints } from '../db/schema.ts';
import { deliveryIdSql } from './ids.ts';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
export type EventRow = typeof events.$inferSelect;

export async function insertEndpoint(db: DbOrTx, row: typeof webhookEndpoints.$inferInsert) {
  const [created] = await db.insert(webhookEndpoints).values(row).returning();
  return created!;
}

export async function findEndpoint(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.tenantId, p.tenantId),
        eq(webhookEndpoints.id, p.id),
        isNull(webhookEndpoints.deletedAt),
      ),
    );
  return row ?? null;
}

export function listEndpoints(db: DbOrTx, p: { tenantId: string; after?: string; limit: number }) {
  return db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.tenantId, p.tenantId),
        isNull(webhookEndpoints.deletedAt),
        p.after ? gt(webhookEndpoints.id, p.after) : undefined,
      ),
    )
    .orderBy(asc(webhookEndpoints.id))
    .limit(p.limit);
}

export async function updateEndpoint(
  db: DbOrTx,
  p: { tenantId: string; id: string; set: Partial<typeof webhookEndpoints.$inferInsert> },
) {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...p.set, updatedAt: new Date() })
    .where(
      and(
        eq(webhookEndpoints.tenantId, p.tenantId),
        eq(webhookEndpoints.id, p.id),
        isNull(webhookEndpoints.deletedAt),
      ),
    )
    .returning();
  return row ?? null;
}

/**
 * A tombstone: disabled, secrets wiped, gone from every read. Its delivery log stays, since
 * attempts refer to it; an UPDATE rather than a DELETE also stays clear of the delivery rows an
 * attempt in flight has locked. The caller cancels what is still queued for it.
 */
export async function deleteEndpoint(db: DbOrTx, p: { tenantId: string; id: string }) {
  const { rows } = await db.execute<{ id: string }>(sql`
    UPDATE webhook_endpoints
    SET deleted_at = now(), enabled = false, disabled_reason = 'deleted', disabled_at = coalesce(disabled_at, now()),
        secret_ciphertext = '', previous_secret_ciphertext = NULL, previous_secret_expires_at = NULL,
        updated_at = now()
    WHERE id = ${p.id} AND tenant_id = ${p.tenantId} AND deleted_at IS NULL
    RETURNING id`);
  return rows.length > 0;
}

/**
 * Stops what is still queued for a disabled endpoint; a replay can send it again later. Run it
 * after the endpoint's own update has committed: attempts in flight lock a delivery row and then
 * the endpoint row, so holding the endpoint while waiting for deliveries could deadlock.
 */
export async function cancelPendingDeliveries(db: DbOrTx, endpointId: string) {
  await db.execute(sql`
    UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL
    WHERE endpoint_id = ${endpointId} AND status = 'pending'`);
}

export function listAttempts(
  db: DbOrTx,
  p: { endpointId: string; eventId?: string | undefined; after?: string; limit: number },
) {
  return db
    .select()
    .from(webhookAttempts)
    .where(
      and(
        eq(webhookAttempts.endpointId, p.endpointId),
        p.eventId ? eq(webhookAttempts.eventId, p.eventId) : undefined,
        p.after ? gt(webhookAttempts.id, p.after) : undefined,
      ),
    )
    .orderBy(asc(webhookAttempts.id))
    .limit(p.limit);
}

export async function findEvent(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, p.tenantId), eq(events.id, p.id)));
  return row ?? null;
}

export function listEvents(
  db: DbOrTx,
  p: { tenantId: string; type?: string | undefined; after?: string; limit: number },
) {
  return db
    .select()
    .from(events)
    .where(
      and(
        eq(events.tenantId, p.tenantId),
        p.type ? eq(events.type, p.type) : undefined,
        p.after ? gt(events.id, p.after) : undefined,
      ),
    )
    .orderBy(asc(events.id))
    .limit(p.limit);
}

/**
 * A replay is a fresh delivery of the same event: the (event, endpoint) row goes back to pending
 * with a new schedule, and the receiver sees the same webhook-id, so it can still de-duplicate.
 */
export async function resetDeliveries(
  db: DbOrTx,
  p: { tenantId: string; eventId: string; endpointIds: string[] },
) {
  if (!p.endpointIds.length) return [];
  const { rows } = await db.execute<{ id: string; endpoint_id: string }>(sql`
    INSERT INTO webhook_deliveries (id, tenant_id, event_id, endpoint_id, status, attempts, next_attempt_at)
    SELECT ${deliveryIdSql(sql`${p.eventId}::text`, sql`e.endpoint_id`)}, ${p.tenantId}, ${p.eventId}, e.endpoint_id,
           'pending', 0, now()
    FROM unnest(${sql.param(p.endpointIds)}::text[]) AS e(endpoint_id)
    ON CONFLICT (event_id, endpoint_id) DO UPDATE
      SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL, last_status_code = NULL
    RETURNING id, endpoint_id`);
  return rows;
}

/** Enabled endpoints of the tenant that subscribe to the type. */
export async function subscribedEndpoints(db: DbOrTx, p: { tenantId: string; type: string }) {
  const { rows } = await db.execute<{ id: string }>(sql`
    SELECT id FROM webhook_endpoints
    WHERE tenant_id = ${p.tenantId} AND enabled AND deleted_at IS NULL AND ${p.type} = ANY(events)
    ORDER BY id`);
  return rows.map((r) => r.id);
}
