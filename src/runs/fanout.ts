import type pg from 'pg';
import type { Db } from '../db/client.ts';
import { copyRows } from '../db/copy.ts';
import { newId } from '../ids.ts';
import type { NormalizedMatrix } from '../matrices/parse/index.ts';
import { writeVariantShots } from '../spots/fanout.ts';
import type { BoundSpot, ShotRef } from '../spots/plan.ts';
import { initialStatus, retryableStatuses } from '../variants/lifecycle.ts';
import * as repo from './repository.ts';

/** Rows per round: one key lookup and two COPYs. Bounds what a fan-out holds at once. */
const chunkSize = 5_000;

const variantColumns = [
  'id',
  'tenant_id',
  'campaign_id',
  'run_id',
  'variant_key',
  'levels',
  'prompt',
  'provider',
  'model',
  'seconds',
  'size',
  'status',
  'cost_usd',
] as const;

interface FanOut {
  tenantId: string;
  campaignId: string;
  runId: string;
  matrix: Pick<NormalizedMatrix, 'dimensions'>;
  combos: readonly (readonly number[])[];
  /** The template prompt of a combination (the variant key is computed on it). */
  render: (combo: readonly number[]) => string;
  /** A combination's key (runKeyer: it holds the variant's own provider and model). */
  keyOf: (combo: readonly number[], prompt: string) => string;
  /** A combination's generator: the campaign's, or its generator level's. */
  videoOf: (combo: readonly number[]) => {
    provider: string;
    model: string;
    seconds: number;
    size: string;
  };
  priceOf: (combo: readonly number[]) => number;
  /**
   * Whether the campaign may already have some of these variants. When it has none (a first
   * run), no key is looked up.
   */
  reuse: boolean;
  /** The campaign's spot: each new variant is linked to its shots, made where missing. */
  spot?: BoundSpot | null | undefined;
}

export interface Routed {
  id: string;
  provider: string;
  /** A spot's shot rather than a variant. */
  shot?: boolean;
}

interface Written {
  /** Variants of the run, once each (a combination listed twice is one variant). */
  count: number;
  /** The variants this run created, with the provider whose queue renders each. */
  created: Routed[];
  /** Existing variants that failed or were cancelled: this run renders them again. */
  again: Routed[];
}

/**
 * Writes a run's variants in one pass of chunks, inside the caller's transaction: for each
 * chunk, prompts and keys are computed, existing keys looked up, new variants COPYed in with
 * the initial status and every variant linked to the run. Only one chunk and the new ids are held at
 * once, so 100,000 variants cost about what 5,000 do in memory. The caller holds the campaign
 * lock, so no other fan-out inserts the same keys meanwhile; COPY needs no ON CONFLICT.
 */
export async function writeRunVariants(tx: Db, client: pg.PoolClient, f: FanOut): Promise<Written> {
  const keyOf = f.keyOf;
  // The levels object as JSON text, from fragments built once per level.
  const levelJson = f.matrix.dimensions.map((d, i) =>
    d.levels.map((l) => `${i ? ',' : ''}${JSON.stringify(d.key)}:${JSON.stringify(l.key)}`),
  );
  const levelsOf = (combo: readonly number[]) => {
    let json = '{';
    for (let d = 0; d < levelJson.length; d++) json += levelJson[d]![combo[d]!];
    return `${json}}`;
  };

  const seen = new Set<string>();
  const created: Routed[] = [];
  const again: Routed[] = [];
  for (let from = 0; from < f.combos.length; from += chunkSize) {
    const combos = f.combos.slice(from, from + chunkSize);
    const prompts = combos.map(f.render);
    const keys = combos.map((c, i) => keyOf(c, prompts[i]!));
    const existing = f.reuse
      ? new Map(
          (await repo.findExistingVariants(tx, { campaignId: f.campaignId, keys })).map((e) => [
            e.variant_key,
            e,
          ]),
        )
      : undefined;
    const rows: (string | number)[][] = [];
    const linked: string[] = [];
    const spotVariants: { id: string; shots: ShotRef[] }[] = [];
    for (let i = 0; i < combos.length; i++) {
      const key = keys[i]!;
      if (seen.has(key)) continue;
      seen.add(key);
      const known = existing?.get(key);
      if (known) {
        linked.push(known.id);
        if (retryableStatuses.includes(known.status))
          again.push({ id: known.id, provider: known.provider });
        continue;
      }
      const id = newId('variant');
      const combo = combos[i]!;
      const { provider, model, seconds: clipSeconds, size } = f.videoOf(combo);
      // A spot's variant is as long as its assembled shots.
      const seconds = f.spot ? Math.round(f.spot.seconds) : clipSeconds;
      if (f.spot) spotVariants.push({ id, shots: f.spot.shotsOf(combo) });
      rows.push([
        id,
        f.tenantId,
        f.campaignId,
        f.runId,
        key,
        levelsOf(combo),
        prompts[i]!,
        provider,
        model,
        seconds,
        size,
        initialStatus,
        // A spot's variant pays for nothing itself: its shots carry the price.
        f.spot ? 0 : f.priceOf(combo),
      ]);
      created.push({ id, provider });
      linked.push(id);
    }
    if (rows.length) await copyRows(client, 'variants', variantColumns, rows);
    await writeVariantShots(tx, client, {
      tenantId: f.tenantId,
      campaignId: f.campaignId,
      variants: spotVariants,
    });
    await copyRows(
      client,
      'run_variants',
      ['run_id', 'variant_id'],
      linked.map((id) => [f.runId, id]),
    );
  }
  return { count: seen.size, created, again };
}
