import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
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

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    // sha256 of the whole key: keys carry 256 bits of entropy, so a slow hash buys nothing.
    keyHash: text('key_hash').notNull(),
    prefix: text('prefix').notNull(),
    name: text('name'),
    scopes: text('scopes').array().notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_key_hash_idx').on(t.keyHash),
    index('api_keys_tenant_idx').on(t.tenantId),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    // covers method, route and body: the same key on another endpoint is a mismatch, as at Stripe
    requestHash: text('request_hash').notNull(),
    state: text('state', { enum: ['in_flight', 'completed'] }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }).notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);

export type Brief = {
  product: string;
  key_message: string;
  audience?: string;
  call_to_action?: string;
  brand_guidelines?: string;
  avoid?: string[];
  style?: string;
};

export type VideoSettings = {
  provider: string;
  model: string;
  seconds: number;
  size: string;
  /** An asset of the tenant used as the first frame by models that take one (image to video). */
  reference_asset_id?: string;
};

/** One shot of a spot: its own prompt (naming the dimensions it depends on) and generator. */
export type SpotShot = {
  key: string;
  prompt_template: string;
  seconds: number;
  video: { provider: string; model: string };
  /** An image asset, or the last frame of the shot before (`previous_last_frame`). */
  first_frame?: { asset_id: string } | 'previous_last_frame';
};

/** A variant made of several shots, each rendered once per campaign and reused (issue 12). */
export type SpotSettings = {
  shots: SpotShot[];
  transition: { type: 'cut' | 'fade'; seconds: number };
  /** A card rendered locally after the last shot (src/media/end-card.ts). */
  end_card?: SpotEndCard;
  /** One audio bed across the assembled spot (src/media/audio-bed.ts). */
  audio?: { asset_id: string; gain_db: number };
  /** Extra renditions of each variant, beside the campaign's own size. */
  formats?: RenditionFormat[];
};

export type AssetKind = 'logo' | 'audio';

export type SpotEndCard = {
  seconds: number;
  text_template: string;
  logo: boolean;
  /** `#rrggbb`. */
  background: string;
};

export const renditionFormats = ['9:16', '1:1', '16:9'] as const;
export type RenditionFormat = (typeof renditionFormats)[number];

export type DisclosureSettings = {
  visible: boolean;
  text: string;
  position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  /** Seconds from the start; null: the whole video. */
  seconds: number | null;
};

export type OverlaySettings = {
  logo_position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  text_template?: string;
  /** The visible AI label (src/provenance/disclosure.ts); absent: the default, on. */
  disclosure?: DisclosureSettings;
};

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    brief: jsonb('brief').$type<Brief>().notNull(),
    promptTemplate: text('prompt_template').notNull(),
    video: jsonb('video').$type<VideoSettings>().notNull(),
    budgetUsd: numeric('budget_usd', { precision: 12, scale: 4, mode: 'number' }),
    requireApproval: boolean('require_approval').notNull().default(false),
    overlay: jsonb('overlay').$type<OverlaySettings>().notNull(),
    /** Null: a variant is one clip. */
    spot: jsonb('spot').$type<SpotSettings>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('campaigns_tenant_id_idx').on(t.tenantId, t.id)],
);

export const assets = pgTable(
  'assets',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    kind: text('kind', { enum: ['logo', 'audio'] }).notNull(),
    contentType: text('content_type').notNull(),
    /** Images only; null for audio. */
    width: integer('width'),
    height: integer('height'),
    /** Audio only: what ffprobe measured. */
    durationS: doublePrecision('duration_s'),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    filename: text('filename'),
    createdAt: createdAt(),
  },
  (t) => [
    index('assets_tenant_id_idx').on(t.tenantId, t.id),
    // The same bytes uploaded twice by a tenant are the same asset: uploads are idempotent by content.
    uniqueIndex('assets_tenant_sha256_idx').on(t.tenantId, t.sha256),
  ],
);

export type MatrixDocument = import('../matrices/parse/index.ts').NormalizedMatrix;

export const matrices = pgTable(
  'matrices',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    name: text('name'),
    source: text('source', { enum: ['json', 'csv', 'xlsx'] }).notNull(),
    document: jsonb('document').$type<MatrixDocument>().notNull(),
    // Counts can exceed 2^63 (20 dimensions of 10 levels), so they are stored as exact decimals.
    fullFactorialCount: numeric('full_factorial_count', { precision: 40, scale: 0 }).notNull(),
    allowedCount: numeric('allowed_count', { precision: 40, scale: 0 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('matrices_campaign_idx').on(t.tenantId, t.campaignId, t.id)],
);

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
    /** sha256 of (campaign, shot key, prompt, provider, model, size, seconds, first frame). */
    identity: text('identity').notNull(),
    prompt: text('prompt').notNull(),
    providerPrompt: text('provider_prompt'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    seconds: integer('seconds').notNull(),
    size: text('size').notNull(),
    /** The first-frame image asset, for models that take one. */
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

/** The outbox: written in the same transaction as the change it tells of. */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    /** Set once the event has been fanned out to the tenant's webhook endpoints. */
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
  },
  (t) => [
    index('events_tenant_idx').on(t.tenantId, t.id),
    // The dispatcher's claim query reads only this: the backlog, never the whole history.
    index('events_undispatched_idx').on(t.id).where(sql`dispatched_at IS NULL`),
  ],
);

/**
 * One row per create call to a provider: the windows its RPM and daily limits are enforced on.
 * `at` is when we claimed the call, `done_at` when its answer came back: the provider saw it
 * somewhere in between, so the RPM window counts a call until a full window after `done_at`.
 */
export const providerCalls = pgTable(
  'provider_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    /** '' for calls recorded before models were; daily caps per model count by it. */
    model: text('model').notNull().default(''),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    doneAt: timestamp('done_at', { withTimezone: true }),
    /** accepted | rejected (a 4xx: not a generation) | unknown; null while in flight. */
    outcome: text('outcome'),
    variantId: text('variant_id').notNull(),
  },
  (t) => [
    index('provider_calls_idx').on(t.provider, t.at),
    index('provider_calls_model_idx').on(t.provider, t.model, t.at),
  ],
);

/**
 * A provider's 429 said "not before `until`": for the whole provider (model '') on a rate
 * limit, for one model on a daily cap. The limiter waits it out; nothing else pauses a queue.
 */
export const providerPauses = pgTable(
  'provider_pauses',
  {
    provider: text('provider').notNull(),
    model: text('model').notNull().default(''),
    until: timestamp('until', { withTimezone: true }).notNull(),
    code: text('code').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.model] })],
);

/** What reached which ad platform or tool; idempotent on (variant, destination, external id). */
export const deliveries = pgTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    variantId: text('variant_id')
      .notNull()
      .references(() => variants.id),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    destination: text('destination').notNull(),
    /** '' when the destination gave no id, so the uniqueness rule still holds. */
    externalId: text('external_id').notNull().default(''),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }).notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('deliveries_unique_idx').on(t.variantId, t.destination, t.externalId),
    index('deliveries_tenant_idx').on(t.tenantId, t.id),
    index('deliveries_campaign_idx').on(t.tenantId, t.campaignId, t.id),
    // Metrics uploads find variants by the platform's ad id.
    index('deliveries_external_idx').on(t.tenantId, t.externalId),
  ],
);

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    url: text('url').notNull(),
    description: text('description'),
    events: text('events').array().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** AES-256-GCM under SECRETS_KEY: the secret must be usable to sign, so it cannot be hashed. */
    secretCiphertext: text('secret_ciphertext').notNull(),
    previousSecretCiphertext: text('previous_secret_ciphertext'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    disabledReason: text('disabled_reason'),
    failingSince: timestamp('failing_since', { withTimezone: true }),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** Deleted endpoints stay as tombstones (their log refers to them), secrets wiped. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('webhook_endpoints_tenant_idx').on(t.tenantId, t.id)],
);

/** One row per (event, endpoint): the unit that is retried and finally delivered or given up. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    eventId: text('event_id')
      .notNull()
      .references(() => events.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id),
    status: text('status', { enum: ['pending', 'delivered', 'failed', 'cancelled'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastStatusCode: integer('last_status_code'),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_unique_idx').on(t.eventId, t.endpointId),
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.status),
    // Retention walks settled deliveries oldest first; pending ones are never purged.
    index('webhook_deliveries_settled_idx').on(t.createdAt).where(sql`status <> 'pending'`),
  ],
);

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id),
    eventId: text('event_id').notNull(),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome', {
      enum: ['delivered', 'failed', 'blocked', 'gone', 'throttled'],
    }).notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms').notNull(),
    responseExcerpt: text('response_excerpt'),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_attempts_endpoint_idx').on(t.endpointId, t.id),
    // A delivery's attempts are deleted with it.
    index('webhook_attempts_delivery_idx').on(t.deliveryId),
  ],
);

/** Inbound provider webhooks already handled: providers retry for days with the same id. */
export const inboundWebhooks = pgTable(
  'inbound_webhooks',
  {
    provider: text('provider').notNull(),
    webhookId: text('webhook_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.webhookId] }),
    index('inbound_webhooks_received_idx').on(t.receivedAt),
  ],
);

/** Daily performance per variant and platform; '' is "no platform given". */
export const metrics = pgTable(
  'metrics',
  {
    // No foreign keys: an upload checks every variant id against the tenant's variants before
    // writing, and tenants, campaigns and variants are never deleted.
    tenantId: text('tenant_id').notNull(),
    variantId: text('variant_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    platform: text('platform').notNull().default(''),
    impressions: bigint('impressions', { mode: 'number' }).notNull(),
    clicks: bigint('clicks', { mode: 'number' }).notNull(),
    conversions: bigint('conversions', { mode: 'number' }).notNull().default(0),
    spendUsd: numeric('spend_usd', { precision: 14, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    videoViews: bigint('video_views', { mode: 'number' }).notNull().default(0),
    // Attributed conversion value, for ROAS; same range and scale as spend.
    revenueUsd: numeric('revenue_usd', { precision: 14, scale: 4, mode: 'number' })
      .notNull()
      .default(0),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.date, t.platform] }),
    index('metrics_campaign_idx').on(t.tenantId, t.campaignId),
  ],
);

/**
 * Console sign-ins: the browser holds only a random session id; its sha256 is stored here, so a
 * read of this table cannot be replayed as a cookie. Joined to its API key on every request, so
 * revoking the key (or signing out, which deletes the row) ends the session at once.
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    apiKeyId: text('api_key_id')
      .notNull()
      .references(() => apiKeys.id),
    // Sent back in every form and htmx request: a cross-site request cannot read it.
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('console_sessions_expires_idx').on(t.expiresAt)],
);

/**
 * The development C2PA signing chain, made once when no C2PA_SIGN_CERT/KEY is configured so
 * every process signs with the same one; the key sealed with SECRETS_KEY.
 */
export const signingCredentials = pgTable('signing_credentials', {
  id: text('id').primaryKey(),
  certPem: text('cert_pem').notNull(),
  keySealed: text('key_sealed').notNull(),
  createdAt: createdAt(),
});
