import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

export type VariantShotRow = {
  variant_id: string;
  position: number;
  id: string;
  shot_key: string;
  prompt: string;
  provider: string;
  model: string;
  seconds: number;
  status: string;
  provider_job_id: string | null;
  cost_usd: string;
  actual_cost_usd: string;
  /** Made for an earlier variant (ids sort by creation), so this one paid nothing for it. */
  reused: boolean;
};

/** The shots of these variants, in order: one query for any number of variants. */
export async function shotsOfVariants(
  db: DbOrTx,
  variantIds: string[],
): Promise<Map<string, VariantShotRow[]>> {
  const byVariant = new Map<string, VariantShotRow[]>();
  if (!variantIds.length) return byVariant;
  const { rows } = await db.execute<VariantShotRow>(sql`
    SELECT vs.variant_id, vs.position, s.id, s.shot_key, s.prompt, s.provider, s.model, s.seconds, s.status,
           s.provider_job_id, s.cost_usd, s.actual_cost_usd,
           vs.variant_id <> (SELECT min(f.variant_id) FROM variant_shots f WHERE f.shot_id = s.id) AS reused
    FROM variant_shots vs JOIN shots s ON s.id = vs.shot_id
    WHERE vs.variant_id = ANY(${sql.param(variantIds)}::text[])
    ORDER BY vs.variant_id, vs.position`);
  for (const r of rows) {
    const list = byVariant.get(r.variant_id) ?? [];
    list.push(r);
    byVariant.set(r.variant_id, list);
  }
  return byVariant;
}

export type ShotRow = {
  id: string;
  campaign_id: string;
  shot_key: string;
  prompt: string;
  provider: string;
  model: string;
  seconds: number;
  size: string;
  status: string;
  provider_job_id: string | null;
  attempts: number;
  cost_usd: string;
  actual_cost_usd: string;
  error_code: string | null;
  error_message: string | null;
  created_at: Date | string;
  ready_at: Date | string | null;
};

/** Another tenant's shot is as absent as one that does not exist. */
export async function findShot(db: DbOrTx, p: { tenantId: string; id: string }) {
  const { rows } = await db.execute<ShotRow>(sql`
    SELECT id, campaign_id, shot_key, prompt, provider, model, seconds, size, status, provider_job_id, attempts,
           cost_usd, actual_cost_usd, error_code, error_message, created_at, ready_at
    FROM shots WHERE tenant_id = ${p.tenantId} AND id = ${p.id}`);
  return rows[0] ?? null;
}

/** The variants assembled from a shot, oldest first, a page at a time. */
export async function variantsOfShot(
  db: DbOrTx,
  p: { shotId: string; after?: string | undefined; limit: number },
) {
  const { rows } = await db.execute<{
    id: string;
    run_id: string;
    status: string;
    levels: Record<string, string>;
  }>(sql`
    SELECT v.id, v.run_id, v.status, v.levels
    FROM variant_shots vs JOIN variants v ON v.id = vs.variant_id
    WHERE vs.shot_id = ${p.shotId} AND vs.variant_id > ${p.after ?? ''}
    ORDER BY vs.variant_id LIMIT ${p.limit}`);
  return rows;
}
