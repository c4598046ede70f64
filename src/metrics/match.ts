import type { DbOrTx } from '../db/client.ts';
import { ownedVariantIds, variantsByExternalId } from './repository.ts';
import type { MetricField, MetricRow } from './validate.ts';

/** Why a row names no variant of the tenant: with unmatched=skip these rows are refused. */
export const UNMATCHED_REASONS = [
  'unknown_variant',
  'unknown_external_id',
  'ambiguous_external_id',
] as const;
export type UnmatchedReason = (typeof UNMATCHED_REASONS)[number];

type Match =
  | { ok: true; variantId: string; by: 'variant_id' | 'external_id' }
  | { ok: false; field: MetricField; message: string; reason: UnmatchedReason | null };

/**
 * Finds the variant each row names, by variant_id or by the external_id of one of its
 * deliveries, tenant-scoped: another tenant's ids read exactly like unknown ones. Ids are looked
 * up once per upload, a batch at a time, and remembered.
 */
export function createMatcher(db: DbOrTx, tenantId: string) {
  const variants = new Map<string, boolean>();
  const externals = new Map<string, string[]>();

  async function load(rows: readonly MetricRow[]): Promise<void> {
    const askVariants = new Set<string>();
    const askExternal = new Set<string>();
    for (const r of rows) {
      if (r.variantId && !variants.has(r.variantId)) askVariants.add(r.variantId);
      if (r.externalId && !externals.has(r.externalId)) askExternal.add(r.externalId);
    }
    const [owned, byExternal] = await Promise.all([
      ownedVariantIds(db, { tenantId, ids: [...askVariants] }),
      variantsByExternalId(db, { tenantId, ids: [...askExternal] }),
    ]);
    for (const id of askVariants) variants.set(id, owned.has(id));
    for (const id of askExternal) externals.set(id, byExternal.get(id) ?? []);
  }

  /** After load() saw the row. When both ids are given they must name the same variant. */
  function match(row: MetricRow): Match {
    const { variantId, externalId } = row;
    if (variantId && !variants.get(variantId)) {
      return {
        ok: false,
        field: 'variant_id',
        message: `unknown variant ${variantId}`,
        reason: 'unknown_variant',
      };
    }
    if (!externalId) return { ok: true, variantId, by: 'variant_id' };
    const candidates = externals.get(externalId) ?? [];
    if (variantId) {
      if (candidates.includes(variantId)) return { ok: true, variantId, by: 'variant_id' };
      return {
        ok: false,
        field: 'external_id',
        message: `external_id ${externalId} is not a delivery of variant ${variantId}`,
        reason: null,
      };
    }
    if (candidates.length === 1) return { ok: true, variantId: candidates[0]!, by: 'external_id' };
    if (candidates.length === 0) {
      return {
        ok: false,
        field: 'external_id',
        message: `no delivery has external_id ${externalId}`,
        reason: 'unknown_external_id',
      };
    }
    return {
      ok: false,
      field: 'external_id',
      message: `external_id ${externalId} belongs to ${candidates.length} variants (${candidates.slice(0, 3).join(', ')}); add a variant_id column`,
      reason: 'ambiguous_external_id',
    };
  }

  return { load, match };
}
