import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

export type DeliveryRow = {
  id: string;
  variant_id: string;
  campaign_id: string;
  destination: string;
  external_id: string;
  delivered_at: Date | string;
  metadata: Record<string, unknown>;
  created_at: Date | string;
  /** The variant's, for the platform's AI label. */
  provider: string;
  digital_source_type: string | null;
};

const columns = sql`d.id, d.variant_id, d.campaign_id, d.destination, d.external_id, d.delivered_at, d.metadata, d.created_at,
  (SELECT v.provider FROM variants v WHERE v.id = d.variant_id) AS provider,
  (SELECT v.digital_source_type FROM variants v WHERE v.id = d.variant_id) AS digital_source_type`;

/** The variant and its campaign's approval rule, locked: deliveries of one variant serialise. */
export async function lockVariant(tx: DbOrTx, p: { tenantId: string; id: string }) {
  const { rows } = await tx.execute<{
    id: string;
    status: string;
    campaign_id: string;
    require_approval: boolean;
  }>(sql`
    SELECT v.id, v.status, v.campaign_id, c.require_approval
    FROM variants v JOIN campaigns c ON c.id = v.campaign_id
    WHERE v.id = ${p.id} AND v.tenant_id = ${p.tenantId}
    FOR UPDATE OF v`);
  return rows[0] ?? null;
}

export async function findDelivery(
  db: DbOrTx,
  p: { variantId: string; destination: string; externalId: string },
) {
  const { rows } = await db.execute<DeliveryRow>(sql`
    SELECT ${columns} FROM deliveries d
    WHERE d.variant_id = ${p.variantId} AND d.destination = ${p.destination} AND d.external_id = ${p.externalId}`);
  return rows[0] ?? null;
}

export async function insertDelivery(
  db: DbOrTx,
  p: {
    id: string;
    tenantId: string;
    variantId: string;
    campaignId: string;
    destination: string;
    externalId: string;
    deliveredAt: Date;
    metadata: Record<string, unknown>;
  },
) {
  const { rows } = await db.execute<DeliveryRow>(sql`
    INSERT INTO deliveries AS d (id, tenant_id, variant_id, campaign_id, destination, external_id, delivered_at, metadata)
    VALUES (${p.id}, ${p.tenantId}, ${p.variantId}, ${p.campaignId}, ${p.destination}, ${p.externalId},
            ${p.deliveredAt}, ${JSON.stringify(p.metadata)}::jsonb)
    ON CONFLICT (variant_id, destination, external_id) DO NOTHING
    RETURNING ${columns}`);
  return rows[0] ?? null;
}

export async function listDeliveries(
  db: DbOrTx,
  p: {
    tenantId: string;
    campaignId?: string | undefined;
    runId?: string | undefined;
    variantId?: string | undefined;
    destination?: string | undefined;
    after?: string | undefined;
    limit: number;
  },
) {
  const where = [sql`d.tenant_id = ${p.tenantId}`];
  if (p.campaignId) where.push(sql`d.campaign_id = ${p.campaignId}`);
  if (p.runId)
    where.push(
      sql`d.variant_id IN (SELECT variant_id FROM run_variants WHERE run_id = ${p.runId})`,
    );
  if (p.variantId) where.push(sql`d.variant_id = ${p.variantId}`);
  if (p.destination) where.push(sql`d.destination = ${p.destination}`);
  if (p.after) where.push(sql`d.id > ${p.after}`);
  const { rows } = await db.execute<DeliveryRow>(
    sql`SELECT ${columns} FROM deliveries d WHERE ${sql.join(where, sql` AND `)} ORDER BY d.id LIMIT ${p.limit}`,
  );
  return rows;
}

/** For variant records: every delivery of these variants, in one query. */
export async function deliveriesOf(db: DbOrTx, variantIds: string[]) {
  const byVariant = new Map<string, DeliveryRow[]>();
  if (!variantIds.length) return byVariant;
  const { rows } = await db.execute<DeliveryRow>(sql`
    SELECT ${columns} FROM deliveries d WHERE d.variant_id = ANY(${sql.param(variantIds)}::text[]) ORDER BY d.id`);
  for (const row of rows) {
    const list = byVariant.get(row.variant_id) ?? [];
    list.push(row);
    byVariant.set(row.variant_id, list);
  }
  return byVariant;
}

export async function ownerExists(
  db: DbOrTx,
  p: { tenantId: string; table: 'runs' | 'campaigns'; id: string },
) {
  const { rows } = await db.execute(
    sql`SELECT 1 FROM ${sql.identifier(p.table)} WHERE id = ${p.id} AND tenant_id = ${p.tenantId}`,
  );
  return rows.length > 0;
}

export async function variantTenant(db: DbOrTx, id: string) {
  const { rows } = await db.execute<{ tenant_id: string }>(
    sql`SELECT tenant_id FROM variants WHERE id = ${id}`,
  );
  return rows[0]?.tenant_id ?? null;
}
