import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type { BoundSpot, ShotRef } from './plan.ts';

/** What a spot run renders, against what rendering every variant's shots would. */
export interface ShotQuote {
  /** Distinct shots the design's variants are assembled from. */
  unique: number;
  /** Seconds of the shots this run renders and pays for (new, or failed before). */
  renderSeconds: number;
  /** Seconds if every variant of the design rendered each of its shots itself. */
  naiveRenderSeconds: number;
  costUsd: number;
}

const lookupChunk = 5_000;

/**
 * Prices a spot run by its unique renders: the shots the paid variants (new or rerendered)
 * need that the campaign has not rendered, or rendered and lost (failed, cancelled). A shot
 * under way or ready is free, whichever run asked for it first.
 */
export async function quoteShots(
  db: DbOrTx,
  p: {
    campaignId: string;
    spot: BoundSpot;
    /** Every distinct variant of the design. */
    combos: Iterable<readonly number[]>;
    /** The variants this run renders (new or again). */
    paid: Iterable<readonly number[]>;
  },
): Promise<ShotQuote> {
  const unique = new Set<string>();
  let naiveRenderSeconds = 0;
  for (const combo of p.combos) {
    for (const s of p.spot.shotsOf(combo)) {
      unique.add(s.identity);
      naiveRenderSeconds += s.seconds;
    }
  }
  const needed = new Map<string, ShotRef>();
  for (const combo of p.paid) for (const s of p.spot.shotsOf(combo)) needed.set(s.identity, s);
  const identities = [...needed.keys()];
  for (let from = 0; from < identities.length; from += lookupChunk) {
    const chunk = identities.slice(from, from + lookupChunk);
    const { rows } = await db.execute<{ identity: string }>(sql`
      SELECT identity FROM shots
      WHERE campaign_id = ${p.campaignId} AND identity = ANY(${sql.param(chunk)}::text[])
        AND status NOT IN ('failed', 'cancelled')`);
    for (const r of rows) needed.delete(r.identity);
  }
  let renderSeconds = 0;
  let costUsd = 0;
  for (const s of needed.values()) {
    renderSeconds += s.seconds;
    costUsd += s.priceUsd;
  }
  return { unique: unique.size, renderSeconds, naiveRenderSeconds, costUsd };
}
