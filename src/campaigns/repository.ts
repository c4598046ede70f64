import { and, asc, eq, gt } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { campaigns } from '../db/schema.ts';

export type CampaignRow = typeof campaigns.$inferSelect;
export type NewCampaignRow = typeof campaigns.$inferInsert;

export async function insertCampaign(db: DbOrTx, row: NewCampaignRow): Promise<CampaignRow> {
  const [created] = await db.insert(campaigns).values(row).returning();
  return created!;
}

export async function findCampaign(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.tenantId, p.tenantId), eq(campaigns.id, p.id)));
  return row ?? null;
}

export async function listCampaigns(
  db: DbOrTx,
  p: { tenantId: string; after?: string; limit: number },
) {
  return db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.tenantId, p.tenantId), p.after ? gt(campaigns.id, p.after) : undefined))
    .orderBy(asc(campaigns.id))
    .limit(p.limit);
}

export async function updateCampaign(
  db: DbOrTx,
  p: { tenantId: string; id: string; set: Partial<NewCampaignRow> },
): Promise<CampaignRow | null> {
  const [row] = await db
    .update(campaigns)
    .set({ ...p.set, updatedAt: new Date() })
    .where(and(eq(campaigns.tenantId, p.tenantId), eq(campaigns.id, p.id)))
    .returning();
  return row ?? null;
}
