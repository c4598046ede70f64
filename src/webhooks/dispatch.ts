import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Queues } from '../queue/registry.ts';
import { enqueueDeliveries } from './enqueue.ts';
import { deliveryIdSql } from './ids.ts';

interface Dispatcher {
  /**
   * Fans out every undispatched event. Calls while a pass runs are coalesced into one more
   * pass after it, so an event committed at any moment is seen by a pass that starts later.
   */
  kick(): Promise<number>;
}

/**
 * The events table is the outbox. A pass claims a batch of undispatched events with
 * `FOR UPDATE SKIP LOCKED` (so any number of workers can run passes at once without sending
 * twice), writes one webhook_deliveries row per subscribed enabled endpoint (unique per
 * (event, endpoint)) and marks the events dispatched, all in one statement; the delivery
 * jobs are added after commit. A crash before commit leaves the events to the next pass; a
 * crash after it leaves pending deliveries, which the reconciler enqueues.
 */
export function createDispatcher(deps: {
  db: Db;
  queues: Queues;
  logger: Logger;
  batchSize?: number;
}): Dispatcher {
  const { db } = deps;
  const batch = deps.batchSize ?? 500;
  const log = deps.logger.child({ component: 'webhook-dispatch' });

  /** One statement, so one round trip: claim, fan out, mark dispatched. */
  async function pass(): Promise<{ events: number; deliveries: string[] }> {
    const { rows } = await db.execute<{ events: number; deliveries: string[] | null }>(sql`
      WITH claimed AS (
        SELECT id, tenant_id, type FROM events WHERE dispatched_at IS NULL
        ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED),
      marked AS (
        UPDATE events e SET dispatched_at = now() FROM claimed c WHERE e.id = c.id RETURNING e.id),
      inserted AS (
        INSERT INTO webhook_deliveries (id, tenant_id, event_id, endpoint_id, status, next_attempt_at)
        SELECT ${deliveryIdSql(sql`c.id`, sql`w.id`)}, c.tenant_id, c.id, w.id, 'pending', now()
        FROM claimed c
        JOIN webhook_endpoints w
          ON w.tenant_id = c.tenant_id AND w.enabled AND w.deleted_at IS NULL AND c.type = ANY(w.events)
        ON CONFLICT (event_id, endpoint_id) DO NOTHING
        RETURNING id)
      SELECT (SELECT count(*)::int FROM marked) AS events,
             (SELECT array_agg(id ORDER BY id) FROM inserted) AS deliveries`);
    const result = { events: rows[0]?.events ?? 0, deliveries: rows[0]?.deliveries ?? [] };
    if (result.deliveries.length) {
      try {
        await enqueueDeliveries(deps.queues, result.deliveries);
      } catch (err) {
        log.warn({ err }, 'enqueue after dispatch failed; the reconciler will enqueue');
      }
    }
    return result;
  }

  let running: Promise<number> | null = null;
  let again = false;

  async function drain(): Promise<number> {
    let total = 0;
    try {
      while (again) {
        again = false;
        for (;;) {
          const { events } = await pass();
          total += events;
          if (events < batch) break;
        }
      }
    } finally {
      // Same synchronous step as the last `again` check: no kick can slip in between.
      running = null;
    }
    return total;
  }

  return {
    kick() {
      again = true;
      running ??= drain();
      return running;
    },
  };
}
