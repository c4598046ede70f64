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
