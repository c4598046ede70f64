import { and, asc, eq } from 'drizzle-orm';
import pg from 'pg';
import type { DbOrTx } from '../db/client.ts';
import { type MatrixDocument, matrices, runs, type VariantStatus } from '../db/schema.ts';

/** One variant with its metrics and deliveries summed: one row of the report's single query. */
export interface VariantAggregate {
  id: string;
  levels: Record<string, string>;
  status: VariantStatus;
  provider: string;
  digital_source_type: string | null;
  cost_usd: number;
  actual_cost_usd: number;
  /** Submit → ready, seconds; null until ready. */
  render_s: number | null;
  error_code: string | null;
  reviewed: boolean;
  impressions: number;
  clicks: number;
  conversions: number;
  spend_usd: number;
  video_views: number;
  revenue_usd: number;
  /**
   * The variant's metric rows (date × platform) and the second moments of spend, conversions
   * and revenue over them: the units of its CPA and ROAS intervals (stats/ratio.ts).
   */
  metric_rows: number;
  spend2: number;
  conversions2: number;
  revenue2: number;
  spend_conversions: number;
  revenue_spend: number;
  deliveries: number;
  destinations: string[] | null;
  /**
   * Impressions and clicks per platform, in the same order; null when the variant's metrics all
   * have the empty platform (or it has none), which keeps the common one-platform case free.
   */
  platforms: string[] | null;
  platform_impressions: number[] | null;
  platform_clicks: number[] | null;
  platform_conversions: number[] | null;
  platform_video_views: number[] | null;
  /**
   * Every metric row of the variant, (date, platform) ordered, when the campaign has at most
   * MAX_DAY_CELLS rows (see aggregateBatches); null otherwise or without rows. Days count from
   * 2000-01-01. They give the model its date strata and the report its by-date breakdown.
   */
  cell_platforms: string[] | null;
  cell_days: number[] | null;
  cell_impressions: number[] | null;
  cell_clicks: number[] | null;
  cell_conversions: number[] | null;
  cell_video_views: number[] | null;
}

/**
 * Metric rows of a campaign up to which the report reads them one by one (dates as strata, the
 * by-date breakdown). Beyond it the report keeps to per-platform totals: a fit on millions of
 * (variant, platform, date) cells would cost several times the aggregation itself.
 */
export const MAX_DAY_CELLS = 200_000;

export interface ReportScope {
  tenantId: string;
  campaignId: string;
  /** Only this run's variants (including those it reused from earlier runs). */
  runId: string | null;
}

/** Matrix documents of the runs in scope, oldest run first, each matrix once. */
export async function matrixDocuments(db: DbOrTx, scope: ReportScope): Promise<MatrixDocument[]> {
  const rows = await db
    .select({ matrixId: runs.matrixId, document: matrices.document })
    .from(runs)
    .innerJoin(matrices, eq(matrices.id, runs.matrixId))
    .where(
      and(
        eq(runs.tenantId, scope.tenantId),
        eq(runs.campaignId, scope.campaignId),
        scope.runId ? eq(runs.id, scope.runId) : undefined,
      ),
    )
    .orderBy(asc(runs.id));
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.matrixId) && seen.add(r.matrixId)).map((r) => r.document);
}

/**
 * The single aggregation the report needs: every variant in scope with its metrics summed over
 * dates and platforms (and kept per platform, the model's strata) and its deliveries counted.
 * Sums run in float8 — exact for counts below 2^53 and several times cheaper than numeric
 * accumulation over millions of rows.
 */
export function aggregateQuery(
  scope: ReportScope,
  opts: { cells: boolean } = { cells: false },
): { text: string; values: string[] } {
  const values = [scope.tenantId, scope.campaignId];
  if (scope.runId) values.push(scope.runId);
  const text = `
    SELECT v.id, v.levels, v.status, v.provider, v.digital_source_type,
           v.cost_usd::float8 AS cost_usd,
           v.actual_cost_usd::float8 AS actual_cost_usd,
           extract(epoch FROM v.ready_at - coalesce(v.submitted_at, v.submit_started_at))::float8
             AS render_s,
           v.error_code, (v.reviewed_at IS NOT NULL) AS reviewed,
           coalesce(m.impressions, 0) AS impressions, coalesce(m.clicks, 0) AS clicks,
           coalesce(m.conversions, 0) AS conversions, coalesce(m.spend_usd, 0) AS spend_usd,
           coalesce(m.video_views, 0) AS video_views, coalesce(m.revenue_usd, 0) AS revenue_usd,
           coalesce(m.metric_rows, 0)::int AS metric_rows, coalesce(m.spend2, 0) AS spend2,
           coalesce(m.conversions2, 0) AS conversions2, coalesce(m.revenue2, 0) AS revenue2,
           coalesce(m.spend_conversions, 0) AS spend_conversions,
           coalesce(m.revenue_spend, 0) AS revenue_spend,
           coalesce(d.n, 0)::int AS deliveries, d.destinations,
           m.platforms, m.platform_impressions, m.platform_clicks, m.platform_conversions,
           m.platform_video_views,
           ${opts.cells ? 'c.cell_platforms, c.cell_days, c.cell_impressions, c.cell_clicks, c.cell_conversions, c.cell_video_views' : 'NULL AS cell_platforms, NULL AS cell_days, NULL AS cell_impressions, NULL AS cell_clicks, NULL AS cell_conversions, NULL AS cell_video_views'}
    FROM variants v
    LEFT JOIN (
      SELECT variant_id, sum(impressions) AS impressions, sum(clicks) AS clicks,
             sum(conversions) AS conversions, sum(spend_usd) AS spend_usd,
             sum(video_views) AS video_views, sum(revenue_usd) AS revenue_usd,
             sum(metric_rows) AS metric_rows, sum(spend2) AS spend2,
             sum(conversions2) AS conversions2, sum(revenue2) AS revenue2,
             sum(spend_conversions) AS spend_conversions, sum(revenue_spend) AS revenue_spend,
             CASE WHEN count(*) > 1 OR min(platform) <> '' THEN array_agg(platform) END
               AS platforms,
             CASE WHEN count(*) > 1 OR min(platform) <> '' THEN array_agg(impressions) END
               AS platform_impressions,
             CASE WHEN count(*) > 1 OR min(platform) <> '' THEN array_agg(clicks) END
               AS platform_clicks,
             CASE WHEN count(*) > 1 OR min(platform) <> '' THEN array_agg(conversions) END
               AS platform_conversions,
             CASE WHEN count(*) > 1 OR min(platform) <> '' THEN array_agg(video_views) END
               AS platform_video_views
      FROM (
        SELECT variant_id, platform, sum(impressions::float8) AS impressions,
               sum(clicks::float8) AS clicks, sum(conversions::float8) AS conversions,
               sum(spend_usd::float8) AS spend_usd, sum(video_views::float8) AS video_views,
               sum(revenue_usd::float8) AS revenue_usd, count(*) AS metric_rows,
               sum(spend_usd::float8 ^ 2) AS spend2, sum(conversions::float8 ^ 2) AS conversions2,
               sum(revenue_usd::float8 ^ 2) AS revenue2,
               sum(spend_usd::float8 * conversions) AS spend_conversions,
               sum(revenue_usd::float8 * spend_usd::float8) AS revenue_spend
        FROM metrics WHERE tenant_id = $1 AND campaign_id = $2
        GROUP BY variant_id, platform
      ) per_platform
      GROUP BY variant_id
    ) m ON m.variant_id = v.id
    ${
      opts.cells
        ? `LEFT JOIN (
      SELECT variant_id, array_agg(platform ORDER BY date, platform) AS cell_platforms,
             array_agg(date - date '2000-01-01' ORDER BY date, platform) AS cell_days,
             array_agg(impressions::float8 ORDER BY date, platform) AS cell_impressions,
             array_agg(clicks::float8 ORDER BY date, platform) AS cell_clicks,
             array_agg(conversions::float8 ORDER BY date, platform) AS cell_conversions,
             array_agg(video_views::float8 ORDER BY date, platform) AS cell_video_views
      FROM metrics WHERE tenant_id = $1 AND campaign_id = $2
      GROUP BY variant_id
    ) c ON c.variant_id = v.id`
        : ''
    }
    LEFT JOIN (
      SELECT variant_id, count(*) AS n, array_agg(DISTINCT destination) AS destinations
      FROM deliveries WHERE tenant_id = $1 AND campaign_id = $2
      GROUP BY variant_id
    ) d ON d.variant_id = v.id
    WHERE v.tenant_id = $1 AND v.campaign_id = $2
      ${scope.runId ? 'AND v.id IN (SELECT variant_id FROM run_variants WHERE run_id = $3)' : ''}
    ORDER BY v.id`;
  return { text, values };
}

/**
 * Streams the aggregation in batches without ever holding the whole result: rows arrive as
 * Postgres sends them, and the socket is paused while more than two batches wait for the
 * consumer, so a slow reader slows the query instead of filling memory. A plain statement
 * rather than a cursor, because Postgres runs cursors without parallel workers (1.6× slower on
 * the bench). Stopping early (a client that hung up) discards the connection, which ends the
 * query on the server.
 */
export async function* aggregateBatches(
  pool: pg.Pool,
  scope: ReportScope,
  batchSize = 5_000,
  opts: { cells: boolean } = { cells: false },
): AsyncGenerator<VariantAggregate[]> {
  const client = await pool.connect();
  const socket = client.connection.stream;
  let finished = false;
  try {
    await client.query('BEGIN READ ONLY');
    // JIT compiling costs more than it saves on this aggregation (bench/reports.ts); a reader
    // stalled for minutes must not pin a connection and a snapshot for ever.
    await client.query("SET LOCAL jit = off; SET LOCAL statement_timeout = '5min'");
    let cells = false;
    if (opts.cells) {
      // An index-only count on the campaign's rows: cheap next to the aggregation.
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::float8 AS n FROM metrics WHERE tenant_id = $1 AND campaign_id = $2',
        [scope.tenantId, scope.campaignId],
      );
      cells = (rows[0]?.n ?? 0) <= MAX_DAY_CELLS;
    }
    const { text, values } = aggregateQuery(scope, { cells });
    const query = new pg.Query<VariantAggregate>(text, values);
    const ready: VariantAggregate[][] = [];
    let batch: VariantAggregate[] = [];
    let ended = false;
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const signal = () => {
      wake?.();
      wake = null;
    };
    // With a row listener and no callback, pg hands rows over without collecting them.
    query.on('row', (row: VariantAggregate) => {
      batch.push(row);
      if (batch.length < batchSize) return;
      ready.push(batch);
      batch = [];
      if (ready.length >= 2) socket.pause();
      signal();
    });
    query.on('end', () => {
      if (batch.length) ready.push(batch);
      ended = true;
      signal();
    });
    query.on('error', (err: Error) => {
      failure = err;
      signal();
    });
    client.query(query);
    for (;;) {
      const next = ready.shift();
      if (next) {
        if (ready.length < 2) socket.resume();
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    await client.query('COMMIT');
    finished = true;
  } finally {
    socket.resume();
    client.release(!finished);
  }
}
