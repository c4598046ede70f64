// Spot shots: the unit of spend when a variant is assembled from shots.
import {
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.ts';
import type { VariantStatus } from './variants.ts';

/** What a shot may be: a variant's statuses up to `ready` (assembly is the variant's). */
export const shotStatuses = [
  'queued',
  'submitting',
  'submitted',
  'rendering',
  'ready',
  'failed',
  'blocked',
  'cancelled',
  'held',
] as const satisfies readonly VariantStatus[];

export type ShotStatus = (typeof shotStatuses)[number];

/**
 * One render of a spot's shot, shared by every variant (and run) of the campaign whose shot
 * renders to the same identity: the unit of spend for spots. Columns mirror the variant's
 * render columns, so the render pipeline drives both.
 */
export const shots = pgTable(
  'shots',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    shotKey: text('shot_key').notNull(),
    /**
     * sha256 of (campaign, shot key, prompt, provider, model, size, seconds, first frame), and
     * of the images a renderer with no trained model draws when it draws any (`drawnImages`).
     */
    identity: text('identity').notNull(),
    prompt: text('prompt').notNull(),
    providerPrompt: text('provider_prompt'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    seconds: integer('seconds').notNull(),
    size: text('size').notNull(),
    /**
     * The first-frame image asset, for models that take one; on a renderer with no trained
     * model without one, the product image it draws, fixed when the shot was made.
     */
    referenceAssetId: text('reference_asset_id'),
    /**
     * `previous_last_frame`: the identity of the shot before, whose last frame this one starts
     * from; it is part of this shot's identity, and the shot is sent only once that one is ready.
     */
    previousIdentity: text('previous_identity'),
    /** That last frame, extracted as PNG at this shot's size and stored before the create. */
    firstFrameKey: text('first_frame_key'),
    status: text('status', { enum: shotStatuses }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    progress: integer('progress').notNull().default(0),
    providerJobId: text('provider_job_id'),
    submitStartedAt: timestamp('submit_started_at', { withTimezone: true }),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    readyAt: timestamp('ready_at', { withTimezone: true }),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    costUsd: numeric('cost_usd', { precision: 12, scale: 4, mode: 'number' }).notNull(),
    actualCostUsd: numeric('actual_cost_usd', { precision: 12, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    reservedUsd: numeric('reserved_usd', { precision: 12, scale: 4, mode: 'number' }),
    providerStatus: text('provider_status'),
    providerCode: text('provider_code'),
    recreates: integer('recreates').notNull().default(0),
    rawKey: text('raw_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('shots_campaign_identity_idx').on(t.campaignId, t.identity),
    index('shots_tenant_idx').on(t.tenantId, t.id),
    index('shots_status_idx').on(t.status, t.updatedAt),
    uniqueIndex('shots_provider_job_idx').on(t.provider, t.providerJobId),
  ],
);

/** Which shots, in order, a spot's variant is assembled from. */
export const variantShots = pgTable(
  'variant_shots',
  {
    variantId: text('variant_id').notNull(),
    position: integer('position').notNull(),
    shotId: text('shot_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.position] }),
    index('variant_shots_shot_idx').on(t.shotId),
  ],
);
