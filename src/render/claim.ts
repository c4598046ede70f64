import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { VariantStatus } from '../db/schema.ts';
import { inFlightStatuses, markRunsStarted, transition } from '../variants/lifecycle.ts';

export interface ProviderLimits {
  /** Create calls per rolling minute, across every worker. */
  rpm: number;
  /** Renders submitting, submitted or rendering at once, across every worker. */
  maxConcurrent: number;
}

type Claim =
  | { kind: 'claimed'; submitStartedAt: Date }
  | { kind: 'wait'; ms: number }
  | { kind: 'gone' };

const windowMs = 60_000;

/**
 * Takes the provider's slot for one create call, or says how long to wait for one. The check
 * and the claim happen under one advisory lock per provider, in Postgres, so every worker on
 * every machine sees the same counts; no Redis counter can drift from what was really sent.
 */
export async function claimSubmit(
  db: Db,
  p: {
    variantId: string;
    provider: string;
    from: readonly VariantStatus[];
    limits: ProviderLimits;
    busyRetryMs: number;
  },
): Promise<Claim> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`amx-submit:${p.provider}`}))`);
    const { rows: busy } = await tx.execute<{ n: string }>(sql`
      SELECT count(*) AS n FROM variants
      WHERE provider = ${p.provider} AND status = ANY(${sql.param([...inFlightStatuses])}::text[]) AND id <> ${p.variantId}`);
    if (Number(busy[0]?.n ?? 0) >= p.limits.maxConcurrent)
      return { kind: 'wait', ms: p.busyRetryMs };
    const { rows: calls } = await tx.execute<{ n: string; wait_ms: string | null }>(sql`
      SELECT count(*) AS n,
             ceil(extract(epoch FROM (min(at) + make_interval(secs => ${windowMs / 1000}) - clock_timestamp())) * 1000) AS wait_ms
      FROM provider_calls WHERE provider = ${p.provider} AND at > clock_timestamp() - make_interval(secs => ${windowMs / 1000})`);
    if (Number(calls[0]?.n ?? 0) >= p.limits.rpm) {
      return { kind: 'wait', ms: Math.max(10, Number(calls[0]?.wait_ms ?? windowMs)) };
    }
    const now = new Date();
    const claimed = await transition(tx, {
      id: p.variantId,
      from: p.from,
      to: 'submitting',
      set: p.from.includes('submitting') ? {} : { submitStartedAt: now },
    });
    if (!claimed) return { kind: 'gone' };
    await tx.execute(sql`UPDATE variants SET attempts = attempts + 1 WHERE id = ${p.variantId}`);
    await tx.execute(
      sql`INSERT INTO provider_calls (provider, at, variant_id) VALUES (${p.provider}, clock_timestamp(), ${p.variantId})`,
    );
    await markRunsStarted(tx, p.variantId);
    const { rows } = await tx.execute<{ submit_started_at: Date }>(
      sql`SELECT submit_started_at FROM variants WHERE id = ${p.variantId}`,
    );
    return { kind: 'claimed', submitStartedAt: new Date(rows[0]?.submit_started_at ?? now) };
  });
}

/** Old window rows are useless; housekeeping trims them. */
export async function purgeProviderCalls(db: Db) {
  await db.execute(sql`DELETE FROM provider_calls WHERE at < now() - interval '10 minutes'`);
}
