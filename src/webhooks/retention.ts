import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

/** Providers retry an inbound webhook for up to three days; its id is kept for a week. */
const inboundDays = 7;
/** Rows per statement, so a first purge of a large backlog never holds long locks. */
const batch = 5_000;

export interface Purged {
  deliveries: number;
  inbound: number;
  endpoints: number;
}

/**
 * The webhook log is kept for `days`: settled deliveries older than that go, each with all of
 * its attempts (a delivery's log is kept or dropped whole), then the tombstones of deleted
 * endpoints nothing refers to any more. Pending deliveries are never purged, and events stay:
 * they are the outbox and what a replay re-sends.
 */
export async function purgeWebhookHistory(db: Db, opts: { days: number }): Promise<Purged> {
  const purged: Purged = { deliveries: 0, inbound: 0, endpoints: 0 };
  for (;;) {
    const { rows } = await db.execute<{ n: number }>(sql`
      WITH old AS (
        SELECT id FROM webhook_deliveries
        WHERE status <> 'pending' AND created_at < now() - make_interval(days => ${opts.days})
        ORDER BY created_at LIMIT ${batch}
      ), attempts AS (
        DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM old)
      ), deliveries AS (
        DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM old) RETURNING 1
      )
      SELECT count(*)::int AS n FROM deliveries`);
    const n = rows[0]?.n ?? 0;
    purged.deliveries += n;
    if (n < batch) break;
  }
  for (;;) {
    const { rowCount } = await db.execute(sql`
      DELETE FROM inbound_webhooks WHERE (provider, webhook_id) IN (
        SELECT provider, webhook_id FROM inbound_webhooks
        WHERE received_at < now() - make_interval(days => ${inboundDays}) LIMIT ${batch})`);
    purged.inbound += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) break;
  }
  const { rowCount } = await db.execute(sql`
    DELETE FROM webhook_endpoints e
    WHERE deleted_at < now() - make_interval(days => ${opts.days})
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.endpoint_id = e.id)`);
  purged.endpoints = rowCount ?? 0;
  return purged;
}
