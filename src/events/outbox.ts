import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { newId } from '../ids.ts';
import { aiDisclosure } from '../provenance/manifest.ts';
import type { EventType } from './types.ts';

/**
 * The events table is the outbox: an event is written in the transaction that made it true, and
 * the webhook dispatcher fans committed events out to endpoints.
 */
export async function recordEvent(
  tx: DbOrTx,
  p: { tenantId: string; type: EventType; data: Record<string, unknown> },
) {
  const id = newId('event');
  await tx.execute(
    sql`INSERT INTO events (id, tenant_id, type, data) VALUES (${id}, ${p.tenantId}, ${p.type}, ${JSON.stringify(p.data)}::jsonb)`,
  );
  return id;
}

/** The variant as a variant.* event carries it. */
export function variantEventData(v: {
  id: string;
  campaign_id: string;
  run_id: string;
  status: string;
  levels: Record<string, string>;
  error_code: string | null;
  error_message: string | null;
  provider?: string;
  digital_source_type?: string | null;
}) {
  return {
    variant_id: v.id,
    campaign_id: v.campaign_id,
    run_id: v.run_id,
    status: v.status,
    levels: v.levels,
    ...(v.provider
      ? aiDisclosure({ provider: v.provider, digital_source_type: v.digital_source_type ?? null })
      : {}),
    ...(v.error_code ? { error: { code: v.error_code, message: v.error_message } } : {}),
  };
}
