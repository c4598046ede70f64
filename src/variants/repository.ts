import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { type RenditionFormat, renditionFormats, type VariantStatus } from '../db/schema.ts';

export type VariantRow = {
  id: string;
  tenant_id: string;
  run_id: string;
  campaign_id: string;
  levels: Record<string, string>;
  prompt: string;
  provider_prompt: string | null;
  status: VariantStatus;
  provider: string;
  model: string;
  seconds: number;
  size: string;
  provider_job_id: string | null;
  attempts: number;
  progress: number;
  error_code: string | null;
  error_message: string | null;
  cost_usd: string;
  actual_cost_usd: string;
  video_key: string | null;
  thumbnail_key: string | null;
  video_bytes: number | null;
  video_sha256: string | null;
  duration_s: string | null;
  width: number | null;
  height: number | null;
  digital_source_type: string | null;
  disclosure_text: string | null;
  created_at: Date;
  updated_at: Date;
};

const columns = sql`v.id, v.tenant_id, v.run_id, v.campaign_id, v.levels, v.prompt, v.provider_prompt, v.status, v.provider, v.model,
  v.seconds, v.size, v.provider_job_id, v.attempts, v.progress, v.error_code, v.error_message, v.cost_usd,
  v.actual_cost_usd, v.video_key, v.thumbnail_key, v.video_bytes, v.video_sha256, v.duration_s, v.width,
  v.height, v.digital_source_type, v.disclosure_text, v.created_at, v.updated_at`;

export async function findVariant(db: DbOrTx, p: { tenantId: string; id: string }) {
  const { rows } = await db.execute<VariantRow>(
    sql`SELECT ${columns} FROM variants v WHERE v.tenant_id = ${p.tenantId} AND v.id = ${p.id}`,
  );
  return rows[0] ?? null;
}

export async function listVariants(
  db: DbOrTx,
  p: {
    tenantId: string;
    runId?: string | undefined;
    campaignId?: string | undefined;
    status?: VariantStatus | undefined;
    levels: Record<string, string>;
    after?: string | undefined;
    limit: number;
  },
) {
  const where = [sql`v.tenant_id = ${p.tenantId}`];
  if (p.runId)
    where.push(sql`v.id IN (SELECT variant_id FROM run_variants WHERE run_id = ${p.runId})`);
  if (p.campaignId) where.push(sql`v.campaign_id = ${p.campaignId}`);
  if (p.status) where.push(sql`v.status = ${p.status}`);
  if (Object.keys(p.levels).length) where.push(sql`v.levels @> ${JSON.stringify(p.levels)}::jsonb`);
  if (p.after) where.push(sql`v.id > ${p.after}`);
  const { rows } = await db.execute<VariantRow>(
    sql`SELECT ${columns} FROM variants v WHERE ${sql.join(where, sql` AND `)} ORDER BY v.id LIMIT ${p.limit}`,
  );
  return rows;
}

export type RenditionRow = {
  variant_id: string;
  format: RenditionFormat;
  video_key: string;
  width: number;
  height: number;
  duration_s: string;
  bytes: string;
  sha256: string;
};

/** The renditions of these variants, in the order formats are listed: one query for a page. */
export async function renditionsOfVariants(
  db: DbOrTx,
  variantIds: string[],
): Promise<Map<string, RenditionRow[]>> {
  if (!variantIds.length) return new Map();
  const { rows } = await db.execute<RenditionRow>(sql`
    SELECT variant_id, format, video_key, width, height, duration_s, bytes, sha256
    FROM variant_renditions WHERE variant_id = ANY(${sql.param(variantIds)}::text[])
    ORDER BY variant_id, array_position(${sql.param([...renditionFormats])}::text[], format)`);
  return Map.groupBy(rows, (r) => r.variant_id);
}

/** Written once per (variant, format): a composite re-run after a crash adds nothing. */
export async function insertRendition(
  db: DbOrTx,
  p: {
    variantId: string;
    tenantId: string;
    format: RenditionFormat;
    videoKey: string;
    width: number;
    height: number;
    durationS: number;
    bytes: number;
    sha256: string;
  },
) {
  await db.execute(sql`
    INSERT INTO variant_renditions (variant_id, format, tenant_id, video_key, width, height, duration_s, bytes, sha256)
    VALUES (${p.variantId}, ${p.format}, ${p.tenantId}, ${p.videoKey}, ${p.width}, ${p.height}, ${p.durationS},
            ${p.bytes}, ${p.sha256})
    ON CONFLICT (variant_id, format) DO NOTHING`);
}
