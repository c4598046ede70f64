import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

/** Rows to write, one array per column (how unnest takes them: one parameter per column). */
export interface MetricColumns {
  variantIds: string[];
  dates: string[];
  platforms: string[];
  impressions: number[];
  clicks: number[];
  conversions: number[];
  spendUsd: number[];
  videoViews: number[];
  revenueUsd: number[];
}

/** The given ids that are variants of this tenant; others' ids look exactly like unknown ones. */
export async function ownedVariantIds(
  db: DbOrTx,
  p: { tenantId: string; ids: string[] },
): Promise<Set<string>> {
  if (!p.ids.length) return new Set();
  const { rows } = await db.execute<{ id: string }>(sql`
    SELECT id FROM variants
    WHERE tenant_id = ${p.tenantId} AND id = ANY(${sql.param(p.ids)}::text[])`);
  return new Set(rows.map((r) => r.id));
}

/**
 * The variants each given external id (a platform's ad id, recorded with a delivery) belongs
 * to, within the tenant; ids with no delivery are absent. One id can name several variants when
 * two platforms reuse an id, so each maps to every distinct variant.
 */
export async function variantsByExternalId(
  db: DbOrTx,
  p: { tenantId: string; ids: string[] },
): Promise<Map<string, string[]>> {
  if (!p.ids.length) return new Map();
  const { rows } = await db.execute<{ external_id: string; variant_ids: string[] }>(sql`
    SELECT external_id, array_agg(DISTINCT variant_id ORDER BY variant_id) AS variant_ids
    FROM deliveries
    WHERE tenant_id = ${p.tenantId} AND external_id = ANY(${sql.param(p.ids)}::text[])
    GROUP BY external_id`);
  return new Map(rows.map((r) => [r.external_id, r.variant_ids]));
}

/**
 * Serialises one tenant's uploads: two uploads touching the same keys in different orders
 * would otherwise deadlock each other. Tenants never share keys, so they never wait on each other.
 */
export async function lockTenantMetrics(tx: DbOrTx, tenantId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`amx-metrics:${tenantId}`}))`);
}

/**
 * Upserts one chunk in one statement. Rows whose values equal the stored ones are left alone
 * (no dead tuple, no updated_at change), so re-sending a file is cheap and reported as unchanged.
 * Campaign and tenant come from the variant, joined on the tenant once more as a guard.
 */
export async function upsertMetrics(
  tx: DbOrTx,
  p: { tenantId: string; rows: MetricColumns },
): Promise<{ inserted: number; updated: number }> {
  const r = p.rows;
  const { rows } = await tx.execute<{ inserted: number; updated: number }>(sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${sql.param(r.variantIds)}::text[], ${sql.param(r.dates)}::date[],
        ${sql.param(r.platforms)}::text[], ${sql.param(r.impressions)}::int8[],
        ${sql.param(r.clicks)}::int8[], ${sql.param(r.conversions)}::int8[],
        ${sql.param(r.spendUsd)}::numeric[], ${sql.param(r.videoViews)}::int8[],
        ${sql.param(r.revenueUsd)}::numeric[]
      ) AS r(variant_id, date, platform, impressions, clicks, conversions, spend_usd, video_views,
             revenue_usd)
    ), up AS (
      INSERT INTO metrics AS m (tenant_id, variant_id, campaign_id, date, platform, impressions,
                                clicks, conversions, spend_usd, video_views, revenue_usd)
      SELECT v.tenant_id, r.variant_id, v.campaign_id, r.date, r.platform, r.impressions,
             r.clicks, r.conversions, r.spend_usd, r.video_views, r.revenue_usd
      FROM input r JOIN variants v ON v.id = r.variant_id AND v.tenant_id = ${p.tenantId}
      ON CONFLICT (variant_id, date, platform) DO UPDATE SET
        impressions = excluded.impressions, clicks = excluded.clicks,
        conversions = excluded.conversions, spend_usd = excluded.spend_usd,
        video_views = excluded.video_views, revenue_usd = excluded.revenue_usd,
        updated_at = now()
      WHERE (m.impressions, m.clicks, m.conversions, m.spend_usd, m.video_views, m.revenue_usd)
            IS DISTINCT FROM (excluded.impressions, excluded.clicks, excluded.conversions,
                              excluded.spend_usd, excluded.video_views, excluded.revenue_usd)
      RETURNING (xmax = 0) AS inserted
    )
    SELECT (count(*) FILTER (WHERE inserted))::int AS inserted,
           (count(*) FILTER (WHERE NOT inserted))::int AS updated
    FROM up`);
  return { inserted: rows[0]?.inserted ?? 0, updated: rows[0]?.updated ?? 0 };
}
