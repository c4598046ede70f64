import { and, asc, eq, gt } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { matrices } from '../db/schema.ts';

export type MatrixRow = typeof matrices.$inferSelect;

export async function insertMatrix(
  db: DbOrTx,
  row: typeof matrices.$inferInsert,
): Promise<MatrixRow> {
  const [created] = await db.insert(matrices).values(row).returning();
  return created!;
}

export async function findMatrix(db: DbOrTx, p: { tenantId: string; id: string }) {
  const [row] = await db
    .select()
    .from(matrices)
    .where(and(eq(matrices.tenantId, p.tenantId), eq(matrices.id, p.id)));
  return row ?? null;
}

export async function listMatrices(
  db: DbOrTx,
  p: { tenantId: string; campaignId: string; after?: string; limit: number },
) {
  return db
    .select()
    .from(matrices)
    .where(
      and(
        eq(matrices.tenantId, p.tenantId),
        eq(matrices.campaignId, p.campaignId),
        p.after ? gt(matrices.id, p.after) : undefined,
      ),
    )
    .orderBy(asc(matrices.id))
    .limit(p.limit);
}
