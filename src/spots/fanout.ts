import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Db, DbOrTx } from '../db/client.ts';
import { copyRows } from '../db/copy.ts';
import { newId } from '../ids.ts';
import type { Routed } from '../runs/fanout.ts';
import type { ShotRef } from './plan.ts';
import { requeueShotsForRetry } from './shot-lifecycle.ts';

/**
 * Creates the shots a chunk of new spot variants needs that the campaign does not have yet
 * (one row per identity: the unique index makes a second insert a no-op) and links each
 * variant to its shots in order. Inside the run's transaction, under the campaign lock.
 */
export async function writeVariantShots(
  tx: Db,
  client: pg.PoolClient,
  p: { tenantId: string; campaignId: string; variants: { id: string; shots: ShotRef[] }[] },
): Promise<void> {
  if (!p.variants.length) return;
  const unique = new Map<string, ShotRef>();
  for (const v of p.variants) for (const s of v.shots) unique.set(s.identity, s);
  const rows = [...unique.values()].map((s) => ({
    id: newId('shot'),
    identity: s.identity,
    shot_key: s.key,
    prompt: s.prompt,
    provider: s.provider,
    model: s.model,
    seconds: s.seconds,
    size: s.size,
    // The product image a local shot draws is fixed with its identity, not read at render time.
    reference_asset_id: s.referenceAssetId ?? s.drawn?.product ?? null,
    previous_identity: s.previousIdentity,
    cost_usd: s.priceUsd,
  }));
  await tx.execute(sql`
    INSERT INTO shots (id, tenant_id, campaign_id, identity, shot_key, prompt, provider, model, seconds, size,
                       reference_asset_id, previous_identity, cost_usd, status)
    SELECT x.id, ${p.tenantId}, ${p.campaignId}, x.identity, x.shot_key, x.prompt, x.provider, x.model, x.seconds,
           x.size, x.reference_asset_id, x.previous_identity, x.cost_usd, 'queued'
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id text, identity text, shot_key text, prompt text,
         provider text, model text, seconds int, size text, reference_asset_id text, previous_identity text,
         cost_usd numeric)
    ON CONFLICT (campaign_id, identity) DO NOTHING`);
  const { rows: ids } = await tx.execute<{ id: string; identity: string }>(sql`
    SELECT id, identity FROM shots
    WHERE campaign_id = ${p.campaignId} AND identity = ANY(${sql.param([...unique.keys()])}::text[])`);
  const idOf = new Map(ids.map((r) => [r.identity, r.id]));
  await copyRows(
    client,
    'variant_shots',
    ['variant_id', 'position', 'shot_id'],
    p.variants.flatMap((v) => v.shots.map((s, i) => [v.id, i, idOf.get(s.identity)!])),
  );
}

/**
 * The shots a run's variants wait for that no job may hold: failed or cancelled ones go back
 * to queued (a new run asks for them again, and pays again, as for variants); every shot still
 * to render is returned for enqueueing (idempotent: jobId = shot id).
 */
export async function shotsToRender(tx: DbOrTx, runId: string): Promise<Routed[]> {
  const { rows: stopped } = await tx.execute<{ id: string }>(sql`
    SELECT DISTINCT s.id FROM run_variants rv
    JOIN variant_shots vs ON vs.variant_id = rv.variant_id JOIN shots s ON s.id = vs.shot_id
    JOIN variants v ON v.id = rv.variant_id
    WHERE rv.run_id = ${runId} AND s.status IN ('failed', 'cancelled') AND v.status IN ('queued', 'pending')`);
  await requeueShotsForRetry(
    tx,
    stopped.map((r) => r.id),
  );
  const { rows } = await tx.execute<{ id: string; provider: string }>(sql`
    SELECT DISTINCT s.id, s.provider FROM run_variants rv
    JOIN variant_shots vs ON vs.variant_id = rv.variant_id JOIN shots s ON s.id = vs.shot_id
    WHERE rv.run_id = ${runId} AND s.status = 'queued'`);
  return rows;
}

/** What rendering again the failed or cancelled shots of these variants costs (a run retry). */
export async function retryShotCost(tx: DbOrTx, variantIds: string[]): Promise<number> {
  if (!variantIds.length) return 0;
  const { rows } = await tx.execute<{ cost: string | null }>(sql`
    SELECT sum(s.cost_usd) AS cost FROM shots s
    WHERE s.status IN ('failed', 'cancelled') AND s.id IN (
      SELECT shot_id FROM variant_shots WHERE variant_id = ANY(${sql.param(variantIds)}::text[]))`);
  return Number(rows[0]?.cost ?? 0);
}
