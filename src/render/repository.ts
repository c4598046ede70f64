import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import type {
  Brief,
  MatrixDocument,
  OverlaySettings,
  RenditionFormat,
  VariantStatus,
} from '../db/schema.ts';
import type { ProviderName } from '../providers/catalog.ts';

export type RenderVariant = {
  id: string;
  tenant_id: string;
  campaign_id: string;
  run_id: string;
  status: VariantStatus;
  levels: Record<string, string>;
  prompt: string;
  provider_prompt: string | null;
  provider: ProviderName;
  model: string;
  seconds: number;
  size: string;
  provider_job_id: string | null;
  submit_started_at: Date | null;
  submitted_at: Date | null;
  raw_key: string | null;
  recreates: number;
  overlay: OverlaySettings;
  brief: Brief;
  dimensions: MatrixDocument['dimensions'];
  logo_key: string | null;
  /** The level's background image asset, for providers that draw one (the local renderer). */
  background_asset_id: string | null;
  /** The campaign's first-frame image (`video.reference_asset_id`), loaded at submit. */
  reference_asset_id: string | null;
  /** Assembled from spot shots (variant_shots) rather than rendered as one clip. */
  spot: boolean;
  /** Renditions to make beside the campaign's size (the spot's `formats`). */
  formats: RenditionFormat[] | null;
};

/** The variant's level's asset of this kind, from the first dimension (in order) carrying one. */
const levelAssetId = (field: 'asset_id' | 'background_asset_id') => sql`(
  SELECT l ->> ${field}
  FROM jsonb_array_elements(m.document -> 'dimensions') WITH ORDINALITY AS d(dim, i),
       jsonb_array_elements(d.dim -> 'levels') l
  WHERE l ->> 'key' = v.levels ->> (d.dim ->> 'key') AND l ->> ${field} IS NOT NULL
  ORDER BY d.i LIMIT 1)`;

/**
 * Everything one render step needs, in one query: the variant, its campaign and its logo, the
 * asset of the variant's level in whichever dimension carries logos (one per matrix; for older
 * matrices with several, the first in matrix order).
 */
export async function loadRenderVariant(db: DbOrTx, id: string): Promise<RenderVariant | null> {
  const { rows } = await db.execute<RenderVariant>(sql`
    SELECT v.id, v.tenant_id, v.campaign_id, v.run_id, v.status, v.levels, v.prompt, v.provider_prompt, v.provider, v.model,
           v.seconds, v.size, v.provider_job_id, v.submit_started_at, v.submitted_at, v.raw_key, v.recreates,
           c.overlay, c.brief, m.document -> 'dimensions' AS dimensions,
           c.video ->> 'reference_asset_id' AS reference_asset_id, c.spot -> 'formats' AS formats,
           EXISTS (SELECT 1 FROM variant_shots vs WHERE vs.variant_id = v.id) AS spot,
           (SELECT a.storage_key FROM assets a
             WHERE a.tenant_id = v.tenant_id AND a.id = ${levelAssetId('asset_id')}) AS logo_key,
           ${levelAssetId('background_asset_id')} AS background_asset_id
    FROM variants v
    JOIN campaigns c ON c.id = v.campaign_id
    JOIN runs r ON r.id = v.run_id
    JOIN matrices m ON m.id = r.matrix_id
    WHERE v.id = ${id}`);
  const row = rows[0];
  if (!row) return null;
  // Raw queries through drizzle's pg driver return timestamps as strings.
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    ...row,
    submit_started_at: date(row.submit_started_at),
    submitted_at: date(row.submitted_at),
  };
}

/**
 * Job ids already attached to other variants or spot shots of the provider: never adopt one
 * of those.
 */
export async function attachedJobIds(
  db: DbOrTx,
  p: { provider: string; since: Date; except: string },
) {
  const { rows } = await db.execute<{ provider_job_id: string }>(sql`
    SELECT provider_job_id FROM variants
    WHERE provider = ${p.provider} AND provider_job_id IS NOT NULL AND id <> ${p.except}
      AND submit_started_at > ${p.since}::timestamptz - interval '10 minutes'
    UNION ALL
    SELECT provider_job_id FROM shots
    WHERE provider = ${p.provider} AND provider_job_id IS NOT NULL AND id <> ${p.except}
      AND submit_started_at > ${p.since}::timestamptz - interval '10 minutes'`);
  return new Set(rows.map((r) => r.provider_job_id));
}

/**
 * The provider's own words for the job (Runway's `THROTTLED`, `SAFETY.INPUT.TEXT`), kept beside
 * our status; only for the job still attached, so a late poll cannot overwrite a newer one's.
 */
export async function recordProviderState(
  db: DbOrTx,
  p: {
    table: 'variants' | 'shots';
    id: string;
    jobId: string;
    said: string;
    code?: string | undefined;
  },
) {
  await db.execute(sql`
    UPDATE ${sql.raw(p.table)} SET provider_status = ${p.said}, provider_code = ${p.code ?? null}
    WHERE id = ${p.id} AND provider_job_id = ${p.jobId}
      AND (provider_status IS DISTINCT FROM ${p.said} OR provider_code IS DISTINCT FROM ${p.code ?? null})`);
}
