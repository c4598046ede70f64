import { and, eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { idempotencyKeys } from '../../db/schema.ts';

/**
 * Inserts an in-flight record, or takes over one that expired or whose holder died (its lock
 * ran out without completing, so nothing it did was committed alongside the response).
 * Returns null when a live record exists: the caller then reads it.
 */
export async function claimKey(
  db: DbOrTx,
  p: {
    tenantId: string;
    key: string;
    method: string;
    path: string;
    requestHash: string;
    lockMs: number;
    ttlMs: number;
  },
): Promise<boolean> {
  const lockedUntil = sql`now() + ${`${p.lockMs} milliseconds`}::interval`;
  const expiresAt = sql`now() + ${`${p.ttlMs} milliseconds`}::interval`;
  const rows = await db
    .insert(idempotencyKeys)
    .values({
      tenantId: p.tenantId,
      key: p.key,
      method: p.method,
      path: p.path,
      requestHash: p.requestHash,
      state: 'in_flight',
      lockedUntil,
      expiresAt,
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.tenantId, idempotencyKeys.key],
      set: {
        method: p.method,
        path: p.path,
        requestHash: p.requestHash,
        state: 'in_flight',
        lockedUntil,
        expiresAt,
        responseStatus: null,
        responseHeaders: null,
        responseBody: null,
        createdAt: sql`now()`,
      },
      setWhere: sql`${idempotencyKeys.expiresAt} < now() OR (${idempotencyKeys.state} = 'in_flight' AND ${idempotencyKeys.lockedUntil} < now() AND ${idempotencyKeys.requestHash} = ${p.requestHash})`,
    })
    .returning({ key: idempotencyKeys.key });
  return rows.length === 1;
}

export async function findKey(db: DbOrTx, p: { tenantId: string; key: string }) {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.tenantId, p.tenantId), eq(idempotencyKeys.key, p.key)));
  return row ?? null;
}

export async function completeKey(
  db: DbOrTx,
  p: {
    tenantId: string;
    key: string;
    status: number;
    headers: Record<string, string>;
    body: string;
  },
) {
  await db
    .update(idempotencyKeys)
    .set({
      state: 'completed',
      responseStatus: p.status,
      responseHeaders: p.headers,
      responseBody: p.body,
    })
    .where(
      and(
        eq(idempotencyKeys.tenantId, p.tenantId),
        eq(idempotencyKeys.key, p.key),
        eq(idempotencyKeys.state, 'in_flight'),
      ),
    );
}

export async function releaseKey(db: DbOrTx, p: { tenantId: string; key: string }) {
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.tenantId, p.tenantId),
        eq(idempotencyKeys.key, p.key),
        eq(idempotencyKeys.state, 'in_flight'),
      ),
    );
}

export async function purgeExpiredKeys(db: DbOrTx): Promise<number> {
  const rows = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, sql`now()`))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
