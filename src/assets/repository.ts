import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { type AssetKind, assets } from '../db/schema.ts';

export type AssetRow = typeof assets.$inferSelect;

/** Returns the tenant's existing asset with the same bytes, if any, instead of a second row. */
export async function insertOrGetAsset(db: DbOrTx, row: typeof assets.$inferInsert) {
  const [created] = await db.insert(assets).values(row).onConflictDoNothing().returning();
  if (created) return { row: created, created: true };
  const [existing] = await db
    .select()
    .from(assets)
    .where(and(eq(assets.tenantId, row.tenantId), eq(assets.sha256, row.sha256)));
  return { row: existing!, created: false };
}

export async function findAsset(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(assets)
    .where(and(eq(assets.tenantId, p.tenantId), eq(assets.id, p.id)));
  return row ?? null;
}

/** By id alone, for a signed link: the signature, not a tenant, says who may read it. */
export async function findAssetById(db: DbOrTx, id: string) {
  const [row] = await db.select().from(assets).where(eq(assets.id, id));
  return row ?? null;
}

/**
 * Which of these ids the tenant owns as assets of `kind`; the others are unknown to it,
 * whoever owns them.
 */
export async function ownedAssetIds(
  db: DbOrTx,
  p: { tenantId: string; ids: string[]; kind: AssetKind },
): Promise<Set<string>> {
  if (!p.ids.length) return new Set();
  const rows = await db
    .select({ id: assets.id })
    .from(assets)
    .where(
      and(eq(assets.tenantId, p.tenantId), inArray(assets.id, p.ids), eq(assets.kind, p.kind)),
    );
  return new Set(rows.map((r) => r.id));
}
