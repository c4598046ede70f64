import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

/** Failed and blocked variants of a run grouped by error code: what to fix first. */
export async function failuresByReason(db: Db, p: { runId: string }) {
  const { rows } = await db.execute<{ code: string | null; status: string; n: number }>(sql`
    SELECT v.error_code AS code, v.status, count(*)::int AS n
    FROM run_variants rv JOIN variants v ON v.id = rv.variant_id
    WHERE rv.run_id = ${p.runId} AND v.status IN ('failed', 'blocked')
    GROUP BY 1, 2 ORDER BY n DESC LIMIT 20`);
  return rows;
}

/** Daily impressions and clicks per platform of a campaign, for CTR over time (newest 90 days). */
export async function dailyByPlatform(db: Db, p: { tenantId: string; campaignId: string }) {
  const { rows } = await db.execute<{
    date: string;
    platform: string;
    impressions: number;
    clicks: number;
  }>(sql`
    SELECT date::text AS date, platform, sum(impressions)::float8 AS impressions, sum(clicks)::float8 AS clicks
    FROM metrics
    WHERE tenant_id = ${p.tenantId} AND campaign_id = ${p.campaignId}
      AND date > (SELECT max(date) - 90 FROM metrics WHERE tenant_id = ${p.tenantId} AND campaign_id = ${p.campaignId})
    GROUP BY 1, 2 ORDER BY 1, 2`);
  return rows;
}

/** Of these variant ids, those in the run: a grid's bulk form decides only its own run's cards. */
export async function idsInRun(db: Db, p: { runId: string; ids: string[] }) {
  if (!p.ids.length) return [];
  const { rows } = await db.execute<{ id: string }>(sql`
    SELECT variant_id AS id FROM run_variants
    WHERE run_id = ${p.runId} AND variant_id = ANY(${sql.param(p.ids)}::text[])
    ORDER BY variant_id`);
  return rows.map((r) => r.id);
}
