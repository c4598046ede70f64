import { and, eq, sql } from 'drizzle-orm';
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

export interface SpotShotFile {
  id: string;
  key: string;
  provider: string;
  model: string;
  path: string;
}

/**
 * A spot variant's shots in order, each with a local copy of its stored render (`local` is the
 * render step's own resolver: the file store's path, or a download into the work dir).
 */
export async function spotShotFiles(
  db: DbOrTx,
  variantId: string,
  local: (key: string, name: string) => Promise<string>,
): Promise<SpotShotFile[]> {
  const { rows } = await db.execute<{
    id: string;
    key: string;
    provider: string;
    model: string;
    raw_key: string | null;
  }>(sql`
    SELECT s.id, s.shot_key AS key, s.provider, s.model, s.raw_key
    FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
    WHERE vs.variant_id = ${variantId} ORDER BY vs.position`);
  return Promise.all(
    rows.map(async ({ raw_key, ...shot }, i) => {
      if (!raw_key) throw new Error(`shot ${shot.id} is ready without a stored render`);
      return { ...shot, path: await local(raw_key, `shot-${i}.mp4`) };
    }),
  );
}
