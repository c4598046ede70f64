import { sql } from 'drizzle-orm';
import { encodeTime } from 'ulid';
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

/** Events read at most per variant page: the trail's work is bounded however busy the tenant. */
const TRAIL_SCAN = 20_000;

/**
 * The variant.* events about one variant and, per webhook endpoint, how their delivery stands:
 * what support looks at when a platform says it never heard of a video. Event ids are ULIDs
 * (time-ordered) under the (tenant, id) index, so the scan starts a minute before the variant
 * was created (clock skew between processes) and reads at most TRAIL_SCAN events from there.
 */
export async function webhookTrail(
  db: Db,
  p: { tenantId: string; variantId: string; createdAt: Date },
) {
  const from = `evt_${encodeTime(Math.max(0, p.createdAt.getTime() - 60_000), 10).toLowerCase()}`;
  const { rows } = await db.execute<{
    event_id: string | null;
    type: string;
    created_at: string;
    dispatched: boolean;
    endpoint_id: string | null;
    url: string | null;
    status: string | null;
    attempts: number | null;
    last_status_code: number | null;
    scanned: number;
  }>(sql`
    WITH recent AS (
      SELECT id, type, data, created_at, dispatched_at FROM events
      WHERE tenant_id = ${p.tenantId} AND id >= ${from}
      ORDER BY id LIMIT ${TRAIL_SCAN}
    )
    SELECT s.scanned, t.* FROM (SELECT count(*)::int AS scanned FROM recent) s
    LEFT JOIN LATERAL (
      SELECT e.id AS event_id, e.type, e.created_at::text AS created_at,
             e.dispatched_at IS NOT NULL AS dispatched, d.endpoint_id, w.url, d.status,
             d.attempts, d.last_status_code
      FROM recent e
      LEFT JOIN webhook_deliveries d ON d.event_id = e.id
      LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
      WHERE e.type LIKE 'variant.%' AND e.data->>'variant_id' = ${p.variantId}
      ORDER BY e.id, d.endpoint_id LIMIT 200
    ) t ON true`);
  return {
    rows: rows.filter((r) => r.event_id !== null),
    truncated: (rows[0]?.scanned ?? 0) >= TRAIL_SCAN,
  };
}
