import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { variants } from '../db/schema.ts';

/** The stored video of a tenant's variant: undefined when no such variant, null before ready. */
export async function variantVideoKey(db: DbOrTx, p: { tenantId: string; id: string }) {
  const rows = await db
    .select({ videoKey: variants.videoKey })
    .from(variants)
    .where(and(eq(variants.tenantId, p.tenantId), eq(variants.id, p.id)));
  return rows[0]?.videoKey;
}
