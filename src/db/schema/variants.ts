// Runs and the variants they render, with each variant's renditions.
import {
  bigint,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { campaigns, matrices, renditionFormats } from './campaigns.ts';
import { createdAt, updatedAt } from './columns.ts';
import { tenants } from './tenants.ts';

export const runStatuses = ['queued', 'running', 'completed', 'cancelled'] as const;

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    matrixId: text('matrix_id')
      .notNull()
      .references(() => matrices.id),
    design: jsonb('design').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: runStatuses }).notNull(),
    variantCount: integer('variant_count').notNull(),
    newVariantCount: integer('new_variant_count').notNull(),
    estimatedCostUsd: numeric('estimated_cost_usd', {
      precision: 14,
      scale: 4,
      mode: 'number',
    }).notNull(),
    maxCostUsd: numeric('max_cost_usd', { precision: 14, scale: 4, mode: 'number' }),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('runs_campaign_idx').on(t.tenantId, t.campaignId, t.id)],
);

export const variantStatuses = [
  'pending',
  'queued',
  'submitting',
  'submitted',
  'rendering',
  'compositing',
  'ready',
  'approved',
  'rejected',
  'delivered',
  'failed',
  'blocked',
  'cancelled',
  // A create that may have reached a provider that cannot be searched: parked until a person
  // resubmits it (accepting a possible second charge) or cancels it.
  'held',
] as const;
export type VariantStatus = (typeof variantStatuses)[number];

export const variants = pgTable(
  'variants',
  {
    id: text('id').primaryKey(),
    // No foreign keys on the fan-out tables: their rows are written only by the transaction
    // that creates the run (and tenants, campaigns and runs are never deleted), while the
    // FK triggers cost a third of a 10,000-variant fan-out.
    tenantId: text('tenant_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    /** The run that first asked for it; later runs reuse it through run_variants. */
    runId: text('run_id').notNull(),
    variantKey: text('variant_key').notNull(),
    levels: jsonb('levels').$type<Record<string, string>>().notNull(),
    prompt: text('prompt').notNull(),
    /**
     * The prompt actually sent, when the prompt writer rewrote it; stored before the first
     * submit so retries and crash recovery send (and look for) the same text.
     */
    providerPrompt: text('provider_prompt'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    seconds: integer('seconds').notNull(),
    size: text('size').notNull(),
    status: text('status', { enum: variantStatuses }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    progress: integer('progress').notNull().default(0),
    providerJobId: text('provider_job_id'),
    submitStartedAt: timestamp('submit_started_at', { withTimezone: true }),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    readyAt: timestamp('ready_at', { withTimezone: true }),
    /** IPTC digital source type of the signed video (its C2PA manifest), set when it is ready. */
    digitalSourceType: text('digital_source_type'),
    /** The AI label drawn on the video; null when none was. */
    disclosureText: text('disclosure_text'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    costUsd: numeric('cost_usd', { precision: 12, scale: 4, mode: 'number' }).notNull(),
    /** What the provider was paid: set when a render is accepted, added to on a paid retry. */
    actualCostUsd: numeric('actual_cost_usd', { precision: 12, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    /**
     * What the current provider job's create added to actual_cost_usd (the provider's own
     * estimate, else the catalog price); null once the provider reported the actual cost.
     */
    reservedUsd: numeric('reserved_usd', { precision: 12, scale: 4, mode: 'number' }),
    /** The provider's own status and failure code as it said them (Runway's `SAFETY.INPUT.TEXT`). */
    providerStatus: text('provider_status'),
    providerCode: text('provider_code'),
    /** Jobs created again after the provider failed one for its own reasons (Runway INTERNAL). */
    recreates: integer('recreates').notNull().default(0),
    reviewReason: text('review_reason'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    rawKey: text('raw_key'),
    videoKey: text('video_key'),
    thumbnailKey: text('thumbnail_key'),
    videoBytes: integer('video_bytes'),
    videoSha256: text('video_sha256'),
    durationS: numeric('duration_s', { precision: 10, scale: 3, mode: 'number' }),
    width: integer('width'),
    height: integer('height'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('variants_campaign_key_idx').on(t.campaignId, t.variantKey),
    index('variants_tenant_idx').on(t.tenantId, t.id),
    index('variants_run_idx').on(t.runId, t.status),
    index('variants_status_idx').on(t.status, t.updatedAt),
    // One render, one variant: two recovering variants can never adopt the same provider job.
    uniqueIndex('variants_provider_job_idx').on(t.provider, t.providerJobId),
  ],
);

/**
 * A variant's file in another aspect ratio: the same composited content fitted to the format's
 * frame, stored content-addressed like the main video. One row per (variant, format), so a
 * composite re-run after a crash adds no duplicate.
 */
export const variantRenditions = pgTable(
  'variant_renditions',
  {
    variantId: text('variant_id').notNull(),
    format: text('format', { enum: renditionFormats }).notNull(),
    tenantId: text('tenant_id').notNull(),
    videoKey: text('video_key').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    durationS: numeric('duration_s', { precision: 10, scale: 3, mode: 'number' }).notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.variantId, t.format] })],
);

export const runVariants = pgTable(
  'run_variants',
  {
    runId: text('run_id').notNull(),
    variantId: text('variant_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.variantId] }),
    index('run_variants_variant_idx').on(t.variantId),
  ],
);
